/*
 * Arguments from Python to C values: dtypes (names, NumPy dtypes and
 * types), reductions by name, Device objects to device ids, the default
 * device for work that no operand places, and (capsule, int) pairs.
 * NumPy is imported on first use.
 */
#include "binding.h"

#include <limits.h>
#include <string.h>

int cbp_int_items(PyObject *obj, int max, long long *out, Py_ssize_t *n) {
  Py_ssize_t len = PyObject_Length(obj);
  if (len < 0) {
    if (!PyErr_ExceptionMatches(PyExc_TypeError))
      return -1;
    PyErr_Clear(); /* no length: the iteration below stops in time */
  } else if (len > max) {
    *n = len;
    return -2;
  }
  PyObject *it = PyObject_GetIter(obj);
  if (!it)
    return -1;
  Py_ssize_t k = 0;
  int rc = 0;
  PyObject *item;
  while (rc == 0 && (item = PyIter_Next(it))) {
    if (k == max) {
      *n = -1;
      rc = -2;
    } else if ((out[k] = PyLong_AsLongLong(item)) == -1 && PyErr_Occurred()) {
      rc = -1;
    } else {
      k++;
    }
    Py_DECREF(item);
  }
  Py_DECREF(it);
  if (rc == 0 && PyErr_Occurred())
    rc = -1;
  if (rc == 0)
    *n = k;
  return rc;
}

int cbp_shape_items(PyObject *obj, int64_t *shape, int *ndim) {
  long long items[CB_MAX_NDIM];
  Py_ssize_t n;
  int rc = cbp_int_items(obj, CB_MAX_NDIM, items, &n);
  if (rc == -2 && n >= 0)
    PyErr_Format(PyExc_ValueError,
                 "arrays have at most %d dimensions (got %zd)", CB_MAX_NDIM,
                 n);
  else if (rc == -2)
    PyErr_Format(PyExc_ValueError,
                 "arrays have at most %d dimensions (got more than %d)",
                 CB_MAX_NDIM, CB_MAX_NDIM);
  if (rc)
    return -1;
  for (Py_ssize_t i = 0; i < n; i++)
    shape[i] = items[i];
  *ndim = (int)n;
  return 0;
}

PyObject *cbp_numpy(cbp_state *st) {
  if (!st->numpy)
    st->numpy = PyImport_ImportModule("numpy");
  return st->numpy;
}

PyObject *cbp_dtype_object(cbp_state *st, cb_dtype t) {
  if (!st->dtypes[t]) {
    PyObject *np = cbp_numpy(st);
    if (!np)
      return NULL;
    st->dtypes[t] = PyObject_CallMethod(np, "dtype", "s", cb_dtype_name(t));
  }
  return st->dtypes[t];
}

const char *cbp_text_arg(PyObject *obj, const char *what) {
  if (!PyUnicode_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "%s must be a string, not '%.200s'", what,
                 Py_TYPE(obj)->tp_name);
    return NULL;
  }
  Py_ssize_t n;
  const char *s = PyUnicode_AsUTF8AndSize(obj, &n);
  if (s && strlen(s) != (size_t)n) {
    PyErr_Format(PyExc_ValueError, "%s must not contain a NUL character: "
                 "%.200R", what, obj);
    return NULL;
  }
  return s;
}

int cbp_dtype_arg(cbp_state *st, PyObject *obj, int *out) {
  *out = -1;
  if (obj == Py_None)
    return 0;
  PyObject *name = NULL;
  if (PyUnicode_Check(obj)) {
    name = Py_NewRef(obj);
  } else {
    /* numpy.dtype(x).name covers dtypes, scalar types and Python types. */
    PyObject *np = cbp_numpy(st);
    PyObject *dt = np ? PyObject_CallMethod(np, "dtype", "O", obj) : NULL;
    name = dt ? PyObject_GetAttrString(dt, "name") : NULL;
    Py_XDECREF(dt);
    if (!name)
      return -1;
  }
  Py_ssize_t len;
  const char *s = PyUnicode_AsUTF8AndSize(name, &len);
  /* A name with a NUL inside is no dtype's, whatever precedes it. */
  int t = s && strlen(s) == (size_t)len ? cb_dtype_from_name(s) : -1;
  if (s && t < 0)
    PyErr_Format(PyExc_TypeError,
                 "unsupported dtype %.200R (cambrian has bool, int8 to "
                 "int64, uint8 to uint64, float16, float32, float64, "
                 "complex64 and complex128)", name);
  Py_DECREF(name);
  *out = t;
  return t < 0 ? -1 : 0;
}

int cbp_reduce_from_name(const char *name) {
  for (int op = 0; op < CB_NREDUCE; op++)
    if (strcmp(name, cb_reduce_name((cb_reduce_op)op)) == 0)
      return op;
  return -1;
}

int cbp_device_id(cbp_state *st, PyObject *device) {
  if (device == Py_None)
    return -1;
  PyObject *id = PyObject_GetAttrString(device, "_id");
  long i = id ? PyLong_AsLong(id) : -1;
  Py_XDECREF(id);
  if (i == -1 && PyErr_Occurred())
    return -2;
  PyObject *gen = PyObject_GetAttrString(device, "_gen");
  long g = gen ? PyLong_AsLong(gen) : -1;
  Py_XDECREF(gen);
  if (g == -1 && PyErr_Occurred())
    return -2;
  if (cb_is_running() && (unsigned)g == cb_generation() && i >= 0 &&
      i <= INT_MAX)
    return (int)i;
  /* The runtime restarted, or the id is no device's: find the device
   * again by its filter string. */
  PyObject *fs = PyObject_GetAttrString(device, "filter_string");
  const char *f = fs ? PyUnicode_AsUTF8(fs) : NULL;
  if (!f) {
    Py_XDECREF(fs);
    return -2;
  }
  int found;
  Py_BEGIN_ALLOW_THREADS
  found = cb_device_set(f);
  Py_END_ALLOW_THREADS
  if (found < 0) {
    if (found != CB_ENODEV)
      cbp_raise(st, found);
    else
      PyErr_Format(st->DeviceNotFoundError,
                   "device %s does not exist in this runtime", f);
    Py_DECREF(fs);
    return -2;
  }
  Py_DECREF(fs);
  return found;
}

/* cambrian.default_device(): the scoped one, else the one from
 * CAMBRIAN_DEVICE, else None. */
PyObject *cbp_default_device(cbp_state *st) {
  if (!st->default_device)
    return Py_NewRef(Py_None);
  return PyObject_CallNoArgs(st->default_device);
}

int cbp_work_device(cbp_state *st, int placed, PyObject **device,
                    int *id) {
  *device = placed ? Py_NewRef(Py_None) : cbp_default_device(st);
  if (!*device)
    return -1;
  *id = cbp_device_id(st, *device);
  if (*id < -1) {
    Py_CLEAR(*device);
    return -1;
  }
  return 0;
}

void *cbp_capsule_int_args(PyObject *const *args, Py_ssize_t nargs,
                           const char *capsule, const char *usage,
                           int *value) {
  void *p = nargs == 2 ? PyCapsule_GetPointer(args[0], capsule) : NULL;
  *value = p ? (int)PyLong_AsLong(args[1]) : -1;
  if (!p || PyErr_Occurred()) {
    if (!PyErr_Occurred())
      PyErr_SetString(PyExc_TypeError, usage);
    return NULL;
  }
  return p;
}
