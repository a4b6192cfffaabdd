/*
 * Internal declarations shared by the scheduler and the codelets. Nothing
 * here is part of the public API.
 */
#ifndef CAMBRIAN_INTERNAL_H
#define CAMBRIAN_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include <starpu.h>

#include "cambrian.h"

#define CB__MAX_DEVICES 16
#define CB__MAX_OPERANDS 3

/* Records msg (printf format) as this thread's last error; returns err. */
int cb__fail(int err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- runtime.c -------------------------------------------------------- */

/* Starts the runtime with the environment's settings if it is not running.
 * Cheap when it runs. */
int cb__ensure_running(void);

typedef struct cb__device {
  cb_device_info info;
  unsigned memory_node;
  int nworkers;
  int workers[STARPU_NMAXWORKERS];
  int opencl_devid;          /* StarPU OpenCL device id, -1 for CPU. */
} cb__device;

/* The device table of the running runtime (read-only while it runs). */
extern cb__device cb__devices[CB__MAX_DEVICES];
extern int cb__ndevices;
/* Builds the table after starpu_init (devices.c). */
int cb__devices_discover(void);

/* Tile geometry of the running runtime. */
int64_t cb__tile_elems_for(int64_t n, int64_t *ntiles);

/* Holds the runtime running (starting it if needed) while StarPU is used;
 * every cb__enter() is paired with cb__leave(). */
int cb__enter(void);
void cb__leave(void);
/* As cb__enter, but CB_EAGAIN instead of starting or waiting. */
int cb__try_enter(void);
/* 1 while cb_shutdown runs. */
extern atomic_int cb__stopping;
/* 1 in a child process after fork(): StarPU must not be touched. */
int cb__forked(void);

/* ---- array.c ---------------------------------------------------------- */

typedef struct cb__failure {
  atomic_int refcount;
  struct cb__failure *cause;  /* the first failure a dependency follows */
  cb_failure_info info;
} cb__failure;

cb__failure *cb__failure_new(int code, int cl_status, int device,
                             const char *task, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void cb__failure_ref(cb__failure *f);
/* Lists a failure until a reader sees it (not dependency failures). */
void cb__failure_register(cb__failure *f);
/* Copies a failure, and its cause, out for the public API. */
void cb__failure_export(const cb__failure *f, cb_failure *out);
void cb__failure_unref(cb__failure *f);

struct cb_array {
  atomic_int refcount;
  cb_dtype dtype;
  int ndim;
  int64_t shape[CB_MAX_NDIM];
  int64_t size;
  size_t nbytes;
  void *data;
  void (*release)(void *arg); /* NULL: data is ours, freed with free(). */
  void *release_arg;
  /* Tiles: registered lazily, for the runtime generation in gen. Guarded by
   * cb__registry_lock; readers check gen with an acquire load first. */
  atomic_uint gen;
  int ntiles;
  int64_t tile_elems;
  starpu_data_handle_t *tiles;
  starpu_data_handle_t tile0;  /* storage when ntiles == 1 */
  /* The failure of the task that wrote it, if any (set once). */
  _Atomic(cb__failure *) failure;
  /* The event of the operation that writes it; NULL when none does.
   * Set before the operation's tasks are submitted. */
  cb_event *writer;
  /* Links in the list of registered arrays (cb__registry_lock). */
  struct cb_array *prev, *next;
  /* Link in the reclaim queue. */
  struct cb_array *reclaim_next;
};

/* A new array registered with the running runtime, recycled from the pool
 * when one of the same size is there (its data is then undefined). */
int cb__array_new_registered(cb_dtype t, int ndim, const int64_t *shape,
                             cb_array **out);
/* Registers the array's tiles with the running runtime if needed. */
int cb__array_register(cb_array *a);
/* Marks a failure on the array, unless one is already there. */
void cb__array_poison(cb_array *a, cb__failure *f);
/* Unregisters every array (runtime shutdown, nothing pending). */
void cb__arrays_unregister_all(void);

/* ---- pool.c ----------------------------------------------------------- */

/* Keeps a dead array's buffer and tiles for reuse; returns 0 if it did
 * not take it. Never calls StarPU. */
int cb__pool_put(cb_array *a);
/* A pooled array of this size taken over for dtype t (same element size),
 * with one reference and no failure, or NULL. */
cb_array *cb__pool_get(cb_dtype t, int64_t size);
/* Destroys every pooled array (shutdown). */
void cb__pool_flush(void);

/* ---- reclaim.c -------------------------------------------------------- */

/* Arrays whose last reference is gone are unregistered and freed by a
 * helper thread, never by the thread that dropped them. */
int cb__reclaim_start(void);
void cb__reclaim_push(cb_array *a);
/* Frees everything queued, then stops the thread. */
void cb__reclaim_stop(void);
/* Frees an array right away; only where nothing can be pending on it. */
void cb__array_destroy(cb_array *a);

/* ---- drivers.c -------------------------------------------------------- */

/* Brackets work pending in StarPU for device (-1: any driver may have to
 * act); idle worker threads sleep until some begins. */
void cb__busy_begin(int device);
void cb__busy_end(int device);
/* Before starpu_init: the drivers cambrian runs in its own threads. */
void cb__drivers_plan(struct starpu_conf *conf, int ncpus,
                      const void *const *opencl_ids, int nopencl);
/* After starpu_init: starts them. cb__drivers_stop() ends them. */
int cb__drivers_start(void);
void cb__drivers_stop(void);

/* ---- event.c ---------------------------------------------------------- */

typedef struct cb__listener {
  void (*fn)(void *arg);
  void *arg;
  struct cb__listener *next;
} cb__listener;

struct cb_event {
  atomic_int refcount;
  atomic_int pending;
  int status;                 /* first error, set before completion */
  struct cb__failure *failure; /* first failure, guarded by lock */
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int done;                   /* guarded by lock */
  cb__listener *listeners;    /* guarded by lock */
  atomic_int state;           /* CB__PENDING, CB__STARTED, CB__CANCELLED */
};
enum { CB__PENDING, CB__STARTED, CB__CANCELLED };

cb_event *cb__event_new(int pending);
/* The time timeout_ms from now on clock, for timed waits. */
struct timespec cb__deadline(clockid_t clock, int timeout_ms);
void cb__event_ref(cb_event *e);
/* One part finished, with the failure it recorded or NULL. */
void cb__event_signal(cb_event *e, int status);
void cb__event_signal_failure(cb_event *e, struct cb__failure *f);

/* ---- ewise.c / promote.c ---------------------------------------------- */

/* The context of one task, passed to the codelet as cl_arg. */
typedef union cb__value {
  uint8_t b;
  int32_t i32;
  int64_t i64;
  float f32;
  double f64;
} cb__value;

enum { CB__IN_TILE, CB__IN_ELEM, CB__IN_SCALAR };

typedef struct cb__task {
  cb_op op;
  cb_dtype in_dtype[CB__MAX_OPERANDS];
  cb_dtype out_dtype;
  int nin;
  int in_kind[CB__MAX_OPERANDS];
  cb__value scalar[CB__MAX_OPERANDS];
  cb__value start, step;      /* arange */
  int64_t base;               /* index of the tile's first element */
  int64_t n;                  /* elements in the output tile */
  int device;                 /* where it was placed, -1: auto */
  int busy_device;            /* the drivers it keeps awake, -1: all */
  cb_event *event;            /* the operation's, signalled at the end */
  int narrays;
  cb_array *arrays[CB__MAX_OPERANDS + 1]; /* references; output last */
} cb__task;

/* The class letter of a dtype in the operation table: 'F', 'I' or 'B'. */
char cb__dtype_class(cb_dtype t);
int cb__op_accepts(cb_op op, cb_dtype t);
/* The dtype the loop computes in and the dtype of the result. */
int cb__ewise_types(cb_op op, const cb_operand *x, int n, cb_dtype *compute,
                    cb_dtype *result);

/* The dtype a task's loop computes in. */
static inline cb_dtype cb__task_dtype(const cb__task *t) {
  return t->nin == 0 ? t->out_dtype
                     : t->in_dtype[cb_op_get_kind(t->op) == CB_KIND_WHERE];
}

/* ---- codelets --------------------------------------------------------- */

extern struct starpu_codelet cb__ew_codelets[CB_NOPS];

/* Looks at the task's inputs: if one is poisoned, poisons the output with
 * a dependency failure and returns 1 (the codelet must not run). */
int cb__task_inputs_failed(cb__task *t);
/* Records a failure of this task on its output. */
void cb__task_fail(cb__task *t, int code, int cl_status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Fault injection (faults.c): armed is 0 unless a fault is set. Returns 1
 * when an injected fault made the task fail. */
extern atomic_int cb__faults_armed;
int cb__fault_fire(cb__task *t);
/* Marks the task's operation started, unless it was cancelled: then
 * marks the output cancelled and returns 1. */
int cb__task_cancelled(cb__task *t);
/* Every codelet starts with this: skips when cancelled, on failed inputs
 * or on an injected fault. */
static inline int cb__task_skip(cb__task *t) {
  if (atomic_load_explicit(&t->event->state, memory_order_acquire) !=
          CB__STARTED &&
      cb__task_cancelled(t))
    return 1;
  if (__builtin_expect(atomic_load_explicit(&cb__faults_armed,
                                            memory_order_relaxed), 0) &&
      cb__fault_fire(t))
    return 1;
  return cb__task_inputs_failed(t);
}

void cb__ew_cpu(void *buffers[], void *cl_arg);
void cb__ew_opencl(void *buffers[], void *cl_arg);
/* Releases the OpenCL programs built so far (runtime shutdown). */
void cb__opencl_cache_clear(void);


#endif /* CAMBRIAN_INTERNAL_H */
