/*
 * The error channel seen from a running task: every codelet (element-wise,
 * kernel, Python function, reduction, BLAS) starts with cb__ctx_skip() and
 * records what went wrong with cb__ctx_fail(), never through StarPU's
 * aborting paths. A failure marks the task's outputs; tasks reading them
 * do not run and fail with a dependency failure whose cause is the first.
 */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

/* Marks the outputs failed with f. An output the task also reads is
 * written over: the failure it had (f's cause) gives way to f. */
static void poison_outputs(cb__ctx *c, cb__failure *f) {
  for (int i = 0; i < c->nout; i++) {
    int read = 0;
    for (int k = 0; k < c->nin && !read; k++)
      read = c->in[k] == c->out[i];
    if (read) {
      cb__failure_ref(f);
      cb__failure_unref(atomic_exchange(&c->out[i]->failure, f));
    } else {
      cb__array_poison(c->out[i], f);
    }
  }
  if (!c->failure) {
    cb__failure_ref(f);
    c->failure = f;
  }
}

int cb__ctx_cancelled(cb__ctx *c) {
  int expected = CB__PENDING;
  if (atomic_compare_exchange_strong(&c->event->state, &expected,
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
    cb__failure *cause = atomic_load(&c->in[i]->failure);
    if (!cause)
      continue;
    if (cause->cause) /* the chain's first failure */
      cause = cause->cause;
    cb__failure *f = cb__failure_new(
        CB_EDEPEND, cause->info.cl_status, cause->info.device, c->name,
        "%s did not run: an input came from %s, which failed: %s", c->name,
        cause->info.task, cause->info.message);
    if (f) {
      f->cause = cause;
      cb__failure_ref(cause);
    }
    poison_outputs(c, f ? f : cause);
    cb__failure_unref(f);
    return 1;
  }
  return 0;
}

uint64_t cb__ctx_fail(cb__ctx *c, int code, int cl_status, const char *fmt,
                      ...) {
  char msg[sizeof(((cb_failure_info *)0)->message)];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  cb__failure *f = cb__failure_new(code, cl_status, cb__ctx_device(c),
                                   c->name, "%s", msg);
  if (!f)
    return 0;
  uint64_t id = f->info.id;
  cb__failure_register(f);
  poison_outputs(c, f);
  cb__failure_unref(f);
  return id;
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

int cb__ctx_device(const cb__ctx *c) {
  if (c->device >= 0)
    return c->device;
  int w = starpu_worker_get_id();
  if (w < 0)
    return -1;
  for (int d = 0; d < cb__ndevices; d++)
    for (int k = 0; k < cb__devices[d].nworkers; k++)
      if (cb__devices[d].workers[k] == w)
        return d;
  return -1;
}

void cb__ctx_drop_refs(cb__ctx *c, cb_array *const *arrays, int n) {
  for (int i = 0; i < n; i++)
    cb_array_unref(arrays[i]);
  cb_event_unref(c->event);
}

void cb__ctx_end(cb__ctx *c, void (*release)(void *owner), void *owner) {
  int device = c->busy_device; /* c goes with its owner */
  cb__ctx_done(c);
  release(owner);
  cb__busy_end(device);
}

void cb__ctx_done(cb__ctx *c) {
  if (atomic_load_explicit(&cb__profiling, memory_order_relaxed))
    cb__trace_task(c);
  if (c->event)
    cb__event_signal_failure(c->event, c->failure);
  cb__failure_unref(c->failure);
  c->failure = NULL;
}
