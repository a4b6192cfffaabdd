/* Part of cambrian.h: reductions. Include cambrian.h, not this file. */
#ifndef CAMBRIAN_REDUCE_H
#define CAMBRIAN_REDUCE_H

/* Reductions over all the elements of an array, or along one axis of a
 * N-D array: X(name, description). Each tile of the input is reduced by
 * a task of its own into a small partial result (on the worker that holds
 * the tile: a CPU core or an OpenCL device), then one task combines the
 * partials into the result. Result dtypes follow NumPy 2:
 *   sum   bool, int32, int64 -> int64 (wrapping); float T -> T
 *   min, max   the input dtype; NaN propagates
 *   mean  bool and integers -> float64; float T -> T
 *   norm  sqrt of the sum of squares; integers -> float64, float T -> T
 *   argmin, argmax   int64: the index of the first smallest (largest)
 *         element along the axis, of the flattened array for
 *         CB_AXIS_ALL; the first NaN wins
 * Complex dtypes are refused (CB_ETYPE): their sums are those of their
 * parts (CB_OP_real, CB_OP_imag), put together by CB_OP_complex. */
#define CB_REDUCE_MAP(X)                                                    \
  X(sum, "the sum of the elements")                                         \
  X(min, "the smallest element")                                            \
  X(max, "the largest element")                                             \
  X(mean, "the arithmetic mean")                                            \
  X(norm, "the Euclidean norm")                                             \
  X(argmin, "the index of the first smallest element")                      \
  X(argmax, "the index of the first largest element")

typedef enum {
#define CB__REDUCE_ENUM(name, doc) CB_REDUCE_##name,
  CB_REDUCE_MAP(CB__REDUCE_ENUM)
#undef CB__REDUCE_ENUM
  CB_NREDUCE
} cb_reduce_op;

/* The axis argument that reduces over every element. */
#define CB_AXIS_ALL (-1)

/* The name of a reduction ("sum"); its tasks and failures carry it. */
const char *cb_reduce_name(cb_reduce_op op);

/* Submits op over x (an array operand) along axis: CB_AXIS_ALL, or one
 * axis of an array of 2 or more dimensions, which the result lacks (for a
 * 1-D array axis 0 is all of it). The result is 0-D for CB_AXIS_ALL.
 * Along an axis other than the first and the last, the array is first
 * copied with that axis moved first (cb_gather). The work goes
 * where x is placed, else to default_device (-1: the scheduler chooses).
 * min, max, argmin and argmax of a zero-size extent fail with CB_EINVAL;
 * the sum of none is 0, the mean of none NaN. On success *out is a new
 * array (the caller owns a reference) placed on *out_device, written
 * asynchronously. Nothing is submitted on failure. Blocks only to start
 * the runtime. */
int cb_reduce(cb_reduce_op op, const cb_operand *x, int axis,
              int default_device, cb_array **out, int *out_device);

/* The dot product of two 1-D arrays of equal length, as a 0-D array of
 * the dtype NumPy's promotion gives them (integers wrap around, bool is
 * "any pair of true"). Operands of another dtype are converted by cast
 * tasks first. Placement and failures as for cb_reduce; CB_ESHAPE when
 * the lengths differ, CB_EPLACE when the operands are on different
 * devices. */
int cb_dot(const cb_operand *x, const cb_operand *y, int default_device,
           cb_array **out, int *out_device);

#endif
