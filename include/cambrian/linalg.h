/* Part of cambrian.h: linear algebra. Include cambrian.h, not this file. */
#ifndef CAMBRIAN_LINALG_H
#define CAMBRIAN_LINALG_H

/*
 * Matrix products run as one task per tile (row block) of the result:
 * OpenBLAS on CPU workers, CLBlast on OpenCL devices. Operands are float32,
 * float64, complex64 or complex128, all of one dtype (callers convert
 * first; alpha and beta are real for complex too); shapes are checked
 * at the call and nothing is submitted when a call fails. device is where
 * the tasks run: a device id, or -1 to let the scheduler choose. Failures
 * of the tasks (device errors, failed inputs) mark the result, as for
 * element-wise operations; their task names are "matmul", "gemm", "gemv"
 * and "transpose".
 */

typedef enum { CB_NOTRANS = 0, CB_TRANS = 1 } cb_trans;

/* out = a @ b with NumPy's rules for 1-D and 2-D operands: (m, k) @ (k, n)
 * is (m, n); a 1-D a is a row, a 1-D b a column, and their dimension is
 * dropped from the result (1-D @ 1-D gives a 0-D array). *out is a new
 * array; *out_device is where it is placed. */
int cb_matmul(cb_array *a, cb_array *b, int device, cb_array **out,
              int *out_device);

/* c = alpha * op(a) @ op(b) + beta * c, in place, with op(x) = x or its
 * transpose; a and b are 2-D. c is read (also when beta is 0, so that a
 * failure of its writer reaches its readers; its values are then
 * ignored) and written; it must not be a or b. */
int cb_gemm(double alpha, cb_array *a, cb_trans ta, cb_array *b,
            cb_trans tb, double beta, cb_array *c, int device);

/* y = alpha * op(a) @ x + beta * y, in place; a is 2-D, x and y 1-D. */
int cb_gemv(double alpha, cb_array *a, cb_trans ta, cb_array *x,
            double beta, cb_array *y, int device);

/* *out = the transpose of a 2-D array, a new array written by tasks (any
 * dtype; those other than the float and complex ones run on CPU
 * workers). */
int cb_transpose(cb_array *a, int device, cb_array **out, int *out_device);

#endif
