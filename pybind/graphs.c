/*
 * Graphs from Python (cambrian._graph): capsules around a cb_graph. A run
 * submits the whole graph in one call with the GIL released.
 */
#include "binding.h"

#include <string.h>

#define CAPSULE "cambrian.graph"

static void graph_capsule_free(PyObject *cap) {
  cb_graph_free(PyCapsule_GetPointer(cap, CAPSULE));
}

static cb_graph *graph_of(PyObject *cap) {
  return PyCapsule_GetPointer(cap, CAPSULE);
}

static PyObject *id_or_raise(cbp_state *st, int id) {
  return id < 0 ? cbp_raise(st, id) : PyLong_FromLong(id);
}

static PyObject *py_graph_new(PyObject *module, PyObject *unused) {
  (void)unused;
  cb_graph *g;
  int rc = cb_graph_new(&g);
  if (rc)
    return cbp_raise(mstate(module), rc);
  PyObject *cap = PyCapsule_New(g, CAPSULE, graph_capsule_free);
  if (!cap)
    cb_graph_free(g);
  return cap;
}

/* graph_input(graph, dtype, shape) -> value id */
static PyObject *py_graph_input(PyObject *module, PyObject *const *args,
                                Py_ssize_t nargs) {
  cbp_state *st = mstate(module);
  cb_graph *g = nargs == 3 ? graph_of(args[0]) : NULL;
  int dtype;
  if (!g || cbp_dtype_arg(st, args[1], &dtype) < 0) {
    if (!PyErr_Occurred())
      PyErr_SetString(PyExc_TypeError, "graph_input(graph, dtype, shape)");
    return NULL;
  }
  int64_t shape[CB_MAX_NDIM];
  int nd;
  if (cbp_shape_items(args[2], shape, &nd))
    return NULL;
  return id_or_raise(st, cb_graph_input(g, (cb_dtype)dtype, nd, shape));
}

/* graph_constant(graph, array) -> value id */
static PyObject *py_graph_constant(PyObject *module, PyObject *const *args,
                                   Py_ssize_t nargs) {
  cbp_state *st = mstate(module);
  cb_graph *g = nargs == 2 ? graph_of(args[0]) : NULL;
  if (!g || !cbp_is_array(st, args[1])) {
    if (!PyErr_Occurred())
      PyErr_SetString(PyExc_TypeError, "graph_constant(graph, array)");
    return NULL;
  }
  ArrayObject *a = (ArrayObject *)args[1];
  int dev = cbp_array_object_device(st, a);
  if (dev < -1)
    return NULL;
  return id_or_raise(st, cb_graph_constant(g, a->arr, dev));
}

/* graph_ewise(graph, op code, operands, out_dtype or None) -> value id.
 * operands: ints (value ids) or Python/NumPy scalars. */
static PyObject *py_graph_ewise(PyObject *module, PyObject *const *args,
                                Py_ssize_t nargs) {
  cbp_state *st = mstate(module);
  cb_graph *g = nargs == 4 ? graph_of(args[0]) : NULL;
  long op = g ? PyLong_AsLong(args[1]) : -1;
  int out_dtype = -1;
  if (!g || PyErr_Occurred() || !PyTuple_Check(args[2]) ||
      PyTuple_GET_SIZE(args[2]) > 3 ||
      cbp_dtype_arg(st, args[3], &out_dtype) < 0) {
    if (!PyErr_Occurred())
      PyErr_SetString(PyExc_TypeError,
                      "graph_ewise(graph, op, operands, out_dtype)");
    return NULL;
  }
  cb_graph_operand x[3];
  Py_ssize_t n = PyTuple_GET_SIZE(args[2]);
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *o = PyTuple_GET_ITEM(args[2], i);
    /* A value of the graph comes as (id,), a scalar as itself. */
    if (PyTuple_Check(o) && PyTuple_GET_SIZE(o) == 1) {
      x[i].value = (int)PyLong_AsLong(PyTuple_GET_ITEM(o, 0));
      if (PyErr_Occurred())
        return NULL;
      continue;
    }
    PyObject *tmp = NULL;
    int ok = cbp_to_operand(st, o, &x[i].scalar, &tmp);
    Py_XDECREF(tmp);
    if (ok < 0)
      return NULL;
    if (ok == 0 || x[i].scalar.array) {
      PyErr_Format(PyExc_TypeError, "a graph operand must be a value of "
                   "the graph or a scalar, got '%s'", Py_TYPE(o)->tp_name);
      return NULL;
    }
    x[i].value = -1;
  }
  int id = cb_graph_ewise(g, (cb_op)op, x, (int)n, out_dtype);
  if (id >= 0)
    return PyLong_FromLong(id);
  /* The scalars, for a message that names them as given. */
  PyObject *objs[3];
  cb_operand scalars[3];
  for (Py_ssize_t i = 0; i < n; i++) {
    objs[i] = PyTuple_GET_ITEM(args[2], i);
    scalars[i] = x[i].value < 0 ? x[i].scalar : (cb_operand){.device = -1};
  }
  return cbp_raise_operands(st, id, objs, scalars, (int)n);
}

/* graph_apply(graph, name, value ids, axis) -> value id: a reduction
 * ("sum" ... "norm") along axis (-1: over every element), or "dot",
 * "matmul", "transpose". */
static PyObject *py_graph_apply(PyObject *module, PyObject *const *args,
                                Py_ssize_t nargs) {
  cbp_state *st = mstate(module);
  cb_graph *g = nargs == 4 ? graph_of(args[0]) : NULL;
  const char *name = g && PyUnicode_Check(args[1])
                         ? PyUnicode_AsUTF8(args[1])
                         : NULL;
  Py_ssize_t n = name && PyTuple_Check(args[2]) ? PyTuple_GET_SIZE(args[2])
                                                : 0;
  int ids[2] = {-1, -1};
  for (Py_ssize_t i = 0; i < n && i < 2 && !PyErr_Occurred(); i++)
    ids[i] = (int)PyLong_AsLong(PyTuple_GET_ITEM(args[2], i));
  long axis = name && !PyErr_Occurred() ? PyLong_AsLong(args[3]) : 0;
  if (!name || n < 1 || n > 2 || PyErr_Occurred()) {
    if (!PyErr_Occurred())
      PyErr_SetString(PyExc_TypeError,
                      "graph_apply(graph, name, value ids, axis)");
    return NULL;
  }
  int two = strcmp(name, "dot") == 0 || strcmp(name, "matmul") == 0;
  if (n != 1 + two) {
    PyErr_Format(PyExc_TypeError, "%s takes %d operands", name, 1 + two);
    return NULL;
  }
  if (strcmp(name, "dot") == 0)
    return id_or_raise(st, cb_graph_dot(g, ids[0], ids[1]));
  if (strcmp(name, "matmul") == 0)
    return id_or_raise(st, cb_graph_matmul(g, ids[0], ids[1]));
  if (strcmp(name, "transpose") == 0)
    return id_or_raise(st, cb_graph_transpose(g, ids[0]));
  int op = cbp_reduce_from_name(name);
  if (op >= 0)
    return id_or_raise(st, cb_graph_reduce(g, (cb_reduce_op)op, ids[0],
                                           (int)axis));
  PyErr_Format(PyExc_ValueError, "graphs cannot record %s", name);
  return NULL;
}

/* The shape of a graph's value, as a tuple. */
static PyObject *shape_tuple(const cb_graph_value_info *info) {
  PyObject *shape = PyTuple_New(info->ndim);
  for (int i = 0; shape && i < info->ndim; i++) {
    PyObject *n = PyLong_FromLongLong(info->shape[i]);
    if (!n)
      Py_CLEAR(shape);
    else
      PyTuple_SET_ITEM(shape, i, n);
  }
  return shape;
}

/* graph_output(graph, id) */
static PyObject *py_graph_output(PyObject *module, PyObject *const *args,
                                 Py_ssize_t nargs) {
  cbp_state *st = mstate(module);
  int v;
  cb_graph *g =
      cbp_capsule_int_args(args, nargs, CAPSULE, "graph_output(graph, id)", &v);
  if (!g)
    return NULL;
  int rc = cb_graph_mark_output(g, v);
  return rc ? cbp_raise(st, rc) : Py_NewRef(Py_None);
}

/* graph_value(graph, id) -> (dtype name, shape) */
static PyObject *py_graph_value(PyObject *module, PyObject *const *args,
                                Py_ssize_t nargs) {
  cbp_state *st = mstate(module);
  int v;
  cb_graph *g =
      cbp_capsule_int_args(args, nargs, CAPSULE, "graph_value(graph, id)", &v);
  if (!g)
    return NULL;
  cb_graph_value_info info;
  int rc = cb_graph_value(g, v, &info);
  if (rc)
    return cbp_raise(st, rc);
  PyObject *shape = shape_tuple(&info);
  return shape ? Py_BuildValue("(sN)", cb_dtype_name(info.dtype), shape)
               : NULL;
}

/* graph_info(graph) -> (values, nodes): values as (kind, node, dtype name,
 * shape, output), nodes as (operation name, operand ids (-1: scalar),
 * result). */
static PyObject *py_graph_info(PyObject *module, PyObject *cap) {
  (void)module;
  cb_graph *g = graph_of(cap);
  if (!g)
    return NULL;
  int nv = cb_graph_nvalues(g), nn = cb_graph_nnodes(g);
  PyObject *values = PyList_New(nv), *nodes = PyList_New(nn);
  for (int v = 0; values && nodes && v < nv; v++) {
    cb_graph_value_info info;
    cb_graph_value(g, v, &info);
    PyObject *shape = shape_tuple(&info);
    PyObject *t = shape ? Py_BuildValue("(iisNO)", info.kind, info.node,
                                        cb_dtype_name(info.dtype), shape,
                                        info.output ? Py_True : Py_False)
                        : NULL;
    if (!t) {
      Py_CLEAR(values);
      break;
    }
    PyList_SET_ITEM(values, v, t);
  }
  for (int i = 0; values && nodes && i < nn; i++) {
    const char *name;
    int x[3], n, result;
    cb_graph_node(g, i, &name, x, &n, &result);
    PyObject *ids = PyTuple_New(n);
    for (int k = 0; ids && k < n; k++)
      PyTuple_SET_ITEM(ids, k, PyLong_FromLong(x[k]));
    PyObject *t = ids ? Py_BuildValue("(sNi)", name, ids, result) : NULL;
    if (!t) {
      Py_CLEAR(nodes);
      break;
    }
    PyList_SET_ITEM(nodes, i, t);
  }
  PyObject *r = values && nodes ? PyTuple_Pack(2, values, nodes) : NULL;
  Py_XDECREF(values);
  Py_XDECREF(nodes);
  return r;
}

/* The C arrays (and, when devs is not NULL, placements) of a list of
 * Arrays, into in and devs (room for PyList_GET_SIZE(list)); -1 with a
 * TypeError when an item is no Array. */
static int input_arrays(cbp_state *st, PyObject *list, cb_array **in,
                        int *devs) {
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
    PyObject *a = PyList_GET_ITEM(list, i);
    if (!cbp_is_array(st, a)) {
      PyErr_SetString(PyExc_TypeError, "graph inputs must be Arrays");
      return -1;
    }
    in[i] = ((ArrayObject *)a)->arr;
    if (devs && (devs[i] = cbp_array_object_device(st, (ArrayObject *)a)) < -1)
      return -1;
  }
  return 0;
}

/* graph_run(graph, inputs (Arrays, in input order), noutputs,
 * default device or None) -> list of output Arrays. */
static PyObject *py_graph_run(PyObject *module, PyObject *const *args,
                              Py_ssize_t nargs) {
  cbp_state *st = mstate(module);
  cb_graph *g = nargs == 4 ? graph_of(args[0]) : NULL;
  long nout = g ? PyLong_AsLong(args[2]) : -1;
  if (!g || !PyList_Check(args[1]) || nout < 0) {
    if (!PyErr_Occurred())
      PyErr_SetString(PyExc_TypeError, "graph_run(graph, inputs, "
                                       "noutputs, device)");
    return NULL;
  }
  int dflt = cbp_device_id(st, args[3]);
  if (dflt < -1)
    return NULL;
  Py_ssize_t n = PyList_GET_SIZE(args[1]);
  cb_array **in = PyMem_Calloc((size_t)n + 1, sizeof *in);
  int *in_dev = PyMem_Calloc((size_t)n + 1, sizeof *in_dev);
  cb_array **out = PyMem_Calloc((size_t)nout + 1, sizeof *out);
  int *out_dev = PyMem_Calloc((size_t)nout + 1, sizeof *out_dev);
  PyObject *list = NULL;
  if (!in || !in_dev || !out || !out_dev) {
    PyErr_NoMemory();
    goto done;
  }
  if (input_arrays(st, args[1], in, in_dev) < 0)
    goto done;
  int rc;
  Py_BEGIN_ALLOW_THREADS
  rc = cb_graph_run(g, in, in_dev, (int)n, dflt, out, out_dev, (int)nout);
  Py_END_ALLOW_THREADS
  if (rc) {
    cbp_raise(st, rc);
    goto done;
  }
  list = PyList_New(nout);
  for (long k = 0; k < nout; k++) {
    PyObject *dev = out_dev[k] < 0 ? Py_NewRef(Py_None)
                    : out_dev[k] == dflt && args[3] != Py_None
                        ? Py_NewRef(args[3])
                        : PyObject_CallFunction(st->device_factory, "i",
                                                out_dev[k]);
    PyObject *arr = NULL;
    if (dev && list) {
      arr = cbp_array_object_new(st, out[k], dev, out_dev[k]);
      out[k] = NULL; /* taken, or dropped on failure */
    }
    Py_XDECREF(dev);
    if (!arr) {
      Py_CLEAR(list);
      continue;
    }
    PyList_SET_ITEM(list, k, arr);
  }
done:
  for (long k = 0; out && k < nout; k++)
    cb_array_unref(out[k]);
  PyMem_Free(in);
  PyMem_Free(in_dev);
  PyMem_Free(out);
  PyMem_Free(out_dev);
  return list;
}

/* graph_estimate(graph, inputs, device or None) -> (node times in us,
 * total us, critical path us, nodes without a measurement). */
static PyObject *py_graph_estimate(PyObject *module, PyObject *const *args,
                                   Py_ssize_t nargs) {
  cbp_state *st = mstate(module);
  cb_graph *g = nargs == 3 ? graph_of(args[0]) : NULL;
  if (!g || !PyList_Check(args[1])) {
    if (!PyErr_Occurred())
      PyErr_SetString(PyExc_TypeError,
                      "graph_estimate(graph, inputs, device)");
    return NULL;
  }
  int dev = cbp_device_id(st, args[2]);
  if (dev < -1)
    return NULL;
  Py_ssize_t n = PyList_GET_SIZE(args[1]);
  int nn = cb_graph_nnodes(g);
  cb_array **in = PyMem_Calloc((size_t)n + 1, sizeof *in);
  double *node_us = PyMem_Calloc((size_t)nn + 1, sizeof *node_us);
  PyObject *result = NULL;
  if (!in || !node_us) {
    PyErr_NoMemory();
    goto done;
  }
  if (input_arrays(st, args[1], in, NULL) < 0)
    goto done;
  double total = 0, critical = 0;
  int unknown = 0, rc;
  Py_BEGIN_ALLOW_THREADS
  rc = cb_graph_estimate(g, in, (int)n, dev, node_us, &total, &critical,
                         &unknown);
  Py_END_ALLOW_THREADS
  if (rc) {
    cbp_raise(st, rc);
    goto done;
  }
  PyObject *times = PyList_New(nn);
  for (int i = 0; times && i < nn; i++) {
    PyObject *t = PyFloat_FromDouble(node_us[i]);
    if (!t)
      Py_CLEAR(times);
    else
      PyList_SET_ITEM(times, i, t);
  }
  if (times)
    result = Py_BuildValue("(Nddi)", times, total, critical, unknown);
done:
  PyMem_Free(in);
  PyMem_Free(node_us);
  return result;
}

/* Docstrings; their first lines are the text signatures that
 * inspect.signature() reads. */

PyDoc_STRVAR(doc_graph_estimate,
"graph_estimate(graph, arrays, device, /)\n--\n\n"
"(node times, total work, critical path, unknown nodes) in\n"
"microseconds, from the performance models.\n");

PyDoc_STRVAR(doc_graph_new,
"graph_new()\n--\n\n"
"A new empty graph (a capsule).\n");

PyDoc_STRVAR(doc_graph_input,
"graph_input(graph, dtype, shape, /)\n--\n\n"
"Record an input; its value id.\n");

PyDoc_STRVAR(doc_graph_constant,
"graph_constant(graph, array, /)\n--\n\n"
"Record an Array as a constant; its value id.\n");

PyDoc_STRVAR(doc_graph_ewise,
"graph_ewise(graph, op, operands, dtype, /)\n--\n\n"
"Record an element-wise operation over operands (value ids in\n"
"1-tuples, or scalars); the result's value id.\n");

PyDoc_STRVAR(doc_graph_apply,
"graph_apply(graph, name, ids, axis, /)\n--\n\n"
"Record a reduction, dot, matmul or transpose; the result's value\n"
"id.\n");

PyDoc_STRVAR(doc_graph_output,
"graph_output(graph, id, /)\n--\n\n"
"Mark a value an output.\n");

/* graph_fuse(graph): plans fusion; the group of every node (-1: none). */
static PyObject *py_graph_fuse(PyObject *module, PyObject *cap) {
  cb_graph *g = graph_of(cap);
  if (!g)
    return NULL;
  int rc = cb_graph_fuse(g);
  if (rc < 0)
    return cbp_raise(mstate(module), rc);
  int nn = cb_graph_nnodes(g);
  PyObject *groups = PyTuple_New(nn);
  for (int i = 0; groups && i < nn; i++) {
    PyObject *v = PyLong_FromLong(cb_graph_node_group(g, i));
    if (!v) {
      Py_CLEAR(groups);
      break;
    }
    PyTuple_SET_ITEM(groups, i, v);
  }
  return groups;
}

PyDoc_STRVAR(doc_graph_fuse,
"graph_fuse(graph, /)\n--\n\n"
"Plan fusion for the runs to come; the fused group of every node\n"
"(-1: none).\n");

PyDoc_STRVAR(doc_graph_info,
"graph_info(graph, /)\n--\n\n"
"(values, nodes): every value as (kind, node, dtype, shape,\n"
"output), every node as (op, operand ids, result id).\n");

PyDoc_STRVAR(doc_graph_value,
"graph_value(graph, id, /)\n--\n\n"
"(dtype name, shape) of a value.\n");

PyDoc_STRVAR(doc_graph_run,
"graph_run(graph, arrays, noutputs, device, /)\n--\n\n"
"Submit every node over the input arrays; the output Arrays.\n");

PyMethodDef cbp_graph_methods[] = {
    {"graph_estimate", CBP_METH(py_graph_estimate), METH_FASTCALL,
     doc_graph_estimate},
    {"graph_new", py_graph_new, METH_NOARGS, doc_graph_new},
    {"graph_input", CBP_METH(py_graph_input), METH_FASTCALL, doc_graph_input},
    {"graph_constant", CBP_METH(py_graph_constant), METH_FASTCALL,
     doc_graph_constant},
    {"graph_ewise", CBP_METH(py_graph_ewise), METH_FASTCALL, doc_graph_ewise},
    {"graph_apply", CBP_METH(py_graph_apply), METH_FASTCALL, doc_graph_apply},
    {"graph_output", CBP_METH(py_graph_output), METH_FASTCALL,
     doc_graph_output},
    {"graph_info", py_graph_info, METH_O, doc_graph_info},
    {"graph_fuse", py_graph_fuse, METH_O, doc_graph_fuse},
    {"graph_value", CBP_METH(py_graph_value), METH_FASTCALL, doc_graph_value},
    {"graph_run", CBP_METH(py_graph_run), METH_FASTCALL, doc_graph_run},
    {NULL, NULL, 0, NULL}};
