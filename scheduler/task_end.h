/* The end of a task: its StarPU callback's part of the error channel. */
#ifndef CAMBRIAN_SCHEDULER_TASK_END_H
#define CAMBRIAN_SCHEDULER_TASK_END_H

#include "cambrian.h"
#include "taskctx.h"

/* Signals the task's event with its outcome (and records it in a trace
 * while profiling). */
void cb__ctx_done(cb__ctx *c);
/* A task's whole callback: cb__ctx_done, then release(owner) (which frees
 * the owner and c with it), then the drivers are let go, last, so that
 * nobody sees the runtime idle before the task's references are gone. */
void cb__ctx_end(cb__ctx *c, void (*release)(void *owner), void *owner);
/* Drops a task's references: its arrays and its event. */
void cb__ctx_drop_refs(cb__ctx *c, cb_array *const *arrays, int n);
/* Submitting the tasks of operation name (placed on device) stopped with
 * rc (the last error's message says why) after submitted of them: those
 * run, so out is marked failed when any did, and e (NULL: none) counts
 * the missing ones that will never run as failed. Returns rc. */
int cb__submit_abandon(cb_array *out, cb_event *e, int device,
                       const char *name, int submitted, int missing, int rc);

#endif
