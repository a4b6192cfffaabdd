/*
 * Testing hooks for Python (cambrian.testing): faults injected into the
 * tasks of an operation, failing as a device would.
 */
#include "binding.h"

#if __has_include("cambrian/testing.h")
#include "cambrian/testing.h"
#endif

/* inject_fault(op, device_id, nth, cl_status_name, lose): lose 0 keeps
 * the device, 1 loses it, 2 also leaves its context unusable. */
static PyObject *py_inject_fault(PyObject *module, PyObject *const *args,
                                 Py_ssize_t nargs) {
  cbp_state *st = mstate(module);
  if (nargs != 5) {
    PyErr_SetString(PyExc_TypeError,
                    "inject_fault(op, device, nth, cl_status, lose)");
    return NULL;
  }
  const char *op = cbp_text_arg(args[0], "the operation");
  if (!op)
    return NULL;
  long dev = PyLong_AsLong(args[1]);
  if (dev == -1 && PyErr_Occurred())
    return NULL;
  long nth = PyLong_AsLong(args[2]);
  if (nth == -1 && PyErr_Occurred())
    return NULL;
  const char *status = cbp_text_arg(args[3], "cl_status");
  if (!status)
    return NULL;
  long lose = PyLong_AsLong(args[4]);
  if (lose == -1 && PyErr_Occurred())
    return NULL;
  int code = cb_cl_status_code(status);
  if (code == 0) {
    PyErr_Format(PyExc_ValueError, "unknown OpenCL status '%s'", status);
    return NULL;
  }
  int rc = lose ? cb_testing_inject_loss(op, (int)dev, nth, code, lose > 1)
                : cb_testing_inject(op, (int)dev, nth, code);
  return rc ? cbp_raise(st, rc) : Py_NewRef(Py_None);
}

static PyObject *py_lost_device_ops(PyObject *module, PyObject *unused) {
  (void)module;
  (void)unused;
  return PyLong_FromLong(cb_testing_lost_device_ops());
}

static PyObject *py_staged_chunks(PyObject *module, PyObject *unused) {
  (void)module;
  (void)unused;
  return PyLong_FromLong(cb_testing_staged_chunks());
}

static PyObject *py_unfinished_events(PyObject *module, PyObject *unused) {
  (void)module;
  (void)unused;
  return PyLong_FromLong(cb_testing_unfinished_events());
}

static PyObject *py_clear_faults(PyObject *module, PyObject *unused) {
  (void)module;
  (void)unused;
  cb_testing_clear();
  Py_RETURN_NONE;
}

/* Docstrings; their first lines are the text signatures that
 * inspect.signature() reads. */

PyDoc_STRVAR(doc_inject_fault,
"inject_fault(op, device_id, nth, cl_status, lose, /)\n--\n\n"
"Make the nth execution of op's task on a device (-1: any) fail\n"
"with cl_status; lose 1 also loses the device, 2 leaves its context\n"
"unusable too.\n");

PyDoc_STRVAR(doc_lost_device_ops,
"lost_device_ops()\n--\n\n"
"StarPU data operations kept away from lost devices so far.\n");

PyDoc_STRVAR(doc_staged_chunks,
"staged_chunks()\n--\n\n"
"Chunks of copies to devices that went through pinned staging buffers\n"
"so far.\n");

PyDoc_STRVAR(doc_unfinished_events,
"unfinished_events()\n--\n\n"
"User events that could not be completed so far (StarPU was told that\n"
"they ended).\n");

PyDoc_STRVAR(doc_clear_faults,
"clear_faults()\n--\n\n"
"Remove the faults that have not fired.\n");

PyMethodDef cbp_testing_methods[] = {
    {"inject_fault", CBP_METH(py_inject_fault), METH_FASTCALL,
     doc_inject_fault},
    {"clear_faults", py_clear_faults, METH_NOARGS, doc_clear_faults},
    {"lost_device_ops", py_lost_device_ops, METH_NOARGS,
     doc_lost_device_ops},
    {"staged_chunks", py_staged_chunks, METH_NOARGS, doc_staged_chunks},
    {"unfinished_events", py_unfinished_events, METH_NOARGS,
     doc_unfinished_events},
    {NULL}};
