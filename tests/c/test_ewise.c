/* Element-wise operations: values, broadcasting of scalars and 0-D
 * arrays, dtype rules, placement, the refusals before submission, the
 * non-blocking form, and the generators (full, arange). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "test.h"

static cb_array *new_array(cb_dtype t, int64_t n) {
  cb_array *a = NULL;
  if (cb_array_new(t, 1, &n, &a))
    test_fail(__FILE__, __LINE__, "cb_array_new", "%s", cb_last_error());
  return a;
}

TEST(ewise_add) {
  ASSERT_OK(test_start(2, "none"));
  int64_t n = 200000; /* several tiles */
  cb_array *a = test_ramp(CB_INT32, 1, &n, 0, 1);
  cb_array *b = test_ramp(CB_INT32, 1, &n, 7, -2);
  ASSERT(a && b);
  cb_operand x[2] = {test_arg(a, -1), test_arg(b, -1)};
  cb_array *c = NULL;
  int dev = -5;
  ASSERT_OK(cb_ewise(CB_OP_add, x, 2, -1, -1, &c, &dev));
  CHECK_INT(dev, ==, -1);
  CHECK_INT(cb_array_dtype(c), ==, CB_INT32);
  CHECK_INT(cb_array_ndim(c), ==, 1);
  CHECK_INT(cb_array_size(c), ==, n);
  CHECK_OK(test_sync(c));
  int bad = 0;
  for (int64_t i = 0; i < n; i++)
    bad += test_get(c, i) != 7.0 - (double)i;
  CHECK_INT(bad, ==, 0);
  cb_array_unref(a);
  cb_array_unref(b);
  cb_array_unref(c);
}

/* cb_ewise_into: a result written into an array, also one of the
 * operands (after the tasks that read it before), and the refusals. */
TEST(ewise_into_writes_an_array) {
  ASSERT_OK(test_start(2, "none"));
  int64_t n = 200000;
  cb_array *a = test_ramp(CB_FLOAT64, 1, &n, 0, 1);
  cb_array *d = new_array(CB_FLOAT64, n);
  ASSERT(a && d);
  cb_operand two = {.device = -1, .dtype = CB_FLOAT64, .weak = 1,
                    .value = {.f = 2}};
  cb_operand x[2] = {test_arg(a, -1), two};
  int dev = -5;
  ASSERT_OK(cb_ewise_into(CB_OP_multiply, x, 2, -1, -1, d, &dev));
  cb_array *before;
  ASSERT_OK(cb_ewise(CB_OP_add, x, 2, -1, -1, &before, &dev));
  ASSERT_OK(cb_ewise_into(CB_OP_add, x, 2, -1, -1, a, &dev)); /* a += 2 */
  CHECK_OK(test_sync(d));
  CHECK_OK(test_sync(before));
  CHECK_OK(test_sync(a));
  int bad = 0;
  for (int64_t i = 0; i < n; i++)
    bad += test_get(d, i) != 2.0 * (double)i ||
           test_get(before, i) != (double)i + 2 ||
           test_get(a, i) != (double)i + 2;
  CHECK_INT(bad, ==, 0);
  cb_array *ints = new_array(CB_INT64, n), *small = new_array(CB_FLOAT64, 3);
  ASSERT(ints && small);
  CHECK_RC(cb_ewise_into(CB_OP_add, x, 2, -1, -1, ints, &dev), CB_ETYPE);
  CHECK_HAS(cb_last_error(), "into an array of int64");
  CHECK_RC(cb_ewise_into(CB_OP_add, x, 2, -1, -1, small, &dev), CB_ESHAPE);
  CHECK_RC(cb_ewise_into(CB_OP_add, x, 2, -1, -1, NULL, &dev), CB_EINVAL);
  cb_array_unref(ints);
  cb_array_unref(small);
  cb_array_unref(before);
  cb_array_unref(a);
  cb_array_unref(d);
}

TEST(ewise_scalars_and_0d_broadcast) {
  ASSERT_OK(test_start(1, "none"));
  int64_t shape[2] = {3, 4};
  cb_array *a = test_ramp(CB_FLOAT32, 2, shape, 1, 1);
  cb_array *zero_d = test_ramp(CB_FLOAT32, 0, NULL, 100, 0);
  ASSERT(a && zero_d);
  cb_array *r;
  int dev;
  /* A weak float keeps float32. */
  cb_operand x[2] = {test_arg(a, -1), test_weak_float(0.5)};
  ASSERT_OK(cb_ewise(CB_OP_multiply, x, 2, -1, -1, &r, &dev));
  CHECK_INT(cb_array_dtype(r), ==, CB_FLOAT32);
  CHECK_INT(cb_array_ndim(r), ==, 2);
  CHECK_INT(cb_array_shape(r)[1], ==, 4);
  CHECK_OK(test_sync(r));
  CHECK_DBL(test_get(r, 11), ==, 6.0);
  cb_array_unref(r);
  /* A scalar first, a strong float64 one: float64. */
  cb_operand y[2] = {test_scalar(CB_FLOAT64, 10), test_arg(a, -1)};
  ASSERT_OK(cb_ewise(CB_OP_subtract, y, 2, -1, -1, &r, &dev));
  CHECK_INT(cb_array_dtype(r), ==, CB_FLOAT64);
  CHECK_OK(test_sync(r));
  CHECK_DBL(test_get(r, 0), ==, 9.0);
  CHECK_DBL(test_get(r, 11), ==, -2.0);
  cb_array_unref(r);
  /* A 0-D array broadcasts over a 2-D one, on either side. */
  cb_operand z[2] = {test_arg(zero_d, -1), test_arg(a, -1)};
  ASSERT_OK(cb_ewise(CB_OP_subtract, z, 2, -1, -1, &r, &dev));
  CHECK_INT(cb_array_ndim(r), ==, 2);
  CHECK_OK(test_sync(r));
  CHECK_DBL(test_get(r, 0), ==, 99.0);
  CHECK_DBL(test_get(r, 11), ==, 88.0);
  cb_array_unref(r);
  /* Two 0-D arrays give a 0-D array. */
  cb_operand w[2] = {test_arg(zero_d, -1), test_arg(zero_d, -1)};
  ASSERT_OK(cb_ewise(CB_OP_add, w, 2, -1, -1, &r, &dev));
  CHECK_INT(cb_array_ndim(r), ==, 0);
  CHECK_INT(cb_array_size(r), ==, 1);
  CHECK_OK(test_sync(r));
  CHECK_DBL(test_get(r, 0), ==, 200.0);
  cb_array_unref(r);
  cb_array_unref(a);
  cb_array_unref(zero_d);
}

TEST(ewise_promotes_and_casts_inputs) {
  ASSERT_OK(test_start(1, "none"));
  int64_t n = 5;
  cb_array *i = test_ramp(CB_INT32, 1, &n, -2, 1);
  cb_array *f = test_ramp(CB_FLOAT32, 1, &n, 0.25, 0);
  ASSERT(i && f);
  cb_operand x[2] = {test_arg(i, -1), test_arg(f, -1)};
  cb_array *r;
  int dev;
  ASSERT_OK(cb_ewise(CB_OP_add, x, 2, -1, -1, &r, &dev));
  CHECK_INT(cb_array_dtype(r), ==, CB_FLOAT64);
  CHECK_OK(test_sync(r));
  for (int k = 0; k < 5; k++)
    CHECK_DBL(test_get(r, k), ==, k - 2 + 0.25);
  cb_array_unref(r);
  /* Integer division gives float64. */
  cb_operand d[2] = {test_arg(i, -1), test_scalar(CB_INT32, 4)};
  ASSERT_OK(cb_ewise(CB_OP_divide, d, 2, -1, -1, &r, &dev));
  CHECK_INT(cb_array_dtype(r), ==, CB_FLOAT64);
  CHECK_OK(test_sync(r));
  CHECK_DBL(test_get(r, 0), ==, -0.5);
  cb_array_unref(r);
  cb_array_unref(i);
  cb_array_unref(f);
}

TEST(ewise_integers_wrap) {
  ASSERT_OK(test_start(1, "none"));
  double v[3] = {INT32_MAX, INT32_MIN, -5};
  cb_array *a = test_values(CB_INT32, 3, v);
  ASSERT(a);
  cb_operand x[2] = {test_arg(a, -1), test_scalar(CB_INT32, 1)};
  cb_array *r;
  int dev;
  ASSERT_OK(cb_ewise(CB_OP_add, x, 2, -1, -1, &r, &dev));
  CHECK_OK(test_sync(r));
  CHECK_DBL(test_get(r, 0), ==, INT32_MIN);
  cb_array_unref(r);
  cb_operand y = test_arg(a, -1);
  ASSERT_OK(cb_ewise(CB_OP_negative, &y, 1, -1, -1, &r, &dev));
  CHECK_OK(test_sync(r));
  CHECK_DBL(test_get(r, 1), ==, INT32_MIN);
  CHECK_DBL(test_get(r, 2), ==, 5);
  cb_array_unref(r);
  ASSERT_OK(cb_ewise(CB_OP_absolute, &y, 1, -1, -1, &r, &dev));
  CHECK_OK(test_sync(r));
  CHECK_DBL(test_get(r, 1), ==, INT32_MIN);
  cb_array_unref(r);
  cb_array_unref(a);
}

TEST(ewise_where_and_cast) {
  ASSERT_OK(test_start(1, "none"));
  double cv[4] = {1, 0, 1, 0}, av[4] = {1.9, -2.7, 3.5, 1e10};
  cb_array *cond = test_values(CB_BOOL, 4, cv);
  cb_array *a = test_values(CB_FLOAT64, 4, av);
  ASSERT(cond && a);
  cb_operand x[3] = {test_arg(cond, -1), test_arg(a, -1),
                     test_weak_float(-1)};
  cb_array *r;
  int dev;
  ASSERT_OK(cb_ewise(CB_OP_where, x, 3, -1, -1, &r, &dev));
  CHECK_INT(cb_array_dtype(r), ==, CB_FLOAT64);
  CHECK_OK(test_sync(r));
  CHECK_DBL(test_get(r, 0), ==, 1.9);
  CHECK_DBL(test_get(r, 1), ==, -1);
  CHECK_DBL(test_get(r, 2), ==, 3.5);
  cb_array_unref(r);
  /* Casts truncate towards zero, and anything non-zero is true. */
  cb_operand y = test_arg(a, -1);
  ASSERT_OK(cb_ewise(CB_OP_cast, &y, 1, -1, CB_INT64, &r, &dev));
  CHECK_INT(cb_array_dtype(r), ==, CB_INT64);
  CHECK_OK(test_sync(r));
  CHECK_DBL(test_get(r, 0), ==, 1);
  CHECK_DBL(test_get(r, 1), ==, -2);
  CHECK_DBL(test_get(r, 3), ==, 1e10);
  cb_array_unref(r);
  ASSERT_OK(cb_ewise(CB_OP_cast, &y, 1, -1, CB_BOOL, &r, &dev));
  CHECK_OK(test_sync(r));
  for (int i = 0; i < 4; i++)
    CHECK_DBL(test_get(r, i), ==, 1);
  cb_array_unref(r);
  cb_array_unref(cond);
  cb_array_unref(a);
}

TEST(ewise_refuses_bad_arguments) {
  ASSERT_OK(test_start(1, "none"));
  cb_array *a = new_array(CB_FLOAT32, 10), *b = new_array(CB_FLOAT32, 11);
  cb_array *bools = new_array(CB_BOOL, 10), *ints = new_array(CB_INT32, 10);
  ASSERT(a && b && bools && ints);
  cb_array *sentinel = (cb_array *)&sentinel, *r = sentinel;
  int dev = -7;
  cb_operand x[3] = {test_arg(a, -1), test_arg(a, -1), test_arg(a, -1)};
  CHECK_RC(cb_ewise(CB_NOPS, x, 2, -1, -1, &r, &dev), CB_EINVAL);
  CHECK_RC(cb_ewise((cb_op)-1, x, 2, -1, -1, &r, &dev), CB_EINVAL);
  CHECK_RC(cb_ewise(CB_OP_add, x, 1, -1, -1, &r, &dev), CB_EINVAL);
  CHECK_STR(cb_last_error(), "add takes 2 operands, got 1");
  CHECK_RC(cb_ewise(CB_OP_add, x, 3, -1, -1, &r, &dev), CB_EINVAL);
  CHECK_RC(cb_ewise(CB_OP_sqrt, x, 0, -1, -1, &r, &dev), CB_EINVAL);
  cb_operand scalars[2] = {test_weak_float(1), test_weak_float(2)};
  CHECK_RC(cb_ewise(CB_OP_add, scalars, 2, -1, -1, &r, &dev), CB_EINVAL);
  CHECK_STR(cb_last_error(), "add needs at least one array");
  cb_operand differ[2] = {test_arg(a, -1), test_arg(b, -1)};
  CHECK_RC(cb_ewise(CB_OP_add, differ, 2, -1, -1, &r, &dev), CB_ESHAPE);
  cb_operand far[2] = {test_arg(a, 5), test_arg(a, -1)};
  CHECK_RC(cb_ewise(CB_OP_add, far, 2, -1, -1, &r, &dev), CB_ENODEV);
  CHECK_RC(cb_ewise(CB_OP_add, x, 2, 3, -1, &r, &dev), CB_ENODEV);
  CHECK_RC(cb_ewise(CB_OP_add, x, 2, -2, -1, &r, &dev), CB_ENODEV);
  CHECK_RC(cb_ewise(CB_OP_cast, x, 1, -1, -1, &r, &dev), CB_ETYPE);
  CHECK_RC(cb_ewise(CB_OP_cast, x, 1, -1, CB_NDTYPES, &r, &dev), CB_ETYPE);
  cb_operand bb[2] = {test_arg(bools, -1), test_arg(bools, -1)};
  CHECK_RC(cb_ewise(CB_OP_subtract, bb, 2, -1, -1, &r, &dev), CB_ETYPE);
  CHECK_STR(cb_last_error(), "subtract is not supported for bool");
  cb_operand big[2] = {test_arg(ints, -1),
                       {.device = -1, .dtype = CB_INT64, .weak = 1,
                        .value.i = (int64_t)1 << 40}};
  CHECK_RC(cb_ewise(CB_OP_add, big, 2, -1, -1, &r, &dev), CB_ERANGE);
  CHECK_HAS(cb_last_error(), "out of bounds for int32");
  /* Nothing was made or submitted. */
  CHECK(r == sentinel);
  CHECK_INT(dev, ==, -7);
  CHECK_OK(cb_wait_idle(0));
  cb_array_unref(a);
  cb_array_unref(b);
  cb_array_unref(bools);
  cb_array_unref(ints);
}

TEST(ewise_placement) {
  int gpu = test_need_opencl();
  ASSERT(gpu >= 0);
  int64_t n = 1000;
  cb_array *a = test_ramp(CB_FLOAT32, 1, &n, 0, 1);
  ASSERT(a);
  cb_array *r;
  int dev = -5;
  /* The operand's device. */
  cb_operand x[2] = {test_arg(a, gpu), test_weak_float(1)};
  ASSERT_OK(cb_ewise(CB_OP_add, x, 2, 0, -1, &r, &dev));
  CHECK_INT(dev, ==, gpu);
  CHECK_OK(test_sync(r));
  CHECK_DBL(test_get(r, 999), ==, 1000);
  /* Without one, the default device. */
  cb_operand y[2] = {test_arg(a, -1), test_arg(r, -1)};
  cb_array *s;
  ASSERT_OK(cb_ewise(CB_OP_add, y, 2, 0, -1, &s, &dev));
  CHECK_INT(dev, ==, 0);
  CHECK_OK(test_sync(s));
  CHECK_DBL(test_get(s, 999), ==, 1999);
  cb_array_unref(s);
  /* Operands on two devices are refused. */
  cb_operand z[2] = {test_arg(a, gpu), test_arg(r, 0)};
  CHECK_RC(cb_ewise(CB_OP_add, z, 2, -1, -1, &s, &dev), CB_EPLACE);
  CHECK_HAS(cb_last_error(), "to_device()");
  cb_array_unref(r);
  cb_array_unref(a);
}

TEST(ewise_nonblocking) {
  int64_t n = 4;
  cb_array *a = test_ramp(CB_INT64, 1, &n, 1, 1);
  ASSERT(a);
  cb_operand x[2] = {test_arg(a, -1), test_arg(a, -1)};
  cb_array *r = NULL;
  int dev;
  /* Without a runtime it does not start one. */
  CHECK_RC(cb_ewise_nonblocking(CB_OP_multiply, x, 2, -1, -1, &r, &dev),
           CB_EAGAIN);
  CHECK(!cb_is_running());
  CHECK(r == NULL);
  CHECK_RC(cb_ewise_nonblocking(CB_NOPS, x, 2, -1, -1, &r, &dev), CB_EINVAL);
  ASSERT_OK(test_start(1, "none"));
  ASSERT_OK(cb_ewise_nonblocking(CB_OP_multiply, x, 2, -1, -1, &r, &dev));
  CHECK_OK(test_sync(r));
  CHECK_DBL(test_get(r, 3), ==, 16);
  cb_array_unref(r);
  /* The same checks as cb_ewise. */
  CHECK_RC(cb_ewise_nonblocking(CB_OP_multiply, x, 1, -1, -1, &r, &dev),
           CB_EINVAL);
  cb_array_unref(a);
}

typedef struct dtype_case {
  cb_op op;
  int n;
  cb_operand x[3];
  int rc;
  cb_dtype want;
} dtype_case;

/* Stand-ins for arrays of each dtype, set by result_dtype_rules. */
static cb_array *arr[CB_NDTYPES];
#define A(t) {.array = (cb_array *)&arr[t], .device = -1}
#define WEAK_INT(v) {.device = -1, .dtype = CB_INT64, .weak = 1, .value.i = v}
#define WEAK_FLOAT(v) {.device = -1, .dtype = CB_FLOAT64, .weak = 1,        \
                       .value.f = v}
#define WEAK_BOOL {.device = -1, .dtype = CB_BOOL, .weak = 1, .value.i = 1}
#define STRONG(t) {.device = -1, .dtype = t}

TEST(result_dtype_rules) {
  for (int t = 0; t < CB_NDTYPES; t++) {
    int64_t n = 1;
    ASSERT_OK(cb_array_new((cb_dtype)t, 1, &n, &arr[t]));
  }
  /* The table refers to arrays through arr[]: resolved below. */
  static const dtype_case rows[] = {
      {CB_OP_add, 2, {A(CB_INT32), A(CB_INT32)}, 0, CB_INT32},
      {CB_OP_add, 2, {A(CB_INT32), A(CB_INT64)}, 0, CB_INT64},
      {CB_OP_add, 2, {A(CB_INT32), A(CB_FLOAT32)}, 0, CB_FLOAT64},
      {CB_OP_add, 2, {A(CB_FLOAT32), A(CB_FLOAT64)}, 0, CB_FLOAT64},
      {CB_OP_add, 2, {A(CB_BOOL), A(CB_BOOL)}, 0, CB_BOOL},
      {CB_OP_add, 2, {A(CB_BOOL), A(CB_FLOAT32)}, 0, CB_FLOAT32},
      {CB_OP_add, 2, {A(CB_INT32), WEAK_INT(5)}, 0, CB_INT32},
      {CB_OP_add, 2, {A(CB_BOOL), WEAK_INT(5)}, 0, CB_INT64},
      {CB_OP_add, 2, {A(CB_INT32), WEAK_FLOAT(0.5)}, 0, CB_FLOAT64},
      {CB_OP_add, 2, {A(CB_FLOAT32), WEAK_FLOAT(0.5)}, 0, CB_FLOAT32},
      {CB_OP_add, 2, {A(CB_FLOAT32), WEAK_INT(3)}, 0, CB_FLOAT32},
      {CB_OP_add, 2, {A(CB_BOOL), WEAK_BOOL}, 0, CB_BOOL},
      {CB_OP_add, 2, {A(CB_INT32), STRONG(CB_INT64)}, 0, CB_INT64},
      {CB_OP_add, 2, {WEAK_FLOAT(1), WEAK_INT(1)}, 0, CB_FLOAT64},
      {CB_OP_divide, 2, {A(CB_INT32), A(CB_INT32)}, 0, CB_FLOAT64},
      {CB_OP_divide, 2, {A(CB_FLOAT32), A(CB_FLOAT32)}, 0, CB_FLOAT32},
      {CB_OP_sqrt, 1, {A(CB_INT32)}, 0, CB_FLOAT64},
      {CB_OP_sqrt, 1, {A(CB_BOOL)}, 0, CB_FLOAT16},
      {CB_OP_less, 2, {A(CB_FLOAT32), A(CB_INT32)}, 0, CB_BOOL},
      {CB_OP_where, 3, {A(CB_BOOL), A(CB_INT32), A(CB_FLOAT32)}, 0,
       CB_FLOAT64},
      {CB_OP_subtract, 2, {A(CB_BOOL), A(CB_BOOL)}, CB_ETYPE, 0},
      {CB_OP_negative, 1, {A(CB_BOOL)}, CB_ETYPE, 0},
      {CB_OP_power, 2, {A(CB_BOOL), A(CB_BOOL)}, 0, CB_INT8},
      {CB_OP_add, 2, {A(CB_INT32), WEAK_INT((int64_t)1 << 40)}, CB_ERANGE,
       0},
      {CB_OP_add, 2, {A(CB_INT64), {.device = -1, .dtype = CB_INT64,
                                    .weak = 2, .value.f = 1e30}},
       CB_ERANGE, 0},
      {CB_OP_add, 2, {A(CB_FLOAT32), {.device = -1, .dtype = CB_INT64,
                                      .weak = 2, .value.f = 1e30}},
       0, CB_FLOAT32},
  };
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
    cb_operand x[3];
    memcpy(x, rows[i].x, sizeof x);
    for (int k = 0; k < rows[i].n; k++)
      if (x[k].array)
        x[k].array = *(cb_array **)x[k].array;
    cb_dtype got = (cb_dtype)-1;
    int rc = cb_result_dtype(rows[i].op, x, rows[i].n, &got);
    CHECK(rc == rows[i].rc, "row %zu (%s): returned %s, want %s", i,
          cb_op_name(rows[i].op), test_code_name(rc),
          test_code_name(rows[i].rc));
    if (rc == 0 && rows[i].rc == 0)
      CHECK(got == rows[i].want, "row %zu (%s): %s, want %s", i,
            cb_op_name(rows[i].op), cb_dtype_name(got),
            cb_dtype_name(rows[i].want));
  }
  cb_dtype got;
  cb_operand one[1] = {A(CB_INT32)};
  one[0].array = arr[CB_INT32];
  CHECK_RC(cb_result_dtype(CB_NOPS, one, 1, &got), CB_EINVAL);
  for (int t = 0; t < CB_NDTYPES; t++)
    cb_array_unref(arr[t]);
  CHECK(!cb_is_running());
}

TEST(full_values) {
  ASSERT_OK(test_start(1, "none"));
  int64_t shape[2] = {300, 700};
  /* Complex dtypes: the real part; the imaginary one is imag. */
  static const double values[CB_NDTYPES] = {
      1, -123456, 1e15, 1.25, -0.1, -100, -30000, 200, 60000, 4e9, 1e19,
      -2.5, 1e300, 0.1};
  const double imag = -0.75;
  for (int t = 0; t < CB_NDTYPES; t++) {
    cb_scalar v = {0};
    int complex = t == CB_COMPLEX64 || t == CB_COMPLEX128;
    if (t == CB_FLOAT16 || t == CB_FLOAT32 || t == CB_FLOAT64)
      v.f = values[t];
    else if (complex) {
      v.c[0] = values[t];
      v.c[1] = imag;
    } else if (t == CB_UINT64) /* its bits */
      v.i = (int64_t)(uint64_t)values[t];
    else
      v.i = (int64_t)values[t];
    cb_array *a;
    ASSERT_OK(cb_full((cb_dtype)t, 2, shape, v, -1, &a));
    CHECK_INT(cb_array_dtype(a), ==, t);
    CHECK_INT(cb_array_ndim(a), ==, 2);
    CHECK_OK(test_sync(a));
    double want = t == CB_FLOAT32   ? (float)values[t]
                  : t == CB_FLOAT16 ? cb_half_to_float(
                                          cb_half_from_double(values[t]))
                                    : values[t];
    CHECK_DBL(test_get(a, 0), ==, want);
    CHECK_DBL(test_get(a, 300 * 700 - 1), ==, want);
    if (t == CB_COMPLEX64) {
      const float *p = cb_array_data(a);
      CHECK_DBL(p[1], ==, imag);
      CHECK_DBL(p[2 * (300 * 700) - 1], ==, imag);
    } else if (t == CB_COMPLEX128) {
      const double *p = cb_array_data(a);
      CHECK_DBL(p[1], ==, imag);
      CHECK_DBL(p[2 * (300 * 700) - 1], ==, imag);
    }
    cb_array_unref(a);
  }
  cb_array *a;
  ASSERT_OK(cb_full(CB_INT32, 0, NULL, (cb_scalar){.i = 9}, 0, &a));
  CHECK_INT(cb_array_size(a), ==, 1);
  CHECK_OK(test_sync(a));
  CHECK_DBL(test_get(a, 0), ==, 9);
  cb_array_unref(a);
}

TEST(full_refuses_bad_arguments) {
  ASSERT_OK(test_start(1, "none"));
  int64_t shape[CB_MAX_NDIM + 1] = {2, 2, 2, 2, 2, 2, 2, 2, 2};
  cb_array *sentinel = (cb_array *)&sentinel, *a = sentinel;
  cb_scalar v = {.i = 1};
  CHECK_RC(cb_full(CB_INT32, 1, shape, v, 1, &a), CB_ENODEV);
  CHECK_RC(cb_full(CB_INT32, 1, shape, v, -2, &a), CB_ENODEV);
  CHECK_RC(cb_full(CB_INT32, CB_MAX_NDIM + 1, shape, v, -1, &a), CB_EINVAL);
  int64_t negative = -1;
  CHECK_RC(cb_full(CB_INT32, 1, &negative, v, -1, &a), CB_EINVAL);
  CHECK_RC(cb_full(CB_NDTYPES, 1, shape, v, -1, &a), CB_ETYPE);
  CHECK(a == sentinel);
}

TEST(arange_values) {
  ASSERT_OK(test_start(2, "none"));
  int64_t n = 200001;
  cb_array *a;
  ASSERT_OK(cb_arange(CB_INT64, n, (cb_scalar){.i = -7}, (cb_scalar){.i = 3},
                      -1, &a));
  CHECK_INT(cb_array_ndim(a), ==, 1);
  CHECK_INT(cb_array_size(a), ==, n);
  CHECK_OK(test_sync(a));
  CHECK_DBL(test_get(a, 0), ==, -7);
  CHECK_DBL(test_get(a, 131072), ==, -7 + 3.0 * 131072);
  CHECK_DBL(test_get(a, n - 1), ==, -7 + 3.0 * (double)(n - 1));
  cb_array_unref(a);
  ASSERT_OK(cb_arange(CB_FLOAT32, 9, (cb_scalar){.f = 1},
                      (cb_scalar){.f = -0.25}, 0, &a));
  CHECK_OK(test_sync(a));
  CHECK_DBL(test_get(a, 8), ==, -1.0);
  cb_array_unref(a);
  /* No elements is an empty array. */
  ASSERT_OK(cb_arange(CB_INT32, 0, (cb_scalar){.i = 0}, (cb_scalar){.i = 1},
                      -1, &a));
  CHECK_INT(cb_array_size(a), ==, 0);
  CHECK_OK(test_sync(a));
  cb_array_unref(a);
}

TEST(arange_refuses_bad_arguments) {
  ASSERT_OK(test_start(1, "none"));
  cb_array *sentinel = (cb_array *)&sentinel, *a = sentinel;
  cb_scalar zero = {.i = 0}, one = {.i = 1};
  CHECK_RC(cb_arange(CB_BOOL, 4, zero, one, -1, &a), CB_ETYPE);
  CHECK_STR(cb_last_error(), "arange is not supported for bool");
  CHECK_RC(cb_arange(CB_INT32, -4, zero, one, -1, &a), CB_EINVAL);
  CHECK_RC(cb_arange(CB_INT32, 4, zero, one, 1, &a), CB_ENODEV);
  CHECK(a == sentinel);
}
