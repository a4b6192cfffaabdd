/* Each element-wise codelet against a reference computed here, for
 * every dtype it accepts, on the CPU workers and on each OpenCL device,
 * over one tile and over several. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

static double input(cb_dtype t, int which, int64_t i, cb_op op) {
  if (t == CB_BOOL)
    return (double)(((i >> which) ^ i) & 1);
  if (t == CB_INT32 || t == CB_INT64) {
    if (op == CB_OP_power && which == 1)
      return (double)(i % 5);
    return (double)((i * (which + 7)) % 41 - 20);
  }
  return 0.5 + (double)((i * (which + 3)) % 97) / 37.0;
}

static double reference(cb_op op, cb_dtype t, double a, double b, double c) {
  int isint = t == CB_INT32 || t == CB_INT64;
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
  default:
    return NAN;
  }
}

static int arity(cb_op op) {
  switch (cb_op_get_kind(op)) {
  case CB_KIND_UNARY:
  case CB_KIND_MATH:
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
    double tol = t == CB_FLOAT32 ? 2e-6 : 1e-13;
    int bad = 0;
    for (int64_t i = 0; i < n && bad < 3; i++) {
      double a = test_get(in[0], i), b = na > 1 ? test_get(in[1], i) : 0,
             c = na > 2 ? test_get(in[2], i) : 0;
      double want = reference(op, t, a, b, c), got = test_get(out, i);
      if (cb_array_dtype(out) == CB_FLOAT32)
        want = (float)want;
      if (fabs(got - want) > tol * fmax(1.0, fabs(want))) {
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
    int dtypes = 0;
    for (int t = 0; t < CB_NDTYPES; t++) {
      cb_operand probe = {.dtype = (cb_dtype)t, .weak = 0};
      cb_operand ps[3] = {probe, probe, probe};
      if (op == CB_OP_where)
        ps[0].dtype = CB_BOOL;
      cb_dtype r;
      if (cb_result_dtype((cb_op)op, ps, arity((cb_op)op), &r))
        continue; /* not defined for this dtype */
      if (t == CB_FLOAT64 && !info.fp64)
        continue;
      if ((k == CB_KIND_MATH || k == CB_KIND_DIVIDE) &&
          (t != CB_FLOAT32 && t != CB_FLOAT64))
        continue; /* goes through a cast first */
      for (int s = 0; s < 2; s++)
        check_op((cb_op)op, (cb_dtype)t, d, sizes[s]);
      dtypes++;
    }
    CHECK(dtypes > 0, "%s was checked for no dtype on %s", cb_op_name(op),
          info.filter_string);
  }
}

TEST(codelets_cpu) {
  ASSERT_OK(test_start(2, "none"));
  check_device(0);
}

TEST(codelets_opencl) {
  int first = test_need_opencl();
  ASSERT(first >= 0);
  for (int d = first; d < cb_device_count(); d++)
    check_device(d);
}
