/*
 * The error channel seen from a running task: every codelet (element-wise,
 * kernel, Python function, reduction, BLAS) starts with cb__ctx_skip() and
 * records what went wrong with cb__ctx_fail(), never through StarPU's
 * aborting paths. A failure marks the task's outputs; tasks reading them
 * do not run and fail with a dependency failure whose cause is the first.
 * The end of a task (its callback) belongs to the scheduler.
 */
#include <stdarg.h>
#include <stdio.h>

#include <starpu.h>

#include "devtab.h"
#include "taskctx.h"

/* Marks the outputs failed with f. An output the task also reads is
 * written over: the failure it had (f's cause) gives way to f. */
static void poison_outputs(cb__ctx *c, cb__failure *f) {
  for (int i = 0; i < c->nout; i++) {
    int read = 0;
    for (int k = 0; k < c->nin && !read; k++)
      read = c->in[k] == c->out[i];
    if (read)
      cb__mark_replace(c->out[i], f);
    else
      cb__mark_poison(c->out[i], f);
  }
  if (!c->failure) {
    cb__failure_ref(f);
    c->failure = f;
  }
}

int cb__ctx_cancelled(cb__ctx *c) {
  int expected = CB__PENDING;
  if (atomic_compare_exchange_strong(c->state, &expected,
                                     CB__STARTED) ||
      expected == CB__STARTED)
    return 0;
  cb__failure *f = cb__failure_new(CB_ECANCELED, 0, c->device, c->name,
                                   "%s was cancelled", c->name);
  if (f) {
    poison_outputs(c, f);
    cb__failure_unref(f);
  }
  return 1;
}

int cb__ctx_inputs_failed(cb__ctx *c) {
  for (int i = 0; i < c->nin; i++) {
    cb__failure *cause = cb__mark_get(c->in[i]);
    /* An array this operation updates in place, marked by another of its
     * own tasks (another tile) that failed: this task's tile is still its
     * own to compute. */
    if (!cause || (c->op && cause->op == c->op))
      continue;
    if (cause->cause) /* the chain's first failure */
      cause = cause->cause;
    cb__failure *f = cb__failure_dependent(c->name, cause);
    poison_outputs(c, f ? f : cause);
    cb__failure_unref(f);
    return 1;
  }
  return 0;
}

/* Records the failure msg of c; lose: it loses the task's device. */
static uint64_t fail(cb__ctx *c, int code, int cl_status, int lose,
                     const char *msg) {
  int device = cb__ctx_device(c);
  cb__failure *f = cb__failure_new(code, cl_status, device, c->name, "%s",
                                   msg);
  if (!f)
    return 0;
  f->op = c->op;
  uint64_t id = f->info.id;
  cb__failure_register(f);
  poison_outputs(c, f);
  if (lose)
    cb__device_lose(device, f);
  cb__failure_unref(f);
  return id;
}

uint64_t cb__ctx_fail(cb__ctx *c, int code, int cl_status, const char *fmt,
                      ...) {
  char msg[sizeof(((cb_failure_info *)0)->message)];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  int lose = c->lose || ((code == CB_EDEVICE || code == CB_EDEVMEM) &&
                         cb__cl_status_loses(cl_status));
  c->lose = 0;
  return fail(c, code, cl_status, lose, msg);
}

uint64_t cb__ctx_fail_injected(cb__ctx *c, int cl_status, int lose,
                               const char *fmt, ...) {
  char msg[sizeof(((cb_failure_info *)0)->message)];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return fail(c, CB_EDEVICE, cl_status, lose, msg);
}

int cb__ctx_device_lost(cb__ctx *c) {
  int device = cb__ctx_device(c);
  cb__failure *cause = cb__device_lost(device);
  if (!cause)
    return 0;
  char what[96];
  snprintf(what, sizeof what, "%s did not run", c->name);
  cb__failure *f = cb__lost_failure(device, c->name, what);
  poison_outputs(c, f ? f : cause);
  cb__failure_unref(f);
  return 1;
}

void cb__ctx_fail_assert(cb__ctx *c, const char *kernel, int line,
                         int64_t x, int64_t y, int64_t z) {
  cb__failure *f = cb__failure_new(
      CB_EASSERT, 0, cb__ctx_device(c), c->name,
      "kernel %s: CB_ASSERT failed at line %d, work-item (%lld, %lld, %lld)",
      kernel, line, (long long)x, (long long)y, (long long)z);
  if (!f)
    return;
  f->info.line = line;
  f->info.item[0] = x;
  f->info.item[1] = y;
  f->info.item[2] = z;
  cb__failure_register(f);
  poison_outputs(c, f);
  cb__failure_unref(f);
}

static _Thread_local int acting_for = -1;

void cb__ctx_act_for(int device) { acting_for = device; }

int cb__ctx_device(const cb__ctx *c) {
  /* A task on a device set runs on one of its devices: its worker's. */
  if (c->device >= 0 && c->device < cb__ndevices)
    return c->device;
  int w = starpu_worker_get_id();
  return w >= 0 ? cb__worker_device(w) : acting_for;
}

const char *cb__ctx_device_name(const cb__ctx *c) {
  int d = cb__ctx_device(c);
  return d >= 0 && d < cb__ndevices ? cb__devices[d].info.filter_string
                                    : "?";
}

