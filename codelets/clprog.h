/*
 * The one cache of OpenCL programs: every generated kernel (element-wise
 * variants, reductions) is built once per device and runtime, found again
 * by its family and key, and released at shutdown through a hook. User
 * kernels build through the same function and keep their programs with
 * themselves.
 *
 * Locking: each device's cache has its own lock; a build happens under
 * it, so concurrent first uses build once.
 */
#ifndef CAMBRIAN_CODELETS_CLPROG_H
#define CAMBRIAN_CODELETS_CLPROG_H

#include <stddef.h>
#include <stdint.h>

#include <CL/cl.h>

#include "taskctx.h"

/* A built kernel of the cache. */
typedef struct cb__clkernel {
  cl_kernel kernel;
  size_t wg;                  /* CL_KERNEL_WORK_GROUP_SIZE */
  int cpu;                    /* the device is of CPU type */
} cb__clkernel;

/* A range of n work-items for e's kernel, in groups of want work-items
 * (as many as the kernel allows, when fewer): sets *local and returns the
 * global size, n rounded up to whole groups, whose last work-items the
 * kernel must leave idle. */
static inline size_t cb__cl_range(const cb__clkernel *e, size_t want,
                                  size_t n, size_t *local) {
  *local = want < e->wg ? want : e->wg ? e->wg : 1;
  return (n + *local - 1) / *local * *local;
}

/* Families of generated kernels (the key's namespace). */
enum {
  CB__CLP_EWISE,
  CB__CLP_REDUCE,
  CB__CLP_LAYOUT,
  CB__CLP_EWISE_STRIDED,
  CB__CLP_FUSED
};

/* Writes the source of the variant arg describes into buf (cap bytes);
 * returns its length, or 0 when it does not fit. */
typedef size_t (*cb__clsource_fn)(const void *arg, char *buf, size_t cap);

/* The kernel entry of family and key for the OpenCL device devid (StarPU's
 * id), built from source(arg) with options on first use. A failure is
 * recorded on c (what names the kernel in messages) and NULL returned. */
const cb__clkernel *cb__clprog_get(cb__ctx *c, int family, uint32_t key,
                                   int devid, cb__clsource_fn source,
                                   const void *arg, const char *options,
                                   const char *entry, const char *what);

/* Builds a program from len bytes of src (len 0: NUL-terminated) for
 * devid; on failure returns the status and, for a failed compilation,
 * the build log in *log (malloc'd; NULL when none could be read). */
cl_int cb__clprog_build(int devid, const char *src, size_t len,
                        const char *options, cl_program *out, char **log);

/* Waits for ev, releases it, and returns the command's final status: the
 * wait's, or the event's (on NVIDIA a failed command's event may read
 * CL_COMPLETE while the wait fails, and a failed wait for a failed event
 * names no cause). */
cl_int cb__cl_outcome(cl_event ev);
/* cb__cl_outcome; a command that failed while it executed also marks c
 * (c->lose) so that the failure it records loses the device
 * (devloss.h). */
cl_int cb__cl_wait(cb__ctx *c, cl_event ev);
/* clFinish(q), with the same rule for what it reports. */
cl_int cb__cl_finish(cb__ctx *c, cl_command_queue q);

/* The OpenCL C type of a dtype's elements, for generated sources: bool is
 * "uchar". */
const char *cb__cl_type(cb_dtype t);

#endif
