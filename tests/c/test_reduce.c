/* Reductions and dot products: values over many tiles, result dtypes,
 * axes, empty inputs, placement and the refusals. */
#include <math.h>
#include <string.h>

#include "test.h"

/* op over x along axis; NULL after a failed check. */
static cb_array *reduce(cb_reduce_op op, cb_array *x, int axis, int device) {
  cb_operand a = test_arg(x, device);
  cb_array *r = NULL;
  int dev;
  int rc = cb_reduce(op, &a, axis, -1, &r, &dev);
  if (rc)
    test_fail(__FILE__, __LINE__, "cb_reduce", "%s of %s: %s",
              cb_reduce_name(op), cb_dtype_name(cb_array_dtype(x)),
              cb_last_error());
  else if (test_sync(r))
    test_fail(__FILE__, __LINE__, "test_sync", "%s", cb_last_error());
  return r;
}

/* The single value of a 0-D result; NAN when there is none. */
static double value(cb_array *r) {
  if (!r)
    return NAN;
  double v = cb_array_ndim(r) == 0 ? test_get(r, 0) : NAN;
  cb_array_unref(r);
  return v;
}

TEST(reduce_all_elements) {
  ASSERT_OK(test_start(2, "none"));
  int64_t n = 200001; /* several tiles */
  cb_array *x = test_ramp(CB_FLOAT64, 1, &n, 1, 1);
  ASSERT(x);
  double dn = (double)n;
  CHECK_DBL(value(reduce(CB_REDUCE_sum, x, CB_AXIS_ALL, -1)), ==,
            dn * (dn + 1) / 2);
  CHECK_DBL(value(reduce(CB_REDUCE_min, x, CB_AXIS_ALL, -1)), ==, 1);
  CHECK_DBL(value(reduce(CB_REDUCE_max, x, CB_AXIS_ALL, -1)), ==, dn);
  CHECK_DBL(value(reduce(CB_REDUCE_mean, x, CB_AXIS_ALL, -1)), ==,
            (dn + 1) / 2);
  double norm = sqrt(dn * (dn + 1) * (2 * dn + 1) / 6);
  CHECK_DBL(fabs(value(reduce(CB_REDUCE_norm, x, CB_AXIS_ALL, -1)) - norm),
            <, 1e-9 * norm);
  /* A 2-D array reduces over every element too. */
  int64_t shape[2] = {3, 4};
  cb_array *m = test_ramp(CB_INT32, 2, shape, -5, 1);
  ASSERT(m);
  CHECK_DBL(value(reduce(CB_REDUCE_sum, m, CB_AXIS_ALL, -1)), ==, 6);
  CHECK_DBL(value(reduce(CB_REDUCE_max, m, CB_AXIS_ALL, 0)), ==, 6);
  cb_array_unref(m);
  cb_array_unref(x);
}

TEST(reduce_result_dtypes) {
  ASSERT_OK(test_start(1, "none"));
  static const struct {
    cb_reduce_op op;
    cb_dtype in, out;
  } rows[] = {
      {CB_REDUCE_sum, CB_BOOL, CB_INT64},
      {CB_REDUCE_sum, CB_INT32, CB_INT64},
      {CB_REDUCE_sum, CB_FLOAT32, CB_FLOAT32},
      {CB_REDUCE_min, CB_INT32, CB_INT32},
      {CB_REDUCE_max, CB_BOOL, CB_BOOL},
      {CB_REDUCE_mean, CB_INT64, CB_FLOAT64},
      {CB_REDUCE_mean, CB_FLOAT32, CB_FLOAT32},
      {CB_REDUCE_norm, CB_INT32, CB_FLOAT64},
      {CB_REDUCE_norm, CB_FLOAT32, CB_FLOAT32},
  };
  int64_t n = 10;
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
    cb_array *x = test_ramp(rows[i].in, 1, &n, 1, 0);
    ASSERT(x);
    cb_array *r = reduce(rows[i].op, x, CB_AXIS_ALL, -1);
    if (r) {
      CHECK(cb_array_dtype(r) == rows[i].out, "%s of %s is %s",
            cb_reduce_name(rows[i].op), cb_dtype_name(rows[i].in),
            cb_dtype_name(cb_array_dtype(r)));
      /* Ten ones. */
      double want = rows[i].op == CB_REDUCE_sum    ? 10
                    : rows[i].op == CB_REDUCE_norm ? sqrt(10.0)
                                                   : 1;
      CHECK(fabs(test_get(r, 0) - want) < 1e-6, "%s of %s: %g",
            cb_reduce_name(rows[i].op), cb_dtype_name(rows[i].in),
            test_get(r, 0));
      cb_array_unref(r);
    }
    cb_array_unref(x);
  }
}

TEST(reduce_wraps_and_propagates_nan) {
  ASSERT_OK(test_start(1, "none"));
  double big[2] = {9.0e18, 9.0e18};
  cb_array *x = test_values(CB_INT64, 2, big);
  ASSERT(x);
  /* int64 sums wrap around, as NumPy's. */
  cb_array *r = reduce(CB_REDUCE_sum, x, CB_AXIS_ALL, -1);
  ASSERT(r);
  /* 18e18 - 2^64 */
  CHECK_INT(((int64_t *)cb_array_data(r))[0], ==, -446744073709551616LL);
  cb_array_unref(r);
  cb_array_unref(x);
  double v[3] = {1, NAN, 3};
  x = test_values(CB_FLOAT32, 3, v);
  ASSERT(x);
  CHECK(isnan(value(reduce(CB_REDUCE_max, x, CB_AXIS_ALL, -1))));
  CHECK(isnan(value(reduce(CB_REDUCE_min, x, CB_AXIS_ALL, -1))));
  CHECK(isnan(value(reduce(CB_REDUCE_sum, x, CB_AXIS_ALL, -1))));
  cb_array_unref(x);
}

TEST(reduce_along_axis) {
  ASSERT_OK(test_start(2, "none"));
  int64_t shape[2] = {300, 500};
  cb_array *m = test_ramp(CB_INT32, 2, shape, 0, 1); /* r * 500 + c */
  ASSERT(m);
  cb_array *cols = reduce(CB_REDUCE_sum, m, 0, -1);
  ASSERT(cols);
  CHECK_INT(cb_array_ndim(cols), ==, 1);
  CHECK_INT(cb_array_shape(cols)[0], ==, 500);
  CHECK_INT(cb_array_dtype(cols), ==, CB_INT64);
  /* Column c: sum over r of r * 500 + c. */
  for (int c = 0; c < 500; c += 99)
    CHECK_DBL(test_get(cols, c), ==, 500.0 * (299 * 300 / 2) + 300.0 * c);
  cb_array_unref(cols);
  cb_array *rows = reduce(CB_REDUCE_max, m, 1, -1);
  ASSERT(rows);
  CHECK_INT(cb_array_shape(rows)[0], ==, 300);
  CHECK_INT(cb_array_dtype(rows), ==, CB_INT32);
  for (int r = 0; r < 300; r += 37)
    CHECK_DBL(test_get(rows, r), ==, 500.0 * r + 499);
  cb_array_unref(rows);
  cb_array *means = reduce(CB_REDUCE_mean, m, 1, -1);
  ASSERT(means);
  CHECK_DBL(test_get(means, 2), ==, 1000 + 249.5);
  cb_array_unref(means);
  cb_array_unref(m);
}

/* Argmin and argmax: int64 indices of the first best element, over every
 * element (across tiles) and along each axis, ties included. */
TEST(reduce_arg_indices) {
  ASSERT_OK(test_start(2, "none"));
  int64_t n = 200001; /* several tiles, rising */
  cb_array *x = test_ramp(CB_FLOAT64, 1, &n, 0, 1);
  ASSERT(x);
  cb_array *r = reduce(CB_REDUCE_argmax, x, CB_AXIS_ALL, -1);
  ASSERT(r);
  CHECK_INT(cb_array_dtype(r), ==, CB_INT64);
  CHECK_DBL(value(r), ==, (double)(n - 1));
  CHECK_DBL(value(reduce(CB_REDUCE_argmin, x, CB_AXIS_ALL, -1)), ==, 0);
  cb_array_unref(x);
  /* int16 wraps: 32767 is first met at 32767, -32768 at 32768, and both
   * again at each 65536 further. */
  x = test_ramp(CB_INT16, 1, &n, 0, 1);
  ASSERT(x);
  CHECK_DBL(value(reduce(CB_REDUCE_argmax, x, CB_AXIS_ALL, -1)), ==, 32767);
  CHECK_DBL(value(reduce(CB_REDUCE_argmin, x, CB_AXIS_ALL, -1)), ==, 32768);
  cb_array_unref(x);
  /* int8 of r * 500 + c: along rows, 127 first at (127 - 500 r) mod 256;
   * down columns, each value comes again 128 rows further. */
  int64_t shape[2] = {300, 500};
  cb_array *m = test_ramp(CB_INT8, 2, shape, 0, 1);
  ASSERT(m);
  cb_array *rows = reduce(CB_REDUCE_argmax, m, 1, -1);
  ASSERT(rows);
  CHECK_INT(cb_array_shape(rows)[0], ==, 300);
  for (int i = 0; i < 300; i += 13)
    CHECK_DBL(test_get(rows, i), ==, (double)(((127 - 500 * i) % 256 + 256)
                                             % 256));
  cb_array_unref(rows);
  cb_array *cols = reduce(CB_REDUCE_argmin, m, 0, -1);
  ASSERT(cols);
  CHECK_INT(cb_array_shape(cols)[0], ==, 500);
  /* Column c holds (500 r + c) mod 256 as int8; -128 is value 128. The
   * rows that bring it: 500 r = 128 - c (mod 256), the first of them. */
  for (int c = 0; c < 500; c += 17) {
    int first = -1;
    for (int i = 0; i < 300 && first < 0; i++)
      if ((500 * i + c) % 256 == 128)
        first = i;
    if (first < 0) { /* no -128: the smallest of the column, first met */
      int best = 0;
      for (int i = 1; i < 300; i++)
        if ((int8_t)(500 * i + c) < (int8_t)(500 * best + c))
          best = i;
      first = best;
    }
    CHECK_DBL(test_get(cols, c), ==, first);
  }
  cb_array_unref(cols);
  cb_array_unref(m);
}

TEST(reduce_empty) {
  ASSERT_OK(test_start(1, "none"));
  int64_t n = 0;
  cb_array *x;
  ASSERT_OK(cb_array_new(CB_FLOAT64, 1, &n, &x));
  CHECK_DBL(value(reduce(CB_REDUCE_sum, x, CB_AXIS_ALL, -1)), ==, 0);
  CHECK(isnan(value(reduce(CB_REDUCE_mean, x, CB_AXIS_ALL, -1))));
  cb_operand a = test_arg(x, -1);
  cb_array *r;
  int dev;
  CHECK_RC(cb_reduce(CB_REDUCE_min, &a, CB_AXIS_ALL, -1, &r, &dev),
           CB_EINVAL);
  CHECK_HAS(cb_last_error(), "zero-size array to reduction operation "
                             "minimum");
  CHECK_RC(cb_reduce(CB_REDUCE_max, &a, CB_AXIS_ALL, -1, &r, &dev),
           CB_EINVAL);
  CHECK_RC(cb_reduce(CB_REDUCE_argmax, &a, CB_AXIS_ALL, -1, &r, &dev),
           CB_EINVAL);
  CHECK_HAS(cb_last_error(), "attempt to get argmax of an empty sequence");
  cb_array_unref(x);
}

TEST(reduce_refuses_bad_arguments) {
  ASSERT_OK(test_start(1, "none"));
  int64_t shape[2] = {4, 5};
  cb_array *m, *v;
  ASSERT_OK(cb_array_new(CB_FLOAT32, 2, shape, &m));
  ASSERT_OK(cb_array_new(CB_FLOAT32, 1, shape, &v));
  cb_operand a = test_arg(m, -1), b = test_arg(v, -1);
  cb_operand scalar = test_weak_float(1);
  cb_array *sentinel = (cb_array *)&sentinel, *r = sentinel;
  int dev;
  CHECK_RC(cb_reduce(CB_NREDUCE, &a, CB_AXIS_ALL, -1, &r, &dev), CB_EINVAL);
  CHECK_RC(cb_reduce((cb_reduce_op)-1, &a, CB_AXIS_ALL, -1, &r, &dev),
           CB_EINVAL);
  CHECK_RC(cb_reduce(CB_REDUCE_sum, NULL, CB_AXIS_ALL, -1, &r, &dev),
           CB_EINVAL);
  CHECK_RC(cb_reduce(CB_REDUCE_sum, &scalar, CB_AXIS_ALL, -1, &r, &dev),
           CB_EINVAL);
  CHECK_STR(cb_last_error(), "sum needs array operands");
  CHECK_RC(cb_reduce(CB_REDUCE_sum, &a, 2, -1, &r, &dev), CB_EINVAL);
  CHECK_HAS(cb_last_error(), "axis 2 is out of bounds");
  CHECK_RC(cb_reduce(CB_REDUCE_sum, &a, -2, -1, &r, &dev), CB_EINVAL);
  CHECK_RC(cb_reduce(CB_REDUCE_sum, &b, 1, -1, &r, &dev), CB_EINVAL);
  CHECK_RC(cb_reduce(CB_REDUCE_sum, &a, CB_AXIS_ALL, 4, &r, &dev),
           CB_ENODEV);
  cb_operand far = test_arg(m, 4);
  CHECK_RC(cb_reduce(CB_REDUCE_sum, &far, CB_AXIS_ALL, -1, &r, &dev),
           CB_ENODEV);
  CHECK(r == sentinel);
  cb_array_unref(m);
  cb_array_unref(v);
}

TEST(reduce_on_opencl_device) {
  int gpu = test_need_opencl();
  ASSERT(gpu >= 0);
  int64_t n = 300000;
  cb_array *x = test_ramp(CB_FLOAT32, 1, &n, 0, 0.5);
  ASSERT(x);
  cb_operand a = test_arg(x, gpu);
  cb_array *r;
  int dev = -5;
  ASSERT_OK(cb_reduce(CB_REDUCE_max, &a, CB_AXIS_ALL, -1, &r, &dev));
  CHECK_INT(dev, ==, gpu);
  CHECK_OK(test_sync(r));
  CHECK_DBL(test_get(r, 0), ==, 0.5 * (double)(n - 1));
  cb_array_unref(r);
  /* Or on the default device. */
  a.device = -1;
  ASSERT_OK(cb_reduce(CB_REDUCE_min, &a, CB_AXIS_ALL, gpu, &r, &dev));
  CHECK_INT(dev, ==, gpu);
  CHECK_OK(test_sync(r));
  CHECK_DBL(test_get(r, 0), ==, 0);
  cb_array_unref(r);
  /* Argmax keeps the index with the value on the device. */
  a.device = gpu;
  ASSERT_OK(cb_reduce(CB_REDUCE_argmax, &a, CB_AXIS_ALL, -1, &r, &dev));
  CHECK_INT(dev, ==, gpu);
  CHECK_OK(test_sync(r));
  CHECK_DBL(test_get(r, 0), ==, (double)(n - 1));
  cb_array_unref(r);
  cb_array_unref(x);
}

static cb_array *dot(cb_array *x, int xdev, cb_array *y, int ydev,
                     int *rc) {
  cb_operand a = test_arg(x, xdev), b = test_arg(y, ydev);
  cb_array *r = NULL;
  int dev;
  *rc = cb_dot(&a, &b, -1, &r, &dev);
  if (*rc == 0 && test_sync(r))
    test_fail(__FILE__, __LINE__, "test_sync", "%s", cb_last_error());
  return r;
}

TEST(dot_values) {
  ASSERT_OK(test_start(2, "none"));
  int64_t n = 150000;
  cb_array *x = test_ramp(CB_FLOAT64, 1, &n, 1, 0);
  cb_array *y = test_ramp(CB_FLOAT64, 1, &n, 0, 1);
  ASSERT(x && y);
  int rc;
  cb_array *r = dot(x, -1, y, -1, &rc);
  ASSERT_OK(rc);
  CHECK_INT(cb_array_ndim(r), ==, 0);
  CHECK_INT(cb_array_dtype(r), ==, CB_FLOAT64);
  CHECK_DBL(test_get(r, 0), ==, (double)n * (double)(n - 1) / 2);
  cb_array_unref(r);
  /* Mixed dtypes go through casts. */
  int64_t four = 4;
  cb_array *i = test_ramp(CB_INT32, 1, &four, 1, 1);
  cb_array *f = test_ramp(CB_FLOAT32, 1, &four, 0.5, 0);
  ASSERT(i && f);
  r = dot(i, -1, f, -1, &rc);
  ASSERT_OK(rc);
  CHECK_INT(cb_array_dtype(r), ==, CB_FLOAT64);
  CHECK_DBL(test_get(r, 0), ==, 5);
  cb_array_unref(r);
  /* Integers keep their dtype; booleans say whether any pair is true. */
  r = dot(i, -1, i, -1, &rc);
  ASSERT_OK(rc);
  CHECK_INT(cb_array_dtype(r), ==, CB_INT32);
  CHECK_DBL(test_get(r, 0), ==, 30);
  cb_array_unref(r);
  double b1[3] = {1, 0, 1}, b2[3] = {0, 1, 0};
  cb_array *p = test_values(CB_BOOL, 3, b1), *q = test_values(CB_BOOL, 3, b2);
  ASSERT(p && q);
  r = dot(p, -1, q, -1, &rc);
  ASSERT_OK(rc);
  CHECK_INT(cb_array_dtype(r), ==, CB_BOOL);
  CHECK_DBL(test_get(r, 0), ==, 0);
  cb_array_unref(r);
  r = dot(p, -1, p, -1, &rc);
  ASSERT_OK(rc);
  CHECK_DBL(test_get(r, 0), ==, 1);
  cb_array_unref(r);
  cb_array_unref(p);
  cb_array_unref(q);
  cb_array_unref(i);
  cb_array_unref(f);
  cb_array_unref(x);
  cb_array_unref(y);
}

TEST(dot_refuses_bad_arguments) {
  ASSERT_OK(test_start(1, "none"));
  int64_t n = 5, m = 6, shape[2] = {5, 5};
  cb_array *x, *y, *mat;
  ASSERT_OK(cb_array_new(CB_FLOAT32, 1, &n, &x));
  ASSERT_OK(cb_array_new(CB_FLOAT32, 1, &m, &y));
  ASSERT_OK(cb_array_new(CB_FLOAT32, 2, shape, &mat));
  int rc;
  CHECK(dot(x, -1, y, -1, &rc) == NULL);
  CHECK_RC(rc, CB_ESHAPE);
  CHECK_HAS(cb_last_error(), "not aligned");
  CHECK(dot(mat, -1, x, -1, &rc) == NULL);
  CHECK_RC(rc, CB_EINVAL);
  CHECK_HAS(cb_last_error(), "use matmul");
  CHECK(dot(x, -1, x, 3, &rc) == NULL);
  CHECK_RC(rc, CB_ENODEV);
  cb_operand a = test_arg(x, -1), s = test_weak_float(2);
  cb_array *r;
  int dev;
  CHECK_RC(cb_dot(&a, NULL, -1, &r, &dev), CB_EINVAL);
  CHECK_RC(cb_dot(&a, &s, -1, &r, &dev), CB_EINVAL);
  CHECK_RC(cb_dot(NULL, &a, -1, &r, &dev), CB_EINVAL);
  cb_array_unref(x);
  cb_array_unref(y);
  cb_array_unref(mat);
}

TEST(dot_refuses_two_devices) {
  int gpu = test_need_opencl();
  ASSERT(gpu >= 0);
  int64_t n = 8;
  cb_array *x = test_ramp(CB_FLOAT32, 1, &n, 1, 0);
  ASSERT(x);
  int rc;
  CHECK(dot(x, 0, x, gpu, &rc) == NULL);
  CHECK_RC(rc, CB_EPLACE);
  /* Both on the OpenCL device. */
  cb_array *r = dot(x, gpu, x, gpu, &rc);
  ASSERT_OK(rc);
  CHECK_DBL(test_get(r, 0), ==, 8);
  cb_array_unref(r);
  cb_array_unref(x);
}
