/* Profiling, traces and statistics for Python (cambrian._trace). */
#include "binding.h"

#include <stdlib.h>

/* profiling(enabled or None) -> whether profiling is on now. */
static PyObject *py_profiling(PyObject *module, PyObject *arg) {
  (void)module;
  if (arg != Py_None) {
    int on = PyObject_IsTrue(arg);
    if (on < 0)
      return NULL;
    cb_profiling_set(on);
  }
  return PyBool_FromLong(cb_profiling_get());
}

static PyObject *py_trace_start(PyObject *module, PyObject *unused) {
  (void)unused;
  int rc;
  Py_BEGIN_ALLOW_THREADS
  rc = cb_trace_start();
  Py_END_ALLOW_THREADS
  return rc ? cbp_raise(mstate(module), rc) : Py_NewRef(Py_None);
}

static PyObject *ids(const uintptr_t *v, int n) {
  PyObject *t = PyTuple_New(n);
  for (int i = 0; t && i < n; i++) {
    PyObject *x = PyLong_FromSize_t(v[i]);
    if (!x)
      Py_CLEAR(t);
    else
      PyTuple_SET_ITEM(t, i, x);
  }
  return t;
}

/* trace_stop() -> [(name, worker, device, submit, fetch_start, fetch_end,
 *                  start, end, failed, in_ids, out_ids)] */
static PyObject *py_trace_stop(PyObject *module, PyObject *unused) {
  (void)unused;
  cb_trace_event *ev;
  size_t n;
  int rc = cb_trace_stop(&ev, &n);
  if (rc)
    return cbp_raise(mstate(module), rc);
  PyObject *list = PyList_New((Py_ssize_t)n);
  for (size_t i = 0; list && i < n; i++) {
    cb_trace_event *e = &ev[i];
    PyObject *t = Py_BuildValue(
        "(siidddddOOO)", e->name, e->worker, e->device, e->submit_us,
        e->fetch_start_us, e->fetch_end_us, e->start_us, e->end_us,
        e->failed ? Py_True : Py_False, Py_None, Py_None);
    PyObject *in = t ? ids(e->in, e->nin) : NULL;
    PyObject *out = in ? ids(e->out, e->nout) : NULL;
    if (!out) {
      Py_XDECREF(t);
      Py_XDECREF(in);
      Py_CLEAR(list);
      break;
    }
    /* Replace the two placeholders (borrowed None). */
    Py_DECREF(PyTuple_GET_ITEM(t, 9));
    PyTuple_SET_ITEM(t, 9, in);
    Py_DECREF(PyTuple_GET_ITEM(t, 10));
    PyTuple_SET_ITEM(t, 10, out);
    PyList_SET_ITEM(list, (Py_ssize_t)i, t);
  }
  free(ev);
  return list;
}

/* stats(reset) -> (workers, links, ops) as lists of tuples. */
static PyObject *py_stats(PyObject *module, PyObject *arg) {
  int reset = PyObject_IsTrue(arg);
  if (reset < 0)
    return NULL;
  enum { W = 64, L = 64, O = 256 };
  cb_worker_stats w[W];
  cb_link_stats l[L];
  cb_op_stats *op = PyMem_Calloc(O, sizeof *op);
  if (!op)
    return PyErr_NoMemory();
  int nw = 0, nl = 0, nop = 0, rc;
  Py_BEGIN_ALLOW_THREADS
  rc = cb_stats_get(w, W, &nw, l, L, &nl, op, O, &nop);
  if (rc == 0 && reset)
    rc = cb_stats_reset();
  Py_END_ALLOW_THREADS
  if (rc) {
    PyMem_Free(op);
    return cbp_raise(mstate(module), rc);
  }
  PyObject *ws = PyList_New(0), *ls = PyList_New(0), *os = PyList_New(0);
  for (int i = 0; ws && i < nw && i < W; i++) {
    PyObject *t = Py_BuildValue("(iiLddd)", w[i].worker, w[i].device,
                                (long long)w[i].tasks, w[i].busy_s,
                                w[i].sleeping_s, w[i].total_s);
    if (!t || PyList_Append(ws, t) < 0)
      Py_CLEAR(ws);
    Py_XDECREF(t);
  }
  for (int i = 0; ls && i < nl && i < L; i++) {
    PyObject *t = Py_BuildValue("(iiLL)", l[i].src_device, l[i].dst_device,
                                (long long)l[i].bytes,
                                (long long)l[i].transfers);
    if (!t || PyList_Append(ls, t) < 0)
      Py_CLEAR(ls);
    Py_XDECREF(t);
  }
  for (int i = 0; os && i < nop && i < O; i++) {
    PyObject *t = Py_BuildValue("(sLd)", op[i].name, (long long)op[i].tasks,
                                op[i].busy_s);
    if (!t || PyList_Append(os, t) < 0)
      Py_CLEAR(os);
    Py_XDECREF(t);
  }
  PyMem_Free(op);
  PyObject *r = ws && ls && os ? PyTuple_Pack(3, ws, ls, os) : NULL;
  Py_XDECREF(ws);
  Py_XDECREF(ls);
  Py_XDECREF(os);
  return r;
}

/* Docstrings; their first lines are the text signatures that
 * inspect.signature() reads. */

PyDoc_STRVAR(doc_profiling,
"profiling(enabled, /)\n--\n\n"
"Turn profiling on or off (None: leave it); whether it is on.\n");

PyDoc_STRVAR(doc_trace_start,
"trace_start()\n--\n\n"
"Start recording the tasks that end.\n");

PyDoc_STRVAR(doc_trace_stop,
"trace_stop()\n--\n\n"
"Stop recording; the records, one tuple per task.\n");

PyDoc_STRVAR(doc_stats,
"stats(reset, /)\n--\n\n"
"(workers, links, operations) counters; reset starts them anew.\n");

PyMethodDef cbp_observe_methods[] = {
    {"profiling", py_profiling, METH_O, doc_profiling},
    {"trace_start", py_trace_start, METH_NOARGS, doc_trace_start},
    {"trace_stop", py_trace_stop, METH_NOARGS, doc_trace_stop},
    {"stats", py_stats, METH_O, doc_stats},
    {NULL, NULL, 0, NULL}};
