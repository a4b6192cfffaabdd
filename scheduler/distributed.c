/*
 * Running over MPI ranks (see distributed.h). The StarPU-MPI plugin is
 * loaded from the folder that holds this code (or CAMBRIAN_MPI_PLUGIN)
 * the first time the runtime starts distributed, and stays loaded.
 *
 * Tags: owned data takes the next of a counter every rank advances in the
 * same order (its tag must be the same everywhere); replicated data never
 * travels, so its tags come from a range of their own, counted apart, and
 * a rank may create replicated data that others do not.
 */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "distributed.h"
#include "drivers.h"
#include "errors.h"
#include "events.h"
#include "failure.h"
#include "mpi_plugin.h"
#include "runtime.h"

int cb__dist_on;
static const cb__mpi_plugin *plugin;
static int my_rank, nranks = 1;
static atomic_llong owned_tags, replicated_tags;
static char library[96];

/* The environment variables MPI launchers set: Open MPI, PMI (MPICH,
 * Slurm's srun --mpi=pmi2), PMIx (Open MPI, srun --mpi=pmix), Hydra. */
static const char *const launch_vars[] = {
    "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"};

int cb__dist_wanted(int setting) {
  if (setting)
    return setting > 0;
  for (size_t i = 0; i < sizeof launch_vars / sizeof *launch_vars; i++)
    if (getenv(launch_vars[i]))
      return 1;
  return 0;
}

/* Where the plugin is: CAMBRIAN_MPI_PLUGIN, else beside this code. */
static int plugin_path(char *path, size_t cap) {
  const char *set = getenv("CAMBRIAN_MPI_PLUGIN");
  if (set && *set) {
    snprintf(path, cap, "%s", set);
    return 0;
  }
  Dl_info info;
  if (!dladdr((void *)plugin_path, &info) || !info.dli_fname)
    return cb__fail(CB_ESTATE, "distributed: cannot tell where cambrian "
                    "is installed; set CAMBRIAN_MPI_PLUGIN");
  const char *slash = strrchr(info.dli_fname, '/');
  int dir = slash ? (int)(slash - info.dli_fname) : 1;
  snprintf(path, cap, "%.*s/libcambrian_mpi.so", dir,
           slash ? info.dli_fname : ".");
  return 0;
}

int cb__dist_available(void) {
  char path[4096];
  return plugin || (plugin_path(path, sizeof path) == 0 &&
                    access(path, R_OK) == 0);
}

static int load(void) {
  if (plugin)
    return 0;
  char path[4096];
  int rc = plugin_path(path, sizeof path);
  if (rc)
    return rc;
  /* Global: MPI libraries load components that look for its symbols. */
  void *lib = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
  if (!lib)
    return cb__fail(CB_ESTATE, "distributed: cannot load the StarPU-MPI "
                    "plugin (%s); cambrian was built without StarPU-MPI or "
                    "MPI is not installed", dlerror());
  cb__mpi_plugin_fn get;
  *(void **)&get = dlsym(lib, CB__MPI_PLUGIN_SYMBOL);
  const cb__mpi_plugin *p = get ? get() : NULL;
  if (!p || p->abi != CB__MPI_PLUGIN_ABI)
    return cb__fail(CB_ESTATE, "distributed: %s is not a StarPU-MPI plugin "
                    "of this cambrian", path);
  plugin = p;
  return 0;
}

/* The status record that travels with data (see mpi_plugin.h): the
 * failure of the task that wrote it, if any, and the first of its chain
 * when it is a dependency failure. Every handle that travels has for user
 * data the array whose mark tells its status. */
#define STATUS_MAGIC 0x63627374u
typedef struct status_record {
  uint32_t magic;
  uint32_t failed;      /* 0: none, 1: own, 2: own and its first */
  cb_failure_info own, first;
} status_record;

static void stamp(starpu_data_handle_t h, void *record) {
  const cb_array *a = starpu_data_get_user_data(h);
  cb__failure *f = a ? cb__mark_get(a) : NULL;
  status_record *s = record;
  s->magic = STATUS_MAGIC;
  s->failed = !f ? 0 : f->cause ? 2 : 1;
  if (f)
    s->own = f->info;
  if (f && f->cause)
    s->first = f->cause->info;
}

/* A failure from another rank, as a failure of this process: an id of
 * its own and no device here. Its strings are bounded by their fields. */
static cb__failure *copy_failure(const cb_failure_info *in) {
  char task[sizeof in->task];
  snprintf(task, sizeof task, "%.*s", (int)sizeof task - 1, in->task);
  cb__failure *f = cb__failure_new(in->code, in->cl_status, -1, task,
                                   "%.*s", (int)sizeof in->message - 1,
                                   in->message);
  if (!f)
    return NULL;
  f->info.line = in->line;
  memcpy(f->info.item, in->item, sizeof f->info.item);
  f->info.rank = in->rank;
  memcpy(f->info.device_name, in->device_name, sizeof f->info.device_name);
  f->info.device_name[sizeof f->info.device_name - 1] = '\0';
  return f;
}

/* The array's data came from a failure elsewhere: it gets that failure,
 * or, when that was a dependency failure, the same failure naming the
 * rank its first failure happened on. Data written elsewhere (written)
 * brings its writer's status in place of the array's: a clean one clears
 * a former failure. */
static void apply(starpu_data_handle_t h, const void *record, int written) {
  const status_record *s = record;
  cb_array *a = starpu_data_get_user_data(h);
  if (!a || s->magic != STATUS_MAGIC)
    return;
  if (!s->failed) {
    if (written)
      cb__mark_clear(a);
    return;
  }
  cb__failure *first = copy_failure(s->failed == 2 ? &s->first : &s->own);
  cb__failure *f = first && s->failed == 2
                       ? cb__failure_dependent(s->own.task, first)
                       : first;
  if (f && written)
    cb__mark_replace(a, f);
  else if (f)
    cb__mark_poison(a, f);
  if (f != first)
    cb__failure_unref(f);
  cb__failure_unref(first);
}

/* A status task keeps the array it describes (a pooled array must not
 * be taken for other data meanwhile) and the drivers awake. */
static void hold(starpu_data_handle_t h, int begin) {
  cb_array *a = starpu_data_get_user_data(h);
  if (begin) {
    if (a)
      cb_array_ref(a);
    cb__busy_begin(-1);
  } else {
    if (a)
      cb_array_unref(a);
    cb__busy_end(-1);
  }
}

static const cb__mpi_hooks hooks = {
    .status_bytes = sizeof(status_record),
    .stamp = stamp,
    .apply = apply,
    .hold = hold,
};

/* The watchdog: while this rank has work pending, none of it moves and
 * no job runs for timeout_s seconds, another rank is taken to have died
 * or hung.
 * Locking: watch_lock guards watching and lost_message; lost is read
 * without it. */
#define CB__WATCH_MS 200
static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watch_cond;
static pthread_t watcher;
static int watching;
static double timeout_s;
static atomic_int lost;
static char lost_message[256];

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *watch(void *arg) {
  (void)arg;
  unsigned long seen = cb__drivers_progress();
  double since = now_s();
  pthread_mutex_lock(&watch_lock);
  while (watching) {
    struct timespec until = cb__deadline(CLOCK_MONOTONIC, CB__WATCH_MS);
    pthread_cond_timedwait(&watch_cond, &watch_lock, &until);
    unsigned long p = cb__drivers_progress();
    double now = now_s();
    /* A job that runs long (a Python function, a kernel) is progress. */
    if (p != seen || !cb__drivers_pending() || cb__drivers_jobs_running()) {
      seen = p;
      since = now;
    } else if (now - since >= timeout_s) {
      snprintf(lost_message, sizeof lost_message,
               "distributed: rank %d waited %.0f s for work that needs "
               "other ranks, and none of it moved: a rank has died or "
               "hung (CAMBRIAN_RANK_TIMEOUT sets how long to wait)",
               my_rank, now - since);
      atomic_store(&lost, 1);
      plugin->abandon(); /* whether or not the runtime is shut down */
      break;
    }
  }
  pthread_mutex_unlock(&watch_lock);
  return NULL;
}

/* CAMBRIAN_RANK_TIMEOUT: seconds, 0 for never; default 300. */
static int read_timeout(void) {
  const char *v = getenv("CAMBRIAN_RANK_TIMEOUT");
  timeout_s = 300;
  if (!v || !*v)
    return 0;
  char *end;
  double t = strtod(v, &end);
  if (*end || t < 0 || t != t)
    return cb__fail(CB_EINVAL, "CAMBRIAN_RANK_TIMEOUT is a number of "
                    "seconds (0: never), not '%.40s'", v);
  timeout_s = t;
  return 0;
}

static int watch_start(void) {
  if (nranks < 2 || timeout_s == 0)
    return 0;
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&watch_cond, &attr);
  pthread_condattr_destroy(&attr);
  watching = 1;
  if (pthread_create(&watcher, NULL, watch, NULL)) {
    watching = 0;
    return cb__fail(CB_ENOMEM, "distributed: cannot start a thread");
  }
  return 0;
}

static void watch_stop(void) {
  pthread_mutex_lock(&watch_lock);
  int was = watching;
  watching = 0;
  pthread_cond_signal(&watch_cond);
  pthread_mutex_unlock(&watch_lock);
  if (was) {
    pthread_join(watcher, NULL);
    pthread_cond_destroy(&watch_cond);
  }
}

int cb__dist_lost(void) { return atomic_load(&lost); }

int cb__dist_refuse_lost(void) {
  return cb__fail(CB_ERANKLOST, "%s", lost_message);
}

int cb_check_ranks(void) {
  return cb__dist_lost() ? cb__dist_refuse_lost() : 0;
}

int cb__dist_cond_wait(pthread_cond_t *cond, pthread_mutex_t *mutex,
                       clockid_t clock, const struct timespec *deadline) {
  if (!cb__dist_on)
    return deadline ? pthread_cond_timedwait(cond, mutex, deadline)
                    : pthread_cond_wait(cond, mutex);
  struct timespec slice = cb__deadline(clock, CB__WATCH_MS);
  if (deadline && (deadline->tv_sec < slice.tv_sec ||
                   (deadline->tv_sec == slice.tv_sec &&
                    deadline->tv_nsec <= slice.tv_nsec)))
    return pthread_cond_timedwait(cond, mutex, deadline);
  int rc = pthread_cond_timedwait(cond, mutex, &slice);
  return rc == ETIMEDOUT ? 0 : rc;
}

int cb__dist_start(struct starpu_conf *conf) {
  if (atomic_load(&lost))
    return cb__fail(CB_ERANKLOST, "the runtime cannot start again in this "
                    "process: %s", lost_message);
  int rc = read_timeout();
  if (rc)
    return rc;
  rc = load();
  if (rc)
    return rc;
  char err[256] = "";
  int sp = plugin->start(conf, &hooks, &my_rank, &nranks, err, sizeof err);
  if (sp)
    return cb__fail(CB_ESTARPU, "distributed: %s", err);
  plugin->library(library, sizeof library);
  atomic_store(&owned_tags, 0);
  atomic_store(&replicated_tags, 0);
  cb__failure_rank = my_rank;
  cb__dist_on = 1;
  if ((rc = watch_start())) {
    cb__dist_stop();
    return rc;
  }
  return 0;
}

void cb__dist_abandon(void) {
  watch_stop();
  plugin->abandon();
}

void cb__dist_stop(void) {
  watch_stop();
  plugin->stop();
  cb__dist_on = 0;
  cb__failure_rank = my_rank = 0;
  nranks = 1;
}

void cb__dist_register(starpu_data_handle_t h, int owner, cb_array *marked) {
  if (!cb__dist_on)
    return;
  starpu_data_set_user_data(h, marked);
  int64_t tag = owner == CB__DIST_REPLICATED
                    ? (INT64_C(1) << 62) + atomic_fetch_add(&replicated_tags, 1)
                    : 1 + atomic_fetch_add(&owned_tags, 1);
  plugin->data_register(h, tag, owner);
}

void cb__dist_retag(starpu_data_handle_t h) {
  if (cb__dist_on)
    plugin->retag(h, 1 + atomic_fetch_add(&owned_tags, 1));
}

int cb__dist_owner(cb_distribution d, int64_t tile, int64_t ntiles) {
  if (d == CB_DIST_CYCLIC)
    return (int)(tile % nranks);
  return ntiles > 0 ? (int)(tile * nranks / ntiles) : 0;
}

int cb__dist_mine(cb_distribution d, int64_t tile, int64_t ntiles) {
  return cb__dist_owner(d, tile, ntiles) == my_rank;
}

/* A task that ends where it does not run: the same callbacks, no work. */
static void nothing(void *buffers[], void *arg) {
  (void)buffers;
  (void)arg;
}

static struct starpu_codelet elsewhere = {
    .where = STARPU_CPU | STARPU_OPENCL,
    .cpu_funcs = {nothing},
    .opencl_funcs = {nothing},
    .nbuffers = 0,
    .name = "elsewhere",
};

static int local(struct starpu_task *task, int run) {
  if (!run) {
    task->cl = &elsewhere;
    task->nbuffers = 0;
    task->where = -1;
  }
  return starpu_task_submit(task);
}

int cb__task_submit(struct starpu_task *task) {
  if (!cb__dist_on)
    return starpu_task_submit(task);
  return plugin->submit(task, local);
}

void cb__task_discard(struct starpu_task *task) {
  task->destroy = 0;
  starpu_task_destroy(task);
}

void cb__dist_fetch(starpu_data_handle_t h) {
  if (cb__dist_on)
    plugin->fetch_all(h);
}

int cb_rank(void) { return my_rank; }
int cb_nranks(void) { return nranks; }

/* The barrier runs in a thread of its own, so that the caller's wait can
 * give up when a rank is lost (the thread then never returns). */
static void *barrier_thread(void *arg) {
  cb_event *e = arg;
  int sp = plugin->barrier();
  cb__busy_end(-1);
  cb__event_signal(e, sp ? CB_ESTARPU : 0);
  cb_event_unref(e);
  return NULL;
}

int cb__dist_barrier(void) {
  cb_event *e = cb__event_new(1);
  if (!e)
    return cb__fail(CB_ENOMEM, "out of host memory");
  cb__event_ref(e);
  cb__busy_begin(-1); /* transfers may need the drivers awake */
  pthread_t t;
  int rc;
  if (pthread_create(&t, NULL, barrier_thread, e)) {
    cb__busy_end(-1);
    cb_event_unref(e);
    rc = cb__fail(CB_ENOMEM, "distributed: cannot start a thread");
  } else {
    pthread_detach(t);
    rc = cb_event_wait(e, -1);
    if (rc == CB_ESTARPU)
      rc = cb__fail(CB_ESTARPU, "distributed: the barrier failed");
  }
  cb_event_unref(e);
  return rc;
}

int cb_barrier(void) {
  int rc = cb__refuse_in_task("the other ranks");
  if (rc || !cb__dist_on)
    return rc;
  if ((rc = cb__enter()))
    return rc;
  rc = cb__dist_barrier();
  cb__leave();
  return rc;
}

const char *cb__dist_library(void) { return library; }
