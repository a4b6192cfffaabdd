/*
 * The task context: the head of every task's cl_arg, and what the error
 * channel needs of a running task. A task checks its inputs for failures
 * before it runs and marks its outputs with its own failure; the
 * scheduler, at the task's end, hands that failure to the operation's
 * event.
 */
#ifndef CAMBRIAN_CODELETS_TASKCTX_H
#define CAMBRIAN_CODELETS_TASKCTX_H

#include <stdatomic.h>
#include <stdint.h>

#include <starpu.h>

#include "cambrian.h"
#include "devloss.h"
#include "failure.h"
#include "faults.h"

/* The start state of an operation (its event's), which cancellation
 * races with: the first task to start moves it to CB__STARTED. */
enum { CB__PENDING, CB__STARTED, CB__CANCELLED };

typedef struct cb__ctx {
  const char *name;           /* operation, kernel or function name */
  int device;                 /* where it was placed, -1: auto */
  int busy_device;            /* the drivers it keeps awake, -1: all */
  cb_event *event;            /* the operation's, signalled at the end;
                               * NULL in a batch */
  uint64_t op;                /* the operation's serial (0: none) */
  atomic_int *state;          /* the event's start state; NULL when none */
  int nin, nout;
  cb_array **in;              /* arrays it reads */
  cb_array **out;             /* arrays it writes */
  cb__failure *failure;       /* its own, once it failed (a reference) */
  struct starpu_task *task;   /* valid until its callback returns */
  int lose;                   /* the failure it records loses its device */
} cb__ctx;

/* Looks at the task's inputs: if one is poisoned, poisons the outputs with
 * a dependency failure and returns 1 (the codelet must not run). */
int cb__ctx_inputs_failed(cb__ctx *c);
/* Records a failure of this task on its outputs; returns its id. A
 * failure with an OpenCL status that means a lost context (see
 * devloss.h), or one that follows a failed wait (c->lose), loses the
 * device the task runs on. */
uint64_t cb__ctx_fail(cb__ctx *c, int code, int cl_status, const char *fmt,
                      ...) __attribute__((format(printf, 4, 5)));
/* An injected device failure with cl_status; lose: it loses the device. */
uint64_t cb__ctx_fail_injected(cb__ctx *c, int cl_status, int lose,
                               const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* When the task's device is lost: marks the outputs with a CB_EDEVLOST
 * failure caused by the device's first fault and returns 1. */
int cb__ctx_device_lost(cb__ctx *c);
/* Records a failed device-side assertion of kernel. */
void cb__ctx_fail_assert(cb__ctx *c, const char *kernel, int line,
                         int64_t x, int64_t y, int64_t z);
/* Marks the task's operation started, unless it was cancelled: then
 * marks the outputs cancelled and returns 1. */
int cb__ctx_cancelled(cb__ctx *c);
/* The device of the calling worker, or c->device when placed. */
int cb__ctx_device(const cb__ctx *c);
/* The calling thread, not a worker, finishes tasks for device's worker
 * (clasync.c's watchers): cb__ctx_device then answers device. */
void cb__ctx_act_for(int device);
/* The filter string of the device the task runs on, or "?". */
const char *cb__ctx_device_name(const cb__ctx *c);

/* Every codelet starts with this: skips when cancelled, on a lost
 * device, on an injected fault or on failed inputs. */
static inline int cb__ctx_skip(cb__ctx *c) {
  if (c->state &&
      atomic_load_explicit(c->state, memory_order_acquire) != CB__STARTED &&
      cb__ctx_cancelled(c))
    return 1;
  if (__builtin_expect(atomic_load_explicit(&cb__nlost,
                                            memory_order_relaxed), 0) &&
      cb__ctx_device_lost(c))
    return 1;
  if (__builtin_expect(atomic_load_explicit(&cb__faults_armed,
                                            memory_order_relaxed), 0) &&
      cb__fault_fire(c))
    return 1;
  return cb__ctx_inputs_failed(c);
}

#endif
