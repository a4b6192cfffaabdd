/*
 * Fault injection, for tests: the Nth execution of a named operation on a
 * chosen device fails with a chosen OpenCL status, exactly as a real
 * failure would (the output is marked failed, dependents do not run), and
 * loses the device when asked to (devloss.h). When no fault is armed,
 * codelets pay one predictable branch.
 *
 * Locking: lock guards the table of faults; armed mirrors whether it has
 * any, for the fast path.
 */
#include <stdio.h>
#include <string.h>

#include <pthread.h>

#include "errors.h"
#include "cambrian/testing.h"
#include "devtab.h"
#include "taskctx.h"

#define CB__MAX_FAULTS 16

atomic_int cb__faults_armed;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct fault {
  char name[48]; /* operation, kernel or function; "": any */
  int device;    /* -1: any */
  long nth;      /* fires at this execution, counted from 1 */
  long seen;
  int cl_status;
  int lose;      /* 1: loses the device; 2: and leaves it unusable */
} faults[CB__MAX_FAULTS];
static int nfaults;

static int inject(const char *op, int device, long nth, int cl_status,
                  int lose) {
  if (!op || strcmp(op, "*") == 0)
    op = "";
  if (strlen(op) >= sizeof faults[0].name)
    return cb__fail(CB_EINVAL, "no operation is named '%s'", op);
  if (nth < 1)
    return cb__fail(CB_EINVAL, "nth counts from 1");
  pthread_mutex_lock(&lock);
  int rc = 0;
  if (nfaults == CB__MAX_FAULTS)
    rc = cb__fail(CB_EINVAL, "at most %d faults", CB__MAX_FAULTS);
  if (rc == 0) {
    struct fault *f = &faults[nfaults++];
    *f = (struct fault){.device = device, .nth = nth,
                        .cl_status = cl_status, .lose = lose};
    snprintf(f->name, sizeof f->name, "%s", op);
  }
  atomic_store(&cb__faults_armed, nfaults > 0);
  pthread_mutex_unlock(&lock);
  return rc;
}

int cb_testing_inject(const char *op, int device, long nth, int cl_status) {
  return inject(op, device, nth, cl_status, 0);
}

int cb_testing_inject_loss(const char *op, int device, long nth,
                           int cl_status, int unusable) {
  return inject(op, device, nth, cl_status, unusable ? 2 : 1);
}

void cb_testing_clear(void) {
  pthread_mutex_lock(&lock);
  nfaults = 0;
  atomic_store(&cb__faults_armed, 0);
  pthread_mutex_unlock(&lock);
}

/* Whether a fault armed for device id fires on device: the same device,
 * any (-1), or a device set that holds it. */
static int device_matches(int id, int device) {
  if (id < 0 || id == device)
    return 1;
  if (!cb__device_valid(id))
    return 0;
  const cb__device *s = &cb__devices[id];
  for (int k = 0; k < s->nmembers; k++)
    if (s->members[k] == device)
      return 1;
  return 0;
}

int cb__fault_take(const char *name, int exact, int device, int *lose_out) {
  int status = 0, lose = 0;
  pthread_mutex_lock(&lock);
  /* Every armed fault that matches counts this execution; the first
   * that reaches its count fires, and every one that did is used up. */
  for (int i = 0; i < nfaults;) {
    struct fault *f = &faults[i];
    if ((f->name[0] ? strcmp(f->name, name) != 0 : exact) ||
        !device_matches(f->device, device) || ++f->seen != f->nth) {
      i++;
      continue;
    }
    if (!status) {
      status = f->cl_status;
      lose = f->lose;
    }
    faults[i] = faults[--nfaults];
  }
  atomic_store(&cb__faults_armed, nfaults > 0);
  pthread_mutex_unlock(&lock);
  if (lose_out)
    *lose_out = lose;
  return status;
}

int cb__fault_fire(cb__ctx *c) {
  int lose = 0;
  int device = cb__ctx_device(c);
  int status = cb__fault_take(c->name, 0, device, &lose);
  if (!status)
    return 0;
  /* The context is marked unusable before the loss is visible, so that
   * whoever sees the loss sees that too. */
  if (lose == 2 && device >= 0 && device < cb__ndevices &&
      cb__devices[device].opencl_devid >= 0)
    atomic_store(&cb__devices[device].unusable, 1);
  cb__ctx_fail_injected(c, status, lose != 0,
                        "%s failed on %s: %s (injected fault%s)", c->name,
                        cb__ctx_device_name(c), cb_cl_status_name(status),
                        lose ? " that loses the device" : "");
  return 1;
}
