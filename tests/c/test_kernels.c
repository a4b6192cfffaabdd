/* Custom OpenCL kernels: creation, builds and their logs, parameters,
 * launches and the checks made at the call, local memory, device-side
 * assertions and tokens. */
#include <string.h>

#include "test.h"

static const char scale_src[] =
    "__kernel void scale(__global const float *x, __global float *y,\n"
    "                    float a) {\n"
    "  size_t i = get_global_id(0);\n"
    "  y[i] = a * x[i];\n"
    "}\n";

static cb_arg in_arg(cb_array *a) {
  return (cb_arg){.array = a, .access = CB_IN};
}

static cb_arg out_arg(cb_array *a) {
  return (cb_arg){.array = a, .access = CB_OUT};
}

static cb_arg float_arg(float v) {
  return (cb_arg){.dtype = CB_FLOAT32, .size = 4, .value.f32 = v};
}

TEST(kernel_new_and_name) {
  cb_kernel *k = NULL;
  ASSERT_OK(cb_kernel_new(scale_src, "scale", NULL, &k));
  CHECK_STR(cb_kernel_name(k), "scale");
  cb_kernel_ref(k);
  cb_kernel_unref(k);
  CHECK_STR(cb_kernel_name(k), "scale");
  cb_kernel_unref(k);
  cb_kernel_unref(NULL);
  ASSERT_OK(cb_kernel_new(scale_src, "scale", "-cl-fast-relaxed-math", &k));
  cb_kernel_unref(k);
  /* Making a kernel builds nothing and starts nothing. */
  CHECK(!cb_is_running());
}

TEST(kernel_new_refuses_bad_arguments) {
  cb_kernel *sentinel = (cb_kernel *)&sentinel, *k = sentinel;
  CHECK_RC(cb_kernel_new(NULL, "scale", NULL, &k), CB_EINVAL);
  CHECK_RC(cb_kernel_new(scale_src, NULL, NULL, &k), CB_EINVAL);
  CHECK_RC(cb_kernel_new(scale_src, "", NULL, &k), CB_EINVAL);
  char name[200];
  memset(name, 'n', sizeof name - 1);
  name[sizeof name - 1] = '\0';
  CHECK_RC(cb_kernel_new(scale_src, name, NULL, &k), CB_EINVAL);
  CHECK_HAS(cb_last_error(), "kernel name too long");
  CHECK(k == sentinel);
}

TEST(kernel_build_and_params) {
  int dev = test_need_opencl();
  ASSERT(dev >= 0);
  cb_kernel *k;
  ASSERT_OK(cb_kernel_new(scale_src, "scale", NULL, &k));
  char log[256] = "unchanged";
  CHECK_OK(cb_kernel_build(k, dev, log, sizeof log));
  /* Again: cached. */
  CHECK_OK(cb_kernel_build(k, dev, NULL, 0));
  cb_kernel_param p[4];
  memset(p, 0, sizeof p);
  ASSERT_INT(cb_kernel_params(k, dev, p, 4), ==, 3);
  CHECK_INT(p[0].is_buffer, ==, 1);
  CHECK_INT(p[0].is_local, ==, 0);
  CHECK_STR(p[0].type, "float*");
  CHECK_STR(p[0].name, "x");
  CHECK_STR(p[1].name, "y");
  CHECK_INT(p[2].is_buffer, ==, 0);
  CHECK_STR(p[2].type, "float");
  CHECK_STR(p[2].name, "a");
  /* Less room than parameters: the count, and only what fits. */
  cb_kernel_param one[2];
  memset(one, 0, sizeof one);
  CHECK_INT(cb_kernel_params(k, dev, one, 1), ==, 3);
  CHECK_STR(one[0].name, "x");
  CHECK_STR(one[1].name, "");
  cb_kernel_unref(k);
}

TEST(kernel_build_reports_errors) {
  int dev = test_need_opencl();
  ASSERT(dev >= 0);
  cb_kernel *k;
  ASSERT_OK(cb_kernel_new("__kernel void broken(__global float *x) {\n"
                          "  x[0] = undefined_name;\n"
                          "}\n",
                          "broken", NULL, &k));
  char log[4096] = "";
  CHECK_RC(cb_kernel_build(k, dev, log, sizeof log), CB_EBUILD);
  CHECK_HAS(cb_last_error(), "kernel broken failed to build");
  CHECK_HAS(log, "undefined_name");
  cb_kernel_param p[2];
  CHECK_RC(cb_kernel_params(k, dev, p, 2), CB_EBUILD);
  size_t global[1] = {1};
  cb_event *e;
  CHECK_RC(cb_kernel_launch(k, dev, 1, global, NULL, NULL, 0, &e, NULL),
           CB_EBUILD);
  cb_kernel_unref(k);
  /* Bad options fail the build too. */
  ASSERT_OK(cb_kernel_new(scale_src, "scale", "-no-such-option", &k));
  CHECK_RC(cb_kernel_build(k, dev, NULL, 0), CB_EBUILD);
  cb_kernel_unref(k);
}

TEST(kernel_build_needs_opencl_device) {
  int dev = test_need_opencl();
  ASSERT(dev >= 0);
  cb_kernel *k;
  ASSERT_OK(cb_kernel_new(scale_src, "scale", NULL, &k));
  CHECK_RC(cb_kernel_build(k, 0, NULL, 0), CB_ENODEV);
  CHECK_HAS(cb_last_error(), "is not an OpenCL device");
  CHECK_RC(cb_kernel_build(k, 99, NULL, 0), CB_ENODEV);
  CHECK_RC(cb_kernel_build(k, -1, NULL, 0), CB_ENODEV);
  cb_kernel_param p[4];
  CHECK_RC(cb_kernel_params(k, 0, p, 4), CB_ENODEV);
  cb_kernel_unref(k);
}

TEST(kernel_launch_computes) {
  int dev = test_need_opencl();
  ASSERT(dev >= 0);
  int64_t n = 100000;
  cb_array *x = test_ramp(CB_FLOAT32, 1, &n, 0, 1), *y;
  ASSERT(x);
  ASSERT_OK(cb_array_new(CB_FLOAT32, 1, &n, &y));
  cb_kernel *k;
  ASSERT_OK(cb_kernel_new(scale_src, "scale", NULL, &k));
  cb_arg args[3] = {in_arg(x), out_arg(y), float_arg(-2)};
  size_t global[1] = {(size_t)n};
  cb_event *e = NULL;
  cb_array *token = NULL;
  ASSERT_OK(cb_kernel_launch(k, dev, 1, global, NULL, args, 3, &e, &token));
  /* The kernel object may go: the launch holds it. */
  cb_kernel_unref(k);
  CHECK_OK(cb_event_wait(e, -1));
  cb_event *w = cb_array_writer(y);
  CHECK(w == e, "the launch writes y");
  cb_event_unref(w);
  w = cb_array_writer(token);
  CHECK(w == e, "the launch writes its token");
  cb_event_unref(w);
  CHECK_OK(test_sync(y));
  CHECK_DBL(test_get(y, 0), ==, 0);
  CHECK_DBL(test_get(y, n - 1), ==, -2.0 * (double)(n - 1));
  cb_event_unref(e);
  cb_array_unref(token);
  cb_array_unref(x);
  cb_array_unref(y);
}

TEST(kernel_launch_two_dimensions_with_options) {
  int dev = test_need_opencl();
  ASSERT(dev >= 0);
  cb_kernel *k;
  ASSERT_OK(cb_kernel_new(
      "__kernel void index(__global int *out, int cols) {\n"
      "  int r = get_global_id(0), c = get_global_id(1);\n"
      "  out[r * cols + c] = r * FACTOR + c;\n"
      "}\n",
      "index", "-DFACTOR=1000", &k));
  int64_t shape[2] = {30, 40};
  cb_array *out;
  ASSERT_OK(cb_array_new(CB_INT32, 2, shape, &out));
  cb_arg args[2] = {out_arg(out),
                    {.dtype = CB_INT32, .size = 4, .value.i32 = 40}};
  size_t global[2] = {30, 40}, local[2] = {5, 8};
  cb_event *e;
  ASSERT_OK(cb_kernel_launch(k, dev, 2, global, local, args, 2, &e, NULL));
  CHECK_OK(cb_event_wait(e, -1));
  CHECK_OK(test_sync(out));
  CHECK_DBL(test_get(out, 41), ==, 1001);
  CHECK_DBL(test_get(out, 30 * 40 - 1), ==, 29039);
  cb_event_unref(e);
  cb_array_unref(out);
  cb_kernel_unref(k);
}

TEST(kernel_launch_checks_arguments) {
  int dev = test_need_opencl();
  ASSERT(dev >= 0);
  int64_t n = 16;
  cb_array *x, *y, *ints;
  ASSERT_OK(cb_array_new(CB_FLOAT32, 1, &n, &x));
  ASSERT_OK(cb_array_new(CB_FLOAT32, 1, &n, &y));
  ASSERT_OK(cb_array_new(CB_INT32, 1, &n, &ints));
  cb_kernel *k;
  ASSERT_OK(cb_kernel_new(scale_src, "scale", NULL, &k));
  size_t global[3] = {16, 1, 1}, zero[1] = {0};
  cb_event *sentinel = (cb_event *)&sentinel, *e = sentinel;
  cb_arg good[3] = {in_arg(x), out_arg(y), float_arg(1)};
  CHECK_RC(cb_kernel_launch(k, dev, 0, global, NULL, good, 3, &e, NULL),
           CB_EINVAL);
  CHECK_RC(cb_kernel_launch(k, dev, 4, global, NULL, good, 3, &e, NULL),
           CB_EINVAL);
  CHECK_RC(cb_kernel_launch(k, dev, 1, zero, NULL, good, 3, &e, NULL),
           CB_EINVAL);
  CHECK_RC(cb_kernel_launch(k, dev, 1, global, NULL, good, -1, &e, NULL),
           CB_EINVAL);
  CHECK_RC(cb_kernel_launch(k, dev, 1, global, NULL, good, 2, &e, NULL),
           CB_EINVAL);
  CHECK_STR(cb_last_error(), "kernel scale takes 3 arguments, got 2");
  CHECK_RC(cb_kernel_launch(k, 0, 1, global, NULL, good, 3, &e, NULL),
           CB_ENODEV);
  cb_arg scalar_for_buffer[3] = {float_arg(1), out_arg(y), float_arg(1)};
  CHECK_RC(cb_kernel_launch(k, dev, 1, global, NULL, scalar_for_buffer, 3,
                            &e, NULL),
           CB_ETYPE);
  CHECK_HAS(cb_last_error(), "is a buffer (pass an Array)");
  cb_arg buffer_for_scalar[3] = {in_arg(x), out_arg(y), in_arg(x)};
  CHECK_RC(cb_kernel_launch(k, dev, 1, global, NULL, buffer_for_scalar, 3,
                            &e, NULL),
           CB_ETYPE);
  cb_arg wrong_dtype[3] = {in_arg(ints), out_arg(y), float_arg(1)};
  CHECK_RC(cb_kernel_launch(k, dev, 1, global, NULL, wrong_dtype, 3, &e,
                            NULL),
           CB_ETYPE);
  CHECK_HAS(cb_last_error(), "got an Array of int32");
  cb_arg wrong_size[3] = {in_arg(x), out_arg(y),
                          {.dtype = CB_FLOAT64, .size = 8, .value.f64 = 1}};
  CHECK_RC(cb_kernel_launch(k, dev, 1, global, NULL, wrong_size, 3, &e,
                            NULL),
           CB_ETYPE);
  cb_arg no_access[3] = {{.array = x}, out_arg(y), float_arg(1)};
  CHECK_RC(cb_kernel_launch(k, dev, 1, global, NULL, no_access, 3, &e,
                            NULL),
           CB_EINVAL);
  cb_arg local_for_buffer[3] = {{.local = 1, .size = 64}, out_arg(y),
                                float_arg(1)};
  CHECK_RC(cb_kernel_launch(k, dev, 1, global, NULL, local_for_buffer, 3,
                            &e, NULL),
           CB_ETYPE);
  /* Nothing was submitted. */
  CHECK(e == sentinel);
  CHECK(cb_array_writer(y) == NULL);
  cb_kernel_unref(k);
  cb_array_unref(x);
  cb_array_unref(y);
  cb_array_unref(ints);
}

TEST(kernel_local_memory) {
  int dev = test_need_opencl();
  ASSERT(dev >= 0);
  cb_kernel *k;
  ASSERT_OK(cb_kernel_new(
      "__kernel void reverse(__global const float *x, __global float *y,\n"
      "                      __local float *scratch) {\n"
      "  size_t l = get_local_id(0), n = get_local_size(0);\n"
      "  size_t base = get_group_id(0) * n;\n"
      "  scratch[l] = x[base + l];\n"
      "  barrier(CLK_LOCAL_MEM_FENCE);\n"
      "  y[base + l] = scratch[n - 1 - l];\n"
      "}\n",
      "reverse", NULL, &k));
  cb_kernel_param p[3];
  ASSERT_INT(cb_kernel_params(k, dev, p, 3), ==, 3);
  CHECK_INT(p[2].is_local, ==, 1);
  CHECK_INT(p[2].is_buffer, ==, 0);
  int64_t n = 64;
  cb_array *x = test_ramp(CB_FLOAT32, 1, &n, 0, 1), *y;
  ASSERT(x);
  ASSERT_OK(cb_array_new(CB_FLOAT32, 1, &n, &y));
  size_t global[1] = {64}, local[1] = {8};
  cb_event *e;
  cb_arg empty[3] = {in_arg(x), out_arg(y), {.local = 1, .size = 0}};
  CHECK_RC(cb_kernel_launch(k, dev, 1, global, local, empty, 3, &e, NULL),
           CB_EINVAL);
  cb_arg not_local[3] = {in_arg(x), out_arg(y), in_arg(x)};
  CHECK_RC(cb_kernel_launch(k, dev, 1, global, local, not_local, 3, &e,
                            NULL),
           CB_ETYPE);
  cb_arg args[3] = {in_arg(x), out_arg(y),
                    {.local = 1, .size = 8 * sizeof(float)}};
  ASSERT_OK(cb_kernel_launch(k, dev, 1, global, local, args, 3, &e, NULL));
  CHECK_OK(cb_event_wait(e, -1));
  CHECK_OK(test_sync(y));
  CHECK_DBL(test_get(y, 0), ==, 7);
  CHECK_DBL(test_get(y, 7), ==, 0);
  CHECK_DBL(test_get(y, 63), ==, 56);
  cb_event_unref(e);
  cb_array_unref(x);
  cb_array_unref(y);
  cb_kernel_unref(k);
}

TEST(kernel_assertion_fails_task) {
  int dev = test_need_opencl();
  ASSERT(dev >= 0);
  cb_kernel *k;
  ASSERT_OK(cb_kernel_new("__kernel void check(__global const int *x,\n"
                          "                    __global int *y) {\n"
                          "  size_t i = get_global_id(0);\n"
                          "  CB_ASSERT(x[i] < 60);\n"
                          "  y[i] = x[i];\n"
                          "}\n",
                          "check", NULL, &k));
  /* The hidden assertion buffer is not a parameter. */
  cb_kernel_param p[4];
  CHECK_INT(cb_kernel_params(k, dev, p, 4), ==, 2);
  int64_t n = 64;
  cb_array *x = test_ramp(CB_INT32, 1, &n, 0, 1), *y;
  ASSERT(x);
  ASSERT_OK(cb_array_new(CB_INT32, 1, &n, &y));
  cb_arg args[2] = {in_arg(x), out_arg(y)};
  size_t global[1] = {64};
  cb_event *e;
  ASSERT_OK(cb_kernel_launch(k, dev, 1, global, NULL, args, 2, &e, NULL));
  CHECK_RC(cb_event_wait(e, -1), CB_EASSERT);
  cb_failure f;
  ASSERT_INT(cb_array_failure(y, &f), ==, CB_EASSERT);
  CHECK_INT(f.info.line, ==, 4);
  CHECK_INT(f.info.item[0], >=, 60);
  CHECK_INT(f.info.item[0], <, 64);
  CHECK_INT(f.info.device, ==, dev);
  CHECK_HAS(f.info.message, "kernel check");
  CHECK_HAS(f.info.message, "line 4");
  cb_event_unref(e);
  /* Inputs that hold: no failure. */
  cb_array *small = test_ramp(CB_INT32, 1, &n, -100, 1);
  ASSERT(small);
  args[0] = in_arg(small);
  ASSERT_OK(cb_kernel_launch(k, dev, 1, global, NULL, args, 2, &e, NULL));
  CHECK_OK(cb_event_wait(e, -1));
  CHECK_INT(cb_array_failure(y, &f), ==, 0);
  cb_event_unref(e);
  cb_array_unref(small);
  cb_array_unref(x);
  cb_array_unref(y);
  cb_kernel_unref(k);
}

/* A character literal holding a double quote starts no string: the
 * kernel after it still gets its assertion buffer. */
TEST(kernel_assertion_after_quote_literal) {
  int dev = test_need_opencl();
  ASSERT(dev >= 0);
  cb_kernel *k;
  ASSERT_OK(cb_kernel_new("__constant char quote = '\"';\n"
                          "__kernel void check(__global int *y) {\n"
                          "  CB_ASSERT(y[0] != '\"');\n"
                          "  y[0] = quote;\n"
                          "}\n",
                          "check", NULL, &k));
  char log[4096] = "";
  int rc = cb_kernel_build(k, dev, log, sizeof log);
  ASSERT(rc == 0, "%s\n%s", cb_last_error(), log);
  cb_array *y = test_values(CB_INT32, 1, (const double[]){'"'});
  ASSERT(y);
  cb_arg args[1] = {{.array = y, .access = CB_INOUT}};
  size_t global[1] = {1};
  cb_event *e;
  ASSERT_OK(cb_kernel_launch(k, dev, 1, global, NULL, args, 1, &e, NULL));
  CHECK_RC(cb_event_wait(e, -1), CB_EASSERT);
  cb_failure f;
  CHECK_INT(cb_array_failure(y, &f), ==, CB_EASSERT);
  CHECK_INT(f.info.line, ==, 3);
  cb_event_unref(e);
  cb_array_unref(y);
  cb_kernel_unref(k);
}
