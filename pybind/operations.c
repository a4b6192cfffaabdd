/*
 * From Python objects to operands, element-wise operations and array
 * creation. Every call into the C core that may block (starting the
 * runtime, registering data, submitting tasks) runs with the GIL released.
 */
#include "binding.h"

#include <string.h>

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
  const char *s = PyUnicode_AsUTF8(name);
  int t = s ? cb_dtype_from_name(s) : -1;
  if (s && t < 0)
    PyErr_Format(PyExc_TypeError,
                 "unsupported dtype '%s' (cambrian has bool, int32, int64, "
                 "float32 and float64)", s);
  Py_DECREF(name);
  *out = t;
  return t < 0 ? -1 : 0;
}

int cbp_device_id(cbp_state *st, PyObject *device) {
  if (device == Py_None)
    return -1;
  PyObject *id = PyObject_GetAttrString(device, "_id");
  PyObject *gen = id ? PyObject_GetAttrString(device, "_gen") : NULL;
  long i = id ? PyLong_AsLong(id) : -1, g = gen ? PyLong_AsLong(gen) : -1;
  Py_XDECREF(id);
  Py_XDECREF(gen);
  if (PyErr_Occurred())
    return -2;
  if (cb_is_running() && (unsigned)g == cb_generation())
    return (int)i;
  /* The runtime restarted: find the device again by its filter string. */
  PyObject *fs = PyObject_GetAttrString(device, "filter_string");
  const char *f = fs ? PyUnicode_AsUTF8(fs) : NULL;
  if (!f) {
    Py_XDECREF(fs);
    return -2;
  }
  int found, rc;
  Py_BEGIN_ALLOW_THREADS
  rc = cb_devices_select(f, &found, 1);
  Py_END_ALLOW_THREADS
  if (rc <= 0) {
    if (rc < 0)
      cbp_raise(st, rc);
    else
      PyErr_Format(st->DeviceNotFoundError,
                   "device %s does not exist in this runtime", f);
    Py_DECREF(fs);
    return -2;
  }
  Py_DECREF(fs);
  return found;
}

/* The dtype of a buffer format, or -1 when cambrian lacks it. */
static int format_dtype(const char *fmt, Py_ssize_t itemsize) {
  if (!fmt) /* plain unsigned bytes */
    return -1;
  if (*fmt == '@' || *fmt == '=' || *fmt == '<')
    fmt++;
  if (!fmt[0] || fmt[1])
    return -1;
  switch (*fmt) {
  case '?':
    return CB_BOOL;
  case 'f':
    return CB_FLOAT32;
  case 'd':
    return CB_FLOAT64;
  case 'i':
  case 'l':
  case 'q':
    return itemsize == 4 ? CB_INT32 : itemsize == 8 ? CB_INT64 : -1;
  default:
    return -1;
  }
}

static void release_buffer(void *arg) {
  Py_buffer *view = arg;
  PyGILState_STATE g = PyGILState_Ensure();
  PyBuffer_Release(view);
  PyGILState_Release(g);
  PyMem_RawFree(view);
}

/* Opens obj's buffer: *view (heap) and its dtype; -1 with an error. */
static int open_buffer(PyObject *obj, Py_buffer **view, int *dtype) {
  Py_buffer *v = PyMem_RawMalloc(sizeof *v);
  if (!v) {
    PyErr_NoMemory();
    return -1;
  }
  if (PyObject_GetBuffer(obj, v, PyBUF_RECORDS_RO) < 0) {
    PyMem_RawFree(v);
    return -1;
  }
  *dtype = format_dtype(v->format, v->itemsize);
  if (*dtype < 0) {
    PyErr_Format(PyExc_TypeError,
                 "unsupported element format '%s' (cambrian has bool, int32, "
                 "int64, float32 and float64)", v->format ? v->format : "B");
    goto fail;
  }
  if (v->ndim > CB_MAX_NDIM) {
    PyErr_Format(PyExc_ValueError,
                 "only 0-D, 1-D and 2-D arrays are supported (got %d-D)",
                 v->ndim);
    goto fail;
  }
  *view = v;
  return 0;
fail:
  PyBuffer_Release(v);
  PyMem_RawFree(v);
  return -1;
}

/* A C array over the buffer (zero-copy, the view released with the array)
 * or, when copy is set or the buffer is not C-contiguous, over a copy. */
static int array_from_view(cbp_state *st, Py_buffer *v, int dtype, int copy,
                           cb_array **out) {
  int64_t shape[CB_MAX_NDIM];
  for (int i = 0; i < v->ndim; i++)
    shape[i] = v->shape ? v->shape[i] : v->len / v->itemsize;
  int contiguous = PyBuffer_IsContiguous(v, 'C');
  int rc;
  if (!copy && !contiguous) {
    PyErr_SetString(PyExc_ValueError,
                    "the buffer is not C-contiguous: pass copy=True");
    goto fail;
  }
  if (!copy) {
    rc = cb_array_wrap((cb_dtype)dtype, v->ndim, shape, v->buf,
                       release_buffer, v, out);
    if (rc)
      goto fail_rc;
    return 0;
  }
  rc = cb_array_new((cb_dtype)dtype, v->ndim, shape, out);
  if (rc)
    goto fail_rc;
  if (contiguous) {
    void *dst = cb_array_data(*out);
    Py_BEGIN_ALLOW_THREADS
    memcpy(dst, v->buf, (size_t)v->len);
    Py_END_ALLOW_THREADS
  } else if (PyBuffer_ToContiguous(cb_array_data(*out), v, v->len, 'C') < 0) {
    cb_array_unref(*out);
    goto fail;
  }
  PyBuffer_Release(v);
  PyMem_RawFree(v);
  return 0;
fail_rc:
  cbp_raise(st, rc);
fail:
  PyBuffer_Release(v);
  PyMem_RawFree(v);
  return -1;
}

static int is_array(cbp_state *st, PyObject *obj) {
  return Py_TYPE(obj) == st->array_type;
}

int cbp_to_operand(cbp_state *st, PyObject *obj, cb_operand *op,
                   PyObject **tmp) {
  *op = (cb_operand){.device = -1};
  if (is_array(st, obj)) {
    ArrayObject *a = (ArrayObject *)obj;
    op->array = a->arr;
    op->device = cbp_array_object_device(st, a);
    return op->device < -1 ? -1 : 1;
  }
  if (PyBool_Check(obj)) {
    *op = (cb_operand){.device = -1, .dtype = CB_BOOL, .weak = 1,
                       .value.i = obj == Py_True};
    return 1;
  }
  if (PyLong_CheckExact(obj)) {
    long long v = PyLong_AsLongLong(obj);
    if (v == -1 && PyErr_Occurred()) {
      if (!PyErr_ExceptionMatches(PyExc_OverflowError))
        return -1;
      /* Beyond int64: fine with float arrays, refused by integer ones. */
      PyErr_Clear();
      double d = PyLong_AsDouble(obj);
      if (d == -1.0 && PyErr_Occurred())
        return -1;
      *op = (cb_operand){.device = -1, .dtype = CB_INT64, .weak = 2,
                         .value.f = d};
      return 1;
    }
    *op = (cb_operand){.device = -1, .dtype = CB_INT64, .weak = 1,
                       .value.i = v};
    return 1;
  }
  if (PyFloat_CheckExact(obj)) {
    *op = (cb_operand){.device = -1, .dtype = CB_FLOAT64, .weak = 1,
                       .value.f = PyFloat_AS_DOUBLE(obj)};
    return 1;
  }
  if (!PyObject_CheckBuffer(obj))
    return 0;
  Py_buffer *v;
  int dtype;
  if (open_buffer(obj, &v, &dtype))
    return -1;
  if (v->ndim == 0) { /* a NumPy scalar: a strong scalar */
    op->dtype = (cb_dtype)dtype;
    switch (dtype) {
    case CB_BOOL:
      op->value.i = *(uint8_t *)v->buf != 0;
      break;
    case CB_INT32:
      op->value.i = *(int32_t *)v->buf;
      break;
    case CB_INT64:
      op->value.i = *(int64_t *)v->buf;
      break;
    case CB_FLOAT32:
      op->value.f = *(float *)v->buf;
      break;
    default:
      op->value.f = *(double *)v->buf;
    }
    PyBuffer_Release(v);
    PyMem_RawFree(v);
    return 1;
  }
  cb_array *arr;
  if (array_from_view(st, v, dtype, 0, &arr))
    return -1;
  *tmp = cbp_array_object_new(st, arr, Py_None, -1);
  if (!*tmp)
    return -1;
  op->array = arr;
  return 1;
}

/* The device for work that no operand places: cambrian.default_device(),
 * the scoped one, else the one from CAMBRIAN_DEVICE, else None. */
static PyObject *default_device(cbp_state *st) {
  if (!st->default_device)
    return Py_NewRef(Py_None);
  return PyObject_CallNoArgs(st->default_device);
}

PyObject *cbp_apply(cbp_state *st, cb_op op, PyObject *const *args,
                    Py_ssize_t n, int out_dtype) {
  cb_operand x[3];
  PyObject *tmp[3] = {NULL, NULL, NULL}, *result = NULL, *dflt = NULL;
  if (n > 3) {
    PyErr_Format(PyExc_TypeError, "%s takes at most 3 operands",
                 cb_op_name(op));
    return NULL;
  }
  int placed = 0;
  for (Py_ssize_t i = 0; i < n; i++) {
    int ok = cbp_to_operand(st, args[i], &x[i], &tmp[i]);
    if (ok < 0)
      goto out;
    if (ok == 0) {
      PyErr_Format(PyExc_TypeError, "%s: unsupported operand type '%s'",
                   cb_op_name(op), Py_TYPE(args[i])->tp_name);
      goto out;
    }
    placed |= x[i].device >= 0;
  }
  dflt = placed ? Py_NewRef(Py_None) : default_device(st);
  if (!dflt)
    goto out;
  int dflt_id = cbp_device_id(st, dflt);
  if (dflt_id < -1)
    goto out;
  cb_array *arr;
  int dev;
  /* Submitting never blocks while the runtime runs, so it keeps the GIL:
   * handing the GIL over at every operation would make submitting
   * threads take turns through context switches. Starting or stopping
   * the runtime can block: that goes without the GIL. */
  int rc = cb_ewise_nonblocking(op, x, (int)n, dflt_id, out_dtype, &arr,
                                &dev);
  if (rc == CB_EAGAIN) {
    Py_BEGIN_ALLOW_THREADS
    rc = cb_ewise(op, x, (int)n, dflt_id, out_dtype, &arr, &dev);
    Py_END_ALLOW_THREADS
  }
  if (rc) {
    cbp_raise(st, rc);
    goto out;
  }
  PyObject *devobj = dev < 0 ? Py_None : dflt;
  for (Py_ssize_t i = 0; i < n; i++)
    if (dev >= 0 && x[i].device == dev)
      devobj = ((ArrayObject *)args[i])->device;
  result = cbp_array_object_new(st, arr, devobj, dev);
out:
  for (int i = 0; i < 3; i++)
    Py_XDECREF(tmp[i]);
  Py_XDECREF(dflt);
  return result;
}

/* ---- module functions ------------------------------------------------- */

static PyObject *py_ewise(PyObject *module, PyObject *const *args,
                          Py_ssize_t nargs) {
  if (nargs < 2) {
    PyErr_SetString(PyExc_TypeError, "ewise(op, *operands)");
    return NULL;
  }
  long op = PyLong_AsLong(args[0]);
  if (op < 0 || op >= CB_NOPS || cb_op_get_kind((cb_op)op) == CB_KIND_CAST ||
      cb_op_get_kind((cb_op)op) == CB_KIND_FILL ||
      cb_op_get_kind((cb_op)op) == CB_KIND_ARANGE) {
    if (!PyErr_Occurred())
      PyErr_SetString(PyExc_ValueError, "not an element-wise operation");
    return NULL;
  }
  return cbp_apply(mstate(module), (cb_op)op, args + 1, nargs - 1, -1);
}

static int shape_arg(PyObject *obj, int *ndim, int64_t *shape) {
  if (PyLong_Check(obj)) {
    *ndim = 1;
    shape[0] = PyLong_AsLongLong(obj);
    return PyErr_Occurred() ? -1 : 0;
  }
  PyObject *t = PySequence_Tuple(obj);
  if (!t)
    return -1;
  Py_ssize_t n = PyTuple_GET_SIZE(t);
  if (n > CB_MAX_NDIM) {
    Py_DECREF(t);
    PyErr_Format(PyExc_ValueError,
                 "only 0-D, 1-D and 2-D arrays are supported (got %zd-D)", n);
    return -1;
  }
  *ndim = (int)n;
  for (Py_ssize_t i = 0; i < n; i++)
    shape[i] = PyLong_AsLongLong(PyTuple_GET_ITEM(t, i));
  Py_DECREF(t);
  return PyErr_Occurred() ? -1 : 0;
}

/* A fill value converted as NumPy does for a dtype: floats truncate
 * towards zero for integers, anything is true or false for bool, and a
 * Python integer out of the dtype's range raises OverflowError. */
static int scalar_arg(PyObject *obj, cb_dtype t, cb_scalar *out) {
  if (t == CB_FLOAT32 || t == CB_FLOAT64) {
    out->f = PyFloat_AsDouble(obj);
    return PyErr_Occurred() ? -1 : 0;
  }
  if (t == CB_BOOL) {
    int b = PyObject_IsTrue(obj);
    out->i = b;
    return b < 0 ? -1 : 0;
  }
  PyObject *i = PyNumber_Index(obj);
  if (!i) {
    PyErr_Clear();
    PyObject *f = PyNumber_Float(obj);
    if (!f)
      return -1;
    double d = PyFloat_AS_DOUBLE(f);
    Py_DECREF(f);
    if (!(d > -9.3e18 && d < 9.3e18)) {
      PyErr_Format(PyExc_OverflowError, "cannot convert %g to %s", d,
                   cb_dtype_name(t));
      return -1;
    }
    out->i = (int64_t)d;
  } else {
    out->i = PyLong_AsLongLong(i);
    Py_DECREF(i);
    if (out->i == -1 && PyErr_Occurred())
      return -1;
  }
  if (t == CB_INT32 && (out->i < INT32_MIN || out->i > INT32_MAX)) {
    PyErr_Format(PyExc_OverflowError,
                 "Python integer %lld out of bounds for int32",
                 (long long)out->i);
    return -1;
  }
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

/* empty(shape, dtype, device) */
static PyObject *py_empty(PyObject *module, PyObject *const *args,
                          Py_ssize_t nargs) {
  cbp_state *st = mstate(module);
  int ndim, t, id;
  int64_t shape[CB_MAX_NDIM];
  if (nargs != 3) {
    PyErr_SetString(PyExc_TypeError, "empty(shape, dtype, device)");
    return NULL;
  }
  if (shape_arg(args[0], &ndim, shape) || cbp_dtype_arg(st, args[1], &t) ||
      (id = cbp_device_id(st, args[2])) < -1)
    return NULL;
  cb_array *arr;
  int rc = cb_array_new((cb_dtype)t, ndim, shape, &arr);
  return wrap_result(st, rc, arr, args[2], id);
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
  if (t == CB_INT32 && n > 0) {
    long long last = (long long)start.i + (long long)step.i * (n - 1);
    if (last < INT32_MIN || last > INT32_MAX) {
      PyErr_SetString(PyExc_OverflowError,
                      "arange: values out of bounds for int32");
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
      (id = cbp_device_id(st, args[2])) < -1 || open_buffer(args[0], &v, &src))
    return NULL;
  if (want < 0)
    want = src;
  if (nocopy && (want != src || !PyBuffer_IsContiguous(v, 'C'))) {
    PyBuffer_Release(v);
    PyMem_RawFree(v);
    PyErr_SetString(PyExc_ValueError,
                    "copy=False, but the input needs a copy (another dtype "
                    "or not C-contiguous)");
    return NULL;
  }
  /* A copy is a snapshot taken now, on the host; a conversion then runs
   * as a task over that snapshot. */
  int host_copy = copy || want != src;
  cb_array *arr;
  if (array_from_view(st, v, src, host_copy, &arr))
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

PyMethodDef cbp_operation_methods[] = {
    {"ewise", (PyCFunction)(void (*)(void))py_ewise, METH_FASTCALL,
     "ewise(op, *operands): submit an element-wise operation."},
    {"full", (PyCFunction)(void (*)(void))py_full, METH_FASTCALL,
     "full(shape, dtype, value, device)"},
    {"empty", (PyCFunction)(void (*)(void))py_empty, METH_FASTCALL,
     "empty(shape, dtype, device)"},
    {"arange", (PyCFunction)(void (*)(void))py_arange, METH_FASTCALL,
     "arange(n, start, step, dtype, device)"},
    {"asarray_buffer", (PyCFunction)(void (*)(void))py_asarray_buffer,
     METH_FASTCALL, "asarray_buffer(obj, dtype, device, copy)"},
    {NULL}};
