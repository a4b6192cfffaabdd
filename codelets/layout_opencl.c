/*
 * Layout copies on OpenCL devices: one kernel per element size, whose
 * work-item i finds its index in the destination's shape, then the
 * element it reads and the one it writes (dividing by multiplying where
 * every index is below 2^32, udiv.h). The layout travels by value.
 * Both arrays are gathered into one buffer each when they have several
 * tiles. Every status is checked and recorded on the job.
 */
#include <CL/cl.h>
#include <starpu.h>

#include "clprog.h"
#include "errors.h"
#include "layout_codelets.h"
#include "udiv.h"

/* The kernel's view of the layout: the same fields in the same order. */
typedef struct {
  cl_long shape[CB_MAX_NDIM];
  cl_long from[CB_MAX_NDIM];
  cl_long to[CB_MAX_NDIM];
  cl_long from_offset, to_offset, count;
  cl_uint m[CB_MAX_NDIM], sh[CB_MAX_NDIM]; /* divisors of shape (udiv.h) */
  cl_int ndim, narrow;        /* narrow: every index below 2^32 */
} cl_layout;

static size_t kernel_source(const void *arg, char *buf, size_t cap) {
  int elem = *(const int *)arg;
  const char *type = elem == 1   ? "uchar"
                     : elem == 2 ? "ushort"
                     : elem == 4 ? "uint"
                     : elem == 8 ? "ulong"
                                 : "ulong2";
  size_t len = 0;
  cb__put(buf, cap, &len,
      "#define E %s\n#define MAXD %d\n%s"
      "typedef struct { long shape[MAXD], from[MAXD], to[MAXD];\n"
      "  long from_offset, to_offset, count;\n"
      "  uint m[MAXD], sh[MAXD]; int ndim, narrow; } layout;\n"
      "__kernel void cb_layout(__global const E *src, __global E *dst,\n"
      "                        const layout l) {\n"
      "  long i = (long)get_global_id(0);\n"
      "  if (i >= l.count)\n"
      "    return;\n"
      "  long s = l.from_offset, d = l.to_offset;\n"
      "  if (l.narrow) {\n"
      "    uint r = (uint)i;\n"
      "    for (int k = l.ndim - 1; k > 0; k--) {\n"
      "      const uint q = cb_udiv(r, l.m[k], l.sh[k]);\n"
      "      const long x = (long)(r - q * (uint)l.shape[k]);\n"
      "      r = q;\n"
      "      s += x * l.from[k];\n"
      "      d += x * l.to[k];\n"
      "    }\n"
      "    s += (long)r * l.from[0];\n"
      "    d += (long)r * l.to[0];\n"
      "  } else {\n"
      "    for (int k = l.ndim - 1; k >= 0; k--) {\n"
      "      long n = l.shape[k], x = i %% n;\n"
      "      i /= n;\n"
      "      s += x * l.from[k];\n"
      "      d += x * l.to[k];\n"
      "    }\n"
      "  }\n"
      "  dst[d] = src[s];\n"
      "}\n",
      type, CB_MAX_NDIM, cb__udiv_cl_source);
  return len < cap ? len : 0;
}

/* Whether both of c's layouts reach their elements in one run, in C
 * order: then a copy of bytes does the kernel's work. */
static int one_run(const cb__layout_copy *c) {
  int64_t want = 1;
  for (int d = c->ndim - 1; d >= 0; d--) {
    if (c->shape[d] > 1 && (c->from[d] != want || c->to[d] != want))
      return 0;
    want *= c->shape[d];
  }
  return 1;
}

/* The kernel over the gathered buffers (a cb__job_cl_pair_fn; arg is
 * the built kernel). */
static cl_int layout_run(cb__job *j, cl_command_queue q, const cb__clbuf *src,
                         const cb__clbuf *dst, const void *arg,
                         const char **what) {
  const cb__layout_copy *c = j->payload;
  const cb__clkernel *e = arg;
  cl_event ev;
  if (one_run(c)) {
    *what = "the copy";
    size_t es = (size_t)c->elem;
    cl_int st = clEnqueueCopyBuffer(
        q, src->mem, dst->mem, src->offset + (size_t)c->from_offset * es,
        dst->offset + (size_t)c->to_offset * es, (size_t)c->count * es, 0,
        NULL, &ev);
    return st == CL_SUCCESS ? cb__cl_wait(&j->ctx, ev) : st;
  }
  cl_layout l = {.from_offset = c->from_offset +
                                (cl_long)(src->offset / (size_t)c->elem),
                 .to_offset = c->to_offset +
                              (cl_long)(dst->offset / (size_t)c->elem),
                 .count = c->count, .ndim = c->ndim,
                 .narrow = (uint64_t)c->count <= UINT32_MAX};
  for (int d = 0; d < c->ndim; d++) {
    l.shape[d] = c->shape[d];
    l.from[d] = c->from[d];
    l.to[d] = c->to[d];
    l.narrow = cb__udiv_magic(c->shape[d], &l.m[d], &l.sh[d]) && l.narrow;
  }
  *what = "setting the kernel's arguments";
  cl_int st = clSetKernelArg(e->kernel, 0, sizeof src->mem, &src->mem);
  if (st == CL_SUCCESS)
    st = clSetKernelArg(e->kernel, 1, sizeof dst->mem, &dst->mem);
  if (st == CL_SUCCESS)
    st = clSetKernelArg(e->kernel, 2, sizeof l, &l);
  if (st != CL_SUCCESS)
    return st;
  *what = "the copy kernel";
  size_t local, global = cb__cl_range(e, 256, (size_t)c->count, &local);
  st = clEnqueueNDRangeKernel(q, e->kernel, 1, NULL, &global, &local, 0,
                              NULL, &ev);
  return st == CL_SUCCESS ? cb__cl_wait(&j->ctx, ev) : st;
}

void cb__layout_copy_opencl(cb__job *j, void *buffers[]) {
  const cb__layout_copy *c = j->payload;
  int devid = starpu_worker_get_devid(starpu_worker_get_id());
  if (c->count == 0)
    return;
  const cb__clkernel *e = cb__clprog_get(
      &j->ctx, CB__CLP_LAYOUT, (uint32_t)c->elem, devid, kernel_source,
      &c->elem, "", "cb_layout", j->ctx.name);
  if (e)
    cb__job_cl_pair(j, buffers, layout_run, e);
}
