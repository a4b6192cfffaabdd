/*
 * Page-locked host memory for arrays that live on a GPU. StarPU does not
 * pin host memory for OpenCL, and from pageable memory NVIDIA's driver
 * copies synchronously and at a fraction of the bus's speed. A buffer
 * made with CL_MEM_ALLOC_HOST_PTR in the device's context (StarPU's) and
 * mapped for good is pinned memory that the driver copies from at full
 * speed and in the background. The buffer and the queue that unmaps it
 * hold the context, so the memory stays valid after the runtime stops and
 * arrays stay readable.
 *
 * Bound: at most CAMBRIAN_PINNED_MAX bytes (default: half the physical
 * memory) are pinned at a time; beyond it arrays get pageable memory.
 * CAMBRIAN_PINNED=none pins nothing; =all pins for every OpenCL device,
 * pocl's too (which gains nothing by it: for tests).
 *
 * Locking: lock guards the queues and the byte count.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CL/cl.h>
#include <pthread.h>
#include <starpu.h>

#include "devtab.h"
#include "pinned.h"

struct cb__pinned {
  cl_mem mem;
  cl_command_queue q;         /* a reference */
  void *ptr;
  size_t bytes;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static size_t pinned_bytes, max_bytes;
/* A queue per device and runtime generation, for mapping and unmapping. */
static cl_command_queue queues[CB__MAX_DEVICES];
static unsigned queue_gen[CB__MAX_DEVICES];

static size_t bound(void) {
  if (max_bytes)
    return max_bytes;
  const char *v = getenv("CAMBRIAN_PINNED_MAX");
  char *end;
  long long x = v && *v ? strtoll(v, &end, 10) : -1;
  if (v && *v && !*end && x >= 0) {
    max_bytes = (size_t)x;
  } else {
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    max_bytes = pages > 0 && size > 0 ? (size_t)pages * (size_t)size / 2
                                      : (size_t)1 << 30;
  }
  return max_bytes ? max_bytes : 1; /* 0 asked: pin nothing */
}

/* CAMBRIAN_PINNED: 0 none, 1 GPUs and accelerators (default), 2 all. */
static int policy(void) {
  static atomic_int p = -1;
  int v = atomic_load_explicit(&p, memory_order_relaxed);
  if (v < 0) {
    const char *s = getenv("CAMBRIAN_PINNED");
    v = !s || !*s || strcmp(s, "auto") == 0 ? 1
        : strcmp(s, "none") == 0            ? 0
        : strcmp(s, "all") == 0             ? 2
                                            : 1;
    atomic_store_explicit(&p, v, memory_order_relaxed);
  }
  return v;
}

int cb__pinned_wanted(int device) {
  if (device < 0 || device >= cb__ndevices ||
      cb__devices[device].opencl_devid < 0)
    return 0;
  int p = policy();
  return p == 2 || (p == 1 && cb__devices[device].info.type !=
                                  CB_DEVTYPE_CPU);
}

/* The device's queue of this runtime; lock held. */
static cl_command_queue queue_of(int device) {
  unsigned gen = atomic_load(&cb__devtab_gen);
  if (queues[device] && queue_gen[device] == gen)
    return queues[device];
  if (queues[device])
    clReleaseCommandQueue(queues[device]); /* allocations keep their own */
  queues[device] = NULL;
  cl_context ctx;
  cl_device_id dev;
  int devid = cb__devices[device].opencl_devid;
  starpu_opencl_get_context(devid, &ctx);
  starpu_opencl_get_device(devid, &dev);
  cl_int st;
  cl_command_queue q = clCreateCommandQueue(ctx, dev, 0, &st);
  if (st != CL_SUCCESS)
    return NULL;
  queues[device] = q;
  queue_gen[device] = gen;
  return q;
}

void *cb__pinned_alloc(int device, size_t bytes, cb__pinned **token) {
  *token = NULL;
  if (!cb__pinned_wanted(device) || bytes == 0)
    return NULL;
  cb__pinned *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  pthread_mutex_lock(&lock);
  cl_command_queue q = NULL;
  if (pinned_bytes + bytes <= bound() && (q = queue_of(device))) {
    clRetainCommandQueue(q);
    pinned_bytes += bytes;
  }
  pthread_mutex_unlock(&lock);
  if (!q) {
    free(p);
    return NULL;
  }
  cl_context ctx;
  cl_int st = clGetCommandQueueInfo(q, CL_QUEUE_CONTEXT, sizeof ctx, &ctx,
                                    NULL);
  if (st == CL_SUCCESS)
    p->mem = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR,
                            bytes, NULL, &st);
  if (st == CL_SUCCESS)
    p->ptr = clEnqueueMapBuffer(q, p->mem, CL_TRUE,
                                CL_MAP_READ | CL_MAP_WRITE, 0, bytes, 0,
                                NULL, NULL, &st);
  p->q = q;
  p->bytes = bytes;
  if (st != CL_SUCCESS || !p->ptr) {
    cb__pinned_free(p);
    return NULL;
  }
  *token = p;
  return p->ptr;
}

void cb__pinned_free(cb__pinned *p) {
  if (!p)
    return;
  if (p->ptr) {
    cl_event ev;
    if (clEnqueueUnmapMemObject(p->q, p->mem, p->ptr, 0, NULL, &ev) ==
        CL_SUCCESS) {
      clWaitForEvents(1, &ev);
      clReleaseEvent(ev);
    }
  }
  if (p->mem)
    clReleaseMemObject(p->mem);
  clReleaseCommandQueue(p->q);
  pthread_mutex_lock(&lock);
  pinned_bytes -= p->bytes;
  pthread_mutex_unlock(&lock);
  free(p);
}

size_t cb__pinned_bytes(size_t *max) {
  pthread_mutex_lock(&lock);
  size_t n = pinned_bytes;
  *max = bound();
  pthread_mutex_unlock(&lock);
  return n;
}
