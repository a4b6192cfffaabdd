/*
 * Array creation: empty, full (zeros and ones in Python), arange, and
 * arrays over objects with the buffer protocol (cambrian.asarray). Work
 * that may block (starting the runtime, writing the values) runs with
 * the GIL released.
 */
#include <limits.h>

#include "binding.h"

static int shape_arg(PyObject *obj, int *ndim, int64_t *shape) {
  if (PyLong_Check(obj)) {
    *ndim = 1;
    shape[0] = PyLong_AsLongLong(obj);
    return PyErr_Occurred() ? -1 : 0;
  }
  return cbp_shape_items(obj, shape, ndim);
}

/* The smallest and largest values of an integer dtype (uint64's largest
 * does not fit: UINT64 is checked apart); int64's for a value that is no
 * dtype, which the core refuses afterwards. */
static void int_range(cb_dtype t, long long *lo, long long *hi) {
  int bits = (unsigned)t < CB_NDTYPES ? 8 * (int)cb_dtype_size(t) : 64;
  int is_unsigned = t == CB_UINT8 || t == CB_UINT16 || t == CB_UINT32 ||
                    t == CB_UINT64;
  if (is_unsigned) {
    *lo = 0;
    *hi = bits >= 64 ? LLONG_MAX : (1LL << bits) - 1;
  } else {
    *lo = bits >= 64 ? LLONG_MIN : -(1LL << (bits - 1));
    *hi = bits >= 64 ? LLONG_MAX : (1LL << (bits - 1)) - 1;
  }
}

/* A fill value converted as NumPy does for a dtype: floats truncate
 * towards zero for integers, anything is true or false for bool, and a
 * Python integer out of the dtype's range raises OverflowError. A uint64
 * is held as its bits; a complex value as its parts. */
static int scalar_arg(PyObject *obj, cb_dtype t, cb_scalar *out) {
  if (cbp_dtype_complex(t)) {
    Py_complex c = PyComplex_AsCComplex(obj);
    out->c[0] = c.real;
    out->c[1] = c.imag;
    return PyErr_Occurred() ? -1 : 0;
  }
  if (t == CB_FLOAT16 || t == CB_FLOAT32 || t == CB_FLOAT64) {
    out->f = PyFloat_AsDouble(obj);
    return PyErr_Occurred() ? -1 : 0;
  }
  if (t == CB_BOOL) {
    int b = PyObject_IsTrue(obj);
    out->i = b;
    return b < 0 ? -1 : 0;
  }
  long long lo, hi;
  int_range(t, &lo, &hi);
  PyObject *i = PyNumber_Index(obj);
  if (!i) {
    PyErr_Clear();
    PyObject *f = PyNumber_Float(obj);
    if (!f)
      return -1;
    double d = PyFloat_AS_DOUBLE(f);
    /* Truncated towards zero, d must fit the dtype; NaN fits none. */
    double top = t == CB_UINT64 ? 18446744073709551616.0
                 : hi == LLONG_MAX ? 9223372036854775808.0
                                   : (double)hi + 1.0;
    int fits = d > (double)lo - 1.0 && d < top;
    if (!fits) {
      /* PyErr_Format has no %g: the float as repr() writes it. */
      PyErr_Format(PyExc_OverflowError, "cannot convert float %R to %s",
                   f, cb_dtype_name(t));
      Py_DECREF(f);
      return -1;
    }
    Py_DECREF(f);
    out->i = t == CB_UINT64 && d >= 9223372036854775808.0
                 ? (int64_t)(uint64_t)d
                 : (int64_t)d;
    return 0;
  }
  int bad = 0;
  if (t == CB_UINT64) {
    unsigned long long u = PyLong_AsUnsignedLongLong(i);
    bad = u == (unsigned long long)-1 && PyErr_Occurred();
    out->i = (int64_t)u;
  } else {
    int overflow;
    out->i = PyLong_AsLongLongAndOverflow(i, &overflow);
    if (out->i == -1 && PyErr_Occurred()) {
      Py_DECREF(i);
      return -1;
    }
    bad = overflow || out->i < lo || out->i > hi;
  }
  if (bad) {
    PyErr_Clear();
    PyErr_Format(PyExc_OverflowError,
                 "Python integer %S out of bounds for %s", i,
                 cb_dtype_name(t));
    Py_DECREF(i);
    return -1;
  }
  Py_DECREF(i);
  return 0;
}

static PyObject *wrap_result(cbp_state *st, int rc, cb_array *arr,
                             PyObject *device, int id) {
  if (rc)
    return cbp_raise(st, rc);
  return cbp_array_object_new(st, arr, device, id);
}

/* full(shape, dtype, value, device) */
static PyObject *py_full(PyObject *module, PyObject *const *args,
                         Py_ssize_t nargs) {
  cbp_state *st = mstate(module);
  int ndim, t, id;
  int64_t shape[CB_MAX_NDIM];
  cb_scalar value;
  if (nargs != 4) {
    PyErr_SetString(PyExc_TypeError, "full(shape, dtype, value, device)");
    return NULL;
  }
  if (shape_arg(args[0], &ndim, shape) || cbp_dtype_arg(st, args[1], &t) ||
      scalar_arg(args[2], (cb_dtype)t, &value) ||
      (id = cbp_device_id(st, args[3])) < -1)
    return NULL;
  cb_array *arr;
  int rc;
  Py_BEGIN_ALLOW_THREADS
  rc = cb_full((cb_dtype)t, ndim, shape, value, id, &arr);
  Py_END_ALLOW_THREADS
  return wrap_result(st, rc, arr, args[3], id);
}

/* empty(shape, dtype, device), and empty_result: the same for a result
 * that tasks write whole before anything reads it, which may take over a
 * dead result's buffer and tiles (cb_array_new_result). */
static PyObject *new_empty(PyObject *module, PyObject *const *args,
                           Py_ssize_t nargs, const char *name, int result) {
  cbp_state *st = mstate(module);
  int ndim, t, id;
  int64_t shape[CB_MAX_NDIM];
  if (nargs != 3) {
    PyErr_Format(PyExc_TypeError, "%s(shape, dtype, device)", name);
    return NULL;
  }
  if (shape_arg(args[0], &ndim, shape) || cbp_dtype_arg(st, args[1], &t) ||
      (id = cbp_device_id(st, args[2])) < -1)
    return NULL;
  cb_array *arr;
  int rc;
  Py_BEGIN_ALLOW_THREADS
  rc = result ? cb_array_new_result((cb_dtype)t, ndim, shape, id, &arr)
              : cb_array_new_on((cb_dtype)t, ndim, shape, id, &arr);
  Py_END_ALLOW_THREADS
  return wrap_result(st, rc, arr, args[2], id);
}

static PyObject *py_empty(PyObject *module, PyObject *const *args,
                          Py_ssize_t nargs) {
  return new_empty(module, args, nargs, "empty", 0);
}

static PyObject *py_empty_result(PyObject *module, PyObject *const *args,
                                 Py_ssize_t nargs) {
  return new_empty(module, args, nargs, "empty_result", 1);
}

/* arange(n, start, step, dtype, device) */
static PyObject *py_arange(PyObject *module, PyObject *const *args,
                           Py_ssize_t nargs) {
  cbp_state *st = mstate(module);
  int t, id;
  long long n;
  cb_scalar start, step;
  if (nargs != 5) {
    PyErr_SetString(PyExc_TypeError, "arange(n, start, step, dtype, device)");
    return NULL;
  }
  n = PyLong_AsLongLong(args[0]);
  if ((n == -1 && PyErr_Occurred()) || cbp_dtype_arg(st, args[3], &t) ||
      scalar_arg(args[1], (cb_dtype)t, &start) ||
      scalar_arg(args[2], (cb_dtype)t, &step) ||
      (id = cbp_device_id(st, args[4])) < -1)
    return NULL;
  long long lo, hi, span, last;
  /* Narrow integers: the last value must fit (complex start and step
   * are .c, and cb_arange refuses them). */
  if ((unsigned)t < CB_NDTYPES && t != CB_BOOL && t != CB_FLOAT16 &&
      t != CB_FLOAT32 && t != CB_FLOAT64 && t != CB_INT64 && t != CB_UINT64 &&
      !cbp_dtype_complex(t) && n > 0) {
    int_range((cb_dtype)t, &lo, &hi);
    if (__builtin_mul_overflow((long long)step.i, n - 1, &span) ||
        __builtin_add_overflow((long long)start.i, span, &last) ||
        last < lo || last > hi) {
      PyErr_Format(PyExc_OverflowError,
                   "arange: values out of bounds for %s",
                   cb_dtype_name((cb_dtype)t));
      return NULL;
    }
  }
  cb_array *arr;
  int rc;
  Py_BEGIN_ALLOW_THREADS
  rc = cb_arange((cb_dtype)t, n, start, step, id, &arr);
  Py_END_ALLOW_THREADS
  return wrap_result(st, rc, arr, args[4], id);
}

/* asarray_buffer(obj, dtype, device, copy): obj supports the buffer
 * protocol. Zero-copy when it is C-contiguous, of the dtype asked for and
 * copy is not True; otherwise a copy, converted by a cast task. */
static PyObject *py_asarray_buffer(PyObject *module, PyObject *const *args,
                                   Py_ssize_t nargs) {
  cbp_state *st = mstate(module);
  int want, src, id;
  if (nargs != 4) {
    PyErr_SetString(PyExc_TypeError,
                    "asarray_buffer(obj, dtype, device, copy)");
    return NULL;
  }
  int copy = args[3] == Py_True, nocopy = args[3] == Py_False;
  Py_buffer *v;
  if (cbp_dtype_arg(st, args[1], &want) ||
      (id = cbp_device_id(st, args[2])) < -1 ||
      cbp_buffer_open(args[0], &v, &src))
    return NULL;
  if (want < 0)
    want = src;
  if (nocopy && (want != src || !PyBuffer_IsContiguous(v, 'C'))) {
    cbp_buffer_close(v);
    PyErr_SetString(PyExc_ValueError,
                    "copy=False, but the input needs a copy (another dtype "
                    "or not C-contiguous)");
    return NULL;
  }
  /* A copy is a snapshot taken now, on the host; a conversion then runs
   * as a task over that snapshot. */
  int host_copy = copy || want != src;
  if (cbp_warn_complex_discard(src, want) < 0) {
    cbp_buffer_close(v);
    return NULL;
  }
  cb_array *arr;
  if (cbp_array_from_buffer(st, v, src, host_copy, id, &arr))
    return NULL;
  PyObject *a = cbp_array_object_new(st, arr, args[2], id);
  if (a && want != src)
    Py_SETREF(a, cbp_apply(st, CB_OP_cast, &a, 1, want));
  if (a && id >= 0) {
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = cb_array_prefetch(((ArrayObject *)a)->arr, id);
    Py_END_ALLOW_THREADS
    if (rc)
      Py_SETREF(a, cbp_raise(st, rc));
  }
  return a;
}

/* Docstrings; their first lines are the text signatures that
 * inspect.signature() reads. */

PyDoc_STRVAR(doc_full,
"full(shape, dtype, value, device, /)\n--\n\n"
"A new array of shape filled with value by tasks on device (a\n"
"Device, or None: any).\n");

PyDoc_STRVAR(doc_empty,
"empty(shape, dtype, device, /)\n--\n\n"
"A new uninitialised array for device (a Device, or None: any).\n");

PyDoc_STRVAR(doc_empty_result,
"empty_result(shape, dtype, device, /)\n--\n\n"
"The same for a result that tasks on device write whole before\n"
"anything reads it: a dead result's buffer and tiles of its size when\n"
"one is kept for reuse.\n");

PyDoc_STRVAR(doc_arange,
"arange(n, start, step, dtype, device, /)\n--\n\n"
"n values start + i * step, written by tasks on device (a Device,\n"
"or None: any).\n");

PyDoc_STRVAR(doc_asarray_buffer,
"asarray_buffer(obj, dtype, device, copy, /)\n--\n\n"
"An Array over the buffer of obj, or over a copy of it (copy True,\n"
"or a conversion needed).\n");

PyMethodDef cbp_creation_methods[] = {
    {"full", CBP_METH(py_full), METH_FASTCALL, doc_full},
    {"empty", CBP_METH(py_empty), METH_FASTCALL, doc_empty},
    {"empty_result", CBP_METH(py_empty_result), METH_FASTCALL,
     doc_empty_result},
    {"arange", CBP_METH(py_arange), METH_FASTCALL, doc_arange},
    {"asarray_buffer", CBP_METH(py_asarray_buffer), METH_FASTCALL,
     doc_asarray_buffer},
    {NULL}};
