/*
 * Scratch buffers of OpenCL devices, kept from one task to the next: an
 * operand gathered from its tiles, or a library's temporary matrices. A
 * buffer made and released in each task costs its allocation every time
 * (on pocl, fresh host pages: a copy through a view of 64 MiB in 7 tiles
 * took 60 ms, 9 ms in one tile), and releasing one that commands still
 * use makes NVIDIA's driver wait for them. A device's compute queue runs
 * its commands in order, so the next task on it may reuse them at once.
 *
 * Locking: a device's buffers are used by its driver thread alone (and by
 * the release hook, once no task runs).
 */
#ifndef CAMBRIAN_CODELETS_SCRATCH_H
#define CAMBRIAN_CODELETS_SCRATCH_H

#include <stddef.h>

#include <CL/cl.h>

/* A task uses each slot for one thing at a time. */
enum { CB__SCRATCH_A, CB__SCRATCH_B, CB__SCRATCH_TEMP, CB__NSCRATCH };

/* The calling driver's device's buffer in slot, of at least bytes, in
 * q's context; NULL with *st set when it cannot be made. They go with the
 * runtime's contexts (CB__HOOK_RELEASE). */
cl_mem cb__scratch(cl_command_queue q, int slot, size_t bytes, cl_int *st);

#endif
