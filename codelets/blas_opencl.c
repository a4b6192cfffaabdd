/*
 * Linear algebra on OpenCL devices through CLBlast: one row block of the
 * output per task. The block of A and the whole of B are used in place
 * when they lie in one tile, else gathered into a scratch buffer; the
 * output tile is always used in place. Every OpenCL and CLBlast status is
 * checked and recorded on the task; nothing here aborts.
 *
 * Gathered operands, and the temporary matrices of CLBlast's GEMM (which
 * transposes and pads its operands), use the device's scratch buffers
 * (scratch.h). CLBlast's own temporary buffer, made and released inside
 * each call, held the driver's thread for the whole product (3.8 ms of a
 * 4096-order float32 product on an H200), so that it could neither feed
 * the device nor start a transfer meanwhile.
 *
 * Locking: the warm flags of a device are used by its driver thread
 * alone.
 * clblast_lock orders the first call of each routine and precision on
 * each device of a runtime: CLBlast fills its caches of programs and
 * tuning then, and two devices' threads filling them at once corrupted
 * its heap (AddressSanitizer, two pocl devices). Later calls only read
 * them, and run without the lock, so that devices work at once.
 */
#include <stdio.h>

#include <CL/cl.h>
#include <pthread.h>
#include <clblast_c.h>

#include "blas_codelets.h"
#include "clasync.h"
#include "clprog.h"
#include "devtab.h"
#include "scratch.h"

static pthread_mutex_t clblast_lock = PTHREAD_MUTEX_INITIALIZER;

static struct device_state {
  /* The runtime (cb__devtab_gen) in which each routine and precision
   * (precision_of) has run once on the device. */
  unsigned warm[CB__LA_NKINDS][4];
} devs[STARPU_MAXOPENCLDEVS];

/* CLBlast's precisions that cambrian uses: 0 to 3. */
static int precision_of(cb_dtype t) {
  return t == CB_FLOAT32 ? 0 : t == CB_FLOAT64 ? 1 : t == CB_COMPLEX64 ? 2 : 3;
}

/* A matrix on the device: element e of the array is at element e + shift
 * of mem. */
typedef struct operand {
  cl_mem mem;
  int64_t shift;
} operand;

/* The elements [lo, hi) of an array whose tiles are buffers[0..n), the
 * first starting at element base. */
static cl_int gather(void *buffers[], int n, int64_t base, int64_t lo,
                     int64_t hi, size_t es, cl_command_queue q, int slot,
                     operand *out) {
  *out = (operand){0};
  if (n == 1) {
    out->mem = (cl_mem)STARPU_VECTOR_GET_DEV_HANDLE(buffers[0]);
    out->shift = (int64_t)(STARPU_VECTOR_GET_OFFSET(buffers[0]) / es) - base;
    return CL_SUCCESS;
  }
  cl_int st;
  out->mem = cb__scratch(q, slot, (size_t)(hi - lo) * es, &st);
  if (st != CL_SUCCESS)
    return st;
  out->shift = -lo;
  int64_t start = base;
  for (int i = 0; i < n && st == CL_SUCCESS; i++) {
    void *b = buffers[i];
    int64_t len = (int64_t)STARPU_VECTOR_GET_NX(b);
    int64_t from = start > lo ? start : lo;
    int64_t to = start + len < hi ? start + len : hi;
    if (to > from)
      st = clEnqueueCopyBuffer(q, (cl_mem)STARPU_VECTOR_GET_DEV_HANDLE(b),
                               out->mem,
                               STARPU_VECTOR_GET_OFFSET(b) +
                                   (size_t)(from - start) * es,
                               (size_t)(from - lo) * es,
                               (size_t)(to - from) * es, 0, NULL, NULL);
    start += len;
  }
  return st;
}

static const char *clblast_name(CLBlastStatusCode s) {
  switch (s) {
  case CLBlastNotImplemented:
    return "CLBlastNotImplemented";
  case CLBlastInvalidDimension:
    return "CLBlastInvalidDimension";
  case CLBlastInsufficientMemoryTemp:
    return "CLBlastInsufficientMemoryTemp";
  case CLBlastInvalidLocalMemUsage:
    return "CLBlastInvalidLocalMemUsage";
  case CLBlastNoDoublePrecision:
    return "CLBlastNoDoublePrecision";
  case CLBlastDatabaseError:
    return "CLBlastDatabaseError";
  case CLBlastUnknownError:
    return "CLBlastUnknownError";
  case CLBlastUnexpectedError:
    return "CLBlastUnexpectedError";
  default:
    return s > -1000 ? cb_cl_status_name((int)s) : "a CLBlast error";
  }
}

static size_t ld(int64_t x) { return x > 1 ? (size_t)x : 1; }

/* The device's scratch for the temporary matrices of t's GEMM with these
 * offsets, as large as CLBlast asks; NULL when it needs none, or with
 * *err set. */
static cl_mem gemm_temp(const cb__blas_task *t, size_t a_off, size_t b_off,
                        size_t c_off, cl_command_queue *q,
                        CLBlastStatusCode *err) {
  CLBlastTranspose ta = t->ta ? CLBlastTransposeYes : CLBlastTransposeNo;
  CLBlastTranspose tb = t->tb ? CLBlastTransposeYes : CLBlastTransposeNo;
  size_t rows = (size_t)t->rows, n = (size_t)t->n, k = (size_t)t->k;
  size_t al = ld(t->a_ld), bl = ld(t->b_ld), cl = ld(t->n), bytes = 0;
  CLBlastStatusCode (*size_of)(CLBlastLayout, CLBlastTranspose,
                               CLBlastTranspose, size_t, size_t, size_t,
                               size_t, size_t, size_t, size_t, size_t,
                               size_t, cl_command_queue *, size_t *) =
      t->dtype == CB_FLOAT32     ? CLBlastSGemmTempBufferSize
      : t->dtype == CB_FLOAT64   ? CLBlastDGemmTempBufferSize
      : t->dtype == CB_COMPLEX64 ? CLBlastCGemmTempBufferSize
                                 : CLBlastZGemmTempBufferSize;
  *err = size_of(CLBlastLayoutRowMajor, ta, tb, rows, n, k, a_off, al, b_off,
                 bl, c_off, cl, q, &bytes);
  if (*err != CLBlastSuccess || !bytes)
    return NULL;
  cl_int st;
  cl_mem m = cb__scratch(*q, CB__SCRATCH_TEMP, bytes, &st);
  *err = (CLBlastStatusCode)st;
  return m;
}

/* enqueue() for complex elements: alpha and beta are real, (x, 0). */
static CLBlastStatusCode enqueue_complex(const cb__blas_task *t,
                                         size_t a_off, cl_mem a,
                                         size_t b_off, cl_mem b, cl_mem c,
                                         size_t c_off, cl_command_queue *q,
                                         cl_event *ev) {
  CLBlastTranspose ta = t->ta ? CLBlastTransposeYes : CLBlastTransposeNo;
  CLBlastTranspose tb = t->tb ? CLBlastTransposeYes : CLBlastTransposeNo;
  size_t rows = (size_t)t->rows, n = (size_t)t->n, k = (size_t)t->k;
  cl_float2 fa = {{(float)t->alpha, 0}}, fb = {{(float)t->beta, 0}};
  cl_float2 fone = {{1, 0}};
  cl_double2 da = {{t->alpha, 0}}, db = {{t->beta, 0}}, done = {{1, 0}};
  int c64 = t->dtype == CB_COMPLEX64;
  switch (t->kind) {
  case CB__LA_GEMM: {
    CLBlastStatusCode s;
    cl_mem temp = gemm_temp(t, a_off, b_off, c_off, q, &s);
    if (s != CLBlastSuccess)
      return s;
    return c64 ? CLBlastCgemmWithTempBuffer(
                     CLBlastLayoutRowMajor, ta, tb, rows, n, k, fa, a, a_off,
                     ld(t->a_ld), b, b_off, ld(t->b_ld), fb, c, c_off,
                     ld(t->n), q, ev, temp)
               : CLBlastZgemmWithTempBuffer(
                     CLBlastLayoutRowMajor, ta, tb, rows, n, k, da, a, a_off,
                     ld(t->a_ld), b, b_off, ld(t->b_ld), db, c, c_off,
                     ld(t->n), q, ev, temp);
  }
  case CB__LA_GEMV: {
    size_t sr = t->ta ? k : rows, sc = t->ta ? rows : k;
    return c64 ? CLBlastCgemv(CLBlastLayoutRowMajor, ta, sr, sc, fa, a, a_off,
                              ld(t->a_ld), b, b_off, 1, fb, c, c_off, 1, q,
                              ev)
               : CLBlastZgemv(CLBlastLayoutRowMajor, ta, sr, sc, da, a, a_off,
                              ld(t->a_ld), b, b_off, 1, db, c, c_off, 1, q,
                              ev);
  }
  default:
    return c64 ? CLBlastComatcopy(CLBlastLayoutRowMajor, CLBlastTransposeYes,
                                  n, rows, fone, a, a_off, ld(t->a_ld), c,
                                  c_off, ld(t->n), q, ev)
               : CLBlastZomatcopy(CLBlastLayoutRowMajor, CLBlastTransposeYes,
                                  n, rows, done, a, a_off, ld(t->a_ld), c,
                                  c_off, ld(t->n), q, ev);
  }
}

/* Enqueues the block's routine; *ev is its event on success. */
static CLBlastStatusCode enqueue(const cb__blas_task *t, const operand *a,
                                 const operand *b, cl_mem c, size_t c_off,
                                 cl_command_queue *q, cl_event *ev) {
  size_t a_off = (size_t)(t->a_at + a->shift);
  size_t b_off = b->mem ? (size_t)b->shift : 0;
  CLBlastTranspose ta = t->ta ? CLBlastTransposeYes : CLBlastTransposeNo;
  CLBlastTranspose tb = t->tb ? CLBlastTransposeYes : CLBlastTransposeNo;
  int f32 = t->dtype == CB_FLOAT32;
  size_t rows = (size_t)t->rows, n = (size_t)t->n, k = (size_t)t->k;
  if (t->dtype == CB_COMPLEX64 || t->dtype == CB_COMPLEX128)
    return enqueue_complex(t, a_off, a->mem, b_off, b->mem, c, c_off, q, ev);
  switch (t->kind) {
  case CB__LA_GEMM: {
    /* The temporary matrices in the device's scratch (see the top). */
    CLBlastStatusCode s;
    cl_mem temp = gemm_temp(t, a_off, b_off, c_off, q, &s);
    if (s != CLBlastSuccess)
      return s;
    return f32 ? CLBlastSgemmWithTempBuffer(
                     CLBlastLayoutRowMajor, ta, tb, rows, n, k,
                     (float)t->alpha, a->mem, a_off, ld(t->a_ld), b->mem,
                     b_off, ld(t->b_ld), (float)t->beta, c, c_off, ld(t->n),
                     q, ev, temp)
               : CLBlastDgemmWithTempBuffer(
                     CLBlastLayoutRowMajor, ta, tb, rows, n, k, t->alpha,
                     a->mem, a_off, ld(t->a_ld), b->mem, b_off, ld(t->b_ld),
                     t->beta, c, c_off, ld(t->n), q, ev, temp);
  }
  case CB__LA_GEMV: {
    /* op(A)'s block is rows x k; stored, k x rows when transposed. */
    size_t sr = t->ta ? k : rows, sc = t->ta ? rows : k;
    return f32 ? CLBlastSgemv(CLBlastLayoutRowMajor, ta, sr, sc,
                              (float)t->alpha, a->mem, a_off, ld(t->a_ld),
                              b->mem, b_off, 1, (float)t->beta, c, c_off, 1,
                              q, ev)
               : CLBlastDgemv(CLBlastLayoutRowMajor, ta, sr, sc, t->alpha,
                              a->mem, a_off, ld(t->a_ld), b->mem, b_off, 1,
                              t->beta, c, c_off, 1, q, ev);
  }
  default:
    /* The block's columns of A (n x rows from column a_at) turned into
     * rows x n. */
    return f32 ? CLBlastSomatcopy(CLBlastLayoutRowMajor, CLBlastTransposeYes,
                                  n, rows, 1.0f, a->mem, a_off, ld(t->a_ld),
                                  c, c_off, ld(t->n), q, ev)
               : CLBlastDomatcopy(CLBlastLayoutRowMajor, CLBlastTransposeYes,
                                  n, rows, 1.0, a->mem, a_off, ld(t->a_ld),
                                  c, c_off, ld(t->n), q, ev);
  }
}

static void blas_opencl(void *buffers[], void *cl_arg) {
  cb__blas_task *t = cl_arg;
  if (cb__ctx_skip(&t->ctx))
    return;
  cl_command_queue q;
  starpu_opencl_get_queue(starpu_worker_get_devid(starpu_worker_get_id()),
                          &q);
  size_t es = cb_dtype_size(t->dtype);
  operand a = {0}, b = {0};
  void *cbuf = buffers[t->na + t->nb];
  cl_mem c = (cl_mem)STARPU_VECTOR_GET_DEV_HANDLE(cbuf);
  size_t c_off = STARPU_VECTOR_GET_OFFSET(cbuf) / es;
  const char *what = "gathering A";
  int blast = 0;
  cl_int st = gather(buffers, t->na, t->a_base, t->a_lo, t->a_hi, es, q,
                     CB__SCRATCH_A, &a);
  if (st == CL_SUCCESS && t->nb) {
    what = "gathering B";
    st = gather(buffers + t->na, t->nb, 0, 0, t->b_size, es, q,
                CB__SCRATCH_B, &b);
  }
  /* BLAS ignores C when beta is 0, NaNs included: start from zeros. */
  if (st == CL_SUCCESS && t->kind != CB__LA_TRANSPOSE && t->beta == 0) {
    what = "clearing the output";
    static const cb_complex128 zero; /* of the widest element */
    st = clEnqueueFillBuffer(q, c, &zero, es, c_off * es,
                             (size_t)(t->rows * t->n) * es, 0, NULL, NULL);
  }
  cl_event ev = NULL;
  if (st == CL_SUCCESS) {
    what = t->kind == CB__LA_GEMM ? "gemm"
           : t->kind == CB__LA_GEMV ? "gemv" : "omatcopy";
    blast = 1;
    /* The first call of the routine on the device fills CLBlast's
     * caches: one such call at a time (see the top). */
    unsigned gen = atomic_load(&cb__devtab_gen);
    unsigned *warm = &devs[starpu_worker_get_devid(starpu_worker_get_id())]
                          .warm[t->kind][precision_of(t->dtype)];
    int cold = *warm != gen;
    if (cold)
      pthread_mutex_lock(&clblast_lock);
    st = (cl_int)enqueue(t, &a, &b, c, c_off, &q, &ev);
    if (cold) {
      if (st == CL_SUCCESS)
        *warm = gen;
      pthread_mutex_unlock(&clblast_lock);
    }
    if (st == CL_SUCCESS && ev) {
      blast = 0;
      cb__cl_end(&t->ctx, ev, what); /* it records its failure */
    } else if (st == CL_SUCCESS) {
      st = cb__cl_finish(&t->ctx, q);
    }
  }
  if (st != CL_SUCCESS)
    cb__ctx_fail(&t->ctx, st == CL_MEM_OBJECT_ALLOCATION_FAILURE ||
                                  st == CL_OUT_OF_HOST_MEMORY
                              ? CB_EDEVMEM
                              : CB_EDEVICE,
                 st, "%s on %s: %s%s failed: %s (%d)", t->ctx.name,
                 cb__ctx_device_name(&t->ctx),
                 blast ? "CLBlast " : "", what,
                 blast ? clblast_name((CLBlastStatusCode)st)
                       : cb_cl_status_name(st),
                 (int)st);
}

void cb__blas_opencl(void *buffers[], void *cl_arg) {
  cb__cl_async_begin();
  blas_opencl(buffers, cl_arg);
  cb__cl_async_end();
}
