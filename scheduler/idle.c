/*
 * Sleeping when idle. Debian's StarPU is built with non-blocking drivers:
 * its workers spin while they wait for tasks, which would keep every core
 * busy in a program that merely imported cambrian. So workers are paused
 * (starpu_pause: they block on a condition variable) once nothing has been
 * pending for CB__IDLE_MS, and resumed by the next submission.
 *
 * Everything that makes workers progress (tasks, acquisitions, transfers,
 * unregistration) is bracketed by cb__busy_begin() and cb__busy_end().
 *
 * Locking: lock orders starpu_pause and starpu_resume with the check of
 * the busy count; paused is guarded by it.
 */
#include "internal.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_long busy;      /* work pending in StarPU */
static atomic_ulong epoch;    /* bumped by every begin */
static int paused;
static unsigned long seen_epoch;

void cb__busy_begin(void) {
  atomic_fetch_add_explicit(&epoch, 1, memory_order_relaxed);
  if (atomic_fetch_add(&busy, 1) != 0)
    return;
  pthread_mutex_lock(&lock);
  int woke = paused;
  if (paused) {
    paused = 0;
    starpu_resume();
  }
  pthread_mutex_unlock(&lock);
  if (woke) /* so that it pauses them again once idle */
    cb__housekeeper_wake();
}

void cb__busy_end(void) { atomic_fetch_sub(&busy, 1); }

int cb__idle_tick(void) {
  pthread_mutex_lock(&lock);
  unsigned long e = atomic_load(&epoch);
  if (!paused && atomic_load(&busy) == 0 && e == seen_epoch) {
    starpu_pause();
    paused = 1;
  }
  seen_epoch = e;
  int p = paused;
  pthread_mutex_unlock(&lock);
  return p;
}

void cb__idle_reset(void) {
  pthread_mutex_lock(&lock);
  if (paused)
    starpu_resume();
  paused = 0;
  pthread_mutex_unlock(&lock);
}
