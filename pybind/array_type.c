/*
 * The cambrian.Array type. Operators submit tasks and return at once;
 * reading the data (numpy(), the buffer protocol, repr, float()) waits,
 * with the GIL released.
 *
 * Buffers are exported read-only: the host copy is a snapshot that tasks
 * keep coherent only while nobody writes it behind StarPU's back.
 *
 * Arrays hash by identity (== is element-wise, as in NumPy), so that they
 * can be awaited together with asyncio.gather, like other awaitables.
 */
#include "binding.h"

#include <structmember.h>

static const char *const formats[CB_NDTYPES] = {"?", "i", "q", "f", "d"};

static int array_traverse(ArrayObject *a, visitproc visit, void *arg) {
  Py_VISIT(Py_TYPE(a));
  Py_VISIT(a->device);
  Py_VISIT(a->future);
  Py_VISIT(a->interrupt);
  return 0;
}

static int array_clear(ArrayObject *a) {
  Py_CLEAR(a->device);
  Py_CLEAR(a->future);
  Py_CLEAR(a->interrupt);
  return 0;
}

static void array_dealloc(ArrayObject *a) {
  PyTypeObject *tp = Py_TYPE(a);
  PyObject_GC_UnTrack(a);
  if (a->weakreflist)
    PyObject_ClearWeakRefs((PyObject *)a);
  array_clear(a);
  cb_array_unref(a->arr); /* never blocks */
  tp->tp_free(a);
  Py_DECREF(tp);
}

/* ---- buffer protocol -------------------------------------------------- */

/* NumPy takes an Array through its buffer first and, when the export
 * fails, drops the error and calls __array__ instead. What a signal
 * handler raised while the export waited (Ctrl-C's KeyboardInterrupt)
 * would be lost, and __array__ would wait again: it is kept on the Array,
 * and the __array__ call that follows in the same thread raises it. The
 * error stays set for other consumers of the buffer. */
static void keep_interrupt(ArrayObject *a) {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  if (value && tb)
    PyException_SetTraceback(value, tb);
  Py_XINCREF(value);
  Py_XSETREF(a->interrupt, value);
  a->interrupt_thread = PyThread_get_thread_ident();
  PyErr_Restore(type, value, tb);
}

/* Raises the exception keep_interrupt() kept for this thread, if any:
 * returns 1 then, else 0. */
static int raise_interrupt(ArrayObject *a) {
  if (!a->interrupt || a->interrupt_thread != PyThread_get_thread_ident())
    return 0;
  PyObject *exc = a->interrupt;
  a->interrupt = NULL;
  PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
  Py_DECREF(exc);
  return 1;
}

static int array_getbuffer(ArrayObject *a, Py_buffer *view, int flags) {
  if (flags & PyBUF_WRITABLE) {
    PyErr_SetString(PyExc_BufferError,
                    "cambrian arrays export read-only buffers; copy the "
                    "result of numpy() to modify it");
    return -1;
  }
  cbp_state *st = state_of((PyObject *)a);
  Py_CLEAR(a->interrupt);
  int rc = cbp_array_object_sync(st, a);
  if (rc) {
    if (rc == -2)
      keep_interrupt(a);
    return -1;
  }
  cb_dtype t = cb_array_dtype(a->arr);
  view->obj = Py_NewRef(a);
  view->buf = cb_array_data(a->arr);
  view->itemsize = (Py_ssize_t)cb_dtype_size(t);
  view->len = (Py_ssize_t)cb_array_size(a->arr) * view->itemsize;
  view->readonly = 1;
  view->ndim = cb_array_ndim(a->arr);
  view->format = (flags & PyBUF_FORMAT) ? (char *)formats[t] : NULL;
  view->shape = (flags & PyBUF_ND) ? a->shape : NULL;
  view->strides = (flags & PyBUF_STRIDES) == PyBUF_STRIDES ? a->strides
                                                           : NULL;
  view->suboffsets = NULL;
  view->internal = NULL;
  return 0;
}

static void array_releasebuffer(ArrayObject *a, Py_buffer *view) {
  (void)a;
  (void)view;
}

/* ---- properties ------------------------------------------------------- */

static PyObject *get_shape(ArrayObject *a, void *c) {
  (void)c;
  int nd = cb_array_ndim(a->arr);
  PyObject *t = PyTuple_New(nd);
  for (int i = 0; t && i < nd; i++)
    PyTuple_SET_ITEM(t, i, PyLong_FromSsize_t(a->shape[i]));
  return t;
}

static PyObject *get_dtype(ArrayObject *a, void *c) {
  (void)c;
  return Py_XNewRef(cbp_dtype_object(state_of((PyObject *)a),
                                     cb_array_dtype(a->arr)));
}

static PyObject *get_ndim(ArrayObject *a, void *c) {
  (void)c;
  return PyLong_FromLong(cb_array_ndim(a->arr));
}

static PyObject *get_size(ArrayObject *a, void *c) {
  (void)c;
  return PyLong_FromLongLong(cb_array_size(a->arr));
}

static PyObject *get_itemsize(ArrayObject *a, void *c) {
  (void)c;
  return PyLong_FromSize_t(cb_dtype_size(cb_array_dtype(a->arr)));
}

static PyObject *get_nbytes(ArrayObject *a, void *c) {
  (void)c;
  return PyLong_FromLongLong(cb_array_size(a->arr) *
                             (long long)cb_dtype_size(cb_array_dtype(a->arr)));
}

static PyObject *get_device(ArrayObject *a, void *c) {
  (void)c;
  return Py_NewRef(a->device);
}

/* The transpose, computed by tasks into a new array (not a view). */
static PyObject *get_T(ArrayObject *a, void *c) {
  (void)c;
  return cbp_transpose(state_of((PyObject *)a), (PyObject *)a);
}

/* The cambrian.Future of the array's pending writes, made once. */
static PyObject *get_future(ArrayObject *a, void *c) {
  (void)c;
  if (!a->future) {
    cbp_state *st = state_of((PyObject *)a);
    if (!st->future_factory) {
      PyErr_SetString(PyExc_RuntimeError, "cambrian is not initialised");
      return NULL;
    }
    a->future = PyObject_CallOneArg(st->future_factory, (PyObject *)a);
    if (!a->future)
      return NULL;
  }
  return Py_NewRef(a->future);
}

/* await array: waits for its pending writes; gives the array. */
static PyObject *array_await(ArrayObject *a) {
  PyObject *fut = get_future(a, NULL);
  if (!fut)
    return NULL;
  PyObject *it = PyObject_CallMethod(fut, "__await__", NULL);
  Py_DECREF(fut);
  return it;
}

static PyGetSetDef array_getset[] = {
    {"future", (getter)get_future, NULL,
     "A cambrian.Future that completes when every pending write to the "
     "array is done; its result is the array.",
     NULL},
    {"shape", (getter)get_shape, NULL, "Tuple of dimensions.", NULL},
    {"dtype", (getter)get_dtype, NULL, "Element type (a numpy.dtype).", NULL},
    {"ndim", (getter)get_ndim, NULL, "Number of dimensions.", NULL},
    {"size", (getter)get_size, NULL, "Number of elements.", NULL},
    {"itemsize", (getter)get_itemsize, NULL, "Bytes per element.", NULL},
    {"nbytes", (getter)get_nbytes, NULL, "Bytes of data.", NULL},
    {"T", (getter)get_T, NULL,
     "The transpose of a 2-D array, as a new array written by a task; "
     "0-D and 1-D arrays give themselves.",
     NULL},
    {"device", (getter)get_device, NULL,
     "The Device the array is placed on, or None (the scheduler chooses).",
     NULL},
    {NULL}};

/* ---- methods ---------------------------------------------------------- */

/* Waits, raising the array's failure if any, then lets NumPy take the
 * buffer. Waiting first matters: NumPy answers a failing buffer export
 * by calling __array__, which would come back here. */
static PyObject *numpy_view(ArrayObject *a) {
  cbp_state *st = state_of((PyObject *)a);
  Py_CLEAR(a->interrupt);
  if (cbp_array_object_sync(st, a))
    return NULL;
  PyObject *np = cbp_numpy(st);
  return np ? PyObject_CallMethod(np, "asarray", "O", (PyObject *)a) : NULL;
}

static PyObject *array_numpy(ArrayObject *a, PyObject *unused) {
  (void)unused;
  return numpy_view(a);
}

static PyObject *array_dunder_array(ArrayObject *a, PyObject *args,
                                    PyObject *kw) {
  static char *kwlist[] = {"dtype", "copy", NULL};
  PyObject *dtype = Py_None, *copy = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|OO:__array__", kwlist, &dtype,
                                   &copy) ||
      raise_interrupt(a))
    return NULL;
  PyObject *x = numpy_view(a);
  if (x && dtype != Py_None)
    Py_SETREF(x, PyObject_CallMethod(x, "astype", "O", dtype));
  if (x && copy == Py_True)
    Py_SETREF(x, PyObject_CallMethod(x, "copy", NULL));
  return x;
}

static PyObject *array_to_device(ArrayObject *a, PyObject *device) {
  cbp_state *st = state_of((PyObject *)a);
  /* The device factory takes ints for the device table's ids, which are
   * no business of users: an int is refused, as asarray(device=) does. */
  if (PyLong_Check(device)) {
    PyErr_Format(PyExc_TypeError, "to_device: a device filter is a string "
                 "such as 'opencl:gpu', or a Device, not '%.200s'",
                 Py_TYPE(device)->tp_name);
    return NULL;
  }
  PyObject *dev = PyObject_CallFunctionObjArgs(st->device_factory, device,
                                               NULL);
  if (!dev)
    return NULL;
  int id = cbp_device_id(st, dev);
  int rc = 0;
  if (id >= 0) {
    Py_BEGIN_ALLOW_THREADS
    rc = cb_array_prefetch(a->arr, id);
    Py_END_ALLOW_THREADS
  }
  if (id < -1 || rc) {
    if (rc)
      cbp_raise(st, rc);
    Py_DECREF(dev);
    return NULL;
  }
  cb_array_ref(a->arr);
  PyObject *out = cbp_array_object_new(st, a->arr, dev, id);
  Py_DECREF(dev);
  return out;
}

static PyObject *array_astype(ArrayObject *a, PyObject *dtype) {
  cbp_state *st = state_of((PyObject *)a);
  int t;
  if (cbp_dtype_arg(st, dtype, &t))
    return NULL;
  if (t < 0) {
    PyErr_SetString(PyExc_TypeError, "astype() needs a dtype");
    return NULL;
  }
  PyObject *self = (PyObject *)a;
  return cbp_apply(st, CB_OP_cast, &self, 1, t);
}

static PyObject *array_copy(ArrayObject *a, PyObject *unused) {
  (void)unused;
  PyObject *self = (PyObject *)a;
  return cbp_apply(state_of(self), CB_OP_cast, &self, 1,
                   (int)cb_array_dtype(a->arr));
}

static PyObject *array_wait(ArrayObject *a, PyObject *unused) {
  (void)unused;
  if (cbp_array_object_sync(state_of((PyObject *)a), a))
    return NULL;
  Py_RETURN_NONE;
}

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
  return cbp_reduce(state_of(self), op, self, axis);
}

#define REDUCTION_METHOD(name)                                               \
  static PyObject *array_##name(PyObject *self, PyObject *const *args,       \
                                Py_ssize_t nargs, PyObject *kwnames) {       \
    return array_reduce(self, CB_REDUCE_##name, args, nargs, kwnames);       \
  }
REDUCTION_METHOD(sum)
REDUCTION_METHOD(min)
REDUCTION_METHOD(max)
REDUCTION_METHOD(mean)

static PyObject *array_dot(PyObject *self, PyObject *other) {
  return cbp_dot(state_of(self), self, other);
}

#define REDUCTION_METHOD_DEF(name, doc)                                      \
  {#name, CBP_METH(array_##name), METH_FASTCALL | METH_KEYWORDS, doc}

static PyMethodDef array_methods[] = {
    {"numpy", (PyCFunction)array_numpy, METH_NOARGS,
     "Wait for pending writes and return a read-only NumPy view."},
    {"__array__", CBP_METH(array_dunder_array),
     METH_VARARGS | METH_KEYWORDS, "NumPy conversion (waits)."},
    {"to_device", (PyCFunction)array_to_device, METH_O,
     "Return this array placed on device; the data moves asynchronously."},
    {"astype", (PyCFunction)array_astype, METH_O,
     "Return a converted copy (asynchronous)."},
    {"copy", (PyCFunction)array_copy, METH_NOARGS,
     "Return a copy (asynchronous)."},
    {"wait", (PyCFunction)array_wait, METH_NOARGS,
     "Block until pending writes are done and the host copy is current."},
    REDUCTION_METHOD_DEF(sum, "sum(axis=None): the sum (asynchronous)."),
    REDUCTION_METHOD_DEF(min, "min(axis=None): the minimum (asynchronous)."),
    REDUCTION_METHOD_DEF(max, "max(axis=None): the maximum (asynchronous)."),
    REDUCTION_METHOD_DEF(mean, "mean(axis=None): the mean (asynchronous)."),
    {"dot", (PyCFunction)array_dot, METH_O,
     "dot(other): the dot product of two vectors (asynchronous)."},
    {NULL}};

/* ---- operators -------------------------------------------------------- */

/* Whether obj is an Array, of whichever module state. */
static int is_array_object(PyObject *obj) {
  return Py_TYPE(obj)->tp_dealloc == (destructor)array_dealloc;
}

/* The Array among the operands of a number slot gives the module state. */
static cbp_state *state_of_pair(PyObject *x, PyObject *y) {
  return state_of(is_array_object(x) ? x : y);
}

static PyObject *binary(PyObject *x, PyObject *y, cb_op op) {
  PyObject *args[2] = {x, y};
  cbp_state *st = state_of_pair(x, y);
  cb_operand probe;
  PyObject *tmp = NULL;
  /* Operands we cannot take let Python try the other side. */
  for (int i = 0; i < 2; i++) {
    if (is_array_object(args[i]))
      continue;
    int ok = cbp_to_operand(st, args[i], &probe, &tmp);
    Py_CLEAR(tmp);
    if (ok < 0)
      return NULL;
    if (ok == 0)
      Py_RETURN_NOTIMPLEMENTED;
  }
  return cbp_apply(st, op, args, 2, -1);
}

#define BINARY_SLOT(fn, op)                                                  \
  static PyObject *fn(PyObject *x, PyObject *y) { return binary(x, y, op); }
BINARY_SLOT(nb_add, CB_OP_add)
BINARY_SLOT(nb_subtract, CB_OP_subtract)
BINARY_SLOT(nb_multiply, CB_OP_multiply)
BINARY_SLOT(nb_true_divide, CB_OP_divide)

static PyObject *nb_matrix_multiply(PyObject *x, PyObject *y) {
  return cbp_matmul(state_of_pair(x, y), x, y, 1);
}

static PyObject *nb_power(PyObject *x, PyObject *y, PyObject *mod) {
  if (mod != Py_None)
    Py_RETURN_NOTIMPLEMENTED;
  return binary(x, y, CB_OP_power);
}

static PyObject *unary(PyObject *x, cb_op op) {
  return cbp_apply(state_of(x), op, &x, 1, -1);
}

static PyObject *nb_negative(PyObject *x) { return unary(x, CB_OP_negative); }
static PyObject *nb_absolute(PyObject *x) { return unary(x, CB_OP_absolute); }
static PyObject *nb_positive(PyObject *x) { return Py_NewRef(x); }

/* Conversions to Python scalars wait and defer to NumPy's rules. */
static PyObject *to_scalar(PyObject *x, const char *method) {
  PyObject *v = numpy_view((ArrayObject *)x);
  if (!v)
    return NULL;
  PyObject *r = PyObject_CallMethod(v, method, NULL);
  Py_DECREF(v);
  return r;
}

static int nb_bool(PyObject *x) {
  PyObject *r = to_scalar(x, "__bool__");
  if (!r)
    return -1;
  int b = PyObject_IsTrue(r);
  Py_DECREF(r);
  return b;
}

static PyObject *nb_float(PyObject *x) { return to_scalar(x, "__float__"); }
static PyObject *nb_int(PyObject *x) { return to_scalar(x, "__int__"); }

static PyObject *array_richcompare(PyObject *x, PyObject *y, int cmp) {
  static const cb_op ops[] = {
      [Py_LT] = CB_OP_less,  [Py_LE] = CB_OP_less_equal,
      [Py_EQ] = CB_OP_equal, [Py_NE] = CB_OP_not_equal,
      [Py_GT] = CB_OP_greater, [Py_GE] = CB_OP_greater_equal};
  return binary(x, y, ops[cmp]);
}

static Py_hash_t array_hash(PyObject *a) {
  Py_hash_t h = (Py_hash_t)((uintptr_t)a >> 4);
  return h == -1 ? -2 : h;
}

static Py_ssize_t array_length(ArrayObject *a) {
  if (cb_array_ndim(a->arr) == 0) {
    PyErr_SetString(PyExc_TypeError, "len() of unsized object");
    return -1;
  }
  return a->shape[0];
}

static PyObject *array_repr(ArrayObject *a) {
  cbp_state *st = state_of((PyObject *)a);
  PyObject *v = numpy_view(a), *np = cbp_numpy(st), *text = NULL;
  if (v && np) {
    PyObject *fn = PyObject_GetAttrString(np, "array2string");
    PyObject *args = fn ? PyTuple_Pack(1, v) : NULL;
    PyObject *kw = args ? Py_BuildValue("{s:s}", "separator", ", ") : NULL;
    if (kw)
      text = PyObject_Call(fn, args, kw);
    Py_XDECREF(fn);
    Py_XDECREF(args);
    Py_XDECREF(kw);
  }
  Py_XDECREF(v);
  if (!text)
    return NULL;
  PyObject *where =
      a->device == Py_None
          ? PyUnicode_FromString("auto")
          : PyObject_GetAttrString(a->device, "filter_string");
  PyObject *r = NULL;
  if (where)
    r = PyUnicode_FromFormat("cambrian.Array(%U, dtype=%s, device='%U')",
                             text, cb_dtype_name(cb_array_dtype(a->arr)),
                             where);
  Py_DECREF(text);
  Py_XDECREF(where);
  return r;
}

static PyMemberDef array_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(ArrayObject, weakreflist),
     READONLY, NULL},
    {NULL}};

static PyType_Slot array_slots[] = {
    {Py_tp_doc, "An n-dimensional array whose operations run as StarPU "
                "tasks on the device that holds its data."},
    {Py_tp_dealloc, array_dealloc},
    {Py_tp_traverse, array_traverse},
    {Py_tp_clear, array_clear},
    {Py_tp_getset, array_getset},
    {Py_tp_methods, array_methods},
    {Py_tp_members, array_members},
    {Py_tp_repr, array_repr},
    {Py_tp_richcompare, array_richcompare},
    {Py_tp_hash, array_hash},
    {Py_bf_getbuffer, array_getbuffer},
    {Py_bf_releasebuffer, array_releasebuffer},
    {Py_nb_add, nb_add},
    {Py_nb_subtract, nb_subtract},
    {Py_nb_multiply, nb_multiply},
    {Py_nb_true_divide, nb_true_divide},
    {Py_nb_power, nb_power},
    {Py_nb_matrix_multiply, nb_matrix_multiply},
    {Py_nb_negative, nb_negative},
    {Py_nb_absolute, nb_absolute},
    {Py_nb_positive, nb_positive},
    {Py_nb_bool, nb_bool},
    {Py_nb_float, nb_float},
    {Py_nb_int, nb_int},
    {Py_mp_length, array_length},
    {Py_am_await, array_await},
    {0, NULL}};

PyType_Spec cbp_array_spec = {
    .name = "cambrian.Array",
    .basicsize = sizeof(ArrayObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC |
             Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = array_slots,
};
