/*
 * OpenCL side of the reductions: a kernel per variant (family, dtypes,
 * mode) is generated, built on first use on each device and kept in the
 * program cache. A tile is reduced on the device into its partials,
 * which are all that leaves it:
 *   every element  work-group g reduces chunk g of the tile (of
 *                  CB__RCHUNKS), its work-items striding over the chunk,
 *                  then a tree in local memory;
 *   each row       work-group r reduces row r the same way;
 *   each column    work-item c walks down column c;
 *   each column    work-item (c, s) walks down column c of slab s
 *   of each slab   (an axis between the first and the last).
 * On a CPU device (pocl) each work-item reads in step instead: its chunk
 * or row in CB__RLANES accumulators (min and max), or CB__RLANES columns
 * a row at a time.
 * Every OpenCL status is checked and recorded on the task's result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CL/cl.h>

#include "clasync.h"
#include "clprog.h"
#include "errors.h"
#include "reduce_codelets.h"

/* Accumulators of a work-item on a CPU device (see reduce_tile_opencl). */
#define CB__RLANES 16

static const char *const cl_hi[CB_NDTYPES] = {
    "1",        "INT_MAX",   "LONG_MAX",  "INFINITY", "INFINITY", "CHAR_MAX",
    "SHRT_MAX", "UCHAR_MAX", "USHRT_MAX", "UINT_MAX", "ULONG_MAX"};
static const char *const cl_lo[CB_NDTYPES] = {
    "0",        "INT_MIN", "LONG_MIN", "-INFINITY", "-INFINITY", "CHAR_MIN",
    "SHRT_MIN", "0",       "0",        "0",         "0"};

static uint32_t variant_key(const cb__rtask *t) {
  return (uint32_t)t->family << 12 | (uint32_t)t->in << 8 |
         (uint32_t)t->part << 4 | (uint32_t)t->mode;
}

/* The type accumulators have on the device. */
static const char *acc_type(const cb__rtask *t) {
  if (t->family == CB__RF_MIN || t->family == CB__RF_MAX)
    return cb__cl_type(t->in);
  return t->part == CB_INT64 || t->part == CB_UINT64 ? "ulong"
                                                     : cb__cl_type(t->part);
}


/* The parameters every reduction kernel takes first (T: the elements, P:
 * the partials, A: the accumulators). */
static const char kernel_head[] =
    "__kernel void cb_reduce(__global const T *x, const ulong xo,\n"
    "    __global const T *y, const ulong yo, __global P *out,\n"
    "    const ulong oo, const ulong n, const ulong cols,\n"
    "    const ulong rows, const int lanes, __local A *scratch";

/* The kernel of argmin or argmax: the best value and its index, of each
 * chunk or row (a work-group each, its work-items striding, then a tree
 * in local memory) or down each column. BETTER says whether (b, bi)
 * replaces (a, ai): a strictly better value, or the first NaN; on ties
 * the smaller index; an index of -1 is no element. The kernel takes the
 * other reductions' arguments, then the indices' buffer and offset, the
 * base added to each index, and their local memory. */
static size_t arg_source(const cb__rtask *t, char *buf, size_t cap) {
  int isf = t->in == CB_FLOAT32 || t->in == CB_FLOAT64;
  size_t len = 0;
  if (t->in == CB_FLOAT64)
    cb__put(buf, cap, &len, "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n");
  cb__put(buf, cap, &len,
      "#define T %s\n#define A T\n#define P T\n#define ISNAN(v) %s\n"
      "#define X(i) x[xo + (i)]\n#define CHUNKS %d\n"
      "#define BETTER(a, ai, b, bi) ((bi) >= 0 && ((ai) < 0 || (ISNAN(a) ? "
      "(ISNAN(b) && (bi) < (ai)) : (ISNAN(b) || (b) %s (a) || "
      "((b) == (a) && (bi) < (ai))))))\n",
      cb__cl_type(t->in), isf ? "isnan(v)" : "0", CB__RCHUNKS,
      t->family == CB__RF_ARGMIN ? "<" : ">");
  cb__put(buf, cap, &len, "%s,\n"
      "    __global long *iout, const ulong io, const long base,\n"
      "    __local long *iscratch) {\n", kernel_head);
  if (t->mode == CB__RM_COLS || t->mode == CB__RM_MID) {
    cb__put(buf, cap, &len,
        "  const ulong c = get_global_id(0), s = get_global_id(1);\n"
        "  if (c >= cols) return;\n"
        "  const ulong at = s * rows * cols + c;\n"
        "  T a = X(at);\n"
        "  long ai = 0;\n"
        "  for (ulong r = 1; r < rows; r++) {\n"
        "    T v = X(at + r * cols);\n"
        "    if (BETTER(a, ai, v, (long)r)) { a = v; ai = (long)r; }\n"
        "  }\n"
        "  out[oo + s * cols + c] = a;\n"
        "  iout[io + s * cols + c] = ai + base;\n}\n");
    return len < cap ? len : 0;
  }
  int all = t->mode == CB__RM_ALL;
  cb__put(buf, cap, &len,
      "  const ulong g = get_group_id(0);\n"
      "  const uint l = get_local_id(0), L = get_local_size(0);\n"
      "  const ulong lo = %s, hi = %s;\n"
      "  T a = 0;\n"
      "  long ai = -1;\n"
      "  for (ulong i = lo + l; i < hi; i += L) {\n"
      "    T v = X(i);\n"
      "    if (BETTER(a, ai, v, (long)i)) { a = v; ai = (long)i; }\n"
      "  }\n"
      "  scratch[l] = a;\n"
      "  iscratch[l] = ai;\n"
      "  barrier(CLK_LOCAL_MEM_FENCE);\n"
      "  for (uint w = L / 2; w > 0; w >>= 1) {\n"
      "    if (l < w && BETTER(scratch[l], iscratch[l], scratch[l + w],\n"
      "                        iscratch[l + w])) {\n"
      "      scratch[l] = scratch[l + w];\n"
      "      iscratch[l] = iscratch[l + w];\n"
      "    }\n"
      "    barrier(CLK_LOCAL_MEM_FENCE);\n"
      "  }\n"
      "  if (l == 0) {\n"
      "    out[oo + g] = scratch[0];\n"
      "    iout[io + g] = iscratch[0] < 0 ? -1 : iscratch[0] + %s;\n"
      "  }\n}\n",
      all ? "n * g / CHUNKS" : "g * cols",
      all ? "n * (g + 1) / CHUNKS" : "(g + 1) * cols",
      all ? "base" : "base - (long)(g * cols)");
  return len < cap ? len : 0;
}

static size_t kernel_source(const void *arg, char *buf, size_t cap) {
  const cb__rtask *t = arg;
  if (CB__RF_IS_ARG(t->family))
    return arg_source(t, buf, cap);
  static const char *const steps[CB__NRF] = {
      [CB__RF_ADD] = "a += (A)X(i)",
      [CB__RF_SQUARE] = "{ A v_ = (A)X(i); a += v_ * v_; }",
      [CB__RF_DOT] = "a += (A)X(i) * (A)Y(i)",
      [CB__RF_MIN] = "{ T v_ = X(i); a = ((v_ < a) | ISNAN(v_)) ? v_ : a; }",
      [CB__RF_MAX] = "{ T v_ = X(i); a = ((v_ > a) | ISNAN(v_)) ? v_ : a; }"};
  static const char *const merges[CB__NRF] = {
      [CB__RF_ADD] = "((a) + (b))",
      [CB__RF_SQUARE] = "((a) + (b))",
      [CB__RF_DOT] = "((a) + (b))",
      [CB__RF_MIN] = "(((b) < (a) || ISNAN(b)) ? (b) : (a))",
      [CB__RF_MAX] = "(((b) > (a) || ISNAN(b)) ? (b) : (a))"};
  const char *init = t->family == CB__RF_MIN   ? cl_hi[t->in]
                     : t->family == CB__RF_MAX ? cl_lo[t->in]
                                               : "0";
  int isf = t->in == CB_FLOAT32 || t->in == CB_FLOAT64;
  size_t len = 0;
  if (t->in == CB_FLOAT64 || t->part == CB_FLOAT64)
    cb__put(buf, cap, &len, "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n");
  cb__put(buf, cap, &len,
      "#define T %s\n#define A %s\n#define P %s\n#define INIT ((A)%s)\n"
      "#define ISNAN(v) %s\n#define X(i) x[xo + (i)]\n"
      "#define Y(i) y[yo + (i)]\n#define STEP(a, i) %s\n"
      "#define MERGE(a, b) %s\n#define CHUNKS %d\n#define W %d\n",
      cb__cl_type(t->in), acc_type(t), cb__cl_type(t->part), init,
      isf ? "isnan(v)" : "0", steps[t->family], merges[t->family],
      CB__RCHUNKS, CB__RLANES);
  cb__put(buf, cap, &len, "%s) {\n", kernel_head);
  if (t->mode == CB__RM_COLS || t->mode == CB__RM_MID) {
    /* Work-item (c, s) walks down column c of slab s; with lanes (a CPU
     * device), down columns c * W to c * W + W - 1, a row at a time. */
    cb__put(buf, cap, &len,
        "  const ulong c = get_global_id(0), s = get_global_id(1);\n"
        "  if (lanes) {\n"
        "    const ulong c0 = c * W;\n"
        "    if (c0 >= cols) return;\n"
        "    const ulong w = cols - c0 < W ? cols - c0 : W;\n"
        "    const ulong at = s * rows * cols + c0;\n"
        "    A l[W];\n"
        "    for (int j = 0; j < W; j++) l[j] = INIT;\n"
        "    for (ulong r = 0; r < rows; r++) {\n"
        "      const ulong b = at + r * cols;\n"
        "      if (w == W) {\n"
        "        for (int j = 0; j < W; j++) STEP(l[j], b + j);\n"
        "      } else {\n"
        "        for (ulong j = 0; j < w; j++) STEP(l[j], b + j);\n"
        "      }\n"
        "    }\n"
        "    for (ulong j = 0; j < w; j++) out[oo + s * cols + c0 + j] = "
        "(P)l[j];\n"
        "    return;\n"
        "  }\n"
        "  if (c >= cols) return;\n"
        "  const ulong at = s * rows * cols + c;\n"
        "  A a = INIT;\n"
        "  for (ulong r = 0; r < rows; r++) STEP(a, at + r * cols);\n"
        "  out[oo + s * cols + c] = (P)a;\n}\n");
    return len < cap ? len : 0;
  }
  cb__put(buf, cap, &len,
      "  const ulong g = get_group_id(0);\n"
      "  const uint l = get_local_id(0), L = get_local_size(0);\n"
      "  const ulong lo = %s, hi = %s;\n",
      t->mode == CB__RM_ALL ? "n * g / CHUNKS" : "g * cols",
      t->mode == CB__RM_ALL ? "n * (g + 1) / CHUNKS" : "(g + 1) * cols");
  /* Sums need no lanes: reassociated (-cl-unsafe-math-optimizations),
   * one accumulator becomes a vector by itself. */
  if (t->family == CB__RF_MIN || t->family == CB__RF_MAX)
    cb__put(buf, cap, &len,
      "  if (lanes) {\n"
      "    /* One work-item reads its chunk or row in W accumulators. */\n"
      "    A v[W];\n"
      "    for (int j = 0; j < W; j++) v[j] = INIT;\n"
      "    ulong i = lo;\n"
      "    for (; i + W <= hi; i += W)\n"
      "      for (int j = 0; j < W; j++) STEP(v[j], i + j);\n"
      "    for (; i < hi; i++) STEP(v[0], i);\n"
      "    for (int w = W / 2; w > 0; w >>= 1)\n"
      "      for (int j = 0; j < w; j++) v[j] = MERGE(v[j], v[j + w]);\n"
      "    out[oo + g] = (P)v[0];\n"
      "    return;\n"
      "  }\n");
  cb__put(buf, cap, &len,
      "  A a = INIT;\n"
      "  for (ulong i = lo + l; i < hi; i += L) STEP(a, i);\n"
      "  scratch[l] = a;\n"
      "  barrier(CLK_LOCAL_MEM_FENCE);\n"
      "  for (uint w = L / 2; w > 0; w >>= 1) {\n"
      "    if (l < w) scratch[l] = MERGE(scratch[l], scratch[l + w]);\n"
      "    barrier(CLK_LOCAL_MEM_FENCE);\n"
      "  }\n"
      "  if (l == 0) out[oo + g] = (P)scratch[0];\n}\n");
  return len < cap ? len : 0;
}

/* The largest power of two not above n (n >= 1). */
static size_t pow2_floor(size_t n) {
  size_t p = 1;
  while (p * 2 <= n)
    p *= 2;
  return p;
}

static void reduce_tile_opencl(void *buffers[], void *cl_arg) {
  cb__rtask *t = cl_arg;
  if (cb__ctx_skip(&t->ctx) || cb__reduce_refused(t))
    return;
  int devid = starpu_worker_get_devid(starpu_worker_get_id());
  /* Sums may be reassociated (the tree does so anyway); min and max keep
   * strict semantics for NaN. */
  int sums = t->family != CB__RF_MIN && t->family != CB__RF_MAX &&
             !CB__RF_IS_ARG(t->family);
  const cb__clkernel *e = cb__clprog_get(
      &t->ctx, CB__CLP_REDUCE, variant_key(t), devid, kernel_source, t,
      sums ? "-cl-unsafe-math-optimizations" : "", "cb_reduce",
      t->ctx.name);
  if (!e)
    return;
  int nin = t->family == CB__RF_DOT ? 2 : 1;
  cl_kernel k = e->kernel;
  cl_ulong n = STARPU_VECTOR_GET_NX(buffers[0]);
  cl_ulong cols = (cl_ulong)t->cols;
  size_t es = cb_dtype_size(t->in);
  int argf = CB__RF_IS_ARG(t->family);
  size_t aes = t->family == CB__RF_MIN || t->family == CB__RF_MAX || argf
                   ? es
                   : cb_dtype_size(t->part);
  int down = t->mode == CB__RM_COLS || t->mode == CB__RM_MID;
  /* Rows of a column: the tile's, or those of each slab. */
  cl_ulong rows = t->mode == CB__RM_MID ? (cl_ulong)t->count : n / cols;
  /* Work-items per group: enough for a chunk or a row, at most 256. */
  size_t per = t->mode == CB__RM_ALL    ? (size_t)(n / CB__RCHUNKS) + 1
               : t->mode == CB__RM_ROWS ? (size_t)cols
                                        : 64;
  size_t local = pow2_floor(per < 256 ? (per ? per : 1) : 256);
  /* A CPU device runs a group's work-items in turn: one work-item per
   * chunk or row reads it in order (min and max in CB__RLANES
   * accumulators, which the compiler makes a vector), and the tree has
   * nothing to do; down columns, one work-item takes CB__RLANES of them,
   * a row at a time. */
  cl_int lanes = e->cpu && !argf;
  if (lanes)
    local = 1;
  size_t cap = pow2_floor(e->wg ? e->wg : 1);
  if (local > cap)
    local = cap;
  size_t across = lanes ? ((size_t)cols + CB__RLANES - 1) / CB__RLANES
                        : (size_t)cols;
  size_t groups = t->mode == CB__RM_ALL    ? CB__RCHUNKS
                  : t->mode == CB__RM_ROWS ? (size_t)(n / cols)
                                           : (across + local - 1) / local;
  /* Down columns, the second dimension counts the slabs. */
  size_t global[2] = {groups * local,
                      down && rows ? (size_t)(n / (rows * cols)) : 1};
  size_t locals[2] = {local, 1};

  cl_mem xm = (cl_mem)STARPU_VECTOR_GET_DEV_HANDLE(buffers[0]);
  cl_ulong xo = STARPU_VECTOR_GET_OFFSET(buffers[0]) / es;
  cl_mem ym = xm;
  cl_ulong yo = xo;
  if (nin == 2) {
    ym = (cl_mem)STARPU_VECTOR_GET_DEV_HANDLE(buffers[1]);
    yo = STARPU_VECTOR_GET_OFFSET(buffers[1]) / es;
  }
  cl_mem om = (cl_mem)STARPU_VECTOR_GET_DEV_HANDLE(buffers[nin]);
  cl_ulong oo =
      STARPU_VECTOR_GET_OFFSET(buffers[nin]) / cb_dtype_size(t->part);
  cl_int st = CL_SUCCESS;
  cl_uint arg = 0;
#define ARG(size, ptr)                                                       \
  if (st == CL_SUCCESS)                                                      \
  st = clSetKernelArg(k, arg++, size, ptr)
  ARG(sizeof xm, &xm);
  ARG(sizeof xo, &xo);
  ARG(sizeof ym, &ym);
  ARG(sizeof yo, &yo);
  ARG(sizeof om, &om);
  ARG(sizeof oo, &oo);
  ARG(sizeof n, &n);
  ARG(sizeof cols, &cols);
  ARG(sizeof rows, &rows);
  ARG(sizeof lanes, &lanes);
  ARG(local * aes, NULL);
  if (argf) {
    /* The indices: their partial follows the values'. The base makes a
     * chunk's index one of the array, and a column's row one of the
     * array (down the columns of a tile) or of its slab. */
    cl_mem im = (cl_mem)STARPU_VECTOR_GET_DEV_HANDLE(buffers[nin + 1]);
    cl_ulong io =
        STARPU_VECTOR_GET_OFFSET(buffers[nin + 1]) / sizeof(cl_long);
    cl_long base = t->mode == CB__RM_ALL    ? (cl_long)t->first
                   : t->mode == CB__RM_COLS ? (cl_long)(t->first / t->cols)
                                            : 0;
    ARG(sizeof im, &im);
    ARG(sizeof io, &io);
    ARG(sizeof base, &base);
    ARG(local * sizeof(cl_long), NULL);
  }
#undef ARG
  if (st != CL_SUCCESS) {
    cb__ctx_fail(&t->ctx, CB_EDEVICE, st, "clSetKernelArg: %s",
                 cb_cl_status_name(st));
    return;
  }
  if (global[0] == 0 || global[1] == 0)
    return;
  cl_command_queue q;
  starpu_opencl_get_queue(devid, &q);
  cl_event ev;
  st = clEnqueueNDRangeKernel(q, k, down ? 2 : 1, NULL, global, locals, 0,
                              NULL, &ev);
  if (st != CL_SUCCESS) {
    cb__ctx_fail(&t->ctx, CB_EDEVICE, st, "clEnqueueNDRangeKernel: %s",
                 cb_cl_status_name(st));
    return;
  }
  cb__cl_end(&t->ctx, ev, t->ctx.name);
}

void cb__reduce_tile_opencl(void *buffers[], void *cl_arg) {
  cb__cl_async_begin();
  reduce_tile_opencl(buffers, cl_arg);
  cb__cl_async_end();
}
