/* Each element-wise codelet on every device present (CPU workers and
 * OpenCL devices) against a reference computed here, over one tile and
 * over several. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cambrian.h"
#include "check.h"

static double get(const cb_array *a, int64_t i) {
  const void *p = cb_array_data(a);
  switch (cb_array_dtype(a)) {
  case CB_BOOL:
    return ((const uint8_t *)p)[i];
  case CB_INT32:
    return ((const int32_t *)p)[i];
  case CB_INT64:
    return (double)((const int64_t *)p)[i];
  case CB_FLOAT32:
    return ((const float *)p)[i];
  default:
    return ((const double *)p)[i];
  }
}

static void set(cb_array *a, int64_t i, double v) {
  void *p = cb_array_data(a);
  switch (cb_array_dtype(a)) {
  case CB_BOOL:
    ((uint8_t *)p)[i] = v != 0;
    break;
  case CB_INT32:
    ((int32_t *)p)[i] = (int32_t)v;
    break;
  case CB_INT64:
    ((int64_t *)p)[i] = (int64_t)v;
    break;
  case CB_FLOAT32:
    ((float *)p)[i] = (float)v;
    break;
  default:
    ((double *)p)[i] = v;
  }
}

/* Input values: small integers for integer dtypes (power exponents stay
 * in 0..4), positive reals for floats (log and sqrt stay defined). */
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
    CHECK(cb_array_new(kt, 1, &n, &in[k]) == 0, "new");
    for (int64_t i = 0; i < n; i++)
      set(in[k], i, input(kt, k, i, op));
    x[k] = (cb_operand){.array = in[k], .device = device};
  }
  cb_array *out = NULL;
  int dev = -2;
  int rc = cb_ewise(op, x, na, -1, -1, &out, &dev);
  CHECK(rc == 0, "%s %s on device %d: %s", cb_op_name(op), cb_dtype_name(t),
        device, cb_last_error());
  if (rc == 0) {
    CHECK(dev == device, "placed on %d, asked %d", dev, device);
    CHECK(sync_host(out) == 0, "sync");
    cb_failure f;
    CHECK(cb_array_failure(out, &f) == 0, "%s failed: %s", cb_op_name(op),
          f.info.message);
    double tol = t == CB_FLOAT32 ? 2e-6 : 1e-13;
    int bad = 0;
    for (int64_t i = 0; i < n && bad < 3; i++) {
      double a = get(in[0], i), b = na > 1 ? get(in[1], i) : 0,
             c = na > 2 ? get(in[2], i) : 0;
      double want = reference(op, t, a, b, c), got = get(out, i);
      if (cb_array_dtype(out) == CB_FLOAT32)
        want = (float)want;
      if (fabs(got - want) > tol * fmax(1.0, fabs(want))) {
        bad++;
        CHECK(0, "%s %s dev %d n %lld [%lld]: got %.17g want %.17g",
              cb_op_name(op), cb_dtype_name(t), device, (long long)n,
              (long long)i, got, want);
      }
    }
    cb_array_unref(out);
  }
  for (int k = 0; k < na; k++)
    cb_array_unref(in[k]);
}

static void check_generators(int device) {
  int64_t n = 200001;
  cb_array *a;
  cb_scalar start = {.i = -7}, step = {.i = 3};
  CHECK(cb_arange(CB_INT64, n, start, step, device, &a) == 0, "arange");
  CHECK(sync_host(a) == 0, "sync");
  CHECK(get(a, n - 1) == -7 + 3.0 * (double)(n - 1), "arange last");
  cb_array_unref(a);
  int64_t shape[2] = {300, 700};
  cb_scalar one = {.f = 1.25};
  CHECK(cb_full(CB_FLOAT32, 2, shape, one, device, &a) == 0, "full");
  CHECK(sync_host(a) == 0, "sync");
  CHECK(get(a, 0) == 1.25 && get(a, 300 * 700 - 1) == 1.25, "full values");
  /* Cast float32 -> int32 and -> bool through cb_ewise. */
  cb_operand x = {.array = a, .device = device};
  cb_array *b;
  int dev;
  CHECK(cb_ewise(CB_OP_cast, &x, 1, -1, CB_INT32, &b, &dev) == 0, "cast");
  CHECK(sync_host(b) == 0 && get(b, 12345) == 1, "cast value");
  cb_array_unref(b);
  CHECK(cb_ewise(CB_OP_cast, &x, 1, -1, CB_BOOL, &b, &dev) == 0, "cast");
  CHECK(sync_host(b) == 0 && get(b, 0) == 1, "cast to bool");
  cb_array_unref(b);
  cb_array_unref(a);
}

int main(void) {
  setenv("XDG_CACHE_HOME", "/tmp/cambrian-ctest-cache", 0);
  CHECK(cb_init(NULL) == 0, "init: %s", cb_last_error());
  int ndev = cb_device_count();
  int64_t sizes[] = {1000, 300007};
  for (int d = 0; d < ndev; d++) {
    cb_device_info info;
    cb_device_get(d, &info);
    printf("device %d: %s (%s)\n", d, info.filter_string, info.name);
    for (int op = 0; op < CB_NOPS; op++) {
      cb_op_kind k = cb_op_get_kind((cb_op)op);
      if (k == CB_KIND_CAST || k == CB_KIND_FILL || k == CB_KIND_ARANGE)
        continue;
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
          continue; /* goes through a cast first: covered in Python */
        for (int s = 0; s < 2; s++)
          check_op((cb_op)op, (cb_dtype)t, d, sizes[s]);
      }
    }
    check_generators(d);
  }
  CHECK(cb_shutdown() == 0, "shutdown");
  return CHECK_DONE();
}
