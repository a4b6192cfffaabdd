/*
 * Asynchronous OpenCL codelets (see clasync.h): per OpenCL device, a
 * watcher thread that waits for the codelets' last commands in the order
 * they were handed over, records their failures, and then completes the
 * user events that StarPU's driver polls.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "clasync.h"
#include "clevents.h"
#include "clprog.h"
#include "hooks.h"
#include "relax.h"

typedef struct pending {
  cl_event ev;                /* the codelet's last command */
  cl_event user;              /* the task's end, which StarPU polls */
  cb__ctx *c;
  cb__cl_after_fn after;
  void *arg;
  struct pending *next;
  int gated;                  /* it passed the gate (cb__cl_gate_close) */
} pending;

typedef struct watcher {
  pthread_mutex_t lock;
  pthread_cond_t cond;        /* with lock: work came, or stop */
  pending *head, *tail;
  atomic_int queued;          /* entries in the list, read unlocked */
  pthread_t thread;
  int started, stop;
  int device;                 /* cambrian's device it acts for */
  cl_event done;              /* a completed user event, given when a
                               * codelet handed nothing */
} watcher;

static watcher watchers[STARPU_MAXOPENCLDEVS] = {
    [0 ... STARPU_MAXOPENCLDEVS - 1] = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .cond = PTHREAD_COND_INITIALIZER}};

/* The running codelet of this (driver) thread. */
static _Thread_local struct {
  int on;
  int devid;
  int gated;
  cl_event user;
} cur;

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static long gate_inflight;          /* codelets past the gate */
static int gate_closing, gate_closed;
/* How many times this thread closed the gate it keeps closed: a change
 * of the environment inside another (a signal handler's) goes on. */
static _Thread_local int gate_closed_here;
/* Passes through the gate this thread holds: one more (a build inside a
 * codelet) does not wait, as a closing waits for the first anyway. */
static _Thread_local int gate_held_here;

/* In a child after fork() only the forking thread exists: no codelet is
 * in flight there, and the gate starts open. */
static void gate_reset_in_child(void) {
  pthread_mutex_init(&gate_lock, NULL);
  pthread_cond_init(&gate_cond, NULL);
  gate_inflight = 0;
  gate_closing = 0;
  gate_held_here = 0;
  gate_closed = gate_closed_here > 0;
}

__attribute__((constructor)) static void gate_watch_forks(void) {
  pthread_atfork(NULL, NULL, gate_reset_in_child);
}

/* Passes the gate, waiting while it is closed or about to be, unless
 * this thread holds a pass already. */
static void gate_enter(void) {
  pthread_mutex_lock(&gate_lock);
  while (!gate_held_here && (gate_closing || gate_closed))
    pthread_cond_wait(&gate_cond, &gate_lock);
  gate_inflight++;
  pthread_mutex_unlock(&gate_lock);
  gate_held_here++;
}

/* Gives a pass back; here: this thread's own (not one handed to the
 * watcher with a codelet's last command). */
static void gate_leave(int here) {
  if (here)
    gate_held_here--;
  pthread_mutex_lock(&gate_lock);
  if (--gate_inflight == 0)
    pthread_cond_broadcast(&gate_cond);
  pthread_mutex_unlock(&gate_lock);
}

void cb__cl_gate_enter(void) { gate_enter(); }

void cb__cl_gate_leave(void) { gate_leave(1); }

void cb__cl_gate_close(void) {
  if (gate_closed_here++)
    return;
  pthread_mutex_lock(&gate_lock);
  gate_closing++;
  while (gate_inflight > 0 || gate_closed)
    pthread_cond_wait(&gate_cond, &gate_lock);
  gate_closing--;
  gate_closed = 1;
  pthread_mutex_unlock(&gate_lock);
}

void cb__cl_gate_open(void) {
  if (--gate_closed_here)
    return;
  pthread_mutex_lock(&gate_lock);
  gate_closed = 0;
  pthread_cond_broadcast(&gate_cond);
  pthread_mutex_unlock(&gate_lock);
}

/* A GPU's watcher polls for up to CB__WATCH_SPIN_US, for the next
 * command handed over and for the end of the one it watches, before it
 * sleeps or waits in the driver: a small operation's kernel ends within
 * microseconds, and each sleep costs a wake-up of tens of them (on an
 * H200, a tiny operation took 63 us from call to result). A device of
 * the CPU's own cores (pocl) needs them for its kernels: there the
 * watcher sleeps at once. */
#define CB__WATCH_SPIN_US 200

/* Polls until cond(arg) holds or CB__WATCH_SPIN_US pass; whether it
 * holds. */
static int spin_until(int (*cond)(void *), void *arg) {
  long start = cb__now_us();
  for (unsigned i = 0;; i++) {
    if (cond(arg))
      return 1;
    cb__cpu_relax();
    if ((i & 15) == 15 && cb__now_us() - start >= CB__WATCH_SPIN_US)
      return 0;
  }
}

static int has_work(void *w) {
  return atomic_load_explicit(&((watcher *)w)->queued, memory_order_acquire)
         > 0;
}

/* Whether event ev has left the queue: complete, or failed. */
static int has_ended(void *ev) {
  cl_int exec = CL_QUEUED;
  cl_int st = clGetEventInfo((cl_event)ev, CL_EVENT_COMMAND_EXECUTION_STATUS,
                             sizeof exec, &exec, NULL);
  return st != CL_SUCCESS || exec <= CL_COMPLETE;
}

static void *watch(void *arg) {
  watcher *w = arg;
  char name[16];
  snprintf(name, sizeof name, "cb-watch%d", w->device);
  pthread_setname_np(pthread_self(), name);
  cb__ctx_act_for(w->device);
  int spin = w->device >= 0 && w->device < cb__ndevices &&
             cb__devices[w->device].info.type != CB_DEVTYPE_CPU;
  for (;;) {
    if (spin && !has_work(w))
      spin_until(has_work, w);
    pthread_mutex_lock(&w->lock);
    while (!w->head && !w->stop)
      pthread_cond_wait(&w->cond, &w->lock);
    pending *p = w->head;
    if (p && !(w->head = p->next))
      w->tail = NULL;
    if (p)
      atomic_fetch_sub(&w->queued, 1);
    pthread_mutex_unlock(&w->lock);
    if (!p)
      return NULL;
    /* The wait then returns at once, with the command's real outcome
     * (on NVIDIA a failed kernel's event may read complete). */
    if (spin)
      spin_until(has_ended, p->ev);
    p->after(p->c, cb__cl_wait(p->c, p->ev), p->arg);
    /* What the task recorded is seen by the driver thread that finds the
     * event complete and ends the task. */
    atomic_thread_fence(memory_order_release);
    cb__user_event_end(p->user, w->device);
    if (p->gated)
      gate_leave(0);
    free(p);
  }
}

/* Stops every watcher (a hook: when every task has ended). */
static void stop_all(void) {
  for (int d = 0; d < STARPU_MAXOPENCLDEVS; d++) {
    watcher *w = &watchers[d];
    pthread_mutex_lock(&w->lock);
    int started = w->started;
    w->stop = 1;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    if (started)
      pthread_join(w->thread, NULL);
    if (w->done)
      clReleaseEvent(w->done);
    w->done = NULL;
    w->started = w->stop = 0;
    atomic_store(&w->queued, 0);
  }
}

/* Starts devid's watcher if it does not run; 0, or an error. */
static int start(int devid) {
  watcher *w = &watchers[devid];
  if (w->started)
    return 0;
  if (cb__hook_add(CB__HOOK_RELEASE, stop_all))
    return CB_ENOMEM;
  w->device = cb__worker_device(starpu_worker_get_id());
  /* The watcher takes no signal: they are the Python thread's. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(&w->thread, NULL, watch, w);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc)
    return CB_ENOMEM;
  w->started = 1;
  return 0;
}

void cb__cl_async_begin(void) {
  int worker = starpu_worker_get_id();
  int devid = starpu_worker_get_devid(worker);
  cur.on = CB__CL_ASYNC && devid >= 0 && devid < STARPU_MAXOPENCLDEVS;
  cur.devid = devid;
  cur.user = NULL;
  int device = cb__worker_device(worker);
  cur.gated = device >= 0 && device < cb__ndevices &&
              cb__devices[device].opencl_devid >= 0 &&
              cb__devices[device].info.type == CB_DEVTYPE_CPU;
  if (cur.gated)
    gate_enter();
  if (!cur.on || watchers[devid].done)
    return;
  /* Made while the device is surely usable: its first task. */
  cl_context ctx;
  starpu_opencl_get_context(devid, &ctx);
  cl_int st;
  cl_event done = clCreateUserEvent(ctx, &st);
  if (st == CL_SUCCESS &&
      clSetUserEventStatus(done, CL_COMPLETE) == CL_SUCCESS)
    watchers[devid].done = done;
  else if (st == CL_SUCCESS)
    clReleaseEvent(done);
}

void cb__cl_async_end(void) {
#ifdef CB_HAVE_STARPU_TASK_EVENT
  cl_event ev = cur.user;
  if (!ev && cur.on && (ev = watchers[cur.devid].done))
    clRetainEvent(ev);
  /* Without an event (none could be made), StarPU ends the task with a
   * marker on the queue, as for any asynchronous codelet. */
  if (ev)
    starpu_opencl_set_task_event(ev);
#endif
  if (cur.gated)
    gate_leave(1); /* nothing went to the watcher, or it waited here */
  cur.gated = 0;
  cur.on = 0;
  cur.user = NULL;
}

/* The failure of a codelet whose last command is its kernel. */
static void kernel_failed(cb__ctx *c, cl_int st, void *what) {
  if (st != CL_SUCCESS)
    cb__ctx_fail(c, CB_EDEVICE, st, "the %s kernel failed: %s",
                 (const char *)what, cb_cl_status_name(st));
}

void cb__cl_end(cb__ctx *c, cl_event ev, const char *what) {
  cb__cl_end_then(c, ev, kernel_failed, (void *)what);
}

void cb__cl_end_then(cb__ctx *c, cl_event ev, cb__cl_after_fn after,
                     void *arg) {
  if (cur.on && !cur.user) {
    watcher *w = &watchers[cur.devid];
    cl_context ctx;
    starpu_opencl_get_context(cur.devid, &ctx);
    cl_int st;
    cl_event user = clCreateUserEvent(ctx, &st);
    pending *p = st == CL_SUCCESS ? malloc(sizeof *p) : NULL;
    if (p && start(cur.devid) == 0) {
      /* One reference for StarPU, one for the watcher. */
      clRetainEvent(user);
      *p = (pending){ev, user, c, after, arg, NULL, cur.gated};
      if (cur.gated)
        gate_held_here--; /* the watcher gives the pass back once ev ends */
      cur.gated = 0;
      pthread_mutex_lock(&w->lock);
      if (w->tail)
        w->tail->next = p;
      else
        w->head = p;
      w->tail = p;
      atomic_fetch_add(&w->queued, 1);
      pthread_cond_signal(&w->cond);
      pthread_mutex_unlock(&w->lock);
      cur.user = user;
      return;
    }
    free(p);
    if (st == CL_SUCCESS)
      clReleaseEvent(user);
    /* No watcher: the wait happens here, as in a synchronous codelet. */
  }
  after(c, cb__cl_wait(c, ev), arg);
}
