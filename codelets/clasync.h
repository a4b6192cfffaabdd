/*
 * Asynchronous OpenCL codelets. A codelet flagged CB__CL_ASYNC enqueues
 * its commands and returns; the driver thread then goes on feeding the
 * device (the next task's transfers, the next kernels) while they run.
 *
 * StarPU would judge the end of such a task by the status of a marker
 * it enqueues, which is not enough: on NVIDIA a kernel that faults
 * leaves its event reading CL_COMPLETE, and only a wait returns the
 * error. So the codelet hands StarPU a user event of its own instead
 * (starpu_opencl_set_task_event, which the set-up's StarPU build adds)
 * and gives its last command's event to the device's watcher thread.
 * The watcher waits for that event, records any failure on the task
 * exactly as a synchronous codelet would, and only then completes the
 * user event: StarPU never ends a task before its outcome is known, and
 * never waits on an event that could stay pending.
 *
 * With a StarPU that lacks that function (Debian's 1.3 packages),
 * CB__CL_ASYNC is 0 and every codelet waits for its commands itself.
 *
 * Locking: each device's watcher queue has its own lock; the per-thread
 * state of the running codelet needs none; one lock guards the gate
 * below.
 */
#ifndef CAMBRIAN_CODELETS_CLASYNC_H
#define CAMBRIAN_CODELETS_CLASYNC_H

#include <CL/cl.h>
#include <starpu.h>

#include "taskctx.h"

#ifdef CB_HAVE_STARPU_TASK_EVENT
#define CB__CL_ASYNC STARPU_OPENCL_ASYNC
#else
#define CB__CL_ASYNC 0
#endif

/* Brackets the body of a codelet flagged CB__CL_ASYNC, on its driver
 * thread: begin before anything else, end on every way out. end gives
 * StarPU the task's end event: the one cb__cl_end made, or one already
 * complete when the codelet handed nothing (it failed or skipped). */
void cb__cl_async_begin(void);
void cb__cl_async_end(void);

/* Ends the codelet's commands, the last of which ev (a reference that
 * the call takes) finishes; a failure is recorded on c as "the <what>
 * kernel failed: <status>". Inside cb__cl_async_begin/end it hands ev to
 * the watcher and returns at once; elsewhere (or when no watcher can
 * take it) it waits. c and what must stay valid until the task ends. */
void cb__cl_end(cb__ctx *c, cl_event ev, const char *what);

/* What happens once the commands ended with status st (that of the wait
 * for the last one): records any failure on c, frees arg. */
typedef void (*cb__cl_after_fn)(cb__ctx *c, cl_int st, void *arg);
/* cb__cl_end, with after(c, st, arg) in place of the failure it records;
 * after runs on the watcher thread, or here when the call waits. */
void cb__cl_end_then(cb__ctx *c, cl_event ev, cb__cl_after_fn after,
                     void *arg);

/* The gate between pocl's kernel builds and changes of the process's
 * environment. pocl (an OpenCL device that runs on the CPU) builds a
 * kernel while it runs it, and starts its linker then, handed the
 * environment; a setenv() in another thread at that moment can move the
 * array it reads, and pocl aborts the process. So the commands of every
 * codelet on such a device, from cb__cl_async_begin until the watcher has
 * seen the last one end, pass through the gate (a codelet hands its last
 * command to cb__cl_end_then, as every one does); close waits until none
 * is in flight and keeps new ones out until open. A thread may close it
 * again inside its own closing (a signal handler's change). */
void cb__cl_gate_close(void);
void cb__cl_gate_open(void);
/* A pass through the gate for other work that reads the environment
 * while a change may move it (getenv() in pocl's, StarPU's and the
 * OpenCL loader's start, pocl's program builds); re-entrant on a
 * thread. */
void cb__cl_gate_enter(void);
void cb__cl_gate_leave(void);

#endif
