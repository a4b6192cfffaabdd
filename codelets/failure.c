/*
 * Failure records and the poison marks of arrays. Failures no reader has
 * seen are listed until one does (cb_failure_seen), so that a failure
 * nobody retrieved can still be reported.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include "devtab.h"
#include "failure.h"

static atomic_ulong failure_ids;
int cb__failure_rank;

cb__failure *cb__failure_new(int code, int cl_status, int device,
                             const char *task, const char *fmt, ...) {
  cb__failure *f = calloc(1, sizeof *f);
  if (!f)
    return NULL;
  atomic_init(&f->refcount, 1);
  f->info.id = atomic_fetch_add(&failure_ids, 1) + 1;
  f->info.code = code;
  f->info.cl_status = cl_status;
  f->info.device = device;
  f->info.rank = cb__failure_rank;
  if (cb__device_valid(device))
    snprintf(f->info.device_name, sizeof f->info.device_name, "%s",
             cb__devices[device].info.filter_string);
  snprintf(f->info.task, sizeof f->info.task, "%s", task ? task : "");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->info.message, sizeof f->info.message, fmt, ap);
  va_end(ap);
  return f;
}

cb__failure *cb__failure_dependent(const char *task, cb__failure *cause) {
  /* A failure on another rank says where it happened. */
  char where[96] = "";
  if (cause->info.rank != cb__failure_rank)
    snprintf(where, sizeof where, " on rank %d%s%s%s", cause->info.rank,
             cause->info.device_name[0] ? " (" : "",
             cause->info.device_name,
             cause->info.device_name[0] ? ")" : "");
  cb__failure *f = cb__failure_new(
      CB_EDEPEND, cause->info.cl_status, cause->info.device, task,
      "%s did not run: an input came from %s%s, which failed: %s", task,
      cause->info.task, where, cause->info.message);
  if (f) {
    f->cause = cause;
    cb__failure_ref(cause);
  }
  return f;
}

void cb__failure_ref(cb__failure *f) { atomic_fetch_add(&f->refcount, 1); }

void cb__failure_unref(cb__failure *f) {
  if (f && atomic_fetch_sub(&f->refcount, 1) == 1) {
    cb__failure_unref(f->cause);
    free(f);
  }
}

void cb__failure_export(const cb__failure *f, cb_failure *out) {
  out->info = f->info;
  out->has_cause = f->cause != NULL;
  if (f->cause)
    out->cause = f->cause->info;
}

/* Failures no reader has seen yet. Locking: unseen_lock guards the list. */
#define CB__UNSEEN_MAX 1024
static pthread_mutex_t unseen_lock = PTHREAD_MUTEX_INITIALIZER;
static cb__failure *unseen[CB__UNSEEN_MAX];
static int nunseen;

void cb__failure_register(cb__failure *f) {
  pthread_mutex_lock(&unseen_lock);
  if (nunseen < CB__UNSEEN_MAX) {
    cb__failure_ref(f);
    unseen[nunseen++] = f;
  }
  pthread_mutex_unlock(&unseen_lock);
}

void cb_failure_seen(uint64_t id) {
  pthread_mutex_lock(&unseen_lock);
  for (int i = 0; i < nunseen; i++) {
    if (unseen[i]->info.id != id)
      continue;
    cb__failure_unref(unseen[i]);
    unseen[i] = unseen[--nunseen];
    break;
  }
  pthread_mutex_unlock(&unseen_lock);
}

int cb_failures_take(cb_failure_info *out, int cap) {
  pthread_mutex_lock(&unseen_lock);
  int n = nunseen < cap ? nunseen : cap;
  for (int i = 0; i < n; i++) {
    out[i] = unseen[i]->info;
    cb__failure_unref(unseen[i]);
  }
  memmove(unseen, unseen + n, (size_t)(nunseen - n) * sizeof *unseen);
  nunseen -= n;
  pthread_mutex_unlock(&unseen_lock);
  return n;
}

void cb__mark_poison(cb_array *a, cb__failure *f) {
  cb__failure *expected = NULL;
  cb__failure_ref(f);
  if (!atomic_compare_exchange_strong(&cb__mark_of(a)->failure, &expected,
                                      f))
    cb__failure_unref(f);
}

void cb__mark_replace(cb_array *a, cb__failure *f) {
  cb__failure_ref(f);
  cb__failure_unref(atomic_exchange(&cb__mark_of(a)->failure, f));
}

void cb__mark_clear(cb_array *a) {
  cb__failure_unref(atomic_exchange(&cb__mark_of(a)->failure, NULL));
}
