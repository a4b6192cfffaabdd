/* Each element-wise codelet against a reference computed here, for
 * every real dtype it accepts, on the CPU workers and on each OpenCL
 * device, over one tile and over several (complex dtypes:
 * test_complex.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

static int is_complex(cb_dtype t) {
  return t == CB_COMPLEX64 || t == CB_COMPLEX128;
}

static int is_int(cb_dtype t) {
  return t != CB_BOOL && t != CB_FLOAT16 && t != CB_FLOAT32 &&
         t != CB_FLOAT64 && !is_complex(t);
}

static int is_unsigned(cb_dtype t) {
  return t == CB_UINT8 || t == CB_UINT16 || t == CB_UINT32 || t == CB_UINT64;
}

/* An integer result as the dtype holds it: its low bits. */
static double wrap(double v, cb_dtype t) {
  uint64_t u = (uint64_t)(int64_t)v;
  switch (t) {
  case CB_INT8:
    return (int8_t)(uint8_t)u;
  case CB_INT16:
    return (int16_t)(uint16_t)u;
  case CB_INT32:
    return (int32_t)(uint32_t)u;
  case CB_UINT8:
    return (uint8_t)u;
  case CB_UINT16:
    return (uint16_t)u;
  case CB_UINT32:
    return (uint32_t)u;
  case CB_UINT64:
    return (double)u;
  default:
    return (double)(int64_t)u;
  }
}

static double input(cb_dtype t, int which, int64_t i, cb_op op) {
  if (t == CB_BOOL)
    return (double)(((i >> which) ^ i) & 1);
  if (is_int(t)) {
    if (op == CB_OP_power && which == 1)
      return (double)(i % 5);
    if ((op == CB_OP_bitwise_left_shift || op == CB_OP_bitwise_right_shift) &&
        which == 1)
      return (double)(i % 9);
    if (is_unsigned(t))
      return (double)((i * (which + 7)) % 41);
    return (double)((i * (which + 7)) % 41 - 20);
  }
  return 0.5 + (double)((i * (which + 3)) % 97) / 37.0;
}

static double reference(cb_op op, cb_dtype t, double a, double b, double c) {
  int isint = is_int(t);
  switch (op) {
  case CB_OP_add:
    return t == CB_BOOL ? (double)((a != 0) | (b != 0)) : a + b;
  case CB_OP_subtract:
    return a - b;
  case CB_OP_multiply:
    return a * b;
  case CB_OP_divide:
    return a / b;
  case CB_OP_power:
    return isint ? (double)(long long)pow(a, b) : pow(a, b);
  case CB_OP_maximum:
    return a > b ? a : b;
  case CB_OP_minimum:
    return a < b ? a : b;
  case CB_OP_negative:
    return -a;
  case CB_OP_absolute:
    return fabs(a);
  case CB_OP_sqrt:
    return sqrt(a);
  case CB_OP_exp:
    return exp(a);
  case CB_OP_log:
    return log(a);
  case CB_OP_sin:
    return sin(a);
  case CB_OP_cos:
    return cos(a);
  case CB_OP_tanh:
    return tanh(a);
  case CB_OP_equal:
    return a == b;
  case CB_OP_not_equal:
    return a != b;
  case CB_OP_less:
    return a < b;
  case CB_OP_less_equal:
    return a <= b;
  case CB_OP_greater:
    return a > b;
  case CB_OP_greater_equal:
    return a >= b;
  case CB_OP_where:
    return a != 0 ? b : c;
  case CB_OP_tan:
    return tan(a);
  case CB_OP_arcsin:
    return asin(a);
  case CB_OP_arccos:
    return acos(a);
  case CB_OP_arctan:
    return atan(a);
  case CB_OP_sinh:
    return sinh(a);
  case CB_OP_cosh:
    return cosh(a);
  case CB_OP_arcsinh:
    return asinh(a);
  case CB_OP_arccosh:
    return acosh(a);
  case CB_OP_arctanh:
    return atanh(a);
  case CB_OP_log2:
    return log2(a);
  case CB_OP_log10:
    return log10(a);
  case CB_OP_log1p:
    return log1p(a);
  case CB_OP_expm1:
    return expm1(a);
  case CB_OP_exp2:
    return exp2(a);
  case CB_OP_arctan2:
    return atan2(a, b);
  case CB_OP_hypot:
    return hypot(a, b);
  case CB_OP_copysign:
    return copysign(a, b);
  case CB_OP_logaddexp:
    return log(exp(a) + exp(b));
  case CB_OP_floor_divide: /* integers (and bools) by 0 give 0 */
    return (isint || t == CB_BOOL) && b == 0 ? 0 : floor(a / b);
  case CB_OP_remainder:
    return (isint || t == CB_BOOL) && b == 0 ? 0 : a - floor(a / b) * b;
  case CB_OP_bitwise_left_shift:
    return (double)((long long)a * (1LL << (int)b));
  case CB_OP_bitwise_right_shift:
    return floor(a / (double)(1LL << (int)b));
  case CB_OP_sign:
    return (a > 0) - (a < 0);
  case CB_OP_conj:
  case CB_OP_real:
    return a;
  case CB_OP_imag:
    return 0;
  case CB_OP_floor:
    return floor(a);
  case CB_OP_ceil:
    return ceil(a);
  case CB_OP_trunc:
    return trunc(a);
  case CB_OP_round:
    return nearbyint(a);
  case CB_OP_square:
    return a * a;
  case CB_OP_positive:
    return a;
  case CB_OP_bitwise_invert:
    return t == CB_BOOL ? (double)(a == 0) : -a - 1;
  case CB_OP_isnan:
    return isnan(a);
  case CB_OP_isinf:
    return isinf(a);
  case CB_OP_isfinite:
    return isfinite(a);
  case CB_OP_signbit:
    return a < 0;
  case CB_OP_logical_not:
    return a == 0;
  case CB_OP_logical_and:
    return a != 0 && b != 0;
  case CB_OP_logical_or:
    return a != 0 || b != 0;
  case CB_OP_logical_xor:
    return (a != 0) != (b != 0);
  case CB_OP_bitwise_and:
    return (double)((long long)a & (long long)b);
  case CB_OP_bitwise_or:
    return (double)((long long)a | (long long)b);
  case CB_OP_bitwise_xor:
    return (double)((long long)a ^ (long long)b);
  default:
    return NAN;
  }
}

/* Whether reference() knows op (it answers NaN for the others). */
static int has_reference(cb_op op) {
  return !isnan(reference(op, CB_FLOAT64, 0.5, 0.25, 1)) ||
         op == CB_OP_arccosh;
}

static int arity(cb_op op) {
  switch (cb_op_get_kind(op)) {
  case CB_KIND_UNARY:
  case CB_KIND_MATH:
  case CB_KIND_PART:
  case CB_KIND_TEST:
    return 1;
  case CB_KIND_WHERE:
    return 3;
  default:
    return 2;
  }
}

static void check_op(cb_op op, cb_dtype t, int device, int64_t n) {
  int na = arity(op);
  cb_operand x[3];
  cb_array *in[3];
  for (int k = 0; k < na; k++) {
    cb_dtype kt = (op == CB_OP_where && k == 0) ? CB_BOOL : t;
    CHECK_OK(cb_array_new(kt, 1, &n, &in[k]));
    for (int64_t i = 0; i < n; i++)
      test_set(in[k], i, input(kt, k, i, op));
    x[k] = (cb_operand){.array = in[k], .device = device};
  }
  cb_array *out = NULL;
  int dev = -2;
  int rc = cb_ewise(op, x, na, -1, -1, &out, &dev);
  CHECK(rc == 0, "%s %s on device %d: %s", cb_op_name(op), cb_dtype_name(t),
        device, cb_last_error());
  if (rc == 0) {
    CHECK(dev == device, "placed on %d, asked %d", dev, device);
    CHECK_OK(test_sync(out));
    cb_failure f;
    CHECK(cb_array_failure(out, &f) == 0, "%s failed: %s", cb_op_name(op),
          f.info.message);
    /* float16 computes in float and rounds once: within an ulp of the
     * half (2^-11 relative) of the exact result rounded to a half. */
    double tol = t == CB_FLOAT16 ? 1e-3 : t == CB_FLOAT32 ? 2e-6 : 1e-13;
    int bad = 0;
    for (int64_t i = 0; i < n && bad < 3; i++) {
      double a = test_get(in[0], i), b = na > 1 ? test_get(in[1], i) : 0,
             c = na > 2 ? test_get(in[2], i) : 0;
      double want = reference(op, t, a, b, c), got = test_get(out, i);
      if (cb_array_dtype(out) == CB_FLOAT32)
        want = (float)want;
      else if (cb_array_dtype(out) == CB_FLOAT16)
        want = cb_half_to_float(cb_half_from_double(want));
      else if (is_int(cb_array_dtype(out)) && !isnan(want))
        want = wrap(want, cb_array_dtype(out));
      if (isnan(got) != isnan(want) ||
          fabs(got - want) > tol * fmax(1.0, fabs(want))) {
        bad++;
        test_fail(__FILE__, __LINE__, "value",
                  "%s %s dev %d n %lld [%lld]: got %.17g want %.17g",
                  cb_op_name(op), cb_dtype_name(t), device, (long long)n,
                  (long long)i, got, want);
      }
    }
    cb_array_unref(out);
  }
  for (int k = 0; k < na; k++)
    cb_array_unref(in[k]);
}

/* Every operation and dtype on device, over one tile and over several
 * (the last one shorter). */
static void check_device(int d) {
  static const int64_t sizes[2] = {1000, 300007};
  cb_device_info info;
  if (cb_device_get(d, &info)) {
    test_fail(__FILE__, __LINE__, "cb_device_get", "%s", cb_last_error());
    return;
  }
  for (int op = 0; op < CB_NOPS; op++) {
    cb_op_kind k = cb_op_get_kind((cb_op)op);
    if (k == CB_KIND_CAST || k == CB_KIND_FILL || k == CB_KIND_ARANGE)
      continue; /* test_ewise.c */
    if (op == CB_OP_complex)
      continue; /* of complex results: test_complex.c */
    CHECK(has_reference((cb_op)op), "no reference value for %s",
          cb_op_name((cb_op)op));
    int dtypes = 0;
    for (int t = 0; t < CB_NDTYPES; t++) {
      if (is_complex((cb_dtype)t))
        continue;
      cb_operand probe = {.dtype = (cb_dtype)t, .weak = 0};
      cb_operand ps[3] = {probe, probe, probe};
      if (op == CB_OP_where)
        ps[0].dtype = CB_BOOL;
      cb_dtype r;
      if (cb_result_dtype((cb_op)op, ps, arity((cb_op)op), &r))
        continue; /* not defined for this dtype */
      if (t == CB_FLOAT64 && !info.fp64)
        continue;
      if ((k == CB_KIND_MATH || k == CB_KIND_DIVIDE ||
           k == CB_KIND_MATH2) &&
          (t != CB_FLOAT16 && t != CB_FLOAT32 && t != CB_FLOAT64))
        continue; /* goes through a cast first */
      /* float16 over one tile only, within the time limit: its tiles
       * are the other dtypes' (tests/python/test_float16.py takes
       * several). */
      for (int s = 0; s < (t == CB_FLOAT16 ? 1 : 2); s++)
        check_op((cb_op)op, (cb_dtype)t, d, sizes[s]);
      dtypes++;
    }
    CHECK(dtypes > 0, "%s was checked for no dtype on %s", cb_op_name(op),
          info.filter_string);
  }
}

TEST_CPU_AND_OPENCL(codelets, check_device)
