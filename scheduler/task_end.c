/*
 * The end of a task, in its StarPU callback: the operation's event learns
 * the outcome, the task's references go, and the drivers are let go.
 */
#include "drivers.h"
#include "events.h"
#include "task_end.h"
#include "trace.h"

void cb__ctx_drop_refs(cb__ctx *c, cb_array *const *arrays, int n) {
  for (int i = 0; i < n; i++)
    cb_array_unref(arrays[i]);
  cb_event_unref(c->event);
}

void cb__ctx_end(cb__ctx *c, void (*release)(void *owner), void *owner) {
  int device = c->busy_device; /* c goes with its owner */
  int worker = cb__task_worker(c->task);
  cb__ctx_done(c);
  release(owner);
  cb__busy_end_on(device, worker);
}

void cb__ctx_done(cb__ctx *c) {
  if (atomic_load_explicit(&cb__profiling, memory_order_relaxed))
    cb__trace_task(c);
  if (c->event)
    cb__event_signal_failure(c->event, c->failure);
  cb__failure_unref(c->failure);
  c->failure = NULL;
}
