/*
 * Device loss (see devloss.h): the lost marks of the device table, the
 * bitmap of workers still usable, and what counts as a lost context.
 */
#include <stdio.h>
#include <time.h>

#include <CL/cl.h>

#include "devloss.h"
#include "faults.h"

atomic_int cb__nlost;
uint32_t cb__alive_workers[CB__WORKER_WORDS];
unsigned cb__alive_words;

void cb__devices_lost_forget(void) {
  for (int d = 0; d < CB__MAX_DEVICES; d++) {
    cb__failure_unref(atomic_exchange(&cb__devices[d].lost, NULL));
    atomic_store(&cb__devices[d].unusable, 0);
    atomic_store(&cb__devices[d].dead, 0);
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

/* Marks device lost with cause; 1 when this call lost it. */
static int lose(int device, cb__failure *cause) {
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

/* The OpenCL platform of device (an OpenCL one), or NULL. */
static cl_platform_id platform_of(int device) {
  cl_device_id id;
  cl_platform_id p = NULL;
  starpu_opencl_get_device((unsigned)cb__devices[device].opencl_devid, &id);
  if (clGetDeviceInfo(id, CL_DEVICE_PLATFORM, sizeof p, &p, NULL) !=
      CL_SUCCESS)
    return NULL;
  return p;
}

/* How long a device may take to run the tiny write that asks whether it
 * still answers. */
#define CB__ANSWER_MS 2000

/* Whether device's context still runs a command: a tiny write on a queue
 * of its own, so that StarPU's queues see nothing, waited for at most
 * CB__ANSWER_MS (a context that never completes a command would hold the
 * caller, maybe inside StarPU's locks, for ever). 0, or the status that
 * tells it does not (CL_DEVICE_NOT_AVAILABLE: no answer in time; its
 * queue and buffer are then left as they are). */
static cl_int answers(int device) {
  if (atomic_load_explicit(&cb__faults_armed, memory_order_relaxed)) {
    cl_int injected = cb__fault_take("answer", 1, device, NULL);
    if (injected != CL_SUCCESS)
      return injected;
  }
  unsigned devid = (unsigned)cb__devices[device].opencl_devid;
  cl_context ctx;
  cl_device_id id;
  starpu_opencl_get_context(devid, &ctx);
  starpu_opencl_get_device(devid, &id);
  cl_int st;
  cl_command_queue q = clCreateCommandQueue(ctx, id, 0, &st);
  if (st != CL_SUCCESS)
    return st;
  cl_mem m = clCreateBuffer(ctx, CL_MEM_READ_WRITE, 64, NULL, &st);
  if (st == CL_SUCCESS) {
    static const char zeros[64];
    cl_event ev;
    st = clEnqueueWriteBuffer(q, m, CL_FALSE, 0, sizeof zeros, zeros, 0,
                              NULL, &ev);
    if (st == CL_SUCCESS) {
      st = clFlush(q);
      cl_int done = CL_QUEUED;
      struct timespec nap = {0, 1000000};
      for (int ms = 0; st == CL_SUCCESS && done > CL_COMPLETE; ms++) {
        st = clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS,
                            sizeof done, &done, NULL);
        if (st == CL_SUCCESS && done > CL_COMPLETE) {
          if (ms >= CB__ANSWER_MS)
            return CL_DEVICE_NOT_AVAILABLE;
          nanosleep(&nap, NULL);
        }
      }
      if (st == CL_SUCCESS)
        st = done;
      clReleaseEvent(ev);
    }
    clReleaseMemObject(m);
  }
  clReleaseCommandQueue(q);
  return st;
}

int cb__device_dead(int device) {
  if (device < 0 || device >= cb__ndevices || !cb__device_lost(device))
    return 0;
  int known = atomic_load(&cb__devices[device].dead);
  if (known)
    return known == 2;
  int dead = cb__cl_completion_loses(
      atomic_load(&cb__devices[device].unusable) ? CL_INVALID_CONTEXT
                                                 : answers(device));
  atomic_store(&cb__devices[device].dead, dead ? 2 : 1);
  return dead;
}

/* After device was lost to cause: the other devices of its platform that
 * no longer run a command are lost with it. A fault on one GPU poisons
 * every GPU of NVIDIA's platform in the process, for instance; work that
 * the scheduler places then keeps away from them at once, instead of
 * failing there one task at a time. */
static void lose_siblings(int device, cb__failure *cause) {
  cl_platform_id p = platform_of(device);
  for (int d = 0; p && d < cb__ndevices; d++) {
    if (d == device || cb__devices[d].opencl_devid < 0 ||
        cb__device_lost(d) || platform_of(d) != p)
      continue;
    cl_int st = answers(d);
    if (!cb__cl_completion_loses(st))
      continue;
    atomic_store(&cb__devices[d].dead, 2);
    cb__failure *f = cb__failure_new(
        CB_EDEVICE, st, d, "", "%s no longer answers after the fault on "
        "%s (%s)", cb__devices[d].info.filter_string,
        cb__devices[device].info.filter_string, cb_cl_status_name(st));
    if (!f)
      continue;
    cb__failure_ref(cause);
    f->cause = cause;
    cb__failure_register(f);
    lose(d, f);
    cb__failure_unref(f);
  }
}

int cb__device_lose(int device, cb__failure *cause) {
  if (!lose(device, cause))
    return 0;
  lose_siblings(device, cause);
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
