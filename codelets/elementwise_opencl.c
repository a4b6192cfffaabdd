/*
 * OpenCL side of the element-wise operations. A kernel is generated from
 * the operation table for each variant met (operation, dtypes, which
 * operands are scalars), built on first use on each device and kept in
 * the program cache. Every OpenCL status is checked; a failure is
 * recorded on the task's output, never through StarPU's aborting report
 * macros.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CL/cl.h>

#include "clasync.h"
#include "clprog.h"
#include "ew_helpers.h"
#include "ewise_codelets.h"
#include "fused.h"
#include "half.h"
#include "udiv.h"

static const char *const exprs[CB_NOPS][4] = {
#define X(name, kind, fexpr, iexpr, bexpr, cexpr, types)                      \
  [CB_OP_##name] = {#fexpr, #iexpr, #bexpr, #cexpr},
#include "cambrian/elementwise.def"
#undef X
};

static const char *const cl_utypes[CB_NDTYPES] = {
    "uchar",  "uint",  "ulong", "uint", "ulong", "uchar",
    "ushort", "uchar", "ushort", "uint", "ulong", "ulong", "ulong", "ushort"};

/* Operation (7 bits), output dtype (4 bits), which inputs are repeated
 * rows (3 bits), three input dtypes (4 bits each), and which inputs are
 * scalars (3 bits). */
static uint32_t variant_key(const cb__task *t) {
  uint32_t key = (uint32_t)t->op << 23 | (uint32_t)t->out_dtype << 19;
  for (int k = 0; k < t->nin; k++)
    key |= ((uint32_t)(t->in_kind[k] == CB__IN_ROW) << (15 + k)) |
           ((uint32_t)t->in_dtype[k] << (4 * k + 3)) |
           ((uint32_t)(t->in_kind[k] == CB__IN_SCALAR) << k);
  return key;
}
_Static_assert(CB_NOPS <= 128 && CB_NDTYPES <= 16,
               "variant keys have 7 bits for operations, 4 for dtypes");

/* Whether the task reads an operand of this kind (CB__IN_STRIDED:
 * through a layout; CB__IN_ROW: a row repeated). */
static int has_kind(const cb__task *t, int kind) {
  for (int k = 0; k < t->nin; k++)
    if (t->in_kind[k] == kind)
      return 1;
  return 0;
}

/* The key of a variant with strided operands (family
 * CB__CLP_EWISE_STRIDED, which has no rows): the rows' bits say which
 * inputs are strided, and the two bits above the operation, with the
 * row bits' spare one, hold the result's dimensions less one. */
static uint32_t strided_key(const cb__task *t) {
  uint32_t key = variant_key(t);
  for (int k = 0; k < t->nin; k++)
    key |= (uint32_t)(t->in_kind[k] == CB__IN_STRIDED) << (15 + k);
  uint32_t d = (uint32_t)(t->ndim - 1);
  return key | (d & 3u) << 30 | (d >> 2 & 1u) << 18;
}
_Static_assert(CB_MAX_NDIM <= 8, "strided keys have 3 bits for dimensions");

/* Moves each strided operand's offset by x times its stride along
 * dimension d, in the kernel being written. */
static void put_strided_steps(char *buf, size_t cap, size_t *len,
                              const int *strided, int nops, int d,
                              const char *indent) {
  for (int k = 0; k < nops; k++)
    if (strided[k])
      cb__put(buf, cap, len, "%sf%d += x * s%d.v[%d];\n", indent, k, k, d);
}

/* The OpenCL type a value of dtype t is computed in: float16 values are
 * stored as halves, which core OpenCL C loads into floats (vload_half)
 * and stores from them (vstore_half_rte) without cl_khr_fp16. */
const char *cb__cl_value_type(cb_dtype t) {
  return t == CB_FLOAT16 ? "float" : cb__cl_type(t);
}

static int class_index(cb_dtype t) {
  char c = cb__dtype_class(t);
  return c == 'F' ? 0 : c == 'I' ? 1 : c == 'B' ? 2 : 3;
}

const char *cb__cl_expr(cb_op op, cb_dtype t) {
  return exprs[op][class_index(t)];
}

const char *cb__cl_utype(cb_dtype t) { return cl_utypes[t]; }

const char cb__cl_ipow_source[] =
    CB__XSTR(CB__IPOW_DEF(long, ulong, cb_ipow)) "\n"
    CB__XSTR(CB__UPOW_DEF(ulong, cb_upow)) "\n"
    "#define CB_IPOW(a, b) ((T)((T)-1 < 0 ? (U)cb_ipow((long)(a), "
    "(long)(b)) : (U)cb_upow((ulong)(a), (ulong)(b))))\n";

/* A half as a float, a NaN keeping its sign (some drivers' vload_half
 * drops it, and signbit and copysign read it). */
const char cb__cl_half_source[] =
    "float cb_half_bits(const ushort b, const float f) {\n"
    "  return isnan(f) && (b & 0x8000) ? as_float(as_uint(f) | "
    "0x80000000u) : f;\n}\n"
    "float cb_load_half(const ulong i, __global const half *p) {\n"
    "  return cb_half_bits(((__global const ushort *)p)[i], "
    "vload_half(i, p));\n}\n";


/* Writes the kernel source of the variant of the task arg; returns its
 * length, or 0 if it does not fit (a cb__clsource_fn). */
static size_t kernel_source(const void *arg, char *buf, size_t cap) {
  const cb__task *t = arg;
  static const char *const names[CB__MAX_OPERANDS] = {"a", "b", "c"};
  cb_op_kind kind = cb_op_get_kind(t->op);
  cb_dtype T = cb__task_dtype(t), R = t->out_dtype;
  int uses_f64 = cb__dtype_fp64(T) || cb__dtype_fp64(R);
  for (int k = 0; k < t->nin; k++)
    uses_f64 |= cb__dtype_fp64(t->in_dtype[k]);
  size_t len = 0;
  if (uses_f64)
    cb__put(buf, cap, &len, "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n");
  /* A cast from complex to another class reads the real part (or, for
   * bool, whether either part is not 0) as a value of the parts' type,
   * which is then T. */
  int from_complex = kind == CB_KIND_CAST && cb__dtype_class(T) == 'C' &&
                     cb__dtype_class(R) != 'C';
  cb_dtype TV = from_complex ? cb__dtype_part(T) : T;
  cb__put(buf, cap, &len, "#define T %s\n#define U %s\n#define R %s\n",
      cb__cl_value_type(TV), cl_utypes[TV], cb__cl_value_type(R));
  if (kind == CB_KIND_COMPOSE)
    cb__put(buf, cap, &len, "#define CB_CMAKE(a, b) ((R)((a), (b)))\n");
  if (cb__dtype_class(T) == 'C' && kind != CB_KIND_CAST)
    cb__put(buf, cap, &len, "#define CT %s\n#define RT %s\n%s",
        cb__cl_type(T), cb__cl_type(cb__dtype_part(T)),
        cb__complex_cl_source());
  if (t->op == CB_OP_power && cb__dtype_class(T) == 'I')
    cb__put(buf, cap, &len, "%s", cb__cl_ipow_source);
  int single = T == CB_FLOAT32 || T == CB_FLOAT16;
  if (t->op == CB_OP_floor_divide && (single || T == CB_FLOAT64))
    cb__put(buf, cap, &len, "%s\n#define CB_FDIV cb_fdiv\n",
        single ? CB__XSTR(CB__FDIV_DEF(float, cb_fdiv))
               : CB__XSTR(CB__FDIV_DEF(double, cb_fdiv)));
  if (t->op == CB_OP_remainder && (single || T == CB_FLOAT64))
    cb__put(buf, cap, &len, "%s\n#define CB_FMOD cb_fmod\n",
        single ? CB__XSTR(CB__FMOD_DEF(float, cb_fmod))
               : CB__XSTR(CB__FMOD_DEF(double, cb_fmod)));
  /* Indexes below 2^32 are split, and rows wrapped, by multiplying
   * (udiv.h). */
  if (has_kind(t, CB__IN_STRIDED) || has_kind(t, CB__IN_ROW))
    cb__put(buf, cap, &len, "%s", cb__udiv_cl_source);
  if (has_kind(t, CB__IN_STRIDED))
    cb__put(buf, cap, &len,
            "typedef struct { long v[%d]; } cb_dims;\n"
            "typedef struct { uint m[%d], s[%d]; } cb_divs;\n",
            t->ndim, t->ndim, t->ndim);
  int halves = 0;
  for (int k = 0; k < t->nin; k++)
    halves |= t->in_dtype[k] == CB_FLOAT16 && t->in_kind[k] != CB__IN_SCALAR;
  if (halves)
    cb__put(buf, cap, &len, "%s", cb__cl_half_source);
  cb__put(buf, cap, &len, "__kernel void cb_kernel(");
  int nops = t->nin;
  cb_dtype optype[CB__MAX_OPERANDS];
  int scalar[CB__MAX_OPERANDS], row[CB__MAX_OPERANDS] = {0};
  int strided[CB__MAX_OPERANDS] = {0}, any_strided = 0;
  for (int k = 0; k < nops; k++) {
    optype[k] = t->in_dtype[k];
    scalar[k] = t->in_kind[k] == CB__IN_SCALAR;
    row[k] = t->in_kind[k] == CB__IN_ROW;
    strided[k] = t->in_kind[k] == CB__IN_STRIDED;
    any_strided |= strided[k];
  }
  if (kind == CB_KIND_FILL || kind == CB_KIND_ARANGE) {
    nops = kind == CB_KIND_FILL ? 1 : 2;
    for (int k = 0; k < nops; k++) {
      optype[k] = R;
      scalar[k] = 1;
    }
  }
  for (int k = 0; k < nops; k++) {
    if (scalar[k]) /* a float16 scalar comes as a float */
      cb__put(buf, cap, &len, "const %s v%d, ",
              cb__cl_value_type(optype[k]), k);
    else if (strided[k])
      cb__put(buf, cap, &len, "__global const %s *p%d, const long o%d, "
                          "const cb_dims s%d, ", cb__cl_type(optype[k]), k,
                          k, k);
    else
      cb__put(buf, cap, &len, "__global const %s *p%d, const ulong o%d, "
                          "const ulong s%d, ", cb__cl_type(optype[k]), k, k,
                          k);
    if (row[k])
      cb__put(buf, cap, &len, "const uint m%d, const uint h%d, ", k, k);
  }
  cb__put(buf, cap, &len, "__global %s *out, const ulong oo, const ulong n, "
                      "const long base%s) {\n"
                      "  const ulong k = get_global_id(0);\n"
                      "  if (k >= n) return;\n"
                      "  const long i = base + (long)k;\n",
      cb__cl_type(R), any_strided ? ", const cb_dims shape, const cb_divs "
                                    "dv, const int narrow" : "");
  if (any_strided) {
    /* The index of element i in the result's shape, and where each
     * strided operand holds it: split by multiplying where every index
     * is below 2^32 (narrow), else by dividing. */
    cb__put(buf, cap, &len, "  long x");
    for (int k = 0; k < nops; k++)
      if (strided[k])
        cb__put(buf, cap, &len, ", f%d = o%d", k, k);
    cb__put(buf, cap, &len, ";\n  if (narrow) {\n    uint r = (uint)i;\n");
    for (int d = t->ndim - 1; d >= 0; d--) {
      if (d > 0)
        cb__put(buf, cap, &len, "    { const uint q = cb_udiv(r, dv.m[%d], "
                            "dv.s[%d]);\n      x = (long)(r - q * "
                            "(uint)shape.v[%d]);\n      r = q; }\n",
                d, d, d);
      else
        cb__put(buf, cap, &len, "    x = (long)r;\n");
      put_strided_steps(buf, cap, &len, strided, nops, d, "    ");
    }
    cb__put(buf, cap, &len, "  } else {\n    long rest = i;\n");
    for (int d = t->ndim - 1; d >= 0; d--) {
      if (d > 0)
        cb__put(buf, cap, &len, "    x = rest %% shape.v[%d];\n"
                            "    rest /= shape.v[%d];\n", d, d);
      else
        cb__put(buf, cap, &len, "    x = rest;\n");
      put_strided_steps(buf, cap, &len, strided, nops, d, "    ");
    }
    cb__put(buf, cap, &len, "  }\n");
  }
  if (from_complex) {
    /* One operand, a tile: a cast reads no scalar and no row. */
    cb__put(buf, cap, &len, "  const %s z = p0[o0 + k * s0];\n"
        "  const T a = %s;\n", cb__cl_type(T),
        R == CB_BOOL ? "(T)(z.x != 0 || z.y != 0)" : "z.x");
    nops = 0;
  }
  for (int k = 0; k < nops; k++)
    if (row[k])
      /* Where k falls in a row of s elements (the tile starts a row). */
      cb__put(buf, cap, &len, "  const ulong r%d = (n | s%d) <= "
          "0xffffffffUL ? (ulong)((uint)k - (uint)s%d * cb_udiv((uint)k, "
          "m%d, h%d)) : k %% s%d;\n", k, k, k, k, k, k);
  for (int k = 0; k < nops; k++) {
    /* The element of a row (r), else of a stride s. */
    if (scalar[k])
      cb__put(buf, cap, &len, "  const %s %s = v%d;\n",
          cb__cl_value_type(optype[k]), names[k], k);
    else if (strided[k] && optype[k] == CB_FLOAT16)
      cb__put(buf, cap, &len, "  const float %s = cb_load_half(f%d, p%d);\n",
          names[k], k, k);
    else if (strided[k])
      cb__put(buf, cap, &len, "  const %s %s = p%d[f%d];\n",
          cb__cl_type(optype[k]), names[k], k, k);
    else if (row[k] && optype[k] == CB_FLOAT16)
      cb__put(buf, cap, &len, "  const float %s = cb_load_half(o%d + r%d, "
          "p%d);\n", names[k], k, k, k);
    else if (row[k])
      cb__put(buf, cap, &len, "  const %s %s = p%d[o%d + r%d];\n",
          cb__cl_type(optype[k]), names[k], k, k, k);
    else if (optype[k] == CB_FLOAT16)
      cb__put(buf, cap, &len, "  const float %s = cb_load_half(o%d + k * "
          "s%d, p%d);\n", names[k], k, k, k);
    else
      cb__put(buf, cap, &len, "  const %s %s = p%d[o%d + k * s%d];\n",
          cb__cl_type(optype[k]), names[k], k, k, k);
  }
  cb_dtype cls = kind == CB_KIND_CAST ? R : T;
  if (kind == CB_KIND_CAST && cb__dtype_class(R) == 'C') {
    /* Into complex: the parts converted one by one (OpenCL C converts no
     * vector type to another, and a scalar would fill both parts). */
    const char *part = cb__cl_type(cb__dtype_part(R));
    int both = cb__dtype_class(T) == 'C';
    cb__put(buf, cap, &len, "  (void)i;\n  out[oo + k] = (R)((%s)%s, "
        "(%s)%s);\n}\n", part, both ? "a.x" : "a", part, both ? "a.y" : "0");
  } else if (kind == CB_KIND_CAST && cb__dtype_class(TV) == 'F' &&
             cb__dtype_unsigned(R) && cb_dtype_size(R) >= 4)
    /* To uint32 and uint64 as on CPU workers: through long (the low
     * bits kept; its minimum beyond its range, NaN included), but 2^63
     * to 2^64 through ulong; GPUs would clamp. */
    cb__put(buf, cap, &len, "  (void)i;\n  const T w = (T)(%s);\n"
        "  out[oo + k] = w >= 0x1p63 && w < 0x1p64 ? (R)(ulong)w : (R)(w >= "
        "-0x1p63 && w < 0x1p63 ? (long)w : LONG_MIN);\n}\n",
        exprs[t->op][class_index(cls)]);
  else if (kind == CB_KIND_CAST && cb__dtype_class(TV) == 'F' &&
           cb__dtype_class(R) == 'I') {
    /* To int64 through long, to narrower types through int (keeping
     * the low bits), the minimum beyond the range, NaN included: as
     * NumPy's casts on x86-64; GPUs would saturate. */
    int wide = R == CB_INT64;
    cb__put(buf, cap, &len, "  (void)i;\n  const T w = (T)(%s);\n"
        "  out[oo + k] = (R)(w >= -0x1p%d && w < 0x1p%d ? (%s)w : %s);\n}\n",
        exprs[t->op][class_index(cls)], wide ? 63 : 31, wide ? 63 : 31,
        wide ? "long" : "int", wide ? "LONG_MIN" : "INT_MIN");
  }
  else if (R == CB_FLOAT16)
    /* Rounded once to the nearest half: from double when the operand is
     * one (a float in between could round twice). */
    cb__put(buf, cap, &len, "  (void)i;\n  vstore_half_rte((%s)(%s), "
        "oo + k, out);\n}\n", cb__dtype_fp64(TV) ? "double" : "float",
        exprs[t->op][class_index(cls)]);
  else
    cb__put(buf, cap, &len, "  (void)i;\n  out[oo + k] = (R)(%s);\n}\n",
        exprs[t->op][class_index(cls)]);
  return len < cap ? len : 0;
}

/* Sets a scalar argument of dtype t: a float16 scalar goes as a float. */
static cl_int set_scalar_arg(cl_kernel k, cl_uint *arg, cb_dtype t,
                             const cb__value *v) {
  if (t != CB_FLOAT16)
    return clSetKernelArg(k, (*arg)++, cb_dtype_size(t), v);
  float f = cb__half_to_float(v->f16);
  return clSetKernelArg(k, (*arg)++, sizeof f, &f);
}

static cl_int set_buffer_args(cl_kernel k, cl_uint *arg, void *buf,
                              size_t es, cl_ulong stride, int with_stride) {
  cl_mem mem = (cl_mem)STARPU_VECTOR_GET_DEV_HANDLE(buf);
  cl_ulong off = STARPU_VECTOR_GET_OFFSET(buf) / es;
  cl_int st = clSetKernelArg(k, (*arg)++, sizeof mem, &mem);
  if (st == CL_SUCCESS)
    st = clSetKernelArg(k, (*arg)++, sizeof off, &off);
  if (st == CL_SUCCESS && with_stride)
    st = clSetKernelArg(k, (*arg)++, sizeof stride, &stride);
  return st;
}

/* A row's arguments: its buffer, offset and length, and the divisor of
 * the length (udiv.h). */
static cl_int set_row_args(cl_kernel k, cl_uint *arg, void *buf, size_t es,
                           int64_t period) {
  cl_uint m, s;
  cb__udiv_magic(period, &m, &s); /* the kernel checks that it fits */
  cl_int st = set_buffer_args(k, arg, buf, es, (cl_ulong)period, 1);
  if (st == CL_SUCCESS)
    st = clSetKernelArg(k, (*arg)++, sizeof m, &m);
  if (st == CL_SUCCESS)
    st = clSetKernelArg(k, (*arg)++, sizeof s, &s);
  return st;
}

/* A strided operand's arguments: its tile, the offset of its first
 * element there and its strides (as many as the result's dimensions). */
static cl_int set_strided_args(cl_kernel k, cl_uint *arg, void *buf,
                               size_t es, const cb__task *t, int i) {
  cl_mem mem = (cl_mem)STARPU_VECTOR_GET_DEV_HANDLE(buf);
  cl_long off = (cl_long)(STARPU_VECTOR_GET_OFFSET(buf) / es) +
                t->strided[i].offset;
  cl_long strides[CB_MAX_NDIM];
  for (int d = 0; d < t->ndim; d++)
    strides[d] = t->strided[i].strides[d];
  cl_int st = clSetKernelArg(k, (*arg)++, sizeof mem, &mem);
  if (st == CL_SUCCESS)
    st = clSetKernelArg(k, (*arg)++, sizeof off, &off);
  if (st == CL_SUCCESS)
    st = clSetKernelArg(k, (*arg)++, sizeof(cl_long) * (size_t)t->ndim,
                        strides);
  return st;
}

/* The result's shape for a task with strided operands, the divisors of
 * its dimensions and whether every index in it is below 2^32. */
static cl_int set_shape_args(cl_kernel k, cl_uint *arg, const cb__task *t,
                             cl_ulong n) {
  cl_long shape[CB_MAX_NDIM];
  cl_uint divs[2 * CB_MAX_NDIM];
  cl_int narrow = (uint64_t)t->base + n <= UINT32_MAX;
  for (int d = 0; d < t->ndim; d++) {
    shape[d] = t->shape[d];
    narrow = cb__udiv_magic(t->shape[d], &divs[d], &divs[t->ndim + d]) &&
             narrow;
  }
  size_t nd = (size_t)t->ndim;
  cl_int st = clSetKernelArg(k, (*arg)++, sizeof(cl_long) * nd, shape);
  if (st == CL_SUCCESS)
    st = clSetKernelArg(k, (*arg)++, sizeof(cl_uint) * 2 * nd, divs);
  if (st == CL_SUCCESS)
    st = clSetKernelArg(k, (*arg)++, sizeof narrow, &narrow);
  return st;
}

/* Work-items per work-group (fewer where the kernel allows fewer): a CPU
 * device (pocl) runs a group as one loop, which a large group amortises. */
#define CB__EW_GROUP 256
#define CB__EW_GROUP_CPU 4096

static void ew_opencl(void *buffers[], void *cl_arg) {
  cb__task *t = cl_arg;
  if (cb__ctx_skip(&t->ctx))
    return;
  int devid = starpu_worker_get_devid(starpu_worker_get_id());
  int strided = has_kind(t, CB__IN_STRIDED);
  /* A fused program's kernel is keyed by its kernel id and which inputs
   * are repeated rows (a broadcast element is a tile of stride 0; a
   * fused task has no other kinds). */
  uint32_t rows = 0;
  for (int k = 0; t->prog && k < t->nin; k++)
    rows |= (uint32_t)(t->in_kind[k] == CB__IN_ROW) << k;
  const cb__clkernel *ck =
      t->prog ? cb__clprog_get(&t->ctx, CB__CLP_FUSED,
                               t->prog->kernel << CB__MAX_OPERANDS | rows,
                               devid, cb__fused_source, t, "", "cb_kernel",
                               t->ctx.name)
              : cb__clprog_get(&t->ctx,
                               strided ? CB__CLP_EWISE_STRIDED
                                       : CB__CLP_EWISE,
                               strided ? strided_key(t) : variant_key(t),
                               devid, kernel_source, t, "", "cb_kernel",
                               cb_op_name(t->op));
  if (!ck)
    return;
  cl_kernel k = ck->kernel;
  cl_int st = CL_SUCCESS;
  cl_uint arg = 0;
  /* The output's buffer comes after the inputs'. */
  int nb = 0, ob = cb__ew_output_buffer(t);
  cb_op_kind kind = cb_op_get_kind(t->op);
  for (int i = 0; st == CL_SUCCESS && i < t->nin; i++) {
    size_t es = cb_dtype_size(t->in_dtype[i]);
    if (t->in_kind[i] == CB__IN_SCALAR)
      st = set_scalar_arg(k, &arg, t->in_dtype[i], &t->scalar[i]);
    else if (t->in_kind[i] == CB__IN_OUT)
      st = set_buffer_args(k, &arg, buffers[ob], es, 1, 1);
    else if (t->in_kind[i] == CB__IN_STRIDED)
      /* One tile (the scheduler asks for no more on OpenCL). */
      st = set_strided_args(k, &arg, buffers[nb++], es, t, i);
    else if (t->in_kind[i] == CB__IN_ROW)
      st = set_row_args(k, &arg, buffers[nb++], es, t->period[i]);
    else
      st = set_buffer_args(k, &arg, buffers[nb++], es,
                           t->in_kind[i] == CB__IN_TILE, 1);
  }
  for (int i = 0; st == CL_SUCCESS && t->prog && i < t->prog->nconst; i++)
    st = set_scalar_arg(k, &arg, cb__fprog_const_dtype(t->prog, i),
                        &t->prog->consts[i]);
  size_t oes = cb_dtype_size(t->out_dtype);
  if (st == CL_SUCCESS && kind == CB_KIND_FILL)
    st = set_scalar_arg(k, &arg, t->out_dtype, &t->scalar[0]);
  if (st == CL_SUCCESS && kind == CB_KIND_ARANGE) {
    st = set_scalar_arg(k, &arg, t->out_dtype, &t->start);
    if (st == CL_SUCCESS)
      st = set_scalar_arg(k, &arg, t->out_dtype, &t->step);
  }
  cl_ulong n = STARPU_VECTOR_GET_NX(buffers[ob]);
  cl_long base = t->base;
  if (st == CL_SUCCESS)
    st = set_buffer_args(k, &arg, buffers[ob], oes, 0, 0);
  if (st == CL_SUCCESS)
    st = clSetKernelArg(k, arg++, sizeof n, &n);
  if (st == CL_SUCCESS)
    st = clSetKernelArg(k, arg++, sizeof base, &base);
  if (st == CL_SUCCESS && strided)
    st = set_shape_args(k, &arg, t, n);
  if (st != CL_SUCCESS) {
    cb__ctx_fail(&t->ctx, CB_EDEVICE, st, "clSetKernelArg: %s",
                  cb_cl_status_name(st));
    return;
  }
  cl_command_queue q;
  starpu_opencl_get_queue(devid, &q);
  /* Work-groups of CB__EW_GROUP(_CPU) work-items (the last ones past n
   * do nothing): left to the driver, a tile of a size with no large
   * divisor ran in groups of one work-item, which pocl runs one at a
   * time. */
  size_t local, global = cb__cl_range(
      ck, ck->cpu ? CB__EW_GROUP_CPU : CB__EW_GROUP, (size_t)n, &local);
  cl_event ev;
  st = clEnqueueNDRangeKernel(q, k, 1, NULL, &global, &local, 0, NULL, &ev);
  if (st != CL_SUCCESS) {
    cb__ctx_fail(&t->ctx, CB_EDEVICE, st, "clEnqueueNDRangeKernel: %s",
                  cb_cl_status_name(st));
    return;
  }
  cb__cl_end(&t->ctx, ev, cb_op_name(t->op));
}

void cb__ew_opencl(void *buffers[], void *cl_arg) {
  cb__cl_async_begin();
  ew_opencl(buffers, cl_arg);
  cb__cl_async_end();
}
