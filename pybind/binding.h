/*
 * Shared declarations of the extension module cambrian._core. Only this
 * folder includes Python.h; the C core knows nothing of Python, and this
 * folder knows the core only through its public API (cambrian.h).
 *
 * Names: cb_ and CB_ belong to the C core. What a file of this folder
 * gives the others is named cbp_ (CBP_ for macros); the rest is static.
 *
 * The files form a stack, listed here from the bottom: a file calls the
 * non-static functions of files earlier in the list only, never of a
 * later one, so that their calls draw no cycle.
 *
 *   messages.c      StarPU's messages into Python's logging
 *   errors.c        C error codes and recorded failures as exceptions
 *   args.c          arguments to C values: dtypes, reductions, devices,
 *                   the default device, (capsule, int) pairs; NumPy and
 *                   its dtype objects
 *   futures.c       the completion path: queues, Event objects, waiting,
 *                   cancelling, failures
 *   array_object.c  an Array object's life: making one, its placement,
 *                   waiting for its host copy
 *   convert.c       Python objects as operands: Arrays, scalars, buffers
 *   operations.c    element-wise operations
 *   creation.c      empty, full, arange and arrays from buffers
 *   reductions.c    reductions and the dot product
 *   linalg.c        matmul, gemm, gemv and transpose
 *   array_type.c    the cambrian.Array type: buffer protocol, properties,
 *                   methods and operators
 *   runtime.c, observe.c, graphs.c, kernels.c, tasks.c, testing.c
 *                   module functions, none calling another of these
 *   module.c        the module: its state, types and functions
 *
 * The sections below follow the same order.
 */
#ifndef CAMBRIAN_BINDING_H
#define CAMBRIAN_BINDING_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "cambrian.h"

/* Module state: types, exception classes and cached objects. */
typedef struct {
  PyTypeObject *array_type;
  PyObject *CambrianError;
  PyObject *DeviceError;
  PyObject *DeviceMemoryError;
  PyObject *KernelBuildError;
  PyObject *DeviceAssertionError;
  PyObject *DeviceLostError;
  PyObject *RankLostError;
  PyObject *TaskError;
  PyTypeObject *event_type;
  PyObject *task_errors;     /* failure id -> TaskError raised by a task */
  PyObject *DependencyError;
  PyObject *DeviceNotFoundError;
  PyObject *CancelledError;  /* concurrent.futures.CancelledError */
  PyObject *default_device;  /* callable() -> Device or None */
  PyObject *device_factory;  /* callable(id or spec) -> Device or None */
  PyObject *future_factory;  /* callable(array) -> cambrian.Future */
  PyObject *numpy;           /* imported on first use */
  PyObject *dtypes[CB_NDTYPES]; /* numpy dtype objects, on first use */
} cbp_state;

/* The state of the module that a module function is called with. */
static inline cbp_state *mstate(PyObject *module) {
  return PyModule_GetState(module);
}

/* The state of the module that defines obj's type (an Array, an Event). */
static inline cbp_state *state_of(PyObject *obj) {
  return PyType_GetModuleState(Py_TYPE(obj));
}

/* An Array: a handle on a C array and its placement. */
typedef struct {
  PyObject_HEAD
  cb_array *arr;
  PyObject *device;          /* a Device, or None for automatic placement */
  int dev_id;                /* device id in runtime generation dev_gen */
  unsigned dev_gen;
  Py_ssize_t shape[CB_MAX_NDIM];
  Py_ssize_t strides[CB_MAX_NDIM];
  PyObject *future;          /* made on first use; a weak reference
                              * once its operation succeeded */
  PyObject *weakreflist;
  PyObject *interrupt;       /* what a signal handler raised while the
                              * buffer export waited (array_type.c) */
  unsigned long interrupt_thread; /* the thread it was raised in */
  unsigned long local_thread; /* a thread exporting the rows this rank
                               * owns (Array.local), else 0 */
} ArrayObject;

/* An Event: the completion of a kernel launch or a task call. */
typedef struct {
  PyObject_HEAD
  cb_event *ev;
  PyObject *token;           /* the Array that tasks depending on it read */
} EventObject;

/* Whether obj is an Array of the module whose state st is. */
static inline int cbp_is_array(cbp_state *st, PyObject *obj) {
  return Py_TYPE(obj) == st->array_type;
}

/* The C array of an Array. */
static inline cb_array *cbp_arr(PyObject *obj) {
  return ((ArrayObject *)obj)->arr;
}

/* The exception set now, taken aside (NULL when none) while other code
 * runs, and set again. */
static inline PyObject *cbp_error_take(void) {
#if PY_VERSION_HEX >= 0x030C0000
  return PyErr_GetRaisedException();
#else
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  if (value && tb)
    PyException_SetTraceback(value, tb);
  Py_XDECREF(type);
  Py_XDECREF(tb);
  return value;
#endif
}

static inline void cbp_error_restore(PyObject *exc) {
#if PY_VERSION_HEX >= 0x030C0000
  PyErr_SetRaisedException(exc);
#else
  if (exc)
    PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(exc)), exc,
                  PyException_GetTraceback(exc));
#endif
}

/* A function of another signature than PyCFunction's (METH_FASTCALL,
 * METH_KEYWORDS) as a PyMethodDef's ml_meth. */
#define CBP_METH(fn) ((PyCFunction)(void (*)(void))(fn))

/* ---- messages.c ---- */

/* Hands StarPU's messages to the logger "cambrian.starpu" from now on
 * (start), or back to stderr (stop). */
void cbp_messages_start(void);
void cbp_messages_stop(void);
/* Logs the messages queued so far; the GIL held. Returns 0. */
int cbp_messages_drain(void);

/* ---- errors.c ---- */

/* Raises the Python exception for a CB_E* code and the last message;
 * returns NULL. */
PyObject *cbp_raise(cbp_state *st, int err);
/* Raises the exception for an array's recorded failure; returns -1. */
int cbp_raise_failure(cbp_state *st, const cb_failure *f);
/* The exception instance for a failure, with the first failure of a
 * dependency chain as __cause__ and that failure's id as _cb_failure; the
 * failure counts as seen when seen is 1. */
PyObject *cbp_failure_exception(cbp_state *st, const cb_failure *f,
                                int seen);
/* The exception instance for one failure, without its cause. */
PyObject *cbp_failure_info_exception(cbp_state *st,
                                     const cb_failure_info *f);

/* ---- args.c ---- */

/* The numpy module (a borrowed reference), imported on first use. */
PyObject *cbp_numpy(cbp_state *st);
/* The numpy.dtype of t (a borrowed reference). */
PyObject *cbp_dtype_object(cbp_state *st, cb_dtype t);
/* The UTF-8 text of str obj for the argument named what: TypeError if
 * obj is not a str, ValueError if it holds a NUL character (C would take
 * it for the end of the text). NULL with the error set. */
const char *cbp_text_arg(PyObject *obj, const char *what);
/* Parses a dtype argument (None: -1, str name, numpy dtype or type). */
int cbp_dtype_arg(cbp_state *st, PyObject *obj, int *out);
/* Reads the integers of obj, an iterable of at most max of them, into
 * out, and their number into *n. It reads no more than max + 1 items, so
 * that a long sequence (an Array of millions of elements given as a
 * shape) is refused before they are made. 0; -2, with no exception set,
 * when obj has more than max (*n: its length, or -1 when it has none);
 * -1 with an exception for anything else. */
int cbp_int_items(PyObject *obj, int max, long long *out, Py_ssize_t *n);
/* Reads a shape, an iterable of at most CB_MAX_NDIM integers, as
 * cbp_int_items does: 0, or -1 with an exception (ValueError for too
 * many). */
int cbp_shape_items(PyObject *obj, int64_t *shape, int *ndim);
/* The reduction named name (as cb_reduce_name gives it), or -1. */
int cbp_reduce_from_name(const char *name);
/* The device id of a Device object (or None: -1); -2 with an error. */
int cbp_device_id(cbp_state *st, PyObject *device);
/* The device for work that no operand places (a new reference):
 * cambrian.default_device(), else None. */
PyObject *cbp_default_device(cbp_state *st);
/* The default device of work whose operands are placed or not: None and
 * -1 when placed, else cbp_default_device() and its id. Returns 0, or
 * -1 with an error (*device is then NULL). */
int cbp_work_device(cbp_state *st, int placed, PyObject **device,
                    int *id);
/* The (capsule, int) arguments of a module function: the pointer of the
 * capsule named capsule, and the int in *value; NULL with an error set
 * (TypeError with usage when nothing else was raised). */
void *cbp_capsule_int_args(PyObject *const *args, Py_ssize_t nargs,
                           const char *capsule, const char *usage,
                           int *value);

/* ---- futures.c ---- */

extern PyType_Spec cbp_event_spec;
/* The base of cambrian.Future, whose finalizer is C (see futures.c). */
extern PyType_Spec cbp_future_base_spec;
extern PyMethodDef cbp_future_methods[];
/* Wraps e (taking its reference) and token (borrowed; may be NULL). */
PyObject *cbp_event_object_new(cbp_state *st, cb_event *e, PyObject *token);
/* Waits for e at most timeout seconds (negative: forever) with the GIL
 * released, checking for signals every 50 ms: 1 when done, 0 on timeout,
 * -1 with the signal handler's exception set, -2 (no exception set) when
 * called from inside a task, where the wait could deadlock (CB_EINTASK),
 * -3 (no exception set) in a child created by fork() while e was pending,
 * where it can never end (CB_ESTATE), -4 (no exception set) when a rank
 * the work needs was lost (CB_ERANKLOST). */
int cbp_event_wait_interruptibly(cb_event *e, double timeout);

/* ---- array_object.c ---- */

/* Wraps arr (taking its reference) placed on device (a Device or None). */
PyObject *cbp_array_object_new(cbp_state *st, cb_array *arr,
                               PyObject *device, int dev_id);
/* The device id an Array is placed on now (-1: auto); -2 with an error. */
int cbp_array_object_device(cbp_state *st, ArrayObject *a);
/* Waits for the array's host copy; the GIL is released, Ctrl-C works.
 * Returns 0, -1 with the array's failure raised, or -2 with what a
 * signal handler raised during the wait (KeyboardInterrupt). */
int cbp_array_object_sync(cbp_state *st, ArrayObject *a);
/* The same for the tiles this rank owns when mine (Array.local). */
int cbp_array_object_sync_part(cbp_state *st, ArrayObject *a, int mine);

/* ---- convert.c ---- */

/* Whether dtype t is complex64 or complex128. */
int cbp_dtype_complex(int t);
/* NumPy's ComplexWarning when a cast from dtype from to dtype to drops
 * imaginary parts; 0, or -1 with an error set (the warning turned into
 * an error, or NumPy without it). */
int cbp_warn_complex_discard(int from, int to);

/* Converts obj into an operand: Array, Python scalar (weak), NumPy scalar
 * (strong) or buffer (wrapped zero-copy, *tmp owns it). Returns 1 on
 * success, 0 when obj cannot be an operand (no error set), -1 on error. */
int cbp_to_operand(cbp_state *st, PyObject *obj, cb_operand *op,
                   PyObject **tmp);
/* Raises the exception for code rc of work over n operands (objs,
 * converted into ops): as cbp_raise, except that a Python integer beyond
 * int64 that the core names by its nearest double is named exactly.
 * Returns NULL. */
PyObject *cbp_raise_operands(cbp_state *st, int rc, PyObject *const *objs,
                             const cb_operand *ops, int n);
/* The Device object for a result placed on dev by work over n operands
 * (objs, converted into ops): the one of an operand placed there, else
 * dflt (dev >= 0) or None. A borrowed reference. */
PyObject *cbp_result_device(int dev, PyObject *dflt, PyObject *const *objs,
                            const cb_operand *ops, int n);
/* Opens obj's buffer: *view (on the heap) and its dtype; -1 with an
 * error, also when cambrian has no dtype for its element format or it
 * has more than CB_MAX_NDIM dimensions. */
int cbp_buffer_open(PyObject *obj, Py_buffer **view, int *dtype);
/* Releases and frees a view from cbp_buffer_open. */
void cbp_buffer_close(Py_buffer *view);
/* A C array over the view (zero-copy, the view released with the array)
 * or, when copy is set or the buffer is not C-contiguous, over a copy in
 * a host buffer suited to device (pinned for a GPU; the view released
 * now). The view is taken even on error. */
int cbp_array_from_buffer(cbp_state *st, Py_buffer *view, int dtype,
                          int copy, int device, cb_array **out);

/* ---- operations.c ---- */

extern PyMethodDef cbp_operation_methods[];
/* Runs an element-wise operation over Python operands. */
PyObject *cbp_apply(cbp_state *st, cb_op op, PyObject *const *args,
                    Py_ssize_t n, int out_dtype);
/* The same, writing into the Array dst (which may be an operand): an
 * update in place. Returns dst (a new reference). */
PyObject *cbp_apply_into(cbp_state *st, cb_op op, PyObject *const *args,
                         Py_ssize_t n, PyObject *dst);

/* ---- creation.c ---- */

extern PyMethodDef cbp_creation_methods[];

/* ---- reductions.c ---- */

extern PyMethodDef cbp_reduction_methods[];
/* The reduction op of x along axis (None or an int), as a new Array. */
PyObject *cbp_reduce(cbp_state *st, cb_reduce_op op, PyObject *x,
                     PyObject *axis);
/* The dot product of two vectors, as a new 0-D Array. */
PyObject *cbp_dot(cbp_state *st, PyObject *x, PyObject *y);

/* ---- layout.c ---- */

extern PyMethodDef cbp_layout_methods[];

/* ---- linalg.c ---- */

extern PyMethodDef cbp_linalg_methods[];
/* x @ y; with probe, NotImplemented when an operand cannot be one. */
PyObject *cbp_matmul(cbp_state *st, PyObject *x, PyObject *y, int probe);
/* a.T: a new transposed array (a itself when it is 0-D or 1-D). */
PyObject *cbp_transpose(cbp_state *st, PyObject *a);

/* ---- array_type.c ---- */

extern PyType_Spec cbp_array_spec;
/* The operation of future, the array's, succeeded: the array keeps it
 * only through a weak reference from now on. 0, or -1 with an error
 * set. */
int cbp_array_settle_future(PyObject *array, PyObject *future);

/* ---- runtime.c, observe.c, graphs.c, kernels.c, tasks.c, testing.c ---- */

extern PyMethodDef cbp_runtime_methods[];
extern PyMethodDef cbp_observe_methods[];
extern PyMethodDef cbp_graph_methods[];
extern PyMethodDef cbp_kernel_methods[];
extern PyMethodDef cbp_task_methods[];
extern PyMethodDef cbp_testing_methods[];

#endif
