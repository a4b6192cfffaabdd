/*
 * Layout copies for the Python package: gather(x, layout) and
 * copy_layout(src, layout, dst, layout), where a layout is a tuple
 * (shape, strides, offset) in elements. cambrian._manipulation builds
 * transposes, broadcasts, indexing and joins on these two.
 */
#include "binding.h"

/* Reads a (shape, strides, offset) tuple into l; -1 with an error. */
static int layout_arg(PyObject *obj, cb_layout *l) {
  PyObject *shape, *strides, *offset;
  if (!PyTuple_Check(obj) || PyTuple_GET_SIZE(obj) != 3) {
    PyErr_SetString(PyExc_TypeError,
                    "a layout is a tuple (shape, strides, offset)");
    return -1;
  }
  shape = PyTuple_GET_ITEM(obj, 0);
  strides = PyTuple_GET_ITEM(obj, 1);
  offset = PyTuple_GET_ITEM(obj, 2);
  if (!PyTuple_Check(shape) || !PyTuple_Check(strides) ||
      PyTuple_GET_SIZE(shape) != PyTuple_GET_SIZE(strides)) {
    PyErr_SetString(PyExc_TypeError,
                    "a layout's shape and strides are tuples of one length");
    return -1;
  }
  Py_ssize_t n = PyTuple_GET_SIZE(shape);
  if (n > CB_MAX_NDIM) {
    PyErr_Format(PyExc_ValueError,
                 "arrays have at most %d dimensions (got %zd)", CB_MAX_NDIM,
                 n);
    return -1;
  }
  memset(l, 0, sizeof *l);
  l->ndim = (int)n;
  for (Py_ssize_t d = 0; d < n; d++) {
    l->shape[d] = PyLong_AsLongLong(PyTuple_GET_ITEM(shape, d));
    if (l->shape[d] == -1 && PyErr_Occurred())
      return -1;
    l->strides[d] = PyLong_AsLongLong(PyTuple_GET_ITEM(strides, d));
    if (l->strides[d] == -1 && PyErr_Occurred())
      return -1;
  }
  l->offset = PyLong_AsLongLong(offset);
  return l->offset == -1 && PyErr_Occurred() ? -1 : 0;
}

static int array_arg(cbp_state *st, PyObject *obj, const char *what) {
  if (cbp_is_array(st, obj))
    return 0;
  PyErr_Format(PyExc_TypeError, "%s must be a cambrian.Array, not '%s'",
               what, Py_TYPE(obj)->tp_name);
  return -1;
}

/* gather(x, layout) and view(x, layout): make(x, layout) into a new
 * Array placed as x. */
static PyObject *gather_with(PyObject *module, PyObject *const *args,
                             Py_ssize_t nargs, const char *name,
                             int (*make)(cb_array *, const cb_layout *, int,
                                         cb_array **)) {
  cbp_state *st = mstate(module);
  cb_layout l;
  if (nargs != 2) {
    PyErr_Format(PyExc_TypeError, "%s(x, layout)", name);
    return NULL;
  }
  if (array_arg(st, args[0], "x") || layout_arg(args[1], &l))
    return NULL;
  ArrayObject *a = (ArrayObject *)args[0];
  int id = cbp_array_object_device(st, a), rc;
  if (id < -1)
    return NULL;
  cb_array *out = NULL;
  Py_BEGIN_ALLOW_THREADS
  rc = make(a->arr, &l, id, &out);
  Py_END_ALLOW_THREADS
  if (rc)
    return cbp_raise(st, rc);
  return cbp_array_object_new(st, out, id < 0 ? Py_None : a->device, id);
}

static PyObject *py_gather(PyObject *module, PyObject *const *args,
                           Py_ssize_t nargs) {
  return gather_with(module, args, nargs, "gather", cb_gather);
}

static PyObject *py_view(PyObject *module, PyObject *const *args,
                         Py_ssize_t nargs) {
  return gather_with(module, args, nargs, "view", cb_view);
}

/* view_source(x): None, or (source, layout) of a view. */
static PyObject *py_view_source(PyObject *module, PyObject *x) {
  cbp_state *st = mstate(module);
  if (array_arg(st, x, "x"))
    return NULL;
  ArrayObject *a = (ArrayObject *)x;
  cb_array *src;
  cb_layout l;
  /* It may take the lock that submissions hold: not with the GIL. */
  Py_BEGIN_ALLOW_THREADS
  cb_view_source(a->arr, &src, &l);
  Py_END_ALLOW_THREADS
  if (!src)
    Py_RETURN_NONE;
  int id = cbp_array_object_device(st, a);
  PyObject *obj = id < -1 ? NULL
                          : cbp_array_object_new(st, src, id < 0 ? Py_None
                                                                 : a->device,
                                                 id);
  if (!obj) {
    if (id < -1)
      cb_array_unref(src);
    return NULL;
  }
  PyObject *shape = PyTuple_New(l.ndim), *strides = PyTuple_New(l.ndim);
  for (int d = 0; shape && strides && d < l.ndim; d++) {
    PyTuple_SET_ITEM(shape, d, PyLong_FromLongLong(l.shape[d]));
    PyTuple_SET_ITEM(strides, d, PyLong_FromLongLong(l.strides[d]));
  }
  /* Every reference taken here is let go here, whatever fails. */
  PyObject *out = shape && strides && !PyErr_Occurred()
                      ? Py_BuildValue("(O(OOL))", obj, shape, strides,
                                      (long long)l.offset)
                      : NULL;
  Py_DECREF(obj);
  Py_XDECREF(shape);
  Py_XDECREF(strides);
  return out;
}

static PyObject *py_copy_layout(PyObject *module, PyObject *const *args,
                                Py_ssize_t nargs) {
  cbp_state *st = mstate(module);
  cb_layout from, to;
  if (nargs != 4) {
    PyErr_SetString(PyExc_TypeError,
                    "copy_layout(src, src_layout, dst, dst_layout)");
    return NULL;
  }
  if (array_arg(st, args[0], "src") || layout_arg(args[1], &from) ||
      array_arg(st, args[2], "dst") || layout_arg(args[3], &to))
    return NULL;
  ArrayObject *src = (ArrayObject *)args[0], *dst = (ArrayObject *)args[2];
  /* The copy runs where the array written is placed, else where the
   * source is. */
  int id = cbp_array_object_device(st, dst), rc;
  if (id == -1)
    id = cbp_array_object_device(st, src);
  if (id < -1)
    return NULL;
  Py_BEGIN_ALLOW_THREADS
  rc = cb_copy_layout(src->arr, &from, dst->arr, &to, id);
  Py_END_ALLOW_THREADS
  if (rc)
    return cbp_raise(st, rc);
  Py_RETURN_NONE;
}

static PyObject *py_roll_rows(PyObject *module, PyObject *const *args,
                              Py_ssize_t nargs) {
  cbp_state *st = mstate(module);
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "roll_rows(x, shift)");
    return NULL;
  }
  if (array_arg(st, args[0], "x"))
    return NULL;
  long long shift = PyLong_AsLongLong(args[1]);
  if (shift == -1 && PyErr_Occurred())
    return NULL;
  ArrayObject *a = (ArrayObject *)args[0];
  int id = cbp_array_object_device(st, a), rc;
  if (id < -1)
    return NULL;
  cb_array *out = NULL;
  Py_BEGIN_ALLOW_THREADS
  rc = cb_roll_rows(a->arr, (int64_t)shift, id, &out);
  Py_END_ALLOW_THREADS
  if (rc)
    return cbp_raise(st, rc);
  return cbp_array_object_new(st, out, id < 0 ? Py_None : a->device, id);
}

PyDoc_STRVAR(doc_roll_rows,
"roll_rows(x, shift, /)\n--\n\n"
"A new Array holding x rolled by shift rows along its first axis, tiled\n"
"and distributed as x: one task per tile, reading only the rows that\n"
"come from other tiles (a halo exchange over ranks).\n");

PyDoc_STRVAR(doc_gather,
"gather(x, layout, /)\n--\n\n"
"A new C-ordered Array holding the elements of x that layout, a tuple\n"
"(shape, strides, offset) in elements, reaches; a task copies them.\n");

PyDoc_STRVAR(doc_view,
"view(x, layout, /)\n--\n\n"
"A view of the elements of x that layout reaches: an Array that always\n"
"holds what x holds there now. x cannot be a view itself.\n");

PyDoc_STRVAR(doc_view_source,
"view_source(x, /)\n--\n\n"
"None, or (source, layout) when x is a view.\n");

PyDoc_STRVAR(doc_copy_layout,
"copy_layout(src, src_layout, dst, dst_layout, /)\n--\n\n"
"Copies the elements of src that src_layout reaches into those of dst\n"
"that dst_layout reaches (equal shapes and dtypes), as a task.\n");

PyMethodDef cbp_layout_methods[] = {
    {"gather", CBP_METH(py_gather), METH_FASTCALL, doc_gather},
    {"view", CBP_METH(py_view), METH_FASTCALL, doc_view},
    {"view_source", py_view_source, METH_O, doc_view_source},
    {"roll_rows", CBP_METH(py_roll_rows), METH_FASTCALL, doc_roll_rows},
    {"copy_layout", CBP_METH(py_copy_layout), METH_FASTCALL,
     doc_copy_layout},
    {NULL}};
