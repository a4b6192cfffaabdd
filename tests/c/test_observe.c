/* Observability: profiling, traces of the tasks that ran, and
 * statistics per worker, per link and per operation. */
#include <stdlib.h>
#include <string.h>

#include <CL/cl.h>

#include "cambrian/testing.h"
#include "test.h"

/* a + b over n elements, waited for; the result (NULL on failure). */
static cb_array *add_arrays(cb_array *a, cb_array *b) {
  cb_operand x[2] = {test_arg(a, -1), test_arg(b, -1)};
  cb_array *r = NULL;
  int dev;
  if (cb_ewise(CB_OP_add, x, 2, -1, -1, &r, &dev)) {
    test_fail(__FILE__, __LINE__, "cb_ewise", "%s", cb_last_error());
    return NULL;
  }
  test_wait_writer(r);
  return r;
}

TEST(profiling_set_get) {
  unsetenv("CAMBRIAN_PROFILE");
  CHECK_INT(cb_profiling_get(), ==, 0);
  CHECK_OK(cb_profiling_set(1));
  CHECK_INT(cb_profiling_get(), ==, 1);
  CHECK_OK(cb_profiling_set(0));
  CHECK_INT(cb_profiling_get(), ==, 0);
  /* Set before the runtime starts, it holds once it runs. */
  CHECK_OK(cb_profiling_set(7));
  ASSERT_OK(test_start(1, "none"));
  CHECK_INT(cb_profiling_get(), ==, 1);
  CHECK_OK(cb_profiling_set(0));
  CHECK_INT(cb_profiling_get(), ==, 0);
}

TEST(profiling_from_environment) {
  setenv("CAMBRIAN_PROFILE", "1", 1);
  CHECK_INT(cb_profiling_get(), ==, 0);
  ASSERT_OK(test_start(1, "none"));
  CHECK_INT(cb_profiling_get(), ==, 1);
}

static int has(const uintptr_t *ids, int n, const void *p) {
  for (int i = 0; i < n; i++)
    if (ids[i] == (uintptr_t)p)
      return 1;
  return 0;
}

TEST(trace_records_tasks) {
  ASSERT_OK(test_start(1, "none"));
  int64_t n = 200000; /* two tiles on one worker */
  cb_array *a = test_ramp(CB_FLOAT32, 1, &n, 0, 1);
  cb_array *b = test_ramp(CB_FLOAT32, 1, &n, 0, 2);
  ASSERT(a && b);
  CHECK_INT(cb_profiling_get(), ==, 0);
  ASSERT_OK(cb_trace_start());
  CHECK_INT(cb_profiling_get(), ==, 1);
  cb_array *c = add_arrays(a, b);
  ASSERT(c);
  cb_trace_event *events = NULL;
  size_t count = 0;
  ASSERT_OK(cb_trace_stop(&events, &count));
  /* Profiling is off again. */
  CHECK_INT(cb_profiling_get(), ==, 0);
  ASSERT(events != NULL);
  CHECK_INT(count, ==, 2);
  for (size_t i = 0; i < count; i++) {
    const cb_trace_event *e = &events[i];
    CHECK_STR(e->name, "add");
    CHECK_INT(e->worker, ==, 0);
    CHECK_INT(e->device, ==, 0);
    CHECK_INT(e->failed, ==, 0);
    CHECK_DBL(e->submit_us, >=, 0);
    CHECK_DBL(e->submit_us, <=, e->start_us);
    CHECK_DBL(e->fetch_start_us, <=, e->fetch_end_us);
    CHECK_DBL(e->start_us, <=, e->end_us);
    CHECK_INT(e->nin, ==, 2);
    CHECK_INT(e->nout, ==, 1);
    CHECK(has(e->in, e->nin, a) && has(e->in, e->nin, b));
    CHECK(e->out[0] == (uintptr_t)c);
  }
  free(events);
  /* Tasks after the trace are not recorded. */
  cb_array *d = add_arrays(a, c);
  ASSERT(d);
  ASSERT_OK(cb_trace_start());
  ASSERT_OK(cb_trace_stop(&events, &count));
  CHECK_INT(count, ==, 0);
  free(events);
  cb_array_unref(a);
  cb_array_unref(b);
  cb_array_unref(c);
  cb_array_unref(d);
}

TEST(trace_marks_failed_tasks) {
  ASSERT_OK(test_start(1, "none"));
  int64_t n = 100;
  cb_array *a = test_ramp(CB_FLOAT64, 1, &n, 0, 1);
  ASSERT(a);
  ASSERT_OK(cb_testing_inject("add", -1, 1, CL_INVALID_VALUE));
  ASSERT_OK(cb_trace_start());
  cb_array *c = add_arrays(a, a);
  cb_array *d = add_arrays(a, a);
  ASSERT(c && d);
  cb_trace_event *events;
  size_t count;
  ASSERT_OK(cb_trace_stop(&events, &count));
  ASSERT_INT(count, ==, 2);
  CHECK_INT(events[0].failed + events[1].failed, ==, 1);
  free(events);
  cb_array_unref(a);
  cb_array_unref(c);
  cb_array_unref(d);
}

TEST(trace_stop_without_start) {
  cb_trace_event *events = NULL;
  size_t count = 99;
  CHECK_OK(cb_trace_stop(&events, &count));
  CHECK(events != NULL, "an empty trace is still a buffer to free");
  CHECK_INT(count, ==, 0);
  free(events);
  CHECK(!cb_is_running());
}

static const cb_op_stats *find_op(const cb_op_stats *ops, int n,
                                  const char *name) {
  for (int i = 0; i < n; i++)
    if (strcmp(ops[i].name, name) == 0)
      return &ops[i];
  return NULL;
}

TEST(stats_count_tasks) {
  ASSERT_OK(test_start(2, "none"));
  int64_t n = 1000;
  cb_array *a = test_ramp(CB_INT64, 1, &n, 0, 1);
  ASSERT(a);
  ASSERT_OK(cb_profiling_set(1));
  ASSERT_OK(cb_stats_reset());
  cb_array *r[3];
  for (int i = 0; i < 3; i++) {
    r[i] = add_arrays(a, a);
    ASSERT(r[i]);
  }
  cb_operand x = test_arg(a, -1);
  cb_array *neg;
  int dev;
  ASSERT_OK(cb_ewise(CB_OP_negative, &x, 1, -1, -1, &neg, &dev));
  CHECK_OK(test_wait_writer(neg));
  CHECK_OK(cb_wait_all());

  cb_worker_stats w[8];
  cb_link_stats l[16];
  cb_op_stats ops[16];
  int nw = -1, nl = -1, nop = -1;
  ASSERT_OK(cb_stats_get(w, 8, &nw, l, 16, &nl, ops, 16, &nop));
  CHECK_INT(nw, ==, 2);
  CHECK_INT(nl, >=, 0);
  CHECK_INT(nop, ==, 2);
  const cb_op_stats *add = find_op(ops, nop, "add");
  const cb_op_stats *negative = find_op(ops, nop, "negative");
  ASSERT(add && negative);
  CHECK_INT(add->tasks, ==, 3);
  CHECK_INT(negative->tasks, ==, 1);
  CHECK_DBL(add->busy_s, >, 0);
  int64_t tasks = 0;
  for (int i = 0; i < nw; i++) {
    CHECK_INT(w[i].worker, ==, i);
    CHECK_INT(w[i].device, ==, 0);
    CHECK_DBL(w[i].busy_s, >=, 0);
    CHECK_DBL(w[i].total_s, >=, w[i].busy_s);
    tasks += w[i].tasks;
  }
  CHECK_INT(tasks, ==, 4);
  /* Counts without room for the entries. */
  ASSERT_OK(cb_stats_get(NULL, 0, &nw, NULL, 0, &nl, NULL, 0, &nop));
  CHECK_INT(nw, ==, 2);
  CHECK_INT(nop, ==, 2);
  /* A reset starts from zero. */
  ASSERT_OK(cb_stats_reset());
  ASSERT_OK(cb_stats_get(w, 8, &nw, l, 16, &nl, ops, 16, &nop));
  CHECK_INT(nop, ==, 0);
  for (int i = 0; i < nw; i++)
    CHECK_INT(w[i].tasks, ==, 0);
  for (int i = 0; i < 3; i++)
    cb_array_unref(r[i]);
  cb_array_unref(neg);
  cb_array_unref(a);
}

TEST(stats_without_profiling_count_nothing) {
  ASSERT_OK(test_start(1, "none"));
  int64_t n = 10;
  cb_array *a = test_ramp(CB_INT32, 1, &n, 0, 1);
  ASSERT(a);
  cb_array *r = add_arrays(a, a);
  ASSERT(r);
  int nw, nl, nop = -1;
  cb_op_stats ops[4];
  ASSERT_OK(cb_stats_get(NULL, 0, &nw, NULL, 0, &nl, ops, 4, &nop));
  CHECK_INT(nop, ==, 0);
  cb_array_unref(r);
  cb_array_unref(a);
}
