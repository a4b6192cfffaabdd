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

/* Tile geometry of the running runtime for n elements in rows of row
 * elements (1 for vectors): tiles hold whole rows when rows fit a tile. */
int64_t cb__tile_elems_for(int64_t n, int64_t row, int64_t *ntiles);

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

/* The row length tiles follow: the last dimension of a 2-D array. */
static inline int64_t cb__array_row(const cb_array *a) {
  return a->ndim == 2 ? a->shape[1] : 1;
}

/* A new array registered with the running runtime, recycled from the pool
 * when one of the same size is there (its data is then undefined). */
int cb__array_new_registered(cb_dtype t, int ndim, const int64_t *shape,
                             cb_array **out);
/* Registers the array's tiles with the running runtime if needed. */
int cb__array_register(cb_array *a);
/* Marks a failure on the array, unless one is already there. */
void cb__array_poison(cb_array *a, cb__failure *f);
/* Makes e the event of the operation that writes the array now. */
void cb__array_set_writer(cb_array *a, cb_event *e);
/* Forgets the failure of a former writer: a task that overwrites the
 * array calls this when it starts, after every earlier access ended. */
void cb__array_clear_failure(cb_array *a);
/* Unregisters every array (runtime shutdown, nothing pending). */
void cb__arrays_unregister_all(void);

/* ---- pool.c ----------------------------------------------------------- */

/* Keeps a dead array's buffer and tiles for reuse; returns 0 if it did
 * not take it. Never calls StarPU. */
int cb__pool_put(cb_array *a);
/* A pooled array of this size and tile geometry taken over for dtype t
 * (same element size), with one reference and no failure, or NULL. */
cb_array *cb__pool_get(cb_dtype t, int64_t size, int64_t tile_elems);
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

/* ---- taskctx.c ------------------------------------------------------- */

/* The head of every task's context (cl_arg): what the error channel needs.
 * A task checks its inputs for failures before it runs and marks its
 * outputs with its own failure, which its operation's event learns. */
typedef struct cb__ctx {
  const char *name;           /* operation, kernel or function name */
  int device;                 /* where it was placed, -1: auto */
  int busy_device;            /* the drivers it keeps awake, -1: all */
  cb_event *event;            /* the operation's, signalled at the end;
                               * NULL in a batch (cb__batch) */
  int nin, nout;
  cb_array **in;              /* arrays it reads */
  cb_array **out;             /* arrays it writes */
  struct cb__failure *failure; /* its own, once it failed (a reference) */
  struct starpu_task *task;   /* valid until its callback returns */
} cb__ctx;

/* Looks at the task's inputs: if one is poisoned, poisons the outputs with
 * a dependency failure and returns 1 (the codelet must not run). */
int cb__ctx_inputs_failed(cb__ctx *c);
/* Records a failure of this task on its outputs; returns its id. */
uint64_t cb__ctx_fail(cb__ctx *c, int code, int cl_status, const char *fmt,
                      ...) __attribute__((format(printf, 4, 5)));
/* Records a failed device-side assertion of kernel. */
void cb__ctx_fail_assert(cb__ctx *c, const char *kernel, int line,
                         int64_t x, int64_t y, int64_t z);
/* Marks the task's operation started, unless it was cancelled: then
 * marks the outputs cancelled and returns 1. */
int cb__ctx_cancelled(cb__ctx *c);
/* The device of the calling worker, or c->device when placed. */
int cb__ctx_device(const cb__ctx *c);

/* Fault injection (faults.c): armed is 0 unless a fault is set. Returns 1
 * when an injected fault made the task fail. */
extern atomic_int cb__faults_armed;
int cb__fault_fire(cb__ctx *c);

/* Every codelet starts with this: skips when cancelled, on failed inputs
 * or on an injected fault. */
static inline int cb__ctx_skip(cb__ctx *c) {
  if (c->event &&
      atomic_load_explicit(&c->event->state, memory_order_acquire) !=
          CB__STARTED &&
      cb__ctx_cancelled(c))
    return 1;
  if (__builtin_expect(atomic_load_explicit(&cb__faults_armed,
                                            memory_order_relaxed), 0) &&
      cb__fault_fire(c))
    return 1;
  return cb__ctx_inputs_failed(c);
}

/* The end of a task (its StarPU callback): signals its event with the
 * outcome and lets go of the drivers. */
void cb__ctx_done(cb__ctx *c);
/* A task's whole callback: cb__ctx_done, then release(owner) (which frees
 * the owner and c with it), then the drivers are let go, last, so that
 * nobody sees the runtime idle before the task's references are gone. */
void cb__ctx_end(cb__ctx *c, void (*release)(void *owner), void *owner);
/* Drops a task's references: its arrays and its event. */
void cb__ctx_drop_refs(cb__ctx *c, cb_array *const *arrays, int n);

/* ---- codelets/cl_source.c --------------------------------------------- */

/* Appends printf-style text to buf (cap bytes), tracking its length in
 * *len; text beyond cap is dropped (*len then reaches cap). */
void cb__put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- trace.c ---------------------------------------------------------- */

/* 1 while profiling is on: cb__ctx_done then records the task. */
extern atomic_int cb__profiling;
void cb__trace_task(const cb__ctx *c);
/* Profiling state across runtimes: applied after starpu_init. */
void cb__profiling_apply(void);

/* ---- job.c ------------------------------------------------------------ */

/* Access of a job to one of its arrays. */
enum { CB__READ = 1, CB__WRITE = 2, CB__READWRITE = 3 };

typedef struct cb__job_arg {
  cb_array *array;            /* a reference */
  int mode;                   /* CB__READ, CB__WRITE, CB__READWRITE */
  int first;                  /* index of its first tile in buffers[] */
} cb__job_arg;

/* A task over whole arrays (kernels, functions, BLAS, reductions). */
typedef struct cb__job cb__job;
struct cb__job {
  cb__ctx ctx;                /* first: the codelets see a cb__ctx too */
  char name[48];
  /* What runs, after the error channel's checks; NULL where it cannot. */
  void (*run_cpu)(cb__job *j, void *buffers[]);
  void (*run_opencl)(cb__job *j, void *buffers[]);
  void (*release)(cb__job *j); /* frees payload; may be NULL */
  void *payload;
  int nargs;
  cb__job_arg *args;
  cb_array **lists;           /* storage of ctx.in and ctx.out */
};

/* A job named name (its failures carry it) with room for nargs arrays.
 * Its data may have to come from any device, so every driver stays awake
 * while it is pending (ctx.busy_device -1) unless the caller knows better
 * and sets ctx.busy_device before submitting it. */
cb__job *cb__job_new(const char *name, int nargs);
/* Sets argument i (registering the array; the job takes a reference). */
int cb__job_set_arg(cb__job *j, int i, cb_array *a, int mode);
/* Frees a job that was not submitted. */
void cb__job_free(cb__job *j);
/* Submits the job as one task of the codelet kind symbol (its model's
 * name) on workers of where (STARPU_CPU, STARPU_OPENCL) of device (-1:
 * the scheduler chooses). Its outputs' writer becomes the job's event, a
 * new reference returned in *event. The job is consumed, even on failure.
 * The caller holds the run lock. */
int cb__job_submit(cb__job *j, const char *symbol, unsigned where,
                   int device, int priority, cb_event **event);
/* The codelet of a kind of job (made on first use, kept for good). */
struct starpu_codelet *cb__job_codelet(const char *symbol);
/* Gives task room for n buffers: its own arrays, or arrays StarPU frees
 * with it when n is beyond STARPU_NMAXBUFS. */
int cb__task_buffers(struct starpu_task *task, int n,
                     starpu_data_handle_t **handles,
                     enum starpu_data_access_mode **modes);
/* In a CPU function: the host address of argument i, entire. */
void *cb__job_host_ptr(const cb__job *j, int i, void *buffers[]);

/* OpenCL side (codelets/job_opencl.c), for codelets that include CL/cl.h:
 * argument i as one device buffer, gathered from its tiles when it has
 * several (or when its one tile starts at an offset and the caller
 * cannot take one); scatter writes a gathered buffer back and frees it. */
#ifdef CL_SUCCESS
typedef struct cb__clbuf {
  cl_mem mem;
  size_t offset;              /* bytes */
  int scratch;                /* 1: gathered, to scatter and release */
} cb__clbuf;
cl_int cb__job_cl_gather(const cb__job *j, int i, void *buffers[],
                         cl_command_queue q, int accept_offset,
                         cb__clbuf *out);
cl_int cb__job_cl_scatter(const cb__job *j, int i, void *buffers[],
                          cl_command_queue q, cb__clbuf *buf);
/* Waits for ev, releases it, and returns the command's final status. */
cl_int cb__cl_wait(cl_event ev);
#endif

/* ---- kernel.c, codelets/kernel_opencl.c -------------------------------- */

/* A kernel's program on one device, for runtime generation gen. */
typedef struct cb__kbuild {
  unsigned gen;               /* 0: not built */
  int status;                 /* 0, or the CL status of a failed build */
  void *program, *kernel;     /* cl_program, cl_kernel */
  void *assert_buf;           /* cl_mem of the assertion record */
  char *log;                  /* build log of a failure */
  int nparams;                /* without the hidden assertion buffer */
  cb_kernel_param *params;
} cb__kbuild;

struct cb_kernel {
  atomic_int refcount;
  char name[64];
  char *source;               /* as built: with the assertion prelude */
  char *options;
  int asserts;                /* uses CB_ASSERT: hidden parameter 0 */
  pthread_mutex_t lock;       /* guards dev[] */
  cb__kbuild dev[CB__MAX_DEVICES];
  struct cb_kernel *prev, *next; /* list of kernels (kernels_lock) */
};

/* The build of k for device, made now if needed; k->lock is held. */
cb__kbuild *cb__kernel_build_locked(cb_kernel *k, int device);
/* Releases one build's OpenCL objects. */
void cb__kbuild_release(cb__kbuild *b);
/* Runs a kernel launch job on an OpenCL worker. */
void cb__kernel_run(cb__job *j, void *buffers[]);
/* Releases every kernel's programs (runtime shutdown). */
void cb__kernels_release_all(void);

/* The launch a kernel job carries. */
typedef struct cb__launch {
  cb_kernel *kernel;          /* a reference */
  int work_dim;
  size_t global[3], local[3];
  int has_local;
  int nargs;
  int *job_arg;               /* per argument: its job argument, or -1 */
  cb_arg *args;
} cb__launch;

/* ---- ewise.c / promote.c ---------------------------------------------- */

/* The context of one task, passed to the codelet as cl_arg. */
typedef union cb__value {
  uint8_t b;
  int32_t i32;
  int64_t i64;
  float f32;
  double f64;
} cb__value;

/* An operand is a tile of an array, a broadcast 0-D array, a scalar, or
 * the output tile itself (the result is written over it). */
enum { CB__IN_TILE, CB__IN_ELEM, CB__IN_SCALAR, CB__IN_OUT };

typedef struct cb__task {
  cb__ctx ctx;                /* first: the codelets see a cb__ctx too */
  cb_op op;
  cb_dtype in_dtype[CB__MAX_OPERANDS];
  cb_dtype out_dtype;
  int nin;
  int in_kind[CB__MAX_OPERANDS];
  cb__value scalar[CB__MAX_OPERANDS];
  cb__value start, step;      /* arange */
  int64_t base;               /* index of the tile's first element */
  int64_t n;                  /* elements in the output tile */
  int narrays;
  cb_array *arrays[CB__MAX_OPERANDS + 1]; /* references; output last */
  struct cb__slab *slab;      /* the block it lives in; NULL: its own */
} cb__task;

/* A batch submits many element-wise operations in a row, as a graph's run
 * does (batch.c): task contexts and StarPU tasks come from shared blocks,
 * freed whole by submitting threads once their tasks have ended, and an
 * operation asked for no event gets none (nobody can wait on its result
 * alone; failures still travel through the arrays). The caller holds the
 * run lock from cb__batch_init to cb__batch_end and uses a batch from one
 * thread. */
typedef struct cb__batch {
  struct cb__slab *slab;      /* the block being filled, or NULL */
} cb__batch;

void cb__batch_init(cb__batch *b);
void cb__batch_end(cb__batch *b);
/* The next context and StarPU task (initialised, not detached) of b. */
int cb__batch_task(cb__batch *b, cb__task **t, struct starpu_task **task);
/* A context of a batch is done with (in its callback, or never
 * submitted; a StarPU task never submitted must be cleaned first). */
void cb__batch_release(cb__task *t);
/* Frees the blocks whose tasks have all ended; with wait, waits for
 * StarPU to finish the ones whose callbacks have returned. Never from a
 * task or a callback. */
void cb__batch_reap(int wait);
/* At shutdown, with every task ended: frees every block. */
void cb__batch_flush(void);
/* The reaped blocks kept for later batches (for tests). */
int cb__batch_spares(void);

/* cb_ewise within a batch (b may be NULL: alone); without an event when
 * !event. When reuse, an operand's array that the caller gives up (no
 * task submitted later reads it) has the result's dtype and shape, the
 * result is written over it in place: no new array, one buffer less per
 * task. The caller holds the run lock. */
int cb__ewise_in(cb__batch *b, int event, cb_array *reuse, cb_op op,
                 const cb_operand *x, int n, int default_device,
                 int out_dtype, cb_array **out, int *out_device);

/* The result's ndim and shape of a @ b with cb_matmul's rules; fails as
 * cb_matmul does on shapes (linalg.c). */
int cb__matmul_shape(const cb_array *a, const cb_array *b, int *ndim,
                     int64_t *shape);

/* Where a task may run. A task placed on a device (>= 0) goes straight to
 * one of its workers, chosen by turn (tiles in turn: a static schedule,
 * as a prange loop's), which costs far less than asking the scheduler;
 * auto placement (-1) lets the scheduler choose, away from OpenCL devices
 * that lack float64 when uses_f64. */
void cb__place(struct starpu_task *task, int device, unsigned turn,
               int uses_f64);

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

/* ---- reduce.c, codelets/reduce_cpu.c, codelets/reduce_opencl.c ------- */

/* The shape rules of reduction finish (CB_NREDUCE: dot, over a and b)
 * along axis, needing no runtime (graphs record with them): the dtype the
 * tasks read (*in) and the result's (*res), the result's ndim and shape,
 * and the elements reduced into each result (*count). Fails as cb_reduce
 * and cb_dot do. */
int cb__reduce_shape(int finish, const cb_array *a, const cb_array *b,
                     int axis, cb_dtype *in, cb_dtype *res, int *out_ndim,
                     int64_t *out_shape, int64_t *count);

/* How elements combine: added (sum, mean), squared and added (norm),
 * smallest, largest, multiplied pairwise and added (dot). */
enum { CB__RF_ADD, CB__RF_SQUARE, CB__RF_MIN, CB__RF_MAX, CB__RF_DOT,
       CB__NRF };
/* What a tile's task reduces: every element (into CB__RCHUNKS partials,
 * one per chunk of the tile), each row, or each column. */
enum { CB__RM_ALL, CB__RM_ROWS, CB__RM_COLS, CB__NRM };
#define CB__RCHUNKS 64

/* The context of a reduction's tile task and of its combine task. */
typedef struct cb__rtask {
  cb__ctx ctx;                /* first: the codelets see a cb__ctx too */
  int family;                 /* CB__RF_* */
  int mode;                   /* CB__RM_* */
  int finish;                 /* cb_reduce_op, or CB_NREDUCE for dot */
  cb_dtype in;                /* input elements */
  cb_dtype part;              /* partial results */
  cb_dtype res;               /* the result */
  int64_t cols;               /* elements per row (1 for vectors) */
  int64_t count;              /* elements reduced into each result */
  int nparts;                 /* combine: partial buffers, then outputs */
  int narrays;
  cb_array *arrays[3];        /* references: inputs, then the result */
} cb__rtask;

void cb__reduce_tile_cpu(void *buffers[], void *cl_arg);
void cb__reduce_tile_opencl(void *buffers[], void *cl_arg);
void cb__reduce_combine_cpu(void *buffers[], void *cl_arg);
/* Releases the reduction kernels built so far (runtime shutdown). */
void cb__reduce_cache_clear(void);

/* ---- linalg.c, codelets/blas_*.c ------------------------------------- */

/* What a linear algebra task computes over one row block of its output. */
enum { CB__LA_GEMM, CB__LA_GEMV, CB__LA_TRANSPOSE, CB__LA_NKINDS };

/* The context of one block task (cl_arg). Its buffers are the tiles of A
 * that hold the elements [a_lo, a_hi), every tile of B (none for a
 * transpose) and the one tile of the output it writes. */
typedef struct cb__blas_task {
  cb__ctx ctx;                /* first: the codelets see a cb__ctx too */
  int kind;
  cb_dtype dtype;
  int ta, tb;                 /* op(A), op(B) are transposed */
  int64_t rows;               /* output rows of the block */
  int64_t n, k;               /* output columns, inner dimension */
  int64_t a_ld, b_ld;         /* stored row lengths of A and B */
  double alpha, beta;
  int na, nb;                 /* buffers of A and of B */
  int64_t a_base;             /* index in A of its first buffer's start */
  int64_t a_lo, a_hi;         /* the elements of A the task reads */
  int64_t a_at;               /* where the block of op(A) starts in A */
  int64_t b_size;
  int narrays;
  cb_array *arrays[3];        /* references: A, B if any, the output */
} cb__blas_task;

void cb__blas_cpu(void *buffers[], void *cl_arg);
void cb__blas_opencl(void *buffers[], void *cl_arg);
/* Makes OpenBLAS single-threaded: StarPU's workers give the parallelism. */
void cb__blas_cpu_setup(void);

/* ---- codelets --------------------------------------------------------- */

extern struct starpu_codelet cb__ew_codelets[CB_NOPS];

void cb__ew_cpu(void *buffers[], void *cl_arg);
void cb__ew_opencl(void *buffers[], void *cl_arg);
/* Releases the OpenCL programs built so far (runtime shutdown). */
void cb__opencl_cache_clear(void);


#endif /* CAMBRIAN_INTERNAL_H */
