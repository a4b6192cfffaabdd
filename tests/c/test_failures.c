/* The error channel: device failures (injected through
 * cambrian/testing.h), failures carried to dependent tasks, and the list
 * of failures nobody has seen. */
#include <string.h>

#include <CL/cl.h>

#include "cambrian/testing.h"
#include "test.h"

/* a op b (b a weak float), or op a for a unary op; NULL after a failed
 * check. */
static cb_array *apply(cb_op op, cb_array *a, double b) {
  cb_operand x[2] = {test_arg(a, -1), test_weak_float(b)};
  int n = cb_op_get_kind(op) == CB_KIND_UNARY ? 1 : 2;
  cb_array *r = NULL;
  int dev;
  int rc = cb_ewise(op, x, n, -1, -1, &r, &dev);
  if (rc)
    test_fail(__FILE__, __LINE__, "cb_ewise", "%s", cb_last_error());
  return r;
}

static cb_array *ones(void) {
  int64_t n = 100;
  return test_ramp(CB_FLOAT32, 1, &n, 1, 0);
}

TEST(testing_inject_fails_one_task) {
  ASSERT_OK(test_start(1, "none"));
  cb_array *a = ones();
  ASSERT(a);
  ASSERT_OK(cb_testing_inject("add", -1, 1, CL_OUT_OF_RESOURCES));
  cb_array *b = apply(CB_OP_add, a, 1);
  ASSERT(b);
  CHECK_RC(test_wait_writer(b), CB_EDEVICE);
  cb_failure f;
  memset(&f, 0, sizeof f);
  CHECK_RC(cb_array_failure(b, &f), CB_EDEVICE);
  CHECK_INT(f.info.code, ==, CB_EDEVICE);
  CHECK_INT(f.info.cl_status, ==, CL_OUT_OF_RESOURCES);
  CHECK_INT(f.info.device, ==, 0);
  CHECK_STR(f.info.task, "add");
  CHECK_HAS(f.info.message, "CL_OUT_OF_RESOURCES");
  CHECK_HAS(f.info.message, "injected");
  CHECK(!f.has_cause);
  /* The input is not touched, and the fault fired once. */
  CHECK_INT(cb_array_failure(a, &f), ==, 0);
  cb_array *c = apply(CB_OP_add, a, 1);
  ASSERT(c);
  CHECK_OK(test_wait_writer(c));
  CHECK_OK(test_sync(c));
  CHECK_DBL(test_get(c, 0), ==, 2);
  cb_array_unref(a);
  cb_array_unref(b);
  cb_array_unref(c);
}

TEST(testing_inject_counts_executions) {
  ASSERT_OK(test_start(1, "none"));
  cb_array *a = ones();
  ASSERT(a);
  /* Other operations do not count. */
  ASSERT_OK(cb_testing_inject("multiply", -1, 2, CL_INVALID_VALUE));
  int want[4] = {0, 0, CB_EDEVICE, 0};
  cb_op ops[4] = {CB_OP_multiply, CB_OP_add, CB_OP_multiply,
                  CB_OP_multiply};
  for (int i = 0; i < 4; i++) {
    cb_array *r = apply(ops[i], a, 2);
    ASSERT(r);
    CHECK(test_wait_writer(r) == want[i], "call %d", i);
    cb_array_unref(r);
  }
  /* Any operation: NULL, then "*". */
  ASSERT_OK(cb_testing_inject(NULL, -1, 1, CL_INVALID_VALUE));
  cb_array *r = apply(CB_OP_subtract, a, 2);
  ASSERT(r);
  CHECK_RC(test_wait_writer(r), CB_EDEVICE);
  cb_array_unref(r);
  ASSERT_OK(cb_testing_inject("*", -1, 2, CL_INVALID_VALUE));
  for (int i = 0; i < 3; i++) {
    r = apply(i == 1 ? CB_OP_negative : CB_OP_subtract, a, 2);
    ASSERT(r);
    CHECK(test_wait_writer(r) == (i == 1 ? CB_EDEVICE : 0), "call %d", i);
    cb_array_unref(r);
  }
  cb_array_unref(a);
}

TEST(testing_inject_counts_for_every_armed_fault) {
  ASSERT_OK(test_start(1, "none"));
  cb_array *a = ones();
  ASSERT(a);
  /* Two faults on one operation: each counts every execution, so the
   * first fires at the first and the second at the second. */
  ASSERT_OK(cb_testing_inject("add", -1, 1, CL_INVALID_VALUE));
  ASSERT_OK(cb_testing_inject("add", -1, 2, CL_OUT_OF_RESOURCES));
  int want[3] = {CL_INVALID_VALUE, CL_OUT_OF_RESOURCES, 0};
  for (int i = 0; i < 3; i++) {
    cb_array *r = apply(CB_OP_add, a, 2);
    ASSERT(r);
    CHECK_RC(test_wait_writer(r), want[i] ? CB_EDEVICE : 0);
    cb_failure f = {0};
    cb_array_failure(r, &f);
    CHECK_INT(f.info.cl_status, ==, want[i]);
    cb_array_unref(r);
  }
  cb_array_unref(a);
}

TEST(testing_inject_matches_device) {
  ASSERT_OK(test_start(1, "none"));
  cb_array *a = ones();
  ASSERT(a);
  /* A fault for another device does not fire here. */
  ASSERT_OK(cb_testing_inject("add", 1, 1, CL_INVALID_VALUE));
  cb_array *r = apply(CB_OP_add, a, 1);
  ASSERT(r);
  CHECK_OK(test_wait_writer(r));
  cb_array_unref(r);
  ASSERT_OK(cb_testing_inject("add", 0, 1, CL_INVALID_VALUE));
  r = apply(CB_OP_add, a, 1);
  ASSERT(r);
  CHECK_RC(test_wait_writer(r), CB_EDEVICE);
  cb_array_unref(r);
  cb_array_unref(a);
}

TEST(testing_inject_refuses_bad_arguments) {
  CHECK_RC(cb_testing_inject("add", -1, 0, CL_INVALID_VALUE), CB_EINVAL);
  CHECK_STR(cb_last_error(), "nth counts from 1");
  CHECK_RC(cb_testing_inject("add", -1, -3, CL_INVALID_VALUE), CB_EINVAL);
  char name[64];
  memset(name, 'k', sizeof name - 1);
  name[sizeof name - 1] = '\0';
  CHECK_RC(cb_testing_inject(name, -1, 1, CL_INVALID_VALUE), CB_EINVAL);
  for (int i = 0; i < 16; i++)
    CHECK_OK(cb_testing_inject("add", -1, 1000, CL_INVALID_VALUE));
  CHECK_RC(cb_testing_inject("add", -1, 1000, CL_INVALID_VALUE), CB_EINVAL);
  CHECK_STR(cb_last_error(), "at most 16 faults");
  /* Clearing makes room again. */
  cb_testing_clear();
  CHECK_OK(cb_testing_inject("add", -1, 1000, CL_INVALID_VALUE));
  cb_testing_clear();
}

TEST(testing_clear_disarms) {
  ASSERT_OK(test_start(1, "none"));
  cb_array *a = ones();
  ASSERT(a);
  ASSERT_OK(cb_testing_inject("add", -1, 1, CL_INVALID_VALUE));
  ASSERT_OK(cb_testing_inject(NULL, -1, 1, CL_INVALID_VALUE));
  cb_testing_clear();
  cb_array *r = apply(CB_OP_add, a, 1);
  ASSERT(r);
  CHECK_OK(test_wait_writer(r));
  cb_failure_info out[4];
  CHECK_INT(cb_failures_take(out, 4), ==, 0);
  cb_array_unref(r);
  cb_array_unref(a);
}

TEST(failure_reaches_dependents) {
  ASSERT_OK(test_start(1, "none"));
  cb_array *a = ones();
  ASSERT(a);
  ASSERT_OK(cb_testing_inject("negative", -1, 1, CL_OUT_OF_HOST_MEMORY));
  cb_array *b = apply(CB_OP_negative, a, 0);
  cb_array *c = b ? apply(CB_OP_add, b, 1) : NULL;
  cb_array *d = c ? apply(CB_OP_multiply, c, 2) : NULL;
  ASSERT(d);
  CHECK_RC(test_wait_writer(d), CB_EDEPEND);
  cb_failure fb, fc, fd;
  CHECK_RC(cb_array_failure(b, &fb), CB_EDEVICE);
  CHECK_RC(cb_array_failure(c, &fc), CB_EDEPEND);
  CHECK_RC(cb_array_failure(d, &fd), CB_EDEPEND);
  CHECK_STR(fc.info.task, "add");
  CHECK_HAS(fc.info.message, "did not run");
  CHECK_HAS(fc.info.message, "negative");
  /* Each dependency failure names the first failure of the chain. */
  CHECK(fc.has_cause && fd.has_cause);
  CHECK(fc.cause.id == fb.info.id);
  CHECK(fd.cause.id == fb.info.id);
  CHECK_INT(fd.cause.code, ==, CB_EDEVICE);
  CHECK_INT(fd.cause.cl_status, ==, CL_OUT_OF_HOST_MEMORY);
  CHECK_INT(fd.info.cl_status, ==, CL_OUT_OF_HOST_MEMORY);
  /* Readers of a clean input are not affected. */
  cb_array *e = apply(CB_OP_add, a, 1);
  ASSERT(e);
  CHECK_OK(test_wait_writer(e));
  cb_array_unref(a);
  cb_array_unref(b);
  cb_array_unref(c);
  cb_array_unref(d);
  cb_array_unref(e);
}

/* Makes n arrays fail by injected faults; fills their failure ids. */
static void make_failures(cb_array *a, int n, uint64_t *ids) {
  for (int i = 0; i < n; i++) {
    if (cb_testing_inject("add", -1, 1, CL_INVALID_VALUE)) {
      test_fail(__FILE__, __LINE__, "inject", "%s", cb_last_error());
      return;
    }
    cb_array *r = apply(CB_OP_add, a, i);
    if (!r)
      return;
    CHECK_RC(test_wait_writer(r), CB_EDEVICE);
    cb_failure f;
    cb_array_failure(r, &f);
    ids[i] = f.info.id;
    /* A reader of it fails too, but that is no new failure. */
    cb_array *s = apply(CB_OP_add, r, 1);
    if (s)
      CHECK_RC(test_wait_writer(s), CB_EDEPEND);
    cb_array_unref(s);
    cb_array_unref(r);
  }
}

TEST(failures_take_lists_unseen) {
  ASSERT_OK(test_start(1, "none"));
  cb_array *a = ones();
  ASSERT(a);
  uint64_t ids[3] = {0};
  make_failures(a, 3, ids);
  CHECK(ids[0] != ids[1] && ids[1] != ids[2]);
  cb_failure_info out[8];
  /* Oldest first, at most cap at a time. */
  CHECK_INT(cb_failures_take(out, 2), ==, 2);
  CHECK(out[0].id == ids[0] && out[1].id == ids[1]);
  CHECK_INT(out[0].code, ==, CB_EDEVICE);
  CHECK_STR(out[0].task, "add");
  CHECK_INT(cb_failures_take(out, 8), ==, 1);
  CHECK(out[0].id == ids[2]);
  CHECK_INT(cb_failures_take(out, 8), ==, 0);
  cb_array_unref(a);
}

TEST(failure_seen_forgets) {
  ASSERT_OK(test_start(1, "none"));
  cb_array *a = ones();
  ASSERT(a);
  uint64_t ids[3] = {0};
  make_failures(a, 3, ids);
  cb_failure_seen(ids[1]);
  cb_failure_seen(ids[1]);        /* twice: no matter */
  cb_failure_seen(ids[2] + 1000); /* no such failure: no matter */
  cb_failure_info out[8];
  CHECK_INT(cb_failures_take(out, 8), ==, 2);
  CHECK(out[0].id == ids[0]);
  CHECK(out[1].id == ids[2]);
  cb_array_unref(a);
}
