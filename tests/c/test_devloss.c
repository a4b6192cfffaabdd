/* Device loss: a fault that leaves an OpenCL context unusable (injected
 * through cambrian/testing.h), what fails after it, what keeps working,
 * and the next runtime. */
#include <stdlib.h>
#include <string.h>

#include <CL/cl.h>

#include "cambrian/testing.h"
#include "test.h"

/* op over a (and the weak float b for a binary op), placed on device (-1:
 * the scheduler chooses); *rc gets what cb_ewise returned. */
static cb_array *apply_on(cb_op op, cb_array *a, double b, int device,
                          int *rc) {
  cb_operand x[2] = {test_arg(a, device), test_weak_float(b)};
  cb_op_kind k = cb_op_get_kind(op);
  int n = k == CB_KIND_UNARY || k == CB_KIND_MATH || k == CB_KIND_TEST ? 1
                                                                       : 2;
  cb_array *r = NULL;
  int dev;
  *rc = cb_ewise(op, x, n, device, -1, &r, &dev);
  return r;
}

/* op over a on device, which must be accepted. */
static cb_array *apply(cb_op op, cb_array *a, double b, int device) {
  int rc;
  cb_array *r = apply_on(op, a, b, device, &rc);
  if (rc)
    test_fail(__FILE__, __LINE__, "cb_ewise", "%s", cb_last_error());
  return r;
}

static volatile int gate_open;

static int wait_for_gate(void *arg, void **ptrs, cb_task_ctx *ctx) {
  (void)arg, (void)ptrs, (void)ctx;
  test_wait_flag(&gate_open, 10000);
  return 0;
}

/* A task on a CPU worker that rewrites a once gate_open is set: work on a
 * submitted after it is pending until then. */
static int gate(cb_array *a) {
  const cb_array *arrays[1] = {a};
  cb_access access[1] = {CB_INOUT};
  cb_event *e;
  gate_open = 0;
  int rc = cb_task_submit(wait_for_gate, NULL, NULL, arrays, access, 1, NULL,
                          &e, NULL);
  if (rc == 0)
    cb_event_unref(e);
  return rc;
}

static cb_array *ramp(void) {
  int64_t n = 64;
  return test_ramp(CB_FLOAT32, 1, &n, 1, 1);
}

/* Loses device through an injected fault in sqrt; *first is the failed
 * result (the caller unrefs it). Returns 0 once the device is lost. */
static int lose(int device, cb_array *a, int unusable, cb_array **first) {
  int rc = cb_testing_inject_loss("sqrt", device, 1, CL_OUT_OF_RESOURCES,
                                  unusable);
  if (rc)
    return rc;
  *first = apply(CB_OP_sqrt, a, 0, device);
  if (!*first)
    return CB_EINVAL;
  return test_wait_writer(*first) == CB_EDEVICE ? 0 : CB_EINVAL;
}

TEST(device_loss_fails_later_tasks) {
  int d = test_need_opencl();
  ASSERT(d >= 0);
  cb_array *a = ramp();
  ASSERT(a);
  CHECK_INT(cb_device_lost(d, NULL), ==, 0);
  ASSERT_OK(cb_testing_inject_loss("sqrt", d, 1, CL_OUT_OF_RESOURCES, 0));
  /* The failing task, and one that waits for it on the same device: both
   * pending behind a task on the CPU workers. */
  ASSERT_OK(gate(a));
  cb_array *b = apply(CB_OP_sqrt, a, 0, d);
  ASSERT(b);
  cb_array *c = apply(CB_OP_exp, b, 0, d);
  ASSERT(c);
  gate_open = 1;
  CHECK_RC(test_wait_writer(b), CB_EDEVICE);
  CHECK_RC(test_wait_writer(c), CB_EDEVLOST);
  cb_failure f;
  memset(&f, 0, sizeof f);
  CHECK_RC(cb_array_failure(b, &f), CB_EDEVICE);
  CHECK_INT(f.info.cl_status, ==, CL_OUT_OF_RESOURCES);
  uint64_t first = f.info.id;
  memset(&f, 0, sizeof f);
  CHECK_RC(cb_array_failure(c, &f), CB_EDEVLOST);
  CHECK_STR(f.info.task, "exp");
  CHECK_INT(f.info.device, ==, d);
  CHECK(f.has_cause);
  CHECK_INT(f.cause.id, ==, first);
  CHECK_STR(f.cause.task, "sqrt");
  CHECK_HAS(f.info.message, "was lost");

  /* The device says so, the CPU workers' does not. */
  cb_failure_info cause;
  memset(&cause, 0, sizeof cause);
  CHECK_INT(cb_device_lost(d, &cause), ==, 1);
  CHECK_INT(cause.id, ==, first);
  CHECK_INT(cause.code, ==, CB_EDEVICE);
  CHECK_INT(cb_device_lost(0, NULL), ==, 0);
  cb_device_info info;
  ASSERT_OK(cb_device_get(d, &info));
  CHECK_INT(info.lost, ==, 1);
  ASSERT_OK(cb_device_get(0, &info));
  CHECK_INT(info.lost, ==, 0);
  CHECK_RC(cb_device_lost(cb_device_count(), NULL), CB_ENODEV);

  /* New work placed there is refused at the call. */
  int rc;
  cb_array *r = apply_on(CB_OP_add, a, 1, d, &rc);
  CHECK_RC(rc, CB_EDEVLOST);
  CHECK(r == NULL);
  CHECK_HAS(cb_last_error(), "was lost");
  int64_t n = 8;
  CHECK_RC(cb_full(CB_FLOAT32, 1, &n, (cb_scalar){.f = 1}, d, &r),
           CB_EDEVLOST);
  CHECK_RC(cb_array_new_on(CB_FLOAT32, 1, &n, d, &r), CB_EDEVLOST);
  CHECK_RC(cb_array_prefetch(a, d), CB_EDEVLOST);

  /* The CPU workers and the scheduler's placement keep working. */
  cb_array *cpu = apply(CB_OP_add, a, 1, 0);
  cb_array *any = apply(CB_OP_multiply, a, 2, -1);
  ASSERT(cpu && any);
  CHECK_OK(test_wait_writer(cpu));
  CHECK_OK(test_sync(cpu));
  CHECK_DBL(test_get(cpu, 63), ==, 65);
  CHECK_OK(test_wait_writer(any));
  CHECK_OK(test_sync(any));
  CHECK_DBL(test_get(any, 63), ==, 128);
  /* a has its host copy: still readable. */
  CHECK_OK(test_sync(a));
  CHECK_INT(cb_array_failure(a, &f), ==, 0);
  CHECK_DBL(test_get(a, 0), ==, 1);
  cb_array_unref(a);
  cb_array_unref(b);
  cb_array_unref(c);
  cb_array_unref(cpu);
  cb_array_unref(any);
}

TEST(device_loss_strands_data_left_there) {
  int d = test_need_opencl();
  ASSERT(d >= 0);
  cb_array *a = ramp();
  ASSERT(a);
  /* y is written on the device: its only copy is there. */
  cb_array *y = apply(CB_OP_multiply, a, 2, d);
  ASSERT(y);
  ASSERT_OK(test_wait_writer(y));
  long before = cb_testing_lost_device_ops();
  cb_array *first = NULL;
  ASSERT_OK(lose(d, a, 0, &first));
  /* Reading it brings nothing from the lost device: it fails. */
  CHECK_OK(test_sync(y));
  cb_failure f;
  memset(&f, 0, sizeof f);
  CHECK_RC(cb_array_failure(y, &f), CB_EDEVLOST);
  CHECK(f.has_cause);
  CHECK_STR(f.cause.task, "sqrt");
  CHECK_INT(cb_testing_lost_device_ops(), >, before);
  /* A task on the CPU that reads it does not run. */
  cb_array *z = apply(CB_OP_add, y, 1, 0);
  ASSERT(z);
  CHECK_RC(test_wait_writer(z), CB_EDEPEND);
  /* An array with a host copy stays readable, and usable on the CPU. */
  CHECK_OK(test_sync(a));
  cb_array *w = apply(CB_OP_add, a, 1, 0);
  ASSERT(w);
  CHECK_OK(test_wait_writer(w));
  CHECK_OK(test_sync(w));
  CHECK_DBL(test_get(w, 9), ==, 11);
  cb_array_unref(a);
  cb_array_unref(y);
  cb_array_unref(z);
  cb_array_unref(w);
  cb_array_unref(first);
}

TEST(device_loss_fails_reductions_in_flight) {
  /* The partial sums are copied when the combining task starts, not
   * before (StarPU would prefetch them as soon as they are written). */
  setenv("STARPU_PREFETCH", "0", 1);
  int d = test_need_opencl();
  ASSERT(d >= 0);
  cb_array *a = ramp();
  ASSERT(a);
  /* The CPU worker, which combines the partial sums, is held while the
   * device computes them and is then lost. */
  cb_event *held = NULL;
  gate_open = 0;
  ASSERT_OK(cb_task_submit(wait_for_gate, NULL, NULL, NULL, NULL, 0, NULL,
                           &held, NULL));
  cb_operand x = test_arg(a, d);
  cb_array *sum = NULL;
  int dev;
  ASSERT_OK(cb_reduce(CB_REDUCE_sum, &x, CB_AXIS_ALL, -1, &sum, &dev));
  CHECK_INT(dev, ==, d);
  long before = cb_testing_lost_device_ops();
  cb_array *first = NULL;
  CHECK_OK(lose(d, a, 0, &first));
  gate_open = 1;
  CHECK_OK(cb_event_wait(held, -1));
  cb_event_unref(held);
  /* The partial sums were on the lost device: nothing was copied, and
   * the result fails with the loss. */
  CHECK_RC(test_wait_writer(sum), CB_EDEVLOST);
  cb_failure f;
  memset(&f, 0, sizeof f);
  CHECK_RC(cb_array_failure(sum, &f), CB_EDEVLOST);
  CHECK(f.has_cause);
  CHECK_STR(f.cause.task, "sqrt");
  CHECK_INT(cb_testing_lost_device_ops(), >, before);
  cb_array_unref(a);
  cb_array_unref(sum);
  cb_array_unref(first);
}

TEST(device_loss_ends_with_the_runtime) {
  int d = test_need_opencl();
  ASSERT(d >= 0);
  cb_array *a = ramp();
  ASSERT(a);
  cb_array *first = NULL;
  ASSERT_OK(lose(d, a, 0, &first));
  CHECK_INT(cb_device_lost(d, NULL), ==, 1);
  /* The context still answers: the next runtime uses the device. */
  ASSERT_OK(cb_shutdown());
  CHECK_INT(cb_device_lost(d, NULL), ==, 0);
  ASSERT_OK(test_start(1, "opencl"));
  CHECK_INT(cb_device_lost(d, NULL), ==, 0);
  cb_array *b = apply(CB_OP_sqrt, a, 0, d);
  ASSERT(b);
  CHECK_OK(test_wait_writer(b));
  CHECK_OK(test_sync(b));
  CHECK_DBL(test_get(b, 3), ==, 2);
  cb_array_unref(a);
  cb_array_unref(b);
  cb_array_unref(first);
}

TEST(device_loss_unusable_context_stops_the_runtime) {
  int d = test_need_opencl();
  ASSERT(d >= 0);
  cb_array *a = ramp();
  ASSERT(a);
  cb_array *first = NULL;
  ASSERT_OK(lose(d, a, 1, &first));
  /* StarPU is left as it is; arrays stay readable on the host, and the
   * runtime refuses to start again. */
  CHECK_OK(cb_shutdown());
  CHECK_INT(cb_is_running(), ==, 0);
  CHECK_INT(cb_device_lost(d, NULL), ==, 0);
  CHECK_OK(test_sync(a));
  CHECK_DBL(test_get(a, 63), ==, 64);
  CHECK_RC(cb_init(NULL), CB_EDEVLOST);
  CHECK_HAS(cb_last_error(), "cannot start again");
  CHECK_RC(cb_device_count(), CB_EDEVLOST);
  cb_array_unref(a);
  cb_array_unref(first);
}

TEST(device_loss_spares_the_cpu_workers) {
  ASSERT_OK(test_start(1, NULL));
  cb_array *a = ramp();
  ASSERT(a);
  /* On the CPU workers, a fault that would lose an OpenCL device is an
   * ordinary one. */
  ASSERT_OK(cb_testing_inject_loss("sqrt", 0, 1, CL_OUT_OF_RESOURCES, 1));
  cb_array *b = apply(CB_OP_sqrt, a, 0, 0);
  ASSERT(b);
  CHECK_RC(test_wait_writer(b), CB_EDEVICE);
  CHECK_INT(cb_device_lost(0, NULL), ==, 0);
  cb_array *c = apply(CB_OP_sqrt, a, 0, 0);
  ASSERT(c);
  CHECK_OK(test_wait_writer(c));
  CHECK_RC(cb_testing_inject_loss("sqrt", 0, 0, CL_OUT_OF_RESOURCES, 0),
           CB_EINVAL);
  cb_array_unref(a);
  cb_array_unref(b);
  cb_array_unref(c);
}

/* A wrapped (pageable) buffer of n floats 0, 1, 2...; the caller frees
 * it with the array. */
static cb_array *wrap_ramp(int64_t n) {
  float *buf = malloc((size_t)n * sizeof *buf);
  if (!buf)
    return NULL;
  for (int64_t i = 0; i < n; i++)
    buf[i] = (float)i;
  cb_array *a = NULL;
  if (cb_array_wrap(CB_FLOAT32, 1, &n, buf, free, buf, &a))
    free(buf);
  return a;
}

TEST(staged_copies_reach_the_device) {
  /* Every OpenCL device stages (pocl's too), not only GPUs. */
  setenv("CAMBRIAN_PINNED", "all", 1);
  int dev = test_need_opencl();
  ASSERT(dev >= 0);
  /* Six chunks of 4 MiB (staging.c), the last one short. */
  int64_t n = (20 << 20) / 4 + 7;
  cb_array *a = wrap_ramp(n);
  ASSERT(a);
  ASSERT_OK(cb_array_set_tile_size(a, n));
  /* The result goes to pageable memory too: a wrapped buffer. */
  cb_array *r = wrap_ramp(n);
  ASSERT(r);
  ASSERT_OK(cb_array_set_tile_size(r, n));
  long before = cb_testing_staged_chunks();
  cb_operand x[1] = {test_arg(a, dev)};
  int where;
  ASSERT_OK(cb_ewise_into(CB_OP_negative, x, 1, dev, -1, r, &where));
  CHECK_INT(test_wait_writer(r), ==, 0);
  CHECK_INT(cb_testing_staged_chunks() - before, ==, 6);
  CHECK_OK(test_sync(r));
  CHECK_INT(cb_testing_staged_chunks() - before, ==, 12);
  int bad = 0;
  for (int64_t i = 0; i < n; i++)
    bad += test_get(r, i) != -(double)(float)i;
  CHECK_INT(bad, ==, 0);
  /* A copy shorter than four chunks is cut into four (of whole 256 KiB:
   * here 1.5 MiB, the last one short). */
  int64_t m = (5 << 20) / 4 + 3;
  cb_array *b = wrap_ramp(m);
  ASSERT(b);
  ASSERT_OK(cb_array_set_tile_size(b, m));
  before = cb_testing_staged_chunks();
  cb_array *rb = apply(CB_OP_negative, b, 0, dev);
  ASSERT(rb);
  CHECK_INT(test_wait_writer(rb), ==, 0);
  CHECK_INT(cb_testing_staged_chunks() - before, ==, 4);
  CHECK_OK(test_sync(rb));
  bad = 0;
  for (int64_t i = 0; i < m; i++)
    bad += test_get(rb, i) != -(double)(float)i;
  CHECK_INT(bad, ==, 0);
  cb_array_unref(rb);
  cb_array_unref(b);
  /* A copy below the threshold goes straight. */
  int64_t small = 1000;
  cb_array *s = wrap_ramp(small);
  ASSERT(s);
  before = cb_testing_staged_chunks();
  cb_array *rs = apply(CB_OP_negative, s, 0, dev);
  ASSERT(rs);
  CHECK_OK(test_sync(rs));
  CHECK_INT(cb_testing_staged_chunks() - before, ==, 0);
  cb_array_unref(rs);
  cb_array_unref(s);
  cb_array_unref(r);
  /* The next runtime stages again (its staging buffers are new). */
  ASSERT_OK(cb_shutdown());
  dev = test_need_opencl();
  ASSERT(dev >= 0);
  before = cb_testing_staged_chunks();
  cb_array *again = apply(CB_OP_negative, a, 0, dev);
  ASSERT(again);
  CHECK_INT(test_wait_writer(again), ==, 0);
  CHECK_INT(cb_testing_staged_chunks() - before, ==, 6);
  CHECK_OK(test_sync(again));
  CHECK_DBL(test_get(again, n - 1), ==, -(double)(float)(n - 1));
  cb_array_unref(again);
  cb_array_unref(a);
}

TEST(device_loss_in_a_staged_copy) {
  setenv("CAMBRIAN_PINNED", "all", 1);
  int dev = test_need_opencl();
  ASSERT(dev >= 0);
  int64_t n = (12 << 20) / 4;
  cb_array *a = wrap_ramp(n);
  ASSERT(a);
  ASSERT_OK(cb_array_set_tile_size(a, n));
  ASSERT_OK(cb_testing_inject_loss("stage", dev, 2, CL_OUT_OF_RESOURCES, 0));
  cb_array *r = apply(CB_OP_negative, a, 0, dev);
  ASSERT(r);
  /* The copy's failure lost the device: the task there fails. */
  CHECK_RC(test_wait_writer(r), CB_EDEVLOST);
  cb_failure_info cause;
  CHECK_INT(cb_device_lost(dev, &cause), ==, 1);
  CHECK_INT(cause.cl_status, ==, CL_OUT_OF_RESOURCES);
  CHECK_HAS(cause.message, "copying 12582912 bytes to");
  /* The CPU workers go on, with the host copy. */
  cb_array *c = apply(CB_OP_negative, a, 0, 0);
  ASSERT(c);
  CHECK_OK(test_sync(c));
  CHECK_DBL(test_get(c, n - 1), ==, -(double)(n - 1));
  cb_array_unref(c);
  cb_array_unref(r);
  cb_array_unref(a);
}

TEST(device_loss_in_a_staged_read) {
  setenv("CAMBRIAN_PINNED", "all", 1);
  int dev = test_need_opencl();
  ASSERT(dev >= 0);
  int64_t n = (12 << 20) / 4;
  cb_array *a = wrap_ramp(n), *r = wrap_ramp(n);
  ASSERT(a && r);
  ASSERT_OK(cb_array_set_tile_size(a, n));
  ASSERT_OK(cb_array_set_tile_size(r, n));
  cb_operand x[1] = {test_arg(a, dev)};
  int where;
  ASSERT_OK(cb_ewise_into(CB_OP_negative, x, 1, dev, -1, r, &where));
  CHECK_INT(test_wait_writer(r), ==, 0);
  /* The first chunk of the copy home fails: the device is lost, and so
   * is r, whose only current copy was there. */
  ASSERT_OK(cb_testing_inject_loss("stage", dev, 1, CL_OUT_OF_RESOURCES, 0));
  CHECK_OK(test_sync(r));
  cb_failure f;
  ASSERT_RC(cb_array_failure(r, &f), CB_EDEVLOST);
  CHECK_HAS(f.info.message, "the array's data were lost");
  cb_failure_info cause;
  CHECK_INT(cb_device_lost(dev, &cause), ==, 1);
  CHECK_HAS(cause.message, "copying 12582912 bytes from");
  /* a kept its host copy. */
  CHECK_OK(test_sync(a));
  CHECK_DBL(test_get(a, n - 1), ==, (double)(n - 1));
  cb_array_unref(r);
  cb_array_unref(a);
}

TEST(events_that_cannot_complete_end_all_the_same) {
#ifndef CB_HAVE_STARPU_UNFINISHED_EVENTS
  SKIP("this StarPU build does not ask about unfinished events");
#endif
  setenv("CAMBRIAN_PINNED", "all", 1);
  int dev = test_need_opencl();
  ASSERT(dev >= 0);
  int64_t n = (12 << 20) / 4;
  cb_array *a = wrap_ramp(n);
  ASSERT(a);
  ASSERT_OK(cb_array_set_tile_size(a, n));
  /* The user event that ends the staged copy up would not complete: the
   * copy counts as ended all the same, and the task's result is right. */
  long before = cb_testing_unfinished_events();
  ASSERT_OK(cb_testing_inject("complete", dev, 1, CL_INVALID_VALUE));
  cb_array *r = apply(CB_OP_negative, a, 0, dev);
  ASSERT(r);
  CHECK_OK(test_sync(r));
  CHECK_INT(cb_testing_unfinished_events() - before, ==, 1);
  CHECK_DBL(test_get(r, n - 1), ==, -(double)(n - 1));
  cb_array_unref(r);
  cb_array_unref(a);
}

TEST(environment_changes_keep_pocl_codelets_out) {
  int dev = test_need_opencl();
  ASSERT(dev >= 0);
  cb_device_info info;
  ASSERT_OK(cb_device_get(dev, &info));
  if (info.type != CB_DEVTYPE_CPU)
    SKIP("the OpenCL device does not run on the CPU");
  int64_t n = 1000;
  cb_array *a = wrap_ramp(n);
  ASSERT(a);
  /* While an environment change goes on, a codelet on pocl waits for it
   * to end (pocl may be starting its linker with the environment). */
  cb_environ_change_begin();
  cb_array *r = apply(CB_OP_negative, a, 0, dev);
  ASSERT(r);
  cb_event *e = cb_array_writer(r);
  ASSERT(e);
  CHECK_RC(cb_event_wait(e, 300), CB_ETIMEDOUT);
  cb_environ_change_end();
  CHECK_OK(cb_event_wait(e, -1));
  cb_event_unref(e);
  CHECK_OK(test_sync(r));
  CHECK_DBL(test_get(r, n - 1), ==, -(double)(n - 1));
  /* The CPU workers do not wait. */
  cb_environ_change_begin();
  cb_array *c = apply(CB_OP_negative, a, 0, 0);
  ASSERT(c);
  CHECK_OK(test_wait_writer(c));
  cb_environ_change_end();
  cb_array_unref(c);
  cb_array_unref(r);
  cb_array_unref(a);
}
