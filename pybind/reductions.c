/*
 * Reductions from Python: cambrian._core.reduce(name, x, axis) and
 * cambrian._core.dot(x, y), and the Array methods sum, min, max, mean and
 * dot. Arguments are checked here and in the core before anything is
 * submitted; the core runs with the GIL released.
 */
#include "binding.h"

#include <string.h>

/* The device for work that no operand places. */
static PyObject *default_device(cbp_state *st) {
  if (!st->default_device)
    return Py_NewRef(Py_None);
  return PyObject_CallNoArgs(st->default_device);
}

/* An array operand from obj: an Array, or a buffer wrapped zero-copy
 * (*tmp owns it). Returns 0, or -1 with an exception. */
static int array_operand(cbp_state *st, const char *what, PyObject *obj,
                         cb_operand *op, PyObject **tmp) {
  int ok = cbp_to_operand(st, obj, op, tmp);
  if (ok < 0)
    return -1;
  if (ok == 0 || !op->array) {
    PyErr_Format(PyExc_TypeError, "%s: expected an array, got '%s'", what,
                 Py_TYPE(obj)->tp_name);
    return -1;
  }
  return 0;
}

/* Parses axis (None or an int, negative from the end) for an array of
 * ndim dimensions into CB_AXIS_ALL or 0..ndim-1. */
static int axis_arg(PyObject *obj, int ndim, int *axis) {
  *axis = CB_AXIS_ALL;
  if (!obj || obj == Py_None)
    return 0;
  if (PyBool_Check(obj) || !PyIndex_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "axis must be None or an integer, not '%s'",
                 Py_TYPE(obj)->tp_name);
    return -1;
  }
  Py_ssize_t a = PyNumber_AsSsize_t(obj, PyExc_OverflowError);
  if (a == -1 && PyErr_Occurred()) {
    if (!PyErr_ExceptionMatches(PyExc_OverflowError))
      return -1;
    PyErr_Clear();
    a = PY_SSIZE_T_MAX;
  }
  if (a < -ndim || a >= ndim) {
    PyErr_Format(PyExc_ValueError,
                 "axis %zd is out of bounds for array of dimension %d", a,
                 ndim);
    return -1;
  }
  *axis = (int)(a < 0 ? a + ndim : a);
  return 0;
}

static int reduce_op(PyObject *name, cb_reduce_op *op) {
  const char *s = PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
  for (int i = 0; s && i < CB_NREDUCE; i++)
    if (strcmp(s, cb_reduce_name((cb_reduce_op)i)) == 0) {
      *op = (cb_reduce_op)i;
      return 0;
    }
  if (!PyErr_Occurred())
    PyErr_SetString(PyExc_ValueError, "unknown reduction");
  return -1;
}

/* Submits the reduction (op, or dot when y is set) and wraps the result:
 * placed where the operands are, else on the default device. */
static PyObject *run(cbp_state *st, int is_dot, cb_reduce_op op,
                     PyObject *xobj, PyObject *yobj, PyObject *axisobj) {
  const char *what = is_dot ? "dot" : cb_reduce_name(op);
  cb_operand x, y;
  PyObject *tmp[2] = {NULL, NULL}, *dflt = NULL, *result = NULL;
  PyObject *objs[2] = {xobj, yobj};
  if (array_operand(st, what, xobj, &x, &tmp[0]) ||
      (is_dot && array_operand(st, what, yobj, &y, &tmp[1])))
    goto out;
  int axis = CB_AXIS_ALL;
  if (!is_dot && axis_arg(axisobj, cb_array_ndim(x.array), &axis))
    goto out;
  int placed = x.device >= 0 || (is_dot && y.device >= 0);
  dflt = placed ? Py_NewRef(Py_None) : default_device(st);
  if (!dflt)
    goto out;
  int dflt_id = cbp_device_id(st, dflt);
  if (dflt_id < -1)
    goto out;
  if (!is_dot && op == CB_REDUCE_mean) {
    const int64_t *shape = cb_array_shape(x.array);
    int64_t count = axis == CB_AXIS_ALL ? cb_array_size(x.array)
                                        : shape[axis];
    if (count == 0 &&
        PyErr_WarnEx(PyExc_RuntimeWarning, "Mean of empty slice.", 1) < 0)
      goto out;
  }
  cb_array *arr = NULL;
  int dev = -1, rc;
  Py_BEGIN_ALLOW_THREADS
  rc = is_dot ? cb_dot(&x, &y, dflt_id, &arr, &dev)
              : cb_reduce(op, &x, axis, dflt_id, &arr, &dev);
  Py_END_ALLOW_THREADS
  if (rc) {
    cbp_raise(st, rc);
    goto out;
  }
  PyObject *devobj = dev < 0 ? Py_None : dflt;
  const cb_operand *ops[2] = {&x, &y};
  for (int i = 0; i < 1 + is_dot; i++)
    if (dev >= 0 && ops[i]->device == dev && !tmp[i])
      devobj = ((ArrayObject *)objs[i])->device;
  result = cbp_array_object_new(st, arr, devobj, dev);
out:
  Py_XDECREF(tmp[0]);
  Py_XDECREF(tmp[1]);
  Py_XDECREF(dflt);
  return result;
}

/* ---- module functions ------------------------------------------------- */

/* reduce(name, x, axis) */
static PyObject *py_reduce(PyObject *module, PyObject *const *args,
                           Py_ssize_t nargs) {
  cb_reduce_op op;
  if (nargs != 3) {
    PyErr_SetString(PyExc_TypeError, "reduce(name, x, axis)");
    return NULL;
  }
  if (reduce_op(args[0], &op))
    return NULL;
  return run(mstate(module), 0, op, args[1], NULL, args[2]);
}

/* dot(x, y) */
static PyObject *py_dot(PyObject *module, PyObject *const *args,
                        Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "dot(x, y)");
    return NULL;
  }
  return run(mstate(module), 1, CB_REDUCE_sum, args[0], args[1], NULL);
}

PyMethodDef cbp_reduction_methods[] = {
    {"reduce", (PyCFunction)(void (*)(void))py_reduce, METH_FASTCALL,
     "reduce(name, x, axis): submit a reduction; returns an Array."},
    {"dot", (PyCFunction)(void (*)(void))py_dot, METH_FASTCALL,
     "dot(x, y): submit the dot product of two vectors."},
    {NULL, NULL, 0, NULL}};

/* ---- Array methods ------------------------------------------------------ */

/* Parses (axis=None) given by position or keyword. */
static int method_axis(const char *name, PyObject *const *args,
                       Py_ssize_t nargs, PyObject *kwnames,
                       PyObject **axis) {
  *axis = Py_None;
  Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  if (nargs + nkw > 1) {
    PyErr_Format(PyExc_TypeError, "%s() takes at most one argument (axis)",
                 name);
    return -1;
  }
  if (nargs == 1)
    *axis = args[0];
  if (nkw == 1) {
    PyObject *k = PyTuple_GET_ITEM(kwnames, 0);
    if (!PyUnicode_Check(k) || PyUnicode_CompareWithASCIIString(k, "axis")) {
      PyErr_Format(PyExc_TypeError,
                   "%s() got an unexpected keyword argument '%S'", name, k);
      return -1;
    }
    *axis = args[0];
  }
  return 0;
}

static PyObject *array_reduce(PyObject *self, cb_reduce_op op,
                              PyObject *const *args, Py_ssize_t nargs,
                              PyObject *kwnames) {
  PyObject *axis;
  if (method_axis(cb_reduce_name(op), args, nargs, kwnames, &axis))
    return NULL;
  return run(state_of(self), 0, op, self, NULL, axis);
}

#define ARRAY_METHOD(name)                                                   \
  PyObject *cbp_array_##name(PyObject *self, PyObject *const *args,          \
                             Py_ssize_t nargs, PyObject *kwnames) {          \
    return array_reduce(self, CB_REDUCE_##name, args, nargs, kwnames);       \
  }
ARRAY_METHOD(sum)
ARRAY_METHOD(min)
ARRAY_METHOD(max)
ARRAY_METHOD(mean)

PyObject *cbp_array_dot(PyObject *self, PyObject *other) {
  return run(state_of(self), 1, CB_REDUCE_sum, self, other,
             NULL);
}
