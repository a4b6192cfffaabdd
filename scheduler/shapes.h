/* The shape rules of reductions and matrix products, which need no
 * runtime: graphs record with them. */
#ifndef CAMBRIAN_SCHEDULER_SHAPES_H
#define CAMBRIAN_SCHEDULER_SHAPES_H

#include <stdint.h>

#include "cambrian.h"

/* The result's ndim and shape of a @ b with cb_matmul's rules; fails as
 * cb_matmul does on shapes (linalg.c). */
int cb__matmul_shape(const cb_array *a, const cb_array *b, int *ndim,
                     int64_t *shape);

/* The shape rules of reduction finish (CB_NREDUCE: dot, over a and b)
 * along axis: the dtype the tasks read (*in) and the result's (*res), the
 * result's ndim and shape, and the elements reduced into each result
 * (*count). Fails as cb_reduce and cb_dot do (reduce.c). */
int cb__reduce_shape(int finish, const cb_array *a, const cb_array *b,
                     int axis, cb_dtype *in, cb_dtype *res, int *out_ndim,
                     int64_t *out_shape, int64_t *count);

/* The shape that n arrays (ndims[i], shapes[i]) broadcast to by NumPy's
 * rules: dimensions aligned from the last, each equal or 1. CB_ESHAPE,
 * naming op and the shapes, when they cannot broadcast (layout.c). */
int cb__broadcast_shape(const char *op, int n, const int *ndims,
                        const int64_t *const *shapes, int *ndim,
                        int64_t *shape);

#endif
