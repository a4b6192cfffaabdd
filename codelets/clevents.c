/*
 * OpenCL events that may never complete (see clevents.h).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include <starpu.h>

#include "cambrian/testing.h"
#include "clevents.h"
#include "devloss.h"
#include "faults.h"
#include "tiles.h"

typedef struct stuck {
  cl_event ev;
  struct stuck *next;
} stuck;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static stuck *stuck_head;           /* guarded by lock */
static atomic_int nstuck;           /* its length */
static atomic_long stuck_total;

long cb_testing_unfinished_events(void) { return atomic_load(&stuck_total); }

void cb__user_event_end(cl_event ev, int device) {
  cl_int st = CL_SUCCESS;
#ifdef CB_HAVE_STARPU_UNFINISHED_EVENTS
  /* Only where StarPU asks: elsewhere the event would stay pending. */
  if (atomic_load_explicit(&cb__faults_armed, memory_order_relaxed))
    st = cb__fault_take("complete", 1, device, NULL);
#else
  (void)device;
#endif
  if (st == CL_SUCCESS)
    st = clSetUserEventStatus(ev, CL_COMPLETE);
  stuck *s = st == CL_SUCCESS ? NULL : malloc(sizeof *s);
  if (s) {
    /* Kept, with the caller's reference, until StarPU asks. */
    s->ev = ev;
    pthread_mutex_lock(&lock);
    s->next = stuck_head;
    stuck_head = s;
    atomic_fetch_add(&nstuck, 1);
    pthread_mutex_unlock(&lock);
    atomic_fetch_add(&stuck_total, 1);
    return;
  }
  clReleaseEvent(ev);
}

/* Takes ev off the list: 1 when it was there. */
static int take_stuck(cl_event ev) {
  stuck *found = NULL;
  pthread_mutex_lock(&lock);
  for (stuck **p = &stuck_head; *p; p = &(*p)->next)
    if ((*p)->ev == ev) {
      found = *p;
      *p = found->next;
      atomic_fetch_sub(&nstuck, 1);
      break;
    }
  pthread_mutex_unlock(&lock);
  if (!found)
    return 0;
  clReleaseEvent(found->ev);
  free(found);
  return 1;
}

/* The OpenCL device (cambrian's index) whose context ev belongs to, or
 * -1. */
static int device_of(cl_event ev) {
  cl_context ctx;
  if (clGetEventInfo(ev, CL_EVENT_CONTEXT, sizeof ctx, &ctx, NULL) !=
      CL_SUCCESS)
    return -1;
  for (int d = 0; d < cb__ndevices; d++) {
    if (cb__devices[d].opencl_devid < 0)
      continue;
    cl_context mine;
    starpu_opencl_get_context((unsigned)cb__devices[d].opencl_devid, &mine);
    if (mine == ctx)
      return d;
  }
  return -1;
}

int cb__cl_unfinished(cl_event ev, cl_int status) {
  /* Pending, and nothing is lost or stuck: the common case, one branch. */
  if (status > CL_COMPLETE && !atomic_load(&cb__nlost) &&
      !atomic_load(&nstuck))
    return 0;
  if (atomic_load(&nstuck) && take_stuck(ev))
    return 1;
  cl_command_type type = 0;
  if (clGetEventInfo(ev, CL_EVENT_COMMAND_TYPE, sizeof type, &type,
                     NULL) == CL_SUCCESS &&
      type == CL_COMMAND_USER)
    return 0; /* cambrian's own: it ends through cb__user_event_end */
  int device = device_of(ev);
  if (device < 0)
    return 0;
  /* A transfer still pending ends only on a device that no longer runs
   * anything: one lost but alive (pocl after an injected fault) may still
   * be copying, into memory StarPU would then reuse. */
  if (status > CL_COMPLETE) {
    if (!cb__device_dead(device))
      return 0;
    cb__tile_read_abandoned(ev, device);
    return 1;
  }
  if (cb__device_lost(device)) {
    cb__tile_read_abandoned(ev, device);
    return 1;
  }
  /* A transfer that ended in error: its device is lost, and the copy
   * counts as ended (the data it was to move are unusable there). */
  cb__failure *f = cb__failure_new(
      CB_EDEVICE, status, device, "",
      "a transfer on %s failed (%s)", cb__devices[device].info.filter_string,
      cb_cl_status_name(status));
  if (!f)
    return 0;
  cb__failure_register(f);
  cb__device_lose(device, f);
  cb__failure_unref(f);
  cb__tile_read_abandoned(ev, device); /* its data never arrived */
  return 1;
}

void cb__cl_unfinished_forget(void) {
  cb__tile_reads_forget();
  pthread_mutex_lock(&lock);
  stuck *s = stuck_head;
  stuck_head = NULL;
  atomic_store(&nstuck, 0);
  pthread_mutex_unlock(&lock);
  while (s) {
    stuck *next = s->next;
    clReleaseEvent(s->ev);
    free(s);
    s = next;
  }
}
