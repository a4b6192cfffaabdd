/* The dtype rules of element-wise operations at the call (promote.c). */
#ifndef CAMBRIAN_SCHEDULER_PROMOTE_H
#define CAMBRIAN_SCHEDULER_PROMOTE_H

#include "cambrian.h"

/* The dtype the loop computes in and the dtype of the result. */
int cb__ewise_types(cb_op op, const cb_operand *x, int n, cb_dtype *compute,
                    cb_dtype *result);

#endif
