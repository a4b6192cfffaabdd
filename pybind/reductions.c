/*
 * Reductions from Python: cambrian._core.reduce(name, x, axis) and
 * cambrian._core.dot(x, y), also behind the Array methods sum, min, max,
 * mean and dot. Arguments are checked here and in the core before anything is
 * submitted; the core runs with the GIL released.
 */
#include "binding.h"

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
    /* Beyond Py_ssize_t: named as given. */
    PyErr_Clear();
    PyObject *i = PyNumber_Index(obj);
    if (i)
      PyErr_Format(PyExc_ValueError,
                   "axis %S is out of bounds for array of dimension %d", i,
                   ndim);
    Py_XDECREF(i);
    return -1;
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
  int found = s ? cbp_reduce_from_name(s) : -1;
  if (found >= 0) {
    *op = (cb_reduce_op)found;
    return 0;
  }
  if (!PyErr_Occurred())
    PyErr_SetString(PyExc_ValueError, "unknown reduction");
  return -1;
}

/* Submits the reduction (op, or dot when is_dot is set) and wraps the
 * result: placed where the operands are, else on the default device. */
static PyObject *run(cbp_state *st, int is_dot, cb_reduce_op op,
                     PyObject *xobj, PyObject *yobj, PyObject *axisobj) {
  const char *what = is_dot ? "dot" : cb_reduce_name(op);
  cb_operand x[2];
  PyObject *tmp[2] = {NULL, NULL}, *dflt = NULL, *result = NULL;
  PyObject *objs[2] = {xobj, yobj};
  int n = 1 + is_dot;
  for (int i = 0; i < n; i++)
    if (array_operand(st, what, objs[i], &x[i], &tmp[i]))
      goto out;
  int axis = CB_AXIS_ALL;
  if (!is_dot && axis_arg(axisobj, cb_array_ndim(x[0].array), &axis))
    goto out;
  int placed = x[0].device >= 0 || (is_dot && x[1].device >= 0), dflt_id;
  if (cbp_work_device(st, placed, &dflt, &dflt_id))
    goto out;
  if (!is_dot && op == CB_REDUCE_mean) {
    const int64_t *shape = cb_array_shape(x[0].array);
    int64_t count = axis == CB_AXIS_ALL ? cb_array_size(x[0].array)
                                        : shape[axis];
    if (count == 0 &&
        PyErr_WarnEx(PyExc_RuntimeWarning, "Mean of empty slice.", 1) < 0)
      goto out;
  }
  cb_array *arr = NULL;
  int dev = -1, rc;
  Py_BEGIN_ALLOW_THREADS
  rc = is_dot ? cb_dot(&x[0], &x[1], dflt_id, &arr, &dev)
              : cb_reduce(op, &x[0], axis, dflt_id, &arr, &dev);
  Py_END_ALLOW_THREADS
  if (rc) {
    cbp_raise(st, rc);
    goto out;
  }
  result = cbp_array_object_new(
      st, arr, cbp_result_device(dev, dflt, objs, x, n), dev);
out:
  Py_XDECREF(tmp[0]);
  Py_XDECREF(tmp[1]);
  Py_XDECREF(dflt);
  return result;
}

PyObject *cbp_reduce(cbp_state *st, cb_reduce_op op, PyObject *x,
                     PyObject *axis) {
  return run(st, 0, op, x, NULL, axis);
}

PyObject *cbp_dot(cbp_state *st, PyObject *x, PyObject *y) {
  return run(st, 1, CB_REDUCE_sum, x, y, NULL);
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
  return cbp_reduce(mstate(module), op, args[1], args[2]);
}

/* dot(x, y) */
static PyObject *py_dot(PyObject *module, PyObject *const *args,
                        Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "dot(x, y)");
    return NULL;
  }
  return cbp_dot(mstate(module), args[0], args[1]);
}

/* Docstrings; their first lines are the text signatures that
 * inspect.signature() reads. */

PyDoc_STRVAR(doc_reduce,
"reduce(name, x, axis, /)\n--\n\n"
"Submit a reduction; the result Array.\n");

PyDoc_STRVAR(doc_dot,
"dot(x, y, /)\n--\n\n"
"Submit the dot product of two vectors; a 0-D Array.\n");

PyMethodDef cbp_reduction_methods[] = {
    {"reduce", CBP_METH(py_reduce), METH_FASTCALL, doc_reduce},
    {"dot", CBP_METH(py_dot), METH_FASTCALL, doc_dot},
    {NULL, NULL, 0, NULL}};
