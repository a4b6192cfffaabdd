/*
 * Events: the completion of an operation (all of its tasks), with the
 * first failure among them, waited on or listened to.
 */
#ifndef CAMBRIAN_SCHEDULER_EVENTS_H
#define CAMBRIAN_SCHEDULER_EVENTS_H

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "cambrian.h"
#include "failure.h"
#include "taskctx.h"

typedef struct cb__listener {
  void (*fn)(void *arg);
  void *arg;
  struct cb__listener *next;
} cb__listener;

struct cb_event {
  atomic_int refcount;
  uint64_t serial;            /* this operation's, unique in the process */
  atomic_int pending;
  int status;                 /* first error, set before completion */
  cb__failure *failure;       /* first failure, guarded by lock */
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int done;                   /* guarded by lock */
  cb__listener *listeners;    /* guarded by lock */
  atomic_int state;           /* CB__PENDING, CB__STARTED, CB__CANCELLED */
};

cb_event *cb__event_new(int pending);
/* The time timeout_ms from now on clock, for timed waits. */
struct timespec cb__deadline(clockid_t clock, int timeout_ms);
void cb__event_ref(cb_event *e);
/* One part finished, with the failure it recorded or NULL. */
void cb__event_signal(cb_event *e, int status);
void cb__event_signal_failure(cb_event *e, cb__failure *f);
/* One part of e ends when before does (its status is before's to report,
 * not e's); at once when before is done. */
int cb__event_signal_after(cb_event *e, cb_event *before);

/* Makes e (NULL: none) the event a task context signals at its end, and
 * whose start state the task's cancellation check reads. Takes no
 * reference. */
static inline void cb__ctx_set_event(cb__ctx *c, cb_event *e) {
  c->event = e;
  c->state = e ? &e->state : NULL;
  c->op = e ? e->serial : 0;
}

#endif
