/*
 * Shared declarations of the extension module cambrian._core. Only this
 * folder includes Python.h; the C core knows nothing of Python.
 *
 * Names: cb_ and CB_ belong to the C core's public API. What a file of
 * this folder gives the others is named cbp_ (CBP_ for macros).
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
} cbp_state;

/* The state of the module that a module function is called with. */
static inline cbp_state *mstate(PyObject *module) {
  return PyModule_GetState(module);
}

/* The state of the module that defines obj's type (an Array, an Event). */
static inline cbp_state *state_of(PyObject *obj) {
  return PyType_GetModuleState(Py_TYPE(obj));
}

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

extern PyType_Spec cbp_array_spec;
/* Wraps arr (taking its reference) placed on device (a Device or None). */
PyObject *cbp_array_object_new(cbp_state *st, cb_array *arr, PyObject *device,
                               int dev_id);
/* The device id an Array is placed on now (-1: auto); -2 with an error. */
int cbp_array_object_device(cbp_state *st, ArrayObject *a);
/* Waits for the array's host copy; the GIL is released, Ctrl-C works. */
int cbp_array_object_sync(cbp_state *st, ArrayObject *a);

/* ---- operations.c ---- */

/* Converts obj into an operand: Array, Python scalar (weak), NumPy scalar
 * (strong) or buffer (wrapped zero-copy, *tmp owns it). Returns 1 on
 * success, 0 when obj cannot be an operand (no error set), -1 on error. */
int cbp_to_operand(cbp_state *st, PyObject *obj, cb_operand *op,
                   PyObject **tmp);
/* Runs an element-wise operation over Python operands. */
PyObject *cbp_apply(cbp_state *st, cb_op op, PyObject *const *args,
                    Py_ssize_t n, int out_dtype);
/* The device id of a Device object (or None: -1); -2 with an error. */
int cbp_device_id(cbp_state *st, PyObject *device);
/* Parses a dtype argument (None: -1, str name, numpy dtype or type). */
int cbp_dtype_arg(cbp_state *st, PyObject *obj, int *out);
PyObject *cbp_numpy(cbp_state *st);
PyObject *cbp_dtype_object(cbp_state *st, cb_dtype t);

extern PyMethodDef cbp_operation_methods[];
/* ---- futures.c ---- */
extern PyMethodDef cbp_future_methods[];
/* Event objects: the completion of a kernel launch or a task call. */
typedef struct {
  PyObject_HEAD
  cb_event *ev;
  PyObject *token;           /* the Array that tasks depending on it read */
} EventObject;
extern PyType_Spec cbp_event_spec;
/* Wraps e (taking its reference) and token (borrowed; may be NULL). */
PyObject *cbp_event_object_new(cbp_state *st, cb_event *e, PyObject *token);
/* Waits for e at most timeout seconds (negative: forever) with the GIL
 * released, checking for signals every 50 ms: 1 when done, 0 on timeout,
 * -1 with the signal handler's exception set. */
int cbp_event_wait_interruptibly(cb_event *e, double timeout);

/* ---- kernels.c, tasks.c, reductions.c, linalg.c ---- */
extern PyMethodDef cbp_kernel_methods[];
extern PyMethodDef cbp_observe_methods[];
extern PyMethodDef cbp_graph_methods[];
extern PyMethodDef cbp_task_methods[];
extern PyMethodDef cbp_reduction_methods[];
/* Array methods of reductions.c: sum, min, max, mean (axis=None), dot. */
PyObject *cbp_array_sum(PyObject *self, PyObject *const *args,
                        Py_ssize_t nargs, PyObject *kwnames);
PyObject *cbp_array_min(PyObject *self, PyObject *const *args,
                        Py_ssize_t nargs, PyObject *kwnames);
PyObject *cbp_array_max(PyObject *self, PyObject *const *args,
                        Py_ssize_t nargs, PyObject *kwnames);
PyObject *cbp_array_mean(PyObject *self, PyObject *const *args,
                         Py_ssize_t nargs, PyObject *kwnames);
PyObject *cbp_array_dot(PyObject *self, PyObject *other);
#define CBP__REDUCTION_METHOD(name, doc)                                     \
  {#name, (PyCFunction)(void (*)(void))cbp_array_##name,                     \
   METH_FASTCALL | METH_KEYWORDS, doc}
#define CBP_ARRAY_REDUCTION_METHODS                                          \
  CBP__REDUCTION_METHOD(sum, "sum(axis=None): the sum (asynchronous)."),     \
  CBP__REDUCTION_METHOD(min, "min(axis=None): the minimum (asynchronous)."), \
  CBP__REDUCTION_METHOD(max, "max(axis=None): the maximum (asynchronous)."), \
  CBP__REDUCTION_METHOD(mean, "mean(axis=None): the mean (asynchronous)."),  \
  {"dot", (PyCFunction)cbp_array_dot, METH_O,                                \
   "dot(other): the dot product of two vectors (asynchronous)."},
extern PyMethodDef cbp_linalg_methods[];
/* x @ y; with probe, NotImplemented when an operand cannot be one. */
PyObject *cbp_matmul(cbp_state *st, PyObject *x, PyObject *y, int probe);
/* a.T: a new transposed array (a itself when it is 0-D or 1-D). */
PyObject *cbp_transpose(cbp_state *st, PyObject *a);

/* ---- errors.c ---- */

/* Raises the Python exception for a CB_E* code and the last message. */
PyObject *cbp_raise(cbp_state *st, int err);
/* Raises the exception for an array's recorded failure; returns -1. */
int cbp_raise_failure(cbp_state *st, const cb_failure *f);
/* The exception instance for a failure, with the first failure of a
 * dependency chain as __cause__ and that failure's id as _cb_failure; the
 * failure counts as seen when seen is 1. */
PyObject *cbp_failure_exception(cbp_state *st, const cb_failure *f, int seen);
PyObject *cbp_failure_info_exception(cbp_state *st, const cb_failure_info *f);

#endif
