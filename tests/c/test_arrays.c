/* Arrays: creation, wrapping of the caller's memory, references and
 * release, accessors, host synchronisation, prefetch and writers. */
#include <stdlib.h>
#include <string.h>

#include "test.h"

TEST(array_new_shapes) {
  static const struct {
    int ndim;
    int64_t shape[2];
    int64_t size;
  } rows[] = {{0, {0, 0}, 1}, {1, {7, 0}, 7}, {2, {3, 4}, 12},
              {1, {0, 0}, 0}, {2, {5, 0}, 0}};
  for (size_t r = 0; r < sizeof rows / sizeof *rows; r++) {
    for (int t = 0; t < CB_NDTYPES; t++) {
      cb_array *a = NULL;
      CHECK_OK(cb_array_new((cb_dtype)t, rows[r].ndim, rows[r].shape, &a));
      if (!a)
        continue;
      CHECK_INT(cb_array_dtype(a), ==, t);
      CHECK_INT(cb_array_ndim(a), ==, rows[r].ndim);
      for (int i = 0; i < rows[r].ndim; i++)
        CHECK_INT(cb_array_shape(a)[i], ==, rows[r].shape[i]);
      CHECK_INT(cb_array_size(a), ==, rows[r].size);
      void *p = cb_array_data(a);
      CHECK(p != NULL);
      CHECK_INT((uintptr_t)p % 64, ==, 0);
      if (rows[r].size)
        memset(p, 0xab, (size_t)rows[r].size * cb_dtype_size((cb_dtype)t));
      cb_array_unref(a);
    }
  }
  /* Creating arrays does not start the runtime. */
  CHECK(!cb_is_running());
}

TEST(array_new_refuses_bad_shapes) {
  cb_array *sentinel = (cb_array *)&sentinel, *a = sentinel;
  int64_t shape[CB_MAX_NDIM + 1] = {2, 2, 2, 2, 2, 2, 2, 2, 2};
  CHECK_RC(cb_array_new(CB_FLOAT32, CB_MAX_NDIM + 1, shape, &a),
           CB_EINVAL);
  CHECK_HAS(cb_last_error(), "at most 8 dimensions (got 9)");
  CHECK_RC(cb_array_new(CB_FLOAT32, -1, shape, &a), CB_EINVAL);
  int64_t negative[2] = {4, -1};
  CHECK_RC(cb_array_new(CB_FLOAT32, 2, negative, &a), CB_EINVAL);
  CHECK_HAS(cb_last_error(), "negative dimension -1");
  CHECK_RC(cb_array_new((cb_dtype)99, 1, shape, &a), CB_ETYPE);
  CHECK_RC(cb_array_new(CB_NDTYPES, 1, shape, &a), CB_ETYPE);
  int64_t huge[2] = {(int64_t)1 << 40, (int64_t)1 << 40};
  CHECK_RC(cb_array_new(CB_INT64, 2, huge, &a), CB_ENOMEM);
  CHECK_HAS(cb_last_error(), "too large");
  CHECK(a == sentinel, "a failed call wrote *out");
}

static int released;
static void *released_arg;

static void count_release(void *arg) {
  released_arg = arg;
  __atomic_add_fetch(&released, 1, __ATOMIC_ACQ_REL);
}

TEST(array_wrap_is_zero_copy) {
  float buf[6] = {1, 2, 3, 4, 5, 6};
  int64_t shape[2] = {2, 3};
  cb_array *a;
  ASSERT_OK(cb_array_wrap(CB_FLOAT32, 2, shape, buf, count_release, buf, &a));
  CHECK(cb_array_data(a) == buf);
  CHECK_INT(cb_array_size(a), ==, 6);
  CHECK_INT(cb_array_ndim(a), ==, 2);
  CHECK_INT(cb_array_shape(a)[1], ==, 3);
  CHECK_INT(cb_array_dtype(a), ==, CB_FLOAT32);
  /* The caller's values are the array's. */
  ASSERT_OK(test_start(1, "none"));
  cb_operand x[2] = {test_arg(a, -1), test_weak_float(10)};
  cb_array *b;
  int dev;
  ASSERT_OK(cb_ewise(CB_OP_multiply, x, 2, -1, -1, &b, &dev));
  CHECK_OK(test_sync(b));
  for (int i = 0; i < 6; i++)
    CHECK_DBL(test_get(b, i), ==, 10.0 * (i + 1));
  cb_array_unref(b);
  cb_array_unref(a);
  CHECK_OK(cb_wait_all());
  CHECK(test_wait_flag(&released, 5000));
  CHECK(released_arg == buf);
}

TEST(array_copy_in_fills_a_new_array) {
  ASSERT_OK(test_start(2, "none"));
  /* 12 MiB, shared by the stager threads; and 10 elements, copied at
   * once. */
  int64_t sizes[2] = {3 << 20, 10};
  for (int s = 0; s < 2; s++) {
    int64_t n = sizes[s];
    float *src = malloc((size_t)n * sizeof *src);
    ASSERT(src != NULL);
    for (int64_t i = 0; i < n; i++)
      src[i] = (float)(i % 1000);
    cb_array *a = NULL;
    CHECK_OK(cb_array_new(CB_FLOAT32, 1, &n, &a));
    CHECK_OK(a ? cb_array_copy_in(a, src) : CB_EINVAL);
    int bad = 0;
    for (int64_t i = 0; a && i < n; i++)
      bad += ((float *)cb_array_data(a))[i] != src[i];
    CHECK_INT(bad, ==, 0);
    /* Once used, the array takes no copy in. */
    cb_operand x[2] = {test_arg(a, -1), test_weak_float(1)};
    cb_array *b = NULL;
    int dev;
    CHECK_OK(cb_ewise(CB_OP_add, x, 2, -1, -1, &b, &dev));
    CHECK_INT(cb_array_copy_in(a, src), ==, CB_ESTATE);
    CHECK_OK(b ? test_sync(b) : CB_EINVAL);
    CHECK_DBL(b ? test_get(b, n - 1) : 0, ==, (double)((n - 1) % 1000) + 1);
    cb_array_unref(b);
    cb_array_unref(a);
    free(src);
  }
  /* Nor does an array over the caller's memory. */
  float buf[4] = {0};
  int64_t four = 4;
  cb_array *w;
  ASSERT_OK(cb_array_wrap(CB_FLOAT32, 1, &four, buf, count_release, buf, &w));
  CHECK_INT(cb_array_copy_in(w, buf), ==, CB_ESTATE);
  cb_array_unref(w);
}

static int write_squares(void *arg, void **ptrs, cb_task_ctx *ctx) {
  (void)arg, (void)ctx;
  double *out = ptrs[0];
  for (int i = 0; i < 100; i++)
    out[i] = (double)i * i;
  return 0;
}

TEST(array_wrap_receives_task_output) {
  double *buf = calloc(100, sizeof *buf);
  ASSERT(buf != NULL);
  int64_t n = 100;
  cb_array *a;
  ASSERT_OK(cb_array_wrap(CB_FLOAT64, 1, &n, buf, free, buf, &a));
  ASSERT_OK(test_start(1, "none"));
  const cb_array *arrays[1] = {a};
  cb_access access[1] = {CB_OUT};
  cb_event *e;
  ASSERT_OK(cb_task_submit(write_squares, NULL, NULL, arrays, access, 1,
                           NULL, &e, NULL));
  CHECK_OK(cb_event_wait(e, -1));
  cb_event_unref(e);
  CHECK_OK(test_sync(a));
  /* The task wrote the caller's memory itself. */
  CHECK_DBL(buf[0], ==, 0);
  CHECK_DBL(buf[99], ==, 99.0 * 99.0);
  cb_array_unref(a);
}

TEST(array_wrap_release_on_last_unref) {
  int data[4] = {0};
  int64_t n = 4;
  cb_array *a;
  ASSERT_OK(cb_array_wrap(CB_INT32, 1, &n, data, count_release, &n, &a));
  cb_array_ref(a);
  cb_array_unref(a);
  CHECK_INT(released, ==, 0);
  cb_array_unref(a);
  CHECK_INT(released, ==, 1);
  CHECK(released_arg == &n);
  /* Dropping nothing is allowed. */
  cb_array_unref(NULL);
}

static volatile int go;

static int wait_for_go(void *arg, void **ptrs, cb_task_ctx *ctx) {
  (void)arg, (void)ptrs, (void)ctx;
  test_wait_flag(&go, 10000);
  return 0;
}

TEST(array_wrap_release_waits_for_tasks) {
  ASSERT_OK(test_start(1, "none"));
  float data[8] = {0};
  int64_t n = 8;
  cb_array *a;
  ASSERT_OK(cb_array_wrap(CB_FLOAT32, 1, &n, data, count_release, data, &a));
  const cb_array *arrays[1] = {a};
  cb_access access[1] = {CB_IN};
  cb_event *e;
  ASSERT_OK(cb_task_submit(wait_for_go, NULL, NULL, arrays, access, 1, NULL,
                           &e, NULL));
  /* The task still uses the buffer: dropping the array does not release
   * it, and does not block. */
  cb_array_unref(a);
  CHECK_INT(released, ==, 0);
  go = 1;
  CHECK_OK(cb_event_wait(e, -1));
  cb_event_unref(e);
  CHECK(test_wait_flag(&released, 5000), "never released");
  CHECK_INT(released, ==, 1);
}

TEST(array_wrap_refuses_bad_arguments) {
  int data[4];
  int64_t n = 4, negative = -4;
  cb_array *sentinel = (cb_array *)&sentinel, *a = sentinel;
  CHECK_RC(cb_array_wrap(CB_INT32, 1, &n, data, NULL, NULL, &a), CB_EINVAL);
  CHECK_HAS(cb_last_error(), "release function");
  CHECK_RC(cb_array_wrap(CB_INT32, 1, &negative, data, count_release, NULL,
                         &a),
           CB_EINVAL);
  int64_t three[3] = {2, -1, 2};
  CHECK_RC(cb_array_wrap(CB_INT32, 3, three, data, count_release, NULL, &a),
           CB_EINVAL);
  CHECK_RC(cb_array_wrap((cb_dtype)-1, 1, &n, data, count_release, NULL, &a),
           CB_ETYPE);
  CHECK(a == sentinel);
  CHECK_INT(released, ==, 0);
}

TEST(array_sync_host_of_unused_array) {
  int64_t n = 16;
  cb_array *a = test_ramp(CB_INT64, 1, &n, 5, 1);
  ASSERT(a != NULL);
  cb_event *e;
  ASSERT_OK(cb_array_sync_host_start(a, &e));
  /* Nothing to wait for, and no runtime started for it. */
  CHECK(cb_event_done(e));
  CHECK_OK(cb_event_wait(e, 0));
  CHECK(!cb_is_running());
  cb_event_unref(e);
  CHECK_DBL(test_get(a, 15), ==, 20);
  cb_array_unref(a);
}

TEST(array_sync_host_after_tasks) {
  ASSERT_OK(test_start(2, "none"));
  int64_t shape[2] = {600, 500};
  cb_array *a;
  ASSERT_OK(cb_arange(CB_FLOAT64, 300000, (cb_scalar){.f = 0},
                      (cb_scalar){.f = 0.5}, -1, &a));
  cb_event *e;
  ASSERT_OK(cb_array_sync_host_start(a, &e));
  CHECK_OK(cb_event_wait(e, -1));
  CHECK(cb_event_done(e));
  cb_event_unref(e);
  for (int64_t i = 0; i < 300000; i += 7919)
    CHECK_DBL(test_get(a, i), ==, 0.5 * (double)i);
  cb_array_unref(a);
  /* A 2-D array too. */
  ASSERT_OK(cb_full(CB_INT32, 2, shape, (cb_scalar){.i = -3}, -1, &a));
  CHECK_OK(test_sync(a));
  CHECK_DBL(test_get(a, 600 * 500 - 1), ==, -3);
  cb_array_unref(a);
}

TEST(array_prefetch_checks_device) {
  ASSERT_OK(test_start(1, "none"));
  int64_t n = 1000;
  cb_array *a = test_ramp(CB_FLOAT32, 1, &n, 0, 1);
  ASSERT(a != NULL);
  CHECK_OK(cb_array_prefetch(a, 0));
  CHECK_RC(cb_array_prefetch(a, 1), CB_ENODEV);
  CHECK_STR(cb_last_error(), "no device 1");
  CHECK_RC(cb_array_prefetch(a, -1), CB_ENODEV);
  CHECK_OK(test_sync(a));
  CHECK_DBL(test_get(a, 999), ==, 999);
  cb_array_unref(a);
}

TEST(array_prefetch_moves_data) {
  int dev = test_need_opencl();
  ASSERT(dev >= 0);
  int64_t n = 100000;
  cb_array *a = test_ramp(CB_FLOAT32, 1, &n, 0, 1);
  ASSERT(a != NULL);
  ASSERT_OK(cb_profiling_set(1));
  ASSERT_OK(cb_stats_reset());
  ASSERT_OK(cb_array_prefetch(a, dev));
  CHECK_OK(cb_wait_idle(-1));
  cb_link_stats links[16];
  int nw, nl, nop;
  ASSERT_OK(cb_stats_get(NULL, 0, &nw, links, 16, &nl, NULL, 0, &nop));
  int64_t moved = 0;
  for (int i = 0; i < nl && i < 16; i++)
    if (links[i].src_device == -1 && links[i].dst_device == dev)
      moved += links[i].bytes;
  CHECK_INT(moved, >=, n * 4);
  /* The host copy is still valid. */
  CHECK_OK(test_sync(a));
  CHECK_DBL(test_get(a, n - 1), ==, (double)(n - 1));
  cb_array_unref(a);
}

TEST(array_writer) {
  ASSERT_OK(test_start(1, "none"));
  int64_t n = 64;
  cb_array *a = test_ramp(CB_INT32, 1, &n, 0, 1);
  ASSERT(a != NULL);
  CHECK(cb_array_writer(a) == NULL, "a new array has no writer");
  cb_operand x = test_arg(a, -1);
  cb_array *b;
  int dev;
  ASSERT_OK(cb_ewise(CB_OP_negative, &x, 1, -1, -1, &b, &dev));
  cb_event *w1 = cb_array_writer(b), *w2 = cb_array_writer(b);
  ASSERT(w1 != NULL);
  CHECK(w1 == w2, "one writer, two references");
  CHECK_OK(cb_event_wait(w1, -1));
  CHECK(cb_event_done(w2));
  cb_event_unref(w1);
  cb_event_unref(w2);
  /* The input is only read: still no writer. */
  CHECK(cb_array_writer(a) == NULL);
  cb_failure f;
  CHECK_INT(cb_array_failure(b, &f), ==, 0);
  CHECK_OK(test_sync(b));
  CHECK_DBL(test_get(b, 63), ==, -63);
  cb_array_unref(a);
  cb_array_unref(b);
}
