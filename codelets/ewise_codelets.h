/*
 * Element-wise operations: the operation table's codelets (one per
 * operation, CPU loops and generated OpenCL kernels), the context one
 * task of them carries, and what the table says of each operation.
 */
#ifndef CAMBRIAN_CODELETS_EWISE_H
#define CAMBRIAN_CODELETS_EWISE_H

#include <stdint.h>

#include <starpu.h>

#include "cambrian.h"
#include "errors.h"
#include "taskctx.h"

/* A scalar operand, in the dtype the loop reads it as. */
typedef union cb__value {
  uint8_t b;
  int8_t i8;
  int16_t i16;
  int32_t i32;
  int64_t i64;
  uint8_t u8;
  uint16_t u16;
  uint32_t u32;
  uint64_t u64;
  float f32;
  double f64;
  cb_complex64 c64;
  cb_complex128 c128;
  cb_half f16; /* its bits */
} cb__value;

/* An operand is a tile of an array, a broadcast 0-D array, a scalar,
 * the output tile itself (the result is written over it), a row: an
 * array of period elements (one tile) that repeats along the output tile,
 * as an operand broadcast along the leading dimensions does, or a strided
 * operand: consecutive tiles of an array read through a layout (a view
 * or a broadcast), on CPU workers only. */
enum {
  CB__IN_TILE,
  CB__IN_ELEM,
  CB__IN_SCALAR,
  CB__IN_OUT,
  CB__IN_ROW,
  CB__IN_STRIDED
};

/* A strided operand: the output element at index (i0, i1, ...) of the
 * result's shape reads element offset + sum of i[d] * strides[d], counted
 * from the first element of the first of the ntiles tiles the task
 * holds of it. */
typedef struct cb__strided {
  int64_t strides[CB_MAX_NDIM];
  int64_t offset;
  int ntiles;
} cb__strided;

/* The number of buffers of an operand of kind kind. */
static inline int cb__ew_operand_buffers(int kind, const cb__strided *s) {
  return kind == CB__IN_STRIDED                                   ? s->ntiles
         : kind == CB__IN_TILE || kind == CB__IN_ELEM ||
                   kind == CB__IN_ROW                             ? 1
                                                                  : 0;
}

/* The context of one element-wise task (cl_arg). */
typedef struct cb__task {
  cb__ctx ctx;                /* first: the codelets see a cb__ctx too */
  cb_op op;
  cb_dtype in_dtype[CB__MAX_OPERANDS];
  cb_dtype out_dtype;
  int nin;
  int in_kind[CB__MAX_OPERANDS];
  cb__value scalar[CB__MAX_OPERANDS];
  int64_t period[CB__MAX_OPERANDS]; /* CB__IN_ROW: its elements */
  cb__strided strided[CB__MAX_OPERANDS]; /* CB__IN_STRIDED */
  int ndim;                   /* the result's shape, for strided operands */
  int64_t shape[CB_MAX_NDIM];
  cb__value start, step;      /* arange */
  int64_t base;               /* index of the tile's first element */
  int64_t n;                  /* elements in the output tile */
  int narrays;
  cb_array *arrays[CB__MAX_OPERANDS + 1]; /* references; output last */
  struct cb__slab *slab;      /* the submitter's block it lives in, or
                               * NULL: its own allocation */
  const struct cb__fprog *prog; /* a fused task's program (fused.h), its
                                 * inputs the operands; else NULL */
} cb__task;

/* The index of the output tile's buffer in a task: it follows the
 * operands' buffers. */
static inline int cb__ew_output_buffer(const cb__task *t) {
  int nb = 0;
  for (int k = 0; k < t->nin; k++)
    nb += cb__ew_operand_buffers(t->in_kind[k], &t->strided[k]);
  return nb;
}

/* One codelet per operation, with its history-based model. */
extern struct starpu_codelet cb__ew_codelets[CB_NOPS];

void cb__ew_cpu(void *buffers[], void *cl_arg);
void cb__ew_opencl(void *buffers[], void *cl_arg);

/* The class letter of a dtype in the operation table: 'F', 'I' (every
 * integer dtype), 'B' or 'C'; and whether an integer dtype is unsigned. */
char cb__dtype_class(cb_dtype t);
/* The dtype of a complex dtype's parts (float32 or float64); any other
 * dtype itself. */
cb_dtype cb__dtype_part(cb_dtype t);
int cb__dtype_unsigned(cb_dtype t);
int cb__op_accepts(cb_op op, cb_dtype t);
/* Whether op computes bool operands as int8 (an '8' in its classes). */
int cb__op_accepts_bool_as_int8(cb_op op);

/* Whether OpenCL kernels over t need cl_khr_fp64. */
static inline int cb__dtype_fp64(cb_dtype t) {
  return t == CB_FLOAT64 || t == CB_COMPLEX128;
}

/* For generated OpenCL sources (elementwise_opencl.c): the table's
 * expression of op for dtype t's class; the unsigned OpenCL type of t's
 * width; the type a value of t is computed in (float for float16,
 * loaded from halves and stored into them without cl_khr_fp16); the
 * integer powers behind CB_IPOW (for a kernel that defines T and U);
 * and cb_load_half(i, p), element i of halves p as a float, with
 * cb_half_bits(bits, f), the float f read from a half's bits, a NaN
 * keeping its sign. */
const char *cb__cl_expr(cb_op op, cb_dtype t);
const char *cb__cl_utype(cb_dtype t);
const char *cb__cl_value_type(cb_dtype t);
extern const char cb__cl_ipow_source[];
extern const char cb__cl_half_source[];

/* The OpenCL C source of the complex helpers (complex_cl.c), for a
 * kernel that defines CT and RT first. */
const char *cb__complex_cl_source(void);

/* The dtype a task's loop computes in. */
static inline cb_dtype cb__task_dtype(const cb__task *t) {
  return t->nin == 0 ? t->out_dtype
                     : t->in_dtype[cb_op_get_kind(t->op) == CB_KIND_WHERE];
}

#endif
