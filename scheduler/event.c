/*
 * Events: a count of pending parts that threads can wait on. The last part
 * to finish wakes the waiters. Parts are signalled from StarPU callbacks,
 * so signalling never blocks on anything but the event's own mutex.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "distributed.h"
#include "errors.h"
#include "events.h"
#include "relax.h"
#include "runtime.h"
#include "failure.h"
#include "taskctx.h"

cb_event *cb__event_new(int pending) {
  cb_event *e = malloc(sizeof *e);
  if (!e)
    return NULL;
  static atomic_uint_fast64_t serials;
  atomic_init(&e->refcount, 1);
  e->serial = atomic_fetch_add_explicit(&serials, 1, memory_order_relaxed) + 1;
  atomic_init(&e->pending, pending);
  e->status = 0;
  e->failure = NULL;
  e->listeners = NULL;
  atomic_init(&e->state, CB__PENDING);
  e->done = pending == 0;
  pthread_mutex_init(&e->lock, NULL);
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&e->cond, &attr);
  pthread_condattr_destroy(&attr);
  return e;
}

void cb__event_ref(cb_event *e) { atomic_fetch_add(&e->refcount, 1); }
void cb_event_ref(cb_event *e) { cb__event_ref(e); }

void cb_event_unref(cb_event *e) {
  if (!e || atomic_fetch_sub(&e->refcount, 1) != 1)
    return;
  cb__failure_unref(e->failure);
  pthread_mutex_destroy(&e->lock);
  pthread_cond_destroy(&e->cond);
  free(e);
}

static void run_listeners(cb__listener *l) {
  while (l) {
    cb__listener *next = l->next;
    l->fn(l->arg);
    free(l);
    l = next;
  }
}

static void signal_part(cb_event *e, int status, cb__failure *f) {
  cb__listener *fire = NULL;
  pthread_mutex_lock(&e->lock);
  if (status && !e->status)
    e->status = status;
  if (f && !e->failure) {
    cb__failure_ref(f);
    e->failure = f;
  }
  if (atomic_fetch_sub(&e->pending, 1) == 1) {
    e->done = 1;
    fire = e->listeners;
    e->listeners = NULL;
    pthread_cond_broadcast(&e->cond);
  }
  pthread_mutex_unlock(&e->lock);
  run_listeners(fire);
}

void cb__event_signal(cb_event *e, int status) { signal_part(e, status, NULL); }

void cb__event_signal_failure(cb_event *e, cb__failure *f) {
  signal_part(e, f ? f->info.code : 0, f);
}

int cb_event_on_done(cb_event *e, void (*fn)(void *arg), void *arg) {
  /* In a child after fork(), work that was in flight can never end. */
  if (!cb_event_done(e) && cb__forked())
    return cb__refuse_forked();
  cb__listener *l = malloc(sizeof *l);
  if (!l)
    return cb__fail(CB_ENOMEM, "out of host memory");
  *l = (cb__listener){fn, arg, NULL};
  pthread_mutex_lock(&e->lock);
  int done = e->done;
  if (!done) {
    l->next = e->listeners;
    e->listeners = l;
  }
  pthread_mutex_unlock(&e->lock);
  if (done)
    run_listeners(l);
  return 0;
}

static void signal_listener(void *arg) {
  cb_event *e = arg;
  cb__event_signal(e, 0);
  cb_event_unref(e);
}

int cb__event_signal_after(cb_event *e, cb_event *before) {
  cb__event_ref(e);
  int rc = cb_event_on_done(before, signal_listener, e);
  if (rc)
    cb_event_unref(e);
  return rc;
}

int cb_event_failure(const cb_event *e, cb_failure *out) {
  cb_event *m = (cb_event *)e;
  pthread_mutex_lock(&m->lock);
  cb__failure *f = m->failure;
  if (f)
    cb__failure_ref(f);
  pthread_mutex_unlock(&m->lock);
  if (!f)
    return 0;
  cb__failure_export(f, out);
  cb__failure_unref(f);
  return out->info.code;
}

int cb_event_done(const cb_event *e) { return atomic_load(&e->pending) <= 0; }

/* Short operations end within microseconds: a waiter first polls for up
 * to CB__SPIN_US before it sleeps, which saves a sleep and a wake-up.
 * On a busy machine the worker that runs the operation may be waiting
 * for the core of the thread that polls: so the poll yields the core
 * once at its start (the operation needs a moment anyway), and again
 * now and then after CB__YIELD_AFTER_US. */
#define CB__SPIN_US 20L
#define CB__YIELD_AFTER_US 4L

int cb_event_poll(const cb_event *e, long us) {
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (unsigned i = 0;; i++) {
    if (atomic_load(&e->pending) <= 0)
      return 1;
    if (i == 0)
      sched_yield();
    cb__cpu_relax();
    if ((i & 63) == 63) {
      clock_gettime(CLOCK_MONOTONIC, &now);
      long spent = (now.tv_sec - start.tv_sec) * 1000000L +
                   (now.tv_nsec - start.tv_nsec) / 1000;
      if (spent >= us)
        return 0;
      if (spent >= CB__YIELD_AFTER_US)
        sched_yield();
    }
  }
}

int cb_event_wait(cb_event *e, int timeout_ms) {
  if (timeout_ms != 0 && !cb_event_done(e) &&
      cb__refuse_in_task("an operation's result"))
    return CB_EINTASK;
  /* In a child after fork(), work that was in flight can never end. */
  if (!cb_event_done(e) && cb__forked())
    return cb__refuse_forked();
  if (timeout_ms != 0)
    cb_event_poll(e, CB__SPIN_US);
  struct timespec deadline;
  if (timeout_ms >= 0)
    deadline = cb__deadline(CLOCK_MONOTONIC, timeout_ms);
  pthread_mutex_lock(&e->lock);
  int rc = 0, lost = 0;
  /* Distributed, the wait wakes now and then to see whether a rank was
   * lost: the work may never end then. */
  while (!e->done && rc != ETIMEDOUT && !(lost = cb__dist_lost()))
    rc = cb__dist_cond_wait(&e->cond, &e->lock, CLOCK_MONOTONIC,
                            timeout_ms >= 0 ? &deadline : NULL);
  int status = e->done ? e->status : lost ? CB_ERANKLOST : CB_ETIMEDOUT;
  pthread_mutex_unlock(&e->lock);
  return status == CB_ERANKLOST ? cb__dist_refuse_lost() : status;
}

int cb_event_cancel(cb_event *e) {
  int expected = CB__PENDING;
  return atomic_compare_exchange_strong(&e->state, &expected, CB__CANCELLED);
}

int cb_event_started(const cb_event *e) {
  return atomic_load(&e->state) == CB__STARTED;
}

int cb_event_cancelled(const cb_event *e) {
  return atomic_load(&e->state) == CB__CANCELLED;
}

struct timespec cb__deadline(clockid_t clock, int timeout_ms) {
  struct timespec t;
  clock_gettime(clock, &t);
  t.tv_sec += timeout_ms / 1000;
  t.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (t.tv_nsec >= 1000000000L) {
    t.tv_sec++;
    t.tv_nsec -= 1000000000L;
  }
  return t;
}
