/* The device filter parser over valid and invalid strings. */
#include <string.h>

#include "cambrian.h"
#include "check.h"

enum { ANY = -1 };

typedef struct {
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

static const char *const invalid[] = {
    "",           ",",        "gpu,",        ",gpu",     "opencl:",
    ":gpu",       "foo",      "opencl:foo",  "gpu:cpu",  "1",
    "opencl:gpu:0:1",         "opencl:gpu:x", "opencl:gpu:-1",
    "gpu:opencl", "opencl:gpu:99999999999",   "a,b",     "  ",
    "gpu::0",     "*:*:*:*",  "opencl:gpu:gpu", "cuda", "cuda:gpu:0",
};

int main(void) {
  for (size_t i = 0; i < sizeof valid / sizeof *valid; i++) {
    const valid_case *c = &valid[i];
    cb_filter f;
    char err[256];
    int rc = cb_filter_parse(c->s, &f, err, sizeof err);
    CHECK(rc == 0, "'%s' should parse: %s", c->s, err);
    if (rc)
      continue;
    CHECK(f.nalts == c->nalts, "'%s': %d alternatives, expected %d", c->s,
          f.nalts, c->nalts);
    for (int k = 0; k < c->nalts && k < f.nalts; k++)
      CHECK(memcmp(&f.alts[k], &c->alts[k], sizeof f.alts[k]) == 0,
            "'%s' alternative %d: got (%d,%d,%d), expected (%d,%d,%d)", c->s,
            k, f.alts[k].backend, f.alts[k].type, f.alts[k].index,
            c->alts[k].backend, c->alts[k].type, c->alts[k].index);
  }
  for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++) {
    cb_filter f;
    char err[256] = "";
    int rc = cb_filter_parse(invalid[i], &f, err, sizeof err);
    CHECK(rc == CB_EINVAL, "'%s' should be refused", invalid[i]);
    CHECK(err[0] != '\0', "'%s': no message", invalid[i]);
  }
  cb_filter f;
  CHECK(cb_filter_parse(NULL, &f, NULL, 0) == CB_EINVAL, "NULL refused");
  /* Matching. */
  cb_filter_parse("opencl:gpu,cpu:0", &f, NULL, 0);
  CHECK(cb_filter_match(&f, CB_BACKEND_OPENCL, CB_DEVTYPE_GPU, 3), "gpu 3");
  CHECK(cb_filter_match(&f, CB_BACKEND_CPU, CB_DEVTYPE_CPU, 0), "cpu 0");
  CHECK(cb_filter_match(&f, CB_BACKEND_OPENCL, CB_DEVTYPE_CPU, 0), "pocl 0");
  CHECK(!cb_filter_match(&f, CB_BACKEND_OPENCL, CB_DEVTYPE_CPU, 1), "pocl 1");
  CHECK(!cb_filter_match(&f, CB_BACKEND_OPENCL, CB_DEVTYPE_ACCELERATOR, 0),
        "accelerator");
  return CHECK_DONE();
}
