/*
 * The device table: the CPU workers as one device, then one device per
 * OpenCL device that StarPU drives, then a device set for each type of
 * OpenCL device present more than once. Built once per runtime start and
 * read-only while the runtime runs.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <CL/cl.h>

#include "devices.h"
#include "devloss.h"
#include "devtab.h"
#include "errors.h"
#include "runtime.h"

static void cpu_identity(cb_device_info *info) {
  snprintf(info->name, sizeof info->name, "CPU");
  snprintf(info->vendor, sizeof info->vendor, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f)
    return;
  char line[512];
  int got = 0;
  while (got != 3 && fgets(line, sizeof line, f)) {
    char *colon = strchr(line, ':');
    if (!colon)
      continue;
    char *v = colon + 1 + (colon[1] == ' ');
    v[strcspn(v, "\n")] = '\0';
    if (!(got & 1) && strncmp(line, "model name", 10) == 0) {
      snprintf(info->name, sizeof info->name, "%s", v);
      got |= 1;
    } else if (!(got & 2) && strncmp(line, "vendor_id", 9) == 0) {
      snprintf(info->vendor, sizeof info->vendor, "%s", v);
      got |= 2;
    }
  }
  fclose(f);
}

static void add_worker(cb__device *d, int w) {
  if (d->nworkers < STARPU_NMAXWORKERS)
    d->workers[d->nworkers++] = w;
  d->info.nworkers = d->nworkers;
}

static int opencl_info(cb__device *d, int devid) {
  cl_device_id id;
  starpu_opencl_get_device((unsigned)devid, &id);
  cb_device_info *info = &d->info;
  cl_device_type type = 0;
  cl_ulong gmem = 0, maxalloc = 0, lmem = 0;
  cl_uint cu = 0;
  char ext[4096] = "";
  cl_int st = clGetDeviceInfo(id, CL_DEVICE_TYPE, sizeof type, &type, NULL);
  if (st == CL_SUCCESS)
    st = clGetDeviceInfo(id, CL_DEVICE_NAME, sizeof info->name, info->name,
                         NULL);
  if (st == CL_SUCCESS)
    st = clGetDeviceInfo(id, CL_DEVICE_VENDOR, sizeof info->vendor,
                         info->vendor, NULL);
  if (st == CL_SUCCESS)
    st = clGetDeviceInfo(id, CL_DEVICE_VERSION, sizeof info->version,
                         info->version, NULL);
  if (st == CL_SUCCESS)
    st = clGetDeviceInfo(id, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof gmem, &gmem,
                         NULL);
  if (st == CL_SUCCESS)
    st = clGetDeviceInfo(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof maxalloc,
                         &maxalloc, NULL);
  if (st == CL_SUCCESS)
    st = clGetDeviceInfo(id, CL_DEVICE_LOCAL_MEM_SIZE, sizeof lmem, &lmem,
                         NULL);
  if (st == CL_SUCCESS)
    st = clGetDeviceInfo(id, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu,
                         NULL);
  if (st == CL_SUCCESS)
    st = clGetDeviceInfo(id, CL_DEVICE_EXTENSIONS, sizeof ext, ext, NULL);
  if (st != CL_SUCCESS)
    return cb__fail(CB_EDEVICE, "clGetDeviceInfo failed (%d)", st);
  info->backend = CB_BACKEND_OPENCL;
  info->type = (type & CL_DEVICE_TYPE_GPU)   ? CB_DEVTYPE_GPU
               : (type & CL_DEVICE_TYPE_CPU) ? CB_DEVTYPE_CPU
                                             : CB_DEVTYPE_ACCELERATOR;
  info->global_mem_bytes = gmem;
  info->max_alloc_bytes = maxalloc;
  info->local_mem_bytes = lmem;
  info->compute_units = (int)cu;
  info->fp64 = strstr(ext, "cl_khr_fp64") != NULL;
  d->opencl_devid = devid;
  return 0;
}

/* The set of the OpenCL devices of one type: its description sums what
 * adds up (memory, compute units, workers) and keeps the least of what
 * every member must offer (largest allocation, local memory, float64). */
static void add_set(cb_devtype type) {
  cb__device *s = &cb__devices[cb__ndevices + cb__nsets];
  cb_device_info *info = &s->info;
  for (int d = 0; d < cb__ndevices; d++) {
    const cb__device *m = &cb__devices[d];
    if (m->opencl_devid < 0 || m->info.type != type)
      continue;
    if (s->nmembers == 0) {
      *info = m->info;
      info->global_mem_bytes = 0;
      info->compute_units = 0;
      s->memory_node = m->memory_node;
      s->opencl_devid = m->opencl_devid;
    }
    info->members[s->nmembers] = d;
    s->members[s->nmembers++] = d;
    info->global_mem_bytes += m->info.global_mem_bytes;
    if (m->info.max_alloc_bytes < info->max_alloc_bytes)
      info->max_alloc_bytes = m->info.max_alloc_bytes;
    if (m->info.local_mem_bytes < info->local_mem_bytes)
      info->local_mem_bytes = m->info.local_mem_bytes;
    info->compute_units += m->info.compute_units;
    info->fp64 &= m->info.fp64;
    for (int k = 0; k < m->nworkers; k++)
      add_worker(s, m->workers[k]);
  }
  if (s->nmembers < 2) {
    memset(s, 0, sizeof *s);
    return;
  }
  info->id = cb__ndevices + cb__nsets++;
  info->index = -1;
  info->nmembers = s->nmembers;
  char one[sizeof info->name];
  memcpy(one, cb__devices[s->members[0]].info.name, sizeof one);
  snprintf(info->name, sizeof info->name, "%d x %.100s", s->nmembers, one);
  snprintf(info->filter_string, sizeof info->filter_string, "opencl:%s",
           cb_devtype_name(type));
}

int cb__devices_discover(void) {
  cb__devices_lost_forget();
  cb__ndevices = 0;
  cb__nsets = 0;
  memset(cb__devices, 0, sizeof cb__devices);
  int nworkers = (int)starpu_worker_get_count();
  int per_kind[CB_NBACKENDS][CB_NDEVTYPES] = {{0}};

  if (starpu_cpu_worker_get_count() > 0) {
    cb__device *d = &cb__devices[cb__ndevices++];
    cb_device_info *info = &d->info;
    info->backend = CB_BACKEND_CPU;
    info->type = CB_DEVTYPE_CPU;
    cpu_identity(info);
    snprintf(info->version, sizeof info->version, "StarPU CPU workers");
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    info->global_mem_bytes = (uint64_t)pages * (uint64_t)psize;
    info->max_alloc_bytes = info->global_mem_bytes;
    info->compute_units = (int)sysconf(_SC_NPROCESSORS_ONLN);
    info->fp64 = 1;
    d->memory_node = STARPU_MAIN_RAM;
    d->opencl_devid = -1;
    for (int w = 0; w < nworkers; w++)
      if (starpu_worker_get_type(w) == STARPU_CPU_WORKER)
        add_worker(d, w);
  }
  for (int w = 0; w < nworkers; w++) {
    if (starpu_worker_get_type(w) != STARPU_OPENCL_WORKER)
      continue;
    int devid = starpu_worker_get_devid(w);
    cb__device *d = NULL;
    for (int i = 0; i < cb__ndevices; i++)
      if (cb__devices[i].opencl_devid == devid &&
          cb__devices[i].info.backend == CB_BACKEND_OPENCL)
        d = &cb__devices[i];
    if (!d) {
      if (cb__ndevices == CB__MAX_DEVICES)
        break;
      d = &cb__devices[cb__ndevices++];
      int rc = opencl_info(d, devid);
      if (rc)
        return rc;
      d->memory_node = starpu_worker_get_memory_node((unsigned)w);
    }
    add_worker(d, w);
  }
  for (int i = 0; i < cb__ndevices; i++) {
    cb_device_info *info = &cb__devices[i].info;
    info->id = i;
    info->index = per_kind[info->backend][info->type]++;
    snprintf(info->filter_string, sizeof info->filter_string, "%s:%s:%d",
             cb_backend_name(info->backend), cb_devtype_name(info->type),
             info->index);
  }
  for (int t = 0; t < CB_NDEVTYPES; t++)
    add_set((cb_devtype)t);
  cb__alive_reset();
  return 0;
}

int cb__device_usable(int device) {
  if (device >= 0 && !cb__device_valid(device))
    return cb__fail(CB_ENODEV, "no device %d", device);
  cb__failure *cause = cb__device_lost(device);
  if (!cause)
    return 0;
  return cb__fail(CB_EDEVLOST,
                  "%s was lost after a fault (%.300s); nothing runs there "
                  "any more: place the work elsewhere (arrays with a host "
                  "copy move with to_device())",
                  cb__devices[device].info.filter_string,
                  cause->info.message);
}

int cb_device_lost(int device, cb_failure_info *cause) {
  if (!cb_is_running())
    return 0;
  if (!cb__device_valid(device))
    return cb__fail(CB_ENODEV, "no device %d", device);
  cb__failure *f = cb__device_lost(device);
  if (f && cause)
    *cause = f->info;
  return f != NULL;
}

int cb_device_count(void) {
  int rc = cb__ensure_running();
  return rc ? rc : cb__ndevices;
}

int cb_device_get(int id, cb_device_info *out) {
  int rc = cb__ensure_running();
  if (rc)
    return rc;
  if (!cb__device_valid(id))
    return cb__fail(CB_ENODEV, "no device %d", id);
  *out = cb__devices[id].info;
  out->lost = cb__device_lost(id) != NULL;
  /* A set's kernels are tuned as its least tuned device's. */
  for (int k = 0; k < out->nmembers; k++) {
    int tuned = cb__devices[out->members[k]].info.blas_tuned;
    if (k == 0 || tuned < out->blas_tuned)
      out->blas_tuned = tuned;
  }
  return 0;
}

int cb_worker_count(void) {
  int rc = cb__ensure_running();
  return rc ? rc : (int)starpu_worker_get_count();
}

int cb_worker_get(int id, cb_worker_info *out) {
  int rc = cb__ensure_running();
  if (rc)
    return rc;
  if (id < 0 || id >= (int)starpu_worker_get_count())
    return cb__fail(CB_EINVAL, "no worker %d", id);
  out->id = id;
  out->device = -1;
  for (int d = 0; d < cb__ndevices; d++)
    for (int k = 0; k < cb__devices[d].nworkers; k++)
      if (cb__devices[d].workers[k] == id)
        out->device = d;
  starpu_worker_get_name(id, out->name, sizeof out->name);
  return 0;
}

int cb_opencl_platforms(cb_platform_info *out, int cap) {
  cl_platform_id plats[16];
  cl_uint n = 0;
  if (clGetPlatformIDs(16, plats, &n) != CL_SUCCESS)
    return 0;
  for (cl_uint p = 0; p < n && (int)p < cap && p < 16; p++) {
    cb_platform_info *i = &out[p];
    cl_uint nd = 0;
    if (clGetPlatformInfo(plats[p], CL_PLATFORM_NAME, sizeof i->name, i->name,
                          NULL) != CL_SUCCESS ||
        clGetPlatformInfo(plats[p], CL_PLATFORM_VENDOR, sizeof i->vendor,
                          i->vendor, NULL) != CL_SUCCESS ||
        clGetPlatformInfo(plats[p], CL_PLATFORM_VERSION, sizeof i->version,
                          i->version, NULL) != CL_SUCCESS)
      snprintf(i->name, sizeof i->name, "(unreadable)");
    if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) !=
        CL_SUCCESS)
      nd = 0;
    i->ndevices = (int)nd;
  }
  return (int)n;
}
