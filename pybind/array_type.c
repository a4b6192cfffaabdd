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

/* int64 is "l" where long has 64 bits, so that NumPy sees its default
 * integer type (np.int64), not long long, which prints its dtype. */
static const char *const formats[CB_NDTYPES] = {
    "?", "i", sizeof(long) == 8 ? "l" : "q", "f", "d", "b", "h", "B", "H",
    "I", sizeof(long) == 8 ? "L" : "Q", "Zf", "Zd", "e"};

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
  int mine = a->local_thread && a->local_thread == PyThread_get_thread_ident();
  int rc = cbp_array_object_sync_part(st, a, mine);
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

static PyObject *get_distribution(ArrayObject *a, void *c) {
  (void)c;
  switch (cb_array_distribution(a->arr)) {
  case CB_DIST_BLOCK:
    return PyUnicode_FromString("block");
  case CB_DIST_CYCLIC:
    return PyUnicode_FromString("cyclic");
  default:
    Py_RETURN_NONE;
  }
}

static PyObject *get_tile_size(ArrayObject *a, void *c) {
  (void)c;
  return PyLong_FromLongLong((long long)cb_array_tile_size(a->arr));
}

static PyObject *get_device(ArrayObject *a, void *c) {
  (void)c;
  return Py_NewRef(a->device);
}

/* module.name(a, *args, **kwargs): methods written in Python. */
static PyObject *call_python(const char *module, PyObject *a,
                             const char *name, PyObject *const *args,
                             Py_ssize_t nargs, PyObject *kwnames) {
  PyObject *mod = PyImport_ImportModule(module);
  PyObject *fn = mod ? PyObject_GetAttrString(mod, name) : NULL;
  Py_XDECREF(mod);
  if (!fn)
    return NULL;
  Py_ssize_t n = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0);
  PyObject **all = PyMem_Malloc((size_t)(n + 1) * sizeof *all);
  PyObject *r = NULL;
  if (!all) {
    PyErr_NoMemory();
  } else {
    all[0] = a;
    for (Py_ssize_t i = 0; i < n; i++)
      all[i + 1] = args[i];
    r = PyObject_Vectorcall(fn, all, (size_t)nargs + 1, kwnames);
    PyMem_Free(all);
  }
  Py_DECREF(fn);
  return r;
}

/* cambrian._manipulation.name(a, ...): shapes and indexing are written in
 * Python over the layout copies of the core. */
static PyObject *manipulate(PyObject *a, const char *name,
                            PyObject *const *args, Py_ssize_t nargs,
                            PyObject *kwnames) {
  return call_python("cambrian._manipulation", a, name, args, nargs,
                     kwnames);
}

/* The transpose, computed by tasks into a new array (not a view): of a
 * matrix by row blocks, of an N-D array with its axes reversed. */
static PyObject *get_T(ArrayObject *a, void *c) {
  (void)c;
  if (cb_array_ndim(a->arr) > 2)
    return manipulate((PyObject *)a, "_reversed_axes", NULL, 0, NULL);
  return cbp_transpose(state_of((PyObject *)a), (PyObject *)a);
}

/* The matrix transpose: the last two axes exchanged. */
static PyObject *get_mT(ArrayObject *a, void *c) {
  if (cb_array_ndim(a->arr) < 2) {
    PyErr_SetString(PyExc_ValueError,
                    "matrix transpose with ndim < 2 is undefined");
    return NULL;
  }
  if (cb_array_ndim(a->arr) > 2)
    return manipulate((PyObject *)a, "_matrix_transpose", NULL, 0, NULL);
  return get_T(a, c);
}

/* The cambrian.Future of the array's pending writes. The future holds
 * the array (its result), and the array holds the future while the
 * operation may still fail or be cancelled: a failure nobody retrieved
 * is reported when both go, and a cancel() stays visible. Once the
 * operation has succeeded (settle_future), the array keeps only a weak
 * reference: otherwise every array whose future was asked for would be
 * a cycle, freed by the garbage collector long after its last use, its
 * buffers kept from the pool meanwhile. While somebody holds that future
 * this gives the same one; after, a new one, done at once. */
static PyObject *get_future(ArrayObject *a, void *c) {
  (void)c;
  PyObject *fut = NULL;
  if (a->future && !PyWeakref_CheckRef(a->future))
    return Py_NewRef(a->future);
  if (a->future) {
#if PY_VERSION_HEX >= 0x030D0000
    if (PyWeakref_GetRef(a->future, &fut) < 0)
      return NULL;
#else
    fut = PyWeakref_GetObject(a->future);
    fut = fut == Py_None ? NULL : Py_NewRef(fut);
#endif
    if (fut)
      return fut;
  }
  cbp_state *st = state_of((PyObject *)a);
  if (!st->future_factory) {
    PyErr_SetString(PyExc_RuntimeError, "cambrian is not initialised");
    return NULL;
  }
  fut = PyObject_CallOneArg(st->future_factory, (PyObject *)a);
  if (!fut)
    return NULL;
  Py_XSETREF(a->future, Py_NewRef(fut));
  return fut;
}

int cbp_array_settle_future(PyObject *obj, PyObject *future) {
  ArrayObject *a = (ArrayObject *)obj;
  /* A later write makes the array a new future (operations.c), whose
   * operation may still fail: that one stays. */
  if (a->future != future)
    return 0;
  PyObject *ref = PyWeakref_NewRef(a->future, NULL);
  if (!ref)
    return -1;
  Py_SETREF(a->future, ref);
  return 0;
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
    {"tile_size", (getter)get_tile_size, NULL,
     "Elements per tile once the array is in use (whole rows), else the\n"
     "size asked for (0: the device's choice at first use).",
     NULL},
    {"T", (getter)get_T, NULL,
     "The transpose of a 2-D array, as a new array written by a task; "
     "0-D and 1-D arrays give themselves.",
     NULL},
    {"distribution", (getter)get_distribution, NULL,
     "How the array is spread over the ranks of a distributed runtime:\n"
     "'block', 'cyclic', or None.",
     NULL},
    {"device", (getter)get_device, NULL,
     "The Device the array is placed on, or None (the scheduler chooses).",
     NULL},
    {"mT", (getter)get_mT, NULL,
     "The matrix transpose (of the last two axes) as a new array; "
     "ValueError below 2 dimensions.",
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

/* The rows this rank owns: a read-only NumPy view when they are one run,
 * else a copy of its runs one after the other. Only they are waited for,
 * and no other rank takes part. */
static PyObject *array_local(ArrayObject *a, PyObject *unused) {
  (void)unused;
  cbp_state *st = state_of((PyObject *)a);
  int64_t few_first[8], few_count[8], *first = few_first, *count = few_count;
  int rc, n = 0, cap = 8;
  PyObject *all = NULL, *runs = NULL, *out = NULL;
  for (;;) {
    Py_BEGIN_ALLOW_THREADS
    rc = cb_array_local_rows(a->arr, first, count, cap, &n);
    Py_END_ALLOW_THREADS
    if (rc) {
      cbp_raise(st, rc);
      goto done;
    }
    if (n <= cap)
      break;
    if (first != few_first) {
      PyMem_Free(first);
      PyMem_Free(count);
    }
    cap = n;
    first = PyMem_New(int64_t, (size_t)cap);
    count = PyMem_New(int64_t, (size_t)cap);
    if (!first || !count) {
      PyErr_NoMemory();
      goto done;
    }
  }
  PyObject *np = cbp_numpy(st);
  if (!np)
    goto done;
  a->local_thread = PyThread_get_thread_ident();
  all = PyObject_CallMethod(np, "asarray", "O", (PyObject *)a);
  a->local_thread = 0;
  if (!all || cb_array_ndim(a->arr) == 0) {
    out = Py_XNewRef(all);
    goto done;
  }
  if (n <= 1) { /* none: an empty view */
    out = PySequence_GetSlice(all, n ? (Py_ssize_t)first[0] : 0,
                              n ? (Py_ssize_t)(first[0] + count[0]) : 0);
    goto done;
  }
  if (!(runs = PyList_New(n)))
    goto done;
  for (int i = 0; i < n; i++) {
    PyObject *run = PySequence_GetSlice(all, (Py_ssize_t)first[i],
                                        (Py_ssize_t)(first[i] + count[i]));
    if (!run)
      goto done;
    PyList_SET_ITEM(runs, i, run);
  }
  out = PyObject_CallMethod(np, "concatenate", "O", runs);
done:
  Py_XDECREF(runs);
  Py_XDECREF(all);
  if (first != few_first) {
    PyMem_Free(first);
    PyMem_Free(count);
  }
  return out;
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

static PyObject *to_device(ArrayObject *a, PyObject *device) {
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

/* to_device(device, /, *, stream=None): the Array API's signature; the
 * copy is ordered by the array's dependencies, so a stream has no role
 * and must be None. */
static PyObject *array_to_device(ArrayObject *a, PyObject *const *args,
                                 Py_ssize_t nargs, PyObject *kwnames) {
  Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  PyObject *kw = nkw == 1 ? PyTuple_GET_ITEM(kwnames, 0) : NULL;
  if (nargs != 1 || nkw > 1 ||
      (kw && PyUnicode_CompareWithASCIIString(kw, "stream") != 0)) {
    PyErr_SetString(PyExc_TypeError,
                    "to_device(device, /, *, stream=None)");
    return NULL;
  }
  if (nkw == 1 && args[1] != Py_None) {
    PyErr_SetString(PyExc_ValueError,
                    "to_device: cambrian orders copies by data "
                    "dependencies; stream must be None");
    return NULL;
  }
  return to_device(a, args[0]);
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
  if (cbp_warn_complex_discard((int)cb_array_dtype(a->arr), t) < 0)
    return NULL;
  PyObject *self = (PyObject *)a;
  return cbp_apply(st, CB_OP_cast, &self, 1, t);
}

static PyObject *array_copy(ArrayObject *a, PyObject *unused) {
  (void)unused;
  PyObject *self = (PyObject *)a;
  return cbp_apply(state_of(self), CB_OP_cast, &self, 1,
                   (int)cb_array_dtype(a->arr));
}

/* NumPy's method name of the array's data, once ready: item, tolist. */
static PyObject *numpy_method(ArrayObject *a, const char *name,
                              PyObject *const *args, Py_ssize_t nargs,
                              PyObject *kwnames) {
  PyObject *v = numpy_view(a);
  if (!v)
    return NULL;
  PyObject *m = PyObject_GetAttrString(v, name);
  Py_DECREF(v);
  if (!m)
    return NULL;
  PyObject *r = PyObject_Vectorcall(m, args, (size_t)nargs, kwnames);
  Py_DECREF(m);
  return r;
}

static PyObject *array_item(ArrayObject *a, PyObject *const *args,
                            Py_ssize_t nargs, PyObject *kwnames) {
  return numpy_method(a, "item", args, nargs, kwnames);
}

static PyObject *array_tolist(ArrayObject *a, PyObject *unused) {
  (void)unused;
  return numpy_method(a, "tolist", NULL, 0, NULL);
}

static PyObject *array_format(ArrayObject *a, PyObject *spec) {
  return numpy_method(a, "__format__", &spec, 1, NULL);
}

static PyObject *array_dlpack(ArrayObject *a, PyObject *const *args,
                              Py_ssize_t nargs, PyObject *kwnames) {
  return call_python("cambrian._creation", (PyObject *)a, "_dlpack", args,
                     nargs, kwnames);
}

static PyObject *array_dlpack_device(ArrayObject *a, PyObject *unused) {
  (void)a;
  (void)unused;
  return Py_BuildValue("(ii)", 1, 0); /* kDLCPU: the host copy */
}

/* Pickling: the data (NumPy pickles the host copy) and the placement,
 * rebuilt by cambrian._creation._unpickle. */
static PyObject *array_pickle(ArrayObject *a, PyObject *unused) {
  (void)unused;
  PyObject *v = numpy_view(a);
  if (!v)
    return NULL;
  PyObject *mod = PyImport_ImportModule("cambrian._creation");
  PyObject *fn = mod ? PyObject_GetAttrString(mod, "_unpickle") : NULL;
  Py_XDECREF(mod);
  PyObject *where = a->device == Py_None
                        ? Py_NewRef(Py_None)
                        : PyObject_GetAttrString(a->device, "filter_string");
  PyObject *r = fn && where ? Py_BuildValue("(O(OO))", fn, v, where) : NULL;
  Py_XDECREF(where);
  Py_XDECREF(fn);
  Py_DECREF(v);
  return r;
}

static PyObject *array_deepcopy(ArrayObject *a, PyObject *memo) {
  (void)memo;
  return array_copy(a, NULL);
}

#define MANIPULATION_METHOD(name, fn)                                        \
  static PyObject *array_##name(PyObject *a, PyObject *const *args,         \
                                Py_ssize_t nargs, PyObject *kwnames) {      \
    return manipulate(a, fn, args, nargs, kwnames);                          \
  }
MANIPULATION_METHOD(reshape, "_method_reshape")
MANIPULATION_METHOD(transpose, "_method_transpose")
MANIPULATION_METHOD(ravel, "ravel")
MANIPULATION_METHOD(flatten, "ravel")
MANIPULATION_METHOD(squeeze, "squeeze")
MANIPULATION_METHOD(swapaxes, "swapaxes")

static PyObject *array_namespace(PyObject *a, PyObject *const *args,
                                 Py_ssize_t nargs, PyObject *kwnames) {
  return call_python("cambrian._array_api", a, "namespace", args, nargs,
                     kwnames);
}

static PyObject *array_getitem(PyObject *a, PyObject *key) {
  return manipulate(a, "getitem", &key, 1, NULL);
}

static int array_setitem(PyObject *a, PyObject *key, PyObject *value) {
  if (!value) {
    PyErr_SetString(PyExc_ValueError, "cannot delete array elements");
    return -1;
  }
  PyObject *args[2] = {key, value};
  PyObject *r = manipulate(a, "setitem", args, 2, NULL);
  Py_XDECREF(r);
  return r ? 0 : -1;
}

static PyObject *array_iter(PyObject *a) {
  return manipulate(a, "iterate", NULL, 0, NULL);
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
  /* The C core reduces real dtypes; the package's functions take
   * complex arrays apart (or refuse orderings) as cb.sum(a) does. */
  if (cbp_dtype_complex(cb_array_dtype(((ArrayObject *)self)->arr)))
    return call_python("cambrian._reductions", self, cb_reduce_name(op),
                       args, nargs, kwnames);
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
  cbp_state *st = state_of(self);
  ArrayObject *x = (ArrayObject *)self, *y = (ArrayObject *)other;
  if (cbp_dtype_complex(cb_array_dtype(x->arr)) ||
      (Py_TYPE(other) == st->array_type &&
       cbp_dtype_complex(cb_array_dtype(y->arr))))
    return call_python("cambrian._reductions", self, "dot", &other, 1,
                       NULL);
  return cbp_dot(st, self, other);
}

/* Docstrings: the first lines are the text signatures that
 * inspect.signature() reads. */
PyDoc_STRVAR(local_doc,
"local($self, /)\n--\n\n"
"The rows of a distributed array that this rank owns.\n\n"
"Waits for the pending writes to those rows only; no other rank takes\n"
"part (``numpy()`` of a distributed array gathers it, and every rank\n"
"calls it). For an array that is not distributed, or without a\n"
"distributed runtime, this is ``numpy()``.\n\n"
"Returns\n-------\nnumpy.ndarray\n"
"    A read-only view of this rank's rows of the host copy; a copy of\n"
"    them, one run after the other, when they are not one run (a\n"
"    ``'cyclic'`` distribution).\n\n"
"Raises\n------\nCambrianError\n"
"    The failure of the task that wrote the array.\n\n"
"Examples\n--------\n"
">>> a = cb.arange(6, distribution=\"block\")\n"
">>> a.local()  # one rank: every row\n"
"array([0, 1, 2, 3, 4, 5])\n");

PyDoc_STRVAR(numpy_doc,
"numpy($self, /)\n--\n\n"
"Wait for the pending writes, then return the host data.\n\n"
"The wait releases the GIL and Ctrl-C interrupts it.\n\n"
"Returns\n-------\nnumpy.ndarray\n"
"    A read-only view of the array's host copy.\n\n"
"Raises\n------\nCambrianError\n"
"    The failure of the task that wrote the array (DeviceError,\n"
"    DependencyError, TaskError, ...).\n"
"concurrent.futures.CancelledError\n"
"    The operation that writes the array was cancelled.\n\n"
"Examples\n--------\n"
">>> (cb.arange(4, dtype=cb.float32) * 2).numpy()\n"
"array([0., 2., 4., 6.], dtype=float32)\n");

PyDoc_STRVAR(dunder_array_doc,
"__array__($self, /, dtype=None, copy=None)\n--\n\n"
"NumPy's conversion: wait, then return the host data.\n\n"
"Parameters\n----------\ndtype : numpy.dtype, optional\n"
"    Convert to this dtype.\n"
"copy : bool, optional\n    True: return a writable copy.\n\n"
"Returns\n-------\nnumpy.ndarray\n\n"
"Raises\n------\nCambrianError\n    As numpy() does.\n\n"
"Examples\n--------\n"
">>> np.asarray(cb.ones(2, dtype=cb.int32), dtype=np.float64)\n"
"array([1., 1.])\n");

PyDoc_STRVAR(to_device_doc,
"to_device($self, device, /, *, stream=None)\n--\n\n"
"This array placed on another device; the data moves asynchronously.\n\n"
"Parameters\n----------\ndevice : str or Device or None\n"
"    A filter string (\"opencl:cpu\", \"cpu\"), a Device, or None or\n"
"    \"auto\" to let the scheduler choose.\n\n"
"Returns\n-------\nArray\n"
"    An array over the same data, placed on device.\n\n"
"Raises\n------\nDeviceNotFoundError\n    No device matches the filter.\n"
"TypeError\n    device is neither a string, a Device nor None.\n\n"
"Examples\n--------\n"
">>> a = cb.arange(3).to_device(\"cpu\")\n"
">>> str(a.device)\n'cpu:cpu:0'\n");

PyDoc_STRVAR(astype_doc,
"astype($self, dtype, /)\n--\n\n"
"A copy converted to dtype, written by a task (asynchronous).\n\n"
"Parameters\n----------\ndtype : str or numpy.dtype or type\n"
"    bool, an integer of 8 to 64 bits, float16, float32, float64,\n"
"    complex64 or complex128. From complex to a real dtype, the real\n"
"    part is kept and NumPy's ComplexWarning given, as NumPy does (bool\n"
"    says whether either part is not 0).\n\n"
"Returns\n-------\nArray\n\n"
"Raises\n------\nTypeError\n    dtype is not one of cambrian's.\n\n"
"Examples\n--------\n"
">>> cb.arange(3).astype(\"float32\").dtype\ndtype('float32')\n");

PyDoc_STRVAR(copy_doc,
"copy($self, /)\n--\n\n"
"A copy of the array, written by a task (asynchronous).\n\n"
"Returns\n-------\nArray\n"
"    A new array of the same dtype, shape and device.\n\n"
"Raises\n------\nCambrianError\n"
"    Not at the call: reading the copy raises the failure of the\n"
"    original's writer.\n\n"
"Examples\n--------\n"
">>> cb.arange(3).copy().numpy()\narray([0, 1, 2])\n");

PyDoc_STRVAR(item_doc,
"item($self, /, *args)\n--\n\n"
"The element as a Python scalar, once ready (numpy.ndarray.item).\n\n"
"Returns\n-------\nbool, int or float\n\n"
"Raises\n------\nValueError\n    The array has more than one element "
"and no index is given.\n\n"
"Examples\n--------\n>>> cb.sum(cb.ones(3)).item()\n3.0\n");

PyDoc_STRVAR(tolist_doc,
"tolist($self, /)\n--\n\n"
"The data as nested lists of Python scalars, once ready.\n\n"
"Returns\n-------\nlist, or a scalar for a 0-D array\n\n"
"Examples\n--------\n>>> cb.arange(3).tolist()\n[0, 1, 2]\n");

PyDoc_STRVAR(format_doc,
"__format__($self, spec, /)\n--\n\n"
"format() of the data, once ready, as NumPy formats it: a 0-D or\n"
"one-element array takes number formats.\n\n"
"Examples\n--------\n>>> f\"{cb.sum(cb.ones(3)):.2f}\"\n'3.00'\n");

PyDoc_STRVAR(dlpack_doc,
"__dlpack__($self, /, *, stream=None, max_version=None, dl_device=None,\n"
"           copy=None)\n--\n\n"
"A DLPack capsule of the host copy, once ready (no copy): for\n"
"numpy.from_dlpack and other DLPack consumers on the host.\n\n"
"Examples\n--------\n>>> np.from_dlpack(cb.arange(3))\n"
"array([0, 1, 2])\n");

PyDoc_STRVAR(dlpack_device_doc,
"__dlpack_device__($self, /)\n--\n\n"
"(1, 0): DLPack's CPU device, where the exported host copy is.\n");

PyDoc_STRVAR(reduce_doc,
"__reduce__($self, /)\n--\n\n"
"Pickling: the data, once ready, and the device's filter string.\n");

PyDoc_STRVAR(deepcopy_doc,
"__deepcopy__($self, memo, /)\n--\n\n"
"A new array with a copy of the data (as copy()).\n");

PyDoc_STRVAR(wait_doc,
"wait($self, /)\n--\n\n"
"Block until the pending writes are done and the host copy is\n"
"current (Ctrl-C interrupts the wait).\n\n"
"Returns\n-------\nNone\n\n"
"Raises\n------\nCambrianError\n"
"    The failure of the task that wrote the array.\n\n"
"Examples\n--------\n"
">>> cb.sqrt(cb.ones(4)).wait()\n");

#define REDUCTION_DOC(name, what, example, result)                           \
  PyDoc_STRVAR(name##_doc,                                                   \
  #name "($self, /, axis=None)\n--\n\n"                                       \
  "The " what " of the elements, as cambrian." #name " (asynchronous).\n\n" \
  "Parameters\n----------\naxis : int, optional\n"                          \
  "    None: every element (a 0-D result); 0 or 1 (negative counts\n"     \
  "    from the end): along that axis of a 2-D array.\n\n"                 \
  "Returns\n-------\nArray\n    Written by tasks; float() waits for a\n"  \
  "    0-D result.\n\n"                                                     \
  "Raises\n------\nValueError\n    axis is out of range, or (min, max)\n"  \
  "    the reduced extent is empty.\n\n"                                    \
  "Examples\n--------\n>>> " example "\n" result "\n")
REDUCTION_DOC(sum, "sum", "float(cb.arange(5.0).sum())", "10.0");
REDUCTION_DOC(min, "smallest", "int(cb.arange(5).min())", "0");
REDUCTION_DOC(max, "largest", "int(cb.arange(5).max())", "4");
REDUCTION_DOC(mean, "arithmetic mean", "float(cb.arange(5).mean())", "2.0");

PyDoc_STRVAR(dot_doc,
"dot($self, other, /)\n--\n\n"
"The dot product with another 1-D array, as cambrian.dot\n"
"(asynchronous).\n\n"
"Parameters\n----------\nother : Array or array_like\n"
"    A 1-D array of the same length.\n\n"
"Returns\n-------\nArray\n    A 0-D array.\n\n"
"Raises\n------\nValueError\n"
"    The lengths differ, an operand is not 1-D, or the operands are on\n"
"    two devices.\n\n"
"Examples\n--------\n"
">>> float(cb.arange(3.0).dot(cb.ones(3)))\n3.0\n");

PyDoc_STRVAR(reshape_doc,
"reshape($self, /, *shape, copy=None)\n--\n\n"
"The array's elements with another shape, in a new array (see\n"
"cambrian.reshape); the shape may be given as one tuple or as\n"
"integers.\n\n"
">>> cb.arange(6).reshape(2, 3).shape\n(2, 3)\n");

PyDoc_STRVAR(transpose_doc,
"transpose($self, /, *axes)\n--\n\n"
"The array with its axes reversed, or in the order axes gives, in a\n"
"new array (see cambrian.permute_dims).\n\n"
">>> cb.zeros((2, 3, 4)).transpose().shape\n(4, 3, 2)\n");

PyDoc_STRVAR(ravel_doc,
"ravel($self, /)\n--\n\n"
"The elements as a new 1-D array, in C order.\n\n"
">>> cb.ones((2, 2)).ravel().shape\n(4,)\n");

PyDoc_STRVAR(namespace_doc,
"__array_namespace__($self, /, *, api_version=None)\n--\n\n"
"The Array API namespace of the array: the cambrian module.\n\n"
">>> cb.ones(2).__array_namespace__() is cb\nTrue\n");

PyDoc_STRVAR(flatten_doc,
"flatten($self, /)\n--\n\n"
"The elements as a new 1-D array, in C order (as ravel()).\n\n"
">>> cb.ones((2, 2)).flatten().shape\n(4,)\n");

PyDoc_STRVAR(squeeze_doc,
"squeeze($self, /, axis=None)\n--\n\n"
"The array without dimensions of length 1 (see cambrian.squeeze).\n\n"
">>> cb.ones((1, 3)).squeeze().shape\n(3,)\n");

PyDoc_STRVAR(swapaxes_doc,
"swapaxes($self, axis1, axis2, /)\n--\n\n"
"The array with two axes exchanged, in a new array.\n\n"
">>> cb.ones((1, 3)).swapaxes(0, 1).shape\n(3, 1)\n");

PyDoc_STRVAR(peek_doc,
"_peek($self, /)\n--\n\n"
"(state, data) without waiting: (\"pending\", None), (\"ready\", a\n"
"NumPy view), (\"failed\", the exception) or (\"away\", None): written,\n"
"its data still on a device.\n");

PyDoc_STRVAR(repr_html_doc,
"_repr_html_($self, /)\n--\n\n"
"The array as HTML for notebooks: shape, dtype, device, state and a\n"
"preview of the data when it is ready. Never waits.\n");

static PyObject *array_peek_method(ArrayObject *a, PyObject *unused);
static PyObject *array_complex(PyObject *x, PyObject *unused);

PyDoc_STRVAR(complex_doc,
"__complex__($self, /)\n--\n\n"
"complex(a) of a one-element array, once written.\n\n"
">>> complex(cb.asarray(2.0))\n(2+0j)\n");
static PyObject *array_repr_html(ArrayObject *a, PyObject *unused);

#define REDUCTION_METHOD_DEF(name)                                           \
  {#name, CBP_METH(array_##name), METH_FASTCALL | METH_KEYWORDS, name##_doc}

static PyMethodDef array_methods[] = {
    {"numpy", (PyCFunction)array_numpy, METH_NOARGS, numpy_doc},
    {"local", (PyCFunction)array_local, METH_NOARGS, local_doc},
    {"__array__", CBP_METH(array_dunder_array),
     METH_VARARGS | METH_KEYWORDS, dunder_array_doc},
    {"to_device", CBP_METH(array_to_device), METH_FASTCALL | METH_KEYWORDS,
     to_device_doc},
    {"astype", (PyCFunction)array_astype, METH_O, astype_doc},
    {"copy", (PyCFunction)array_copy, METH_NOARGS, copy_doc},
    {"wait", (PyCFunction)array_wait, METH_NOARGS, wait_doc},
    {"item", CBP_METH(array_item), METH_FASTCALL | METH_KEYWORDS, item_doc},
    {"tolist", (PyCFunction)array_tolist, METH_NOARGS, tolist_doc},
    {"__format__", (PyCFunction)array_format, METH_O, format_doc},
    {"__dlpack__", CBP_METH(array_dlpack), METH_FASTCALL | METH_KEYWORDS,
     dlpack_doc},
    {"__dlpack_device__", (PyCFunction)array_dlpack_device, METH_NOARGS,
     dlpack_device_doc},
    {"__reduce__", (PyCFunction)array_pickle, METH_NOARGS, reduce_doc},
    {"__copy__", (PyCFunction)array_copy, METH_NOARGS, copy_doc},
    {"__deepcopy__", (PyCFunction)array_deepcopy, METH_O, deepcopy_doc},
    REDUCTION_METHOD_DEF(sum),
    REDUCTION_METHOD_DEF(min),
    REDUCTION_METHOD_DEF(max),
    REDUCTION_METHOD_DEF(mean),
    {"dot", (PyCFunction)array_dot, METH_O, dot_doc},
    {"__complex__", (PyCFunction)array_complex, METH_NOARGS, complex_doc},
    {"reshape", CBP_METH(array_reshape), METH_FASTCALL | METH_KEYWORDS,
     reshape_doc},
    {"transpose", CBP_METH(array_transpose), METH_FASTCALL | METH_KEYWORDS,
     transpose_doc},
    {"ravel", CBP_METH(array_ravel), METH_FASTCALL | METH_KEYWORDS,
     ravel_doc},
    {"flatten", CBP_METH(array_flatten), METH_FASTCALL | METH_KEYWORDS,
     flatten_doc},
    {"squeeze", CBP_METH(array_squeeze), METH_FASTCALL | METH_KEYWORDS,
     squeeze_doc},
    {"swapaxes", CBP_METH(array_swapaxes), METH_FASTCALL | METH_KEYWORDS,
     swapaxes_doc},
    {"__array_namespace__", CBP_METH(array_namespace),
     METH_FASTCALL | METH_KEYWORDS, namespace_doc},
    {"_peek", (PyCFunction)array_peek_method, METH_NOARGS, peek_doc},
    {"_repr_html_", (PyCFunction)array_repr_html, METH_NOARGS,
     repr_html_doc},
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
BINARY_SLOT(nb_and, CB_OP_bitwise_and)
BINARY_SLOT(nb_or, CB_OP_bitwise_or)
BINARY_SLOT(nb_xor, CB_OP_bitwise_xor)
BINARY_SLOT(nb_floor_divide, CB_OP_floor_divide)
BINARY_SLOT(nb_remainder, CB_OP_remainder)
BINARY_SLOT(nb_lshift, CB_OP_bitwise_left_shift)
BINARY_SLOT(nb_rshift, CB_OP_bitwise_right_shift)

static PyObject *nb_matrix_multiply(PyObject *x, PyObject *y) {
  return cbp_matmul(state_of_pair(x, y), x, y, 1);
}

static PyObject *nb_power(PyObject *x, PyObject *y, PyObject *mod) {
  if (mod != Py_None)
    Py_RETURN_NOTIMPLEMENTED;
  return binary(x, y, CB_OP_power);
}

/* x op= y: NumPy's in-place update, x keeping its dtype. An operand
 * that is not an Array (x is then y's right operand) is not updated. A
 * view, which cannot be written, is updated through what it views
 * (_manipulation.inplace_view, which calls name on a copy). */
static PyObject *inplace(PyObject *x, PyObject *y, cb_op op,
                         const char *name) {
  if (!is_array_object(x))
    Py_RETURN_NOTIMPLEMENTED;
  cb_array *src;
  cb_layout l;
  /* It may take the lock that submissions hold: not with the GIL. */
  Py_BEGIN_ALLOW_THREADS
  cb_view_source(((ArrayObject *)x)->arr, &src, &l);
  Py_END_ALLOW_THREADS
  if (src) {
    cb_array_unref(src);
    PyObject *args[2] = {y, NULL};
    args[1] = PyUnicode_FromString(name);
    if (!args[1])
      return NULL;
    PyObject *r = manipulate(x, "inplace_view", args, 2, NULL);
    Py_DECREF(args[1]);
    return r;
  }
  PyObject *args[2] = {x, y};
  return cbp_apply_into(state_of(x), op, args, 2, x);
}

#define INPLACE_SLOT(fn, op, name)                                           \
  static PyObject *fn(PyObject *x, PyObject *y) {                            \
    return inplace(x, y, op, name);                                          \
  }
INPLACE_SLOT(nb_inplace_add, CB_OP_add, "__iadd__")
INPLACE_SLOT(nb_inplace_floor_divide, CB_OP_floor_divide, "__ifloordiv__")
INPLACE_SLOT(nb_inplace_remainder, CB_OP_remainder, "__imod__")
INPLACE_SLOT(nb_inplace_lshift, CB_OP_bitwise_left_shift, "__ilshift__")
INPLACE_SLOT(nb_inplace_rshift, CB_OP_bitwise_right_shift, "__irshift__")
INPLACE_SLOT(nb_inplace_subtract, CB_OP_subtract, "__isub__")
INPLACE_SLOT(nb_inplace_multiply, CB_OP_multiply, "__imul__")
INPLACE_SLOT(nb_inplace_true_divide, CB_OP_divide, "__itruediv__")
INPLACE_SLOT(nb_inplace_and, CB_OP_bitwise_and, "__iand__")
INPLACE_SLOT(nb_inplace_or, CB_OP_bitwise_or, "__ior__")
INPLACE_SLOT(nb_inplace_xor, CB_OP_bitwise_xor, "__ixor__")

static PyObject *nb_inplace_power(PyObject *x, PyObject *y, PyObject *m) {
  if (m != Py_None)
    Py_RETURN_NOTIMPLEMENTED;
  return inplace(x, y, CB_OP_power, "__ipow__");
}

static PyObject *unary(PyObject *x, cb_op op) {
  return cbp_apply(state_of(x), op, &x, 1, -1);
}

static PyObject *nb_negative(PyObject *x) { return unary(x, CB_OP_negative); }
static PyObject *nb_absolute(PyObject *x) { return unary(x, CB_OP_absolute); }
static PyObject *nb_positive(PyObject *x) { return unary(x, CB_OP_positive); }
static PyObject *nb_invert(PyObject *x) {
  return unary(x, CB_OP_bitwise_invert);
}

/* Conversions to Python scalars wait and defer to NumPy's rules. */
static PyObject *to_scalar(PyObject *x, const char *method) {
  return numpy_method((ArrayObject *)x, method, NULL, 0, NULL);
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
static PyObject *array_complex(PyObject *x, PyObject *unused) {
  (void)unused;
  return to_scalar(x, "__complex__");
}
static PyObject *nb_int(PyObject *x) { return to_scalar(x, "__int__"); }
static PyObject *nb_index(PyObject *x) { return to_scalar(x, "__index__"); }

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

/* ---- looking without waiting ----------------------------------------- */

/* How long a look may poll: for the writer of an array that was just
 * submitted, and for a host copy of data that a device holds. */
#define PEEK_WRITER_US 200
#define PEEK_HOST_US 20000

/* What an array is, found without waiting beyond the polls above. */
enum { PEEK_PENDING, PEEK_READY, PEEK_FAILED, PEEK_AWAY, PEEK_SPREAD };
static const char *const peek_names[] = {"pending", "ready", "failed",
                                         "away"};

/* The state of an array, and in *out: for PEEK_READY a NumPy view of its
 * data, for PEEK_FAILED the exception it failed with (the failure does
 * not count as retrieved), else NULL. PEEK_AWAY: written, but the host
 * copy was not current within the poll. -1 with an error set. */
static int array_peek(ArrayObject *a, PyObject **out) {
  cbp_state *st = state_of((PyObject *)a);
  cb_failure f;
  cb_event *e = NULL;
  int done = 1, rc = 0;
  *out = NULL;
  cb_event *writer = cb_array_writer(a->arr);
  if (writer) {
    Py_BEGIN_ALLOW_THREADS
    done = cb_event_poll(writer, PEEK_WRITER_US);
    Py_END_ALLOW_THREADS
    cb_event_unref(writer);
  }
  if (!done)
    return PEEK_PENDING;
  if (cb_array_failure(a->arr, &f)) {
    *out = cbp_failure_exception(st, &f, 0);
    return *out ? PEEK_FAILED : -1;
  }
  /* Gathering a distributed array takes every rank: a look does not. */
  if (cb_array_distribution(a->arr) != CB_DIST_NONE && cb_nranks() > 1)
    return PEEK_SPREAD;
  Py_BEGIN_ALLOW_THREADS
  rc = cb_array_sync_host_start(a->arr, &e);
  if (!rc)
    done = cb_event_poll(e, PEEK_HOST_US);
  Py_END_ALLOW_THREADS
  if (!rc && !done) {
    cb_event_unref(e); /* the copy goes on; a later look finds it */
    return PEEK_AWAY;
  }
  if (!rc) {
    rc = cb_event_wait(e, 0);
    cb_event_unref(e);
  }
  if (rc) { /* the copy failed: that is the array's failure */
    PyObject *type, *tb;
    cbp_raise(st, rc);
    PyErr_Fetch(&type, out, &tb);
    PyErr_NormalizeException(&type, out, &tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return *out ? PEEK_FAILED : -1;
  }
  *out = numpy_view(a);
  return *out ? PEEK_READY : -1;
}

/* cambrian.Array(<preview or state>, shape=..., dtype=..., device=...):
 * never waits for the array's writer. */
static PyObject *array_repr(ArrayObject *a) {
  cbp_state *st = state_of((PyObject *)a);
  PyObject *obj = NULL, *text = NULL, *shape = NULL, *where = NULL;
  PyObject *r = NULL;
  int state = array_peek(a, &obj);
  if (state < 0)
    return NULL;
  if (state == PEEK_READY) {
    PyObject *np = cbp_numpy(st);
    PyObject *fn = np ? PyObject_GetAttrString(np, "array2string") : NULL;
    PyObject *args = fn ? PyTuple_Pack(1, obj) : NULL;
    PyObject *kw = args ? Py_BuildValue("{s:s}", "separator", ", ") : NULL;
    if (kw)
      text = PyObject_Call(fn, args, kw);
    Py_XDECREF(fn);
    Py_XDECREF(args);
    Py_XDECREF(kw);
  } else if (state == PEEK_FAILED) {
    text = PyUnicode_FromFormat("<failed: %s: %S>", Py_TYPE(obj)->tp_name,
                                obj);
  } else if (state == PEEK_AWAY) {
    text = PyUnicode_FromString("<ready; the data is on the device>");
  } else if (state == PEEK_SPREAD) {
    text = PyUnicode_FromFormat("<distributed over %d ranks>", cb_nranks());
  } else {
    text = PyUnicode_FromString("<pending>");
  }
  Py_XDECREF(obj);
  shape = text ? get_shape(a, NULL) : NULL;
  where = !shape             ? NULL
          : a->device == Py_None
              ? PyUnicode_FromString("auto")
              : PyObject_GetAttrString(a->device, "filter_string");
  if (where)
    r = PyUnicode_FromFormat(
        "cambrian.Array(%U, shape=%R, dtype=%s, device='%U')", text, shape,
        cb_dtype_name(cb_array_dtype(a->arr)), where);
  Py_XDECREF(text);
  Py_XDECREF(shape);
  Py_XDECREF(where);
  return r;
}

/* (state, data or exception or None), for cambrian's displays. */
static PyObject *array_peek_method(ArrayObject *a, PyObject *unused) {
  (void)unused;
  PyObject *obj;
  int state = array_peek(a, &obj);
  if (state < 0)
    return NULL;
  PyObject *r = Py_BuildValue("(sO)", peek_names[state],
                              obj ? obj : Py_None);
  Py_XDECREF(obj);
  return r;
}

/* The HTML view that notebooks show, made by cambrian._display. */
static PyObject *array_repr_html(ArrayObject *a, PyObject *unused) {
  (void)unused;
  PyObject *mod = PyImport_ImportModule("cambrian._display");
  if (!mod)
    return NULL;
  PyObject *r = PyObject_CallMethod(mod, "array_html", "O", (PyObject *)a);
  Py_DECREF(mod);
  return r;
}

PyDoc_STRVAR(array_doc,
"An n-dimensional array whose operations run as StarPU tasks on the\n"
"device that holds its data.\n\n"
"Arrays are made by cambrian.asarray, empty, zeros, ones, full and\n"
"arange, and by operations, which return at once: the array's data is\n"
"written later by tasks. Reading it (numpy(), numpy.asarray(), float(),\n"
"await) waits; repr() never does. Operators: + - * / ** @, unary -,\n"
"abs(), comparisons (element-wise, giving bool arrays).\n\n"
"Attributes\n----------\n"
"shape : tuple of int\ndtype : numpy.dtype\nndim, size, itemsize, "
"nbytes : int\n"
"device : Device or None\n    Where its work runs (None: the scheduler"
" chooses).\n"
"future : Future\n    Completes when every pending write is done.\n"
"T : Array\n    The transpose, written by a task.\n\n"
"Examples\n--------\n"
">>> a = cb.asarray(np.arange(6.0).reshape(2, 3))\n"
">>> b = (a * 2).T\n"
">>> b.shape, b.dtype\n((3, 2), dtype('float64'))\n"
">>> b.numpy()[0]\narray([0., 6.])\n");

static PyMemberDef array_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(ArrayObject, weakreflist),
     READONLY, NULL},
    {NULL}};

static PyType_Slot array_slots[] = {
    {Py_tp_doc, (void *)array_doc},
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
    {Py_nb_and, nb_and},
    {Py_nb_or, nb_or},
    {Py_nb_xor, nb_xor},
    {Py_nb_inplace_and, nb_inplace_and},
    {Py_nb_inplace_or, nb_inplace_or},
    {Py_nb_inplace_xor, nb_inplace_xor},
    {Py_nb_inplace_add, nb_inplace_add},
    {Py_nb_inplace_subtract, nb_inplace_subtract},
    {Py_nb_inplace_multiply, nb_inplace_multiply},
    {Py_nb_inplace_true_divide, nb_inplace_true_divide},
    {Py_nb_inplace_power, nb_inplace_power},
    {Py_nb_subtract, nb_subtract},
    {Py_nb_multiply, nb_multiply},
    {Py_nb_true_divide, nb_true_divide},
    {Py_nb_power, nb_power},
    {Py_nb_matrix_multiply, nb_matrix_multiply},
    {Py_nb_negative, nb_negative},
    {Py_nb_invert, nb_invert},
    {Py_nb_floor_divide, nb_floor_divide},
    {Py_nb_remainder, nb_remainder},
    {Py_nb_lshift, nb_lshift},
    {Py_nb_rshift, nb_rshift},
    {Py_nb_inplace_floor_divide, nb_inplace_floor_divide},
    {Py_nb_inplace_remainder, nb_inplace_remainder},
    {Py_nb_inplace_lshift, nb_inplace_lshift},
    {Py_nb_inplace_rshift, nb_inplace_rshift},
    {Py_nb_absolute, nb_absolute},
    {Py_nb_positive, nb_positive},
    {Py_nb_bool, nb_bool},
    {Py_nb_float, nb_float},
    {Py_nb_int, nb_int},
    {Py_nb_index, nb_index},
    {Py_mp_length, array_length},
    {Py_mp_subscript, array_getitem},
    {Py_mp_ass_subscript, array_setitem},
    {Py_tp_iter, array_iter},
    {Py_am_await, array_await},
    {0, NULL}};

PyType_Spec cbp_array_spec = {
    .name = "cambrian.Array",
    .basicsize = sizeof(ArrayObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC |
             Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = array_slots,
};
