/*
 * The completion path to Python. When an operation's event completes (in a
 * StarPU worker, without the GIL), its token goes to a queue: queue 0 is
 * read by a thread of cambrian's (cambrian._futures), which waits with the
 * GIL released and resolves futures in batches; the other queues belong to
 * asyncio event loops, woken through an eventfd that the loop watches, so
 * an awaited operation costs one wake-up. No worker ever waits for the GIL.
 *
 * The sources of completions are an Array (its pending writes) and Event
 * objects (a kernel launch, a task call), defined here: a source can also
 * be waited for, polled, cancelled and asked for its failure.
 *
 * Locking: lock guards the queues.
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "binding.h"
#include "cambrian/testing.h"

#define NQUEUES 64
#define TOKEN_BITS 56

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready = PTHREAD_COND_INITIALIZER;
static struct queue {
  int used;
  int fd;              /* written to wake the reader; -1 for queue 0 */
  uint64_t *tokens;
  size_t n, capacity;
} queues[NQUEUES] = {[0] = {1, -1, NULL, 0, 0}};

/* An event's listener: queues the token. Called by a worker, no GIL. */
static void completed(void *arg) {
  uint64_t v = (uint64_t)(uintptr_t)arg;
  struct queue *q = &queues[v >> TOKEN_BITS];
  pthread_mutex_lock(&lock);
  if (q->n == q->capacity) {
    size_t cap = q->capacity ? q->capacity * 2 : 256;
    uint64_t *t = realloc(q->tokens, cap * sizeof *t);
    if (t) {
      q->tokens = t;
      q->capacity = cap;
    }
  }
  if (q->n < q->capacity) /* else lost: only under memory exhaustion */
    q->tokens[q->n++] = v & (((uint64_t)1 << TOKEN_BITS) - 1);
  if (q->fd >= 0) {
    uint64_t one = 1;
    ssize_t w = write(q->fd, &one, sizeof one); /* eventfd: never blocks */
    (void)w;
  } else {
    pthread_cond_signal(&ready);
  }
  pthread_mutex_unlock(&lock);
}

/* Takes every token of a queue; the caller frees *out. Holds lock. */
static size_t take(struct queue *q, uint64_t **out) {
  size_t n = q->n;
  *out = q->tokens;
  q->tokens = NULL;
  q->n = q->capacity = 0;
  return n;
}

static PyObject *token_list(uint64_t *batch, size_t n) {
  PyObject *list = PyList_New((Py_ssize_t)n);
  for (size_t i = 0; list && i < n; i++) {
    PyObject *v = PyLong_FromUnsignedLongLong(batch[i]);
    if (!v)
      Py_CLEAR(list);
    else
      PyList_SET_ITEM(list, (Py_ssize_t)i, v);
  }
  free(batch);
  return list;
}

/* queue_open(fd) -> queue id: tokens of this queue are announced by
 * writing 8 bytes to fd (an eventfd). */
static PyObject *py_queue_open(PyObject *module, PyObject *arg) {
  (void)module;
  int fd = (int)PyLong_AsLong(arg);
  if (fd < 0) {
    if (!PyErr_Occurred())
      PyErr_SetString(PyExc_ValueError, "bad file descriptor");
    return NULL;
  }
  pthread_mutex_lock(&lock);
  int id = -1;
  for (int i = 1; i < NQUEUES && id < 0; i++)
    if (!queues[i].used) {
      queues[i] = (struct queue){1, fd, NULL, 0, 0};
      id = i;
    }
  pthread_mutex_unlock(&lock);
  if (id < 0)
    Py_RETURN_NONE; /* all taken: the caller uses queue 0 */
  return PyLong_FromLong(id);
}

/* The id of a queue that queue_open gave; -1 with an error. */
static long queue_id(PyObject *arg) {
  long id = PyLong_AsLong(arg);
  if (id < 1 || id >= NQUEUES) {
    if (!PyErr_Occurred())
      PyErr_SetString(PyExc_ValueError, "bad queue id");
    return -1;
  }
  return id;
}

/* queue_close(id): forgets a queue (its tokens are dropped). */
static PyObject *py_queue_close(PyObject *module, PyObject *arg) {
  (void)module;
  long id = queue_id(arg);
  if (id < 0)
    return NULL;
  pthread_mutex_lock(&lock);
  free(queues[id].tokens);
  queues[id] = (struct queue){0, -1, NULL, 0, 0};
  pthread_mutex_unlock(&lock);
  Py_RETURN_NONE;
}

/* queue_drain(id) -> the tokens of a queue, without waiting. */
static PyObject *py_queue_drain(PyObject *module, PyObject *arg) {
  (void)module;
  long id = queue_id(arg);
  if (id < 0)
    return NULL;
  uint64_t *batch;
  pthread_mutex_lock(&lock);
  size_t n = take(&queues[id], &batch);
  pthread_mutex_unlock(&lock);
  return token_list(batch, n);
}

/* ---- Event objects ---- */

PyObject *cbp_event_object_new(cbp_state *st, cb_event *e, PyObject *token) {
  EventObject *o = PyObject_GC_New(EventObject, st->event_type);
  if (!o) {
    cb_event_unref(e);
    return NULL;
  }
  o->ev = e;
  o->token = Py_XNewRef(token);
  PyObject_GC_Track(o);
  return (PyObject *)o;
}

static int event_traverse(EventObject *o, visitproc visit, void *arg) {
  Py_VISIT(Py_TYPE(o));
  Py_VISIT(o->token);
  return 0;
}

static int event_clear(EventObject *o) {
  Py_CLEAR(o->token);
  return 0;
}

static void event_dealloc(EventObject *o) {
  PyTypeObject *tp = Py_TYPE(o);
  PyObject_GC_UnTrack(o);
  event_clear(o);
  cb_event_unref(o->ev);
  tp->tp_free(o);
  Py_DECREF(tp);
}

static PyObject *event_get_token(EventObject *o, void *closure) {
  (void)closure;
  return Py_NewRef(o->token ? o->token : Py_None);
}

static PyGetSetDef event_getset[] = {
    {"token", (getter)event_get_token, NULL,
     "The Array that tasks depending on this one read, or None.", NULL},
    {NULL}};

static PyType_Slot event_slots[] = {
    {Py_tp_doc, "The completion of a kernel launch or a task call."},
    {Py_tp_dealloc, event_dealloc},
    {Py_tp_traverse, event_traverse},
    {Py_tp_clear, event_clear},
    {Py_tp_getset, event_getset},
    {0, NULL}};

PyType_Spec cbp_event_spec = {
    .name = "cambrian._core.Event",
    .basicsize = sizeof(EventObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC |
             Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = event_slots};

/* The event an Array (its writer) or an Event stands for: a new reference
 * or NULL when nothing is pending; -1 in *bad with a TypeError set when
 * obj is neither. */
static cb_event *source_event(cbp_state *st, PyObject *obj, int *bad) {
  *bad = 0;
  if (Py_TYPE(obj) == st->array_type)
    return cb_array_writer(((ArrayObject *)obj)->arr);
  if (Py_TYPE(obj) == st->event_type) {
    cb_event_ref(((EventObject *)obj)->ev);
    return ((EventObject *)obj)->ev;
  }
  PyErr_Format(PyExc_TypeError, "expected an Array or an Event, got %s",
               Py_TYPE(obj)->tp_name);
  *bad = -1;
  return NULL;
}

/* watch(source, token, queue=0): queues token once the source is done (an
 * Event, or an Array: every pending write to it), at once if it is. */
static PyObject *py_watch(PyObject *module, PyObject *const *args,
                          Py_ssize_t nargs) {
  cbp_state *st = mstate(module);
  if (nargs < 2 || nargs > 3) {
    PyErr_SetString(PyExc_TypeError, "watch(source, token, queue=0)");
    return NULL;
  }
  unsigned long long token = PyLong_AsUnsignedLongLong(args[1]);
  long qid = nargs == 3 ? PyLong_AsLong(args[2]) : 0;
  if (PyErr_Occurred())
    return NULL;
  if (qid < 0 || qid >= NQUEUES || token >> TOKEN_BITS) {
    PyErr_SetString(PyExc_ValueError, "bad queue or token");
    return NULL;
  }
  void *arg = (void *)(uintptr_t)((uint64_t)qid << TOKEN_BITS | token);
  int bad;
  cb_event *e = source_event(st, args[0], &bad);
  if (bad)
    return NULL;
  if (!e) {
    completed(arg);
    Py_RETURN_NONE;
  }
  int rc = cb_event_on_done(e, completed, arg);
  cb_event_unref(e);
  return rc ? cbp_raise(st, rc) : Py_NewRef(Py_None);
}

/* cancel(array) -> True when the operation writing array was cancelled
 * before any of its tasks started. */
static PyObject *py_cancel(PyObject *module, PyObject *arg) {
  int bad;
  cb_event *e = source_event(mstate(module), arg, &bad);
  if (bad)
    return NULL;
  int ok = e && !cb_event_done(e) && cb_event_cancel(e);
  cb_event_unref(e);
  return PyBool_FromLong(ok);
}

/* Waits for a source (see source_event) with wait(e, limit): True when it
 * is done, False when not (in time), NULL with an error. */
static PyObject *wait_source(cbp_state *st, PyObject *source,
                             int (*wait)(cb_event *, double), double limit) {
  int bad;
  cb_event *e = source_event(st, source, &bad);
  if (bad)
    return NULL;
  if (!e)
    Py_RETURN_TRUE;
  int done = wait(e, limit);
  cb_event_unref(e);
  if (done == -2)
    return cbp_raise(st, CB_EINTASK);
  return done < 0 ? NULL : PyBool_FromLong(done);
}

/* Whether e is done within us microseconds, polling with the GIL
 * released (no sleep). */
static int poll_released(cb_event *e, double us) {
  int done = cb_event_done(e);
  if (!done && us > 0) {
    Py_BEGIN_ALLOW_THREADS
    done = cb_event_poll(e, (long)us);
    Py_END_ALLOW_THREADS
  }
  return done;
}

/* wait_writer(array, timeout_s or None) -> True when every write to the
 * array is done, False on timeout. The GIL is released; Ctrl-C works. */
static PyObject *py_wait_writer(PyObject *module, PyObject *const *args,
                                Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "wait_writer(source, timeout)");
    return NULL;
  }
  double timeout = -1;
  if (args[1] != Py_None && (timeout = PyFloat_AsDouble(args[1])) < 0) {
    if (!PyErr_Occurred())
      PyErr_SetString(PyExc_ValueError, "timeout must be non-negative");
    return NULL;
  }
  return wait_source(mstate(module), args[0], cbp_event_wait_interruptibly,
                     timeout);
}

int cbp_event_wait_interruptibly(cb_event *e, double timeout) {
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (!cb_event_done(e)) {
    int slice = 50;
    if (timeout >= 0) {
      clock_gettime(CLOCK_MONOTONIC, &now);
      double left = timeout - ((double)(now.tv_sec - start.tv_sec) +
                               (now.tv_nsec - start.tv_nsec) / 1e9);
      if (left <= 0)
        break;
      if (left < 0.05)
        slice = (int)(left * 1000) + 1;
    }
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = cb_event_wait(e, slice);
    Py_END_ALLOW_THREADS
    if (rc == CB_EINTASK) /* waiting inside a task would deadlock */
      return -2;
    if (rc != CB_ETIMEDOUT)
      break;
    if (PyErr_CheckSignals() < 0)
      return -1;
  }
  return cb_event_done(e);
}

/* poll_writer(array, microseconds) -> True if every write to array is done
 * within that time, polling with the GIL released (no sleep). */
static PyObject *py_poll_writer(PyObject *module, PyObject *const *args,
                                Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "poll_writer(source, microseconds)");
    return NULL;
  }
  long us = PyLong_AsLong(args[1]);
  if (us == -1 && PyErr_Occurred())
    return NULL;
  return wait_source(mstate(module), args[0], poll_released, (double)us);
}

/* wait_completions(timeout_ms) -> list of tokens, empty on timeout. The
 * GIL is released while waiting. */
static PyObject *py_wait_completions(PyObject *module, PyObject *arg) {
  (void)module;
  long ms = PyLong_AsLong(arg);
  if (ms == -1 && PyErr_Occurred())
    return NULL;
  uint64_t *batch = NULL;
  size_t n = 0;
  struct queue *q = &queues[0];
  Py_BEGIN_ALLOW_THREADS
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += ms / 1000;
  deadline.tv_nsec += (ms % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&lock);
  while (!q->n && pthread_cond_timedwait(&ready, &lock, &deadline) == 0)
    ;
  n = take(q, &batch);
  pthread_mutex_unlock(&lock);
  Py_END_ALLOW_THREADS
  return token_list(batch, n);
}

/* array_failure(source, seen=True) -> the exception the source (an Array's
 * writer, an Event) failed with, or None. With seen, the failure then
 * counts as seen (see failure_seen). */
static PyObject *py_array_failure(PyObject *module, PyObject *const *args,
                                  Py_ssize_t nargs) {
  cbp_state *st = mstate(module);
  cb_failure f;
  int failed, seen = nargs < 2 || PyObject_IsTrue(args[1]);
  if (nargs < 1 || nargs > 2 || seen < 0) {
    if (!PyErr_Occurred())
      PyErr_SetString(PyExc_TypeError, "array_failure(source, seen=True)");
    return NULL;
  }
  PyObject *arg = args[0];
  if (Py_TYPE(arg) == st->array_type) {
    failed = cb_array_failure(((ArrayObject *)arg)->arr, &f);
  } else if (Py_TYPE(arg) == st->event_type) {
    failed = cb_event_failure(((EventObject *)arg)->ev, &f);
  } else {
    PyErr_SetString(PyExc_TypeError, "array_failure(array or event)");
    return NULL;
  }
  if (!failed)
    Py_RETURN_NONE;
  return cbp_failure_exception(st, &f, seen);
}

/* failure_seen(exc): a reader has retrieved exc, a failure's exception:
 * cb.synchronize() no longer raises it. */
static PyObject *py_failure_seen(PyObject *module, PyObject *exc) {
  (void)module;
  PyObject *id = PyObject_GetAttrString(exc, "_cb_failure");
  if (!id && PyErr_ExceptionMatches(PyExc_AttributeError))
    PyErr_Clear();
  else if (!id)
    return NULL;
  if (id) {
    unsigned long long v = PyLong_AsUnsignedLongLong(id);
    Py_DECREF(id);
    if (v == (unsigned long long)-1 && PyErr_Occurred())
      return NULL;
    cb_failure_seen(v);
  }
  Py_RETURN_NONE;
}

/* take_failures() -> exceptions of the failures nobody has seen. */
static PyObject *py_take_failures(PyObject *module, PyObject *unused) {
  (void)unused;
  cbp_state *st = mstate(module);
  enum { CAP = 64 };
  cb_failure_info infos[CAP];
  PyObject *list = PyList_New(0);
  int n;
  do { /* CAP at a time, until all are taken */
    n = cb_failures_take(infos, CAP);
    for (int i = 0; list && i < n && i < CAP; i++) {
      PyObject *exc = cbp_failure_info_exception(st, &infos[i]);
      if (!exc || PyList_Append(list, exc) < 0)
        Py_CLEAR(list);
      Py_XDECREF(exc);
    }
  } while (list && n == CAP);
  return list;
}

/* wait_idle(timeout_ms) -> True when no work is pending. */
static PyObject *py_wait_idle(PyObject *module, PyObject *arg) {
  (void)module;
  long ms = PyLong_AsLong(arg);
  if (ms == -1 && PyErr_Occurred())
    return NULL;
  int rc;
  Py_BEGIN_ALLOW_THREADS
  rc = cb_wait_idle((int)ms);
  Py_END_ALLOW_THREADS
  if (rc == CB_EINTASK)
    return cbp_raise(mstate(module), rc);
  return PyBool_FromLong(rc == 0);
}

PyMethodDef cbp_future_methods[] = {
    {"cancel", py_cancel, METH_O, NULL},
    {"poll_writer", CBP_METH(py_poll_writer), METH_FASTCALL, NULL},
    {"wait_writer", CBP_METH(py_wait_writer), METH_FASTCALL, NULL},
    {"watch", CBP_METH(py_watch), METH_FASTCALL, NULL},
    {"queue_open", py_queue_open, METH_O, NULL},
    {"queue_close", py_queue_close, METH_O, NULL},
    {"queue_drain", py_queue_drain, METH_O, NULL},
    {"wait_completions", py_wait_completions, METH_O, NULL},
    {"array_failure", CBP_METH(py_array_failure), METH_FASTCALL, NULL},
    {"failure_seen", py_failure_seen, METH_O, NULL},
    {"take_failures", py_take_failures, METH_NOARGS, NULL},
    {"wait_idle", py_wait_idle, METH_O, NULL},
    {NULL}};
