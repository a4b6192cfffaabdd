/*
 * Linear algebra from Python: matmul (the @ operator), gemm, gemv and
 * transpose (the .T property). Operands are Arrays or buffers (wrapped
 * without a copy); shapes, dtypes and placement are checked at the call,
 * and the core is called with the GIL released.
 *
 * Dtypes: matmul follows NumPy's promotion when the result is a float
 * dtype (float32 @ float64 is float64, int32 @ float32 is float64), and
 * raises TypeError when it would be an integer or bool (BLAS has no
 * integer products). gemm and gemv update C or y in place and take
 * operands of its dtype only.
 */
#include "binding.h"

/* obj as an Array (a new reference): an Array, or a buffer wrapped
 * without a copy. Returns 0 when obj is none of those (no error set
 * when probe is set, else TypeError), -1 on error. Scalars are refused
 * with ValueError, as NumPy's matmul does. */
static int as_array(cbp_state *st, const char *name, PyObject *obj, int probe,
                    PyObject **out) {
  *out = NULL;
  if (cbp_is_array(st, obj)) {
    *out = Py_NewRef(obj);
    return 1;
  }
  cb_operand op;
  PyObject *tmp = NULL;
  int ok = cbp_to_operand(st, obj, &op, &tmp);
  if (ok < 0)
    return -1;
  if (ok == 0) {
    if (!probe)
      PyErr_Format(PyExc_TypeError, "%s: unsupported operand type '%s'",
                   name, Py_TYPE(obj)->tp_name);
    return 0;
  }
  if (!tmp) {
    PyErr_Format(PyExc_ValueError,
                 "%s: operands must be arrays of 1 or 2 dimensions, not "
                 "scalars (use * for scalars)", name);
    return -1;
  }
  *out = tmp;
  return 1;
}

/* The device that n Arrays agree on: *id and *devobj (a new reference,
 * None for automatic placement); the default device when none is
 * placed. Returns -1 with ValueError when they are on different devices. */
static int placement(cbp_state *st, const char *name, PyObject *const *arrs,
                     int n, int *id, PyObject **devobj) {
  *id = -1;
  *devobj = NULL;
  for (int i = 0; i < n; i++) {
    ArrayObject *a = (ArrayObject *)arrs[i];
    int d = cbp_array_object_device(st, a);
    if (d < -1)
      return -1;
    if (d < 0)
      continue;
    if (*id >= 0 && d != *id) {
      PyErr_Format(PyExc_ValueError,
                   "%s: operands are on %R and %R; move one with "
                   "to_device()", name, *devobj, a->device);
      Py_CLEAR(*devobj);
      return -1;
    }
    if (*id < 0) {
      *id = d;
      *devobj = Py_NewRef(a->device);
    }
  }
  if (*id >= 0)
    return 0;
  return cbp_work_device(st, 0, devobj, id);
}

/* cambrian._linalg.name(arrs[0], arrs[1]): the products BLAS cannot
 * make in one call. */
static PyObject *python_matmul(const char *name, PyObject *const *arrs) {
  PyObject *mod = PyImport_ImportModule("cambrian._linalg");
  if (!mod)
    return NULL;
  PyObject *r = PyObject_CallMethod(mod, name, "OO", arrs[0], arrs[1]);
  Py_DECREF(mod);
  return r;
}

PyObject *cbp_matmul(cbp_state *st, PyObject *x, PyObject *y, int probe) {
  PyObject *arrs[2] = {NULL, NULL}, *devobj = NULL, *result = NULL;
  PyObject *in[2] = {x, y};
  for (int i = 0; i < 2; i++) {
    int ok = as_array(st, "matmul", in[i], probe, &arrs[i]);
    if (ok <= 0) {
      if (ok == 0 && probe)
        result = Py_NewRef(Py_NotImplemented);
      goto out;
    }
  }
  /* NumPy's promotion; BLAS multiplies float and complex dtypes only. */
  cb_operand ops[2] = {{.array = cbp_arr(arrs[0]), .device = -1},
                       {.array = cbp_arr(arrs[1]), .device = -1}};
  cb_dtype t;
  int rc = cb_result_dtype(CB_OP_multiply, ops, 2, &t);
  if (rc == 0 && t == CB_FLOAT16) {
    /* Halves: multiplied as float32, the result rounded back. */
    result = python_matmul("_half_matmul", arrs);
    goto out;
  }
  if (rc == 0 && t != CB_FLOAT32 && t != CB_FLOAT64 && t != CB_COMPLEX64 &&
      t != CB_COMPLEX128) {
    /* Integers and bools: element-wise products summed. */
    result = python_matmul("_integer_matmul", arrs);
    goto out;
  }
  if (rc) {
    cbp_raise(st, rc);
    goto out;
  }
  for (int i = 0; i < 2; i++)
    if (cb_array_dtype(cbp_arr(arrs[i])) != t) {
      Py_SETREF(arrs[i], cbp_apply(st, CB_OP_cast, &arrs[i], 1, (int)t));
      if (!arrs[i])
        goto out;
    }
  if (cb_array_ndim(cbp_arr(arrs[0])) > 2 ||
      cb_array_ndim(cbp_arr(arrs[1])) > 2) {
    /* Stacks of matrices: one product per matrix. */
    result = python_matmul("_stacked_matmul", arrs);
    goto out;
  }
  int id, dev;
  if (placement(st, "matmul", arrs, 2, &id, &devobj))
    goto out;
  cb_array *a = cbp_arr(arrs[0]), *b = cbp_arr(arrs[1]), *c = NULL;
  Py_BEGIN_ALLOW_THREADS
  rc = cb_matmul(a, b, id, &c, &dev);
  Py_END_ALLOW_THREADS
  if (rc)
    cbp_raise(st, rc);
  else
    result = cbp_array_object_new(st, c, dev < 0 ? Py_None : devobj, dev);
out:
  Py_XDECREF(arrs[0]);
  Py_XDECREF(arrs[1]);
  Py_XDECREF(devobj);
  return result;
}

PyObject *cbp_transpose(cbp_state *st, PyObject *x) {
  ArrayObject *a = (ArrayObject *)x;
  if (cb_array_ndim(a->arr) < 2)
    return Py_NewRef(x); /* as NumPy: 0-D and 1-D arrays are their own */
  int id = cbp_array_object_device(st, a), dev, rc;
  if (id < -1)
    return NULL;
  cb_array *out = NULL;
  Py_BEGIN_ALLOW_THREADS
  rc = cb_transpose(a->arr, id, &out, &dev);
  Py_END_ALLOW_THREADS
  if (rc)
    return cbp_raise(st, rc);
  return cbp_array_object_new(st, out, dev < 0 ? Py_None : a->device, dev);
}

static PyObject *py_matmul(PyObject *module, PyObject *const *args,
                           Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "matmul(x1, x2)");
    return NULL;
  }
  return cbp_matmul(mstate(module), args[0], args[1], 0);
}

static PyObject *py_transpose(PyObject *module, PyObject *arg) {
  cbp_state *st = mstate(module);
  PyObject *a = NULL;
  if (as_array(st, "transpose", arg, 0, &a) <= 0)
    return NULL;
  PyObject *r = cbp_transpose(st, a);
  Py_DECREF(a);
  return r;
}

/* The in-place products: out must be an Array; the others may be
 * buffers. Returns out (a new reference). */
static PyObject *inplace(cbp_state *st, const char *name, double alpha,
                         PyObject *a_obj, int ta, PyObject *b_obj, int tb,
                         double beta, PyObject *out) {
  if (!cbp_is_array(st, out)) {
    PyErr_Format(PyExc_TypeError,
                 "%s: the output must be a cambrian.Array (it is updated "
                 "in place), not '%s'", name, Py_TYPE(out)->tp_name);
    return NULL;
  }
  PyObject *arrs[3] = {NULL, NULL, Py_NewRef(out)}, *devobj = NULL;
  PyObject *result = NULL;
  int id, rc;
  if (as_array(st, name, a_obj, 0, &arrs[0]) <= 0 ||
      as_array(st, name, b_obj, 0, &arrs[1]) <= 0 ||
      placement(st, name, arrs, 3, &id, &devobj))
    goto done;
  cb_array *a = cbp_arr(arrs[0]), *b = cbp_arr(arrs[1]), *c = cbp_arr(out);
  int gemm = name[3] == 'm';
  Py_BEGIN_ALLOW_THREADS
  if (gemm)
    rc = cb_gemm(alpha, a, ta ? CB_TRANS : CB_NOTRANS, b,
                 tb ? CB_TRANS : CB_NOTRANS, beta, c, id);
  else
    rc = cb_gemv(alpha, a, ta ? CB_TRANS : CB_NOTRANS, b, beta, c, id);
  Py_END_ALLOW_THREADS
  if (rc)
    cbp_raise(st, rc);
  else
    result = Py_NewRef(out);
done:
  for (int i = 0; i < 3; i++)
    Py_XDECREF(arrs[i]);
  Py_XDECREF(devobj);
  return result;
}

/* alpha and beta of gemm and gemv (args[0] and args[3]); -1 with an
 * error at the first that is no number, before anything else runs. */
static int scalars(PyObject *const *args, double *alpha, double *beta) {
  *alpha = PyFloat_AsDouble(args[0]);
  if (*alpha == -1.0 && PyErr_Occurred())
    return -1;
  *beta = PyFloat_AsDouble(args[3]);
  return *beta == -1.0 && PyErr_Occurred() ? -1 : 0;
}

/* gemm(alpha, a, b, beta, c, trans_a, trans_b) */
static PyObject *py_gemm(PyObject *module, PyObject *const *args,
                         Py_ssize_t nargs) {
  if (nargs != 7) {
    PyErr_SetString(PyExc_TypeError,
                    "gemm(alpha, a, b, beta, c, trans_a, trans_b)");
    return NULL;
  }
  double alpha = 0, beta = 0;
  int ta = 0, tb = 0;
  if (scalars(args, &alpha, &beta) || (ta = PyObject_IsTrue(args[5])) < 0 ||
      (tb = PyObject_IsTrue(args[6])) < 0)
    return NULL;
  return inplace(mstate(module), "gemm", alpha, args[1], ta, args[2], tb,
                 beta, args[4]);
}

/* gemv(alpha, a, x, beta, y, trans) */
static PyObject *py_gemv(PyObject *module, PyObject *const *args,
                         Py_ssize_t nargs) {
  if (nargs != 6) {
    PyErr_SetString(PyExc_TypeError, "gemv(alpha, a, x, beta, y, trans)");
    return NULL;
  }
  double alpha = 0, beta = 0;
  int ta = 0;
  if (scalars(args, &alpha, &beta) || (ta = PyObject_IsTrue(args[5])) < 0)
    return NULL;
  return inplace(mstate(module), "gemv", alpha, args[1], ta, args[2], 0,
                 beta, args[4]);
}

/* Docstrings; their first lines are the text signatures that
 * inspect.signature() reads. */

PyDoc_STRVAR(doc_matmul,
"matmul(x1, x2, /)\n--\n\n"
"The matrix product, as x1 @ x2.\n");

PyDoc_STRVAR(doc_gemm,
"gemm(alpha, a, b, beta, c, trans_a, trans_b, /)\n--\n\n"
"c = alpha op(a) op(b) + beta c, in place; returns c.\n");

PyDoc_STRVAR(doc_gemv,
"gemv(alpha, a, x, beta, y, trans, /)\n--\n\n"
"y = alpha op(a) x + beta y, in place; returns y.\n");

PyDoc_STRVAR(doc_transpose,
"transpose(a, /)\n--\n\n"
"a.T, as a new array.\n");

PyMethodDef cbp_linalg_methods[] = {
    {"matmul", CBP_METH(py_matmul), METH_FASTCALL, doc_matmul},
    {"gemm", CBP_METH(py_gemm), METH_FASTCALL, doc_gemm},
    {"gemv", CBP_METH(py_gemv), METH_FASTCALL, doc_gemv},
    {"transpose", py_transpose, METH_O, doc_transpose},
    {NULL}};
