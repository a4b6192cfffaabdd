/*
 * Python objects as operands of the C core: an Array as it is, Python
 * scalars as weak scalars (NumPy's promotion rules), NumPy scalars as
 * strong ones, and other objects with the buffer protocol as arrays over
 * their memory, without a copy.
 */
#include "binding.h"

#include <string.h>

/* The dtype of a buffer format, or -1 when cambrian lacks it. */
static int format_dtype(const char *fmt, Py_ssize_t itemsize) {
  if (!fmt) /* plain unsigned bytes */
    return -1;
  if (*fmt == '@' || *fmt == '=' || *fmt == '<')
    fmt++;
  if (fmt[0] == 'Z' && (fmt[1] == 'f' || fmt[1] == 'd') && !fmt[2])
    return fmt[1] == 'f' ? CB_COMPLEX64 : CB_COMPLEX128;
  if (!fmt[0] || fmt[1])
    return -1;
  switch (*fmt) {
  case '?':
    return CB_BOOL;
  case 'f':
    return CB_FLOAT32;
  case 'd':
    return CB_FLOAT64;
  case 'e':
    return itemsize == 2 ? CB_FLOAT16 : -1;
  case 'b':
    return CB_INT8;
  case 'h':
    return itemsize == 2 ? CB_INT16 : -1;
  case 'B':
    return CB_UINT8;
  case 'H':
    return itemsize == 2 ? CB_UINT16 : -1;
  case 'i':
  case 'l':
  case 'q':
    return itemsize == 4 ? CB_INT32 : itemsize == 8 ? CB_INT64 : -1;
  case 'I':
  case 'L':
  case 'Q':
    return itemsize == 4 ? CB_UINT32 : itemsize == 8 ? CB_UINT64 : -1;
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

int cbp_buffer_open(PyObject *obj, Py_buffer **view, int *dtype) {
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
                 "unsupported element format '%s' (cambrian has bool, the "
                 "integers of 8 to 64 bits, float16, float32, float64, "
                 "complex64 and complex128)",
                 v->format ? v->format : "?");
    goto fail;
  }
  if (v->ndim > CB_MAX_NDIM) {
    PyErr_Format(PyExc_ValueError,
                 "arrays have at most %d dimensions (got %d)", CB_MAX_NDIM,
                 v->ndim);
    goto fail;
  }
  *view = v;
  return 0;
fail:
  cbp_buffer_close(v);
  return -1;
}

void cbp_buffer_close(Py_buffer *view) {
  PyBuffer_Release(view);
  PyMem_RawFree(view);
}

int cbp_array_from_buffer(cbp_state *st, Py_buffer *v, int dtype, int copy,
                          int device, cb_array **out) {
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
  Py_BEGIN_ALLOW_THREADS
  rc = cb_array_new_on((cb_dtype)dtype, v->ndim, shape, device, out);
  Py_END_ALLOW_THREADS
  if (rc)
    goto fail_rc;
  if (contiguous) {
    Py_BEGIN_ALLOW_THREADS
    rc = cb_array_copy_in(*out, v->buf);
    Py_END_ALLOW_THREADS
    if (rc) {
      cb_array_unref(*out);
      goto fail_rc;
    }
  } else if (PyBuffer_ToContiguous(cb_array_data(*out), v, v->len, 'C') < 0) {
    cb_array_unref(*out);
    goto fail;
  }
  cbp_buffer_close(v);
  return 0;
fail_rc:
  cbp_raise(st, rc);
fail:
  cbp_buffer_close(v);
  return -1;
}

int cbp_to_operand(cbp_state *st, PyObject *obj, cb_operand *op,
                   PyObject **tmp) {
  *op = (cb_operand){.device = -1};
  if (cbp_is_array(st, obj)) {
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
      /* Beyond int64: a uint64 (weak 3) up to 2**64 - 1; beyond, fine
       * with float arrays, refused by integer ones. */
      PyErr_Clear();
      unsigned long long u = PyLong_AsUnsignedLongLong(obj);
      if (!(u == (unsigned long long)-1 && PyErr_Occurred())) {
        *op = (cb_operand){.device = -1, .dtype = CB_INT64, .weak = 3,
                           .value.i = (int64_t)u};
        return 1;
      }
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
  if (PyComplex_CheckExact(obj)) {
    *op = (cb_operand){.device = -1, .dtype = CB_COMPLEX128, .weak = 1,
                       .value.c = {PyComplex_RealAsDouble(obj),
                                   PyComplex_ImagAsDouble(obj)}};
    return 1;
  }
  /* bytes are text to NumPy, not numbers. */
  if (!PyObject_CheckBuffer(obj) || PyBytes_Check(obj) ||
      PyByteArray_Check(obj))
    return 0;
  Py_buffer *v;
  int dtype;
  if (cbp_buffer_open(obj, &v, &dtype))
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
    case CB_UINT64: /* its bits */
      op->value.i = *(int64_t *)v->buf;
      break;
    case CB_INT8:
      op->value.i = *(int8_t *)v->buf;
      break;
    case CB_INT16:
      op->value.i = *(int16_t *)v->buf;
      break;
    case CB_UINT8:
      op->value.i = *(uint8_t *)v->buf;
      break;
    case CB_UINT16:
      op->value.i = *(uint16_t *)v->buf;
      break;
    case CB_UINT32:
      op->value.i = *(uint32_t *)v->buf;
      break;
    case CB_FLOAT32:
      op->value.f = *(float *)v->buf;
      break;
    case CB_FLOAT16:
      op->value.f = cb_half_to_float(*(cb_half *)v->buf);
      break;
    case CB_COMPLEX64:
      op->value.c[0] = ((float *)v->buf)[0];
      op->value.c[1] = ((float *)v->buf)[1];
      break;
    case CB_COMPLEX128:
      op->value.c[0] = ((double *)v->buf)[0];
      op->value.c[1] = ((double *)v->buf)[1];
      break;
    default:
      op->value.f = *(double *)v->buf;
    }
    cbp_buffer_close(v);
    return 1;
  }
  cb_array *arr;
  if (cbp_array_from_buffer(st, v, dtype, 0, -1, &arr))
    return -1;
  *tmp = cbp_array_object_new(st, arr, Py_None, -1);
  if (!*tmp)
    return -1;
  op->array = arr;
  return 1;
}

PyObject *cbp_raise_operands(cbp_state *st, int rc, PyObject *const *objs,
                             const cb_operand *ops, int n) {
  /* The core has only the nearest double of an integer beyond int64 and
   * writes that one ("%.0f"): the message takes the integer given. */
  const char *msg = cb_last_error();
  static const char head[] = "Python integer ";
  for (int i = 0; rc == CB_ERANGE && i < n; i++) {
    if (ops[i].array || ops[i].weak != 2 || !PyLong_Check(objs[i]))
      continue;
    char number[400];
    int len = snprintf(number, sizeof number, "%.0f", ops[i].value.f);
    size_t hlen = sizeof head - 1;
    if (len <= 0 || (size_t)len >= sizeof number ||
        strlen(msg) < hlen + (size_t)len || memcmp(msg, head, hlen) != 0 ||
        memcmp(msg + hlen, number, (size_t)len) != 0)
      continue;
    PyErr_Format(PyExc_OverflowError, "%s%S%s", head, objs[i],
                 msg + hlen + (size_t)len);
    return NULL;
  }
  return cbp_raise(st, rc);
}

PyObject *cbp_result_device(int dev, PyObject *dflt, PyObject *const *objs,
                            const cb_operand *ops, int n) {
  PyObject *device = dev < 0 ? Py_None : dflt;
  for (int i = 0; i < n; i++)
    if (dev >= 0 && ops[i].device == dev)
      device = ((ArrayObject *)objs[i])->device;
  return device;
}

int cbp_dtype_complex(int t) {
  return t == CB_COMPLEX64 || t == CB_COMPLEX128;
}

int cbp_warn_complex_discard(int from, int to) {
  /* bool keeps whether either part is not 0: nothing is discarded. */
  if (!cbp_dtype_complex(from) || cbp_dtype_complex(to) || to == CB_BOOL)
    return 0;
  PyObject *mod = PyImport_ImportModule("numpy.exceptions");
  PyObject *category = mod ? PyObject_GetAttrString(mod, "ComplexWarning")
                           : NULL;
  Py_XDECREF(mod);
  if (!category)
    return -1;
  int rc = PyErr_WarnEx(category, "Casting complex values to real "
                        "discards the imaginary part", 1);
  Py_DECREF(category);
  return rc;
}
