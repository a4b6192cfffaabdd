/* float16: the conversions of halves against their definition (every
 * half, every boundary between two halves), element-wise operations on
 * the CPU workers and each OpenCL device against float arithmetic
 * rounded once, casts both ways, promotion, and what is refused. */
#include <math.h>
#include <stdlib.h>

#include "test.h"

/* A half's value from its fields: the definition of binary16. */
static double half_value(uint16_t h) {
  int sign = h >> 15, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  double v = exp == 0      ? ldexp(man, -24)
             : exp == 0x1f ? (man ? NAN : INFINITY)
                           : ldexp(1024 + man, exp - 25);
  return sign ? -v : v;
}

static int same_half(uint16_t a, uint16_t b) {
  int nan_a = (a & 0x7c00) == 0x7c00 && (a & 0x3ff);
  int nan_b = (b & 0x7c00) == 0x7c00 && (b & 0x3ff);
  return nan_a || nan_b ? nan_a && nan_b : a == b;
}

TEST(float16_conversions) {
  for (uint32_t h = 0; h < 0x10000; h++) {
    double want = half_value((uint16_t)h);
    float got = cb_half_to_float((cb_half)h);
    CHECK(got == want || (isnan(got) && isnan(want)),
          "half 0x%04x: got %.9g want %.9g", (unsigned)h, got, want);
    if (isnan(want))
      continue;
    CHECK(!signbit(got) == !signbit(want), "sign of half 0x%04x",
          (unsigned)h);
    /* Every value rounds back to its own half. */
    CHECK_INT(cb_half_from_double(want), ==, h);
    CHECK_INT(cb_half_from_double((float)want), ==, h);
  }
  /* Between two neighbouring positive halves: the tie goes to the even
   * one, anything off the tie to the nearer, for either sign. */
  for (uint16_t h = 0; h < 0x7bff; h++) {
    double lo = half_value(h), hi = half_value((uint16_t)(h + 1));
    double mid = (lo + hi) / 2;
    uint16_t even = (h & 1) ? (uint16_t)(h + 1) : h;
    CHECK_INT(cb_half_from_double(mid), ==, even);
    CHECK_INT(cb_half_from_double(-mid), ==, even | 0x8000);
    CHECK_INT(cb_half_from_double(nextafter(mid, 0)), ==, h);
    CHECK_INT(cb_half_from_double(nextafter(mid, INFINITY)), ==, h + 1);
  }
  /* Beyond the range: the largest half's tie with 65536 rounds up. */
  CHECK_INT(cb_half_from_double(65519.99), ==, 0x7bff);
  CHECK_INT(cb_half_from_double(65520.0), ==, 0x7c00);
  CHECK_INT(cb_half_from_double(-1e300), ==, 0xfc00);
  CHECK_INT(cb_half_from_double(INFINITY), ==, 0x7c00);
  CHECK_INT(cb_half_from_double(-INFINITY), ==, 0xfc00);
  /* Below the smallest subnormal (2^-24): its half is a tie with 0. */
  CHECK_INT(cb_half_from_double(0x1p-25), ==, 0);
  CHECK_INT(cb_half_from_double(nextafter(0x1p-25, 1)), ==, 1);
  CHECK_INT(cb_half_from_double(-0x1p-26), ==, 0x8000);
  CHECK_INT(cb_half_from_double(-0.0), ==, 0x8000);
  CHECK_INT(cb_half_from_double(1e-300), ==, 0);
  uint16_t n = cb_half_from_double(NAN);
  CHECK((n & 0x7c00) == 0x7c00 && (n & 0x3ff), "NaN gave 0x%04x",
        (unsigned)n);
  CHECK(isnan(cb_half_to_float(n)));
}

/* Operand values: specials, subnormals, ties and ordinary values. */
static const double values[] = {
    0.0,     -0.0,   1.0,      -1.0,   0.5,     2.5,    -3.75,  0.1,
    65504.0, -65504, INFINITY, -INFINITY, NAN,  6e-8,   -6e-8,  1e-5,
    2048.0,  2049.0, 0.333,    7.0,    -0.7,    1000.0, 3.1416, -2.0};
#define NVALUES ((int64_t)(sizeof values / sizeof *values))

static float reference(cb_op op, float a, float b) {
  switch (op) {
  case CB_OP_add:
    return a + b;
  case CB_OP_subtract:
    return a - b;
  case CB_OP_multiply:
    return a * b;
  case CB_OP_divide:
    return a / b;
  case CB_OP_maximum: /* NaN wins; of two zeros, the second */
    return isnan(a) || isnan(b) ? NAN : a > b ? a : b;
  case CB_OP_negative:
    return -a;
  case CB_OP_absolute:
    return fabsf(a);
  case CB_OP_sqrt:
    return sqrtf(a);
  case CB_OP_square:
    return a * a;
  case CB_OP_floor:
    return floorf(a);
  case CB_OP_ceil:
    return ceilf(a);
  case CB_OP_trunc:
    return truncf(a);
  case CB_OP_round:
    return rintf(a);
  case CB_OP_copysign:
    return copysignf(a, b);
  case CB_OP_exp:
    return expf(a);
  case CB_OP_sin:
    return sinf(a);
  case CB_OP_log1p:
    return log1pf(a);
  default:
    return NAN;
  }
}

/* Operations computed exactly (float, then one rounding) and functions,
 * whose float results may differ from the C library's by an ulp of float
 * on OpenCL devices, so by an ulp of the half next to a tie. */
static const cb_op exact_ops[] = {
    CB_OP_add,   CB_OP_subtract, CB_OP_multiply, CB_OP_divide,
    CB_OP_maximum, CB_OP_negative, CB_OP_absolute, CB_OP_sqrt,
    CB_OP_square, CB_OP_floor,   CB_OP_ceil,     CB_OP_trunc,
    CB_OP_round, CB_OP_copysign};
static const cb_op close_ops[] = {CB_OP_exp, CB_OP_sin, CB_OP_log1p};

static int binary(cb_op op) {
  cb_op_kind k = cb_op_get_kind(op);
  return k == CB_KIND_BINARY || k == CB_KIND_DIVIDE || k == CB_KIND_MATH2;
}

/* The distance in halves between two finite or infinite halves. */
static int half_steps(uint16_t a, uint16_t b) {
  int ka = (a & 0x8000) ? 0x8000 - a : a, kb = (b & 0x8000) ? 0x8000 - b : b;
  return abs(ka - kb);
}

static void check_op(cb_op op, int device, int exact) {
  int na = binary(op) ? 2 : 1;
  int64_t n = NVALUES * NVALUES;
  cb_array *in[2];
  for (int k = 0; k < na; k++) {
    ASSERT_OK(cb_array_new(CB_FLOAT16, 1, &n, &in[k]));
    for (int64_t i = 0; i < n; i++)
      test_set(in[k], i, values[k ? i % NVALUES : i / NVALUES]);
  }
  cb_operand x[2] = {test_arg(in[0], device),
                     na > 1 ? test_arg(in[1], device) : test_arg(in[0], 0)};
  cb_array *out;
  int dev;
  ASSERT_OK(cb_ewise(op, x, na, -1, -1, &out, &dev));
  CHECK_INT(cb_array_dtype(out), ==, CB_FLOAT16);
  CHECK_OK(test_sync(out));
  const cb_half *a = cb_array_data(in[0]), *o = cb_array_data(out);
  const cb_half *b = na > 1 ? cb_array_data(in[1]) : a;
  int bad = 0;
  for (int64_t i = 0; i < n && bad < 3; i++) {
    uint16_t want = cb_half_from_double(
        reference(op, cb_half_to_float(a[i]), cb_half_to_float(b[i])));
    int ok = same_half(o[i], want) ||
             (!exact && !isnan(cb_half_to_float(want)) &&
              !isnan(cb_half_to_float(o[i])) && half_steps(o[i], want) <= 1);
    if (!ok) {
      bad++;
      test_fail(__FILE__, __LINE__, "value",
                "%s on device %d of %g, %g: got %g (0x%04x) want %g "
                "(0x%04x)", cb_op_name(op), device, cb_half_to_float(a[i]),
                cb_half_to_float(b[i]), cb_half_to_float(o[i]),
                (unsigned)o[i], cb_half_to_float(want), (unsigned)want);
    }
  }
  cb_array_unref(out);
  for (int k = 0; k < na; k++)
    cb_array_unref(in[k]);
}

static void check_device(int d) {
  for (size_t i = 0; i < sizeof exact_ops / sizeof *exact_ops; i++)
    check_op(exact_ops[i], d, 1);
  for (size_t i = 0; i < sizeof close_ops / sizeof *close_ops; i++)
    check_op(close_ops[i], d, 0);
}

TEST_CPU_AND_OPENCL(float16_codelets, check_device)

/* Comparisons and tests of halves give bool, as float's do. */
TEST(float16_comparisons) {
  ASSERT_OK(test_start(2, NULL));
  static const double a[] = {1.0, NAN, -0.0, INFINITY, 2049.0};
  static const double b[] = {2.0, NAN, 0.0, INFINITY, 2048.0};
  for (int d = 0; d < cb_device_count(); d++) {
    cb_array *x = test_values(CB_FLOAT16, 5, a);
    cb_array *y = test_values(CB_FLOAT16, 5, b), *lt, *nan;
    cb_operand ops[2] = {test_arg(x, d), test_arg(y, d)};
    int dev;
    ASSERT_OK(cb_ewise(CB_OP_less, ops, 2, -1, -1, &lt, &dev));
    ASSERT_OK(cb_ewise(CB_OP_isnan, ops, 1, -1, -1, &nan, &dev));
    CHECK_INT(cb_array_dtype(lt), ==, CB_BOOL);
    CHECK_OK(test_sync(lt));
    CHECK_OK(test_sync(nan));
    /* 2049 is no half: it rounds to 2048 (a tie, to even). */
    static const int want_lt[] = {1, 0, 0, 0, 0}, want_nan[] = {0, 1, 0, 0,
                                                                 0};
    for (int64_t i = 0; i < 5; i++) {
      CHECK_INT(test_get(lt, i), ==, want_lt[i]);
      CHECK_INT(test_get(nan, i), ==, want_nan[i]);
    }
    cb_array_unref(nan);
    cb_array_unref(lt);
    cb_array_unref(y);
    cb_array_unref(x);
  }
}

/* Casts between float16 and the other classes, both ways, on each
 * device: from float64 rounded once, to integers truncated. */
TEST(float16_casts) {
  ASSERT_OK(test_start(2, NULL));
  static const double from[] = {1.5, -2.75, 65519.0, 65520.0, 0x1p-25,
                                0x1p-24 * 1.5, -0.0, 3.0};
  static const cb_dtype others[] = {CB_FLOAT64, CB_FLOAT32, CB_INT32,
                                    CB_UINT8, CB_BOOL, CB_COMPLEX64};
  int64_t n = (int64_t)(sizeof from / sizeof *from);
  for (int d = 0; d < cb_device_count(); d++) {
    cb_device_info info;
    ASSERT_OK(cb_device_get(d, &info));
    for (size_t k = 0; k < sizeof others / sizeof *others; k++) {
      cb_dtype t = others[k];
      if (t == CB_FLOAT64 && !info.fp64)
        continue;
      cb_array *src = test_values(t, n, from), *h, *back;
      cb_operand x = test_arg(src, d);
      int dev;
      ASSERT_OK(cb_ewise(CB_OP_cast, &x, 1, -1, CB_FLOAT16, &h, &dev));
      CHECK_OK(test_sync(h));
      for (int64_t i = 0; i < n; i++) {
        double v = test_get(src, i);
        uint16_t want = cb_half_from_double(v);
        uint16_t got = ((const cb_half *)cb_array_data(h))[i];
        CHECK(same_half(got, want), "%s %g -> float16 on %s: 0x%04x, "
              "want 0x%04x", cb_dtype_name(t), v, info.filter_string,
              (unsigned)got, (unsigned)want);
      }
      cb_operand y = test_arg(h, d);
      ASSERT_OK(cb_ewise(CB_OP_cast, &y, 1, -1, t, &back, &dev));
      CHECK_OK(test_sync(back));
      for (int64_t i = 0; i < n; i++) {
        /* 65520 became inf: integers get the minimum of int64's low
         * bits, as NumPy's casts on x86-64. */
        double hv = test_get(h, i);
        int inf = isinf(hv);
        double want = t == CB_BOOL    ? (double)(hv != 0)
                      : t == CB_INT32 ? (inf ? INT32_MIN : trunc(hv))
                      : t == CB_UINT8 ? (inf ? 0 : (double)(uint8_t)(int64_t)hv)
                                      : hv;
        CHECK(test_get(back, i) == want, "float16 %g -> %s on %s: %g", hv,
              cb_dtype_name(t), info.filter_string, test_get(back, i));
      }
      cb_array_unref(back);
      cb_array_unref(h);
      cb_array_unref(src);
    }
  }
}

/* A float16 fill and a strong float16 scalar: rounded to halves once. */
TEST(float16_fill_and_scalar) {
  ASSERT_OK(test_start(2, NULL));
  int64_t n = 5;
  for (int d = 0; d < cb_device_count(); d++) {
    cb_array *a, *r;
    ASSERT_OK(cb_full(CB_FLOAT16, 1, &n, (cb_scalar){.f = 0.1}, d, &a));
    cb_operand x[2] = {test_arg(a, d), test_scalar(CB_FLOAT16, 3.0)};
    int dev;
    ASSERT_OK(cb_ewise(CB_OP_multiply, x, 2, -1, -1, &r, &dev));
    CHECK_INT(cb_array_dtype(r), ==, CB_FLOAT16);
    CHECK_OK(test_sync(r));
    CHECK_OK(test_sync(a));
    float tenth = cb_half_to_float(cb_half_from_double(0.1));
    for (int64_t i = 0; i < n; i++) {
      CHECK_DBL(test_get(a, i), ==, tenth);
      CHECK_DBL(test_get(r, i), ==,
                cb_half_to_float(cb_half_from_double(tenth * 3.0f)));
    }
    cb_array_unref(r);
    cb_array_unref(a);
  }
}

/* NumPy 2's promotion with float16; Python floats keep it. */
TEST(float16_promotion) {
#define A(t) {.device = -1, .dtype = t, .weak = 0}
#define WEAK(t) {.device = -1, .dtype = t, .weak = 1}
  static const test_promotion rows[] = {
      {CB_OP_add, {A(CB_FLOAT16), A(CB_BOOL)}, 2, CB_FLOAT16},
      {CB_OP_add, {A(CB_INT8), A(CB_FLOAT16)}, 2, CB_FLOAT16},
      {CB_OP_add, {A(CB_FLOAT16), A(CB_UINT8)}, 2, CB_FLOAT16},
      {CB_OP_add, {A(CB_FLOAT16), A(CB_INT16)}, 2, CB_FLOAT32},
      {CB_OP_add, {A(CB_UINT16), A(CB_FLOAT16)}, 2, CB_FLOAT32},
      {CB_OP_add, {A(CB_FLOAT16), A(CB_INT32)}, 2, CB_FLOAT64},
      {CB_OP_add, {A(CB_FLOAT16), A(CB_UINT32)}, 2, CB_FLOAT64},
      {CB_OP_add, {A(CB_FLOAT16), A(CB_INT64)}, 2, CB_FLOAT64},
      {CB_OP_add, {A(CB_FLOAT16), A(CB_UINT64)}, 2, CB_FLOAT64},
      {CB_OP_add, {A(CB_FLOAT16), A(CB_FLOAT32)}, 2, CB_FLOAT32},
      {CB_OP_add, {A(CB_FLOAT64), A(CB_FLOAT16)}, 2, CB_FLOAT64},
      {CB_OP_add, {A(CB_FLOAT16), A(CB_COMPLEX64)}, 2, CB_COMPLEX64},
      {CB_OP_add, {A(CB_FLOAT16), A(CB_COMPLEX128)}, 2, CB_COMPLEX128},
      {CB_OP_add, {A(CB_FLOAT16), WEAK(CB_FLOAT64)}, 2, CB_FLOAT16},
      {CB_OP_add, {A(CB_FLOAT16), WEAK(CB_INT64)}, 2, CB_FLOAT16},
      {CB_OP_add, {A(CB_FLOAT16), WEAK(CB_COMPLEX128)}, 2, CB_COMPLEX64},
      {CB_OP_divide, {A(CB_FLOAT16), A(CB_INT8)}, 2, CB_FLOAT16},
      {CB_OP_sqrt, {A(CB_BOOL)}, 1, CB_FLOAT16},
      {CB_OP_exp, {A(CB_INT8)}, 1, CB_FLOAT16},
      {CB_OP_sin, {A(CB_UINT8)}, 1, CB_FLOAT16},
      {CB_OP_sin, {A(CB_INT16)}, 1, CB_FLOAT32},
      {CB_OP_arctan2, {A(CB_INT8), A(CB_BOOL)}, 2, CB_FLOAT16},
      {CB_OP_round, {A(CB_BOOL)}, 1, CB_FLOAT16},
      {CB_OP_equal, {A(CB_FLOAT16), A(CB_INT64)}, 2, CB_BOOL},
  };
  test_check_promotions(rows, sizeof rows / sizeof *rows);
  /* Bits do not exist for floats, float16 included. */
  cb_operand x[2] = {A(CB_FLOAT16), A(CB_FLOAT16)};
  cb_dtype got;
  CHECK_RC(cb_result_dtype(CB_OP_bitwise_and, x, 2, &got), CB_ETYPE);
#undef A
#undef WEAK
}

/* The C API's reductions and BLAS take no float16: the message says to
 * cast to float32 (as cambrian's Python functions do). */
TEST(float16_reductions_and_blas_refused) {
  ASSERT_OK(test_start(2, NULL));
  int64_t shape[2] = {2, 2};
  cb_array *a, *out = NULL;
  ASSERT_OK(cb_array_new(CB_FLOAT16, 2, shape, &a));
  for (int64_t i = 0; i < 4; i++)
    test_set(a, i, (double)i);
  cb_operand x = test_arg(a, -1);
  int dev;
  CHECK_RC(cb_reduce(CB_REDUCE_sum, &x, CB_AXIS_ALL, -1, &out, &dev),
           CB_ETYPE);
  CHECK_HAS(cb_last_error(), "float32");
  CHECK_RC(cb_matmul(a, a, -1, &out, &dev), CB_ETYPE);
  CHECK_HAS(cb_last_error(), "float16");
  cb_array_unref(a);
}
