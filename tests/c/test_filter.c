/* Device filter strings: parsing, matching, and selecting the devices of
 * a running runtime. */
#include <string.h>

#include "test.h"

enum { ANY = -1 };

typedef struct valid_case {
  const char *s;
  int nalts;
  cb_filter_alt alts[3];
} valid_case;

static const valid_case valid[] = {
    {"opencl:gpu:0", 1, {{CB_BACKEND_OPENCL, CB_DEVTYPE_GPU, 0}}},
    {"opencl:gpu", 1, {{CB_BACKEND_OPENCL, CB_DEVTYPE_GPU, ANY}}},
    {"gpu", 1, {{ANY, CB_DEVTYPE_GPU, ANY}}},
    {"opencl", 1, {{CB_BACKEND_OPENCL, ANY, ANY}}},
    {"cpu", 2, {{CB_BACKEND_CPU, ANY, ANY}, {ANY, CB_DEVTYPE_CPU, ANY}}},
    {"opencl:cpu", 1, {{CB_BACKEND_OPENCL, CB_DEVTYPE_CPU, ANY}}},
    {"opencl:1", 1, {{CB_BACKEND_OPENCL, ANY, 1}}},
    {"gpu:2", 1, {{ANY, CB_DEVTYPE_GPU, 2}}},
    {"cpu:0", 2, {{CB_BACKEND_CPU, ANY, 0}, {ANY, CB_DEVTYPE_CPU, 0}}},
    {"*", 1, {{ANY, ANY, ANY}}},
    {"*:gpu", 1, {{ANY, CB_DEVTYPE_GPU, ANY}}},
    {"*:*:*", 1, {{ANY, ANY, ANY}}},
    {"*:3", 1, {{ANY, ANY, 3}}},
    {"opencl:*:1", 1, {{CB_BACKEND_OPENCL, ANY, 1}}},
    {"OpenCL:GPU", 1, {{CB_BACKEND_OPENCL, CB_DEVTYPE_GPU, ANY}}},
    {" opencl : gpu ", 1, {{CB_BACKEND_OPENCL, CB_DEVTYPE_GPU, ANY}}},
    {"gpu,opencl:cpu", 2,
     {{ANY, CB_DEVTYPE_GPU, ANY}, {CB_BACKEND_OPENCL, CB_DEVTYPE_CPU, ANY}}},
    {"accelerator", 1, {{ANY, CB_DEVTYPE_ACCELERATOR, ANY}}},
};

TEST(filter_parse_valid) {
  for (size_t i = 0; i < sizeof valid / sizeof *valid; i++) {
    const valid_case *c = &valid[i];
    cb_filter f;
    char err[256] = "unchanged";
    int rc = cb_filter_parse(c->s, &f, err, sizeof err);
    CHECK(rc == 0, "'%s' should parse: %s", c->s, err);
    if (rc)
      continue;
    CHECK_STR(err, "");
    CHECK(f.nalts == c->nalts, "'%s': %d alternatives, want %d", c->s,
          f.nalts, c->nalts);
    for (int k = 0; k < c->nalts && k < f.nalts; k++)
      CHECK(memcmp(&f.alts[k], &c->alts[k], sizeof f.alts[k]) == 0,
            "'%s' alternative %d: got (%d,%d,%d), want (%d,%d,%d)", c->s, k,
            f.alts[k].backend, f.alts[k].type, f.alts[k].index,
            c->alts[k].backend, c->alts[k].type, c->alts[k].index);
  }
}

TEST(filter_parse_invalid) {
  static const struct {
    const char *s, *why;
  } rows[] = {
      {"", "empty alternative"},
      {",", "empty alternative"},
      {"gpu,", "empty alternative"},
      {",gpu", "empty alternative"},
      {"  ", "empty alternative"},
      {"opencl:", "empty part"},
      {":gpu", "empty part"},
      {"gpu::0", "empty part"},
      {"foo", "unknown word 'foo'"},
      {"opencl:foo", "unknown word 'foo'"},
      {"a,b", "unknown word 'a'"},
      {"gpu:cpu", "first of several parts must be a backend"},
      {"1", "an index needs a backend or a type"},
      {"opencl:gpu:0:1", "more than three parts"},
      {"*:*:*:*", "more than three parts"},
      {"opencl:gpu:x", "unknown word 'x'"},
      {"opencl:gpu:-1", "unknown word '-1'"},
      {"opencl:gpu:99999999999", "bad device index"},
      {"gpu:opencl", "last part must be an index"},
      {"gpu:opencl:0", "first of several parts must be a backend"},
      {"opencl:opencl:0", "middle part must be a device type"},
      {"opencl:gpu:gpu", "last part must be an index"},
  };
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
    cb_filter f;
    char err[256] = "";
    CHECK_RC(cb_filter_parse(rows[i].s, &f, err, sizeof err), CB_EINVAL);
    CHECK(strstr(err, rows[i].why) != NULL, "'%s': message \"%s\", want "
          "\"%s\"", rows[i].s, err, rows[i].why);
  }
}

TEST(filter_cuda_is_unknown) {
  static const char *const rows[] = {"cuda", "cuda:gpu:0", "cuda:0",
                                     "gpu,cuda"};
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
    cb_filter f;
    char err[256] = "";
    CHECK_RC(cb_filter_parse(rows[i], &f, err, sizeof err), CB_EINVAL);
    CHECK_HAS(err, "unknown word 'cuda'");
    CHECK_HAS(err, "backends: cpu, opencl;");
  }
}

TEST(filter_parse_null_and_no_message_buffer) {
  cb_filter f;
  char err[64] = "";
  CHECK_RC(cb_filter_parse(NULL, &f, err, sizeof err), CB_EINVAL);
  CHECK_STR(err, "no filter string");
  /* Without a buffer for the message the result is the same. */
  CHECK_RC(cb_filter_parse("foo", &f, NULL, 0), CB_EINVAL);
  CHECK_OK(cb_filter_parse("gpu", &f, NULL, 0));
  CHECK_INT(f.nalts, ==, 1);
  /* A short buffer gets a truncated, terminated message. */
  char small[8];
  memset(small, 'x', sizeof small);
  CHECK_RC(cb_filter_parse("opencl:foo", &f, small, sizeof small),
           CB_EINVAL);
  CHECK_INT(strlen(small), ==, sizeof small - 1);
}

/* A message buffer of size 0 is not written, as with snprintf. */
TEST(filter_parse_zero_size_buffer) {
  cb_filter f;
  char err[4] = "abc";
  CHECK_RC(cb_filter_parse("foo", &f, err, 0), CB_EINVAL);
  CHECK_STR(err, "abc");
  CHECK_OK(cb_filter_parse("gpu", &f, err, 0));
  CHECK_STR(err, "abc");
}

TEST(filter_alternatives_limit) {
  char s[256] = "";
  for (int i = 0; i < CB_FILTER_MAX_ALTS; i++)
    strcat(s, i ? ",gpu" : "gpu");
  cb_filter f;
  char err[256];
  CHECK_OK(cb_filter_parse(s, &f, err, sizeof err));
  CHECK_INT(f.nalts, ==, CB_FILTER_MAX_ALTS);
  strcat(s, ",gpu");
  CHECK_RC(cb_filter_parse(s, &f, err, sizeof err), CB_EINVAL);
  CHECK_HAS(err, "more than 16 alternatives");
  /* "cpu" stands for two alternatives: nine of them are too many. */
  strcpy(s, "cpu");
  for (int i = 1; i < 9; i++)
    strcat(s, ",cpu");
  CHECK_RC(cb_filter_parse(s, &f, err, sizeof err), CB_EINVAL);
}

TEST(filter_match) {
  cb_filter f;
  ASSERT_OK(cb_filter_parse("opencl:gpu,cpu:0", &f, NULL, 0));
  CHECK(cb_filter_match(&f, CB_BACKEND_OPENCL, CB_DEVTYPE_GPU, 3));
  CHECK(cb_filter_match(&f, CB_BACKEND_CPU, CB_DEVTYPE_CPU, 0));
  CHECK(cb_filter_match(&f, CB_BACKEND_OPENCL, CB_DEVTYPE_CPU, 0));
  CHECK(!cb_filter_match(&f, CB_BACKEND_OPENCL, CB_DEVTYPE_CPU, 1));
  CHECK(!cb_filter_match(&f, CB_BACKEND_CPU, CB_DEVTYPE_CPU, 1));
  CHECK(!cb_filter_match(&f, CB_BACKEND_OPENCL, CB_DEVTYPE_ACCELERATOR, 0));
  ASSERT_OK(cb_filter_parse("*", &f, NULL, 0));
  CHECK(cb_filter_match(&f, CB_BACKEND_OPENCL, CB_DEVTYPE_ACCELERATOR, 7));
  /* A filter without alternatives matches nothing. */
  cb_filter none = {.nalts = 0};
  CHECK(!cb_filter_match(&none, CB_BACKEND_CPU, CB_DEVTYPE_CPU, 0));
}

TEST(devices_select) {
  ASSERT_OK(test_start(1, NULL));
  int n = cb_device_count();
  ASSERT_INT(n, >=, 1);
  int ids[16];
  CHECK_INT(cb_devices_select("cpu:cpu:0", ids, 16), ==, 1);
  CHECK_INT(ids[0], ==, 0);
  CHECK_INT(cb_devices_select("*", ids, 16), ==, n);
  for (int i = 0; i < n && i < 16; i++)
    CHECK_INT(ids[i], ==, i);
  /* Filter order, without repeats. */
  int nopencl = cb_devices_select("opencl", ids, 16);
  CHECK_INT(nopencl, ==, n - 1);
  if (nopencl > 0) {
    CHECK_INT(cb_devices_select("opencl,cpu:cpu,opencl", ids, 16), ==, n);
    CHECK_INT(ids[0], ==, 1);
    CHECK_INT(ids[n - 1], ==, 0);
  }
  /* The count of matches, whatever the room. */
  ids[0] = -7;
  CHECK_INT(cb_devices_select("*", ids, 0), ==, n);
  CHECK_INT(ids[0], ==, -7);
  CHECK_INT(cb_devices_select("gpu:99", ids, 16), ==, 0);
  CHECK_RC(cb_devices_select("nonsense", ids, 16), CB_EINVAL);
  CHECK_HAS(cb_last_error(), "bad device filter 'nonsense'");
  CHECK_RC(cb_devices_select("cuda", ids, 16), CB_EINVAL);
  CHECK_RC(cb_devices_select(NULL, ids, 16), CB_EINVAL);
}

TEST(devices_select_starts_runtime) {
  CHECK(!cb_is_running());
  int ids[4];
  CHECK_INT(cb_devices_select("cpu", ids, 4), >=, 1);
  CHECK(cb_is_running());
}
