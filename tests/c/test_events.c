/* Events: waiting with and without a timeout, polling, listeners,
 * references, cancellation and the failure an event completes with. */
#include <pthread.h>
#include <string.h>

#include "test.h"

static volatile int go, started, ran_b;

/* Says it started, then waits until the test lets it go. */
static int blocker(void *arg, void **ptrs, cb_task_ctx *ctx) {
  (void)arg, (void)ptrs, (void)ctx;
  __atomic_store_n(&started, 1, __ATOMIC_RELEASE);
  test_wait_flag(&go, 10000);
  return 0;
}

static cb_event *submit_blocker(void) {
  cb_event *e = NULL;
  cb_task_opts opts = {.name = "blocker", .device = -1};
  int rc = cb_task_submit(blocker, NULL, NULL, NULL, NULL, 0, &opts, &e,
                          NULL);
  if (rc)
    test_fail(__FILE__, __LINE__, "cb_task_submit", "%s", cb_last_error());
  return e;
}

TEST(event_wait_timeout_and_poll) {
  ASSERT_OK(test_start(1, "none"));
  cb_event *e = submit_blocker();
  ASSERT(e != NULL);
  CHECK(!cb_event_done(e));
  CHECK_RC(cb_event_wait(e, 20), CB_ETIMEDOUT);
  CHECK_RC(cb_event_wait(e, 0), CB_ETIMEDOUT);
  CHECK_INT(cb_event_poll(e, 1000), ==, 0);
  CHECK(!cb_event_done(e));
  go = 1;
  CHECK_OK(cb_event_wait(e, -1));
  CHECK(cb_event_done(e));
  CHECK_INT(cb_event_poll(e, 0), ==, 1);
  CHECK_OK(cb_event_wait(e, 0));
  cb_event_unref(e);
}

TEST(event_poll_sees_completion) {
  ASSERT_OK(test_start(1, "none"));
  cb_event *e = submit_blocker();
  ASSERT(e != NULL);
  go = 1;
  /* Polls for up to 10 s: the task ends long before. */
  CHECK_INT(cb_event_poll(e, 10000000L), ==, 1);
  CHECK(cb_event_done(e));
  cb_event_unref(e);
}

static int calls;
static pthread_t caller;

static void listener(void *arg) {
  caller = pthread_self();
  *(int *)arg += 1;
  __atomic_add_fetch(&calls, 1, __ATOMIC_ACQ_REL);
}

TEST(event_on_done_later) {
  ASSERT_OK(test_start(1, "none"));
  cb_event *e = submit_blocker();
  ASSERT(e != NULL);
  int count = 0;
  CHECK_OK(cb_event_on_done(e, listener, &count));
  CHECK_INT(calls, ==, 0);
  go = 1;
  CHECK_OK(cb_event_wait(e, -1));
  /* The thread that completed the event called it, once. */
  CHECK(test_wait_flag(&calls, 5000));
  CHECK_OK(cb_wait_all());
  CHECK_INT(calls, ==, 1);
  CHECK_INT(count, ==, 1);
  CHECK(!pthread_equal(caller, pthread_self()));
  cb_event_unref(e);
}

TEST(event_on_done_when_done) {
  ASSERT_OK(test_start(1, "none"));
  cb_event *e = submit_blocker();
  ASSERT(e != NULL);
  go = 1;
  CHECK_OK(cb_event_wait(e, -1));
  int count = 0;
  CHECK_OK(cb_event_on_done(e, listener, &count));
  /* At once, in this thread. */
  CHECK_INT(count, ==, 1);
  CHECK(pthread_equal(caller, pthread_self()));
  cb_event_unref(e);
}

TEST(event_ref_keeps_event) {
  ASSERT_OK(test_start(1, "none"));
  cb_event *e = submit_blocker();
  ASSERT(e != NULL);
  cb_event_ref(e);
  cb_event_unref(e);
  /* Still the caller's: usable. */
  CHECK(!cb_event_done(e));
  go = 1;
  CHECK_OK(cb_event_wait(e, -1));
  cb_event_ref(e);
  cb_event_unref(e);
  CHECK(cb_event_done(e));
  cb_event_unref(e);
  cb_event_unref(NULL);
}

static int fill_ones(void *arg, void **ptrs, cb_task_ctx *ctx) {
  (void)arg, (void)ctx;
  __atomic_store_n(&ran_b, 1, __ATOMIC_RELEASE);
  float *out = ptrs[0];
  for (int i = 0; i < 10; i++)
    out[i] = 1;
  return 0;
}

TEST(event_cancel_before_start) {
  ASSERT_OK(test_start(1, "none"));
  cb_event *a = submit_blocker();
  ASSERT(a != NULL);
  /* The only worker is busy: b waits in the queue. */
  int64_t n = 10;
  cb_array *out;
  ASSERT_OK(cb_array_new(CB_FLOAT32, 1, &n, &out));
  const cb_array *arrays[1] = {out};
  cb_access access[1] = {CB_OUT};
  cb_task_opts opts = {.name = "fill_ones", .device = -1};
  cb_event *b;
  ASSERT_OK(cb_task_submit(fill_ones, NULL, NULL, arrays, access, 1, &opts,
                           &b, NULL));
  CHECK(!cb_event_started(b) && !cb_event_cancelled(b));
  CHECK_INT(cb_event_cancel(b), ==, 1);
  CHECK(!cb_event_started(b) && cb_event_cancelled(b));
  go = 1;
  CHECK_RC(cb_event_wait(b, -1), CB_ECANCELED);
  CHECK(!ran_b, "a cancelled task ran");
  cb_failure f;
  CHECK_RC(cb_event_failure(b, &f), CB_ECANCELED);
  CHECK_STR(f.info.task, "fill_ones");
  CHECK_HAS(f.info.message, "cancelled");
  CHECK_RC(cb_array_failure(out, &f), CB_ECANCELED);
  /* Its readers fail in turn. */
  cb_operand x = test_arg(out, -1);
  cb_array *c;
  int dev;
  ASSERT_OK(cb_ewise(CB_OP_negative, &x, 1, -1, -1, &c, &dev));
  CHECK_RC(test_wait_writer(c), CB_EDEPEND);
  CHECK_RC(cb_array_failure(c, &f), CB_EDEPEND);
  CHECK(f.has_cause);
  CHECK_INT(f.cause.code, ==, CB_ECANCELED);
  /* Cancelling twice, or after the end, does nothing. */
  CHECK_INT(cb_event_cancel(b), ==, 0);
  CHECK_OK(cb_event_wait(a, -1));
  CHECK_INT(cb_event_cancel(a), ==, 0);
  cb_event_unref(a);
  cb_event_unref(b);
  cb_array_unref(c);
  cb_array_unref(out);
}

TEST(event_cancel_after_start) {
  ASSERT_OK(test_start(1, "none"));
  cb_event *a = submit_blocker();
  ASSERT(a != NULL);
  ASSERT(test_wait_flag(&started, 10000), "the task never started");
  CHECK(cb_event_started(a) && !cb_event_cancelled(a));
  CHECK_INT(cb_event_cancel(a), ==, 0);
  CHECK(cb_event_started(a) && !cb_event_cancelled(a));
  go = 1;
  CHECK_OK(cb_event_wait(a, -1));
  CHECK(cb_event_started(a) && !cb_event_cancelled(a));
  cb_failure f;
  CHECK_INT(cb_event_failure(a, &f), ==, 0);
  cb_event_unref(a);
}

static int fail_task(void *arg, void **ptrs, cb_task_ctx *ctx) {
  (void)arg, (void)ptrs;
  cb_task_fail(ctx, 0, "out of luck");
  return 1;
}

TEST(event_failure) {
  ASSERT_OK(test_start(1, "none"));
  cb_task_opts opts = {.name = "unlucky", .device = -1};
  cb_event *e;
  ASSERT_OK(cb_task_submit(fail_task, NULL, NULL, NULL, NULL, 0, &opts, &e,
                           NULL));
  CHECK_RC(cb_event_wait(e, -1), CB_ETASK);
  cb_failure f;
  memset(&f, 0, sizeof f);
  CHECK_RC(cb_event_failure(e, &f), CB_ETASK);
  CHECK_INT(f.info.code, ==, CB_ETASK);
  CHECK_STR(f.info.task, "unlucky");
  CHECK_STR(f.info.message, "out of luck");
  CHECK_INT(f.info.cl_status, ==, 0);
  CHECK_INT(f.info.device, ==, 0);
  CHECK(!f.has_cause);
  CHECK(f.info.id != 0);
  cb_event_unref(e);
}
