/*
 * The worker threads. Debian's StarPU is built with non-blocking drivers:
 * a worker thread spins while it waits for a task. A program that merely
 * started cambrian would keep every core busy, and on a small machine the
 * spinning workers would take the cores that the submitting Python thread
 * needs. So cambrian runs StarPU's drivers in threads of its own
 * (starpu_conf.not_launched_drivers) whose loop rests when it has nothing
 * to do: it blocks while no work is pending at all, and yields the core,
 * then sleeps in short steps, while only other workers have work.
 *
 * Work pending in StarPU is counted by cb__busy_begin() and cb__busy_end()
 * per device (tasks placed on it) or for all drivers (tasks placed by the
 * scheduler, acquisitions, unregistration). A driver polls at full speed
 * while work it may have to do is pending and something progresses.
 *
 * Locking: lock and wake guard the sleep of idle drivers (sleepers); lock
 * and idle_cond the waits for all work to end.
 */
#include <sched.h>
#include <time.h>

#include <CL/cl.h>

#include "batch.h"
#include "devtab.h"
#include "drivers.h"
#include "errors.h"
#include "events.h"
#include "runtime.h"

/* Empty rounds a driver polls at full speed, then yields the core, before
 * it sleeps CB__NAP_US per round. */
#define CB__SPIN_ROUNDS 64
#define CB__YIELD_ROUNDS 2048
#define CB__NAP_US 20

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static int sleepers, ninitialised;
static atomic_int stopping;
static atomic_ulong progress;
static atomic_long total;     /* all pending work */
static pthread_cond_t idle_cond = PTHREAD_COND_INITIALIZER;
/* busy[0]: work for every driver; busy[d + 1]: work for device d. */
static atomic_long busy[CB__MAX_DEVICES + 1];

typedef struct driver {
  struct starpu_driver d;
  int device;
} driver;
static driver drivers[STARPU_NMAXWORKERS];
static pthread_t threads[STARPU_NMAXWORKERS];
static int ndrivers, nstarted;

void cb__busy_begin(int device) {
  atomic_fetch_add_explicit(&progress, 1, memory_order_relaxed);
  atomic_fetch_add(&total, 1);
  if (atomic_fetch_add(&busy[device + 1], 1) != 0)
    return;
  pthread_mutex_lock(&lock);
  if (sleepers)
    pthread_cond_broadcast(&wake);
  pthread_mutex_unlock(&lock);
}

void cb__busy_end(int device) {
  atomic_fetch_add_explicit(&progress, 1, memory_order_relaxed);
  atomic_fetch_sub(&busy[device + 1], 1);
  if (atomic_fetch_sub(&total, 1) == 1) {
    pthread_mutex_lock(&lock);
    pthread_cond_broadcast(&idle_cond);
    pthread_mutex_unlock(&lock);
  }
}

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
  while (atomic_load(&total) > 0 && rc == 0)
    rc = timeout_ms < 0 ? pthread_cond_wait(&idle_cond, &lock)
                        : pthread_cond_timedwait(&idle_cond, &lock,
                                                 &deadline);
  int busy_now = atomic_load(&total) > 0;
  pthread_mutex_unlock(&lock);
  if (!busy_now)
    cb__batch_reap(0); /* the blocks of batches that ended go back now */
  return busy_now ? CB_ETIMEDOUT : 0;
}

static long wanted(const driver *me) {
  return atomic_load(&busy[0]) + atomic_load(&busy[me->device + 1]);
}

static void nap(void) {
  struct timespec t = {0, CB__NAP_US * 1000L};
  nanosleep(&t, NULL);
}

static void *driver_main(void *arg) {
  driver *me = arg;
  int rc = starpu_driver_init(&me->d);
  pthread_mutex_lock(&lock);
  ninitialised++;
  pthread_cond_broadcast(&wake);
  pthread_mutex_unlock(&lock);
  if (rc)
    return NULL;
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
      pthread_mutex_lock(&lock);
      while (!wanted(me) && !atomic_load(&stopping)) {
        sleepers++;
        pthread_cond_wait(&wake, &lock);
        sleepers--;
      }
      pthread_mutex_unlock(&lock);
      rounds = 0;
    } else if (++rounds > CB__YIELD_ROUNDS) {
      nap();
    } else if (rounds > CB__SPIN_ROUNDS) {
      sched_yield();
    }
  }
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
    drivers[i] = (driver){plan[i], -1};
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

/* Starts a thread per driver and waits until each has initialised its
 * worker, so the runtime is complete when cb_init returns. */
int cb__drivers_start(void) {
  atomic_store(&stopping, 0);
  ninitialised = 0;
  int rc = 0;
  for (nstarted = 0; nstarted < ndrivers; nstarted++) {
    drivers[nstarted].device = device_of(&drivers[nstarted].d);
    if (pthread_create(&threads[nstarted], NULL, driver_main,
                       &drivers[nstarted])) {
      rc = cb__fail(CB_ESTARPU, "cannot start a worker thread");
      break;
    }
  }
  pthread_mutex_lock(&lock);
  while (ninitialised < nstarted)
    pthread_cond_wait(&wake, &lock);
  pthread_mutex_unlock(&lock);
  return rc;
}

void cb__drivers_stop(void) {
  pthread_mutex_lock(&lock);
  atomic_store(&stopping, 1);
  pthread_cond_broadcast(&wake);
  pthread_mutex_unlock(&lock);
  for (int i = 0; i < nstarted; i++)
    pthread_join(threads[i], NULL);
  nstarted = 0;
}
