/* Helpers shared by the tests: starting the runtime, making arrays with
 * known contents, reading them back. */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdio.h>
#include <time.h>

#include "test.h"

int test_start(int ncpus, const char *devices) {
  cb_config cfg = {.ncpus = ncpus, .devices = devices};
  return cb_init(&cfg);
}

int test_opencl_device(void) {
  int n = cb_device_count();
  for (int d = 0; d < n; d++) {
    cb_device_info info;
    if (cb_device_get(d, &info) == 0 && info.backend == CB_BACKEND_OPENCL)
      return d;
  }
  return -1;
}

int test_need_opencl(void) {
  int rc = test_start(1, "opencl");
  if (rc == CB_ENODEV)
    test_skip("no OpenCL device");
  if (rc) {
    test_fail(__FILE__, __LINE__, "test_start(1, \"opencl\")", "%s",
              cb_last_error());
    return -1;
  }
  int dev = test_opencl_device();
  if (dev < 0)
    test_skip("no OpenCL device");
  return dev;
}

int test_sync(cb_array *a) {
  cb_event *e;
  int rc = cb_array_sync_host_start(a, &e);
  if (rc)
    return rc;
  rc = cb_event_wait(e, -1);
  cb_event_unref(e);
  return rc;
}

int test_wait_writer(cb_array *a) {
  cb_event *e = cb_array_writer(a);
  if (!e)
    return 0;
  int rc = cb_event_wait(e, -1);
  cb_event_unref(e);
  return rc;
}

double test_get(const cb_array *a, int64_t i) {
  const void *p = cb_array_data(a);
  switch (cb_array_dtype(a)) {
  case CB_BOOL:
    return ((const uint8_t *)p)[i];
  case CB_INT32:
    return ((const int32_t *)p)[i];
  case CB_INT64:
    return (double)((const int64_t *)p)[i];
  case CB_INT8:
    return ((const int8_t *)p)[i];
  case CB_INT16:
    return ((const int16_t *)p)[i];
  case CB_UINT8:
    return ((const uint8_t *)p)[i];
  case CB_UINT16:
    return ((const uint16_t *)p)[i];
  case CB_UINT32:
    return ((const uint32_t *)p)[i];
  case CB_UINT64:
    return (double)((const uint64_t *)p)[i];
  case CB_FLOAT32:
    return ((const float *)p)[i];
  case CB_COMPLEX64: /* the real part */
    return ((const float *)p)[2 * i];
  case CB_COMPLEX128:
    return ((const double *)p)[2 * i];
  case CB_FLOAT16:
    return cb_half_to_float(((const cb_half *)p)[i]);
  default:
    return ((const double *)p)[i];
  }
}

void test_set(cb_array *a, int64_t i, double v) {
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
  case CB_INT8:
    ((int8_t *)p)[i] = (int8_t)v;
    break;
  case CB_INT16:
    ((int16_t *)p)[i] = (int16_t)v;
    break;
  case CB_UINT8:
    ((uint8_t *)p)[i] = (uint8_t)v;
    break;
  case CB_UINT16:
    ((uint16_t *)p)[i] = (uint16_t)v;
    break;
  case CB_UINT32:
    ((uint32_t *)p)[i] = (uint32_t)v;
    break;
  case CB_UINT64:
    ((uint64_t *)p)[i] = (uint64_t)v;
    break;
  case CB_FLOAT32:
    ((float *)p)[i] = (float)v;
    break;
  case CB_COMPLEX64: /* v + 0j */
    ((float *)p)[2 * i] = (float)v;
    ((float *)p)[2 * i + 1] = 0;
    break;
  case CB_COMPLEX128:
    ((double *)p)[2 * i] = v;
    ((double *)p)[2 * i + 1] = 0;
    break;
  case CB_FLOAT16:
    ((cb_half *)p)[i] = cb_half_from_double(v);
    break;
  default:
    ((double *)p)[i] = v;
  }
}

cb_array *test_ramp(cb_dtype t, int ndim, const int64_t *shape, double first,
                    double step) {
  cb_array *a;
  int rc = cb_array_new(t, ndim, shape, &a);
  if (rc) {
    test_fail(__FILE__, __LINE__, "cb_array_new", "%s", cb_last_error());
    return NULL;
  }
  for (int64_t i = 0; i < cb_array_size(a); i++)
    test_set(a, i, first + (double)i * step);
  return a;
}

cb_array *test_values(cb_dtype t, int64_t n, const double *values) {
  cb_array *a = test_ramp(t, 1, &n, 0, 0);
  for (int64_t i = 0; a && i < n; i++)
    test_set(a, i, values[i]);
  return a;
}

cb_operand test_arg(cb_array *a, int device) {
  return (cb_operand){.array = a, .device = device};
}

cb_operand test_weak_float(double v) {
  return (cb_operand){.device = -1, .dtype = CB_FLOAT64, .weak = 1,
                      .value.f = v};
}

cb_operand test_scalar(cb_dtype t, double v) {
  cb_operand x = {.device = -1, .dtype = t};
  if (t == CB_FLOAT16 || t == CB_FLOAT32 || t == CB_FLOAT64)
    x.value.f = v;
  else
    x.value.i = (int64_t)v;
  return x;
}

int test_wait_flag(const volatile int *flag, int timeout_ms) {
  struct timespec pause = {0, 1000000L};
  for (int waited = 0; !__atomic_load_n(flag, __ATOMIC_ACQUIRE) &&
                       waited < timeout_ms;
       waited++)
    nanosleep(&pause, NULL);
  return __atomic_load_n(flag, __ATOMIC_ACQUIRE);
}

void test_check_promotions(const test_promotion *rows, size_t n) {
  for (size_t i = 0; i < n; i++) {
    cb_dtype got = CB_BOOL;
    CHECK_OK(cb_result_dtype(rows[i].op, rows[i].x, rows[i].n, &got));
    CHECK(got == rows[i].want, "row %zu: %s gives %s, want %s", i,
          cb_op_name(rows[i].op), cb_dtype_name(got),
          cb_dtype_name(rows[i].want));
  }
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

int test_remove_tree(const char *dir) {
  return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
