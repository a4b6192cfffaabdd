/*
 * OpenCL side of jobs: an array whose tiles are separate device buffers is
 * gathered into one buffer before the job's kernel (a scratch buffer of
 * the device's, or one of its own) and scattered back after it when the
 * job writes it. An array of one tile is used in place. Every status is
 * returned to the caller, which records it.
 */
#include <CL/cl.h>
#include <starpu.h>

#include "clprog.h"
#include "job_codelets.h"
#include "scratch.h"

cl_int cb__job_cl_gather(const cb__job *j, int i, void *buffers[],
                         cl_command_queue q, int accept_offset, int slot,
                         cb__clbuf *out) {
  const cb__job_arg *g = &j->args[i];
  *out = (cb__clbuf){0};
  if (g->ntiles == 1 &&
      (accept_offset || STARPU_VECTOR_GET_OFFSET(buffers[g->first]) == 0)) {
    out->mem = (cl_mem)STARPU_VECTOR_GET_DEV_HANDLE(buffers[g->first]);
    out->offset = STARPU_VECTOR_GET_OFFSET(buffers[g->first]);
    return CL_SUCCESS;
  }
  /* An empty array still gets a buffer: kernels take an address. */
  size_t bytes = g->nbytes ? g->nbytes : 16;
  cl_int st;
  if (slot >= 0) {
    out->mem = cb__scratch(q, slot, bytes, &st);
    if (st != CL_SUCCESS)
      return st;
    out->scratch = 2;
  } else {
    cl_context ctx;
    st = clGetCommandQueueInfo(q, CL_QUEUE_CONTEXT, sizeof ctx, &ctx, NULL);
    if (st != CL_SUCCESS)
      return st;
    out->mem = clCreateBuffer(ctx, CL_MEM_READ_WRITE, bytes, NULL, &st);
    if (st != CL_SUCCESS)
      return st;
    out->scratch = 1;
  }
  if (!(g->mode & CB__READ))
    return CL_SUCCESS;
  size_t at = 0;
  for (int t = 0; t < g->ntiles && st == CL_SUCCESS; t++) {
    void *b = buffers[g->first + t];
    size_t n = STARPU_VECTOR_GET_NX(b) * STARPU_VECTOR_GET_ELEMSIZE(b);
    st = clEnqueueCopyBuffer(q, (cl_mem)STARPU_VECTOR_GET_DEV_HANDLE(b),
                             out->mem, STARPU_VECTOR_GET_OFFSET(b), at, n, 0,
                             NULL, NULL);
    at += n;
  }
  return st;
}

cl_int cb__job_cl_scatter(const cb__job *j, int i, void *buffers[],
                          cl_command_queue q, cb__clbuf *buf) {
  const cb__job_arg *g = &j->args[i];
  cl_int st = CL_SUCCESS;
  if (!buf->scratch)
    return st;
  size_t at = 0;
  for (int t = 0; (g->mode & CB__WRITE) && t < g->ntiles &&
                  st == CL_SUCCESS; t++) {
    void *b = buffers[g->first + t];
    size_t n = STARPU_VECTOR_GET_NX(b) * STARPU_VECTOR_GET_ELEMSIZE(b);
    st = clEnqueueCopyBuffer(q, buf->mem,
                             (cl_mem)STARPU_VECTOR_GET_DEV_HANDLE(b), at,
                             STARPU_VECTOR_GET_OFFSET(b), n, 0, NULL, NULL);
    at += n;
  }
  /* The task ends once the copies have: wait for them (a release would
   * too). */
  if (st == CL_SUCCESS && (g->mode & CB__WRITE))
    st = clFinish(q);
  cl_int rel = CL_SUCCESS;
  if (buf->scratch == 1)
    rel = clReleaseMemObject(buf->mem);
  buf->mem = NULL;
  buf->scratch = 0;
  return st != CL_SUCCESS ? st : rel;
}

void cb__job_cl_release(cb__clbuf *buf) {
  if (buf->scratch == 1)
    clReleaseMemObject(buf->mem); /* status: no use */
  buf->mem = NULL;
  buf->scratch = 0;
}

void cb__job_cl_pair(cb__job *j, void *buffers[], cb__job_cl_pair_fn run,
                     const void *arg) {
  int devid = starpu_worker_get_devid(starpu_worker_get_id());
  cl_command_queue q;
  starpu_opencl_get_queue(devid, &q);
  cb__clbuf src = {0}, dst = {0};
  const char *what = "gathering the source";
  cl_int st = cb__job_cl_gather(j, 0, buffers, q, 1, CB__SCRATCH_A, &src);
  if (st == CL_SUCCESS) {
    what = "gathering the destination";
    st = cb__job_cl_gather(j, 1, buffers, q, 1, CB__SCRATCH_B, &dst);
  }
  if (st == CL_SUCCESS)
    st = run(j, q, &src, &dst, arg, &what);
  if (st == CL_SUCCESS && dst.scratch)
    st = cb__job_cl_scatter(j, 1, buffers, q, &dst);
  cb__job_cl_release(&dst);
  cb__job_cl_release(&src);
  if (st != CL_SUCCESS)
    cb__ctx_fail(&j->ctx, CB_EDEVICE, st, "%s on %s: %s failed: %s",
                 j->ctx.name, cb__ctx_device_name(&j->ctx), what,
                 cb_cl_status_name(st));
}

/* The copy of equal sizes, for cb__job_cl_copy. */
static cl_int copy_run(cb__job *j, cl_command_queue q, const cb__clbuf *src,
                       const cb__clbuf *dst, const void *arg,
                       const char **what) {
  (void)arg;
  if (!j->args[0].nbytes)
    return CL_SUCCESS;
  *what = "the copy";
  cl_event ev;
  cl_int st = clEnqueueCopyBuffer(q, src->mem, dst->mem, src->offset,
                                  dst->offset, j->args[0].nbytes, 0, NULL,
                                  &ev);
  return st == CL_SUCCESS ? cb__cl_wait(&j->ctx, ev) : st;
}

void cb__job_cl_copy(cb__job *j, void *buffers[]) {
  cb__job_cl_pair(j, buffers, copy_run, NULL);
}
