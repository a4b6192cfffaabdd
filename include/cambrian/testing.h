/*
 * cambrian: fault injection for tests.
 *
 * Not part of the umbrella header: programs that test how they handle
 * device failures include this file themselves, after cambrian.h or on
 * its own. An injected fault makes a task fail exactly as a failing
 * OpenCL call would: the task does not run its body, its outputs are
 * marked with a CB_EDEVICE failure carrying the chosen OpenCL status, the
 * failure is listed by cb_failures_take(), and the tasks that read those
 * outputs fail with CB_EDEPEND. Nothing changes while no fault is armed.
 */
#ifndef CAMBRIAN_TESTING_H
#define CAMBRIAN_TESTING_H

#include "cambrian.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Arms a fault: the nth execution (counted from 1, from the time of this
 * call) of a task named op on device fails with cl_status (an OpenCL
 * status such as CL_OUT_OF_RESOURCES, which failures report in their
 * cl_status). op is an operation name as cb_op_name(), cb_reduce_name()
 * or a task's own name gives it ("add", "sum", "matmul", a kernel's or a
 * host function's name); NULL or "*" matches any task. device is a device
 * id, or -1 for any. A fault fires once and is then forgotten; up to 16
 * may be armed at a time. Returns 0, or CB_EINVAL when nth < 1, when op
 * is longer than any task name can be, or when 16 faults are armed
 * already. */
int cb_testing_inject(const char *op, int device, long nth, int cl_status);

/* As cb_testing_inject, but the fault also loses the device, as a fault
 * that leaves an OpenCL context unusable would (see cb_device_lost in
 * cambrian.h): the failing task fails with cl_status, everything that
 * runs there afterwards fails with CB_EDEVLOST. Only OpenCL devices can be
 * lost: on the CPU workers the fault is an ordinary one. With unusable
 * set, cb_shutdown() also finds the device's context unusable, as after a
 * real fault on a GPU, and leaves StarPU running; the runtime then cannot
 * start again in this process. */
int cb_testing_inject_loss(const char *op, int device, long nth,
                           int cl_status, int unusable);

/* Disarms every fault that has not fired yet. */
void cb_testing_clear(void);

/* How many of StarPU's data operations (copies, allocations, frees) were
 * kept away from lost devices since the process started. */
long cb_testing_lost_device_ops(void);

/* How many chunks of copies from pageable host memory to a device went
 * through pinned staging buffers since the process started. Such copies
 * count as executions of an operation named "stage" for the faults
 * above; a fault there always loses the device. */
long cb_testing_staged_chunks(void);

/* How many of cambrian's OpenCL user events (the ends of asynchronous
 * tasks and of staged copies) could not be completed since the process
 * started; StarPU, which waits for them, was told that they ended. The
 * completions count as executions of an operation named "complete" for
 * the faults above, where the StarPU build asks about such events. */
long cb_testing_unfinished_events(void);
/* (When a device is lost, each other device of its OpenCL platform is
 * asked whether it still runs a command, which counts as an execution of
 * an operation named "answer" for the faults above: a fault there makes
 * that device seem lost with the first.) */

#ifdef __cplusplus
}
#endif
#endif /* CAMBRIAN_TESTING_H */
