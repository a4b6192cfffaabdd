/*
 * The worker threads. Debian's StarPU is built with non-blocking drivers:
 * a worker thread spins while it waits for a task. A program that merely
 * started cambrian would keep every core busy, and on a small machine the
 * spinning workers would take the cores that the submitting Python thread
 * needs. So cambrian runs StarPU's drivers in threads of its own
 * (starpu_conf.not_launched_drivers) whose loop rests when it has nothing
 * to do: it blocks while no work of its own is pending, and yields the
 * core, then sleeps in short steps, while only other workers have work.
 *
 * Work pending in StarPU is counted by cb__busy_begin_on() and
 * cb__busy_end_on() per worker (tasks placed on one worker), per device
 * (tasks placed on a device), for the OpenCL drivers (data moving between
 * host memory and a device: acquisitions, unregistration), or for all
 * drivers (tasks placed by the scheduler). A driver polls at full speed
 * while work it may have to do is pending and something progresses. Each
 * driver sleeps on a condition of its own, so that work for one worker
 * wakes that worker alone: a wake-up costs tens of microseconds on a
 * virtual machine, and the drivers that are not needed would take the
 * cores of those that are.
 *
 * A driver whose work is done lingers (polls without sleeping) for
 * CB__LINGER_US before it sleeps: a program that submits a small
 * operation, waits for it and submits the next then finds a driver awake,
 * and pays no wake-up. At most one driver per device lingers, and fewer
 * than the cores this process may use (at least one), so that lingering
 * drivers never take every core. Placement (cb__drivers_pick) keeps
 * giving a device's small tasks to the first of its awake drivers that
 * goes through them without making them wait (as long as a wake-up would
 * take), and otherwise prefers the least loaded worker, then one whose
 * driver is awake.
 *
 * Locking: lock and each driver's wake guard the sleep of idle drivers;
 * lock and idle_cond the waits for all work to end.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <CL/cl.h>

#include "batch.h"
#include "clasync.h"
#include "devtab.h"
#include "distributed.h"
#include "drivers.h"
#include "errors.h"
#include "events.h"
#include "relax.h"
#include "runtime.h"

/* Empty rounds a driver polls at full speed, then yields the core, before
 * it sleeps CB__NAP_US per round. A round takes a microsecond or two:
 * a driver that shares its core with the thread that submits, or with
 * the driver that has the work, gives it up within a few. */
#define CB__SPIN_ROUNDS 4
#define CB__YIELD_ROUNDS 2048
#define CB__NAP_US 20
/* How long a driver whose work is done stays awake, and how often it
 * yields the core meanwhile. */
#define CB__LINGER_US 200
#define CB__LINGER_YIELD_US 4
/* The load of a running job: its length is unknown, so its worker comes
 * after every worker that has only tasks waiting. */
#define CB__JOB_LOAD (1L << 20)
/* An awake driver keeps taking the tasks placed on its device while a
 * new one would wait there less than CB__STICKY_WAIT_US (about what
 * waking another driver costs). */
#define CB__STICKY_WAIT_US 20

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t started_cond = PTHREAD_COND_INITIALIZER;
static int ninitialised;
static atomic_int stopping;
static atomic_ulong progress;
static atomic_long total;     /* all pending work */
static pthread_cond_t idle_cond = PTHREAD_COND_INITIALIZER;
/* busy[0]: work for every driver; busy[d + 1]: work for device d. */
static atomic_long busy[CB__MAX_DEVICES + 1];
/* Data moves pending (CB__BUSY_MOVES). StarPU has the driver of the
 * OpenCL device carry every copy between it and host memory, both ways:
 * CPU drivers have no part in them, and polling for them would only take
 * the cores of the threads that do (a GPU pipeline whose results were
 * read back kept 15 CPU drivers polling, and the GPU's driver and
 * watcher waited for a core a scheduler tick at a time). */
static atomic_long moving;
/* Per StarPU worker: tasks placed on it and pending (they keep its driver
 * awake), and its load: those tasks plus the jobs running on it. */
static atomic_long pinned[STARPU_NMAXWORKERS];
static atomic_long load[STARPU_NMAXWORKERS];
/* Per worker: when its tasks last moved (the first was placed on it
 * while it had none, or one ended), and how long its tasks took from
 * then to their end, on average; in nanoseconds. */
static atomic_long last_move[STARPU_NMAXWORKERS];
static atomic_long task_ns[STARPU_NMAXWORKERS];
/* Lingering drivers: per device (0 or 1), and in all. */
static atomic_int lingering[CB__MAX_DEVICES + 1];
static atomic_int nlingering;
static int max_lingering = 1;
/* The CPUs the drivers may run on when they are not bound (unbind). */
static cpu_set_t allowed;
static int unbind;

typedef struct driver {
  struct starpu_driver d;
  int device;                 /* cambrian's device, -1 if none */
  int worker;                 /* StarPU's worker id, -1 until known */
  pthread_cond_t wake;        /* with lock */
  atomic_int asleep;          /* 1 while it sleeps, or is about to */
} driver;
static driver drivers[STARPU_NMAXWORKERS];
static pthread_t threads[STARPU_NMAXWORKERS];
static int ndrivers, nstarted;
/* StarPU worker id -> 1 + index in drivers, 0 for none. */
static int driver_of[STARPU_NMAXWORKERS];

static long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long)t.tv_sec * 1000000000L + t.tv_nsec;
}

static void wake_driver(driver *d) {
  if (!atomic_load(&d->asleep))
    return;
  pthread_mutex_lock(&lock);
  pthread_cond_signal(&d->wake);
  pthread_mutex_unlock(&lock);
}

/* Wakes the drivers of device (-1: all) that sleep. */
static void wake_device(int device) {
  for (int i = 0; i < nstarted; i++)
    if (device < 0 || drivers[i].device == device)
      wake_driver(&drivers[i]);
}

static int worker_index(int worker) {
  return worker >= 0 && worker < STARPU_NMAXWORKERS ? driver_of[worker] - 1
                                                    : -1;
}

/* Work for a device set counts as work for every driver. */
static int busy_index(int device) {
  return device >= 0 && device < cb__ndevices ? device + 1 : 0;
}

/* Wakes the OpenCL drivers that sleep. */
static void wake_opencl(void) {
  for (int i = 0; i < nstarted; i++)
    if (drivers[i].d.type == STARPU_OPENCL_WORKER)
      wake_driver(&drivers[i]);
}

void cb__busy_begin_on(int device, int worker) {
  atomic_fetch_add_explicit(&progress, 1, memory_order_relaxed);
  atomic_fetch_add(&total, 1);
  if (device == CB__BUSY_MOVES) {
    if (atomic_fetch_add(&moving, 1) == 0)
      wake_opencl();
    return;
  }
  int i = worker_index(worker);
  if (i >= 0) {
    atomic_fetch_add(&load[worker], 1);
    if (atomic_fetch_add(&pinned[worker], 1) == 0)
      atomic_store_explicit(&last_move[worker], now_ns(),
                            memory_order_relaxed);
    if (device >= 0) { /* its own worker is all it needs */
      wake_driver(&drivers[i]);
      return;
    }
  }
  if (atomic_fetch_add(&busy[busy_index(device)], 1) == 0)
    wake_device(busy_index(device) - 1);
}

void cb__busy_end_on(int device, int worker) {
  atomic_fetch_add_explicit(&progress, 1, memory_order_relaxed);
  if (worker_index(worker) >= 0) {
    /* The worker's driver ends its tasks: no other thread writes these
     * two meanwhile, but one that places a task on it once it has none
     * left (after the count below). */
    long now = now_ns();
    long took = now - atomic_load_explicit(&last_move[worker],
                                           memory_order_relaxed);
    long avg = atomic_load_explicit(&task_ns[worker], memory_order_relaxed);
    atomic_store_explicit(&task_ns[worker], avg + (took - avg) / 8,
                          memory_order_relaxed);
    atomic_store_explicit(&last_move[worker], now, memory_order_relaxed);
    atomic_fetch_sub(&pinned[worker], 1);
    atomic_fetch_sub(&load[worker], 1);
  }
  if (device == CB__BUSY_MOVES)
    atomic_fetch_sub(&moving, 1);
  else if (worker_index(worker) < 0 || device < 0)
    atomic_fetch_sub(&busy[busy_index(device)], 1);
  if (atomic_fetch_sub(&total, 1) == 1) {
    pthread_mutex_lock(&lock);
    pthread_cond_broadcast(&idle_cond);
    pthread_mutex_unlock(&lock);
  }
}

unsigned long cb__drivers_progress(void) {
  return atomic_load_explicit(&progress, memory_order_relaxed);
}

int cb__drivers_pending(void) { return atomic_load(&total) > 0; }

void cb__busy_begin(int device) { cb__busy_begin_on(device, -1); }
void cb__busy_end(int device) { cb__busy_end_on(device, -1); }

int cb__task_worker(const struct starpu_task *task) {
  return task && task->execute_on_a_specific_worker ? (int)task->workerid
                                                    : -1;
}

/* Jobs running now, on any worker. */
static atomic_int jobs_running;

int cb__drivers_jobs_running(void) { return atomic_load(&jobs_running); }

int cb__drivers_job_begin(void) {
  atomic_fetch_add(&jobs_running, 1);
  int w = starpu_worker_get_id();
  if (worker_index(w) < 0)
    return -1;
  atomic_fetch_add(&load[w], CB__JOB_LOAD);
  return w;
}

void cb__drivers_job_end(int worker) {
  atomic_fetch_sub(&jobs_running, 1);
  if (worker_index(worker) >= 0)
    atomic_fetch_sub(&load[worker], CB__JOB_LOAD);
}

/* Whether a task placed on worker w, of load l, now would start soon:
 * nothing is pending there, or the tasks there have been moving for less
 * than CB__STICKY_WAIT_US, and at their usual pace they would be done
 * within that too. *now is the time in nanoseconds, read on first need. */
static int starts_soon(int w, long l, long *now) {
  if (l == 0)
    return 1;
  if (l >= CB__JOB_LOAD)
    return 0;
  if (*now == 0)
    *now = now_ns();
  long since = *now - atomic_load_explicit(&last_move[w],
                                           memory_order_relaxed);
  long each = atomic_load_explicit(&task_ns[w], memory_order_relaxed);
  return since + l * each < CB__STICKY_WAIT_US * 1000L;
}

int cb__drivers_pick(const int *workers, int n, unsigned turn) {
  /* Small operations that follow each other go to the first awake driver
   * that keeps up with them: the other drivers sleep, and leave their
   * cores to the threads that submit. Another is woken once work would
   * wait, to spread it. */
  int best = workers[turn % (unsigned)n], best_awake = 0, sticky = -1;
  long best_load = LONG_MAX, now = 0;
  for (int k = 0; k < n && sticky < 0; k++) {
    int w = workers[k];
    int i = worker_index(w);
    if (i >= 0 && !atomic_load_explicit(&drivers[i].asleep,
                                        memory_order_relaxed) &&
        starts_soon(w, atomic_load_explicit(&load[w], memory_order_relaxed),
                    &now))
      sticky = w;
  }
  if (sticky >= 0)
    return sticky;
  for (int k = 0; k < n; k++) {
    int w = workers[(turn + (unsigned)k) % (unsigned)n];
    int i = worker_index(w);
    if (i < 0)
      continue;
    long l = atomic_load_explicit(&load[w], memory_order_relaxed);
    int awake = !atomic_load_explicit(&drivers[i].asleep,
                                      memory_order_relaxed);
    if (l < best_load || (l == best_load && awake && !best_awake)) {
      best = w;
      best_load = l;
      best_awake = awake;
    }
  }
  return best;
}

void cb_environ_change_begin(void) { cb__cl_gate_close(); }

void cb_environ_change_end(void) { cb__cl_gate_open(); }

int cb_wait_idle(int timeout_ms) {
  /* In a child after fork(), the work the parent had in flight is counted
   * but can never end here: waiting for it would never return. */
  if (cb__forked())
    return cb__refuse_forked();
  int rc = cb__refuse_in_task("all the work");
  if (rc)
    return rc;
  struct timespec deadline = cb__deadline(CLOCK_REALTIME, timeout_ms);
  pthread_mutex_lock(&lock);
  int lost = 0;
  /* Distributed: now and then, whether a rank was lost. */
  while (atomic_load(&total) > 0 && rc == 0 && !(lost = cb__dist_lost()))
    rc = cb__dist_cond_wait(&idle_cond, &lock, CLOCK_REALTIME,
                            timeout_ms >= 0 ? &deadline : NULL);
  int busy_now = atomic_load(&total) > 0;
  pthread_mutex_unlock(&lock);
  if (busy_now && lost)
    return cb__dist_refuse_lost();
  if (!busy_now)
    cb__batch_reap(0); /* the blocks of batches that ended go back now */
  return busy_now ? CB_ETIMEDOUT : 0;
}

static long wanted(const driver *me) {
  long n = atomic_load(&busy[0]) + atomic_load(&busy[me->device + 1]);
  if (me->d.type == STARPU_OPENCL_WORKER)
    n += atomic_load(&moving);
  if (me->worker >= 0)
    n += atomic_load(&pinned[me->worker]);
  return n;
}

static void nap(void) {
  struct timespec t = {0, CB__NAP_US * 1000L};
  nanosleep(&t, NULL);
}

/* Polls for up to CB__LINGER_US for work of me's, if a lingering place
 * is free; 1 when work came. */
static int linger(driver *me) {
  atomic_int *slot = &lingering[me->device + 1];
  int expected = 0;
  if (!atomic_compare_exchange_strong(slot, &expected, 1))
    return 0;
  int came = 0;
  if (atomic_fetch_add(&nlingering, 1) < max_lingering) {
    /* A thread that shares the core, waiting for the work just done,
     * gets it at once. */
    sched_yield();
    long start = cb__now_us(), yielded = start, now;
    for (unsigned i = 1; !atomic_load(&stopping); i++) {
      if (wanted(me)) {
        came = 1;
        break;
      }
      cb__cpu_relax();
      if (i % 64 != 0)
        continue;
      now = cb__now_us();
      if (now - start >= CB__LINGER_US)
        break;
      /* Now and then the core goes to a thread that shares it (the one
       * that submits, on a busy machine). */
      if (now - yielded >= CB__LINGER_YIELD_US) {
        sched_yield();
        yielded = now;
      }
    }
  }
  atomic_fetch_sub(&nlingering, 1);
  atomic_store(slot, 0);
  return came;
}

/* Sleeps until work of me's is pending, or the drivers stop. */
static void rest(driver *me) {
  pthread_mutex_lock(&lock);
  /* Said before looking: a submitter that counts work after this look
   * sees it, and signals. */
  atomic_store(&me->asleep, 1);
  while (!wanted(me) && !atomic_load(&stopping))
    pthread_cond_wait(&me->wake, &lock);
  atomic_store(&me->asleep, 0);
  pthread_mutex_unlock(&lock);
}

static void *driver_main(void *arg) {
  driver *me = arg;
  int rc = starpu_driver_init(&me->d);
  pthread_mutex_lock(&lock);
  if (rc == 0) {
    me->worker = starpu_worker_get_id();
    if (me->worker >= 0 && me->worker < STARPU_NMAXWORKERS)
      driver_of[me->worker] = (int)(me - drivers) + 1;
  }
  ninitialised++;
  pthread_cond_broadcast(&started_cond);
  pthread_mutex_unlock(&lock);
  if (rc)
    return NULL;
  char name[16];
  snprintf(name, sizeof name, "cb-%s%d",
           me->d.type == STARPU_CPU_WORKER ? "cpu" : "opencl",
           me->worker);
  pthread_setname_np(pthread_self(), name);
  /* StarPU bound this thread to one core; see cb__drivers_start. */
  if (unbind)
    pthread_setaffinity_np(pthread_self(), sizeof allowed, &allowed);
  unsigned long seen = 0;
  unsigned rounds = 0;
  while (!atomic_load(&stopping)) {
    starpu_driver_run_once(&me->d);
    unsigned long p = atomic_load_explicit(&progress, memory_order_relaxed);
    long want = wanted(me);
    if (p != seen && want) {
      seen = p;
      rounds = 0;
    } else if (!want) {
      if (!linger(me))
        rest(me);
      rounds = 0;
    } else if (++rounds > CB__YIELD_ROUNDS) {
      nap();
    } else if (rounds > CB__SPIN_ROUNDS) {
      sched_yield();
    }
  }
  /* StarPU's clean-up of a driver whose context no longer answers would
   * abort the process (see cb_shutdown). */
  if (me->device < 0 || !atomic_load(&cb__devices[me->device].unusable))
    starpu_driver_deinit(&me->d);
  return NULL;
}

void cb__drivers_plan(struct starpu_conf *conf, int ncpus,
                      const void *const *opencl_ids, int nopencl) {
  static struct starpu_driver plan[STARPU_NMAXWORKERS];
  ndrivers = 0;
  for (int i = 0; i < ncpus && ndrivers < STARPU_NMAXWORKERS; i++) {
    plan[ndrivers].type = STARPU_CPU_WORKER;
    plan[ndrivers++].id.cpu_id = (unsigned)i;
  }
  for (int i = 0; i < nopencl && ndrivers < STARPU_NMAXWORKERS; i++) {
    plan[ndrivers].type = STARPU_OPENCL_WORKER;
    plan[ndrivers++].id.opencl_id = (cl_device_id)opencl_ids[i];
  }
  for (int i = 0; i < ndrivers; i++)
    drivers[i] = (driver){.d = plan[i], .device = -1, .worker = -1};
  conf->not_launched_drivers = plan;
  conf->n_not_launched_drivers = (unsigned)ndrivers;
}

/* The device whose tasks a driver runs, from the device table. */
static int device_of(const struct starpu_driver *d) {
  for (int i = 0; i < cb__ndevices; i++) {
    const cb__device *dev = &cb__devices[i];
    if (d->type == STARPU_CPU_WORKER && dev->opencl_devid < 0)
      return i;
    if (d->type == STARPU_OPENCL_WORKER && dev->opencl_devid >= 0) {
      cl_device_id id;
      starpu_opencl_get_device((unsigned)dev->opencl_devid, &id);
      if (id == d->id.opencl_id)
        return i;
    }
  }
  return -1;
}

/* Whether the drivers run unbound: StarPU binds each to a core of its
 * own, which helps while every driver and the thread that submits have a
 * core each. With fewer cores, the bound threads share cores in a way
 * fixed at start (two drivers on one core, the thread that submits beside
 * a polling driver for the whole life of the process), while the kernel,
 * free to move them, gives the busy ones a core each. A binding that the
 * user asked StarPU for is kept. */
static int must_unbind(int ncores) {
  if (getenv("STARPU_WORKERS_CPUID") || getenv("STARPU_WORKERS_COREID"))
    return 0;
  return ndrivers + 1 > ncores;
}

/* Starts a thread per driver and waits until each has initialised its
 * worker, so the runtime is complete when cb_init returns. */
int cb__drivers_start(void) {
  atomic_store(&stopping, 0);
  ninitialised = 0;
  int ncores = 1;
  if (sched_getaffinity(0, sizeof allowed, &allowed) == 0)
    ncores = CPU_COUNT(&allowed);
  unbind = ncores > 1 && must_unbind(ncores);
  max_lingering = ncores - 1;
  if (max_lingering < 1)
    max_lingering = 1;
  for (int w = 0; w < STARPU_NMAXWORKERS; w++) {
    driver_of[w] = 0;
    atomic_store(&pinned[w], 0);
    atomic_store(&load[w], 0);
    atomic_store(&task_ns[w], 0);
  }
  int rc = 0;
  for (nstarted = 0; nstarted < ndrivers; nstarted++) {
    driver *d = &drivers[nstarted];
    d->device = device_of(&d->d);
    atomic_init(&d->asleep, 0);
    if (pthread_cond_init(&d->wake, NULL)) {
      rc = cb__fail(CB_ENOMEM, "cannot start a worker thread");
      break;
    }
    if (pthread_create(&threads[nstarted], NULL, driver_main, d)) {
      pthread_cond_destroy(&d->wake);
      rc = cb__fail(CB_ESTARPU, "cannot start a worker thread");
      break;
    }
  }
  pthread_mutex_lock(&lock);
  while (ninitialised < nstarted)
    pthread_cond_wait(&started_cond, &lock);
  pthread_mutex_unlock(&lock);
  return rc;
}

void cb__drivers_stop(void) {
  pthread_mutex_lock(&lock);
  atomic_store(&stopping, 1);
  for (int i = 0; i < nstarted; i++)
    pthread_cond_signal(&drivers[i].wake);
  pthread_mutex_unlock(&lock);
  for (int i = 0; i < nstarted; i++) {
    pthread_join(threads[i], NULL);
    pthread_cond_destroy(&drivers[i].wake);
  }
  for (int w = 0; w < STARPU_NMAXWORKERS; w++)
    driver_of[w] = 0;
  nstarted = 0;
}
