/*
 * Tracing and statistics through StarPU's profiling API (Debian's StarPU
 * has no FxT). While profiling is on, StarPU timestamps every task; each
 * task's end (cb__ctx_done) records an event for the active trace and
 * counts it per operation. Worker and bus counters come from StarPU, which
 * resets them when read: they are added up here until a reset.
 *
 * Locking: lock guards the trace buffer, the per-operation table and the
 * accumulated counters.
 */
#include <stdlib.h>
#include <string.h>

#include <starpu_profiling.h>

#include "devtab.h"
#include "errors.h"
#include "runtime.h"
#include "taskctx.h"
#include "trace.h"

atomic_int cb__profiling;
static int user_on;   /* cb_profiling_set or CAMBRIAN_PROFILE */
static int tracing;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static cb_trace_event *events;
static size_t nevents, capacity;
static double t0_us;

#define MAX_OPS 256
static cb_op_stats ops[MAX_OPS];
static int nops;
static cb_worker_stats workers[STARPU_NMAXWORKERS];
#define MAX_BUSES 64
static cb_link_stats links[MAX_BUSES];

/* Holds lock. Tells StarPU when the runtime runs. */
static void apply_locked(void) {
  int on = user_on || tracing;
  atomic_store(&cb__profiling, on);
  if (cb_is_running() && !cb__forked())
    starpu_profiling_status_set(on ? STARPU_PROFILING_ENABLE
                                   : STARPU_PROFILING_DISABLE);
}

void cb__profiling_apply(void) {
  pthread_mutex_lock(&lock);
  const char *env = getenv("CAMBRIAN_PROFILE");
  if (env && *env == '1')
    user_on = 1;
  apply_locked();
  pthread_mutex_unlock(&lock);
}

int cb_profiling_set(int enabled) {
  pthread_mutex_lock(&lock);
  user_on = enabled != 0;
  apply_locked();
  pthread_mutex_unlock(&lock);
  return 0;
}

int cb_profiling_get(void) { return atomic_load(&cb__profiling); }

int cb_trace_start(void) {
  int rc = cb__enter();
  if (rc)
    return rc;
  pthread_mutex_lock(&lock);
  nevents = 0;
  t0_us = starpu_timing_now();
  tracing = 1;
  apply_locked();
  pthread_mutex_unlock(&lock);
  cb__leave();
  return 0;
}

int cb_trace_stop(cb_trace_event **out, size_t *n) {
  pthread_mutex_lock(&lock);
  tracing = 0;
  apply_locked();
  *out = events;
  *n = nevents;
  events = NULL;
  nevents = capacity = 0;
  pthread_mutex_unlock(&lock);
  if (!*out && (*out = malloc(sizeof **out)) == NULL)
    return cb__fail(CB_ENOMEM, "out of host memory");
  return 0;
}

static double us(struct timespec *ts) {
  return starpu_timing_timespec_to_us(ts) - t0_us;
}

static void count_op(const char *name, double busy_s) {
  int i = 0;
  while (i < nops && strcmp(ops[i].name, name) != 0)
    i++;
  if (i == nops) {
    if (nops == MAX_OPS)
      return;
    snprintf(ops[nops++].name, sizeof ops[0].name, "%s", name);
  }
  ops[i].tasks++;
  ops[i].busy_s += busy_s;
}

void cb__trace_task(const cb__ctx *c) {
  struct starpu_profiling_task_info *info =
      c->task ? c->task->profiling_info : NULL;
  if (!info) /* submitted before profiling was on */
    return;
  pthread_mutex_lock(&lock);
  count_op(c->name, (starpu_timing_timespec_to_us(&info->end_time) -
                     starpu_timing_timespec_to_us(&info->start_time)) / 1e6);
  if (tracing && nevents == capacity) {
    size_t cap = capacity ? 2 * capacity : 4096;
    cb_trace_event *e = realloc(events, cap * sizeof *e);
    if (e) {
      events = e;
      capacity = cap;
    }
  }
  if (tracing && nevents < capacity) {
    cb_trace_event *e = &events[nevents++];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", c->name);
    e->worker = info->workerid;
    e->device = cb__ctx_device(c);
    e->submit_us = us(&info->submit_time);
    e->fetch_start_us = us(&info->acquire_data_start_time);
    e->fetch_end_us = us(&info->acquire_data_end_time);
    e->start_us = us(&info->start_time);
    e->end_us = us(&info->end_time);
    e->failed = c->failure != NULL;
    for (int i = 0; i < c->nin && e->nin < CB_TRACE_MAX_ARRAYS; i++)
      e->in[e->nin++] = (uintptr_t)c->in[i];
    for (int i = 0; i < c->nout && e->nout < CB_TRACE_MAX_ARRAYS; i++)
      e->out[e->nout++] = (uintptr_t)c->out[i];
  }
  pthread_mutex_unlock(&lock);
}

static int node_device(int node) {
  for (int d = 0; d < cb__ndevices; d++)
    if (cb__devices[d].opencl_devid >= 0 &&
        (int)cb__devices[d].memory_node == node)
      return d;
  return -1;
}

static double secs(struct timespec *ts) {
  return starpu_timing_timespec_to_us(ts) / 1e6;
}

/* Adds StarPU's counters (which reading resets) to ours; holds lock and
 * the run lock. */
static void collect(void) {
  int nw = (int)starpu_worker_get_count();
  for (int w = 0; w < nw && w < STARPU_NMAXWORKERS; w++) {
    struct starpu_profiling_worker_info info;
    if (starpu_profiling_worker_get_info(w, &info))
      continue;
    workers[w].tasks += info.executed_tasks;
    workers[w].busy_s += secs(&info.executing_time);
    workers[w].sleeping_s += secs(&info.sleeping_time);
    workers[w].total_s += secs(&info.total_time);
  }
  int nb = starpu_bus_get_count();
  for (int b = 0; b < nb && b < MAX_BUSES; b++) {
    struct starpu_profiling_bus_info info;
    if (starpu_bus_get_profiling_info(b, &info))
      continue;
    links[b].bytes += info.transferred_bytes;
    links[b].transfers += info.transfer_count;
  }
}

int cb_stats_get(cb_worker_stats *w, int wcap, int *nw, cb_link_stats *l,
                 int lcap, int *nl, cb_op_stats *op, int opcap, int *nop) {
  int rc = cb__enter();
  if (rc)
    return rc;
  pthread_mutex_lock(&lock);
  collect();
  int count = (int)starpu_worker_get_count();
  *nw = count;
  for (int i = 0; i < count && i < wcap; i++) {
    w[i] = workers[i];
    w[i].worker = i;
    w[i].device = -1;
    for (int d = 0; d < cb__ndevices; d++)
      for (int k = 0; k < cb__devices[d].nworkers; k++)
        if (cb__devices[d].workers[k] == i)
          w[i].device = d;
  }
  int nb = starpu_bus_get_count();
  *nl = nb < MAX_BUSES ? nb : MAX_BUSES;
  for (int b = 0; b < *nl && b < lcap; b++) {
    l[b] = links[b];
    l[b].src_device = node_device(starpu_bus_get_src(b));
    l[b].dst_device = node_device(starpu_bus_get_dst(b));
  }
  *nop = nops;
  for (int i = 0; i < nops && i < opcap; i++)
    op[i] = ops[i];
  pthread_mutex_unlock(&lock);
  cb__leave();
  return 0;
}

int cb_stats_reset(void) {
  int rc = cb__enter();
  if (rc)
    return rc;
  pthread_mutex_lock(&lock);
  collect();
  memset(workers, 0, sizeof workers);
  memset(links, 0, sizeof links);
  memset(ops, 0, sizeof ops);
  nops = 0;
  pthread_mutex_unlock(&lock);
  cb__leave();
  return 0;
}
