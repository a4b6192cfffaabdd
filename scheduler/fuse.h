/*
 * Building fused programs (fused.h) step by step, with the dtype rules of
 * the eager element-wise calls: each step computes in the dtype its
 * operation would, operands of another dtype get a cast step first, and
 * scalars are converted as the eager call converts them (fuse.c).
 */
#ifndef CAMBRIAN_SCHEDULER_FUSE_H
#define CAMBRIAN_SCHEDULER_FUSE_H

#include "cambrian.h"
#include "fused.h"

/* An empty program. */
void cb__fprog_init(cb__fprog *p);

/* A new input of dtype t: its register, or CB_EAGAIN when the program
 * has as many inputs as a task takes. Inputs come before any step. */
int cb__fprog_input(cb__fprog *p, cb_dtype t);

/* Appends op over n operands: register reg[k] when reg[k] >= 0, else the
 * scalar x[k] (out_dtype: a cast's target, else -1). Sets *out to the
 * register of its result. CB_EAGAIN, with p unchanged, when the step (or
 * a cast it needs) cannot be fused or the program is full. */
int cb__fprog_step(cb__fprog *p, cb_op op, const int *reg,
                   const cb_operand *x, int n, int out_dtype, int *out);

#endif
