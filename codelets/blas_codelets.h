/*
 * Linear algebra over one row block of the output: single-threaded
 * OpenBLAS on CPU workers, CLBlast on OpenCL devices.
 */
#ifndef CAMBRIAN_CODELETS_BLAS_H
#define CAMBRIAN_CODELETS_BLAS_H

#include <stdint.h>

#include "cambrian.h"
#include "taskctx.h"

/* What a linear algebra task computes over one row block of its output. */
enum { CB__LA_GEMM, CB__LA_GEMV, CB__LA_TRANSPOSE, CB__LA_NKINDS };

/* The context of one block task (cl_arg). Its buffers are the tiles of A
 * that hold the elements [a_lo, a_hi), every tile of B (none for a
 * transpose) and the one tile of the output it writes. */
typedef struct cb__blas_task {
  cb__ctx ctx;                /* first: the codelets see a cb__ctx too */
  int kind;
  cb_dtype dtype;
  int ta, tb;                 /* op(A), op(B) are transposed */
  int64_t rows;               /* output rows of the block */
  int64_t n, k;               /* output columns, inner dimension */
  int64_t a_ld, b_ld;         /* stored row lengths of A and B */
  double alpha, beta;
  int na, nb;                 /* buffers of A and of B */
  int64_t a_base;             /* index in A of its first buffer's start */
  int64_t a_lo, a_hi;         /* the elements of A the task reads */
  int64_t a_at;               /* where the block of op(A) starts in A */
  int64_t b_size;
  int narrays;
  cb_array *arrays[3];        /* references: A, B if any, the output */
} cb__blas_task;

void cb__blas_cpu(void *buffers[], void *cl_arg);
void cb__blas_opencl(void *buffers[], void *cl_arg);
/* Makes OpenBLAS single-threaded: StarPU's workers give the parallelism. */
void cb__blas_cpu_setup(void);
/* Hands the tuned CLBlast parameters of the file at path (see
 * blas_tuning.c) to CLBlast for the OpenCL device devid (StarPU's id);
 * returns how many kernels it took (0 when there is no such file). */
int cb__blas_load_tuning(int devid, const char *path);

#endif
