/*
 * Element-wise operations over Python operands: cambrian._core.ewise and
 * the Array's operators. The result is placed where its operands are,
 * else on the default device.
 */
#include "binding.h"

/* The n operands of op as C operands (tmp keeps what was made for them,
 * released by the caller), and the device their work goes to by default
 * (*dflt, a new reference, and its id); -1 with an error set. */
static int operands(cbp_state *st, cb_op op, PyObject *const *args,
                    Py_ssize_t n, cb_operand *x, PyObject **tmp,
                    PyObject **dflt, int *dflt_id) {
  if (n > 3) {
    PyErr_Format(PyExc_TypeError, "%s takes at most 3 operands",
                 cb_op_name(op));
    return -1;
  }
  int placed = 0;
  for (Py_ssize_t i = 0; i < n; i++) {
    int ok = cbp_to_operand(st, args[i], &x[i], &tmp[i]);
    if (ok < 0)
      return -1;
    if (ok == 0) {
      PyErr_Format(PyExc_TypeError, "%s: unsupported operand type '%s'",
                   cb_op_name(op), Py_TYPE(args[i])->tp_name);
      return -1;
    }
    placed |= x[i].device >= 0;
  }
  return cbp_work_device(st, placed, dflt, dflt_id) ? -1 : 0;
}

PyObject *cbp_apply(cbp_state *st, cb_op op, PyObject *const *args,
                    Py_ssize_t n, int out_dtype) {
  cb_operand x[3];
  PyObject *tmp[3] = {NULL, NULL, NULL}, *result = NULL, *dflt = NULL;
  int dflt_id;
  if (operands(st, op, args, n, x, tmp, &dflt, &dflt_id))
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
    cbp_raise_operands(st, rc, args, x, (int)n);
    goto out;
  }
  result = cbp_array_object_new(
      st, arr, cbp_result_device(dev, dflt, args, x, (int)n), dev);
out:
  for (int i = 0; i < 3; i++)
    Py_XDECREF(tmp[i]);
  Py_XDECREF(dflt);
  return result;
}

PyObject *cbp_apply_into(cbp_state *st, cb_op op, PyObject *const *args,
                         Py_ssize_t n, PyObject *dst) {
  if (Py_TYPE(dst) != st->array_type) {
    PyErr_Format(PyExc_TypeError, "%s: the array written must be a "
                 "cambrian Array, not '%s'", cb_op_name(op),
                 Py_TYPE(dst)->tp_name);
    return NULL;
  }
  cb_operand x[3];
  PyObject *tmp[3] = {NULL, NULL, NULL}, *result = NULL, *dflt = NULL;
  int dflt_id;
  if (operands(st, op, args, n, x, tmp, &dflt, &dflt_id))
    goto out;
  ArrayObject *d = (ArrayObject *)dst;
  int rc, dev;
  Py_BEGIN_ALLOW_THREADS
  rc = cb_ewise_into(op, x, (int)n, dflt_id, -1, d->arr, &dev);
  Py_END_ALLOW_THREADS
  if (rc) {
    cbp_raise_operands(st, rc, args, x, (int)n);
    goto out;
  }
  /* A new write: the array's future is made again for it. */
  Py_CLEAR(d->future);
  result = Py_NewRef(dst);
out:
  for (int i = 0; i < 3; i++)
    Py_XDECREF(tmp[i]);
  Py_XDECREF(dflt);
  return result;
}

/* The element-wise operation numbered by arg; -1 with an error set. */
static int ewise_op(PyObject *arg) {
  long op = PyLong_AsLong(arg);
  if (op < 0 || op >= CB_NOPS || cb_op_get_kind((cb_op)op) == CB_KIND_CAST ||
      cb_op_get_kind((cb_op)op) == CB_KIND_FILL ||
      cb_op_get_kind((cb_op)op) == CB_KIND_ARANGE) {
    if (!PyErr_Occurred())
      PyErr_SetString(PyExc_ValueError, "not an element-wise operation");
    return -1;
  }
  return (int)op;
}

/* ewise_into(op, dst, *operands) */
static PyObject *py_ewise_into(PyObject *module, PyObject *const *args,
                               Py_ssize_t nargs) {
  if (nargs < 3) {
    PyErr_SetString(PyExc_TypeError, "ewise_into(op, dst, *operands)");
    return NULL;
  }
  int op = ewise_op(args[0]);
  return op < 0 ? NULL
                : cbp_apply_into(mstate(module), (cb_op)op, args + 2,
                                 nargs - 2, args[1]);
}

/* ewise(op, *operands) */
static PyObject *py_ewise(PyObject *module, PyObject *const *args,
                          Py_ssize_t nargs) {
  if (nargs < 2) {
    PyErr_SetString(PyExc_TypeError, "ewise(op, *operands)");
    return NULL;
  }
  int op = ewise_op(args[0]);
  return op < 0 ? NULL
                : cbp_apply(mstate(module), (cb_op)op, args + 1, nargs - 1,
                            -1);
}

/* Docstrings; their first lines are the text signatures that
 * inspect.signature() reads. */

PyDoc_STRVAR(doc_ewise,
"ewise(op, *operands)\n--\n\n"
"Submit the element-wise operation numbered op (an index of OPS);\n"
"the result Array.\n");

PyDoc_STRVAR(doc_ewise_into,
"ewise_into(op, dst, *operands)\n--\n\n"
"Submit the element-wise operation numbered op writing into the Array\n"
"dst (which may be an operand); dst.\n");

PyMethodDef cbp_operation_methods[] = {
    {"ewise", CBP_METH(py_ewise), METH_FASTCALL, doc_ewise},
    {"ewise_into", CBP_METH(py_ewise_into), METH_FASTCALL, doc_ewise_into},
    {NULL}};
