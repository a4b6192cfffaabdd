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

int cb__submit_abandon(cb_array *out, cb_event *e, int device,
                       const char *name, int submitted, int missing,
                       int rc) {
  cb__failure *f = cb__failure_new(rc, 0, device, name, "%s",
                                   cb_last_error());
  if (f && submitted > 0) {
    cb__failure_register(f);
    cb__mark_poison(out, f);
  }
  for (int i = 0; e && i < missing; i++)
    if (f)
      cb__event_signal_failure(e, f);
    else
      cb__event_signal(e, rc);
  cb__failure_unref(f);
  return rc;
}
