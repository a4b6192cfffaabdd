/*
 * A batch submits many element-wise operations in a row, as a graph's run
 * does (batch.c): task contexts and StarPU tasks come from shared blocks,
 * freed whole by submitting threads once their tasks have ended, and an
 * operation asked for no event gets none (nobody can wait on its result
 * alone; failures still travel through the arrays). The caller holds the
 * run lock from cb__batch_init to cb__batch_end and uses a batch from one
 * thread.
 */
#ifndef CAMBRIAN_SCHEDULER_BATCH_H
#define CAMBRIAN_SCHEDULER_BATCH_H

#include <starpu.h>

#include "ewise_codelets.h"

typedef struct cb__batch {
  struct cb__slab *slab;      /* the block being filled, or NULL */
} cb__batch;

void cb__batch_init(cb__batch *b);
void cb__batch_end(cb__batch *b);
/* The next context and StarPU task (initialised, not detached) of b. */
int cb__batch_task(cb__batch *b, cb__task **t, struct starpu_task **task);
/* A context of a batch is done with (in its callback, or never
 * submitted; a StarPU task never submitted must be cleaned first). */
void cb__batch_release(cb__task *t);
/* Frees the blocks whose tasks have all ended; with wait, waits for
 * StarPU to finish the ones whose callbacks have returned. Never from a
 * task or a callback. */
void cb__batch_reap(int wait);
/* The reaped blocks kept for later batches (for tests). */
int cb__batch_spares(void);

#endif
