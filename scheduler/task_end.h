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

#endif
