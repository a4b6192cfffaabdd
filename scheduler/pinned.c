/*
 * Page-locked host memory for arrays that live on a GPU. StarPU does not
 * pin host memory for OpenCL, and from pageable memory NVIDIA's driver
 * copies synchronously and at a fraction of the bus's speed. A buffer
 * made with CL_MEM_ALLOC_HOST_PTR and mapped for good is pinned memory
 * that the driver copies from at full speed and in the background, also
 * for another context of the same device (measured on NVIDIA): the
 * buffers come from a context of cambrian's own per device, which lives
 * as long as the process, so pinned memory outlives runtimes.
 *
 * Pinning is slow (about a third of a second a GiB) and holds the
 * driver, so it stays off the path of submission: freed buffers go to a
 * cache that later arrays take them from; an array made by a task that
 * finds none there gets pageable memory. When such an array is read back
 * to the host, a background thread pins a buffer of its size for the next
 * one: work that stays on the GPU pins nothing. Arrays made explicitly
 * for a device (cb_array_new_on) pin at once.
 *
 * Bound: at most CAMBRIAN_PINNED_MAX bytes (default: half the physical
 * memory) are pinned at a time, the cache included (at most a quarter of
 * the bound); beyond it arrays get pageable memory. CAMBRIAN_PINNED=none
 * pins nothing; =all pins for every OpenCL device, pocl's too (which
 * gains nothing by it: for tests).
 *
 * Locking: lock guards the contexts, the cache, the requests and the
 * byte counts; OpenCL calls that pin or unpin run without it.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CL/cl.h>
#include <pthread.h>
#include <starpu.h>

#include "devloss.h"
#include "devtab.h"
#include "pinned.h"

struct cb__pinned {
  cl_mem mem;
  cl_command_queue q;         /* the device's queue of cambrian's own */
  void *ptr;
  size_t bytes;
  cl_device_id dev;
  struct cb__pinned *next;    /* in the cache */
};

#define CB__PIN_REQUESTS 8

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static size_t pinned_bytes, cached_bytes, max_bytes;
static struct devctx {
  cl_device_id id;
  cl_command_queue q;         /* NULL: could not be made */
} ctxs[CB__MAX_DEVICES];
static int nctxs;
static cb__pinned *cache;
static struct request {
  cl_device_id dev;
  size_t bytes;
} requests[CB__PIN_REQUESTS];
static int nrequests, pinner_started;
/* Sizes read back from a GPU, most recent first. */
#define CB__PIN_SIZES 16
static size_t demanded[CB__PIN_SIZES];
static atomic_int any_demand; /* read without the lock: the fast path */

static size_t bound(void) {
  if (max_bytes)
    return max_bytes;
  const char *v = getenv("CAMBRIAN_PINNED_MAX");
  char *end;
  long long x = v && *v ? strtoll(v, &end, 10) : -1;
  if (v && *v && !*end && x >= 0) {
    max_bytes = x ? (size_t)x : 1; /* 0 asked: pin nothing */
  } else {
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    max_bytes = pages > 0 && size > 0 ? (size_t)pages * (size_t)size / 2
                                      : (size_t)1 << 30;
  }
  return max_bytes;
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
  device = cb__device_for_tile(device, 0); /* a set: as its devices */
  if (device < 0 || device >= cb__ndevices ||
      cb__devices[device].opencl_devid < 0 || cb__device_lost(device))
    return 0;
  int p = policy();
  return p == 2 || (p == 1 && cb__devices[device].info.type !=
                                  CB_DEVTYPE_CPU);
}

/* The queue of cambrian's own context on dev, made on first use. */
static cl_command_queue queue_for(cl_device_id dev) {
  pthread_mutex_lock(&lock);
  int i = 0;
  while (i < nctxs && ctxs[i].id != dev)
    i++;
  if (i == nctxs && nctxs < CB__MAX_DEVICES) {
    cl_int st;
    cl_context ctx = clCreateContext(NULL, 1, &dev, NULL, NULL, &st);
    cl_command_queue q = NULL;
    if (st == CL_SUCCESS) {
      q = clCreateCommandQueue(ctx, dev, 0, &st);
      clReleaseContext(ctx); /* the queue holds it */
    }
    ctxs[nctxs++] = (struct devctx){dev, st == CL_SUCCESS ? q : NULL};
  }
  cl_command_queue q = i < nctxs ? ctxs[i].q : NULL;
  pthread_mutex_unlock(&lock);
  return q;
}

/* Unmaps and releases p's buffer, and frees p. */
static void unpin(cb__pinned *p) {
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
  pthread_mutex_lock(&lock);
  pinned_bytes -= p->bytes;
  pthread_mutex_unlock(&lock);
  free(p);
}

/* Pins bytes on dev now, within the bound; NULL when it cannot. */
static cb__pinned *pin(cl_device_id dev, size_t bytes) {
  cl_command_queue q = queue_for(dev);
  cb__pinned *p = q ? calloc(1, sizeof *p) : NULL;
  if (!p)
    return NULL;
  pthread_mutex_lock(&lock);
  int room = pinned_bytes + bytes <= bound();
  if (room)
    pinned_bytes += bytes;
  pthread_mutex_unlock(&lock);
  *p = (cb__pinned){.q = q, .bytes = bytes, .dev = dev};
  if (!room) {
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
  if (st != CL_SUCCESS || !p->ptr) {
    unpin(p);
    return NULL;
  }
  return p;
}

/* A cached buffer of bytes on dev, or NULL; lock held. */
static cb__pinned *take_cached(cl_device_id dev, size_t bytes) {
  for (cb__pinned **at = &cache; *at; at = &(*at)->next) {
    cb__pinned *p = *at;
    if (p->dev == dev && p->bytes == bytes) {
      *at = p->next;
      cached_bytes -= bytes;
      return p;
    }
  }
  return NULL;
}

/* Puts p in the cache if there is room; lock held. Returns 1 if it did. */
static int cache_put(cb__pinned *p) {
  if (cached_bytes + p->bytes > bound() / 4)
    return 0;
  p->next = cache;
  cache = p;
  cached_bytes += p->bytes;
  return 1;
}

/* The background thread: pins what was asked for, into the cache. */
static void *pinner(void *arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "cb-pinner");
  pthread_mutex_lock(&lock);
  for (;;) {
    while (!nrequests)
      pthread_cond_wait(&wake, &lock);
    struct request r = requests[0];
    memmove(requests, requests + 1, --nrequests * sizeof *requests);
    int room = cached_bytes + r.bytes <= bound() / 4;
    pthread_mutex_unlock(&lock);
    cb__pinned *p = room ? pin(r.dev, r.bytes) : NULL;
    pthread_mutex_lock(&lock);
    if (p && !cache_put(p)) {
      pthread_mutex_unlock(&lock);
      unpin(p);
      pthread_mutex_lock(&lock);
    }
  }
  return NULL;
}

/* Asks the background thread for a buffer of bytes on dev; lock held. */
static void request(cl_device_id dev, size_t bytes) {
  for (int i = 0; i < nrequests; i++)
    if (requests[i].dev == dev && requests[i].bytes == bytes)
      return;
  if (nrequests == CB__PIN_REQUESTS)
    return;
  if (!pinner_started) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pinner_started = pthread_create(&t, &attr, pinner, NULL) == 0;
    pthread_attr_destroy(&attr);
    if (!pinner_started)
      return;
  }
  requests[nrequests++] = (struct request){dev, bytes};
  pthread_cond_signal(&wake);
}

void *cb__pinned_alloc(int device, size_t bytes, int now,
                       cb__pinned **token) {
  *token = NULL;
  if (!cb__pinned_wanted(device) || bytes == 0)
    return NULL;
  cl_device_id dev;
  starpu_opencl_get_device(cb__devices[device].opencl_devid, &dev);
  pthread_mutex_lock(&lock);
  cb__pinned *p = take_cached(dev, bytes);
  pthread_mutex_unlock(&lock);
  if (!p && now)
    p = pin(dev, bytes);
  *token = p;
  return p ? p->ptr : NULL;
}

void cb__pinned_demand(size_t bytes) {
  int device = 0;
  while (device < cb__ndevices && !cb__pinned_wanted(device))
    device++;
  if (device == cb__ndevices || bytes == 0)
    return;
  cl_device_id dev;
  starpu_opencl_get_device(cb__devices[device].opencl_devid, &dev);
  pthread_mutex_lock(&lock);
  int at = 0;
  while (at < CB__PIN_SIZES - 1 && demanded[at] && demanded[at] != bytes)
    at++;
  memmove(demanded + 1, demanded, (size_t)at * sizeof *demanded);
  demanded[0] = bytes;
  atomic_store_explicit(&any_demand, 1, memory_order_relaxed);
  int cached = 0;
  for (cb__pinned *p = cache; p && !cached; p = p->next)
    cached = p->dev == dev && p->bytes == bytes;
  if (!cached)
    request(dev, bytes);
  pthread_mutex_unlock(&lock);
}

int cb__pinned_demanded(size_t bytes) {
  if (!atomic_load_explicit(&any_demand, memory_order_relaxed))
    return 0;
  pthread_mutex_lock(&lock);
  int found = 0;
  for (int i = 0; i < CB__PIN_SIZES && demanded[i] && !found; i++)
    found = demanded[i] == bytes;
  found = found && pinned_bytes + bytes <= bound();
  pthread_mutex_unlock(&lock);
  return found;
}

void cb__pinned_free(cb__pinned *p) {
  if (!p)
    return;
  pthread_mutex_lock(&lock);
  int kept = cache_put(p);
  pthread_mutex_unlock(&lock);
  if (!kept)
    unpin(p);
}

size_t cb__pinned_bytes(size_t *max) {
  pthread_mutex_lock(&lock);
  size_t n = pinned_bytes;
  *max = bound();
  pthread_mutex_unlock(&lock);
  return n;
}
