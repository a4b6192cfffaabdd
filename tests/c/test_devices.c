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

/* Two pocl devices (POCL_DEVICES lists one per device) make a set. */
static int start_two_pocl_devices(void) {
  setenv("POCL_DEVICES", "pthread pthread", 1);
  int rc = test_start(1, "cpu:cpu,opencl:cpu");
  if (rc == CB_ENODEV)
    test_skip("no OpenCL device");
  if (rc)
    return rc;
  int ids[4];
  if (cb_devices_select("opencl:cpu", ids, 4) != 2)
    test_skip("pocl did not make two devices");
  return 0;
}

TEST(device_set_spreads_tiles_over_its_devices) {
  ASSERT_OK(start_two_pocl_devices());
  int set = cb_device_set("opencl:cpu");
  ASSERT_INT(set, >=, cb_device_count());
  cb_device_info s, m[2];
  ASSERT_OK(cb_device_get(set, &s));
  ASSERT_INT(s.nmembers, ==, 2);
  ASSERT_OK(cb_device_get(s.members[0], &m[0]));
  ASSERT_OK(cb_device_get(s.members[1], &m[1]));
  CHECK_INT(s.id, ==, set);
  CHECK_INT(s.index, ==, -1);
  CHECK_STR(s.filter_string, "opencl:cpu");
  CHECK_INT(s.nworkers, ==, m[0].nworkers + m[1].nworkers);
  CHECK(s.global_mem_bytes ==
        m[0].global_mem_bytes + m[1].global_mem_bytes);
  CHECK_INT(m[0].nmembers, ==, 0);
  /* Both devices by name make the set; one of them, or a filter that
   * mixes types, is the first device matched. */
  CHECK_INT(cb_device_set("opencl:cpu:1,opencl:cpu:0"), ==, set);
  CHECK_INT(cb_device_set("opencl:cpu:1"), ==, s.members[1]);
  CHECK_INT(cb_device_set("cpu"), ==, 0);
  CHECK_RC(cb_device_set("gpu:9"), CB_ENODEV);
  CHECK_HAS(cb_last_error(), "no device matches 'gpu:9'");
  CHECK_RC(cb_device_set("nonsense"), CB_EINVAL);

  /* Tile i runs on member i mod 2, from one operation to the next. */
  int64_t n = 1 << 20;
  cb_array *a = test_ramp(CB_FLOAT32, 1, &n, 0, 1);
  ASSERT(a);
  ASSERT_OK(cb_array_set_tile_size(a, n / 8));
  ASSERT_OK(cb_profiling_set(1));
  cb_operand x[2] = {test_arg(a, set), test_arg(a, set)};
  cb_array *r[3] = {NULL, NULL, NULL};
  int dev = -5;
  ASSERT_OK(cb_ewise(CB_OP_add, x, 2, -1, -1, &r[0], &dev));
  CHECK_INT(dev, ==, set);
  cb_operand y[2] = {test_arg(r[0], set), test_arg(a, set)};
  ASSERT_OK(cb_ewise(CB_OP_add, y, 2, -1, -1, &r[1], &dev));
  cb_operand z[1] = {test_arg(r[1], set)};
  ASSERT_OK(cb_ewise(CB_OP_negative, z, 1, -1, -1, &r[2], &dev));
  CHECK_OK(test_sync(r[2]));
  int bad = 0;
  for (int64_t i = 0; i < n; i++)
    bad += test_get(r[2], i) != -3.0 * (double)i;
  CHECK_INT(bad, ==, 0);
  cb_worker_stats w[8];
  cb_link_stats l[16];
  int nw, nl, nop;
  ASSERT_OK(cb_stats_get(w, 8, &nw, l, 16, &nl, NULL, 0, &nop));
  int64_t on[2] = {0, 0}, up = 0, down = 0;
  for (int i = 0; i < nw && i < 8; i++)
    for (int k = 0; k < 2; k++)
      on[k] += w[i].device == s.members[k] ? w[i].tasks : 0;
  CHECK_INT(on[0], ==, 12);
  CHECK_INT(on[1], ==, 12);
  /* Nothing went from one device to the other (which StarPU does through
   * the host): a went up once, r[2] came down once. */
  for (int i = 0; i < nl && i < 16; i++) {
    up += l[i].src_device < 0 && l[i].dst_device >= 0 ? l[i].bytes : 0;
    down += l[i].src_device >= 0 && l[i].dst_device < 0 ? l[i].bytes : 0;
  }
  CHECK_INT(up, ==, n * 4);
  CHECK_INT(down, ==, n * 4);
  ASSERT_OK(cb_profiling_set(0));
  for (int i = 0; i < 3; i++)
    cb_array_unref(r[i]);
  cb_array_unref(a);
}
