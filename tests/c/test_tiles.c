/* Tiles: per-array tile sizes, results that take their operands' tiles,
 * operands tiled otherwise copied first (on CPU workers and on OpenCL
 * devices), and host buffers made for a device (pinned memory). */
#include <pthread.h>
#include <stdlib.h>

#include "test.h"

#define N 1000003

TEST(tile_size_is_asked_before_use) {
  int64_t n = N;
  cb_array *a;
  ASSERT_OK(cb_array_new(CB_FLOAT64, 1, &n, &a));
  CHECK_INT(cb_array_tile_size(a), ==, 0);
  CHECK_RC(cb_array_set_tile_size(a, -1), CB_EINVAL);
  CHECK_HAS(cb_last_error(), "negative");
  CHECK_OK(cb_array_set_tile_size(a, 100000));
  CHECK_INT(cb_array_tile_size(a), ==, 100000);
  ASSERT_OK(test_start(2, "none"));
  ASSERT_OK(cb_array_prefetch(a, 0));
  CHECK_INT(cb_array_tile_size(a), ==, 100000);
  CHECK_RC(cb_array_set_tile_size(a, 5), CB_ESTATE);
  CHECK_HAS(cb_last_error(), "in use");
  CHECK_INT(cb_array_tile_size(a), ==, 100000);
  cb_array_unref(a);
  /* Rows stay whole: a tile of a 2-D array holds whole rows. */
  int64_t shape[2] = {1000, 300};
  cb_array *m;
  ASSERT_OK(cb_array_new(CB_FLOAT32, 2, shape, &m));
  CHECK_OK(cb_array_set_tile_size(m, 1000));
  ASSERT_OK(cb_array_prefetch(m, 0));
  CHECK_INT(cb_array_tile_size(m), ==, 900);
  cb_array_unref(m);
  CHECK_OK(cb_shutdown());
}

/* Without a tile size, an array of the CPU workers takes two tiles for
 * each of them (here three, beside the OpenCL devices there are, whose
 * workers do not count), in whole rows rounded up, so that no short
 * tile is left over. */
TEST(default_tiles_are_two_per_cpu_worker) {
  ASSERT_OK(test_start(3, NULL));
  cb_device_info info;
  ASSERT_OK(cb_device_get(0, &info));
  CHECK_INT(info.backend, ==, CB_BACKEND_CPU);
  int64_t shape[2] = {16384, 512}, n = N;
  cb_array *m, *v;
  ASSERT_OK(cb_array_new(CB_FLOAT32, 2, shape, &m));
  ASSERT_OK(cb_array_prefetch(m, 0));
  /* 16384 rows in six: 2731 a tile, the last 2729. */
  CHECK_INT(cb_array_tile_size(m), ==, 2731 * 512);
  cb_array_unref(m);
  ASSERT_OK(cb_array_new(CB_FLOAT64, 1, &n, &v));
  ASSERT_OK(cb_array_prefetch(v, 0));
  CHECK_INT(cb_array_tile_size(v), ==, (N + 5) / 6);
  cb_array_unref(v);
  CHECK_OK(cb_shutdown());
}

/* The thread's tile size reaches the arrays it makes, results of fills
 * included, and nothing else; it is per thread. */
static void *other_thread_tile(void *arg) {
  int64_t n = N;
  cb_array *a;
  if (cb_array_new(CB_FLOAT64, 1, &n, &a) == 0) {
    *(int64_t *)arg = cb_array_tile_size(a);
    cb_array_unref(a);
  }
  return NULL;
}

TEST(thread_tile_size_reaches_new_arrays) {
  int64_t previous = -1, n = N;
  CHECK_RC(cb_set_thread_tile_size(-1, NULL), CB_EINVAL);
  CHECK_HAS(cb_last_error(), "negative");
  CHECK_OK(cb_set_thread_tile_size(4096, &previous));
  CHECK_INT(previous, ==, 0);
  cb_array *a, *f;
  ASSERT_OK(cb_array_new(CB_FLOAT64, 1, &n, &a));
  CHECK_INT(cb_array_tile_size(a), ==, 4096);
  ASSERT_OK(test_start(2, "none"));
  cb_scalar one = {.f = 1};
  ASSERT_OK(cb_full(CB_FLOAT64, 1, &n, one, 0, &f));
  CHECK_INT(cb_array_tile_size(f), ==, 4096);
  int64_t seen = -1;
  pthread_t t;
  ASSERT(pthread_create(&t, NULL, other_thread_tile, &seen) == 0);
  pthread_join(t, NULL);
  CHECK_INT(seen, ==, 0);
  CHECK_OK(cb_set_thread_tile_size(0, &previous));
  CHECK_INT(previous, ==, 4096);
  cb_array *b;
  ASSERT_OK(cb_array_new(CB_FLOAT64, 1, &n, &b));
  CHECK_INT(cb_array_tile_size(b), ==, 0);
  CHECK_OK(test_sync(f));
  CHECK_DBL(test_get(f, N - 1), ==, 1);
  cb_array_unref(a);
  cb_array_unref(b);
  cb_array_unref(f);
  CHECK_OK(cb_shutdown());
}

/* a + b and dot(b, a) with a and b tiled differently, on device. */
static void mixed_tiles(int device) {
  int64_t n = N;
  cb_array *a = test_ramp(CB_FLOAT64, 1, &n, 0, 1);
  cb_array *b = test_ramp(CB_FLOAT64, 1, &n, 0, 2);
  ASSERT(a && b);
  CHECK_OK(cb_array_set_tile_size(a, 100000));
  CHECK_OK(cb_array_set_tile_size(b, 300007));
  cb_operand x[2] = {test_arg(a, device), test_arg(b, device)};
  cb_array *c = NULL, *d = NULL;
  int dev;
  CHECK_OK(cb_ewise(CB_OP_add, x, 2, -1, -1, &c, &dev));
  if (c) {
    CHECK_INT(cb_array_tile_size(c), ==, 100000);
    CHECK_INT(cb_array_tile_size(b), ==, 300007);
    ASSERT_OK(test_sync(c));
    int64_t wrong = 0;
    for (int64_t i = 0; i < n; i++)
      wrong += test_get(c, i) != 3.0 * (double)i;
    CHECK_INT(wrong, ==, 0);
  }
  cb_operand y[2] = {test_arg(b, device), test_arg(a, device)};
  CHECK_OK(cb_dot(&y[0], &y[1], -1, &d, &dev));
  if (d) {
    ASSERT_OK(test_sync(d));
    double want = 0;
    for (int64_t i = 0; i < n; i++)
      want += 2.0 * (double)i * (double)i;
    double got = test_get(d, 0);
    CHECK(got > want * (1 - 1e-9) && got < want * (1 + 1e-9),
          "dot %.17g, want %.17g", got, want);
  }
  cb_array_unref(a);
  cb_array_unref(b);
  cb_array_unref(c);
  cb_array_unref(d);
}

TEST(tiles_follow_the_first_operand) {
  ASSERT_OK(test_start(2, "none"));
  mixed_tiles(-1);
  CHECK_OK(cb_shutdown());
}

TEST(tiles_copied_on_opencl) {
  int device = test_need_opencl();
  mixed_tiles(device);
  CHECK_OK(cb_shutdown());
}

TEST(array_new_on_pins_for_devices) {
  /* pocl gains nothing from pinned memory; "all" pins for it too, so
   * that the path is tested where there is no GPU. */
  setenv("CAMBRIAN_PINNED", "all", 1);
  int64_t n = 1 << 16;
  cb_array *a;
  CHECK_OK(cb_array_new_on(CB_FLOAT32, 1, &n, -1, &a));
  CHECK(!cb_is_running(), "no device: no runtime started");
  cb_array_unref(a);
  int device = test_need_opencl();
  CHECK_RC(cb_array_new_on(CB_FLOAT32, 1, &n, 99, &a), CB_ENODEV);
  ASSERT_OK(cb_array_new_on(CB_FLOAT32, 1, &n, device, &a));
  cb_runtime_info info;
  ASSERT_OK(cb_runtime_info_get(&info));
  CHECK_INT(info.pinned_bytes, >=, n * 4);
  CHECK_INT(info.pinned_max_bytes, >, 0);
  for (int64_t i = 0; i < n; i++)
    test_set(a, i, (double)i);
  cb_operand x[2] = {test_arg(a, device), test_weak_float(1.0)};
  cb_array *b = NULL;
  int dev;
  CHECK_OK(cb_ewise(CB_OP_add, x, 2, -1, -1, &b, &dev));
  ASSERT(b != NULL);
  ASSERT_OK(test_sync(b));
  CHECK_OK(cb_shutdown());
  /* Pinned host memory outlives the runtime that pinned it. */
  int64_t wrong = 0;
  for (int64_t i = 0; i < n; i++)
    wrong += test_get(b, i) != (double)i + 1 || test_get(a, i) != (double)i;
  CHECK_INT(wrong, ==, 0);
  cb_array_unref(a);
  cb_array_unref(b);
  /* Freed pinned buffers are kept, within a quarter of the bound, and
   * an array of their size takes one instead of pinning anew. */
  device = test_need_opencl();
  ASSERT_OK(cb_runtime_info_get(&info));
  uint64_t kept = info.pinned_bytes;
  CHECK_INT(kept, >=, n * 4);
  CHECK_INT(kept, <=, info.pinned_max_bytes / 4);
  ASSERT_OK(cb_array_new_on(CB_FLOAT32, 1, &n, device, &a));
  ASSERT_OK(cb_runtime_info_get(&info));
  CHECK_INT(info.pinned_bytes, ==, kept);
  cb_array_unref(a);
  CHECK_OK(cb_shutdown());
}

/* a + 1 on the CPU workers (cpu), waited for and dropped: returns the
 * host buffer the dead result leaves to the pool, and its last element
 * in *last when last is set. */
static void *dead_result(cb_array *a, int cpu, double *last) {
  cb_operand x[2] = {test_arg(a, cpu), test_weak_float(1.0)};
  cb_array *b = NULL;
  int dev;
  CHECK_OK(cb_ewise(CB_OP_add, x, 2, -1, -1, &b, &dev));
  if (!b || test_sync(b)) {
    CHECK(0, "a + 1: %s", cb_last_error());
    cb_array_unref(b);
    return NULL;
  }
  if (last)
    *last = test_get(b, cb_array_size(b) - 1);
  void *data = cb_array_data(b);
  /* A task's end may hold the last reference a moment longer. */
  cb_array_unref(b);
  CHECK_OK(cb_wait_all());
  return data;
}

TEST(array_new_result_reuses_dead_results) {
  ASSERT_OK(test_start(2, "none"));
  int cpu = cb_device_set("cpu");
  ASSERT(cpu >= 0);
  int64_t n = 1 << 18;
  cb_array *a, *b, *c;
  /* Nothing kept yet: a new array, as cb_array_new_on gives. */
  ASSERT_OK(cb_array_new_result(CB_FLOAT32, 1, &n, cpu, &a));
  for (int64_t i = 0; i < n; i++)
    test_set(a, i, (double)i);
  double last = 0;
  void *dead = dead_result(a, cpu, &last);
  ASSERT(dead != NULL);
  CHECK_INT(last, ==, (double)n);
  /* The dead result's buffer comes back, in use already; another size
   * or no device gets a new one, which takes a copy in. */
  ASSERT_OK(cb_array_new_result(CB_FLOAT32, 1, &n, cpu, &b));
  CHECK(cb_array_data(b) == dead, "the dead result's buffer is reused");
  CHECK_RC(cb_array_copy_in(b, cb_array_data(a)), CB_ESTATE);
  int64_t m = n + 1;
  float *zeros = calloc((size_t)m, sizeof *zeros);
  ASSERT(zeros != NULL);
  ASSERT_OK(cb_array_new_result(CB_FLOAT32, 1, &m, cpu, &c));
  CHECK_OK(cb_array_copy_in(c, zeros));
  cb_array_unref(c);
  free(zeros);
  ASSERT_OK(cb_array_new_result(CB_FLOAT32, 1, &n, -1, &c));
  CHECK(cb_array_data(c) != dead, "no device: a new array");
  cb_array_unref(c);
  CHECK_RC(cb_array_new_result(CB_FLOAT32, 1, &n, 99, &c), CB_ENODEV);
  int64_t bad = -1;
  CHECK_RC(cb_array_new_result(CB_FLOAT32, 1, &bad, cpu, &c), CB_EINVAL);
  cb_array_unref(a);
  cb_array_unref(b);
  CHECK_OK(cb_shutdown());
}

TEST(array_new_result_keeps_pinning_for_devices) {
  /* "all" pins for pocl too, so that the path is tested without a GPU. */
  setenv("CAMBRIAN_PINNED", "all", 1);
  int device = test_need_opencl();
  int cpu = cb_device_set("cpu");
  ASSERT(cpu >= 0);
  int64_t n = 1 << 16;
  cb_array *a, *c;
  /* A result of the CPU workers: a pageable buffer, kept for reuse. */
  ASSERT_OK(cb_array_new_on(CB_FLOAT32, 1, &n, cpu, &a));
  for (int64_t i = 0; i < n; i++)
    test_set(a, i, (double)i);
  void *dead = dead_result(a, cpu, NULL);
  ASSERT(dead != NULL);
  /* The device wants pinned memory: a new, pinned array, not that one. */
  cb_runtime_info info;
  ASSERT_OK(cb_runtime_info_get(&info));
  uint64_t pinned = info.pinned_bytes;
  ASSERT_OK(cb_array_new_result(CB_FLOAT32, 1, &n, device, &c));
  CHECK(cb_array_data(c) != dead, "a pageable buffer is not handed over");
  ASSERT_OK(cb_runtime_info_get(&info));
  CHECK_INT(info.pinned_bytes, >=, pinned + (uint64_t)n * 4);
  cb_array_unref(c);
  /* The CPU workers take it. */
  ASSERT_OK(cb_array_new_result(CB_FLOAT32, 1, &n, cpu, &c));
  CHECK(cb_array_data(c) == dead, "the CPU workers reuse it");
  cb_array_unref(c);
  cb_array_unref(a);
  CHECK_OK(cb_shutdown());
}

TEST(array_pool_makes_room_for_new_sizes) {
  ASSERT_OK(test_start(1, "none"));
  int cpu = cb_device_set("cpu");
  ASSERT(cpu >= 0);
  /* Results of 40 sizes die in turn: the pool keeps 32 sizes, so the
   * later ones take the bins of the earliest. */
  enum { SIZES = 40 };
  for (int k = 0; k < SIZES; k++) {
    int64_t n = 1000 + k;
    cb_array *a;
    ASSERT_OK(cb_array_new_on(CB_FLOAT32, 1, &n, cpu, &a));
    for (int64_t i = 0; i < n; i++)
      test_set(a, i, 1.0);
    ASSERT(dead_result(a, cpu, NULL) != NULL);
    cb_array_unref(a);
  }
  /* A kept result is in use already and refuses a copy in; a new array
   * takes one. */
  float src[1100] = {0};
  int kept = 0, fresh = 0;
  for (int k = 0; k < SIZES; k++) {
    int64_t n = 1000 + k;
    cb_array *c;
    ASSERT_OK(cb_array_new_result(CB_FLOAT32, 1, &n, cpu, &c));
    int rc = cb_array_copy_in(c, src);
    kept += rc == CB_ESTATE;
    fresh += rc == 0;
    if (k == SIZES - 1)
      CHECK(rc == CB_ESTATE, "the last size is kept");
    cb_array_unref(c);
  }
  CHECK_INT(kept, >=, 32);
  CHECK_INT(kept + fresh, ==, SIZES);
  CHECK_OK(cb_shutdown());
}
