/*
 * Python functions as tasks. A call is submitted with the host arrays it
 * reads and writes, plus a one-element token array that it writes, which
 * later calls read when they take its future as an argument: StarPU then
 * orders them, and a failure flows to them as a dependency failure.
 *
 * The function runs on a CPU worker, which takes the GIL only around the
 * call itself (cambrian._tasks.Call.run builds the NumPy views and turns
 * an exception into a TaskError). A call that never runs (cancelled, or an
 * input failed) lets go of its Python objects through Py_AddPendingCall,
 * so no StarPU thread waits for the GIL on that path.
 */
#include "binding.h"

#include <stdlib.h>

typedef struct call {
  PyObject *runner;          /* cambrian._tasks.Call; NULL once released */
  int narrays;
  size_t nbytes[];           /* per array */
} call;

static int release_runner(void *arg) {
  Py_XDECREF((PyObject *)arg);
  return 0;
}

static void release_call(void *arg) {
  call *c = arg;
  if (c->runner && Py_AddPendingCall(release_runner, c->runner) < 0) {
    PyGILState_STATE g = PyGILState_Ensure(); /* the queue is full */
    Py_DECREF(c->runner);
    PyGILState_Release(g);
  }
  free(c);
}

/* A worker keeps its Python thread state between calls: making one per
 * call (PyGILState_Ensure/Release) costs more than a tiny function. The
 * runtime drains every task before the interpreter finalises. */
static _Thread_local PyThreadState *worker_state;

static void enter_python(void) {
  if (worker_state)
    PyEval_RestoreThread(worker_state);
  else
    (void)PyGILState_Ensure(); /* kept for the thread's life */
}

static void leave_python(void) { worker_state = PyEval_SaveThread(); }

static int run_call(void *arg, void **ptrs, cb_task_ctx *ctx) {
  call *c = arg;
  int failed = 0;
  enter_python();
  PyObject *views = PyList_New(c->narrays);
  for (int i = 0; views && i < c->narrays; i++) {
    PyObject *v = PyMemoryView_FromMemory(ptrs[i], (Py_ssize_t)c->nbytes[i],
                                          PyBUF_WRITE);
    if (!v)
      Py_CLEAR(views);
    else
      PyList_SET_ITEM(views, i, v);
  }
  PyObject *r = views ? PyObject_CallMethod(c->runner, "run", "O", views)
                      : NULL;
  if (!r) {
    /* The runner itself failed (out of memory): no TaskError to give. */
    PyErr_WriteUnraisable(c->runner);
    cb_task_fail(ctx, CB_ETASK, "the task could not be run");
    failed = 1;
  } else if (r != Py_None) {
    const char *msg = PyUnicode_AsUTF8(r);
    uint64_t id = cb_task_fail(ctx, CB_ETASK, msg ? msg : "task failed");
    PyErr_Clear();
    PyObject *ok = PyObject_CallMethod(c->runner, "failed", "K",
                                       (unsigned long long)id);
    if (!ok)
      PyErr_WriteUnraisable(c->runner);
    Py_XDECREF(ok);
    failed = 1;
  }
  Py_XDECREF(r);
  Py_XDECREF(views);
  Py_CLEAR(c->runner); /* while the GIL is held */
  leave_python();
  return failed;
}

/* task_submit(runner, arrays, access, name, priority, device_id)
 *   -> Event (its token is the call's token array). */
static PyObject *py_task_submit(PyObject *module, PyObject *const *args,
                                Py_ssize_t nargs) {
  cbp_state *st = mstate(module);
  if (nargs != 6 || !PyList_Check(args[1]) || !PyList_Check(args[2]) ||
      PyList_GET_SIZE(args[1]) != PyList_GET_SIZE(args[2])) {
    PyErr_SetString(PyExc_TypeError, "task_submit(runner, arrays, access, "
                                     "name, priority, device_id)");
    return NULL;
  }
  const char *name = PyUnicode_AsUTF8(args[3]);
  if (!name)
    return NULL;
  int priority = (int)PyLong_AsLong(args[4]);
  if (priority == -1 && PyErr_Occurred())
    return NULL;
  int device = (int)PyLong_AsLong(args[5]);
  if (device == -1 && PyErr_Occurred())
    return NULL;
  Py_ssize_t n = PyList_GET_SIZE(args[1]);
  const cb_array **arrays = PyMem_Calloc((size_t)n + 1, sizeof *arrays);
  cb_access *access = PyMem_Calloc((size_t)n + 1, sizeof *access);
  call *c = calloc(1, sizeof *c + ((size_t)n + 1) * sizeof(size_t));
  if (!arrays || !access || !c) {
    PyErr_NoMemory();
    goto fail;
  }
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *a = PyList_GET_ITEM(args[1], i);
    long m = PyLong_AsLong(PyList_GET_ITEM(args[2], i));
    if (!cbp_is_array(st, a) || m < CB_IN || m > CB_INOUT) {
      if (!PyErr_Occurred())
        PyErr_SetString(PyExc_TypeError, "task_submit: bad array access");
      goto fail;
    }
    arrays[i] = ((ArrayObject *)a)->arr;
    access[i] = (cb_access)m;
    c->nbytes[i] = (size_t)cb_array_size(arrays[i]) *
                   cb_dtype_size(cb_array_dtype(arrays[i]));
  }
  c->narrays = (int)n;
  c->runner = Py_NewRef(args[0]);
  /* Submitting while the runtime runs never blocks: the GIL stays. */
  cb_task_opts opts = {.name = name, .priority = priority, .device = device,
                       .nonblocking = 1};
  cb_event *e = NULL;
  cb_array *token = NULL;
  int rc = cb_task_submit(run_call, c, release_call, arrays, access, (int)n,
                          &opts, &e, &token);
  if (rc == CB_EAGAIN) {
    opts.nonblocking = 0;
    c = calloc(1, sizeof *c + ((size_t)n + 1) * sizeof(size_t));
    if (!c) {
      PyErr_NoMemory();
      goto fail;
    }
    /* The first attempt released its call: make it again. */
    for (Py_ssize_t i = 0; i < n; i++)
      c->nbytes[i] = (size_t)cb_array_size(arrays[i]) *
                     cb_dtype_size(cb_array_dtype(arrays[i]));
    c->narrays = (int)n;
    c->runner = Py_NewRef(args[0]);
    Py_BEGIN_ALLOW_THREADS
    rc = cb_task_submit(run_call, c, release_call, arrays, access, (int)n,
                        &opts, &e, &token);
    Py_END_ALLOW_THREADS
  }
  c = NULL; /* released by the task, or by the failed submission */
  PyMem_Free(arrays);
  PyMem_Free(access);
  if (rc)
    return cbp_raise(st, rc);
  PyObject *token_obj = cbp_array_object_new(st, token, Py_None, -1);
  if (!token_obj) {
    cb_event_unref(e);
    return NULL;
  }
  PyObject *result = cbp_event_object_new(st, e, token_obj);
  Py_DECREF(token_obj);
  return result;
fail:
  PyMem_Free(arrays);
  PyMem_Free(access);
  free(c);
  return NULL;
}

/* Docstrings; their first lines are the text signatures that
 * inspect.signature() reads. */

PyDoc_STRVAR(doc_task_submit,
"task_submit(call, arrays, access, name, priority, device_id, /)\n--\n\n"
"Submit a Python call as a task; an Event.\n");

PyMethodDef cbp_task_methods[] = {
    {"task_submit", CBP_METH(py_task_submit), METH_FASTCALL, doc_task_submit},
    {NULL, NULL, 0, NULL}};
