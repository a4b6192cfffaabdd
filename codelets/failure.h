/*
 * Failure records and poison marks: what the error channel carries. A
 * failure is reference-counted; an array is marked with the failure of
 * the task that wrote it, and a dependency failure points at the first
 * failure of its chain.
 */
#ifndef CAMBRIAN_CODELETS_FAILURE_H
#define CAMBRIAN_CODELETS_FAILURE_H

#include <stdatomic.h>

#include "cambrian.h"

typedef struct cb__failure {
  atomic_int refcount;
  struct cb__failure *cause;  /* the first failure a dependency follows */
  uint64_t op;                /* the operation of the task that failed
                               * (its event's serial; 0: unknown) */
  cb_failure_info info;
} cb__failure;

/* The rank of this process, which new failures record (0 unless
 * distributed; the scheduler sets it while the runtime starts). */
extern int cb__failure_rank;

cb__failure *cb__failure_new(int code, int cl_status, int device,
                             const char *task, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The failure of task, which did not run because an input came from the
 * failure cause (the first of its chain; the result holds a reference). */
cb__failure *cb__failure_dependent(const char *task, cb__failure *cause);
void cb__failure_ref(cb__failure *f);
/* Lists a failure until a reader sees it (not dependency failures). */
void cb__failure_register(cb__failure *f);
/* Copies a failure, and its cause, out for the public API. */
void cb__failure_export(const cb__failure *f, cb_failure *out);
void cb__failure_unref(cb__failure *f);

/* The poison mark every array starts with (its first member, so that
 * tasks can mark arrays without knowing the rest of them): the failure
 * of the task that wrote it, or NULL. */
typedef struct cb__marked {
  _Atomic(cb__failure *) failure;
} cb__marked;

static inline cb__marked *cb__mark_of(const cb_array *a) {
  return (cb__marked *)(void *)(uintptr_t)a;
}
/* The array's failure (no new reference), or NULL. */
static inline cb__failure *cb__mark_get(const cb_array *a) {
  return atomic_load(&cb__mark_of(a)->failure);
}
/* Marks a failure on the array, unless one is already there. */
void cb__mark_poison(cb_array *a, cb__failure *f);
/* Puts f on the array in place of the failure it had. */
void cb__mark_replace(cb_array *a, cb__failure *f);
/* Forgets the failure of a former writer: a task that overwrites the
 * array calls this when it starts, after every earlier access ended. */
void cb__mark_clear(cb_array *a);

#endif
