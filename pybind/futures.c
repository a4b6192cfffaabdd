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
 * A thread that waits for a source (a future's result()) sleeps on a
 * waiter of its own, which the operation's completion wakes through a
 * listener and its cancellation through the list of waiters: a cancelled
 * future's waiters return at once, not when the cancelled tasks' turn
 * comes.
 *
 * Locking: lock guards the queues, wait_lock the waiters.
 */
#include <errno.h>
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

/* ---- Waiters ---- */

enum { WOKEN_DONE = 1, WOKEN_CANCELLED = 2 };

/* One thread's wait for an event. Its two references belong to the
 * waiting thread and to the event's listener, which may run long after
 * the thread stopped waiting. */
typedef struct waiter {
  cb_event *event;            /* waited for (the waiting thread's) */
  int woken;                  /* WOKEN_* bits; guarded by wait_lock */
  int refs;                   /* guarded by wait_lock */
  pthread_cond_t cond;        /* used with wait_lock */
  struct waiter *prev, *next; /* in waiting, while its thread waits */
} waiter;

static pthread_mutex_t wait_lock = PTHREAD_MUTEX_INITIALIZER;
static waiter *waiting;

/* Drops a reference to w. Holds wait_lock; returns w when that was the
 * last one (the caller frees it once unlocked), else NULL. */
static waiter *waiter_unref_locked(waiter *w) {
  return --w->refs == 0 ? w : NULL;
}

static void waiter_free(waiter *w) {
  if (w) {
    pthread_cond_destroy(&w->cond);
    free(w);
  }
}

/* The listener: the event is done. Runs in the thread that completed it
 * (a StarPU worker, no GIL) or in the waiting thread, at once. */
static void waiter_fire(void *arg) {
  waiter *w = arg;
  pthread_mutex_lock(&wait_lock);
  w->woken |= WOKEN_DONE;
  pthread_cond_signal(&w->cond);
  waiter *dead = waiter_unref_locked(w);
  pthread_mutex_unlock(&wait_lock);
  waiter_free(dead);
}

/* Wakes every thread that waits for e, whose operation was cancelled. */
static void wake_cancelled(cb_event *e) {
  pthread_mutex_lock(&wait_lock);
  for (waiter *w = waiting; w; w = w->next)
    if (w->event == e) {
      w->woken |= WOKEN_CANCELLED;
      pthread_cond_signal(&w->cond);
    }
  pthread_mutex_unlock(&wait_lock);
}

/* Unlists w and drops the waiting thread's reference. */
static void waiter_stop(waiter *w) {
  pthread_mutex_lock(&wait_lock);
  if (w->prev)
    w->prev->next = w->next;
  else
    waiting = w->next;
  if (w->next)
    w->next->prev = w->prev;
  waiter *dead = waiter_unref_locked(w);
  pthread_mutex_unlock(&wait_lock);
  waiter_free(dead);
}

/* A new waiter for e, listed and listening; NULL with an error set. */
static waiter *waiter_start(cbp_state *st, cb_event *e) {
  waiter *w = calloc(1, sizeof *w);
  if (!w) {
    PyErr_NoMemory();
    return NULL;
  }
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  int rc = pthread_cond_init(&w->cond, &attr);
  pthread_condattr_destroy(&attr);
  if (rc) {
    free(w);
    PyErr_NoMemory();
    return NULL;
  }
  w->event = e;
  w->refs = 2;
  pthread_mutex_lock(&wait_lock);
  w->next = waiting;
  if (waiting)
    waiting->prev = w;
  waiting = w;
  pthread_mutex_unlock(&wait_lock);
  rc = cb_event_on_done(e, waiter_fire, w);
  if (rc) { /* the listener will never run: its reference goes too */
    pthread_mutex_lock(&wait_lock);
    w->refs--;
    pthread_mutex_unlock(&wait_lock);
    waiter_stop(w);
    cbp_raise(st, rc);
    return NULL;
  }
  return w;
}

/* The time seconds from now on CLOCK_MONOTONIC, for timed waits. */
static struct timespec deadline_after(double seconds) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  if (seconds < 0)
    seconds = 0;
  long ns = (long)((seconds - (double)(long)seconds) * 1e9);
  t.tv_sec += (time_t)seconds;
  t.tv_nsec += ns;
  if (t.tv_nsec >= 1000000000L) {
    t.tv_sec++;
    t.tv_nsec -= 1000000000L;
  }
  return t;
}

static double seconds_since(const struct timespec *start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - start->tv_sec) +
         (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Most operations end within a millisecond: a waiter first waits that
 * long on the event itself (a spin, then a sleep that the completion
 * ends), which is one wake-up and refuses to wait inside a task. A
 * cancel() meanwhile is seen once that millisecond is over. */
#define FIRST_WAIT_MS 1

/* Waits for e at most timeout seconds (negative: forever), with the GIL
 * released and signals checked every 50 ms: WOKEN_DONE when e is done,
 * WOKEN_CANCELLED when its operation is (or was) cancelled first, 0 on
 * timeout, -1 with an error set (CB_EINTASK inside a task). */
static int wait_or_cancel(cbp_state *st, cb_event *e, double timeout) {
  if (cb_event_done(e))
    return WOKEN_DONE;
  if (cb_event_cancelled(e))
    return WOKEN_CANCELLED;
  if (timeout == 0)
    return 0;
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  int rc;
  if (timeout > 0 && timeout < FIRST_WAIT_MS / 1e3) { /* no sleep at all */
    Py_BEGIN_ALLOW_THREADS
    rc = cb_event_poll(e, (long)(timeout * 1e6));
    Py_END_ALLOW_THREADS
    return rc ? WOKEN_DONE : 0;
  }
  Py_BEGIN_ALLOW_THREADS
  rc = cb_event_wait(e, FIRST_WAIT_MS);
  Py_END_ALLOW_THREADS
  /* Refused: inside a task, or in a child after fork() (CB_ESTATE), where
   * the work can never end. */
  if (rc == CB_EINTASK || (rc != CB_ETIMEDOUT && !cb_event_done(e))) {
    cbp_raise(st, rc);
    return -1;
  }
  if (rc != CB_ETIMEDOUT) /* done, with or without a failure */
    return WOKEN_DONE;
  waiter *w = waiter_start(st, e);
  if (!w)
    return -1;
  int woken = 0;
  for (;;) {
    /* Listed first, looked at next: a cancel() either comes after this
     * look, and finds the waiter, or before, and the look sees it. */
    double slice = 0.05;
    if (timeout >= 0 && timeout - seconds_since(&start) < slice)
      slice = timeout - seconds_since(&start);
    Py_BEGIN_ALLOW_THREADS
    struct timespec until = deadline_after(slice);
    pthread_mutex_lock(&wait_lock);
    if (cb_event_cancelled(e))
      w->woken |= WOKEN_CANCELLED;
    int waited = slice > 0 ? 0 : ETIMEDOUT;
    while (!w->woken && waited == 0) /* 0 after a spurious wake-up too */
      waited = pthread_cond_timedwait(&w->cond, &wait_lock, &until);
    woken = w->woken;
    pthread_mutex_unlock(&wait_lock);
    Py_END_ALLOW_THREADS
    if (woken)
      break;
    if (PyErr_CheckSignals() < 0) {
      woken = -1;
      break;
    }
    if (cb_check_ranks()) { /* the work may never end */
      cbp_raise(st, CB_ERANKLOST);
      woken = -1;
      break;
    }
    if (timeout >= 0 && seconds_since(&start) >= timeout)
      break;
  }
  waiter_stop(w);
  if (woken > 0)
    return woken & WOKEN_DONE ? WOKEN_DONE : WOKEN_CANCELLED;
  return woken;
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
  if (token == (unsigned long long)-1 && PyErr_Occurred())
    return NULL;
  long qid = nargs == 3 ? PyLong_AsLong(args[2]) : 0;
  if (qid == -1 && PyErr_Occurred())
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
  if (ok)
    wake_cancelled(e);
  cb_event_unref(e);
  return PyBool_FromLong(ok);
}

/* started(source) -> True once a task of the source's operation has
 * started; it stays True when the operation is done. */
static PyObject *py_started(PyObject *module, PyObject *arg) {
  int bad;
  cb_event *e = source_event(mstate(module), arg, &bad);
  if (bad)
    return NULL;
  int started = e && cb_event_started(e);
  cb_event_unref(e);
  return PyBool_FromLong(started);
}

/* settle_future(source, future): future's operation succeeded; an Array
 * keeps it only weakly from now on (array_type.c). */
static PyObject *py_settle_future(PyObject *module, PyObject *const *args,
                                  Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "settle_future(source, future)");
    return NULL;
  }
  if (Py_TYPE(args[0]) == mstate(module)->array_type &&
      cbp_array_settle_future(args[0], args[1]) < 0)
    return NULL;
  Py_RETURN_NONE;
}

/* start_host_copy(array): asks for the array's host copy to be brought up
 * to date once its writers are done, without waiting. */
static PyObject *py_start_host_copy(PyObject *module, PyObject *arg) {
  cbp_state *st = mstate(module);
  if (Py_TYPE(arg) != st->array_type) {
    PyErr_Format(PyExc_TypeError, "start_host_copy: an Array, not '%.200s'",
                 Py_TYPE(arg)->tp_name);
    return NULL;
  }
  cb_array *a = ((ArrayObject *)arg)->arr;
  cb_event *e = NULL;
  int rc;
  /* Gathering a distributed array takes every rank: only a read does. */
  if (cb_array_distribution(a) != CB_DIST_NONE && cb_nranks() > 1)
    Py_RETURN_NONE;
  Py_BEGIN_ALLOW_THREADS
  rc = cb_array_sync_host_start(a, &e);
  Py_END_ALLOW_THREADS
  cb_event_unref(e); /* the copy goes on; a later read finds it done */
  if (rc)
    return cbp_raise(st, rc);
  Py_RETURN_NONE;
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

/* wait_writer(source, timeout_s or None) -> True when the source (an
 * Array's writes, an Event) is done, False when it is not in time, None
 * when its operation was cancelled first. A timeout that is not positive
 * (negative, NaN) looks without waiting, as concurrent.futures does. The
 * GIL is released; Ctrl-C works. */
static PyObject *py_wait_writer(PyObject *module, PyObject *const *args,
                                Py_ssize_t nargs) {
  cbp_state *st = mstate(module);
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "wait_writer(source, timeout)");
    return NULL;
  }
  double timeout = -1;
  if (args[1] != Py_None) {
    timeout = PyFloat_AsDouble(args[1]);
    if (timeout == -1 && PyErr_Occurred())
      return NULL;
    if (!(timeout > 0))
      timeout = 0;
  }
  int bad;
  cb_event *e = source_event(st, args[0], &bad);
  if (bad)
    return NULL;
  if (!e)
    Py_RETURN_TRUE;
  int woken = wait_or_cancel(st, e, timeout);
  cb_event_unref(e);
  if (woken < 0)
    return NULL;
  if (woken == WOKEN_CANCELLED)
    Py_RETURN_NONE;
  return PyBool_FromLong(woken == WOKEN_DONE);
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
    if (rc == CB_ERANKLOST && !cb_event_done(e))
      return -4; /* a rank that the work needs was lost */
    if (rc != CB_ETIMEDOUT && !cb_event_done(e))
      return -3; /* a child after fork(): the work can never end */
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
  int failed, seen = nargs < 2 ? 1 : PyObject_IsTrue(args[1]);
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

/* take_failures() -> exceptions of the failures nobody has seen (taken:
 * the next call does not return them again). */
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
      /* Marked with its failure's id, as a future's exception is. */
      cb_failure f = {.info = infos[i]};
      PyObject *exc = cbp_failure_exception(st, &f, 0);
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
  if (rc && rc != CB_ETIMEDOUT) /* inside a task, or after fork() */
    return cbp_raise(mstate(module), rc);
  return PyBool_FromLong(rc == 0);
}

/* Docstrings; their first lines are the text signatures that
 * inspect.signature() reads. */

PyDoc_STRVAR(doc_cancel,
"cancel(source, /)\n--\n\n"
"Cancel the operation of an Array's writer or an Event if none of\n"
"its tasks has started; whether it was.\n");

PyDoc_STRVAR(doc_started,
"started(source, /)\n--\n\n"
"Whether a task of the operation of source (an Array's writer, an\n"
"Event) has started.\n");

PyDoc_STRVAR(doc_settle_future,
"settle_future(source, future, /)\n--\n\n"
"The operation of future, source's, succeeded: an Array keeps that\n"
"future only through a weak reference from now on.\n");

PyDoc_STRVAR(doc_start_host_copy,
"start_host_copy(array, /)\n--\n\n"
"Start bringing the array's host copy up to date once its writers are\n"
"done; returns at once.\n");

PyDoc_STRVAR(doc_poll_writer,
"poll_writer(source, us, /)\n--\n\n"
"Whether the operation of source is done, polling at most us\n"
"microseconds.\n");

PyDoc_STRVAR(doc_wait_writer,
"wait_writer(source, timeout, /)\n--\n\n"
"Wait for the operation of source (timeout in seconds, None: no\n"
"limit): True when done, False on timeout, None when cancelled.\n");

PyDoc_STRVAR(doc_watch,
"watch(source, token, queue=0, /)\n--\n\n"
"Queue token on a completion queue once the operation of source is\n"
"done.\n");

PyDoc_STRVAR(doc_queue_open,
"queue_open(fd, /)\n--\n\n"
"A new completion queue announced through fd (an eventfd); its id,\n"
"or None when all are taken.\n");

PyDoc_STRVAR(doc_queue_close,
"queue_close(queue, /)\n--\n\n"
"Forget a completion queue and its tokens.\n");

PyDoc_STRVAR(doc_queue_drain,
"queue_drain(queue, /)\n--\n\n"
"The tokens of a completion queue, without waiting.\n");

PyDoc_STRVAR(doc_wait_completions,
"wait_completions(timeout_ms, /)\n--\n\n"
"The tokens of queue 0, waiting at most timeout_ms for one (the GIL\n"
"released).\n");

PyDoc_STRVAR(doc_array_failure,
"array_failure(source, seen=True, /)\n--\n\n"
"The exception the operation of source failed with, or None; with\n"
"seen, the failure counts as retrieved.\n");

PyDoc_STRVAR(doc_failure_seen,
"failure_seen(exc, /)\n--\n\n"
"Mark the failure of exc retrieved: synchronize() no longer raises\n"
"it.\n");

PyDoc_STRVAR(doc_take_failures,
"take_failures()\n--\n\n"
"The exceptions of the failures nobody has retrieved, taken.\n");

PyDoc_STRVAR(doc_wait_idle,
"wait_idle(timeout_ms, /)\n--\n\n"
"Whether no work is pending, waiting at most timeout_ms.\n");

PyMethodDef cbp_future_methods[] = {
    {"cancel", py_cancel, METH_O, doc_cancel},
    {"started", py_started, METH_O, doc_started},
    {"settle_future", CBP_METH(py_settle_future), METH_FASTCALL,
     doc_settle_future},
    {"start_host_copy", py_start_host_copy, METH_O, doc_start_host_copy},
    {"poll_writer", CBP_METH(py_poll_writer), METH_FASTCALL, doc_poll_writer},
    {"wait_writer", CBP_METH(py_wait_writer), METH_FASTCALL, doc_wait_writer},
    {"watch", CBP_METH(py_watch), METH_FASTCALL, doc_watch},
    {"queue_open", py_queue_open, METH_O, doc_queue_open},
    {"queue_close", py_queue_close, METH_O, doc_queue_close},
    {"queue_drain", py_queue_drain, METH_O, doc_queue_drain},
    {"wait_completions", py_wait_completions, METH_O, doc_wait_completions},
    {"array_failure", CBP_METH(py_array_failure), METH_FASTCALL,
     doc_array_failure},
    {"failure_seen", py_failure_seen, METH_O, doc_failure_seen},
    {"take_failures", py_take_failures, METH_NOARGS, doc_take_failures},
    {"wait_idle", py_wait_idle, METH_O, doc_wait_idle},
    {NULL}};

/* ---- the finalizer of cambrian.Future ---------------------------------- */

/* cambrian.Future derives from FutureBase for this finalizer: a future
 * collected with a failure that nobody retrieved has it logged. The
 * collector runs finalizers at any moment, and CPython drops an exception
 * raised in one: a Ctrl-C whose handler ran in a finalizer written in
 * Python would be lost. So the checks here are C, which runs no handler;
 * only a failure to report calls Python
 * (cambrian._futures._report_unretrieved). */
static void future_base_finalize(PyObject *self);

/* The module of FutureBase: the first type of self's MRO whose
 * finalizer is this one, but not its base's (subclasses inherit it). */
static PyObject *module_of(PyObject *self) {
  PyObject *mro = Py_TYPE(self)->tp_mro;
  for (Py_ssize_t i = 0; mro && i < PyTuple_GET_SIZE(mro); i++) {
    PyTypeObject *t = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
    if (t->tp_finalize == future_base_finalize &&
        t->tp_base->tp_finalize != future_base_finalize)
      return PyType_GetModule(t);
  }
  return NULL;
}

/* The failure to report, a new reference; NULL when there is none (no
 * error set). */
static PyObject *unretrieved_failure(PyObject *self) {
  PyObject *module = module_of(self);
  PyObject *v = module ? PyObject_GetAttrString(self, "_retrieved") : NULL;
  int retrieved = v ? PyObject_IsTrue(v) : 1;
  Py_XDECREF(v);
  if (retrieved)
    return NULL;
  PyObject *state = PyObject_GetAttrString(self, "_state");
  PyObject *exc = NULL;
  if (state && PyUnicode_Check(state) &&
      PyUnicode_CompareWithASCIIString(state, "PENDING") == 0) {
    /* Nobody looked: the operation's failure, if it is done, without
     * resolving a future that is going away. */
    PyObject *array = PyObject_GetAttrString(self, "_array");
    PyObject *zero = PyLong_FromLong(0);
    PyObject *args[2] = {array, zero};
    PyObject *done = array && zero ? py_poll_writer(module, args, 2) : NULL;
    if (done == Py_True) {
      args[1] = Py_False;
      exc = py_array_failure(module, args, 2);
    }
    Py_XDECREF(done);
    Py_XDECREF(zero);
    Py_XDECREF(array);
  } else if (state && PyUnicode_Check(state) &&
             PyUnicode_CompareWithASCIIString(state, "FINISHED") == 0) {
    exc = PyObject_GetAttrString(self, "_exception");
  }
  Py_XDECREF(state);
  if (exc == Py_None)
    Py_CLEAR(exc);
  return exc;
}

static void future_base_finalize(PyObject *self) {
  PyObject *saved = cbp_error_take();
  PyObject *exc = unretrieved_failure(self);
  if (exc) {
    PyObject *futures = PyImport_ImportModule("cambrian._futures");
    PyObject *r = futures ? PyObject_CallMethod(
                                futures, "_report_unretrieved", "O", exc)
                          : NULL;
    Py_XDECREF(r);
    Py_XDECREF(futures);
    Py_DECREF(exc);
  }
  /* A Ctrl-C whose handler ran in the Python code above comes again,
   * out of the finalizer, where it can be raised. Whatever else failed
   * here (the interpreter shutting down, an object never made whole) is
   * not the collector's business. */
  if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt))
    PyErr_SetInterrupt();
  PyErr_Clear();
  cbp_error_restore(saved);
}

static PyType_Slot future_base_slots[] = {
    {Py_tp_doc, "The base of cambrian.Future: its finalizer, in C."},
    {Py_tp_finalize, future_base_finalize},
    {0, NULL}};

PyType_Spec cbp_future_base_spec = {
    .name = "cambrian._core.FutureBase",
    .basicsize = sizeof(PyObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = future_base_slots};
