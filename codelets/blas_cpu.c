/*
 * Linear algebra on CPU workers: one row block of the output per task,
 * through OpenBLAS's CBLAS interface, single-threaded (StarPU's workers
 * are the parallelism). The tiles of an array lie one after the other in
 * its host buffer, so the block of A starts inside the first tile passed
 * and runs on across the next ones.
 */
#include <string.h>

#include <cblas.h>

#include "blas_codelets.h"

void cb__blas_cpu_setup(void) { openblas_set_num_threads(1); }

/* Whether the task's elements are complex, and whether their parts are
 * float32. */
static int is_complex(const cb__blas_task *t) {
  return t->dtype == CB_COMPLEX64 || t->dtype == CB_COMPLEX128;
}
static int single(const cb__blas_task *t) {
  return t->dtype == CB_FLOAT32 || t->dtype == CB_COMPLEX64;
}

/* out = beta * out when the inner dimension is empty (BLAS refuses a
 * leading dimension of 0); a real beta scales both parts of complex. */
static void scale(const cb__blas_task *t, void *out, int64_t n) {
  if (is_complex(t))
    n *= 2;
  if (single(t)) {
    float *y = out;
    for (int64_t i = 0; i < n; i++)
      y[i] = t->beta == 0 ? 0.0f : (float)t->beta * y[i];
  } else {
    double *y = out;
    for (int64_t i = 0; i < n; i++)
      y[i] = t->beta == 0 ? 0.0 : t->beta * y[i];
  }
}

/* Rows [0, rows) of out (rows x cols) from columns of a (cols x lda, the
 * block's first column at a), in squares that stay in cache. */
#define TRANSPOSE_LOOP(T)                                                    \
  do {                                                                       \
    const T *src = a;                                                        \
    T *dst = out;                                                            \
    for (int64_t i0 = 0; i0 < rows; i0 += 32)                                \
      for (int64_t j0 = 0; j0 < cols; j0 += 32)                              \
        for (int64_t i = i0; i < rows && i < i0 + 32; i++)                   \
          for (int64_t j = j0; j < cols && j < j0 + 32; j++)                 \
            dst[i * cols + j] = src[j * lda + i];                            \
  } while (0)

static void transpose(const cb__blas_task *t, const void *a, void *out) {
  int64_t rows = t->rows, cols = t->n, lda = t->a_ld;
  switch (cb_dtype_size(t->dtype)) {
  case 1:
    TRANSPOSE_LOOP(uint8_t);
    break;
  case 2:
    TRANSPOSE_LOOP(uint16_t);
    break;
  case 4:
    TRANSPOSE_LOOP(uint32_t);
    break;
  case 8:
    TRANSPOSE_LOOP(uint64_t);
    break;
  default: /* complex128 */
    TRANSPOSE_LOOP(cb_complex128);
  }
}

static int ld(int64_t x) { return x > 1 ? (int)x : 1; }

static void gemm(const cb__blas_task *t, const void *a, const void *b,
                 void *c) {
  enum CBLAS_TRANSPOSE ta = t->ta ? CblasTrans : CblasNoTrans;
  enum CBLAS_TRANSPOSE tb = t->tb ? CblasTrans : CblasNoTrans;
  int m = (int)t->rows, n = (int)t->n, k = (int)t->k;
  /* alpha and beta are real: complex routines take them as (x, 0). */
  float fa[2] = {(float)t->alpha, 0}, fb[2] = {(float)t->beta, 0};
  double da[2] = {t->alpha, 0}, db[2] = {t->beta, 0};
  switch (t->dtype) {
  case CB_FLOAT32:
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, fa[0], a, ld(t->a_ld), b,
                ld(t->b_ld), fb[0], c, ld(n));
    break;
  case CB_COMPLEX64:
    cblas_cgemm(CblasRowMajor, ta, tb, m, n, k, fa, a, ld(t->a_ld), b,
                ld(t->b_ld), fb, c, ld(n));
    break;
  case CB_COMPLEX128:
    cblas_zgemm(CblasRowMajor, ta, tb, m, n, k, da, a, ld(t->a_ld), b,
                ld(t->b_ld), db, c, ld(n));
    break;
  default:
    cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, da[0], a, ld(t->a_ld), b,
                ld(t->b_ld), db[0], c, ld(n));
  }
}

/* op(A)'s block is rows x k; stored, it is k x rows when transposed. */
static void gemv(const cb__blas_task *t, const void *a, const void *x,
                 void *y) {
  enum CBLAS_TRANSPOSE ta = t->ta ? CblasTrans : CblasNoTrans;
  int rows = (int)(t->ta ? t->k : t->rows);
  int cols = (int)(t->ta ? t->rows : t->k);
  float fa[2] = {(float)t->alpha, 0}, fb[2] = {(float)t->beta, 0};
  double da[2] = {t->alpha, 0}, db[2] = {t->beta, 0};
  switch (t->dtype) {
  case CB_FLOAT32:
    cblas_sgemv(CblasRowMajor, ta, rows, cols, fa[0], a, ld(t->a_ld), x, 1,
                fb[0], y, 1);
    break;
  case CB_COMPLEX64:
    cblas_cgemv(CblasRowMajor, ta, rows, cols, fa, a, ld(t->a_ld), x, 1, fb,
                y, 1);
    break;
  case CB_COMPLEX128:
    cblas_zgemv(CblasRowMajor, ta, rows, cols, da, a, ld(t->a_ld), x, 1, db,
                y, 1);
    break;
  default:
    cblas_dgemv(CblasRowMajor, ta, rows, cols, da[0], a, ld(t->a_ld), x, 1,
                db[0], y, 1);
  }
}

void cb__blas_cpu(void *buffers[], void *cl_arg) {
  cb__blas_task *t = cl_arg;
  if (cb__ctx_skip(&t->ctx))
    return;
  size_t es = cb_dtype_size(t->dtype);
  const char *a = NULL, *b = NULL;
  if (t->na)
    a = (const char *)STARPU_VECTOR_GET_PTR(buffers[0]) +
        (size_t)(t->a_at - t->a_base) * es;
  if (t->nb)
    b = (const char *)STARPU_VECTOR_GET_PTR(buffers[t->na]);
  void *out = (void *)STARPU_VECTOR_GET_PTR(buffers[t->na + t->nb]);
  if (t->kind == CB__LA_TRANSPOSE)
    transpose(t, a, out);
  else if (t->k == 0)
    scale(t, out, t->rows * t->n);
  else if (t->kind == CB__LA_GEMM)
    gemm(t, a, b, out);
  else
    gemv(t, a, b, out);
}
