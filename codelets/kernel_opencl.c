/*
 * Custom OpenCL kernels on a device: building a kernel's source there
 * (once per runtime, under the kernel's lock), reading its parameters, and
 * running a launch job. Every OpenCL status is checked and recorded on
 * the job; nothing here aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CL/cl.h>

#include "clasync.h"
#include "clprog.h"
#include "devtab.h"
#include "kernel_codelets.h"

/* The assertion record: a flag, the line, the work-item's three ids. */
enum { ASSERT_INTS = 5 };

static void kbuild_release(cb__kbuild *b) {
  if (b->kernel)
    clReleaseKernel((cl_kernel)b->kernel);
  if (b->program)
    clReleaseProgram((cl_program)b->program);
  if (b->assert_buf)
    clReleaseMemObject((cl_mem)b->assert_buf);
  free(b->log);
  free(b->params);
  *b = (cb__kbuild){0};
}

static int fail_build(cb__kbuild *b, cl_int st, const char *what) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, cb_cl_status_name(st));
  b->status = st;
  b->log = strdup(msg);
  return st;
}

static void read_params(cb__kbuild *b, cl_kernel kernel, int hidden) {
  cl_uint n = 0;
  if (clGetKernelInfo(kernel, CL_KERNEL_NUM_ARGS, sizeof n, &n, NULL) !=
          CL_SUCCESS ||
      n < (cl_uint)hidden) {
    b->nparams = -1;
    return;
  }
  b->nparams = (int)n - hidden;
  b->params = calloc((size_t)(b->nparams ? b->nparams : 1),
                     sizeof *b->params);
  if (!b->params) {
    b->nparams = -1;
    return;
  }
  for (int i = 0; i < b->nparams; i++) {
    cb_kernel_param *p = &b->params[i];
    cl_kernel_arg_address_qualifier aq = CL_KERNEL_ARG_ADDRESS_PRIVATE;
    clGetKernelArgInfo(kernel, (cl_uint)(i + hidden),
                       CL_KERNEL_ARG_ADDRESS_QUALIFIER, sizeof aq, &aq,
                       NULL);
    p->is_buffer = aq == CL_KERNEL_ARG_ADDRESS_GLOBAL ||
                   aq == CL_KERNEL_ARG_ADDRESS_CONSTANT;
    p->is_local = aq == CL_KERNEL_ARG_ADDRESS_LOCAL;
    /* Without argument information (some drivers), only counts. */
    if (clGetKernelArgInfo(kernel, (cl_uint)(i + hidden),
                           CL_KERNEL_ARG_TYPE_NAME, sizeof p->type - 1,
                           p->type, NULL) != CL_SUCCESS)
      p->type[0] = 0;
    if (clGetKernelArgInfo(kernel, (cl_uint)(i + hidden),
                           CL_KERNEL_ARG_NAME, sizeof p->name - 1, p->name,
                           NULL) != CL_SUCCESS)
      snprintf(p->name, sizeof p->name, "arg%d", i);
  }
}

static int build(cb__kprog *k, int device, cb__kbuild *b) {
  int devid = cb__devices[device].opencl_devid;
  cl_context ctx;
  starpu_opencl_get_context(devid, &ctx);
  b->gen = atomic_load(&cb__devtab_gen);
  char options[1024];
  snprintf(options, sizeof options, "-cl-kernel-arg-info %s",
           k->options ? k->options : "");
  cl_program prog;
  char *log;
  cl_int st = cb__clprog_build(devid, k->source, 0, options, &prog, &log);
  if (st != CL_SUCCESS && !log)
    return fail_build(b, st, "clCreateProgramWithSource");
  if (st != CL_SUCCESS) {
    b->status = st;
    b->log = log;
    return st;
  }
  b->program = prog;
  cl_kernel kernel = clCreateKernel(prog, k->name, &st);
  if (st != CL_SUCCESS)
    return fail_build(b, st, "clCreateKernel (is the kernel's name right?)");
  b->kernel = kernel;
  if (k->asserts) {
    b->assert_buf = clCreateBuffer(ctx, CL_MEM_READ_WRITE,
                                   ASSERT_INTS * sizeof(cl_int), NULL, &st);
    if (st != CL_SUCCESS)
      return fail_build(b, st, "clCreateBuffer for assertions");
  }
  read_params(b, kernel, k->asserts);
  return 0;
}

cb__kbuild *cb__kprog_build_locked(cb__kprog *k, int device) {
  cb__kbuild *b = &k->dev[device];
  if (b->gen != atomic_load(&cb__devtab_gen)) {
    /* Built by an earlier runtime, whose context is gone. */
    *b = (cb__kbuild){0};
    build(k, device, b);
  }
  return b;
}

/* Sets the kernel's arguments and gathers arrays; bufs get the device
 * buffers to scatter. Returns a CL status. */
static cl_int set_args(cb__job *j, cb__launch *L, cb__kbuild *b,
                       void *buffers[], cl_command_queue q,
                       cb__clbuf *bufs) {
  cl_kernel kernel = (cl_kernel)b->kernel;
  cl_uint at = 0;
  cl_int st = CL_SUCCESS;
  if (b->assert_buf) {
    cl_mem m = (cl_mem)b->assert_buf;
    cl_int zero = 0;
    st = clEnqueueFillBuffer(q, m, &zero, sizeof zero, 0,
                             ASSERT_INTS * sizeof zero, 0, NULL, NULL);
    if (st == CL_SUCCESS)
      st = clSetKernelArg(kernel, at++, sizeof m, &m);
  }
  for (int i = 0; i < L->nargs && st == CL_SUCCESS; i++) {
    const cb_arg *a = &L->args[i];
    if (!a->array) { /* a scalar, or local memory: a size, no value */
      st = clSetKernelArg(kernel, at++, a->size,
                          a->local ? NULL : a->value.bytes);
      continue;
    }
    cb__clbuf *cb = &bufs[L->job_arg[i]];
    if (!cb->mem)
      st = cb__job_cl_gather(j, L->job_arg[i], buffers, q, 0, -1, cb);
    if (st == CL_SUCCESS)
      st = clSetKernelArg(kernel, at++, sizeof cb->mem, &cb->mem);
  }
  return st;
}

/* What a kernel's end needs: the record of its assertions, read back. */
typedef struct kernel_end {
  const cb__kprog *k;
  cl_int rec[ASSERT_INTS];
} kernel_end;

static void kernel_ended(cb__ctx *c, cl_int st, void *arg) {
  kernel_end *e = arg;
  if (st != CL_SUCCESS)
    cb__ctx_fail(c, CB_EDEVICE, st, "kernel %s on %s: the kernel failed: %s",
                 e->k->name, cb__ctx_device_name(c), cb_cl_status_name(st));
  else if (e->rec[0])
    cb__ctx_fail_assert(c, e->k->name, e->rec[1], e->rec[2], e->rec[3],
                        e->rec[4]);
  free(e);
}

/* Ends a kernel whose arrays are used in place (nothing to scatter
 * after it) without waiting for it: the record of its assertions is read
 * behind it and looked at once both ended (clasync.h). Returns 0 when
 * the caller must end it itself (ev untouched). */
static int end_later(cb__job *j, const cb__kprog *k, const cb__kbuild *b,
                     cl_command_queue q, const cb__clbuf *bufs,
                     cl_event ev) {
  for (int i = 0; i < j->nargs; i++)
    if (bufs[i].scratch)
      return 0;
  kernel_end *e = calloc(1, sizeof *e);
  if (!e)
    return 0;
  e->k = k;
  cl_event last = ev;
  if (b->assert_buf) {
    cl_event read;
    if (clEnqueueReadBuffer(q, (cl_mem)b->assert_buf, CL_FALSE, 0,
                            sizeof e->rec, e->rec, 0, NULL,
                            &read) != CL_SUCCESS) {
      free(e);
      return 0;
    }
    clReleaseEvent(ev);
    last = read;
  }
  cb__cl_end_then(&j->ctx, last, kernel_ended, e);
  return 1;
}

void cb__kernel_run(cb__job *j, void *buffers[]) {
  cb__launch *L = j->payload;
  cb__kprog *k = L->prog;
  int device = cb__ctx_device(&j->ctx);
  int devid = starpu_worker_get_devid(starpu_worker_get_id());
  pthread_mutex_lock(&k->lock);
  cb__kbuild *b = cb__kprog_build_locked(k, device);
  pthread_mutex_unlock(&k->lock);
  if (b->status) {
    cb__ctx_fail(&j->ctx, CB_EBUILD, b->status, "%s",
                 b->log ? b->log : "the kernel failed to build");
    return;
  }
  cl_command_queue q;
  starpu_opencl_get_queue(devid, &q);
  cb__clbuf *bufs = calloc((size_t)(j->nargs ? j->nargs : 1), sizeof *bufs);
  if (!bufs) {
    cb__ctx_fail(&j->ctx, CB_ENOMEM, 0, "out of host memory");
    return;
  }
  const char *what = "setting the kernel's arguments";
  cl_int st = set_args(j, L, b, buffers, q, bufs);
  cl_event ev;
  if (st == CL_SUCCESS) {
    what = "clEnqueueNDRangeKernel";
    st = clEnqueueNDRangeKernel(q, (cl_kernel)b->kernel,
                                (cl_uint)L->work_dim, NULL, L->global,
                                L->has_local ? L->local : NULL, 0, NULL,
                                &ev);
    if (st == CL_SUCCESS && end_later(j, k, b, q, bufs, ev)) {
      free(bufs);
      return;
    }
    if (st == CL_SUCCESS) {
      what = "the kernel";
      st = cb__cl_wait(&j->ctx, ev);
    }
  }
  cl_int rec[ASSERT_INTS] = {0};
  if (st == CL_SUCCESS && b->assert_buf) {
    what = "reading the assertion record";
    st = clEnqueueReadBuffer(q, (cl_mem)b->assert_buf, CL_TRUE, 0,
                             sizeof rec, rec, 0, NULL, NULL);
    /* A blocking read after the kernel: it fails as a wait would. */
    if (cb__cl_completion_loses(st))
      j->ctx.lose = 1;
  }
  for (int i = 0; i < j->nargs; i++) {
    cl_int sc = CL_SUCCESS;
    if (bufs[i].mem && st == CL_SUCCESS && !rec[0])
      sc = cb__job_cl_scatter(j, i, buffers, q, &bufs[i]);
    else
      cb__job_cl_release(&bufs[i]);
    if (sc != CL_SUCCESS && st == CL_SUCCESS) {
      what = "copying a result back";
      st = sc;
    }
  }
  free(bufs);
  if (st != CL_SUCCESS) {
    cb__ctx_fail(&j->ctx, CB_EDEVICE, st,
                 "kernel %s on %s: %s failed: %s", k->name,
                 cb__ctx_device_name(&j->ctx), what,
                 cb_cl_status_name(st));
    return;
  }
  if (rec[0])
    cb__ctx_fail_assert(&j->ctx, k->name, rec[1], rec[2], rec[3], rec[4]);
}

void cb__kprog_release(cb__kprog *p) {
  for (int d = 0; d < CB__MAX_DEVICES; d++)
    if (p->dev[d].gen)
      kbuild_release(&p->dev[d]);
}
