/* Distribution over ranks, as a process that no MPI launcher started
 * sees it (tests/python/test_distributed.py runs ranks under mpirun):
 * the settings are kept and checked, and distributed arrays behave as
 * ordinary ones. */
#include <stdlib.h>

#include "test.h"

#define N 1000

TEST(distribution_is_asked_before_use) {
  int64_t n = N;
  cb_array *a;
  ASSERT_OK(cb_array_new(CB_FLOAT64, 1, &n, &a));
  CHECK_INT(cb_array_distribution(a), ==, CB_DIST_NONE);
  CHECK_RC(cb_array_set_distribution(a, (cb_distribution)7), CB_EINVAL);
  CHECK_HAS(cb_last_error(), "unknown distribution");
  CHECK_OK(cb_array_set_distribution(a, CB_DIST_BLOCK));
  CHECK_INT(cb_array_distribution(a), ==, CB_DIST_BLOCK);
  ASSERT_OK(test_start(2, "none"));
  CHECK_INT(cb_rank(), ==, 0);
  CHECK_INT(cb_nranks(), ==, 1);
  CHECK_OK(cb_barrier());
  CHECK_OK(cb_check_ranks()); /* no rank to lose */
  cb_runtime_info info;
  ASSERT_OK(cb_runtime_info_get(&info));
  CHECK_INT(info.distributed, ==, 0);
  CHECK_INT(info.nranks, ==, 1);
  /* One rank owns every row. */
  int64_t first = -1, count = -1;
  int runs = -1;
  CHECK_OK(cb_array_local_rows(a, &first, &count, 1, &runs));
  CHECK_INT(runs, ==, 1);
  CHECK_INT(first, ==, 0);
  CHECK_INT(count, ==, N);
  CHECK_OK(cb_array_set_distribution(a, CB_DIST_CYCLIC));
  CHECK_INT(cb_array_distribution(a), ==, CB_DIST_CYCLIC);
  ASSERT_OK(cb_array_prefetch(a, 0)); /* in use from now on */
  CHECK_RC(cb_array_set_distribution(a, CB_DIST_NONE), CB_ESTATE);
  CHECK_HAS(cb_last_error(), "in use");
  cb_array_unref(a);
  CHECK_OK(cb_shutdown());
}

/* The thread's distribution reaches the arrays it makes, and results
 * take their operands'; this rank's rows are read without a gather. */
TEST(thread_distribution_reaches_new_arrays) {
  int64_t n = N;
  cb_distribution previous = CB_DIST_BLOCK;
  CHECK_RC(cb_set_thread_distribution((cb_distribution)-1, NULL), CB_EINVAL);
  CHECK_OK(cb_set_thread_distribution(CB_DIST_BLOCK, &previous));
  CHECK_INT(previous, ==, CB_DIST_NONE);
  ASSERT_OK(test_start(2, "none"));
  cb_scalar two = {.f = 2};
  cb_array *f, *g, *plain;
  ASSERT_OK(cb_full(CB_FLOAT64, 1, &n, two, 0, &f));
  CHECK_OK(cb_set_thread_distribution(CB_DIST_NONE, &previous));
  CHECK_INT(previous, ==, CB_DIST_BLOCK);
  CHECK_INT(cb_array_distribution(f), ==, CB_DIST_BLOCK);
  ASSERT_OK(cb_array_new(CB_FLOAT64, 1, &n, &plain));
  CHECK_INT(cb_array_distribution(plain), ==, CB_DIST_NONE);
  cb_operand x[2] = {{.array = f, .device = -1}, {.array = f, .device = -1}};
  int where;
  ASSERT_OK(cb_ewise(CB_OP_add, x, 2, -1, -1, &g, &where));
  CHECK_INT(cb_array_distribution(g), ==, CB_DIST_BLOCK);
  cb_event *e;
  ASSERT_OK(cb_array_sync_local_start(g, &e));
  CHECK_OK(cb_event_wait(e, -1));
  cb_event_unref(e);
  CHECK_DBL(((double *)cb_array_data(g))[N - 1], ==, 4);
  cb_array_unref(plain);
  cb_array_unref(f);
  cb_array_unref(g);
  CHECK_OK(cb_shutdown());
}
