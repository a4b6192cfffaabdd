/* Profiling and traces: what a finished task leaves in a trace. */
#ifndef CAMBRIAN_SCHEDULER_TRACE_H
#define CAMBRIAN_SCHEDULER_TRACE_H

#include <stdatomic.h>

#include "taskctx.h"

/* 1 while profiling is on: cb__ctx_done then records the task. */
extern atomic_int cb__profiling;
void cb__trace_task(const cb__ctx *c);
/* Profiling state across runtimes: applied after starpu_init. */
void cb__profiling_apply(void);

#endif
