/*
 * Custom OpenCL kernels from Python: kernel objects are capsules around a
 * cb_kernel; cambrian._kernels.Kernel turns its call arguments into the
 * (array, access) and (bytes, dtype) pairs read here. Building blocks the
 * calling thread, with the GIL released.
 */
#include "binding.h"

#include <string.h>

#define CAPSULE "cambrian.kernel"

static void kernel_capsule_free(PyObject *cap) {
  cb_kernel_unref(PyCapsule_GetPointer(cap, CAPSULE));
}

static cb_kernel *kernel_of(PyObject *cap) {
  return PyCapsule_GetPointer(cap, CAPSULE);
}

/* kernel_new(source, name, options or None) -> capsule */
static PyObject *py_kernel_new(PyObject *module, PyObject *const *args,
                               Py_ssize_t nargs) {
  cbp_state *st = mstate(module);
  if (nargs != 3) {
    PyErr_SetString(PyExc_TypeError, "kernel_new(source, name, options)");
    return NULL;
  }
  const char *src = cbp_text_arg(args[0], "the kernel source");
  const char *name = src ? cbp_text_arg(args[1], "the kernel name") : NULL;
  const char *opts = name && args[2] != Py_None
                         ? cbp_text_arg(args[2], "the kernel options")
                         : NULL;
  if (!name || (args[2] != Py_None && !opts))
    return NULL;
  cb_kernel *k;
  int rc = cb_kernel_new(src, name, opts, &k);
  if (rc)
    return cbp_raise(st, rc);
  PyObject *cap = PyCapsule_New(k, CAPSULE, kernel_capsule_free);
  if (!cap)
    cb_kernel_unref(k);
  return cap;
}

/* kernel_build(capsule, device_id): builds there, or raises
 * KernelBuildError with build_log and device. */
static PyObject *py_kernel_build(PyObject *module, PyObject *const *args,
                                 Py_ssize_t nargs) {
  cbp_state *st = mstate(module);
  int device;
  cb_kernel *k = cbp_capsule_int_args(
      args, nargs, CAPSULE, "kernel_build(kernel, device_id)", &device);
  if (!k)
    return NULL;
  enum { LOG = 16384 };
  char *log = PyMem_Malloc(LOG);
  if (!log)
    return PyErr_NoMemory();
  log[0] = 0;
  int rc;
  Py_BEGIN_ALLOW_THREADS
  rc = cb_kernel_build(k, device, log, LOG);
  Py_END_ALLOW_THREADS
  if (rc != CB_EBUILD) {
    PyMem_Free(log);
    return rc ? cbp_raise(st, rc) : Py_NewRef(Py_None);
  }
  /* The message shows the start of the log; build_log has all of it. */
  PyObject *dev = PyObject_CallFunction(st->device_factory, "i", device);
  PyObject *exc = dev ? PyObject_CallFunction(st->KernelBuildError,
                                              "N", PyUnicode_FromFormat(
                                                  "%s:\n%.1200s",
                                                  cb_last_error(), log))
                      : NULL;
  PyObject *blog = exc ? PyUnicode_DecodeUTF8(log, (Py_ssize_t)strlen(log),
                                              "replace")
                       : NULL;
  PyMem_Free(log);
  PyObject *kname = blog ? PyUnicode_FromString(cb_kernel_name(k)) : NULL;
  if (kname && PyObject_SetAttrString(exc, "build_log", blog) == 0 &&
      PyObject_SetAttrString(exc, "device", dev) == 0 &&
      PyObject_SetAttrString(exc, "task", kname) == 0)
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
  Py_XDECREF(kname);
  Py_XDECREF(blog);
  Py_XDECREF(exc);
  Py_XDECREF(dev);
  return NULL;
}

/* kernel_params(capsule, device_id) -> [(kind, type, name)], kind being
 * "buffer", "local" or "scalar". */
static PyObject *py_kernel_params(PyObject *module, PyObject *const *args,
                                  Py_ssize_t nargs) {
  cbp_state *st = mstate(module);
  int device;
  cb_kernel *k = cbp_capsule_int_args(
      args, nargs, CAPSULE, "kernel_params(kernel, device_id)", &device);
  if (!k)
    return NULL;
  enum { CAP = 256 };
  cb_kernel_param *params = PyMem_Calloc(CAP, sizeof *params);
  if (!params)
    return PyErr_NoMemory();
  int n;
  Py_BEGIN_ALLOW_THREADS
  n = cb_kernel_params(k, device, params, CAP);
  Py_END_ALLOW_THREADS
  if (n < 0) {
    PyMem_Free(params);
    return cbp_raise(st, n);
  }
  PyObject *list = PyList_New(0);
  for (int i = 0; list && i < n && i < CAP; i++) {
    PyObject *t = Py_BuildValue("(sss)",
                                params[i].is_buffer  ? "buffer"
                                : params[i].is_local ? "local"
                                                     : "scalar",
                                params[i].type, params[i].name);
    if (!t || PyList_Append(list, t) < 0)
      Py_CLEAR(list);
    Py_XDECREF(t);
  }
  PyMem_Free(params);
  return list;
}

static int size_tuple(PyObject *obj, size_t *out, int *dims) {
  long long v[3];
  Py_ssize_t n;
  int rc = cbp_int_items(obj, 3, v, &n);
  if (rc == -1)
    return -1;
  if (rc == -2 || n < 1) {
    PyErr_SetString(PyExc_ValueError, "sizes have 1 to 3 dimensions");
    return -1;
  }
  for (Py_ssize_t i = 0; i < n; i++) {
    if (v[i] <= 0) {
      PyErr_SetString(PyExc_ValueError, "sizes must be positive");
      return -1;
    }
    out[i] = (size_t)v[i];
  }
  *dims = (int)n;
  return 0;
}

/* kernel_launch(capsule, device_id, global, local or None, args) -> Event
 * (with a token). args: a list of (Array, access), (bytes, dtype code) or
 * (None, local memory bytes) pairs. */
static PyObject *py_kernel_launch(PyObject *module, PyObject *const *args,
                                  Py_ssize_t nargs) {
  cbp_state *st = mstate(module);
  cb_kernel *k = nargs == 5 ? kernel_of(args[0]) : NULL;
  int device = k ? (int)PyLong_AsLong(args[1]) : -1;
  if (!k || PyErr_Occurred() || !PyList_Check(args[4])) {
    if (!PyErr_Occurred())
      PyErr_SetString(PyExc_TypeError, "kernel_launch(kernel, device_id, "
                                       "global, local, args)");
    return NULL;
  }
  size_t global[3] = {0}, local[3] = {0};
  int dims, ldims = 0;
  if (size_tuple(args[2], global, &dims) < 0 ||
      (args[3] != Py_None && size_tuple(args[3], local, &ldims) < 0))
    return NULL;
  if (args[3] != Py_None && ldims != dims) {
    PyErr_Format(PyExc_ValueError, "local size has %d dimensions, global "
                 "size %d", ldims, dims);
    return NULL;
  }
  Py_ssize_t n = PyList_GET_SIZE(args[4]);
  cb_arg *cargs = PyMem_Calloc((size_t)n + 1, sizeof *cargs);
  if (!cargs)
    return PyErr_NoMemory();
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *pair = PyList_GET_ITEM(args[4], i);
    if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2)
      goto bad;
    PyObject *x = PyTuple_GET_ITEM(pair, 0);
    long m = PyLong_AsLong(PyTuple_GET_ITEM(pair, 1));
    if (m == -1 && PyErr_Occurred())
      goto fail;
    if (cbp_is_array(st, x)) {
      cargs[i].array = ((ArrayObject *)x)->arr;
      cargs[i].access = (cb_access)m;
    } else if (x == Py_None && m > 0) {
      cargs[i].local = 1;
      cargs[i].size = (size_t)m;
    } else if (PyBytes_Check(x) && PyBytes_GET_SIZE(x) <= 8 &&
               m >= 0 && m < CB_NDTYPES) {
      cargs[i].dtype = (cb_dtype)m;
      cargs[i].size = (size_t)PyBytes_GET_SIZE(x);
      memcpy(cargs[i].value.bytes, PyBytes_AS_STRING(x), cargs[i].size);
    } else {
      goto bad;
    }
  }
  cb_event *e = NULL;
  cb_array *token = NULL;
  int rc;
  Py_BEGIN_ALLOW_THREADS
  rc = cb_kernel_launch(k, device, dims, global,
                        args[3] == Py_None ? NULL : local, cargs, (int)n, &e,
                        &token);
  Py_END_ALLOW_THREADS
  PyMem_Free(cargs);
  if (rc)
    return cbp_raise(st, rc);
  PyObject *tok = cbp_array_object_new(st, token, Py_None, -1);
  if (!tok) {
    cb_event_unref(e);
    return NULL;
  }
  PyObject *ev = cbp_event_object_new(st, e, tok);
  Py_DECREF(tok);
  return ev;
bad:
  PyErr_SetString(PyExc_TypeError, "kernel_launch: bad argument list");
fail:
  PyMem_Free(cargs);
  return NULL;
}

/* Docstrings; their first lines are the text signatures that
 * inspect.signature() reads. */

PyDoc_STRVAR(doc_kernel_new,
"kernel_new(source, name, options, /)\n--\n\n"
"A kernel (a capsule) from OpenCL C source.\n");

PyDoc_STRVAR(doc_kernel_build,
"kernel_build(kernel, device_id, /)\n--\n\n"
"Compile the kernel for a device; raises KernelBuildError.\n");

PyDoc_STRVAR(doc_kernel_params,
"kernel_params(kernel, device_id, /)\n--\n\n"
"The kernel's parameters as (kind, type, name).\n");

PyDoc_STRVAR(doc_kernel_launch,
"kernel_launch(kernel, device_id, global_size, local_size, args, /)\n--\n\n"
"Launch the kernel; an Event.\n");

PyMethodDef cbp_kernel_methods[] = {
    {"kernel_new", CBP_METH(py_kernel_new), METH_FASTCALL, doc_kernel_new},
    {"kernel_build", CBP_METH(py_kernel_build), METH_FASTCALL,
     doc_kernel_build},
    {"kernel_params", CBP_METH(py_kernel_params), METH_FASTCALL,
     doc_kernel_params},
    {"kernel_launch", CBP_METH(py_kernel_launch), METH_FASTCALL,
     doc_kernel_launch},
    {NULL, NULL, 0, NULL}};
