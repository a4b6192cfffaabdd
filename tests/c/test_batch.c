/* Batches (scheduler/batch.c), seen from inside: blocks of task contexts
 * are freed, or kept, exactly once, also when every task of a full block
 * ends before the batch moves on; shutdown frees the kept blocks; a graph
 * run through batches computes what it should. */
#include <stdlib.h>

#include "test.h"
#include "batch.h"
#include "runtime.h"

/* Takes n contexts from b and releases them as never submitted. */
static void take_and_release(cb__batch *b, int n) {
  for (int i = 0; i < n; i++) {
    cb__task *t;
    struct starpu_task *task;
    int rc = cb__batch_task(b, &t, &task);
    CHECK(rc == 0, "batch task %d: %s", i, cb_last_error());
    if (rc)
      return;
    starpu_task_clean(task);
    cb__batch_release(t);
  }
}

TEST(batch_blocks_end_once) {
  ASSERT_OK(test_start(1, "none"));
  ASSERT_OK(cb__enter());
  cb__batch b;
  cb__batch_init(&b);
  int before = cb__batch_spares();
  /* A whole block ends while the batch still fills it, then the batch
   * moves on to a second block and ends. */
  take_and_release(&b, 128 + 1);
  cb__batch_end(&b);
  cb__batch_reap(0);
  int after = cb__batch_spares();
  /* The first block was kept, then taken again as the second, then kept
   * again: one more than before (two if it had been kept twice). */
  CHECK(after == before + 1,
        "each block kept once: %d spare blocks before, %d after", before,
        after);
  /* Taking them again gives distinct blocks. */
  cb__batch_init(&b);
  cb__task *t1, *t2;
  struct starpu_task *k1, *k2;
  CHECK_OK(cb__batch_task(&b, &t1, &k1));
  for (int i = 1; i < 128; i++) {
    CHECK_OK(cb__batch_task(&b, &t2, &k2));
    starpu_task_clean(k2);
    cb__batch_release(t2);
  }
  CHECK_OK(cb__batch_task(&b, &t2, &k2));
  CHECK(t2->slab != t1->slab, "two distinct blocks");
  starpu_task_clean(k1);
  cb__batch_release(t1);
  starpu_task_clean(k2);
  cb__batch_release(t2);
  cb__batch_end(&b);
  cb__batch_reap(0);
  cb__leave();
}

TEST(batch_shutdown_frees_blocks) {
  ASSERT_OK(test_start(1, "none"));
  ASSERT_OK(cb__enter());
  cb__batch b;
  cb__batch_init(&b);
  take_and_release(&b, 128 + 1);
  cb__batch_end(&b);
  cb__batch_reap(0);
  cb__leave();
  CHECK_INT(cb__batch_spares(), >=, 1);
  CHECK_OK(cb_shutdown());
  CHECK_INT(cb__batch_spares(), ==, 0);
}

/* x -> (x * 2 + 1) repeated: a chain written in place, in blocks. */
TEST(batch_graph_chain) {
  enum { N = 4096, NODES = 3000 };
  ASSERT_OK(test_start(1, "none"));
  cb_graph *g;
  ASSERT_OK(cb_graph_new(&g));
  int64_t shape[1] = {N};
  int v = cb_graph_input(g, CB_FLOAT32, 1, shape);
  for (int i = 0; i < NODES; i++) {
    cb_graph_operand x[2] = {{.value = v},
                             {.value = -1,
                              .scalar = {.dtype = CB_FLOAT64, .weak = 1,
                                         .value = {.f = i % 2 ? 1.0 : 0.5}}}};
    v = cb_graph_ewise(g, i % 2 ? CB_OP_add : CB_OP_multiply, x, 2, -1);
    CHECK(v >= 0, "record %d: %s", i, cb_last_error());
  }
  CHECK_OK(cb_graph_mark_output(g, v));
  cb_array *in, *out = NULL;
  ASSERT_OK(cb_full(CB_FLOAT32, 1, shape, (cb_scalar){.f = 2.0}, -1, &in));
  for (int run = 0; run < 3; run++) {
    int dev;
    ASSERT_OK(cb_graph_run(g, &in, NULL, 1, -1, &out, &dev, 1));
    /* x * 0.5 + 1 from 2 stays 2. */
    CHECK_OK(test_sync(out));
    const float *p = cb_array_data(out);
    int bad = 0;
    for (int i = 0; i < N; i++)
      bad += p[i] != 2.0f;
    CHECK(bad == 0, "run %d: %d wrong elements (first %g)", run, bad,
          (double)p[0]);
    cb_array_unref(out);
  }
  cb_array_unref(in);
  cb_graph_free(g);
}
