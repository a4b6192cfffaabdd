/*
 * Shared declarations of the extension module cambrian._core. Only this
 * folder includes Python.h; the C core knows nothing of Python.
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
} cb_state;

cb_state *cb_state_of_type(PyTypeObject *tp);

/* ---- array_object.c ---- */

typedef struct {
  PyObject_HEAD
  cb_array *arr;
  PyObject *device;          /* a Device, or None for automatic placement */
  int dev_id;                /* device id in runtime generation dev_gen */
  unsigned dev_gen;
  Py_ssize_t shape[CB_MAX_NDIM];
  Py_ssize_t strides[CB_MAX_NDIM];
  PyObject *future;          /* created on first use */
  PyObject *weakreflist;
} ArrayObject;

extern PyType_Spec cb_array_spec;
/* Wraps arr (taking its reference) placed on device (a Device or None). */
PyObject *cb_array_object_new(cb_state *st, cb_array *arr, PyObject *device,
                              int dev_id);
/* The device id an Array is placed on now (-1: auto); -2 with an error. */
int cb_array_object_device(cb_state *st, ArrayObject *a);
/* Waits for the array's host copy; the GIL is released, Ctrl-C works. */
int cb_array_object_sync(cb_state *st, ArrayObject *a);

/* ---- operations.c ---- */

/* Converts obj into an operand: Array, Python scalar (weak), NumPy scalar
 * (strong) or buffer (wrapped zero-copy, *tmp owns it). Returns 1 on
 * success, 0 when obj cannot be an operand (no error set), -1 on error. */
int cb_to_operand(cb_state *st, PyObject *obj, cb_operand *op,
                  PyObject **tmp);
/* Runs an element-wise operation over Python operands. */
PyObject *cb_apply(cb_state *st, cb_op op, PyObject *const *args,
                   Py_ssize_t n, int out_dtype);
/* The device id of a Device object (or None: -1); -2 with an error. */
int cb_device_id(cb_state *st, PyObject *device);
/* Parses a dtype argument (None: -1, str name, numpy dtype or type). */
int cb_dtype_arg(cb_state *st, PyObject *obj, int *out);
PyObject *cb_numpy(cb_state *st);
PyObject *cb_dtype_object(cb_state *st, cb_dtype t);

extern PyMethodDef cb_operation_methods[];
/* ---- futures.c ---- */
extern PyMethodDef cb_future_methods[];
/* Event objects: the completion of a kernel launch or a task call. */
typedef struct {
  PyObject_HEAD
  cb_event *ev;
  PyObject *token;           /* the Array that tasks depending on it read */
} EventObject;
extern PyType_Spec cb_event_spec;
/* Wraps e (taking its reference) and token (borrowed; may be NULL). */
PyObject *cb_event_object_new(cb_state *st, cb_event *e, PyObject *token);
/* Waits for e at most timeout seconds (negative: forever) with the GIL
 * released, checking for signals every 50 ms: 1 when done, 0 on timeout,
 * -1 with the signal handler's exception set. */
int cb_event_wait_interruptibly(cb_event *e, double timeout);

/* ---- kernels.c, tasks.c, reductions.c, linalg.c ---- */
extern PyMethodDef cb_kernel_methods[];
extern PyMethodDef cb_observe_methods[];
extern PyMethodDef cb_graph_methods[];
extern PyMethodDef cb_task_methods[];
extern PyMethodDef cb_reduction_methods[];
/* Array methods of reductions.c: sum, min, max, mean (axis=None), dot. */
PyObject *cb_array_sum(PyObject *self, PyObject *const *args,
                       Py_ssize_t nargs, PyObject *kwnames);
PyObject *cb_array_min(PyObject *self, PyObject *const *args,
                       Py_ssize_t nargs, PyObject *kwnames);
PyObject *cb_array_max(PyObject *self, PyObject *const *args,
                       Py_ssize_t nargs, PyObject *kwnames);
PyObject *cb_array_mean(PyObject *self, PyObject *const *args,
                        Py_ssize_t nargs, PyObject *kwnames);
PyObject *cb_array_dot(PyObject *self, PyObject *other);
#define CB__REDUCTION_METHOD(name, doc)                                     \
  {#name, (PyCFunction)(void (*)(void))cb_array_##name,                      \
   METH_FASTCALL | METH_KEYWORDS, doc}
#define CB_ARRAY_REDUCTION_METHODS                                          \
  CB__REDUCTION_METHOD(sum, "sum(axis=None): the sum (asynchronous)."),      \
  CB__REDUCTION_METHOD(min, "min(axis=None): the minimum (asynchronous)."),  \
  CB__REDUCTION_METHOD(max, "max(axis=None): the maximum (asynchronous)."),  \
  CB__REDUCTION_METHOD(mean, "mean(axis=None): the mean (asynchronous)."),   \
  {"dot", (PyCFunction)cb_array_dot, METH_O,                                 \
   "dot(other): the dot product of two vectors (asynchronous)."},
extern PyMethodDef cb_linalg_methods[];
/* x @ y; with probe, NotImplemented when an operand cannot be one. */
PyObject *cb_linalg_matmul(cb_state *st, PyObject *x, PyObject *y,
                           int probe);
/* a.T: a new transposed array (a itself when it is 0-D or 1-D). */
PyObject *cb_linalg_transpose(cb_state *st, PyObject *a);

/* ---- errors.c ---- */

/* Raises the Python exception for a CB_E* code and the last message. */
PyObject *cb_raise(cb_state *st, int err);
/* Raises the exception for an array's recorded failure; returns -1. */
int cb_raise_failure(cb_state *st, const cb_failure *f);
/* The exception instance for a failure, with the first failure of a
 * dependency chain as __cause__ and that failure's id as _cb_failure; the
 * failure counts as seen when seen is 1. */
PyObject *cb_failure_exception(cb_state *st, const cb_failure *f, int seen);
PyObject *cb_failure_info_exception(cb_state *st, const cb_failure_info *f);

#endif
