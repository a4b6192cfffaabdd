/*
 * cambrian: asynchronous array operations scheduled by StarPU across CPU
 * workers and OpenCL devices.
 *
 * This is the umbrella header of the C core. Every public name starts with
 * "cb_" (types, functions) or "CB_" (constants); internal names shared
 * between files start with "cb__". Functions return 0 on success or a
 * negative CB_E* code; the last error message of the calling thread is
 * available from cb_last_error().
 *
 * Threading: every function may be called from any thread. None of them
 * calls back into the caller while holding an internal lock.
 */
#ifndef CAMBRIAN_H
#define CAMBRIAN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes: X(name, message). */
#define CB_ERRNO_MAP(X)                                                     \
  X(EINVAL, "invalid argument")                                             \
  X(ENOMEM, "out of memory")                                                \
  X(ENODEV, "no such device")                                               \
  X(ETYPE, "unsupported dtype for this operation")                          \
  X(ESHAPE, "shapes do not match")                                          \
  X(EPLACE, "arrays are placed on different devices")                       \
  X(ERANGE, "value out of range")                                           \
  X(ESTARPU, "the StarPU runtime failed")                                   \
  X(EDEVICE, "an OpenCL call failed on a device")                           \
  X(EBUILD, "an OpenCL program failed to build")                            \
  X(EDEPEND, "an input was written by a failed task")                       \
  X(EASSERT, "a device-side assertion failed")                              \
  X(EDEVMEM, "the device does not have enough memory")                      \
  X(ETASK, "a task function raised an exception")                           \
  X(ETIMEDOUT, "timed out")                                                 \
  X(ECANCELED, "the operation was cancelled")                               \
  X(EAGAIN, "the call would block")                                          \
  X(ESTATE, "the runtime is shutting down")                                 \
  X(EINTASK, "a task cannot wait for cambrian work")                        \
  X(EDEVLOST, "the device was lost after a fault")                          \
  X(ERANKLOST, "another rank stopped answering")

typedef enum {
  CB_OK = 0,
#define CB__ERRNO_ENUM(name, msg) CB_##name,
  CB__ERRNO_FIRST = -1000,
  CB_ERRNO_MAP(CB__ERRNO_ENUM)
#undef CB__ERRNO_ENUM
  CB__ERRNO_END
} cb_errno;

/* Returns the message of a CB_E* code. */
const char *cb_strerror(int err);
/* Returns the detailed message of the last failure on this thread. */
const char *cb_last_error(void);

/* Complex elements: the real part, then the imaginary part, laid out as
 * C's float _Complex and double _Complex and NumPy's complex64 and
 * complex128. */
typedef struct cb_complex64 {
  float re, im;
} cb_complex64;
typedef struct cb_complex128 {
  double re, im;
} cb_complex128;

/* Half-precision elements (float16): the 16 bits of an IEEE 754 binary16
 * value, as NumPy's float16 stores them. Operations load them as float,
 * compute in float and round the result to the nearest half. */
typedef uint16_t cb_half;

/* Element types: X(name, lower-case name, C type, buffer-protocol
 * format). */
#define CB_DTYPE_MAP(X)                                                     \
  X(BOOL, bool, uint8_t, "?")                                               \
  X(INT32, int32, int32_t, "i")                                             \
  X(INT64, int64, int64_t, "q")                                             \
  X(FLOAT32, float32, float, "f")                                           \
  X(FLOAT64, float64, double, "d")                                          \
  X(INT8, int8, int8_t, "b")                                                \
  X(INT16, int16, int16_t, "h")                                             \
  X(UINT8, uint8, uint8_t, "B")                                             \
  X(UINT16, uint16, uint16_t, "H")                                          \
  X(UINT32, uint32, uint32_t, "I")                                          \
  X(UINT64, uint64, uint64_t, "Q")                                          \
  X(COMPLEX64, complex64, cb_complex64, "Zf")                               \
  X(COMPLEX128, complex128, cb_complex128, "Zd")                            \
  X(FLOAT16, float16, cb_half, "e")

typedef enum {
#define CB__DTYPE_ENUM(up, low, ctype, fmt) CB_##up,
  CB_DTYPE_MAP(CB__DTYPE_ENUM)
#undef CB__DTYPE_ENUM
  CB_NDTYPES
} cb_dtype;

const char *cb_dtype_name(cb_dtype t);
size_t cb_dtype_size(cb_dtype t);
/* Parses a name such as "float32"; returns -1 when unknown. */
int cb_dtype_from_name(const char *name);

/* A half as a float (exactly), and a double rounded to the nearest half,
 * ties to even: beyond the largest half (65504) it rounds to an
 * infinity, below the smallest subnormal (2^-24) to a signed zero; NaN
 * stays NaN. */
float cb_half_to_float(cb_half h);
cb_half cb_half_from_double(double d);

/* ------------------------------------------------------------------ */
/* Runtime                                                             */
/* ------------------------------------------------------------------ */

typedef struct cb_config {
  int ncpus;               /* CPU workers; -1: automatic. */
  const char *devices;     /* OpenCL device filter; NULL: all. "none". */
  const char *scheduler;   /* StarPU policy name; NULL: automatic. */
  int64_t tile_elems;      /* elements per tile; 0: automatic. */
  /* 1: run over the ranks of an MPI launch with StarPU-MPI; -1: not; 0:
   * as CAMBRIAN_DISTRIBUTED says, else when an MPI launcher started the
   * process. */
  int distributed;
} cb_config;

/* Fills cfg from the environment (CAMBRIAN_NCPUS, CAMBRIAN_DEVICES,
 * CAMBRIAN_SCHED, CAMBRIAN_TILE_SIZE, CAMBRIAN_DISTRIBUTED) where the
 * field is unset. Returns CB_EINVAL, naming the variable and its value,
 * for a number that does not parse or is out of range (CPU workers: 0 or
 * more; tile size: 1 or more) or a scheduler StarPU does not have; an
 * empty variable is unset. */
int cb_config_from_env(cb_config *cfg);

/* Starts StarPU with cfg (NULL: environment only). Blocks while StarPU
 * starts. CB_EINVAL for a setting that is not valid (see
 * cb_config_from_env; a scheduler StarPU does not have), CB_ENODEV for a
 * device filter that matches no device at all. When the runtime runs
 * already it keeps its settings: returns 0 if cfg is NULL or asks for
 * none that differ from them (unset fields ask for nothing), else
 * CB_ESTATE, saying which differ. */
int cb_init(const cb_config *cfg);
/* Waits for every submitted task, releases every data handle (arrays stay
 * readable on the host) and stops StarPU. Blocks. */
int cb_shutdown(void);
int cb_is_running(void);
/* Increments at each successful cb_init: objects tied to devices compare it. */
unsigned cb_generation(void);

/* Where StarPU's messages go (its warnings, and its information when it
 * is not silenced): fn(message, arg) for each, one formatted message at
 * a time, from any thread and possibly while StarPU holds locks of its
 * own, so fn must return quickly and call neither cambrian nor StarPU.
 * NULL (the default) prints them on stderr. May be called at any time.
 * Returns CB_ESTARPU when the StarPU this library was built with cannot
 * hand its messages over (the StarPU that scripts/setup.sh builds can). */
typedef void (*cb_message_fn)(const char *message, void *arg);
int cb_set_message_handler(cb_message_fn fn, void *arg);

typedef struct cb_runtime_info {
  int ncpus;               /* CPU workers started. */
  int nopencl;             /* OpenCL workers started. */
  int ncores;              /* cores available to this process. */
  int max_cpus;            /* STARPU_MAXCPUS of the StarPU build. */
  int64_t tile_elems;      /* 0: automatic. */
  int64_t min_tile_elems;
  int64_t max_tile_bytes;
  char scheduler[32];
  char starpu_version[32];
  char cache_dir[512];
  /* Host memory pinned for arrays on GPUs, and its bound
   * (CAMBRIAN_PINNED_MAX; CAMBRIAN_PINNED=none pins nothing). */
  uint64_t pinned_bytes;
  uint64_t pinned_max_bytes;
  /* Host memory held by arrays, and what they may hold in all (free
   * memory at the first count, or CAMBRIAN_MEMORY_LIMIT; 0: unknown). */
  uint64_t memory_held_bytes;
  uint64_t memory_limit_bytes;
  /* 1 when StarPU hands its messages to cb_set_message_handler's
   * handler, 0 when it prints them on stderr itself. */
  int starpu_messages;
  /* 1 when OpenCL codelets run asynchronously (a StarPU with
   * starpu_opencl_set_task_event), 0 when each waits for its commands. */
  int opencl_async;
  /* 1 when the runtime runs over MPI ranks (StarPU-MPI): this process is
   * rank of nranks (0 of 1 otherwise), with the MPI library named. */
  int distributed;
  int rank;
  int nranks;
  char mpi_library[96];
  /* 1 when the StarPU-MPI plugin of this build is installed (the runtime
   * can run distributed). */
  int mpi_plugin;
} cb_runtime_info;

int cb_runtime_info_get(cb_runtime_info *info);

/* ------------------------------------------------------------------ */
/* Devices                                                             */
/* ------------------------------------------------------------------ */

typedef enum { CB_BACKEND_CPU, CB_BACKEND_OPENCL, CB_NBACKENDS } cb_backend;
typedef enum { CB_DEVTYPE_CPU, CB_DEVTYPE_GPU, CB_DEVTYPE_ACCELERATOR,
               CB_NDEVTYPES } cb_devtype;

/* Devices a runtime uses at most (the CPU workers count as one). */
#define CB_MAX_DEVICES 16

typedef struct cb_device_info {
  int id;                  /* position in the device table. */
  cb_backend backend;
  cb_devtype type;
  int index;               /* among devices of the same backend and type. */
  char name[128];
  char vendor[128];
  char version[128];       /* driver or OpenCL version. */
  uint64_t global_mem_bytes;
  uint64_t max_alloc_bytes;
  uint64_t local_mem_bytes; /* __local memory a work-group may use. */
  int compute_units;
  int nworkers;            /* StarPU workers that run its tasks. */
  int fp64;                /* float64 kernels supported. */
  char filter_string[32];  /* "backend:type:index". */
  int lost;                /* lost after a fault (see cb_device_lost). */
  /* CLBlast kernels given tuned parameters at the start, from
   * <cache>/clblast/<name>.txt (python -m cambrian calibrate --blas). */
  int blas_tuned;
  /* A device set (see cb_device_set): its devices, nmembers >= 2, and
   * index is -1; 0 for a device. */
  int nmembers;
  int members[CB_MAX_DEVICES];
} cb_device_info;

/* StarPU workers, for information. */
typedef struct cb_worker_info {
  int id;
  int device;              /* the device whose tasks it runs */
  char name[64];
} cb_worker_info;
int cb_worker_count(void);
int cb_worker_get(int id, cb_worker_info *out);

/* OpenCL platforms installed, whether StarPU uses them or not. */
typedef struct cb_platform_info {
  char name[128];
  char vendor[128];
  char version[128];
  int ndevices;
} cb_platform_info;
/* Fills up to cap entries; returns how many platforms exist. */
int cb_opencl_platforms(cb_platform_info *out, int cap);

const char *cb_backend_name(cb_backend b);
const char *cb_devtype_name(cb_devtype t);

/* Number of devices of the running runtime (starting it if needed). */
int cb_device_count(void);
int cb_device_get(int id, cb_device_info *out);

/* Filter strings: "backend:type:index" with parts optional or "*",
 * alternatives separated by ",". A single word may name a backend or a
 * type ("cpu" names both the CPU backend and devices of CPU type). */
#define CB_FILTER_MAX_ALTS 16
typedef struct cb_filter_alt {
  int backend;             /* cb_backend, or -1 for any. */
  int type;                /* cb_devtype, or -1 for any. */
  int index;               /* -1 for any. */
} cb_filter_alt;
typedef struct cb_filter {
  int nalts;
  cb_filter_alt alts[CB_FILTER_MAX_ALTS];
} cb_filter;

/* Parses s; on failure returns CB_EINVAL and writes why into err. */
int cb_filter_parse(const char *s, cb_filter *out, char *err, size_t errlen);
int cb_filter_match(const cb_filter *f, cb_backend b, cb_devtype t, int index);
/* Writes into ids (up to cap) the devices matching filter, in filter order
 * without repeats; returns how many matched, or a negative code. */
int cb_devices_select(const char *filter, int *ids, int cap);
/* Where work asked to go to filter goes: when the filter matches several
 * OpenCL devices of one type and they are all of that type ("gpu" on a
 * machine with two GPUs), the device set of that type, whose arrays have
 * their tiles spread over its devices in turn (tile i on device i mod n,
 * the same tile on the same device from one operation to the next), and
 * whose work runs where its tiles are; otherwise the first device that
 * matches. Returns the id (a set's comes after the devices', and
 * cb_device_get describes it), CB_ENODEV when nothing matches, or
 * CB_EINVAL when the filter does not parse. Every function that takes a
 * device takes a set. */
int cb_device_set(const char *filter);

/* ------------------------------------------------------------------ */
/* Arrays                                                              */
/* ------------------------------------------------------------------ */

/* Arrays have up to CB_MAX_NDIM dimensions, C-ordered. */
#define CB_MAX_NDIM 8
typedef struct cb_array cb_array;

/* A new array with an uninitialised host buffer owned by cambrian. */
int cb_array_new(cb_dtype t, int ndim, const int64_t *shape, cb_array **out);
/* The same, for an array that will live on device (-1: as cb_array_new):
 * its host buffer is pinned memory when device is a GPU, so that copies
 * to and from the device run at full speed in the background. Starts the
 * runtime if needed. */
int cb_array_new_on(cb_dtype t, int ndim, const int64_t *shape, int device,
                    cb_array **out);
/* The same for an array that tasks on device will write before anything
 * reads it: when a dead result of its size and tiles is kept for reuse
 * (with a pinned host buffer, for a GPU), that one, its buffer mapped and
 * its tiles registered already (a fresh buffer costs a page fault every
 * 4 KiB at its first write); else as cb_array_new_on. Either way its
 * elements are undefined. A reused one is in use already: its data may
 * live on a device, so its host buffer is not to be written directly,
 * and cb_array_copy_in and cb_array_set_tile_size refuse it. */
int cb_array_new_result(cb_dtype t, int ndim, const int64_t *shape,
                        int device, cb_array **out);
/* An array over memory owned by the caller (zero-copy). release(arg) is
 * called, from any thread, once no task uses data any more. */
int cb_array_wrap(cb_dtype t, int ndim, const int64_t *shape, void *data,
                  void (*release)(void *arg), void *arg, cb_array **out);
void cb_array_ref(cb_array *a);
/* Drops a reference. The last one frees the array once its tasks end;
 * this never blocks. */
void cb_array_unref(cb_array *a);

cb_dtype cb_array_dtype(const cb_array *a);
int cb_array_ndim(const cb_array *a);
const int64_t *cb_array_shape(const cb_array *a);
int64_t cb_array_size(const cb_array *a);
/* The host buffer; valid to read after cb_array_sync_host succeeded. */
void *cb_array_data(const cb_array *a);
/* Copies the array's elements, in C order, from src into its host buffer
 * before its first use (CB_ESTATE after it, and for an array over the
 * caller's memory), with several threads when they are many: as writing
 * cb_array_data(a) would, at the memory's speed rather than one core's. */
int cb_array_copy_in(cb_array *a, const void *src);

/* Starts moving the array's tiles to device (asynchronous). */
int cb_array_prefetch(cb_array *a, int device);

/* Tiles. An array is cut into tiles when first used, by the device that
 * uses it: cache-friendly tiles shared by the CPU workers, few large ones
 * on a GPU. cb_array_set_tile_size() asks for tile_elems elements a tile
 * instead (0: the default), rounded to whole rows, before the array is
 * first used (CB_ESTATE after); results of element-wise operations take
 * the tiles of their operands. cb_array_tile_size() gives the elements of
 * a tile once the array is in use, else what was asked for (0: default). */
int cb_array_set_tile_size(cb_array *a, int64_t tile_elems);
int64_t cb_array_tile_size(const cb_array *a);
/* The tile size that arrays the calling thread makes from now on ask for,
 * as cb_array_set_tile_size() would (0: the default); results that take
 * the tiles of their operands still do. *previous (when not NULL) gets
 * the value it replaces. CB_EINVAL for a negative size. */
int cb_set_thread_tile_size(int64_t tile_elems, int64_t *previous);

/* Distribution over the ranks of a distributed runtime (StarPU-MPI; see
 * cb_config.distributed). A distributed array is cut along its leading
 * dimension into tiles, each owned by one rank: block gives each rank one
 * run of consecutive rows, cyclic deals the tiles to the ranks in turn
 * (tile i to rank i % nranks). A task runs on the rank that owns what it
 * writes; StarPU-MPI moves what it reads there. Every rank creates, uses
 * and reads distributed arrays in the same order, from one thread.
 * Reading one on the host (cb_array_sync_host_start) brings the whole
 * array to every rank: all ranks call it. cb_array_set_distribution()
 * is called before the array is first used (CB_ESTATE after); results
 * of element-wise operations are distributed as their operands are.
 * Without a distributed runtime a distributed array is an ordinary one. */
typedef enum { CB_DIST_NONE, CB_DIST_BLOCK, CB_DIST_CYCLIC } cb_distribution;
int cb_array_set_distribution(cb_array *a, cb_distribution d);
cb_distribution cb_array_distribution(const cb_array *a);
/* The distribution that arrays the calling thread makes from now on take
 * (CB_DIST_NONE: the default), as cb_set_thread_tile_size() does for
 * tiles; *previous (when not NULL) gets the one it replaces. */
int cb_set_thread_distribution(cb_distribution d, cb_distribution *previous);
/* The rows of a that this rank owns, as runs [first[i], first[i] +
 * count[i]) in order: *n of them, of which the first cap are written (all
 * the rows, in one run, for an array that is not distributed; one run for
 * block). Starts the runtime and tiles the array if needed. */
int cb_array_local_rows(cb_array *a, int64_t *first, int64_t *count,
                        int cap, int *n);
/* This process's rank and the number of ranks (0 and 1 when the runtime
 * is not distributed). */
int cb_rank(void);
int cb_nranks(void);
/* Waits for every task and transfer of this rank, then for every rank to
 * get there; 0 at once when not distributed. Blocks. */
int cb_barrier(void);
/* A lost rank. While this rank has work pending, if nothing of it moves
 * and no job (a Python function, a kernel) runs for CAMBRIAN_RANK_TIMEOUT
 * seconds (default 300; 0: never), another rank
 * is taken to have died or hung: from then on every wait for work that is
 * not done (events, cb_wait_idle, cb_barrier) fails with CB_ERANKLOST,
 * and cb_shutdown() leaves StarPU and MPI as they are, since they would
 * wait for that rank. cb_check_ranks() returns CB_ERANKLOST once that
 * happened, else 0: loops that wait in slices call it. */
int cb_check_ranks(void);

/* Waiting for host data. cb_array_sync_host_start() asks for every pending
 * write to end and for the host copy to be brought up to date; wait on the
 * returned event with cb_event_wait(). */
typedef struct cb_event cb_event;
typedef struct cb_failure cb_failure;
int cb_array_sync_host_start(cb_array *a, cb_event **out);
/* The same for the tiles of a distributed array that this rank owns (its
 * local rows, see cb_array_local_rows): no other rank takes part. */
int cb_array_sync_local_start(cb_array *a, cb_event **out);
/* Waits at most timeout_ms (-1: forever); returns 0 when done,
 * CB_ETIMEDOUT, or the error the event completed with (CB_ESTATE at once
 * in a child created by fork() while the event was pending). Blocks. */
int cb_event_wait(cb_event *e, int timeout_ms);
int cb_event_done(const cb_event *e);
/* Polls for at most us microseconds, without sleeping; returns 1 once the
 * event is done, 0 if it is not by then. */
int cb_event_poll(const cb_event *e, long us);
void cb_event_ref(cb_event *e);
void cb_event_unref(cb_event *e);
/* Calls fn(arg) once the event is done: at once in this thread if it is,
 * else in the thread that completes it (a StarPU worker: fn must be short
 * and must not block). Returns 0, or CB_ENOMEM, or CB_ESTATE in a child
 * created by fork() while the event was pending (fn is then never
 * called). */
int cb_event_on_done(cb_event *e, void (*fn)(void *arg), void *arg);
/* Cancels the operation of an event if none of its tasks has started:
 * returns 1 then (its tasks will not run; the array it writes fails with
 * CB_ECANCELED and its dependents with a dependency failure), else 0. */
int cb_event_cancel(cb_event *e);
/* Whether a task of the event's operation has started (from then on it
 * cannot be cancelled; it stays 1 once the event is done), and whether
 * cb_event_cancel() cancelled it. */
int cb_event_started(const cb_event *e);
int cb_event_cancelled(const cb_event *e);
/* The failure an event completed with: 0 when none, else its code. */
int cb_event_failure(const cb_event *e, cb_failure *out);

/* The event of the operation that writes the array (a new reference), or
 * NULL when no task writes it. */
cb_event *cb_array_writer(cb_array *a);

/* The failure recorded on an array by the task that wrote it, if any:
 * returns 0 when clean, else the error code and fills what happened. */
typedef struct cb_failure_info {
  uint64_t id;             /* unique per failure */
  int code;                /* CB_EDEVICE, CB_EBUILD, CB_EDEPEND, ... */
  int cl_status;           /* OpenCL status, 0 when not an OpenCL error. */
  int device;              /* device id, -1 if unknown. */
  char task[48];           /* operation name. */
  int line;                /* CB_EASSERT: the assertion's source line */
  int64_t item[3];         /* CB_EASSERT: the first failing work-item */
  int rank;                /* the rank it happened on (0 unless
                            * distributed) */
  char device_name[48];    /* the device's filter string, "" if unknown;
                            * a failure from another rank has device -1
                            * and this name */
  char message[1024];
} cb_failure_info;
struct cb_failure {
  cb_failure_info info;
  int has_cause;           /* a dependency failure: cause is the first */
  cb_failure_info cause;   /* failure of the chain */
};
int cb_array_failure(const cb_array *a, cb_failure *out);

/* Failures that no reader has seen: every failure (not dependency ones) is
 * listed until cb_failure_seen() is called with its id. cb_failures_take()
 * takes (copies and forgets) up to cap of them, oldest first, and returns
 * how many it took. */
void cb_failure_seen(uint64_t id);
int cb_failures_take(cb_failure_info *out, int cap);
/* The name of an OpenCL status, such as "CL_OUT_OF_RESOURCES", and back
 * (0 when the name is unknown). */
const char *cb_cl_status_name(int status);
int cb_cl_status_code(const char *name);
/* Failures can be injected for tests: see cambrian/testing.h, which this
 * header does not include. */

/* Device loss. A command that fails while it executes on an OpenCL
 * device (its wait or its event reports an error; allocation failures
 * aside), or an OpenCL call that finds the device's queue or context
 * invalid, leaves the device's context unusable: the device is lost for
 * the rest of the runtime. The failing task fails as usual (CB_EDEVICE);
 * every task that runs there afterwards, pending ones included, fails
 * with CB_EDEVLOST without touching OpenCL, its cause the first fault;
 * new work placed there is refused with CB_EDEVLOST, and work placed by
 * the scheduler goes to the other workers. Data are never moved to or
 * from a lost device again: an array whose only valid copy was there
 * fails with CB_EDEVLOST when it is read elsewhere; one with a valid host
 * copy stays readable. cb_shutdown() looks at each lost device's context:
 * when it still answers (an injected loss, a driver that recovers) the
 * next runtime uses the device again; when it does not, StarPU cannot be
 * stopped cleanly, so it is left as it is and cb_init() refuses to start
 * again in this process (CB_EDEVLOST).
 *
 * cb_device_lost() returns 1 when device was lost in the running runtime,
 * filling *cause (unless NULL) with the first fault, 0 when it was not
 * (or no runtime runs), CB_ENODEV for a device that does not exist. It
 * never starts the runtime. */
int cb_device_lost(int device, cb_failure_info *cause);

/* ------------------------------------------------------------------ */
/* Element-wise operations                                             */
/* ------------------------------------------------------------------ */

/* Operation kinds, by the shape of their loop. */
typedef enum {
  CB_KIND_UNARY,           /* T -> T */
  CB_KIND_MATH,            /* float T -> T; other inputs go through float */
  CB_KIND_BINARY,          /* T, T -> T */
  CB_KIND_DIVIDE,          /* float T, T -> T; other inputs as float64 */
  CB_KIND_MATH2,           /* float T, T -> T; other inputs through float,
                              as CB_KIND_MATH */
  CB_KIND_PART,            /* T -> T; complex T -> the dtype of its parts */
  CB_KIND_COMPOSE,         /* float T, T -> the complex dtype of parts T */
  CB_KIND_TEST,            /* T -> bool */
  CB_KIND_COMPARE,         /* T, T -> bool */
  CB_KIND_WHERE,           /* bool, T, T -> T */
  CB_KIND_CAST,            /* S -> T */
  CB_KIND_FILL,            /* -> T, from a scalar */
  CB_KIND_ARANGE,          /* -> T, start + i * step */
  CB_KIND_INVALID = -1     /* cb_op_get_kind of an op outside the table */
} cb_op_kind;

/* The operation table lives in include/cambrian/elementwise.def. */
typedef enum {
#define X(name, kind, fexpr, iexpr, bexpr, cexpr, types) CB_OP_##name,
#include "cambrian/elementwise.def"
#undef X
  CB_NOPS
} cb_op;

/* "invalid" and CB_KIND_INVALID for a value outside the table. */
const char *cb_op_name(cb_op op);
cb_op_kind cb_op_get_kind(cb_op op);

typedef union cb_scalar {
  double f;
  int64_t i;
  double c[2]; /* complex dtypes: the real part, then the imaginary */
} cb_scalar;

/* An operand is an array, or a scalar. A weak scalar (a Python int, float
 * or bool) takes the array's dtype where NumPy's rules say so. */
typedef struct cb_operand {
  cb_array *array;         /* NULL for a scalar. */
  int device;              /* array placement: device id, -1 for auto. */
  cb_dtype dtype;          /* scalar dtype (arrays: ignored). */
  int weak;                /* scalar only: 1 for a Python scalar, 3 for a
                              Python int in [2**63, 2**64) (its uint64
                              bits in .i), 2 for one beyond (value in
                              .f). */
  cb_scalar value;         /* .f for float dtypes, .c for complex ones,
                              else .i (the bits of a uint64 for
                              CB_UINT64). */
} cb_operand;

/* The dtype NumPy's rules give op over the operands; CB_ETYPE if the
 * operation does not exist for them, CB_ERANGE if a weak integer does not
 * fit the array's integer dtype. */
int cb_result_dtype(cb_op op, const cb_operand *x, int n, cb_dtype *out);

/* Submits op over n operands (shapes equal, or 0-D arrays and scalars,
 * which broadcast). default_device (-1: auto) applies when no operand has
 * a device. out_dtype is the target of CB_OP_cast, else -1. On success
 * *out is a new array (the caller owns a reference) placed on
 * *out_device, written asynchronously. Nothing is submitted on failure. */
int cb_ewise(cb_op op, const cb_operand *x, int n, int default_device,
             int out_dtype, cb_array **out, int *out_device);

/* As cb_ewise, writing the result into dst instead of a new array: dst may
 * be one of the operands (an update in place, ordered after the tasks
 * that read or write it before). dst must have the result's dtype
 * (CB_ETYPE) and shape (CB_ESHAPE); the operands take its tiles. */
int cb_ewise_into(cb_op op, const cb_operand *x, int n, int default_device,
                  int out_dtype, cb_array *dst, int *out_device);

/* As cb_ewise, but returns CB_EAGAIN at once instead of waiting when the
 * runtime is not running or is being stopped: a caller holding a lock
 * (the Python GIL) tries this first, then cb_ewise without the lock. */
int cb_ewise_nonblocking(cb_op op, const cb_operand *x, int n,
                         int default_device, int out_dtype, cb_array **out,
                         int *out_device);

/* Creation with a value: fill or arange over a new array on device (-1:
 * auto). Values are read as .f for float dtypes, .c for complex ones and
 * .i for the others (arange has no complex dtype). */
int cb_full(cb_dtype t, int ndim, const int64_t *shape, cb_scalar value,
            int device, cb_array **out);
int cb_arange(cb_dtype t, int64_t n, cb_scalar start, cb_scalar step,
              int device, cb_array **out);

/* ------------------------------------------------------------------ */
/* Layouts: strided views of an array's elements, and copies between them */
/* ------------------------------------------------------------------ */

/* The elements of an array that an operation reaches: the element at
 * index (i0, ..., i[ndim-1]) of shape is element offset + sum of
 * i[d] * strides[d] of the array's C-ordered data. A stride of 0 repeats
 * an element (broadcasting); a negative one walks backwards. */
typedef struct cb_layout {
  int ndim;
  int64_t shape[CB_MAX_NDIM];
  int64_t strides[CB_MAX_NDIM]; /* in elements */
  int64_t offset;               /* in elements */
} cb_layout;

/* The layout of a whole array: its shape, C-ordered strides, offset 0. */
void cb_layout_of(const cb_array *a, cb_layout *out);

/* Copies the elements of src that from reaches into those of dst that to
 * reaches, pairing them in C order of their shapes, which must be equal
 * (CB_ESHAPE). The dtypes must be equal (CB_ETYPE). Every element reached
 * must lie in its array, and to must not reach an element twice
 * (CB_EINVAL). One task does it on device (-1: the scheduler chooses),
 * ordered after the work submitted before on either array; dst is
 * written asynchronously and keeps the elements to does not reach. src
 * may be dst: the elements are read before any is written. */
int cb_copy_layout(cb_array *src, const cb_layout *from, cb_array *dst,
                   const cb_layout *to, int device);

/* A new C-ordered array of from's shape holding the elements of src that
 * from reaches, written by a task on device (-1: the scheduler chooses),
 * as cb_copy_layout would. *out is a new reference. When from reaches a
 * quarter of src's elements or more, the task is put off (but over MPI
 * ranks): element-wise work reads src through from instead, and the task
 * is submitted when other work reads *out, or before work that writes
 * src, so *out holds src's elements as they were at this call. A smaller
 * part is copied at once: a put-off copy keeps all of src alive. */
int cb_gather(cb_array *src, const cb_layout *from, int device,
              cb_array **out);

/* A view of the elements of src that from reaches (*out, a new
 * reference): an array of from's shape that always holds what src holds
 * there now, not when the view was made, as NumPy's views do. Reading it
 * (a task, or on the host) copies those elements again only if work
 * that writes src was submitted since the last time; element-wise work
 * reads src through from instead. A view keeps src alive. It cannot be
 * written (CB_EINVAL from the operation that would): write src through
 * from, with cb_copy_layout. src cannot be a view (CB_EINVAL): compose
 * the layouts and view src's source (cb_view_source). Over MPI ranks the
 * view is a copy made at once. */
int cb_view(cb_array *src, const cb_layout *from, int device,
            cb_array **out);
/* Whether a is a view (cb_view): then *src, a new reference, and *from
 * are what it views; else *src is NULL. Returns 0. */
int cb_view_source(cb_array *a, cb_array **src, cb_layout *from);

/* A new array (*out, a new reference) holding a rolled by shift rows
 * along its leading dimension (rows past the end come back at the start;
 * a negative shift rolls towards the start), tiled and distributed as a.
 * Each tile of the result is written by one task on device (-1: the
 * scheduler chooses) where that tile lives, which reads a's tile of the
 * same rows and, for the rows that come from other tiles, only those
 * rows, which a small task copies out where their tile lives: over the
 * ranks of a distributed run, only those rows travel (a stencil's halo
 * exchange). CB_EINVAL for a 0-d array. */
int cb_roll_rows(cb_array *a, int64_t shift, int device, cb_array **out);

/* ------------------------------------------------------------------ */
/* Tasks over whole arrays: custom OpenCL kernels, host functions      */
/* ------------------------------------------------------------------ */

/* How a task uses an array. CB_OUT arrays must be written entirely:
 * their former content is not brought to the device. */
typedef enum { CB_IN = 1, CB_OUT = 2, CB_INOUT = 3 } cb_access;

/* An argument: an array with its access, or a scalar of dtype (its bytes
 * in value, size bytes, as the kernel's parameter type has them). */
typedef struct cb_arg {
  cb_array *array;         /* NULL for a scalar or local memory */
  int local;               /* 1: size bytes of __local memory */
  cb_access access;
  cb_dtype dtype;
  size_t size;
  union {
    uint8_t b;
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
    unsigned char bytes[8];
  } value;
} cb_arg;

/* Custom OpenCL kernels. The source is compiled for a device on first
 * use there and cached. CB_ASSERT(cond) in a kernel function records, on
 * its first failure, the line and the work-item in a buffer that is
 * checked after the kernel: the task then fails with CB_EASSERT. Kernels
 * that do not use it pay nothing. */
typedef struct cb_kernel cb_kernel;
int cb_kernel_new(const char *source, const char *name, const char *options,
                  cb_kernel **out);
void cb_kernel_ref(cb_kernel *k);
void cb_kernel_unref(cb_kernel *k);
const char *cb_kernel_name(const cb_kernel *k);

/* Builds the kernel for device (an OpenCL device), at once if it was not
 * built there yet. Blocks. On CB_EBUILD the build log is written to log. */
int cb_kernel_build(cb_kernel *k, int device, char *log, size_t loglen);

/* The parameters of the kernel as built for device. */
typedef struct cb_kernel_param {
  int is_buffer;           /* a __global or __constant pointer */
  int is_local;            /* a __local pointer: sized, no data */
  char type[48];           /* its type as written, such as "float*" */
  char name[48];
} cb_kernel_param;
/* Fills up to cap parameters (the hidden assertion buffer is not shown);
 * returns how many the kernel has, or a negative code. */
int cb_kernel_params(cb_kernel *k, int device, cb_kernel_param *out,
                     int cap);

/* Launches the kernel on device over work_dim (1 to 3) dimensions;
 * local may be NULL. The arguments are checked against its parameters at
 * the call. *out is the event of the launch; its outputs' writer too.
 * *token (unless token is NULL) is a one-element array the launch writes,
 * as cb_task_submit's. */
int cb_kernel_launch(cb_kernel *k, int device, int work_dim,
                     const size_t *global, const size_t *local,
                     const cb_arg *args, int nargs, cb_event **out,
                     cb_array **token);

/* Host functions as tasks: fn(arg, ptrs, ctx) runs on a CPU worker with
 * ptrs[i] the host data of args[i] (scalars are not passed). It returns 0,
 * or reports its failure with cb_task_fail() and returns non-zero.
 * release(arg) runs once the task has ended or was dropped (also when
 * the call fails: fn is then never called). */
typedef struct cb_task_ctx cb_task_ctx;
typedef int (*cb_task_fn)(void *arg, void **ptrs, cb_task_ctx *ctx);
typedef struct cb_task_opts {
  const char *name;        /* failures and traces show it */
  int priority;            /* StarPU priority, 0 by default */
  int device;              /* a CPU device, or -1: any CPU worker */
  int nonblocking;         /* CB_EAGAIN instead of waiting for the runtime
                              (see cb_ewise_nonblocking) */
} cb_task_opts;
/* *out is the call's event. *token (unless token is NULL) is a new
 * one-element array that the call writes: later calls that read it run
 * after it, and fail with a dependency failure if it failed. */
int cb_task_submit(cb_task_fn fn, void *arg, void (*release)(void *arg),
                   const cb_array *const *arrays, const cb_access *access,
                   int narrays, const cb_task_opts *opts, cb_event **out,
                   cb_array **token);
/* Records the failure of the running task (code CB_ETASK unless given)
 * on its outputs; returns its id (cb_failure_info.id). */
uint64_t cb_task_fail(cb_task_ctx *ctx, int code, const char *message);

/* ------------------------------------------------------------------ */
/* Observability                                                       */
/* ------------------------------------------------------------------ */

/* Profiling measures every task (about 2 us each on a small CPU): it is
 * on while a trace records, or when asked for statistics. */
int cb_profiling_set(int enabled);
int cb_profiling_get(void);

#define CB_TRACE_MAX_ARRAYS 4
/* One task as a trace shows it; times in microseconds since the trace
 * began. fetch_* brackets the wait for its data (transfers included). */
typedef struct cb_trace_event {
  char name[48];
  int worker;
  int device;
  double submit_us, fetch_start_us, fetch_end_us, start_us, end_us;
  int failed;
  int nin, nout;           /* the arrays it read and wrote, by identity */
  uintptr_t in[CB_TRACE_MAX_ARRAYS], out[CB_TRACE_MAX_ARRAYS];
} cb_trace_event;

/* Starts recording every task that ends (profiling on). */
int cb_trace_start(void);
/* Stops recording; *events (free() it) gets what was recorded. Profiling
 * goes back to what it was before cb_trace_start. */
int cb_trace_stop(cb_trace_event **events, size_t *n);

/* Statistics gathered while profiling was on, since the last reset. */
typedef struct cb_worker_stats {
  int worker;
  int device;
  int64_t tasks;
  double busy_s, sleeping_s, total_s;
} cb_worker_stats;
typedef struct cb_link_stats {
  int src_device, dst_device; /* -1: main memory */
  int64_t bytes;
  int64_t transfers;
} cb_link_stats;
typedef struct cb_op_stats {
  char name[48];
  int64_t tasks;
  double busy_s;
} cb_op_stats;
/* Fills up to the caps; the counts are written to *nw, *nl, *nop. */
int cb_stats_get(cb_worker_stats *w, int wcap, int *nw, cb_link_stats *l,
                 int lcap, int *nl, cb_op_stats *op, int opcap, int *nop);
int cb_stats_reset(void);

#include "cambrian/reduce.h"
#include "cambrian/linalg.h"
#include "cambrian/graph.h"

/* Waits for every task submitted so far. Blocks. */
int cb_wait_all(void);
/* Waits at most timeout_ms (-1: forever) until no work is pending;
 * returns 0 or CB_ETIMEDOUT (CB_EINTASK inside a task; CB_ESTATE in a
 * child created by fork() after the runtime started, where the parent's
 * work can never end). Blocks. */
int cb_wait_idle(int timeout_ms);

/* Bracket a change of the process's environment (setenv, unsetenv,
 * putenv) made while the runtime may run: begin waits until no codelet of
 * an OpenCL device that runs on the CPU (pocl) is in flight, no OpenCL
 * program is being built and no runtime starts, and keeps them waiting
 * until end (a long kernel holds begin that long). pocl starts its
 * linker with the environment when it builds a kernel, and a change at
 * that moment makes it abort the process. The Python package brackets
 * os.environ's changes so. Begin blocks. */
void cb_environ_change_begin(void);
void cb_environ_change_end(void);

#ifdef __cplusplus
}
#endif
#endif /* CAMBRIAN_H */
