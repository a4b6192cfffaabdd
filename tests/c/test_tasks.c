/* Host functions as tasks: their data, their order through tokens, their
 * failures, the release of their argument, and the refusals. */
#include <string.h>
#include <time.h>

#include "test.h"

static int releases;
static void *released_arg;

static void release(void *arg) {
  released_arg = arg;
  __atomic_add_fetch(&releases, 1, __ATOMIC_ACQ_REL);
}

typedef struct scale_arg {
  double factor;
  int64_t n;
  int calls;
} scale_arg;

/* out = in * factor; acc += 1. */
static int scale(void *arg, void **ptrs, cb_task_ctx *ctx) {
  (void)ctx;
  scale_arg *s = arg;
  const float *in = ptrs[0];
  double *out = ptrs[1];
  int32_t *acc = ptrs[2];
  for (int64_t i = 0; i < s->n; i++) {
    out[i] = in[i] * s->factor;
    acc[i] += 1;
  }
  s->calls++;
  return 0;
}

TEST(task_submit_runs_on_host_data) {
  ASSERT_OK(test_start(2, "none"));
  int64_t n = 150000; /* several tiles each */
  cb_array *in = test_ramp(CB_FLOAT32, 1, &n, 0, 1);
  cb_array *acc = test_ramp(CB_INT32, 1, &n, 10, 0);
  cb_array *out;
  ASSERT(in && acc);
  ASSERT_OK(cb_array_new(CB_FLOAT64, 1, &n, &out));
  scale_arg s = {.factor = 0.5, .n = n};
  const cb_array *arrays[3] = {in, out, acc};
  cb_access access[3] = {CB_IN, CB_OUT, CB_INOUT};
  cb_event *e;
  ASSERT_OK(cb_task_submit(scale, &s, release, arrays, access, 3, NULL, &e,
                           NULL));
  CHECK_OK(cb_event_wait(e, -1));
  cb_event_unref(e);
  CHECK_INT(s.calls, ==, 1);
  CHECK(test_wait_flag(&releases, 5000));
  CHECK_INT(releases, ==, 1);
  CHECK(released_arg == &s);
  CHECK_OK(test_sync(out));
  CHECK_OK(test_sync(acc));
  CHECK_DBL(test_get(out, n - 1), ==, 0.5 * (double)(n - 1));
  CHECK_DBL(test_get(acc, 0), ==, 11);
  CHECK_DBL(test_get(acc, n - 1), ==, 11);
  /* It is the writer of what it writes. */
  cb_event *w = cb_array_writer(out);
  CHECK(w != NULL && cb_event_done(w));
  cb_event_unref(w);
  cb_array_unref(in);
  cb_array_unref(out);
  cb_array_unref(acc);
}

static volatile int order[2], steps;

static int step(void *arg, void **ptrs, cb_task_ctx *ctx) {
  (void)ptrs, (void)ctx;
  int me = (int)(intptr_t)arg;
  if (me == 0) { /* the first takes its time */
    struct timespec t = {0, 50 * 1000000L};
    nanosleep(&t, NULL);
  }
  order[__atomic_fetch_add(&steps, 1, __ATOMIC_ACQ_REL)] = me;
  return 0;
}

TEST(task_token_orders_calls) {
  ASSERT_OK(test_start(2, "none"));
  cb_event *e1, *e2;
  cb_array *token = NULL;
  ASSERT_OK(cb_task_submit(step, (void *)0, NULL, NULL, NULL, 0, NULL, &e1,
                           &token));
  ASSERT(token != NULL);
  CHECK_INT(cb_array_dtype(token), ==, CB_BOOL);
  CHECK_INT(cb_array_size(token), ==, 1);
  /* The second reads the token: it runs after the first, although a
   * second worker is free. */
  const cb_array *arrays[1] = {token};
  cb_access access[1] = {CB_IN};
  ASSERT_OK(cb_task_submit(step, (void *)1, NULL, arrays, access, 1, NULL,
                           &e2, NULL));
  CHECK_OK(cb_event_wait(e2, -1));
  CHECK(cb_event_done(e1));
  CHECK_INT(steps, ==, 2);
  CHECK_INT(order[0], ==, 0);
  CHECK_INT(order[1], ==, 1);
  cb_event_unref(e1);
  cb_event_unref(e2);
  cb_array_unref(token);
}

static int ran;

static int fail_with_code(void *arg, void **ptrs, cb_task_ctx *ctx) {
  (void)ptrs;
  int code = (int)(intptr_t)arg;
  uint64_t id = cb_task_fail(ctx, code, code ? "custom failure" : NULL);
  return id == 0 ? 2 : 1;
}

static int mark_ran(void *arg, void **ptrs, cb_task_ctx *ctx) {
  (void)arg, (void)ptrs, (void)ctx;
  ran = 1;
  return 0;
}

TEST(task_fail_marks_outputs) {
  ASSERT_OK(test_start(1, "none"));
  cb_task_opts opts = {.name = "failing", .device = -1};
  cb_event *e;
  cb_array *token;
  ASSERT_OK(cb_task_submit(fail_with_code, (void *)0, NULL, NULL, NULL, 0,
                           &opts, &e, &token));
  CHECK_RC(cb_event_wait(e, -1), CB_ETASK);
  cb_failure f;
  CHECK_RC(cb_array_failure(token, &f), CB_ETASK);
  CHECK_STR(f.info.task, "failing");
  CHECK_STR(f.info.message, "the task failed");
  /* cb_task_fail returned the failure's id. */
  cb_failure_info listed[4];
  ASSERT_INT(cb_failures_take(listed, 4), ==, 1);
  CHECK(listed[0].id == f.info.id);
  cb_event_unref(e);
  /* A reader of the token does not run; its argument is released. */
  const cb_array *arrays[1] = {token};
  cb_access access[1] = {CB_IN};
  ASSERT_OK(cb_task_submit(mark_ran, &opts, release, arrays, access, 1, NULL,
                           &e, NULL));
  CHECK_RC(cb_event_wait(e, -1), CB_EDEPEND);
  CHECK(!ran);
  CHECK(test_wait_flag(&releases, 5000));
  CHECK(released_arg == &opts);
  cb_event_unref(e);
  cb_array_unref(token);
  /* A code of the caller's choosing. */
  ASSERT_OK(cb_task_submit(fail_with_code, (void *)(intptr_t)CB_ERANGE, NULL,
                           NULL, NULL, 0, NULL, &e, &token));
  CHECK_RC(cb_event_wait(e, -1), CB_ERANGE);
  CHECK_RC(cb_array_failure(token, &f), CB_ERANGE);
  CHECK_STR(f.info.message, "custom failure");
  CHECK_STR(f.info.task, "task");
  cb_event_unref(e);
  cb_array_unref(token);
}

static int return_nonzero(void *arg, void **ptrs, cb_task_ctx *ctx) {
  (void)arg, (void)ptrs, (void)ctx;
  return 3;
}

TEST(task_nonzero_return_fails) {
  ASSERT_OK(test_start(1, "none"));
  cb_task_opts opts = {.name = "grumpy", .device = 0, .priority = 5};
  cb_event *e;
  ASSERT_OK(cb_task_submit(return_nonzero, NULL, NULL, NULL, NULL, 0, &opts,
                           &e, NULL));
  CHECK_RC(cb_event_wait(e, -1), CB_ETASK);
  cb_failure f;
  CHECK_RC(cb_event_failure(e, &f), CB_ETASK);
  CHECK_STR(f.info.message, "grumpy failed");
  CHECK_INT(f.info.device, ==, 0);
  cb_event_unref(e);
}

TEST(task_submit_refuses_bad_arguments) {
  ASSERT_OK(test_start(1, "none"));
  int64_t n = 4;
  cb_array *a;
  ASSERT_OK(cb_array_new(CB_INT32, 1, &n, &a));
  const cb_array *arrays[1] = {a};
  cb_access none[1] = {0}, in[1] = {CB_IN};
  cb_event *sentinel = (cb_event *)&sentinel, *e = sentinel;
  int want = 0;
  /* Each refusal releases the argument, once. */
  CHECK_RC(cb_task_submit(NULL, &n, release, NULL, NULL, 0, NULL, &e, NULL),
           CB_EINVAL);
  CHECK_INT(releases, ==, ++want);
  CHECK(released_arg == &n);
  CHECK_RC(cb_task_submit(mark_ran, &n, release, NULL, NULL, -1, NULL, &e,
                          NULL),
           CB_EINVAL);
  CHECK_INT(releases, ==, ++want);
  CHECK_RC(cb_task_submit(mark_ran, &n, release, arrays, none, 1, NULL, &e,
                          NULL),
           CB_EINVAL);
  CHECK_HAS(cb_last_error(), "argument 0 has no access");
  CHECK_INT(releases, ==, ++want);
  cb_task_opts far = {.name = "far", .device = 3};
  CHECK_RC(cb_task_submit(mark_ran, &n, release, arrays, in, 1, &far, &e,
                          NULL),
           CB_ENODEV);
  CHECK_STR(cb_last_error(), "functions run on CPU workers only");
  CHECK_INT(releases, ==, ++want);
  CHECK(e == sentinel);
  CHECK(!ran);
  cb_array_unref(a);
}

TEST(task_submit_refuses_opencl_device) {
  int dev = test_need_opencl();
  ASSERT(dev >= 0);
  cb_task_opts opts = {.device = dev};
  cb_event *e;
  CHECK_RC(cb_task_submit(mark_ran, NULL, release, NULL, NULL, 0, &opts, &e,
                          NULL),
           CB_ENODEV);
  CHECK_INT(releases, ==, 1);
}

TEST(task_submit_nonblocking) {
  cb_task_opts opts = {.device = -1, .nonblocking = 1};
  cb_event *e = NULL;
  CHECK_RC(cb_task_submit(mark_ran, &opts, release, NULL, NULL, 0, &opts, &e,
                          NULL),
           CB_EAGAIN);
  CHECK(!cb_is_running());
  CHECK_INT(releases, ==, 1);
  ASSERT_OK(test_start(1, "none"));
  ASSERT_OK(cb_task_submit(mark_ran, &opts, release, NULL, NULL, 0, &opts,
                           &e, NULL));
  CHECK_OK(cb_event_wait(e, -1));
  CHECK(ran);
  cb_event_unref(e);
  /* The release runs after the event is signalled: wait for the second
   * one (the refused call made the first). */
  static int second;
  for (int i = 0; i < 5000 && __atomic_load_n(&releases, __ATOMIC_ACQUIRE) <
                                  2; i++)
    test_wait_flag(&second, 1);
  CHECK_INT(releases, ==, 2);
}
