/*
 * Linear algebra: matrix products and transposes as one StarPU task per
 * tile of the output. 2-D arrays are tiled in whole rows, so an output
 * tile is a block of rows, which needs the matching rows of A (or all of
 * A when op(A) is a transpose) and all of B. On CPU workers the tiles of
 * an array lie one after the other in its host buffer, so A's rows are
 * read in place even when they span tiles; on OpenCL devices the codelet
 * gathers them (codelets/blas_opencl.c).
 *
 * Every kind of task has one codelet per dtype, each with a history-based
 * performance model, so that the scheduler learns the cost of BLAS blocks
 * on each kind of worker.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "arrays.h"
#include "devices.h"
#include "blas_codelets.h"
#include "clasync.h"
#include "budget.h"
#include "devtab.h"
#include "distributed.h"
#include "drivers.h"
#include "errors.h"
#include "events.h"
#include "ewise.h"
#include "failure.h"
#include "jobs.h"
#include "runtime.h"
#include "shapes.h"
#include "task_end.h"
#include "lazy.h"

static const char *const kind_names[CB__LA_NKINDS] = {"gemm", "gemv",
                                                      "transpose"};

static struct starpu_perfmodel models[CB__LA_NKINDS][CB_NDTYPES];
static struct starpu_codelet codelets[CB__LA_NKINDS][CB_NDTYPES];
static char symbols[CB__LA_NKINDS][CB_NDTYPES][48];
static pthread_once_t codelets_once = PTHREAD_ONCE_INIT;

/* StarPU keeps pointers to the models across runtimes: they are static
 * and made once. */
static void make_codelets(void) {
  for (int k = 0; k < CB__LA_NKINDS; k++)
    for (int t = 0; t < CB_NDTYPES; t++) {
      snprintf(symbols[k][t], sizeof symbols[k][t], "cambrian_%s_%s",
               kind_names[k], cb_dtype_name((cb_dtype)t));
      models[k][t].type = STARPU_HISTORY_BASED;
      models[k][t].symbol = symbols[k][t];
      struct starpu_codelet *cl = &codelets[k][t];
      cl->where = STARPU_CPU | STARPU_OPENCL;
      cl->cpu_funcs[0] = cb__blas_cpu;
      cl->opencl_funcs[0] = cb__blas_opencl;
      cl->opencl_flags[0] = CB__CL_ASYNC;
      cl->nbuffers = STARPU_VARIABLE_NBUFFERS;
      cl->model = &models[k][t];
      cl->name = symbols[k][t] + strlen("cambrian_");
    }
  cb__blas_cpu_setup();
}

/* One operation: out = alpha * op(a) op(b) + beta * out over m x n, with
 * inner dimension k. */
typedef struct la_op {
  const char *name;           /* what failures and faults call it */
  int kind;
  cb_dtype dtype;
  int ta, tb;
  int64_t m, n, k;
  int64_t a_ld, b_ld;
  double alpha, beta;
  cb_array *a, *b, *out;
  uint64_t out_bytes;         /* out's size, known before out is made */
  int out_read;               /* out is read too (gemm, gemv) */
} la_op;

/* The dtypes BLAS multiplies, and those of them kernels need float64 for. */
static int is_blas(cb_dtype t) {
  return t == CB_FLOAT32 || t == CB_FLOAT64 || t == CB_COMPLEX64 ||
         t == CB_COMPLEX128;
}
static int is_double(cb_dtype t) {
  return t == CB_FLOAT64 || t == CB_COMPLEX128;
}

static int check_dims(const la_op *op) {
  int64_t dims[] = {op->m, op->n, op->k, op->a_ld, op->b_ld};
  for (size_t i = 0; i < sizeof dims / sizeof *dims; i++)
    if (dims[i] > INT_MAX)
      return cb__fail(CB_ERANGE,
                      "%s: dimension %lld is beyond what BLAS takes (%d)",
                      op->name, (long long)dims[i], INT_MAX);
  return 0;
}

/* Whether an OpenCL device can run the whole operation: float64 support,
 * its buffers and their gathered copies within its memory. */
static int fits_device(const la_op *op, const cb__device *d, char *why,
                       size_t whylen) {
  if (is_double(op->dtype) && !d->info.fp64) {
    snprintf(why, whylen, "device %s does not support %s",
             d->info.filter_string, cb_dtype_name(op->dtype));
    return 0;
  }
  uint64_t a = op->a->nbytes, b = op->b ? op->b->nbytes : 0;
  uint64_t total = 2 * a + 2 * b + (op->out ? op->out->nbytes
                                            : op->out_bytes);
  uint64_t largest = a > b ? a : b;
  uint64_t room = cb__budget_device_bytes((int)(d - cb__devices));
  if (largest > d->info.max_alloc_bytes || total > room) {
    snprintf(why, whylen,
             "%s needs up to %llu bytes (%llu in one buffer); %s has %llu "
             "(%llu in one buffer)", op->name, (unsigned long long)total,
             (unsigned long long)largest, d->info.filter_string,
             (unsigned long long)room,
             (unsigned long long)d->info.max_alloc_bytes);
    return 0;
  }
  return 1;
}

/* Where the tasks may run. cpu_only: the operation has no OpenCL path
 * (other dtypes, an empty inner dimension) or it cannot fit there. */
static int plan_device(const la_op *op, int device, int *cpu_only) {
  char why[256];
  *cpu_only = !is_blas(op->dtype) || (op->kind != CB__LA_TRANSPOSE &&
                                       op->k == 0);
  if (device < -1 || (device >= 0 && !cb__device_valid(device)))
    return cb__fail(CB_ENODEV, "no device %d", device);
  int rc = cb__device_usable(device);
  if (rc)
    return rc;
  /* A set's devices are alike: its first stands for them all. */
  int one = cb__device_for_tile(device, 0);
  if (device >= 0 && cb__devices[one].opencl_devid >= 0 && !*cpu_only) {
    if (!fits_device(op, &cb__devices[one], why, sizeof why))
      return cb__fail(is_double(op->dtype) &&
                              !cb__devices[one].info.fp64
                          ? CB_ETYPE
                          : CB_EDEVMEM,
                      "%s", why);
    return 0;
  }
  if (device < 0 && !*cpu_only)
    for (int i = 0; i < cb__ndevices; i++)
      if (cb__devices[i].opencl_devid >= 0 &&
          !fits_device(op, &cb__devices[i], why, sizeof why))
        *cpu_only = 1;
  if (*cpu_only && starpu_cpu_worker_get_count() == 0)
    return cb__fail(CB_ENODEV, "%s of %s needs CPU workers", op->name,
                    cb_dtype_name(op->dtype));
  return 0;
}

static void release_task(void *arg) {
  cb__blas_task *t = arg;
  cb__ctx_drop_refs(&t->ctx, t->arrays, t->narrays);
  free(t);
}

static void task_done(void *arg) {
  cb__blas_task *t = arg;
  cb__ctx_end(&t->ctx, release_task, t); /* busy_device is -1 */
}

/* Submitting stopped at tile: earlier tiles run, so the output is marked
 * failed, and the event counts the rest as failed parts. Returns rc. */
static int abandon(const la_op *op, cb_event *e, int tile, int rc) {
  return cb__submit_abandon(op->out, e, -1, op->name, tile,
                            op->out->ntiles - tile, rc);
}

/* The tiles of x holding elements [lo, hi): the first and how many. */
static void tile_range(const cb_array *x, int64_t lo, int64_t hi, int *first,
                       int *count) {
  if (hi <= lo || x->ntiles == 0) {
    *first = 0;
    *count = 0;
    return;
  }
  *first = (int)(lo / x->tile_elems);
  *count = (int)((hi - 1) / x->tile_elems) - *first + 1;
}

/* Fills the task of one output tile. */
static int setup_task(const la_op *op, int tile, cb__blas_task *t,
                      struct starpu_task *task) {
  cb_array *out = op->out;
  int64_t first = (int64_t)tile * out->tile_elems;
  int64_t count = out->size - first < out->tile_elems ? out->size - first
                                                      : out->tile_elems;
  int64_t row0 = first / op->n;
  *t = (cb__blas_task){.ctx = {.name = op->name, .device = -1,
                               .busy_device = -1},
                       .kind = op->kind, .dtype = op->dtype, .ta = op->ta,
                       .tb = op->tb, .rows = count / op->n, .n = op->n,
                       .k = op->k, .a_ld = op->a_ld, .b_ld = op->b_ld,
                       .alpha = op->alpha, .beta = op->beta};
  /* The elements of A the block reads, and where op(A)'s block starts. */
  if (op->kind == CB__LA_TRANSPOSE || op->ta) {
    t->a_lo = 0;
    t->a_hi = op->a->size;
    t->a_at = row0;
  } else {
    t->a_lo = t->a_at = row0 * op->k;
    t->a_hi = (row0 + t->rows) * op->k;
  }
  int a0, na;
  tile_range(op->a, t->a_lo, t->a_hi, &a0, &na);
  t->a_base = (int64_t)a0 * op->a->tile_elems;
  t->na = na;
  t->nb = op->b ? op->b->ntiles : 0;
  t->b_size = op->b ? op->b->size : 0;
  int n = t->na + t->nb + 1;
  starpu_data_handle_t *h;
  enum starpu_data_access_mode *m;
  int rc = cb__task_buffers(task, n, &h, &m);
  if (rc)
    return rc;
  int b = 0;
  for (int i = 0; i < t->na; i++, b++) {
    h[b] = op->a->tiles[a0 + i];
    m[b] = STARPU_R;
  }
  for (int i = 0; i < t->nb; i++, b++) {
    h[b] = op->b->tiles[i];
    m[b] = STARPU_R;
  }
  h[b] = out->tiles[tile];
  m[b] = op->out_read ? STARPU_RW : STARPU_W;
  task->nbuffers = n;
  t->arrays[t->narrays++] = op->a;
  if (op->b)
    t->arrays[t->narrays++] = op->b;
  t->arrays[t->narrays++] = out;
  for (int i = 0; i < t->narrays; i++)
    cb_array_ref(t->arrays[i]);
  t->ctx.in = t->arrays;
  t->ctx.nin = t->narrays - (op->out_read ? 0 : 1);
  t->ctx.out = &t->arrays[t->narrays - 1];
  t->ctx.nout = 1;
  return 0;
}

/* Submits one task per tile of op->out, whose writer becomes a new event.
 * The caller holds the run lock and has checked everything. */
static int submit(const la_op *op, int device, int cpu_only) {
  static atomic_uint turns;
  cb_array *out = op->out;
  if (out->ntiles == 0)
    return 0;
  if (out->ntiles > 1 && out->tile_elems % op->n != 0)
    return cb__fail(CB_ERANGE,
                    "%s: rows of %lld elements are longer than a tile",
                    op->name, (long long)op->n);
  pthread_once(&codelets_once, make_codelets);
  cb_event *e = cb__event_new(out->ntiles);
  if (!e)
    return cb__fail(CB_ENOMEM, "out of host memory");
  /* An operation writing an existing array that submits nothing leaves
   * it as it was: its former writer comes back. */
  cb_event *former = cb_array_writer(out);
  cb__array_set_writer(out, e);
  unsigned first = atomic_fetch_add_explicit(&turns, 1, memory_order_relaxed);
  int rc = 0, tile;
  for (tile = 0; tile < out->ntiles && rc == 0; tile++) {
    cb__blas_task *t = malloc(sizeof *t);
    struct starpu_task *task = t ? starpu_task_create() : NULL;
    if (!task) {
      free(t);
      rc = abandon(op, e, tile, cb__fail(CB_ENOMEM, "out of host memory"));
      break;
    }
    if ((rc = setup_task(op, tile, t, task))) {
      cb__task_discard(task);
      release_task(t);
      rc = abandon(op, e, tile, rc);
      break;
    }
    cb__ctx_set_event(&t->ctx, e);
    cb__event_ref(e);
    t->ctx.device = cpu_only ? -1 : device;
    task->cl = &codelets[op->kind][op->dtype];
    task->cl_arg = t;
    task->cl_arg_size = sizeof *t;
    task->callback_func = task_done;
    task->callback_arg = t;
    task->name = op->name;
    if (cpu_only) {
      task->where = STARPU_CPU;
    } else {
      cb__place(task, device, first + (unsigned)tile, tile, 0);
    }
    t->ctx.task = task; /* its end reads the worker it was placed on */
    int worker = cb__task_worker(task);
    cb__busy_begin_on(-1, worker);
    int sp = cb__task_submit(task);
    if (sp) {
      cb__busy_end_on(-1, worker);
      task->callback_func = NULL;
      cb__task_discard(task);
      release_task(t);
      rc = cb__fail(sp == -ENODEV ? CB_ENODEV : CB_ESTARPU,
                    "%s: no worker can run this task (%d)", op->name, sp);
      rc = abandon(op, e, tile, rc);
      break;
    }
  }
  if (rc && tile == 0 && former)
    cb__array_set_writer(out, former);
  cb_event_unref(former);
  cb_event_unref(e);
  return rc;
}

/* Registers the operands and submits; the caller holds the run lock. */
static int run(la_op *op, int device) {
  int rc, cpu_only;
  if ((rc = check_dims(op)) || (rc = plan_device(op, device, &cpu_only)) ||
      (rc = cb__array_register(op->a, device)) ||
      (op->b && (rc = cb__array_register(op->b, device))) ||
      (rc = cb__array_register(op->out, device)))
    return rc;
  cb__lazy_begin(); /* its tasks together (lazy.h) */
  rc = cb__lazy_before_write(op->out);
  if (rc == 0)
    rc = submit(op, device, cpu_only);
  cb__lazy_end();
  return rc;
}

/* Runs op into a new array of the given shape (op->out), returned in
 * *out with its device. */
static int run_new(la_op *op, int ndim, const int64_t *shape, int device,
                   cb_array **out, int *out_device) {
  int rc = cb__enter();
  if (rc)
    return rc;
  /* A device that cannot hold the operation says so before the host is
   * asked for the result's memory. */
  op->out_bytes = cb_dtype_size(op->dtype);
  for (int i = 0; i < ndim; i++)
    op->out_bytes *= (uint64_t)shape[i];
  int cpu_only;
  rc = check_dims(op);
  if (rc == 0)
    rc = plan_device(op, device, &cpu_only);
  /* A product whose rows are rows of a distributed matrix is distributed
   * as it, in tiles of as many rows: each rank computes the rows it owns
   * from its own rows of that matrix and the whole other operand. */
  int spread = op->a->dist != CB_DIST_NONE && op->a->ndim == 2 && !op->ta &&
               op->kind != CB__LA_TRANSPOSE && op->k > 0;
  if (rc == 0 && spread && (rc = cb__array_register(op->a, device)) == 0)
    rc = cb__array_new_dist(op->dtype, ndim, shape, device,
                            op->a->tile_elems / op->k * op->n, op->a->dist,
                            &op->out);
  else if (rc == 0)
    rc = cb__array_new_registered(op->dtype, ndim, shape, device, 0,
                                  &op->out);
  if (rc == 0 && (rc = run(op, device))) {
    cb_array_unref(op->out);
    op->out = NULL;
  }
  cb__leave();
  if (rc == 0) {
    *out = op->out;
    *out_device = device;
  }
  return rc;
}

static int check_float(const char *name, const cb_array *const *x, int n) {
  for (int i = 0; i < n; i++) {
    if (!is_blas(x[i]->dtype))
      return cb__fail(CB_ETYPE,
                      "%s: operands must be float32, float64, complex64 "
                      "or complex128, got %s",
                      name, cb_dtype_name(x[i]->dtype));
    if (x[i]->dtype != x[0]->dtype)
      return cb__fail(CB_ETYPE,
                      "%s: operands are %s and %s; convert one with "
                      "astype()", name, cb_dtype_name(x[0]->dtype),
                      cb_dtype_name(x[i]->dtype));
  }
  return 0;
}

static int64_t dim(const cb_array *a, int i) { return a->shape[i]; }

int cb__matmul_shape(const cb_array *a, const cb_array *b, int *ndim,
                     int64_t *shape) {
  if (a->ndim == 0 || b->ndim == 0)
    return cb__fail(CB_ESHAPE,
                    "matmul: operands must have 1 or 2 dimensions, not 0 "
                    "(use * for scalars)");
  if (a->ndim > 2 || b->ndim > 2)
    return cb__fail(CB_ESHAPE,
                    "matmul: operands must have 1 or 2 dimensions, not %d "
                    "(stacks of matrices are multiplied one matrix at a "
                    "time by cambrian.matmul)",
                    a->ndim > 2 ? a->ndim : b->ndim);
  int64_t ka = a->ndim == 2 ? dim(a, 1) : dim(a, 0);
  int64_t kb = dim(b, 0);
  if (ka != kb)
    return cb__fail(CB_ESHAPE,
                    "matmul: operands do not match in their inner "
                    "dimension: %lld (a) and %lld (b)",
                    (long long)ka, (long long)kb);
  *ndim = 0;
  if (a->ndim == 2)
    shape[(*ndim)++] = dim(a, 0);
  if (b->ndim == 2)
    shape[(*ndim)++] = dim(b, 1);
  return 0;
}

int cb_matmul(cb_array *a, cb_array *b, int device, cb_array **out,
              int *out_device) {
  const cb_array *x[2] = {a, b};
  int rc = check_float("matmul", x, 2);
  if (rc)
    return rc;
  int64_t shape[2];
  int ndim;
  if ((rc = cb__matmul_shape(a, b, &ndim, shape)))
    return rc;
  int64_t ka = a->ndim == 2 ? dim(a, 1) : dim(a, 0);
  la_op op = {.name = "matmul", .dtype = a->dtype, .k = ka, .alpha = 1.0};
  if (b->ndim == 2) {
    int64_t n = dim(b, 1);
    if (a->ndim == 2) { /* (m, k) @ (k, n) */
      op.kind = CB__LA_GEMM;
      op.a = a;
      op.b = b;
      op.m = dim(a, 0);
      op.n = n;
      op.a_ld = ka;
      op.b_ld = n;
    } else { /* (k,) @ (k, n): b's transpose times a */
      op.kind = CB__LA_GEMV;
      op.ta = 1;
      op.a = b;
      op.b = a;
      op.m = n;
      op.n = 1;
      op.a_ld = n;
    }
  } else { /* (m, k) @ (k,), or (k,) @ (k,) as a 1 x k matrix */
    op.kind = CB__LA_GEMV;
    op.a = a;
    op.b = b;
    op.m = a->ndim == 2 ? dim(a, 0) : 1;
    op.n = 1;
    op.a_ld = ka;
  }
  return run_new(&op, ndim, shape, device, out, out_device);
}

/* In-place products: c must be another array than the operands. */
static int check_inplace(const char *name, const cb_array *c,
                         const cb_array *a, const cb_array *b) {
  if (c == a || c == b)
    return cb__fail(CB_EINVAL,
                    "%s: the output must not be an operand (BLAS reads "
                    "them while it writes it)", name);
  return 0;
}

int cb_gemm(double alpha, cb_array *a, cb_trans ta, cb_array *b,
            cb_trans tb, double beta, cb_array *c, int device) {
  const cb_array *x[3] = {c, a, b};
  int rc = check_float("gemm", x, 3);
  if (rc || (rc = check_inplace("gemm", c, a, b)))
    return rc;
  if (a->ndim != 2 || b->ndim != 2 || c->ndim != 2)
    return cb__fail(CB_ESHAPE,
                    "gemm: A, B and C must be 2-D (got %d-D, %d-D, %d-D)",
                    a->ndim, b->ndim, c->ndim);
  int64_t m = ta ? dim(a, 1) : dim(a, 0), ka = ta ? dim(a, 0) : dim(a, 1);
  int64_t kb = tb ? dim(b, 1) : dim(b, 0), n = tb ? dim(b, 0) : dim(b, 1);
  if (ka != kb || dim(c, 0) != m || dim(c, 1) != n)
    return cb__fail(CB_ESHAPE,
                    "gemm: op(A) is (%lld, %lld), op(B) (%lld, %lld) and C "
                    "(%lld, %lld); they must be (m, k), (k, n) and (m, n)",
                    (long long)m, (long long)ka, (long long)kb, (long long)n,
                    (long long)dim(c, 0), (long long)dim(c, 1));
  la_op op = {.name = "gemm", .kind = CB__LA_GEMM, .dtype = c->dtype,
              .ta = ta != CB_NOTRANS, .tb = tb != CB_NOTRANS, .m = m,
              .n = n, .k = ka, .a_ld = dim(a, 1), .b_ld = dim(b, 1),
              .alpha = alpha, .beta = beta, .a = a, .b = b, .out = c,
              .out_read = 1};
  if ((rc = cb__enter()))
    return rc;
  rc = run(&op, device);
  cb__leave();
  return rc;
}

int cb_gemv(double alpha, cb_array *a, cb_trans ta, cb_array *x,
            double beta, cb_array *y, int device) {
  const cb_array *ops[3] = {y, a, x};
  int rc = check_float("gemv", ops, 3);
  if (rc || (rc = check_inplace("gemv", y, a, x)))
    return rc;
  if (a->ndim != 2 || x->ndim != 1 || y->ndim != 1)
    return cb__fail(CB_ESHAPE,
                    "gemv: A must be 2-D, x and y 1-D (got %d-D, %d-D, "
                    "%d-D)", a->ndim, x->ndim, y->ndim);
  int64_t m = ta ? dim(a, 1) : dim(a, 0), k = ta ? dim(a, 0) : dim(a, 1);
  if (dim(x, 0) != k || dim(y, 0) != m)
    return cb__fail(CB_ESHAPE,
                    "gemv: op(A) is (%lld, %lld), x (%lld,) and y (%lld,); "
                    "they must be (m, k), (k,) and (m,)",
                    (long long)m, (long long)k, (long long)dim(x, 0),
                    (long long)dim(y, 0));
  la_op op = {.name = "gemv", .kind = CB__LA_GEMV, .dtype = y->dtype,
              .ta = ta != CB_NOTRANS, .m = m, .n = 1, .k = k,
              .a_ld = dim(a, 1), .alpha = alpha, .beta = beta, .a = a,
              .b = x, .out = y, .out_read = 1};
  if ((rc = cb__enter()))
    return rc;
  rc = run(&op, device);
  cb__leave();
  return rc;
}

int cb_transpose(cb_array *a, int device, cb_array **out, int *out_device) {
  if (a->ndim != 2)
    return cb__fail(CB_ESHAPE, "transpose: the array must be 2-D, not %d-D",
                    a->ndim);
  int64_t shape[2] = {dim(a, 1), dim(a, 0)};
  la_op op = {.name = "transpose", .kind = CB__LA_TRANSPOSE,
              .dtype = a->dtype, .m = shape[0], .n = shape[1],
              .k = shape[1], .a_ld = shape[0], .alpha = 1.0, .a = a};
  return run_new(&op, 2, shape, device, out, out_device);
}
