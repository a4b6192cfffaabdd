/*
 * Tile handles (see tiles.h): StarPU's vector interface whose data
 * operations look at the lost marks of devices first. While no device is
 * lost each operation costs one branch more than the vector's own.
 *
 * A copy from a device into host memory that was never touched (a new
 * result's buffer) faults its pages in first, in the kernel's fast path:
 * a driver that copies into pageable memory faults them one by one
 * otherwise, at a tenth of the bus's speed (NVIDIA's: 1.3 GB/s into new
 * memory, 16 GB/s into memory already used).
 */
#include <stdatomic.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <pthread.h>

#include <CL/cl.h>

#include "cambrian/testing.h"
#include "devloss.h"
#include "failure.h"
#include "staging.h"
#include "tiles.h"

/* StarPU 1.3 names a home node unsigned, and maps no memory. */
#if STARPU_MAJOR_VERSION == 1 && STARPU_MINOR_VERSION < 4
typedef unsigned home_node_t;
#define CB__MAPS 0
#else
typedef int home_node_t;
#define CB__MAPS 1
#endif

/* A tile's interface on each memory node: the vector's, then the array. */
typedef struct tile_iface {
  struct starpu_vector_interface v;
  cb_array *owner;
  void (*drop)(cb_array *owner); /* at unregistration, when set */
  starpu_data_handle_t handle;   /* the handle it was registered for */
  int host_pinned;               /* its host buffer is pinned memory */
} tile_iface;

/* Asynchronous copies into host memory, kept (with a reference of their
 * event) from their start until they are seen complete, so that a copy
 * StarPU stops waiting for (a lost device's) fails the array it filled.
 * The array outlives its copies in flight: StarPU unregisters a handle
 * only once they ended. Locking: reads_lock guards the list. */
typedef struct pending_read {
  cl_event ev;
  cb_array *owner;
  struct pending_read *next;
} pending_read;
static pthread_mutex_t reads_lock = PTHREAD_MUTEX_INITIALIZER;
static pending_read *reads;

/* Keeps ev, a copy into owner's host memory; drops those seen complete
 * meanwhile. */
static void remember_read(cl_event ev, cb_array *owner) {
  pending_read *r = malloc(sizeof *r);
  pthread_mutex_lock(&reads_lock);
  for (pending_read **p = &reads; *p;) {
    cl_int st = CL_QUEUED;
    clGetEventInfo((*p)->ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof st,
                   &st, NULL);
    if (st == CL_COMPLETE) {
      pending_read *done = *p;
      *p = done->next;
      clReleaseEvent(done->ev);
      free(done);
    } else {
      p = &(*p)->next;
    }
  }
  if (r) {
    clRetainEvent(ev);
    *r = (pending_read){ev, owner, reads};
    reads = r;
  }
  pthread_mutex_unlock(&reads_lock);
}

int cb__tile_read_abandoned(cl_event ev, int device) {
  pending_read *found = NULL;
  pthread_mutex_lock(&reads_lock);
  for (pending_read **p = &reads; *p; p = &(*p)->next)
    if ((*p)->ev == ev) {
      found = *p;
      *p = found->next;
      break;
    }
  pthread_mutex_unlock(&reads_lock);
  if (!found)
    return 0;
  cb__failure *f = cb__lost_failure(device, "", "the array's data were "
                                    "lost");
  if (f) {
    cb__mark_poison(found->owner, f);
    cb__failure_unref(f);
  }
  clReleaseEvent(found->ev);
  free(found);
  return 1;
}

void cb__tile_reads_forget(void) {
  pthread_mutex_lock(&reads_lock);
  pending_read *r = reads;
  reads = NULL;
  pthread_mutex_unlock(&reads_lock);
  while (r) {
    pending_read *next = r->next;
    clReleaseEvent(r->ev);
    free(r);
    r = next;
  }
}

static struct starpu_data_interface_ops ops;
static struct starpu_data_copy_methods copy_methods;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static atomic_long lost_ops;
/* What an allocation on a lost device points at: never given to OpenCL. */
static char placeholder;

long cb_testing_lost_device_ops(void) { return atomic_load(&lost_ops); }

static const struct starpu_data_interface_ops *vector(void) {
  return &starpu_interface_vector_ops;
}

/* The lost device a data operation between two nodes touches, or -1. */
static int lost_between(unsigned a, unsigned b) {
  int d = cb__node_lost_device(a);
  return d >= 0 ? d : cb__node_lost_device(b);
}

static void tile_register(starpu_data_handle_t handle, home_node_t home_node,
                          void *data_interface) {
  vector()->register_data_handle(handle, home_node, data_interface);
  const tile_iface *t = data_interface;
  /* An interface that names a handle already is another handle's: StarPU
   * (StarPU-MPI's buffer for data that arrives early) registers a
   * temporary handle like it, which neither marks nor drops the array. */
  int same = t->handle != NULL;
  for (unsigned node = 0; node < STARPU_MAXNODES; node++) {
    tile_iface *on = starpu_data_get_interface_on_node(handle, node);
    on->owner = same ? NULL : t->owner;
    on->drop = same ? NULL : t->drop;
    on->handle = handle;
    on->host_pinned = t->host_pinned;
  }
}

static void tile_unregister(starpu_data_handle_t handle) {
  tile_iface *t = starpu_data_get_interface_on_node(handle, STARPU_MAIN_RAM);
  if (t->drop && t->owner)
    t->drop(t->owner);
  t->owner = NULL;
}

static starpu_ssize_t tile_allocate(void *data_interface, unsigned node) {
  if (cb__node_lost_device(node) < 0)
    return vector()->allocate_data_on_node(data_interface, node);
  struct starpu_vector_interface *v = data_interface;
  atomic_fetch_add(&lost_ops, 1);
  v->ptr = 0;
  v->dev_handle = (uintptr_t)&placeholder;
  v->offset = 0;
  return (starpu_ssize_t)v->allocsize;
}

static void tile_free(void *data_interface, unsigned node) {
  struct starpu_vector_interface *v = data_interface;
  if (cb__node_lost_device(node) < 0) {
    vector()->free_data_on_node(data_interface, node);
    return;
  }
  atomic_fetch_add(&lost_ops, 1);
  if (v->dev_handle != (uintptr_t)&placeholder) {
    /* A buffer allocated before the loss: its release may fail now, and
     * StarPU would abort on that status. The memory StarPU counted for
     * it goes back as its own release would give it. */
    clReleaseMemObject((cl_mem)v->dev_handle);
    starpu_memory_deallocate(node, v->allocsize ? v->allocsize : 1);
  }
  v->ptr = 0;
  v->dev_handle = 0;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
/* Copies smaller than this fault their few pages in as they go. */
#define CB__POPULATE_MIN ((size_t)1 << 20)

/* Faults in the pages of the host buffer of interface v, writable, ahead
 * of a copy into it; nothing when the kernel cannot (before Linux 5.14),
 * or for pages already there. The contents stay as they are. */
static void populate(const struct starpu_vector_interface *v) {
  size_t bytes = (size_t)v->nx * v->elemsize;
  if (bytes < CB__POPULATE_MIN || !v->ptr)
    return;
  static long page;
  if (!page)
    page = sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096;
  uintptr_t start = v->ptr & ~(uintptr_t)(page - 1);
  (void)madvise((void *)start, v->ptr + bytes - start, MADV_POPULATE_WRITE);
}

static int tile_copy(void *src_interface, unsigned src_node,
                     void *dst_interface, unsigned dst_node,
                     void *async_data) {
  if (starpu_node_get_kind(dst_node) == STARPU_CPU_RAM &&
      starpu_node_get_kind(src_node) != STARPU_CPU_RAM)
    populate(dst_interface);
  if (lost_between(src_node, dst_node) < 0)
    return vector()->copy_methods->any_to_any(src_interface, src_node,
                                              dst_interface, dst_node,
                                              async_data);
  atomic_fetch_add(&lost_ops, 1);
  int from = cb__node_lost_device(src_node);
  cb_array *owner = ((tile_iface *)dst_interface)->owner;
  if (from >= 0 && owner) {
    /* The only copy StarPU could take was on the lost device. */
    cb__failure *f = cb__lost_failure(from, "", "the array's data were "
                                      "lost");
    if (f) {
      cb__mark_poison(owner, f);
      cb__failure_unref(f);
    }
  }
  return 0;
}

/* A copy of bytes to or from (way) node's device could not be enqueued
 * (status st): the device is lost, and with it the data of lost, when
 * set, whose only current copy was there. */
static void copy_failed(unsigned node, cl_int st, size_t bytes,
                        const char *way, cb_array *lost) {
  int device = cb__node_device(node);
  cb__failure *f = cb__failure_new(CB_EDEVICE, st, device, "",
                                   "copying %zu bytes %s the device "
                                   "failed (%s)", bytes, way,
                                   cb_cl_status_name(st));
  if (!f)
    return;
  cb__failure_register(f);
  cb__device_lose(device, f);
  if (lost)
    cb__mark_poison(lost, f);
  cb__failure_unref(f);
}

/* A copy from the host to an OpenCL device, asynchronous when event is
 * set (StarPU then polls *event): from pageable memory to a GPU through
 * staging buffers (staging.h), else straight, as the vector's. A copy
 * that cannot be enqueued loses the device instead of aborting; a
 * straight copy's wait (synchronous) or event (asynchronous) that fails
 * later is StarPU's to check, and still aborts there. */
static int tile_to_opencl(void *src_interface, unsigned src_node,
                          void *dst_interface, unsigned dst_node,
                          cl_event *event) {
  const tile_iface *src = src_interface;
  struct starpu_vector_interface *dst = dst_interface;
  size_t bytes = (size_t)src->v.nx * src->v.elemsize;
  const char *from = (const char *)src->v.dev_handle + src->v.offset;
  if (lost_between(src_node, dst_node) >= 0)
    return tile_copy(src_interface, src_node, dst_interface, dst_node,
                     NULL);
  if (event && !src->host_pinned && cb__stage_wanted(dst_node, bytes) &&
      cb__stage_write(dst_node, (cl_mem)dst->dev_handle, dst->offset, from,
                      bytes, event) == 0)
    return -EAGAIN;
  int ret = 0;
  cl_int st = starpu_opencl_copy_ram_to_opencl(
      (void *)from, src_node, (cl_mem)dst->dev_handle, dst_node, bytes,
      dst->offset, event, &ret);
  if (st != CL_SUCCESS) {
    /* The device cannot take the copy: it is lost (the host copy stays
     * good). */
    copy_failed(dst_node, st, bytes, "to", NULL);
    return 0;
  }
  return ret;
}

/* The same, from an OpenCL device to the host: through staging into a
 * host buffer that is not pinned memory. A failed copy loses the device
 * and the array's data (the device had the only current copy). */
static int tile_from_opencl(void *src_interface, unsigned src_node,
                            void *dst_interface, unsigned dst_node,
                            cl_event *event) {
  const struct starpu_vector_interface *src = src_interface;
  tile_iface *dst = dst_interface;
  size_t bytes = (size_t)dst->v.nx * dst->v.elemsize;
  char *to = (char *)dst->v.dev_handle + dst->v.offset;
  if (lost_between(src_node, dst_node) >= 0)
    return tile_copy(src_interface, src_node, dst_interface, dst_node,
                     NULL);
  if (event && !dst->host_pinned && cb__stage_wanted(src_node, bytes) &&
      cb__stage_read(src_node, (cl_mem)src->dev_handle, src->offset, to,
                     bytes, dst->owner, event) == 0)
    return -EAGAIN;
  /* Pinned pages are there already; walking them would cost about as
   * long as the copy (4.7 ms for 256 MiB on an H200 host), before it. */
  if (!dst->host_pinned)
    populate(&dst->v);
  int ret = 0;
  cl_int st = starpu_opencl_copy_opencl_to_ram(
      (cl_mem)src->dev_handle, src_node, to, dst_node, bytes, src->offset,
      event, &ret);
  if (st != CL_SUCCESS) {
    copy_failed(src_node, st, bytes, "from", dst->owner);
    return 0;
  }
  if (event && *event && ret == -EAGAIN && dst->owner)
    remember_read(*event, dst->owner);
  return ret;
}

static int tile_from_opencl_sync(void *src_interface, unsigned src_node,
                                 void *dst_interface, unsigned dst_node) {
  return tile_from_opencl(src_interface, src_node, dst_interface, dst_node,
                          NULL);
}

static int tile_to_opencl_sync(void *src_interface, unsigned src_node,
                               void *dst_interface, unsigned dst_node) {
  return tile_to_opencl(src_interface, src_node, dst_interface, dst_node,
                        NULL);
}

#if CB__MAPS
static int tile_map(void *src_interface, unsigned src_node,
                    void *dst_interface, unsigned dst_node) {
  if (lost_between(src_node, dst_node) < 0)
    return vector()->map_data(src_interface, src_node, dst_interface,
                              dst_node);
  atomic_fetch_add(&lost_ops, 1);
  return -ENOMEM; /* not mapped: StarPU allocates and copies instead */
}

static int tile_unmap(void *src_interface, unsigned src_node,
                      void *dst_interface, unsigned dst_node) {
  if (lost_between(src_node, dst_node) < 0)
    return vector()->unmap_data(src_interface, src_node, dst_interface,
                                dst_node);
  atomic_fetch_add(&lost_ops, 1);
  ((struct starpu_vector_interface *)dst_interface)->dev_handle = 0;
  return 0;
}

static int tile_update_map(void *src_interface, unsigned src_node,
                           void *dst_interface, unsigned dst_node) {
  if (lost_between(src_node, dst_node) < 0)
    return vector()->update_map(src_interface, src_node, dst_interface,
                                dst_node);
  atomic_fetch_add(&lost_ops, 1);
  return 0;
}
#endif

static void init_ops(void) {
  ops = *vector();
  memset(&copy_methods, 0, sizeof copy_methods);
  copy_methods.any_to_any = tile_copy;
  copy_methods.ram_to_opencl = tile_to_opencl_sync;
  copy_methods.ram_to_opencl_async = tile_to_opencl;
  copy_methods.opencl_to_ram = tile_from_opencl_sync;
  copy_methods.opencl_to_ram_async = tile_from_opencl;
  ops.copy_methods = &copy_methods;
  ops.register_data_handle = tile_register;
  ops.unregister_data_handle = tile_unregister;
  ops.allocate_data_on_node = tile_allocate;
  ops.free_data_on_node = tile_free;
#if CB__MAPS
  ops.map_data = tile_map;
  ops.unmap_data = tile_unmap;
  ops.update_map = tile_update_map;
#endif
  ops.interface_size = sizeof(tile_iface);
  ops.name = "CAMBRIAN_TILE_INTERFACE";
}

void cb__tile_register(starpu_data_handle_t *handle, int home_node,
                       uintptr_t ptr, uint32_t nx, size_t elemsize,
                       int host_pinned, cb_array *owner,
                       void (*drop)(cb_array *owner)) {
  pthread_once(&once, init_ops);
  tile_iface t = {.v = {.id = STARPU_VECTOR_INTERFACE_ID,
                        .ptr = ptr,
                        .dev_handle = ptr,
                        .offset = 0,
                        .nx = nx,
                        .elemsize = elemsize,
                        .slice_base = 0,
                        .allocsize = (size_t)nx * elemsize},
                  .owner = owner,
                  .drop = drop,
                  .host_pinned = host_pinned};
  starpu_data_register(handle, home_node, &t, &ops);
}
