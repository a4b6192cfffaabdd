/* The dtype rules of element-wise operations at the call (promote.c). */
#ifndef CAMBRIAN_SCHEDULER_PROMOTE_H
#define CAMBRIAN_SCHEDULER_PROMOTE_H

#include "cambrian.h"

/* The dtype the loop computes in and the dtype of the result. */
int cb__ewise_types(cb_op op, const cb_operand *x, int n, cb_dtype *compute,
                    cb_dtype *result);
/* The same; for a comparison, *stray gets the index of a weak integer
 * beyond the range of the integer dtype compared in (-1: none), which
 * then answers by value: the caller must not convert it. */
int cb__ewise_types_ex(cb_op op, const cb_operand *x, int n,
                       cb_dtype *compute, cb_dtype *result, int *stray);
/* Whether a weak integer beyond a dtype's range lies above it. */
int cb__weak_above(const cb_operand *x);

#endif
