/*
 * The one cache of OpenCL programs (see clprog.h): per OpenCL device, a
 * hash table of built kernels keyed by family and variant. Every status
 * is checked; a failed build is recorded on the task that asked for it,
 * never through StarPU's aborting report macros.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starpu.h>

#include "clasync.h"
#include "clprog.h"
#include "hooks.h"

typedef struct entry {
  uint64_t key;               /* family << 32 | variant */
  cl_program program;
  cb__clkernel k;
  struct entry *next;
} entry;

#define NBUCKETS 256
static struct device_cache {
  pthread_mutex_t lock;
  entry *buckets[NBUCKETS];
} caches[STARPU_MAXOPENCLDEVS] = {
    [0 ... STARPU_MAXOPENCLDEVS - 1] = {.lock = PTHREAD_MUTEX_INITIALIZER}};

/* Releases every program (a hook: just before StarPU stops). */
static void clear_all(void) {
  for (int d = 0; d < STARPU_MAXOPENCLDEVS; d++) {
    pthread_mutex_lock(&caches[d].lock);
    for (int b = 0; b < NBUCKETS; b++) {
      entry *e = caches[d].buckets[b];
      while (e) {
        entry *next = e->next;
        clReleaseKernel(e->k.kernel);
        clReleaseProgram(e->program);
        free(e);
        e = next;
      }
      caches[d].buckets[b] = NULL;
    }
    pthread_mutex_unlock(&caches[d].lock);
  }
}

/* Whether a failed build's log says that the compiler's temporary files
 * went away under it: pocl compiles with LLVM in the process, and LLVM's
 * SIGINT handler deletes the files of the build running before it passes
 * the signal on. The Ctrl-C still reaches Python; the build is tried
 * again. */
static int lost_temporaries(const char *log) {
  return log && (strstr(log, "unable to rename temporary") ||
                 strstr(log, "could not rename temporary"));
}

static cl_int build_once(int devid, const char *src, size_t len,
                         const char *options, cl_program *out, char **log);

cl_int cb__clprog_build(int devid, const char *src, size_t len,
                        const char *options, cl_program *out, char **log) {
  cl_int st = build_once(devid, src, len, options, out, log);
  for (int again = 0; st != CL_SUCCESS && again < 2 &&
                      lost_temporaries(*log);
       again++) {
    free(*log);
    st = build_once(devid, src, len, options, out, log);
  }
  return st;
}

static cl_int build_once(int devid, const char *src, size_t len,
                         const char *options, cl_program *out, char **log) {
  cl_context ctx;
  cl_device_id dev;
  starpu_opencl_get_context(devid, &ctx);
  starpu_opencl_get_device(devid, &dev);
  *out = NULL;
  *log = NULL;
  cl_int st;
  cl_program prog = clCreateProgramWithSource(ctx, 1, &src,
                                              len ? &len : NULL, &st);
  if (st != CL_SUCCESS)
    return st;
  /* pocl reads the environment as it builds (clasync.h, the gate). */
  cb__cl_gate_enter();
  st = clBuildProgram(prog, 1, &dev, options ? options : "", NULL, NULL);
  cb__cl_gate_leave();
  if (st != CL_SUCCESS) {
    size_t n = 0;
    if (clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, 0, NULL,
                              &n) == CL_SUCCESS &&
        (*log = calloc(1, n + 1)) &&
        clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, n, *log,
                              NULL) != CL_SUCCESS)
      (*log)[0] = '\0';
    clReleaseProgram(prog);
    return st;
  }
  *out = prog;
  return CL_SUCCESS;
}

/* Builds the entry; records a failure on c and returns NULL if it can't. */
static entry *build(cb__ctx *c, uint64_t key, int devid,
                    cb__clsource_fn source, const void *arg,
                    const char *options, const char *name,
                    const char *what) {
  /* Room for a complex kernel: the helpers of complex_cl.c take about 7
   * KiB before the kernel itself. */
  char src[16384];
  size_t len = source(arg, src, sizeof src);
  if (!len) {
    cb__ctx_fail(c, CB_EBUILD, 0, "the %s kernel's source is too long",
                 what);
    return NULL;
  }
  cl_program prog;
  char *log;
  cl_int st = cb__clprog_build(devid, src, len, options, &prog, &log);
  if (st != CL_SUCCESS) {
    cb__ctx_fail(c, log ? CB_EBUILD : CB_EDEVICE, st,
                 "building the %s kernel failed (%s): %.1500s", what,
                 cb_cl_status_name(st), log ? log : "");
    free(log);
    return NULL;
  }
  cl_device_id dev;
  starpu_opencl_get_device(devid, &dev);
  cl_device_type type = 0;
  size_t wg = 0;
  cl_kernel kernel = clCreateKernel(prog, name, &st);
  if (st == CL_SUCCESS)
    st = clGetKernelWorkGroupInfo(kernel, dev, CL_KERNEL_WORK_GROUP_SIZE,
                                  sizeof wg, &wg, NULL);
  if (st == CL_SUCCESS)
    st = clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof type, &type, NULL);
  entry *e = st == CL_SUCCESS ? malloc(sizeof *e) : NULL;
  if (!e) {
    cb__ctx_fail(c, st == CL_SUCCESS ? CB_ENOMEM : CB_EDEVICE, st,
                 "preparing the %s kernel failed: %s", what,
                 cb_cl_status_name(st));
    if (kernel)
      clReleaseKernel(kernel);
    clReleaseProgram(prog);
    return NULL;
  }
  *e = (entry){key, prog, {kernel, wg, (type & CL_DEVICE_TYPE_CPU) != 0},
               NULL};
  return e;
}

const cb__clkernel *cb__clprog_get(cb__ctx *c, int family, uint32_t key,
                                   int devid, cb__clsource_fn source,
                                   const void *arg, const char *options,
                                   const char *name, const char *what) {
  uint64_t k = (uint64_t)family << 32 | key;
  struct device_cache *dc = &caches[devid];
  entry **slot = &dc->buckets[(key ^ (key >> 8) ^ (key >> 16) ^
                               (uint32_t)family * 131u) % NBUCKETS];
  pthread_mutex_lock(&dc->lock);
  entry *e = *slot;
  while (e && e->key != k)
    e = e->next;
  if (!e && (e = build(c, k, devid, source, arg, options, name, what))) {
    e->next = *slot;
    *slot = e;
    cb__hook_add(CB__HOOK_RELEASE, clear_all); /* once; has room */
  }
  pthread_mutex_unlock(&dc->lock);
  return e ? &e->k : NULL;
}

cl_int cb__cl_outcome(cl_event ev) {
  cl_int exec = CL_SUCCESS;
  cl_int st = clWaitForEvents(1, &ev);
  /* A wait that fails while the event reads complete (NVIDIA's -9999
   * after a kernel's fault) is a failure of the command all the same;
   * one that says only that the event failed gives way to the event's
   * own status, when that names the failure. */
  if (st == CL_SUCCESS || st == CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST) {
    cl_int info = clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS,
                                 sizeof exec, &exec, NULL);
    if (info != CL_SUCCESS)
      st = info;
    else if (exec < 0)
      st = exec;
  }
  clReleaseEvent(ev);
  return st;
}

cl_int cb__cl_wait(cb__ctx *c, cl_event ev) {
  cl_int st = cb__cl_outcome(ev);
  if (cb__cl_completion_loses(st))
    c->lose = 1;
  return st;
}

cl_int cb__cl_finish(cb__ctx *c, cl_command_queue q) {
  cl_int st = clFinish(q);
  if (cb__cl_completion_loses(st))
    c->lose = 1;
  return st;
}

const char *cb__cl_type(cb_dtype t) {
  static const char *const cl[CB_NDTYPES] = {
      [CB_BOOL] = "uchar",   [CB_INT8] = "char",     [CB_INT16] = "short",
      [CB_INT32] = "int",    [CB_INT64] = "long",    [CB_UINT8] = "uchar",
      [CB_UINT16] = "ushort", [CB_UINT32] = "uint",  [CB_UINT64] = "ulong",
      [CB_FLOAT32] = "float", [CB_FLOAT64] = "double",
      [CB_COMPLEX64] = "float2", [CB_COMPLEX128] = "double2",
      [CB_FLOAT16] = "half"};
  return (unsigned)t < CB_NDTYPES ? cl[t] : "uchar";
}
