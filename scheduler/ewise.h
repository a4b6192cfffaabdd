/* Submitting element-wise operations, and where a task may run. */
#ifndef CAMBRIAN_SCHEDULER_EWISE_H
#define CAMBRIAN_SCHEDULER_EWISE_H

#include <starpu.h>

#include "batch.h"
#include "cambrian.h"

/* cb_ewise within a batch (b may be NULL: alone); without an event when
 * !event. When reuse, an operand's array that the caller gives up (no
 * task submitted later reads it) has the result's dtype and shape, the
 * result is written over it in place: no new array, one buffer less per
 * task. The caller holds the run lock. */
int cb__ewise_in(cb__batch *b, int event, cb_array *reuse, cb_op op,
                 const cb_operand *x, int n, int default_device,
                 int out_dtype, cb_array **out, int *out_device);

/* One task per tile of the result of the fused program prog (fused.h)
 * over its inputs x[0 .. prog->nin - 1], arrays whose dtypes are the
 * program's (others are cast first) and which broadcast to the result's
 * shape, as cb__ewise_in runs one operation. The caller holds the run
 * lock. */
int cb__ewise_fused(cb__batch *b, int event, const struct cb__fprog *prog,
                    const cb_operand *x, int default_device, cb_array **out,
                    int *out_device);

/* A scalar operand as an element of dtype want, converted as element-wise
 * operations convert it. */
cb__value cb__scalar_value(const cb_operand *x, cb_dtype want);

/* 0 when work in dtype t may be placed on device (-1: auto; a device
 * set), else CB_ENODEV, CB_EDEVLOST or CB_ETYPE (no float64 there). */
int cb__check_device(int device, cb_dtype t);

/* Where a task may run. A task placed on a device (>= 0) goes straight to
 * one of its workers, chosen by turn (tiles in turn: a static schedule,
 * as a prange loop's), which costs far less than asking the scheduler;
 * on a device set, to the member that holds tile (see
 * cb__device_for_tile), or the member turn picks when tile is -1 (a task
 * over whole arrays). Auto placement (-1) lets the scheduler choose, away
 * from OpenCL devices that lack float64 when uses_f64. */
void cb__place(struct starpu_task *task, int device, unsigned turn, int tile,
               int uses_f64);

#endif
