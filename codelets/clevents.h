/*
 * OpenCL events that may never complete. StarPU's OpenCL driver polls
 * the events of transfers and of asynchronous tasks until they read
 * CL_COMPLETE, and aborts on one that reads an error. On a device whose
 * context a fault poisoned (NVIDIA's: every device of the platform, as
 * seen on a machine with two GPUs), a transfer's event may stay pending
 * for ever, and the user event that cambrian completes once it knows a
 * task's or a staged copy's outcome may refuse to complete. The set-up's
 * StarPU build asks cambrian about such events
 * (starpu_opencl_set_unfinished_event_function, which
 * opencl-unfinished-events.patch adds): cb__cl_unfinished answers, so
 * that StarPU counts them as ended instead of waiting or aborting.
 *
 * User events end only through cambrian's own bookkeeping: once their
 * outcome is recorded, cb__user_event_end completes them, or remembers
 * those that would not complete. Other events (transfers) end when they
 * read an error, which loses their device, or while pending when their
 * device is lost and no longer runs anything (cb__device_dead); a copy
 * into host memory that ends so fails its array (tiles.h).
 *
 * Locking: one lock guards the list of user events that would not
 * complete; cb__cl_unfinished takes it only while the list is not empty.
 * It may run inside StarPU's locks: it calls no StarPU function that
 * takes one (only getters of OpenCL contexts and devices).
 */
#ifndef CAMBRIAN_CODELETS_CLEVENTS_H
#define CAMBRIAN_CODELETS_CLEVENTS_H

#include <CL/cl.h>

/* Completes user event ev of device (cambrian's index, -1: unknown),
 * whose outcome is recorded, and releases the caller's reference. When
 * it cannot be completed, StarPU is told that it ended instead. Faults
 * named "complete" (cambrian.testing) make the completion fail. */
void cb__user_event_end(cl_event ev, int device);

/* What StarPU asks of an event that has not completed: status is its
 * execution status (above CL_COMPLETE while pending, negative after an
 * error) or the error reading it returned. 1 when the event is to count
 * as ended. */
int cb__cl_unfinished(cl_event ev, cl_int status);

/* Lets go of the events kept for StarPU's questions (at shutdown). */
void cb__cl_unfinished_forget(void);

#endif
