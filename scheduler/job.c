/*
 * Jobs: tasks over whole arrays. A kernel, a Python function, a BLAS call
 * or a reduction's last step sees each of its arrays entire; the task
 * takes every tile of every array as a buffer. On CPU workers the tiles of
 * an array are adjacent in its host buffer, so the array is used in place;
 * OpenCL codelets gather tiles into one buffer when there are several
 * (codelets/job_opencl.c).
 *
 * Each kind of job has its codelet and its history-based performance
 * model, named after the operation, kept until the process ends (StarPU
 * keeps pointers to models across runtimes).
 *
 * Locking: kinds_lock guards the list of codelets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrays.h"
#include "clasync.h"
#include "devices.h"
#include "distributed.h"
#include "drivers.h"
#include "errors.h"
#include "events.h"
#include "ewise.h"
#include "job_codelets.h"
#include "jobs.h"
#include "task_end.h"
#include "taskctx.h"
#include "lazy.h"

typedef struct kind {
  struct starpu_codelet cl;
  struct starpu_perfmodel model;
  char symbol[96];
  struct kind *next;
} kind;

static pthread_mutex_t kinds_lock = PTHREAD_MUTEX_INITIALIZER;
static kind *kinds;

static void job_cpu(void *buffers[], void *cl_arg);
static void job_opencl(void *buffers[], void *cl_arg);

struct starpu_codelet *cb__job_codelet(const char *symbol) {
  pthread_mutex_lock(&kinds_lock);
  kind *k = kinds;
  while (k && strcmp(k->cl.name, symbol) != 0)
    k = k->next;
  if (!k && (k = calloc(1, sizeof *k))) {
    snprintf(k->symbol, sizeof k->symbol, "cambrian_%s", symbol);
    k->model.type = STARPU_HISTORY_BASED;
    k->model.symbol = k->symbol;
    k->cl.where = STARPU_CPU | STARPU_OPENCL;
    k->cl.cpu_funcs[0] = job_cpu;
    k->cl.opencl_funcs[0] = job_opencl;
    k->cl.opencl_flags[0] = CB__CL_ASYNC;
    k->cl.nbuffers = STARPU_VARIABLE_NBUFFERS;
    k->cl.model = &k->model;
    k->cl.name = k->symbol + strlen("cambrian_");
    k->next = kinds;
    kinds = k;
  }
  pthread_mutex_unlock(&kinds_lock);
  return k ? &k->cl : NULL;
}

cb__job *cb__job_new(const char *name, int nargs) {
  cb__job *j = calloc(1, sizeof *j);
  if (!j)
    return NULL;
  j->args = calloc((size_t)(nargs ? nargs : 1), sizeof *j->args);
  j->lists = calloc((size_t)(2 * nargs + 1), sizeof *j->lists);
  if (!j->args || !j->lists) {
    free(j->args);
    free(j->lists);
    free(j);
    return NULL;
  }
  snprintf(j->name, sizeof j->name, "%s", name);
  j->ctx.name = j->name;
  j->ctx.device = -1;
  j->ctx.busy_device = -1;
  j->nargs = nargs;
  return j;
}

void cb__job_free(cb__job *j) {
  if (!j)
    return;
  if (j->release)
    j->release(j);
  for (int i = 0; i < j->nargs; i++)
    cb_array_unref(j->args[i].array);
  cb_event_unref(j->ctx.event);
  free(j->args);
  free(j->lists);
  free(j);
}

int cb__job_set_arg_tiles(cb__job *j, int i, cb_array *a, int mode,
                          int tile0, int ntiles) {
  int rc = cb__array_register(a, j->ctx.device);
  if (rc)
    return rc;
  if (ntiles < 0) {
    tile0 = 0;
    ntiles = a->ntiles;
  }
  size_t es = cb_dtype_size(a->dtype);
  int64_t first = (int64_t)tile0 * a->tile_elems;
  int64_t end = (int64_t)(tile0 + ntiles) * a->tile_elems;
  if (end > a->size || ntiles == a->ntiles)
    end = a->size;
  cb_array_ref(a);
  j->args[i] = (cb__job_arg){.array = a, .mode = mode, .tile0 = tile0,
                            .ntiles = ntiles,
                            .nbytes = (size_t)(end - first) * es};
  return 0;
}

int cb__job_set_arg(cb__job *j, int i, cb_array *a, int mode) {
  return cb__job_set_arg_tiles(j, i, a, mode, 0, -1);
}

void *cb__job_host_ptr(const cb__job *j, int i, void *buffers[]) {
  const cb__job_arg *g = &j->args[i];
  return g->array->ntiles ? (void *)STARPU_VECTOR_GET_PTR(buffers[g->first])
                          : g->array->data;
}

static void job_done(void *arg) {
  cb__job *j = arg;
  int busy = j->ctx.busy_device;
  int worker = cb__task_worker(j->ctx.task);
  cb__ctx_done(&j->ctx);
  cb__job_free(j);
  cb__busy_end_on(busy, worker);
}

/* Arrays only written start clean: an earlier writer's failure is not
 * theirs any more. Then the usual checks. */
static int job_skip(cb__job *j) {
  for (int i = 0; i < j->nargs; i++)
    if (j->args[i].mode == CB__WRITE)
      cb__mark_clear(j->args[i].array);
  return cb__ctx_skip(&j->ctx);
}

/* A job may run long (a Python function waiting for an event, say): its
 * worker counts as loaded meanwhile, so that tasks placed on its device
 * go to the other workers. */
static void job_cpu(void *buffers[], void *cl_arg) {
  cb__job *j = cl_arg;
  if (job_skip(j))
    return;
  int worker = cb__drivers_job_begin();
  j->run_cpu(j, buffers);
  cb__drivers_job_end(worker);
}

static void job_opencl(void *buffers[], void *cl_arg) {
  cb__job *j = cl_arg;
  cb__cl_async_begin();
  if (!job_skip(j))
    j->run_opencl(j, buffers);
  cb__cl_async_end();
}

int cb__task_buffers(struct starpu_task *task, int n,
                     starpu_data_handle_t **handles,
                     enum starpu_data_access_mode **modes) {
  *handles = task->handles;
  *modes = task->modes;
  if (n > STARPU_NMAXBUFS) {
    /* StarPU frees these with the task. */
    task->dyn_handles = *handles = malloc((size_t)n * sizeof **handles);
    task->dyn_modes = *modes = malloc((size_t)n * sizeof **modes);
    if (!*handles || !*modes)
      return cb__fail(CB_ENOMEM, "out of host memory");
  }
  return 0;
}

static int fill_buffers(cb__job *j, struct starpu_task *task) {
  int n = 0;
  for (int i = 0; i < j->nargs; i++)
    n += j->args[i].ntiles;
  starpu_data_handle_t *h;
  enum starpu_data_access_mode *m;
  int rc = cb__task_buffers(task, n, &h, &m);
  if (rc)
    return rc;
  int b = 0;
  for (int i = 0; i < j->nargs; i++) {
    cb__job_arg *g = &j->args[i];
    enum starpu_data_access_mode mode =
        !(g->mode & CB__WRITE) ? STARPU_R
        : !(g->mode & CB__READ) ? STARPU_W : STARPU_RW;
    g->first = b;
    for (int t = 0; t < g->ntiles; t++, b++) {
      h[b] = g->array->tiles[g->tile0 + t];
      m[b] = mode;
    }
  }
  task->nbuffers = n;
  return 0;
}

/* cb__job_submit, or cb__job_submit_part when part_of is not NULL. */
static int submit_locked(cb__job *j, const char *symbol, unsigned where,
                         int device, int tile, int priority,
                         cb_event *part_of, cb_event **event) {
  static atomic_uint turns;
  int rc = cb__device_usable(device);
  if (rc) {
    cb__job_free(j);
    if (part_of)
      cb__event_signal(part_of, rc);
    return rc;
  }
  cb__ctx *c = &j->ctx;
  /* Views of the arrays it writes take their copies first (lazy.h). */
  for (int i = 0; i < j->nargs && rc == 0; i++)
    if (j->args[i].mode & CB__WRITE)
      rc = cb__lazy_before_write(j->args[i].array);
  if (rc) {
    cb__job_free(j);
    if (part_of)
      cb__event_signal(part_of, rc);
    return rc;
  }
  struct starpu_codelet *cl = cb__job_codelet(symbol);
  if (part_of)
    cb__event_ref(part_of);
  cb__ctx_set_event(c, part_of ? part_of : cb__event_new(1));
  if (!cl || !c->event) {
    cb__job_free(j);
    if (part_of)
      cb__event_signal(part_of, CB_ENOMEM);
    return cb__fail(CB_ENOMEM, "out of host memory");
  }
  c->in = j->lists;
  c->out = j->lists + j->nargs;
  for (int i = 0; i < j->nargs; i++) {
    if (j->args[i].mode & CB__READ)
      c->in[c->nin++] = j->args[i].array;
    if (j->args[i].mode & CB__WRITE)
      c->out[c->nout++] = j->args[i].array;
  }
  c->device = device;
  struct starpu_task *task = starpu_task_create();
  if (!task || (rc = fill_buffers(j, task))) {
    if (task)
      cb__task_discard(task);
    cb__job_free(j);
    rc = rc ? rc : cb__fail(CB_ENOMEM, "out of host memory");
    if (part_of)
      cb__event_signal(part_of, rc);
    return rc;
  }
  c->task = task;
  task->cl = cl;
  task->where = where;
  task->cl_arg = j;
  task->cl_arg_size = sizeof *j;
  task->callback_func = job_done;
  task->callback_arg = j;
  task->priority = priority;
  task->name = j->name;
  cb__place(task, device,
            atomic_fetch_add_explicit(&turns, 1, memory_order_relaxed), tile,
            0);
  /* The outputs' readers wait for this job from now on. */
  cb_event *e = c->event;
  cb__event_ref(e);
  for (int i = 0; i < c->nout && !part_of; i++)
    cb__array_set_writer(c->out[i], e);
  int busy = c->busy_device, worker = cb__task_worker(task);
  cb__busy_begin_on(busy, worker);
  int sp = cb__task_submit(task);
  if (sp) {
    cb__busy_end_on(busy, worker);
    task->callback_func = NULL;
    cb__task_discard(task);
    cb__job_free(j);
    rc = cb__fail(sp == -ENODEV ? CB_ENODEV : CB_ESTARPU,
                  "%s: no worker can run this task (%d)", symbol, sp);
    cb__event_signal(e, rc); /* nobody waits for it in vain */
    cb_event_unref(e);
    return rc;
  }
  if (event)
    *event = e;
  else
    cb_event_unref(e);
  return 0;
}

/* submit_locked under the submission lock, from the views' copies to
 * the task's submission, so that no view of a written array is taken in
 * between (lazy.h). */
static int submit(cb__job *j, const char *symbol, unsigned where,
                  int device, int tile, int priority, cb_event *part_of,
                  cb_event **event) {
  cb__lazy_begin();
  int rc = submit_locked(j, symbol, where, device, tile, priority, part_of,
                         event);
  cb__lazy_end();
  return rc;
}

int cb__job_submit(cb__job *j, const char *symbol, unsigned where,
                   int device, int tile, int priority, cb_event **event) {
  return submit(j, symbol, where, device, tile, priority, NULL, event);
}

int cb__job_submit_part(cb__job *j, const char *symbol, unsigned where,
                        int device, int tile, cb_event *e) {
  return submit(j, symbol, where, device, tile, 0, e, NULL);
}
