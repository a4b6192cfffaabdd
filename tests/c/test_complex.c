/* The complex dtypes: each operation of the table that accepts them
 * against <complex.h> in double precision, on the CPU workers and on each
 * OpenCL device, over one tile and over several; casts to and from
 * complex; promotion. */
#include <complex.h>
#include <math.h>
#include <string.h>

#include "test.h"

/* The reference of op over a and b, in double precision. */
static double complex reference(cb_op op, double complex a,
                                double complex b) {
  switch (op) {
  case CB_OP_add:
    return a + b;
  case CB_OP_subtract:
    return a - b;
  case CB_OP_multiply:
    return a * b;
  case CB_OP_divide:
    return a / b;
  case CB_OP_power:
    return cpow(a, b);
  case CB_OP_negative:
    return -a;
  case CB_OP_positive:
    return a;
  case CB_OP_square:
    return a * a;
  case CB_OP_conj:
    return conj(a);
  case CB_OP_absolute:
    return cabs(a);
  case CB_OP_real:
    return creal(a);
  case CB_OP_imag:
    return cimag(a);
  case CB_OP_sign:
    return a / cabs(a);
  case CB_OP_round:
    return rint(creal(a)) + I * rint(cimag(a));
  case CB_OP_sqrt:
    return csqrt(a);
  case CB_OP_exp:
    return cexp(a);
  case CB_OP_expm1:
    return cexp(a) - 1;
  case CB_OP_log:
    return clog(a);
  case CB_OP_log1p:
    return clog(1 + a);
  case CB_OP_log2:
    return clog(a) / log(2.0);
  case CB_OP_log10:
    return clog(a) / log(10.0);
  case CB_OP_sin:
    return csin(a);
  case CB_OP_cos:
    return ccos(a);
  case CB_OP_tan:
    return ctan(a);
  case CB_OP_sinh:
    return csinh(a);
  case CB_OP_cosh:
    return ccosh(a);
  case CB_OP_tanh:
    return ctanh(a);
  case CB_OP_arcsin:
    return casin(a);
  case CB_OP_arccos:
    return cacos(a);
  case CB_OP_arctan:
    return catan(a);
  case CB_OP_arcsinh:
    return casinh(a);
  case CB_OP_arccosh:
    return cacosh(a);
  case CB_OP_arctanh:
    return catanh(a);
  case CB_OP_equal:
    return a == b;
  case CB_OP_not_equal:
    return a != b;
  case CB_OP_logical_not:
    return a == 0;
  case CB_OP_logical_and:
    return a != 0 && b != 0;
  case CB_OP_logical_or:
    return a != 0 || b != 0;
  case CB_OP_logical_xor:
    return (a != 0) != (b != 0);
  case CB_OP_isfinite:
    return 1;
  case CB_OP_isnan:
  case CB_OP_isinf:
    return 0;
  default:
    return NAN;
  }
}

static int is_binary(cb_op op) {
  cb_op_kind k = cb_op_get_kind(op);
  return k == CB_KIND_BINARY || k == CB_KIND_DIVIDE ||
         k == CB_KIND_COMPARE;
}

/* Element i of operand which: moderate values off the real and
 * imaginary axes (off every branch cut); every fifth b equals a, for
 * the comparisons, and every seventh is 0, for the logical operations
 * (a 0 divisor gives infinities and NaNs: none for division). */
static double complex input(int which, int64_t i, cb_op op) {
  if (which == 1 && i % 7 == 0 && cb_op_get_kind(op) == CB_KIND_COMPARE)
    return 0;
  double re = (double)(i % 17) / 13.0 - 0.6 + 0.1 * which;
  double im = (double)(i % 11) / 9.0 - 0.55 + 0.05 * which;
  if (which == 1 && i % 5 == 0)
    return input(0, i, op);
  return re + I * im;
}

static void set(cb_array *a, int64_t i, double complex v) {
  if (cb_array_dtype(a) == CB_COMPLEX64)
    ((float complex *)cb_array_data(a))[i] = (float complex)v;
  else
    ((double complex *)cb_array_data(a))[i] = v;
}

static double complex get(cb_array *a, int64_t i) {
  const void *p = cb_array_data(a);
  switch (cb_array_dtype(a)) {
  case CB_COMPLEX64:
    return ((const float complex *)p)[i];
  case CB_COMPLEX128:
    return ((const double complex *)p)[i];
  case CB_FLOAT32:
    return ((const float *)p)[i];
  case CB_FLOAT64:
    return ((const double *)p)[i];
  case CB_BOOL:
    return ((const uint8_t *)p)[i];
  default:
    return NAN;
  }
}

static void check_op(cb_op op, cb_dtype t, int device, int64_t n) {
  int na = is_binary(op) ? 2 : 1;
  cb_array *in[2] = {NULL, NULL};
  cb_operand x[2];
  for (int k = 0; k < na; k++) {
    ASSERT_OK(cb_array_new(t, 1, &n, &in[k]));
    for (int64_t i = 0; i < n; i++)
      set(in[k], i, input(k, i, op));
    x[k] = test_arg(in[k], device);
  }
  cb_array *out = NULL;
  int dev;
  int rc = cb_ewise(op, x, na, -1, -1, &out, &dev);
  CHECK(rc == 0, "%s %s on device %d: %s", cb_op_name(op), cb_dtype_name(t),
        device, cb_last_error());
  if (rc == 0) {
    CHECK_OK(test_sync(out));
    cb_failure f;
    CHECK(cb_array_failure(out, &f) == 0, "%s failed: %s", cb_op_name(op),
          f.info.message);
    /* Single precision computes in float; the inverse functions of
     * OpenCL devices are textbook formulas, a few ulp off at most on
     * these moderate values. */
    double tol = t == CB_COMPLEX64 ? 1e-5 : 1e-12;
    int bad = 0;
    for (int64_t i = 0; i < n && bad < 3; i++) {
      double complex a = get(in[0], i), b = na > 1 ? get(in[1], i) : 0;
      double complex want = reference(op, a, b), got = get(out, i);
      if (cabs(got - want) > tol * fmax(1.0, cabs(want))) {
        bad++;
        test_fail(__FILE__, __LINE__, "value",
                  "%s %s dev %d n %lld [%lld]: got %.17g%+.17gi want "
                  "%.17g%+.17gi", cb_op_name(op), cb_dtype_name(t), device,
                  (long long)n, (long long)i, creal(got), cimag(got),
                  creal(want), cimag(want));
      }
    }
    cb_array_unref(out);
  }
  for (int k = 0; k < na; k++)
    cb_array_unref(in[k]);
}

/* Every operation that accepts complex64 has a reference here. */
static void check_device(int d) {
  static const int64_t sizes[2] = {1000, 300007};
  cb_device_info info;
  ASSERT_OK(cb_device_get(d, &info));
  for (int op = 0; op < CB_NOPS; op++) {
    cb_op_kind k = cb_op_get_kind((cb_op)op);
    if (k == CB_KIND_CAST || k == CB_KIND_FILL || k == CB_KIND_WHERE)
      continue; /* below, and test_ewise.c */
    cb_operand probe[2] = {{.dtype = CB_COMPLEX64},
                           {.dtype = CB_COMPLEX64}};
    cb_dtype r;
    int na = is_binary((cb_op)op) ? 2 : 1;
    if (cb_result_dtype((cb_op)op, probe, na, &r))
      continue;
    CHECK(!isnan(creal(reference((cb_op)op, 0.5, 0.25))),
          "no reference value for %s", cb_op_name((cb_op)op));
    for (int s = 0; s < 2; s++) {
      check_op((cb_op)op, CB_COMPLEX64, d, sizes[s]);
      if (info.fp64)
        check_op((cb_op)op, CB_COMPLEX128, d, sizes[s]);
    }
  }
}

TEST_CPU_AND_OPENCL(complex_codelets, check_device)

/* Casts between complex and every class, both ways, on each device. */
TEST(complex_casts) {
  ASSERT_OK(test_start(2, NULL));
  int64_t n = 4;
  static const double complex values[4] = {1.5 - 2 * I, -3.25 + 0 * I,
                                           0 + 1 * I, 0};
  for (int d = 0; d < cb_device_count(); d++) {
    cb_device_info info;
    ASSERT_OK(cb_device_get(d, &info));
    cb_array *z;
    ASSERT_OK(cb_array_new(CB_COMPLEX128, 1, &n, &z));
    for (int64_t i = 0; i < n; i++)
      set(z, i, values[i]);
    static const cb_dtype targets[] = {CB_BOOL, CB_INT32, CB_FLOAT32,
                                       CB_FLOAT64, CB_COMPLEX64};
    for (size_t k = 0; k < sizeof targets / sizeof *targets; k++) {
      cb_operand x = test_arg(z, d);
      cb_array *out, *back;
      int dev;
      if (!info.fp64) {
        CHECK_RC(cb_ewise(CB_OP_cast, &x, 1, -1, targets[k], &out, &dev),
                 CB_ETYPE);
        continue;
      }
      ASSERT_OK(cb_ewise(CB_OP_cast, &x, 1, -1, targets[k], &out, &dev));
      CHECK_OK(test_sync(out));
      for (int64_t i = 0; i < n; i++) {
        double complex v = values[i];
        double want_re = targets[k] == CB_BOOL ? (double)(v != 0)
                         : targets[k] == CB_INT32 ? trunc(creal(v))
                                                  : creal(v);
        double want_im = targets[k] == CB_COMPLEX64 ? cimag(v) : 0;
        double complex got = targets[k] == CB_INT32
                                 ? ((int32_t *)cb_array_data(out))[i]
                                 : get(out, i);
        CHECK(creal(got) == want_re && cimag(got) == want_im,
              "complex128 -> %s on %s [%lld]: got %g%+gi",
              cb_dtype_name(targets[k]), info.filter_string, (long long)i,
              creal(got), cimag(got));
      }
      /* And back: the real values gain a zero imaginary part. */
      cb_operand y = test_arg(out, d);
      ASSERT_OK(cb_ewise(CB_OP_cast, &y, 1, -1, CB_COMPLEX128, &back, &dev));
      CHECK_OK(test_sync(back));
      for (int64_t i = 0; i < n; i++) {
        double complex want = get(out, i);
        if (targets[k] == CB_INT32)
          want = ((int32_t *)cb_array_data(out))[i];
        CHECK(get(back, i) == want, "%s -> complex128 on %s [%lld]",
              cb_dtype_name(targets[k]), info.filter_string, (long long)i);
      }
      cb_array_unref(back);
      cb_array_unref(out);
    }
    cb_array_unref(z);
  }
}

/* NumPy 2's promotion with complex dtypes, Python complex scalars weak. */
TEST(complex_promotion) {
#define A(t) {.device = -1, .dtype = t, .weak = 0}
#define WEAK_COMPLEX {.device = -1, .dtype = CB_COMPLEX128, .weak = 1}
  static const test_promotion rows[] = {
      {CB_OP_add, {A(CB_INT64), A(CB_COMPLEX64)}, 2, CB_COMPLEX128},
      {CB_OP_add, {A(CB_INT16), A(CB_COMPLEX64)}, 2, CB_COMPLEX64},
      {CB_OP_add, {A(CB_UINT64), A(CB_COMPLEX64)}, 2, CB_COMPLEX128},
      {CB_OP_add, {A(CB_BOOL), A(CB_COMPLEX64)}, 2, CB_COMPLEX64},
      {CB_OP_add, {A(CB_FLOAT32), A(CB_COMPLEX64)}, 2, CB_COMPLEX64},
      {CB_OP_add, {A(CB_FLOAT64), A(CB_COMPLEX64)}, 2, CB_COMPLEX128},
      {CB_OP_add, {A(CB_COMPLEX128), A(CB_COMPLEX64)}, 2, CB_COMPLEX128},
      {CB_OP_multiply, {A(CB_FLOAT32), WEAK_COMPLEX}, 2, CB_COMPLEX64},
      {CB_OP_multiply, {A(CB_FLOAT64), WEAK_COMPLEX}, 2, CB_COMPLEX128},
      {CB_OP_multiply, {A(CB_INT8), WEAK_COMPLEX}, 2, CB_COMPLEX128},
      {CB_OP_multiply, {A(CB_COMPLEX64), WEAK_COMPLEX}, 2, CB_COMPLEX64},
      {CB_OP_divide, {A(CB_COMPLEX64), A(CB_INT8)}, 2, CB_COMPLEX64},
      {CB_OP_sqrt, {A(CB_COMPLEX64)}, 1, CB_COMPLEX64},
      {CB_OP_absolute, {A(CB_COMPLEX64)}, 1, CB_FLOAT32},
      {CB_OP_real, {A(CB_COMPLEX128)}, 1, CB_FLOAT64},
      {CB_OP_imag, {A(CB_COMPLEX64)}, 1, CB_FLOAT32},
      {CB_OP_equal, {A(CB_COMPLEX64), A(CB_FLOAT64)}, 2, CB_BOOL},
  };
  test_check_promotions(rows, sizeof rows / sizeof *rows);
  /* Orderings, rounding, remainders and bits do not exist for complex. */
  static const cb_op refused[] = {
      CB_OP_less,  CB_OP_maximum,   CB_OP_floor,       CB_OP_remainder,
      CB_OP_floor_divide, CB_OP_bitwise_and, CB_OP_arctan2, CB_OP_signbit};
  for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
    cb_operand x[2] = {A(CB_COMPLEX64), A(CB_COMPLEX64)};
    cb_dtype got;
    int n = cb_op_get_kind(refused[i]) == CB_KIND_UNARY ||
                    cb_op_get_kind(refused[i]) == CB_KIND_TEST
                ? 1
                : 2;
    CHECK_RC(cb_result_dtype(refused[i], x, n, &got), CB_ETYPE);
  }
#undef A
#undef WEAK_COMPLEX
}

/* complex(re, im): parts kept as they are, infinities and NaN too. */
TEST(complex_compose) {
  ASSERT_OK(test_start(2, NULL));
  int64_t n = 4;
  static const double re[4] = {1.5, INFINITY, NAN, -0.0};
  static const double im[4] = {-2, 3, INFINITY, NAN};
  for (int d = 0; d < cb_device_count(); d++) {
    cb_array *a = test_values(CB_FLOAT32, n, re);
    cb_array *b = test_values(CB_FLOAT32, n, im), *z;
    cb_operand x[2] = {test_arg(a, d), test_arg(b, d)};
    int dev;
    ASSERT_OK(cb_ewise(CB_OP_complex, x, 2, -1, -1, &z, &dev));
    CHECK_INT(cb_array_dtype(z), ==, CB_COMPLEX64);
    CHECK_OK(test_sync(z));
    for (int64_t i = 0; i < n; i++) {
      double complex v = get(z, i);
      CHECK((creal(v) == re[i] || (isnan(creal(v)) && isnan(re[i]))) &&
                (cimag(v) == im[i] || (isnan(cimag(v)) && isnan(im[i]))),
            "complex(%g, %g) on device %d: %g%+gi", re[i], im[i], d,
            creal(v), cimag(v));
    }
    cb_array_unref(z);
    cb_array_unref(b);
    cb_array_unref(a);
  }
}

/* A complex fill, and a complex scalar operand. */
TEST(complex_fill_and_scalar) {
  ASSERT_OK(test_start(2, NULL));
  int64_t n = 5;
  cb_scalar v = {.c = {1.5, -2}};
  for (int d = 0; d < cb_device_count(); d++) {
    cb_array *a, *r;
    ASSERT_OK(cb_full(CB_COMPLEX64, 1, &n, v, d, &a));
    cb_operand x[2] = {test_arg(a, d),
                       {.device = -1, .dtype = CB_COMPLEX128, .weak = 1,
                        .value.c = {0, 1}}};
    int dev;
    ASSERT_OK(cb_ewise(CB_OP_multiply, x, 2, -1, -1, &r, &dev));
    CHECK_INT(cb_array_dtype(r), ==, CB_COMPLEX64);
    CHECK_OK(test_sync(r));
    CHECK_OK(test_sync(a));
    for (int64_t i = 0; i < n; i++) {
      CHECK(get(a, i) == 1.5 - 2 * I, "fill on device %d", d);
      CHECK(get(r, i) == 2 + 1.5 * I, "(1.5-2i) * i on device %d", d);
    }
    cb_array_unref(r);
    cb_array_unref(a);
  }
}

/* Complex matrix products through BLAS on every device: (2 x 3) @ (3 x 2)
 * against the sums of products computed here. */
TEST(complex_matmul) {
  ASSERT_OK(test_start(2, NULL));
  int64_t sa[2] = {2, 3}, sb[2] = {3, 2};
  for (int d = 0; d < cb_device_count(); d++) {
    cb_device_info info;
    ASSERT_OK(cb_device_get(d, &info));
    cb_dtype t = info.fp64 ? CB_COMPLEX128 : CB_COMPLEX64;
    cb_array *a, *b, *c;
    ASSERT_OK(cb_array_new_on(t, 2, sa, d, &a));
    ASSERT_OK(cb_array_new_on(t, 2, sb, d, &b));
    for (int64_t i = 0; i < 6; i++) {
      set(a, i, input(0, i, CB_OP_multiply));
      set(b, i, input(1, i + 1, CB_OP_multiply));
    }
    int dev;
    ASSERT_OK(cb_matmul(a, b, d, &c, &dev));
    CHECK_INT(cb_array_dtype(c), ==, t);
    CHECK_OK(test_sync(c));
    for (int64_t i = 0; i < 2; i++)
      for (int64_t j = 0; j < 2; j++) {
        double complex want = 0;
        for (int64_t k = 0; k < 3; k++)
          want += get(a, i * 3 + k) * get(b, k * 2 + j);
        double complex got = get(c, i * 2 + j);
        CHECK(cabs(got - want) < 1e-5 * fmax(1, cabs(want)),
              "%s on %s [%lld, %lld]: got %g%+gi want %g%+gi",
              cb_dtype_name(t), info.filter_string, (long long)i,
              (long long)j, creal(got), cimag(got), creal(want),
              cimag(want));
      }
    cb_array_unref(c);
    cb_array_unref(b);
    cb_array_unref(a);
  }
}
