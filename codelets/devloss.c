/*
 * Device loss (see devloss.h): the lost marks of the device table, the
 * bitmap of workers still usable, and what counts as a lost context.
 */
#include <stdio.h>

#include <CL/cl.h>

#include "devloss.h"

atomic_int cb__nlost;
uint32_t cb__alive_workers[CB__WORKER_WORDS];
unsigned cb__alive_words;

void cb__devices_lost_forget(void) {
  for (int d = 0; d < CB__MAX_DEVICES; d++) {
    cb__failure_unref(atomic_exchange(&cb__devices[d].lost, NULL));
    atomic_store(&cb__devices[d].unusable, 0);
  }
  atomic_store(&cb__nlost, 0);
}

void cb__alive_reset(void) {
  unsigned n = starpu_worker_get_count();
  for (unsigned i = 0; i < CB__WORKER_WORDS; i++)
    cb__alive_workers[i] = 0;
  for (int d = 0; d < cb__ndevices; d++)
    for (int k = 0; k < cb__devices[d].nworkers; k++) {
      unsigned w = (unsigned)cb__devices[d].workers[k];
      if (w < STARPU_NMAXWORKERS)
        cb__alive_workers[w / 32] |= 1u << (w % 32);
    }
  cb__alive_words = (n + 31) / 32;
}

int cb__device_lose(int device, cb__failure *cause) {
  if (!cause || device < 0 || device >= cb__ndevices ||
      cb__devices[device].opencl_devid < 0)
    return 0;
  cb__device *d = &cb__devices[device];
  cb__failure *expected = NULL;
  cb__failure_ref(cause);
  if (!atomic_compare_exchange_strong(&d->lost, &expected, cause)) {
    cb__failure_unref(cause);
    return 0;
  }
  /* The scheduler stops choosing its workers, then codelets and tiles
   * start looking at the marks. */
  for (int k = 0; k < d->nworkers; k++) {
    unsigned w = (unsigned)d->workers[k];
    if (w < STARPU_NMAXWORKERS)
      __atomic_fetch_and(&cb__alive_workers[w / 32], ~(1u << (w % 32)),
                         __ATOMIC_SEQ_CST);
  }
  atomic_fetch_add(&cb__nlost, 1);
  return 1;
}

int cb__node_lost_device(unsigned node) {
  if (!atomic_load_explicit(&cb__nlost, memory_order_acquire))
    return -1;
  for (int d = 0; d < cb__ndevices; d++)
    if (cb__devices[d].opencl_devid >= 0 &&
        cb__devices[d].memory_node == node && cb__device_lost(d))
      return d;
  return -1;
}

cb__failure *cb__lost_failure(int device, const char *task,
                              const char *what) {
  cb__failure *cause = cb__device_lost(device);
  if (!cause)
    return NULL;
  cb__failure *f = cb__failure_new(
      CB_EDEVLOST, cause->info.cl_status, device, task,
      "%s: %s was lost after a fault (%s)", what,
      cb__devices[device].info.filter_string, cause->info.message);
  if (f) {
    cb__failure_ref(cause);
    f->cause = cause;
  }
  return f;
}

int cb__cl_status_loses(int cl_status) {
  return cl_status == CL_INVALID_COMMAND_QUEUE ||
         cl_status == CL_INVALID_CONTEXT;
}

int cb__cl_completion_loses(int cl_status) {
  return cl_status != CL_SUCCESS &&
         cl_status != CL_MEM_OBJECT_ALLOCATION_FAILURE &&
         cl_status != CL_OUT_OF_HOST_MEMORY;
}

int cb__device_probe(int device) {
  if (device < 0 || device >= cb__ndevices ||
      cb__devices[device].opencl_devid < 0)
    return 0;
  if (atomic_load(&cb__devices[device].unusable))
    return CL_INVALID_CONTEXT;
  cl_command_queue q;
  starpu_opencl_get_queue(cb__devices[device].opencl_devid, &q);
  return clFinish(q);
}
