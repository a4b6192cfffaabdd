/* Matrix products (matmul, gemm, gemv) and transposes: values against a
 * reference computed here, NumPy's shape rules, placement and the
 * refusals. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test.h"

/* Element (i, j) of op(x), x a 2-D array. */
static double at(const cb_array *x, int trans, int64_t i, int64_t j) {
  int64_t cols = cb_array_shape(x)[1];
  return trans ? test_get(x, j * cols + i) : test_get(x, i * cols + j);
}

/* Checks c == alpha * op(a) @ op(b) + beta * c0 over m x n (c0 NULL: 0),
 * with a relative tolerance. */
static void check_product(const cb_array *c, double alpha, const cb_array *a,
                          int ta, const cb_array *b, int tb, double beta,
                          const cb_array *c0, double tol) {
  int64_t m = cb_array_shape(c)[0], n = cb_array_shape(c)[1];
  int64_t k = cb_array_shape(a)[ta ? 0 : 1];
  int bad = 0;
  for (int64_t i = 0; i < m && bad < 3; i++)
    for (int64_t j = 0; j < n && bad < 3; j++) {
      double want = 0;
      for (int64_t p = 0; p < k; p++)
        want += at(a, ta, i, p) * at(b, tb, p, j);
      want = alpha * want + (c0 ? beta * test_get(c0, i * n + j) : 0);
      double got = test_get(c, i * n + j);
      if (fabs(got - want) > tol * fmax(1, fabs(want))) {
        bad++;
        test_fail(__FILE__, __LINE__, "product",
                  "(%lld, %lld): got %.17g, want %.17g", (long long)i,
                  (long long)j, got, want);
      }
    }
}

static cb_array *matrix(cb_dtype t, int64_t rows, int64_t cols, double first,
                        double step) {
  int64_t shape[2] = {rows, cols};
  return test_ramp(t, 2, shape, first, step);
}

TEST(matmul_matrices) {
  ASSERT_OK(test_start(2, "none"));
  cb_array *a = matrix(CB_FLOAT64, 2, 3, 1, 1);
  cb_array *b = matrix(CB_FLOAT64, 3, 2, 7, 1);
  ASSERT(a && b);
  cb_array *c;
  int dev = -5;
  ASSERT_OK(cb_matmul(a, b, -1, &c, &dev));
  CHECK_INT(dev, ==, -1);
  CHECK_INT(cb_array_ndim(c), ==, 2);
  CHECK_INT(cb_array_shape(c)[0], ==, 2);
  CHECK_INT(cb_array_shape(c)[1], ==, 2);
  CHECK_OK(test_sync(c));
  CHECK_DBL(test_get(c, 0), ==, 58);
  CHECK_DBL(test_get(c, 1), ==, 64);
  CHECK_DBL(test_get(c, 2), ==, 139);
  CHECK_DBL(test_get(c, 3), ==, 154);
  cb_array_unref(c);
  cb_array_unref(a);
  cb_array_unref(b);
}

TEST(matmul_over_many_tiles) {
  ASSERT_OK(test_start(2, "none"));
  /* 600 x 400 results: several row blocks. */
  cb_array *a = matrix(CB_FLOAT32, 600, 50, -1, 0.01);
  cb_array *b = matrix(CB_FLOAT32, 50, 400, 2, -0.003);
  ASSERT(a && b);
  cb_array *c;
  int dev;
  ASSERT_OK(cb_matmul(a, b, -1, &c, &dev));
  CHECK_OK(test_sync(c));
  check_product(c, 1, a, 0, b, 0, 0, NULL, 1e-4);
  cb_array_unref(c);
  cb_array_unref(a);
  cb_array_unref(b);
}

TEST(matmul_vectors) {
  ASSERT_OK(test_start(1, "none"));
  int64_t k = 3;
  cb_array *v = test_ramp(CB_FLOAT64, 1, &k, 1, 1); /* 1 2 3 */
  cb_array *m = matrix(CB_FLOAT64, 3, 2, 1, 1);     /* 1 2; 3 4; 5 6 */
  cb_array *mt = matrix(CB_FLOAT64, 2, 3, 1, 1);    /* 1 2 3; 4 5 6 */
  ASSERT(v && m && mt);
  cb_array *r;
  int dev;
  /* (3,) @ (3, 2) is (2,). */
  ASSERT_OK(cb_matmul(v, m, -1, &r, &dev));
  CHECK_INT(cb_array_ndim(r), ==, 1);
  CHECK_INT(cb_array_shape(r)[0], ==, 2);
  CHECK_OK(test_sync(r));
  CHECK_DBL(test_get(r, 0), ==, 22);
  CHECK_DBL(test_get(r, 1), ==, 28);
  cb_array_unref(r);
  /* (2, 3) @ (3,) is (2,). */
  ASSERT_OK(cb_matmul(mt, v, -1, &r, &dev));
  CHECK_INT(cb_array_ndim(r), ==, 1);
  CHECK_OK(test_sync(r));
  CHECK_DBL(test_get(r, 0), ==, 14);
  CHECK_DBL(test_get(r, 1), ==, 32);
  cb_array_unref(r);
  /* (3,) @ (3,) is 0-D. */
  ASSERT_OK(cb_matmul(v, v, -1, &r, &dev));
  CHECK_INT(cb_array_ndim(r), ==, 0);
  CHECK_OK(test_sync(r));
  CHECK_DBL(test_get(r, 0), ==, 14);
  cb_array_unref(r);
  cb_array_unref(v);
  cb_array_unref(m);
  cb_array_unref(mt);
}

TEST(matmul_refuses_bad_arguments) {
  ASSERT_OK(test_start(1, "none"));
  cb_array *f32 = matrix(CB_FLOAT32, 2, 2, 0, 1);
  cb_array *f64 = matrix(CB_FLOAT64, 2, 2, 0, 1);
  cb_array *i32 = matrix(CB_INT32, 2, 2, 0, 1);
  cb_array *wide = matrix(CB_FLOAT32, 3, 3, 0, 1);
  cb_array *zero_d = test_ramp(CB_FLOAT32, 0, NULL, 1, 0);
  ASSERT(f32 && f64 && i32 && wide && zero_d);
  cb_array *sentinel = (cb_array *)&sentinel, *r = sentinel;
  int dev;
  CHECK_RC(cb_matmul(i32, i32, -1, &r, &dev), CB_ETYPE);
  CHECK_HAS(cb_last_error(), "complex64 or complex128, got int32");
  CHECK_RC(cb_matmul(f32, f64, -1, &r, &dev), CB_ETYPE);
  CHECK_HAS(cb_last_error(), "astype()");
  CHECK_RC(cb_matmul(f32, zero_d, -1, &r, &dev), CB_ESHAPE);
  CHECK_RC(cb_matmul(f32, wide, -1, &r, &dev), CB_ESHAPE);
  CHECK_HAS(cb_last_error(), "inner dimension: 2 (a) and 3 (b)");
  CHECK_RC(cb_matmul(f32, f32, 5, &r, &dev), CB_ENODEV);
  CHECK(r == sentinel);
  cb_array_unref(f32);
  cb_array_unref(f64);
  cb_array_unref(i32);
  cb_array_unref(wide);
  cb_array_unref(zero_d);
}

TEST(gemm_values) {
  ASSERT_OK(test_start(2, "none"));
  static const int trans[4][2] = {{0, 0}, {1, 0}, {0, 1}, {1, 1}};
  for (int t = 0; t < 4; t++) {
    int ta = trans[t][0], tb = trans[t][1];
    /* op(A) is 40 x 30, op(B) 30 x 20. */
    cb_array *a = ta ? matrix(CB_FLOAT64, 30, 40, 1, 0.5)
                     : matrix(CB_FLOAT64, 40, 30, 1, 0.5);
    cb_array *b = tb ? matrix(CB_FLOAT64, 20, 30, -3, 0.25)
                     : matrix(CB_FLOAT64, 30, 20, -3, 0.25);
    cb_array *c = matrix(CB_FLOAT64, 40, 20, 5, 1);
    cb_array *c0 = matrix(CB_FLOAT64, 40, 20, 5, 1);
    ASSERT(a && b && c && c0);
    ASSERT_OK(cb_gemm(2.0, a, ta ? CB_TRANS : CB_NOTRANS, b,
                      tb ? CB_TRANS : CB_NOTRANS, -0.5, c, -1));
    CHECK_OK(test_sync(c));
    check_product(c, 2.0, a, ta, b, tb, -0.5, c0, 1e-12);
    cb_array_unref(a);
    cb_array_unref(b);
    cb_array_unref(c);
    cb_array_unref(c0);
  }
}

TEST(gemm_refuses_bad_arguments) {
  ASSERT_OK(test_start(1, "none"));
  cb_array *a = matrix(CB_FLOAT32, 4, 3, 0, 1);
  cb_array *b = matrix(CB_FLOAT32, 3, 5, 0, 1);
  cb_array *c = matrix(CB_FLOAT32, 4, 5, 0, 1);
  cb_array *c64 = matrix(CB_FLOAT64, 4, 5, 0, 1);
  cb_array *sq = matrix(CB_FLOAT32, 3, 3, 0, 1);
  int64_t n = 5;
  cb_array *v = test_ramp(CB_FLOAT32, 1, &n, 0, 1);
  ASSERT(a && b && c && c64 && sq && v);
  CHECK_RC(cb_gemm(1, sq, CB_NOTRANS, sq, CB_NOTRANS, 0, sq, -1), CB_EINVAL);
  CHECK_HAS(cb_last_error(), "must not be an operand");
  CHECK_RC(cb_gemm(1, a, CB_NOTRANS, b, CB_NOTRANS, 0, c64, -1), CB_ETYPE);
  CHECK_RC(cb_gemm(1, a, CB_NOTRANS, v, CB_NOTRANS, 0, c, -1), CB_ESHAPE);
  CHECK_RC(cb_gemm(1, a, CB_TRANS, b, CB_NOTRANS, 0, c, -1), CB_ESHAPE);
  CHECK_HAS(cb_last_error(), "op(A) is (3, 4)");
  CHECK_RC(cb_gemm(1, a, CB_NOTRANS, b, CB_NOTRANS, 0, c, 9), CB_ENODEV);
  /* Nothing ran: c keeps its values and has no writer. */
  CHECK(cb_array_writer(c) == NULL);
  CHECK_OK(test_sync(c));
  CHECK_DBL(test_get(c, 19), ==, 19);
  cb_array_unref(a);
  cb_array_unref(b);
  cb_array_unref(c);
  cb_array_unref(c64);
  cb_array_unref(sq);
  cb_array_unref(v);
}

TEST(gemv_values) {
  ASSERT_OK(test_start(1, "none"));
  cb_array *a = matrix(CB_FLOAT32, 3, 2, 1, 1); /* 1 2; 3 4; 5 6 */
  int64_t two = 2, three = 3;
  cb_array *x = test_ramp(CB_FLOAT32, 1, &two, 1, 1);    /* 1 2 */
  cb_array *y = test_ramp(CB_FLOAT32, 1, &three, 1, 0);  /* 1 1 1 */
  cb_array *xt = test_ramp(CB_FLOAT32, 1, &three, 1, 0); /* 1 1 1 */
  cb_array *yt = test_ramp(CB_FLOAT32, 1, &two, 10, 10); /* 10 20 */
  ASSERT(a && x && y && xt && yt);
  /* y = 2 A x + 3 y. */
  ASSERT_OK(cb_gemv(2, a, CB_NOTRANS, x, 3, y, -1));
  CHECK_OK(test_sync(y));
  CHECK_DBL(test_get(y, 0), ==, 2 * 5 + 3);
  CHECK_DBL(test_get(y, 1), ==, 2 * 11 + 3);
  CHECK_DBL(test_get(y, 2), ==, 2 * 17 + 3);
  /* yt = A^T xt - yt. */
  ASSERT_OK(cb_gemv(1, a, CB_TRANS, xt, -1, yt, 0));
  CHECK_OK(test_sync(yt));
  CHECK_DBL(test_get(yt, 0), ==, 9 - 10);
  CHECK_DBL(test_get(yt, 1), ==, 12 - 20);
  cb_array_unref(a);
  cb_array_unref(x);
  cb_array_unref(y);
  cb_array_unref(xt);
  cb_array_unref(yt);
}

TEST(gemv_refuses_bad_arguments) {
  ASSERT_OK(test_start(1, "none"));
  cb_array *a = matrix(CB_FLOAT64, 3, 2, 1, 1);
  int64_t two = 2, three = 3;
  cb_array *x = test_ramp(CB_FLOAT64, 1, &two, 1, 1);
  cb_array *y = test_ramp(CB_FLOAT64, 1, &three, 1, 0);
  cb_array *y32 = test_ramp(CB_FLOAT32, 1, &three, 1, 0);
  ASSERT(a && x && y && y32);
  CHECK_RC(cb_gemv(1, a, CB_NOTRANS, x, 0, x, -1), CB_EINVAL);
  CHECK_RC(cb_gemv(1, a, CB_NOTRANS, x, 0, y32, -1), CB_ETYPE);
  CHECK_RC(cb_gemv(1, a, CB_TRANS, x, 0, y, -1), CB_ESHAPE);
  CHECK_RC(cb_gemv(1, x, CB_NOTRANS, x, 0, y, -1), CB_ESHAPE);
  CHECK_HAS(cb_last_error(), "A must be 2-D");
  CHECK_RC(cb_gemv(1, a, CB_NOTRANS, x, 0, y, 7), CB_ENODEV);
  CHECK(cb_array_writer(y) == NULL);
  cb_array_unref(a);
  cb_array_unref(x);
  cb_array_unref(y);
  cb_array_unref(y32);
}

TEST(transpose_values) {
  ASSERT_OK(test_start(2, "none"));
  static const cb_dtype types[] = {CB_INT32, CB_FLOAT64, CB_BOOL};
  for (int t = 0; t < 3; t++) {
    cb_array *a = matrix(types[t], 700, 300, 0, 1);
    ASSERT(a);
    cb_array *r;
    int dev;
    ASSERT_OK(cb_transpose(a, -1, &r, &dev));
    CHECK_INT(cb_array_dtype(r), ==, types[t]);
    CHECK_INT(cb_array_shape(r)[0], ==, 300);
    CHECK_INT(cb_array_shape(r)[1], ==, 700);
    CHECK_OK(test_sync(r));
    int bad = 0;
    for (int64_t i = 0; i < 300; i += 7)
      for (int64_t j = 0; j < 700; j += 11)
        bad += test_get(r, i * 700 + j) != test_get(a, j * 300 + i);
    CHECK(bad == 0, "%s: %d wrong elements", cb_dtype_name(types[t]), bad);
    cb_array_unref(r);
    cb_array_unref(a);
  }
  int64_t n = 4;
  cb_array *v = test_ramp(CB_FLOAT32, 1, &n, 0, 1);
  ASSERT(v);
  cb_array *r;
  int dev;
  CHECK_RC(cb_transpose(v, -1, &r, &dev), CB_ESHAPE);
  CHECK_RC(cb_transpose(v, 3, &r, &dev), CB_ESHAPE);
  cb_array *m = matrix(CB_FLOAT32, 2, 2, 0, 1);
  ASSERT(m);
  CHECK_RC(cb_transpose(m, 3, &r, &dev), CB_ENODEV);
  cb_array_unref(m);
  cb_array_unref(v);
}

TEST(linalg_on_opencl_device) {
  int gpu = test_need_opencl();
  ASSERT(gpu >= 0);
  cb_array *a = matrix(CB_FLOAT32, 64, 48, 0.5, 0.01);
  cb_array *b = matrix(CB_FLOAT32, 48, 32, -1, 0.02);
  ASSERT(a && b);
  cb_array *c, *t;
  int dev = -5;
  ASSERT_OK(cb_matmul(a, b, gpu, &c, &dev));
  CHECK_INT(dev, ==, gpu);
  CHECK_OK(test_sync(c));
  check_product(c, 1, a, 0, b, 0, 0, NULL, 1e-4);
  ASSERT_OK(cb_transpose(a, gpu, &t, &dev));
  CHECK_INT(dev, ==, gpu);
  CHECK_OK(test_sync(t));
  CHECK_DBL(test_get(t, 1), ==, test_get(a, 48));
  /* gemm and gemv there too: c = a @ b + c is twice the product. */
  ASSERT_OK(cb_gemm(1, a, CB_NOTRANS, b, CB_NOTRANS, 1, c, gpu));
  CHECK_OK(test_sync(c));
  check_product(c, 2, a, 0, b, 0, 0, NULL, 1e-4);
  int64_t k = 48, m = 64;
  cb_array *x = test_ramp(CB_FLOAT32, 1, &k, 1, 0);
  cb_array *y = test_ramp(CB_FLOAT32, 1, &m, 0, 0);
  ASSERT(x && y);
  ASSERT_OK(cb_gemv(1, a, CB_NOTRANS, x, 0, y, gpu));
  CHECK_OK(test_sync(y));
  double row0 = 0;
  for (int p = 0; p < 48; p++)
    row0 += test_get(a, p);
  CHECK(fabs(test_get(y, 0) - row0) < 1e-4 * fabs(row0), "%g vs %g",
        test_get(y, 0), row0);
  cb_array_unref(x);
  cb_array_unref(y);
  cb_array_unref(t);
  cb_array_unref(c);
  cb_array_unref(a);
  cb_array_unref(b);
}

/* Tuned CLBlast parameters in the cache reach CLBlast when the runtime
 * starts (blas_tuned counts them), a line CLBlast refuses is skipped,
 * and products stay right. */
TEST(blas_tuning_from_the_cache) {
  char dir[] = "/tmp/cb-tuning-XXXXXX";
  ASSERT(mkdtemp(dir) != NULL);
  setenv("XDG_CACHE_HOME", dir, 1);
  int dev = test_need_opencl();
  ASSERT(dev >= 0);
  cb_device_info info;
  ASSERT_OK(cb_device_get(dev, &info));
  CHECK_INT(info.blas_tuned, ==, 0);
  ASSERT_OK(cb_shutdown());
  char path[512];
  snprintf(path, sizeof path, "%s/cambrian/clblast", dir);
  ASSERT(mkdir(path, 0700) == 0);
  size_t n = strlen(path);
  path[n++] = '/';
  for (const char *c = info.name; *c && n < sizeof path - 8; c++)
    path[n++] = isalnum((unsigned char)*c) || *c == '.' || *c == '-' ? *c
                                                                      : '_';
  snprintf(path + n, sizeof path - n, ".txt");
  FILE *f = fopen(path, "w");
  ASSERT(f != NULL);
  fputs("# GEMM tuned for this device\n"
        "Xgemm 32 GEMMK=0 KREG=1 KWG=32 KWI=2 MDIMA=16 MDIMC=16 MWG=64 "
        "NDIMB=8 NDIMC=8 NWG=64 SA=1 SB=1 STRM=0 STRN=0 VWM=4 VWN=4\n"
        "Xgemm 64 MWG=64\n"
        "Xgemm 32 MWG=x\n",
        f);
  fclose(f);
  dev = test_need_opencl();
  ASSERT(dev >= 0);
  ASSERT_OK(cb_device_get(dev, &info));
  CHECK_INT(info.blas_tuned, ==, 1);
  cb_array *a = matrix(CB_FLOAT32, 96, 80, 0.5, 0.01);
  cb_array *b = matrix(CB_FLOAT32, 80, 72, -1, 0.02);
  ASSERT(a && b);
  cb_array *c;
  int placed = -5;
  ASSERT_OK(cb_matmul(a, b, dev, &c, &placed));
  CHECK_INT(placed, ==, dev);
  CHECK_OK(test_sync(c));
  check_product(c, 1, a, 0, b, 0, 0, NULL, 1e-4);
  cb_array_unref(c);
  cb_array_unref(a);
  cb_array_unref(b);
  CHECK_OK(cb_shutdown());
  CHECK_INT(test_remove_tree(dir), ==, 0);
}
