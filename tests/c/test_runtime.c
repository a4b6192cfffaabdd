/* Runtime start, stop and restart; device discovery; arrays that outlive
 * a runtime. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cambrian.h"
#include "check.h"

int main(void) {
  setenv("XDG_CACHE_HOME", "/tmp/cambrian-ctest-cache", 0);
  CHECK(!cb_is_running(), "not running before init");
  cb_config cfg = {.ncpus = 1, .devices = NULL};
  CHECK(cb_init(&cfg) == 0, "init: %s", cb_last_error());
  CHECK(cb_is_running(), "running");
  CHECK(cb_init(NULL) == 0, "second init is a no-op");
  unsigned gen = cb_generation();

  cb_runtime_info info;
  CHECK(cb_runtime_info_get(&info) == 0, "info");
  CHECK(info.ncpus == 1, "one CPU worker, got %d", info.ncpus);
  char want[600];
  snprintf(want, sizeof want, "%s/cambrian", getenv("XDG_CACHE_HOME"));
  CHECK(strcmp(info.cache_dir, want) == 0, "cache dir %s, want %s",
        info.cache_dir, want);

  int n = cb_device_count();
  CHECK(n >= 1, "at least the CPU device");
  cb_device_info d;
  CHECK(cb_device_get(0, &d) == 0 && d.backend == CB_BACKEND_CPU, "cpu");
  CHECK(strcmp(d.filter_string, "cpu:cpu:0") == 0, "%s", d.filter_string);
  CHECK(cb_device_get(n, &d) == CB_ENODEV, "past the end");
  int ids[8];
  CHECK(cb_devices_select("cpu", ids, 8) >= 1 && ids[0] == 0, "select cpu");
  CHECK(cb_devices_select("nonsense", ids, 8) == CB_EINVAL, "bad filter");
  CHECK(cb_devices_select("cuda", ids, 8) == CB_EINVAL, "cuda is unknown");

  /* An array written by a task, read after shutdown and after restart. */
  int64_t shape[1] = {1000};
  cb_array *a;
  cb_scalar v = {.f = 2.5};
  CHECK(cb_full(CB_FLOAT64, 1, shape, v, 0, &a) == 0, "full");
  CHECK(cb_shutdown() == 0, "shutdown");
  CHECK(!cb_is_running(), "stopped");
  CHECK(sync_host(a) == 0, "sync after shutdown");
  CHECK(((double *)cb_array_data(a))[999] == 2.5, "data survives shutdown");
  CHECK(cb_shutdown() == 0, "second shutdown is a no-op");

  CHECK(cb_init(NULL) == 0, "restart: %s", cb_last_error());
  CHECK(cb_generation() == gen + 1, "new generation");
  cb_operand x[2] = {{.array = a, .device = -1},
                     {.dtype = CB_FLOAT64, .weak = 1, .value.f = 1.0}};
  cb_array *b;
  int dev;
  CHECK(cb_ewise(CB_OP_add, x, 2, -1, -1, &b, &dev) == 0, "add: %s",
        cb_last_error());
  CHECK(sync_host(b) == 0, "sync");
  CHECK(((double *)cb_array_data(b))[0] == 3.5, "add after restart");
  cb_array_unref(a);
  cb_array_unref(b);
  CHECK(cb_shutdown() == 0, "final shutdown");

  cb_config bad = {.ncpus = -1, .devices = "opencl:gpu:zz"};
  CHECK(cb_init(&bad) == CB_EINVAL, "bad device filter refused");
  CHECK(!cb_is_running(), "not started by a bad config");
  return CHECK_DONE();
}
