/* The device table, the workers, and the OpenCL platforms installed. */
#include <stdlib.h>
#include <string.h>

#include "test.h"

TEST(device_table_cpu) {
  ASSERT_OK(test_start(2, "none"));
  ASSERT_INT(cb_device_count(), ==, 1);
  cb_device_info d;
  ASSERT_OK(cb_device_get(0, &d));
  CHECK_INT(d.id, ==, 0);
  CHECK_INT(d.backend, ==, CB_BACKEND_CPU);
  CHECK_INT(d.type, ==, CB_DEVTYPE_CPU);
  CHECK_INT(d.index, ==, 0);
  CHECK(d.name[0] != '\0');
  CHECK(d.vendor[0] != '\0');
  CHECK_STR(d.version, "StarPU CPU workers");
  CHECK(d.global_mem_bytes > 0);
  CHECK(d.max_alloc_bytes == d.global_mem_bytes);
  CHECK_INT(d.compute_units, >=, 1);
  CHECK_INT(d.nworkers, ==, 2);
  CHECK_INT(d.fp64, ==, 1);
  CHECK_STR(d.filter_string, "cpu:cpu:0");
}

TEST(device_get_out_of_range) {
  ASSERT_OK(test_start(1, "none"));
  cb_device_info d;
  CHECK_RC(cb_device_get(1, &d), CB_ENODEV);
  CHECK_STR(cb_last_error(), "no device 1");
  CHECK_RC(cb_device_get(-1, &d), CB_ENODEV);
}

TEST(device_table_opencl) {
  int dev = test_need_opencl();
  ASSERT(dev >= 0);
  int n = cb_device_count();
  cb_runtime_info info;
  ASSERT_OK(cb_runtime_info_get(&info));
  CHECK_INT(n, ==, 1 + info.nopencl);
  int count[CB_NDEVTYPES] = {0};
  for (int i = 1; i < n; i++) {
    cb_device_info d;
    ASSERT_OK(cb_device_get(i, &d));
    CHECK_INT(d.id, ==, i);
    CHECK_INT(d.backend, ==, CB_BACKEND_OPENCL);
    CHECK_INT(d.index, ==, count[d.type]++);
    char want[32];
    snprintf(want, sizeof want, "opencl:%s:%d", cb_devtype_name(d.type),
             d.index);
    CHECK_STR(d.filter_string, want);
    CHECK(d.name[0] != '\0');
    CHECK(strncmp(d.version, "OpenCL", 6) == 0, "version %s", d.version);
    CHECK(d.global_mem_bytes > 0);
    CHECK(d.max_alloc_bytes > 0 && d.max_alloc_bytes <= d.global_mem_bytes);
    CHECK_INT(d.compute_units, >=, 1);
    CHECK_INT(d.nworkers, >=, 1);
    /* The filter string selects the device itself. */
    int ids[4];
    CHECK_INT(cb_devices_select(d.filter_string, ids, 4), ==, 1);
    CHECK_INT(ids[0], ==, i);
  }
}

TEST(device_count_starts_runtime) {
  setenv("CAMBRIAN_DEVICES", "none", 1);
  CHECK(!cb_is_running());
  CHECK_INT(cb_device_count(), ==, 1);
  CHECK(cb_is_running());
}

TEST(workers) {
  ASSERT_OK(test_start(2, "none"));
  ASSERT_INT(cb_worker_count(), ==, 2);
  cb_worker_info w[2];
  for (int i = 0; i < 2; i++) {
    ASSERT_OK(cb_worker_get(i, &w[i]));
    CHECK_INT(w[i].id, ==, i);
    CHECK_INT(w[i].device, ==, 0);
    CHECK(w[i].name[0] != '\0');
  }
  CHECK(strcmp(w[0].name, w[1].name) != 0, "both are %s", w[0].name);
  cb_worker_info bad;
  CHECK_RC(cb_worker_get(2, &bad), CB_EINVAL);
  CHECK_STR(cb_last_error(), "no worker 2");
  CHECK_RC(cb_worker_get(-1, &bad), CB_EINVAL);
}

TEST(workers_of_opencl_devices) {
  int dev = test_need_opencl();
  ASSERT(dev >= 0);
  cb_runtime_info info;
  ASSERT_OK(cb_runtime_info_get(&info));
  int n = cb_worker_count();
  CHECK_INT(n, ==, info.ncpus + info.nopencl);
  /* Each device has as many workers as name it. */
  int per_device[16] = {0};
  for (int i = 0; i < n; i++) {
    cb_worker_info w;
    ASSERT_OK(cb_worker_get(i, &w));
    ASSERT(w.device >= 0 && w.device < cb_device_count());
    per_device[w.device]++;
  }
  for (int d = 0; d < cb_device_count() && d < 16; d++) {
    cb_device_info info_d;
    ASSERT_OK(cb_device_get(d, &info_d));
    CHECK_INT(per_device[d], ==, info_d.nworkers);
  }
}

TEST(opencl_platforms) {
  int n = cb_opencl_platforms(NULL, 0);
  CHECK_INT(n, >=, 0);
  cb_platform_info p[16];
  memset(p, 0, sizeof p);
  CHECK_INT(cb_opencl_platforms(p, 16), ==, n);
  for (int i = 0; i < n && i < 16; i++) {
    CHECK(p[i].name[0] != '\0');
    CHECK(strncmp(p[i].version, "OpenCL", 6) == 0, "%s", p[i].version);
    CHECK_INT(p[i].ndevices, >=, 0);
  }
  /* Fewer entries than platforms: the rest is left alone. */
  if (n >= 1) {
    cb_platform_info one[2];
    memset(one, 0, sizeof one);
    strcpy(one[1].name, "untouched");
    CHECK_INT(cb_opencl_platforms(one, 1), ==, n);
    CHECK_STR(one[0].name, p[0].name);
    CHECK_STR(one[1].name, "untouched");
  }
  /* The runtime is not needed for this. */
  CHECK(!cb_is_running());
  /* Every OpenCL device the runtime drives comes from these platforms. */
  ASSERT_OK(test_start(1, "opencl"));
  int devices = 0;
  for (int i = 0; i < n && i < 16; i++)
    devices += p[i].ndevices;
  CHECK_INT(cb_device_count() - 1, <=, devices);
}
