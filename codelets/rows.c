/*
 * Row copies (see rows_codelets.h): on a CPU worker one memcpy per run,
 * on an OpenCL device one buffer copy per run on the device's queue, the
 * last one's event ending the task. Every status is checked and recorded
 * on the task.
 */
#include <string.h>

#include <CL/cl.h>

#include "clasync.h"
#include "rows_codelets.h"

static void rows_cpu(void *buffers[], void *cl_arg) {
  cb__rows_task *t = cl_arg;
  if (cb__ctx_skip(&t->ctx))
    return;
  void *out = buffers[t->nruns];
  size_t es = STARPU_VECTOR_GET_ELEMSIZE(out);
  char *to = (char *)STARPU_VECTOR_GET_PTR(out);
  for (int i = 0; i < t->nruns; i++) {
    const char *from = (const char *)STARPU_VECTOR_GET_PTR(buffers[i]);
    memcpy(to, from + (size_t)t->from[i] * es, (size_t)t->count[i] * es);
    to += (size_t)t->count[i] * es;
  }
}

static void rows_opencl(void *buffers[], void *cl_arg) {
  cb__rows_task *t = cl_arg;
  if (cb__ctx_skip(&t->ctx))
    return;
  int devid = starpu_worker_get_devid(starpu_worker_get_id());
  cl_command_queue q;
  starpu_opencl_get_queue(devid, &q);
  void *out = buffers[t->nruns];
  size_t es = STARPU_VECTOR_GET_ELEMSIZE(out);
  cl_mem dst = (cl_mem)STARPU_VECTOR_GET_DEV_HANDLE(out);
  size_t at = STARPU_VECTOR_GET_OFFSET(out);
  cl_event ev = NULL;
  cl_int st = CL_SUCCESS;
  for (int i = 0; st == CL_SUCCESS && i < t->nruns; i++) {
    void *in = buffers[i];
    size_t bytes = (size_t)t->count[i] * es;
    st = clEnqueueCopyBuffer(
        q, (cl_mem)STARPU_VECTOR_GET_DEV_HANDLE(in), dst,
        STARPU_VECTOR_GET_OFFSET(in) + (size_t)t->from[i] * es, at, bytes, 0,
        NULL, i == t->nruns - 1 ? &ev : NULL);
    at += bytes;
  }
  if (st != CL_SUCCESS) {
    /* Copies already enqueued must end before the task does. */
    clFinish(q);
    cb__ctx_fail(&t->ctx, CB_EDEVICE, st, "clEnqueueCopyBuffer: %s",
                 cb_cl_status_name(st));
    return;
  }
  cb__cl_end(&t->ctx, ev, "roll");
}

static void rows_opencl_async(void *buffers[], void *cl_arg) {
  cb__cl_async_begin();
  rows_opencl(buffers, cl_arg);
  cb__cl_async_end();
}

static struct starpu_perfmodel rows_model = {.type = STARPU_HISTORY_BASED,
                                             .symbol = "cambrian_rows"};

struct starpu_codelet cb__rows_codelet = {
    .where = STARPU_CPU | STARPU_OPENCL,
    .cpu_funcs = {rows_cpu},
    .opencl_funcs = {rows_opencl_async},
    .opencl_flags = {CB__CL_ASYNC},
    .nbuffers = STARPU_VARIABLE_NBUFFERS,
    .model = &rows_model,
    .name = "rows"};
