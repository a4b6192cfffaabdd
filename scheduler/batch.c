/*
 * Batches: blocks of task contexts and StarPU tasks for submitting many
 * element-wise operations in a row (a graph's run). A task of a batch
 * lives in a block instead of two allocations of its own, and is not
 * detached, so that StarPU does not free it: the block is freed whole,
 * once every task in it has ended, by a thread that submits, waits for
 * idleness or shuts down. Workers thus neither free what the submitting
 * thread allocated nor contend with it for the allocator's lock, task
 * after task.
 *
 * A block's count, left, is the contexts not yet released, plus the ones
 * never handed out, plus one while a batch fills it; whoever brings it to
 * zero puts the block on the list of ended blocks. That list is a stack
 * pushed by callbacks and taken whole by reapers, so it needs no lock.
 * Reaped blocks are kept for the next batches, up to SPARE_SLABS: freeing
 * and allocating them again would give the memory back to the system and
 * fault it in again, run after run.
 *
 * Locking: spare_lock guards spare and nspare.
 */
#include <stdlib.h>

#include "batch.h"
#include "hooks.h"
#include "errors.h"
#include "ewise_codelets.h"

enum { SLAB_TASKS = 128, SPARE_SLABS = 32 };

typedef struct cb__slab {
  atomic_int left;
  int used;
  struct cb__slab *next;      /* on the list of ended blocks */
  cb__task ctx[SLAB_TASKS];
  struct starpu_task task[SLAB_TASKS];
} cb__slab;

static _Atomic(cb__slab *) ended;
static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static cb__slab *spare;
static int nspare;

static void keep_or_free(cb__slab *s) {
  pthread_mutex_lock(&spare_lock);
  int kept = nspare < SPARE_SLABS;
  if (kept) {
    s->next = spare;
    spare = s;
    nspare++;
  }
  pthread_mutex_unlock(&spare_lock);
  if (!kept)
    free(s);
}

static cb__slab *take_spare(void) {
  pthread_mutex_lock(&spare_lock);
  cb__slab *s = spare;
  if (s) {
    spare = s->next;
    nspare--;
  }
  pthread_mutex_unlock(&spare_lock);
  return s ? s : malloc(sizeof *s);
}

static void push_ended(cb__slab *s) {
  s->next = atomic_load(&ended);
  while (!atomic_compare_exchange_weak(&ended, &s->next, s))
    ;
}

static void release(cb__slab *s, int n) {
  if (atomic_fetch_sub_explicit(&s->left, n, memory_order_acq_rel) == n)
    push_ended(s);
}

/* Whether StarPU is done with every task of s (their callbacks have
 * returned: StarPU may still be finishing them); waits for that when
 * wait. */
static int finished(cb__slab *s, int wait) {
  for (int i = 0; i < s->used; i++) {
    struct starpu_task *task = &s->task[i];
    if (!task->starpu_private) /* never submitted, or cleaned */
      continue;
    if (wait)
      (void)!starpu_task_wait(task); /* fails only on detached tasks */
    else if (!starpu_task_finished(task))
      return 0;
  }
  return 1;
}

void cb__batch_reap(int wait) {
  cb__slab *s = atomic_exchange(&ended, NULL);
  while (s) {
    cb__slab *next = s->next;
    if (finished(s, wait)) {
      for (int i = 0; i < s->used; i++)
        starpu_task_clean(&s->task[i]);
      keep_or_free(s);
    } else {
      push_ended(s);
    }
    s = next;
  }
}

/* At shutdown, with every task ended: frees every block (a hook). */
static void flush(void) {
  cb__batch_reap(1);
  pthread_mutex_lock(&spare_lock);
  cb__slab *s = spare;
  spare = NULL;
  nspare = 0;
  pthread_mutex_unlock(&spare_lock);
  while (s) {
    cb__slab *next = s->next;
    free(s);
    s = next;
  }
}

void cb__batch_init(cb__batch *b) {
  static atomic_int hooked;
  if (!atomic_load_explicit(&hooked, memory_order_acquire) &&
      cb__hook_add(CB__HOOK_DRAINED, flush) == 0)
    atomic_store_explicit(&hooked, 1, memory_order_release);
  b->slab = NULL;
  cb__batch_reap(0);
}

void cb__batch_end(cb__batch *b) {
  if (b->slab)
    release(b->slab, SLAB_TASKS - b->slab->used + 1);
  b->slab = NULL;
}

int cb__batch_task(cb__batch *b, cb__task **t, struct starpu_task **task) {
  if (b->slab && b->slab->used == SLAB_TASKS) {
    cb__batch_end(b);
    cb__batch_reap(0);
  }
  if (!b->slab) {
    cb__slab *s = take_spare();
    if (!s)
      return cb__fail(CB_ENOMEM, "out of host memory");
    atomic_init(&s->left, SLAB_TASKS + 1);
    s->used = 0;
    b->slab = s;
  }
  int i = b->slab->used++;
  *t = &b->slab->ctx[i];
  (*t)->slab = b->slab;
  *task = &b->slab->task[i];
  starpu_task_init(*task);
  (*task)->detach = 0;
  return 0;
}

void cb__batch_release(cb__task *t) { release(t->slab, 1); }

int cb__batch_spares(void) {
  pthread_mutex_lock(&spare_lock);
  int n = nspare;
  pthread_mutex_unlock(&spare_lock);
  return n;
}
