/*
 * The OpenCL kernel of a fused program: one function per step, made of
 * the operation table's expression with T, U and R defined for that step
 * alone, and a kernel that loads the inputs, calls the steps in turn and
 * stores the last one's value. Constants are the kernel's arguments k0,
 * k1..., after the inputs', so that programs that differ in their values
 * alone share a kernel. Contraction is off, so that a product and a sum
 * of two steps round as two kernels would.
 */
#include <stdio.h>

#include "clprog.h"
#include "ew_helpers.h"
#include "fused.h"
#include "udiv.h"

/* A float or double rounded to the nearest half, held as a float (as
 * registers of float16 are), as a kernel that stores a half and one
 * that loads it would give (cb_half_bits: cb__cl_half_source). */
static const char half_helpers[] =
    "float cb_round_half(const float x) {\n"
    "  ushort b;\n  vstore_half_rte(x, 0, (__private half *)&b);\n"
    "  return cb_half_bits(b, vload_half(0, (__private const half *)&b));"
    "\n}\n";
static const char half_helpers_f64[] =
    "float cb_round_half_d(const double x) {\n"
    "  ushort b;\n  vstore_half_rte(x, 0, (__private half *)&b);\n"
    "  return cb_half_bits(b, vload_half(0, (__private const half *)&b));"
    "\n}\n";

/* The helpers that steps' expressions call by macro: integer powers,
 * and floor division and remainder of floats (one of each width). */
static void put_helpers(const cb__fprog *p, char *buf, size_t cap,
                        size_t *len) {
  int ipow = 0, fdiv[2] = {0}, fmod[2] = {0};
  for (int s = 0; s < p->nsteps; s++) {
    const cb__fstep *st = &p->steps[s];
    int f = cb__dtype_class((cb_dtype)st->dtype) == 'F';
    int wide = st->dtype == CB_FLOAT64;
    ipow |= st->op == CB_OP_power && !f;
    fdiv[wide] |= st->op == CB_OP_floor_divide && f;
    fmod[wide] |= st->op == CB_OP_remainder && f;
  }
  if (ipow)
    cb__put(buf, cap, len, "%s", cb__cl_ipow_source);
  if (fdiv[0])
    cb__put(buf, cap, len, "%s\n", CB__XSTR(CB__FDIV_DEF(float, cb_fdivf)));
  if (fdiv[1])
    cb__put(buf, cap, len, "%s\n", CB__XSTR(CB__FDIV_DEF(double, cb_fdivd)));
  if (fmod[0])
    cb__put(buf, cap, len, "%s\n", CB__XSTR(CB__FMOD_DEF(float, cb_fmodf)));
  if (fmod[1])
    cb__put(buf, cap, len, "%s\n", CB__XSTR(CB__FMOD_DEF(double, cb_fmodd)));
}

/* Step s as a function cb_s<s> of its operands. */
static void put_step(const cb__fprog *p, int s, char *buf, size_t cap,
                     size_t *len) {
  static const char *const names[CB__MAX_OPERANDS] = {"a", "b", "c"};
  const cb__fstep *st = &p->steps[s];
  cb_dtype T = (cb_dtype)st->dtype, R = (cb_dtype)st->result;
  const char *w = T == CB_FLOAT64 ? "d" : "f";
  cb__put(buf, cap, len, "#define T %s\n#define U %s\n#define R %s\n"
          "#define CB_FDIV cb_fdiv%s\n#define CB_FMOD cb_fmod%s\n"
          "R cb_s%d(", cb__cl_value_type(T), cb__cl_utype(T),
          cb__cl_value_type(R), w, w, s);
  int where = cb_op_get_kind((cb_op)st->op) == CB_KIND_WHERE;
  for (int k = 0; k < st->n; k++)
    cb__put(buf, cap, len, "%sconst %s %s", k ? ", " : "",
            where && k == 0 ? "uchar" : "T", names[k]);
  /* A cast's expression is its target's class's. */
  cb_dtype cls = cb_op_get_kind((cb_op)st->op) == CB_KIND_CAST ? R : T;
  /* A half result is rounded as its store would round it: once, from
   * double when the step computes in double. */
  const char *round = R != CB_FLOAT16 ? "(R)"
                      : T == CB_FLOAT64 ? "cb_round_half_d"
                                        : "cb_round_half";
  cb__put(buf, cap, len, ") {\n  return %s(%s);\n}\n"
          "#undef T\n#undef U\n#undef R\n#undef CB_FDIV\n#undef CB_FMOD\n",
          round, cb__cl_expr((cb_op)st->op, cls));
}

size_t cb__fused_source(const void *arg, char *buf, size_t cap) {
  const cb__task *t = arg;
  const cb__fprog *p = t->prog;
  size_t len = 0;
  if (cb__fprog_uses_f64(p))
    cb__put(buf, cap, &len, "#pragma OPENCL EXTENSION cl_khr_fp64 : "
            "enable\n");
  cb__put(buf, cap, &len, "#pragma OPENCL FP_CONTRACT OFF\n");
  int halves = 0, halves_f64 = 0;
  for (int r = 0; r < p->nin + p->nsteps; r++)
    halves |= cb__fprog_reg_dtype(p, r) == CB_FLOAT16;
  for (int s = 0; s < p->nsteps; s++)
    halves_f64 |= p->steps[s].result == CB_FLOAT16 &&
                  p->steps[s].dtype == CB_FLOAT64;
  if (halves)
    cb__put(buf, cap, &len, "%s%s%s", cb__cl_half_source, half_helpers,
            halves_f64 ? half_helpers_f64 : "");
  put_helpers(p, buf, cap, &len);
  for (int s = 0; s < p->nsteps; s++)
    put_step(p, s, buf, cap, &len);
  int rows = 0;
  for (int k = 0; k < p->nin; k++)
    rows |= t->in_kind[k] == CB__IN_ROW;
  if (rows) /* rows wrapped by multiplying (udiv.h) */
    cb__put(buf, cap, &len, "%s", cb__udiv_cl_source);
  cb__put(buf, cap, &len, "__kernel void cb_kernel(");
  for (int k = 0; k < p->nin; k++) {
    cb__put(buf, cap, &len, "__global const %s *p%d, const ulong o%d, "
            "const ulong s%d, ", cb__cl_type((cb_dtype)p->in_dtype[k]), k,
            k, k);
    if (t->in_kind[k] == CB__IN_ROW)
      cb__put(buf, cap, &len, "const uint m%d, const uint h%d, ", k, k);
  }
  for (int k = 0; k < p->nconst; k++) /* a half comes as a float */
    cb__put(buf, cap, &len, "const %s k%d, ",
            cb__cl_value_type(cb__fprog_const_dtype(p, k)), k);
  cb_dtype R = cb__fprog_result(p);
  cb__put(buf, cap, &len, "__global %s *out, const ulong oo, const ulong n, "
          "const long base) {\n  const ulong k = get_global_id(0);\n"
          "  if (k >= n) return;\n  (void)base;\n", cb__cl_type(R));
  for (int k = 0; k < p->nin; k++) {
    cb_dtype in = (cb_dtype)p->in_dtype[k];
    cb__put(buf, cap, &len, "  const %s r%d = ", cb__cl_value_type(in),
            k);
    /* Where k falls in a row of s elements (the tile starts a row), or
     * the element at stride s. */
    char at[160];
    if (t->in_kind[k] == CB__IN_ROW)
      snprintf(at, sizeof at, "o%d + ((n | s%d) <= 0xffffffffUL ? (ulong)"
               "((uint)k - (uint)s%d * cb_udiv((uint)k, m%d, h%d)) : k %% "
               "s%d)", k, k, k, k, k, k);
    else
      snprintf(at, sizeof at, "o%d + k * s%d", k, k);
    if (in == CB_FLOAT16)
      cb__put(buf, cap, &len, "cb_load_half(%s, p%d);\n", at, k);
    else
      cb__put(buf, cap, &len, "p%d[%s];\n", k, at);
  }
  for (int s = 0; s < p->nsteps; s++) {
    const cb__fstep *st = &p->steps[s];
    cb__put(buf, cap, &len, "  const %s r%d = cb_s%d(",
            cb__cl_value_type((cb_dtype)st->result), p->nin + s, s);
    for (int k = 0; k < st->n; k++)
      cb__put(buf, cap, &len, "%s%c%d", k ? ", " : "",
              st->x[k] >= 0 ? 'r' : 'k',
              st->x[k] >= 0 ? st->x[k] : -1 - st->x[k]);
    cb__put(buf, cap, &len, ");\n");
  }
  if (R == CB_FLOAT16) /* rounded already: stored exactly */
    cb__put(buf, cap, &len, "  vstore_half_rte(r%d, oo + k, out);\n}\n",
            p->nin + p->nsteps - 1);
  else
    cb__put(buf, cap, &len, "  out[oo + k] = r%d;\n}\n",
            p->nin + p->nsteps - 1);
  return len < cap ? len : 0;
}
