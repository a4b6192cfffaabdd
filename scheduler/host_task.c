/*
 * Host functions as tasks: a function of the caller's runs on a CPU worker
 * over the host data of its arrays, ordered by StarPU like any other task
 * that reads or writes them, and its failure enters the error channel.
 */
#include <stdlib.h>

#include "arrays.h"
#include "devtab.h"
#include "errors.h"
#include "job_codelets.h"
#include "jobs.h"
#include "runtime.h"
#include "taskctx.h"

typedef struct host_call {
  cb_task_fn fn;
  void *arg;
  void (*release)(void *arg);
  int failed;                 /* cb_task_fail was called */
  void *ptrs[];
} host_call;

struct cb_task_ctx {
  cb__job job;
};

uint64_t cb_task_fail(cb_task_ctx *ctx, int code, const char *message) {
  host_call *h = ctx->job.payload;
  h->failed = 1;
  return cb__ctx_fail(&ctx->job.ctx, code ? code : CB_ETASK, 0, "%s",
                      message ? message : "the task failed");
}

static void run(cb__job *j, void *buffers[]) {
  host_call *h = j->payload;
  for (int i = 0; i < j->nargs; i++)
    h->ptrs[i] = cb__job_host_ptr(j, i, buffers);
  if (h->fn(h->arg, h->ptrs, (cb_task_ctx *)j) && !h->failed)
    cb__ctx_fail(&j->ctx, CB_ETASK, 0, "%s failed", j->name);
}

static void release(cb__job *j) {
  host_call *h = j->payload;
  if (h->release)
    h->release(h->arg);
  free(h);
}

int cb_task_submit(cb_task_fn fn, void *arg, void (*release_fn)(void *arg),
                   const cb_array *const *arrays, const cb_access *access,
                   int narrays, const cb_task_opts *opts, cb_event **out,
                   cb_array **token) {
  cb_task_opts o = {.name = "task", .device = -1};
  if (opts)
    o = *opts;
  int rc = 0;
  host_call *h = NULL;
  cb__job *j = NULL;
  if (!fn || narrays < 0) {
    rc = cb__fail(CB_EINVAL, "a task needs a function");
    goto fail;
  }
  if ((rc = o.nonblocking ? cb__try_enter() : cb__enter()))
    goto fail;
  if (o.device >= cb__ndevices ||
      (o.device >= 0 &&
       cb__devices[o.device].info.backend != CB_BACKEND_CPU)) {
    rc = cb__fail(CB_ENODEV, "functions run on CPU workers only");
    goto leave;
  }
  int nall = narrays + (token != NULL);
  h = calloc(1, sizeof *h + (size_t)nall * sizeof(void *));
  j = h ? cb__job_new(o.name ? o.name : "task", nall) : NULL;
  if (!j) {
    rc = cb__fail(CB_ENOMEM, "out of host memory");
    goto leave;
  }
  *h = (host_call){.fn = fn, .arg = arg, .release = release_fn};
  j->payload = h;
  j->release = release;
  j->run_cpu = run;
  j->ctx.device = o.device; /* its arrays are tiled for it */
  h = NULL; /* the job owns it, and releases arg */
  for (int i = 0; i < narrays && rc == 0; i++) {
    if (access[i] < CB_IN || access[i] > CB_INOUT)
      rc = cb__fail(CB_EINVAL, "argument %d has no access", i);
    else
      rc = cb__job_set_arg(j, i, (cb_array *)arrays[i], (int)access[i]);
  }
  cb_array *tok = NULL;
  int64_t one = 1;
  if (rc == 0 && token &&
      (rc = cb__array_new_registered(CB_BOOL, 1, &one, -1, 0, &tok)) == 0) {
    rc = cb__job_set_arg(j, narrays, tok, CB__WRITE);
    if (rc)
      cb_array_unref(tok);
  }
  if (rc) {
    cb__job_free(j);
    goto leave;
  }
  /* A call without arrays needs no data moved: only CPU workers wake. */
  for (int d = 0; narrays == 0 && d < cb__ndevices; d++)
    if (cb__devices[d].info.backend == CB_BACKEND_CPU)
      j->ctx.busy_device = d;
  rc = cb__job_submit(j, j->name, STARPU_CPU, o.device, -1, o.priority,
                      out);
  if (rc)
    cb_array_unref(tok);
  else if (token)
    *token = tok;
leave:
  cb__leave();
  if (h || (rc && !j))
    goto fail;
  return rc;
fail:
  free(h);
  if (release_fn)
    release_fn(arg);
  return rc;
}
