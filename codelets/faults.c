/*
 * Fault injection, for tests: the Nth execution of a named operation on a
 * chosen device fails with a chosen OpenCL status, exactly as a real
 * failure would (the output is marked failed, dependents do not run).
 * When no fault is armed, codelets pay one predictable branch.
 *
 * Locking: lock guards the table of faults; armed mirrors whether it has
 * any, for the fast path.
 */
#include <string.h>

#include "internal.h"

#define CB__MAX_FAULTS 16

atomic_int cb__faults_armed;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct fault {
  int op;        /* cb_op, -1: any */
  int device;    /* -1: any */
  long nth;      /* fires at this execution, counted from 1 */
  long seen;
  int cl_status;
} faults[CB__MAX_FAULTS];
static int nfaults;

int cb_testing_inject(const char *op, int device, long nth, int cl_status) {
  int id = -1;
  if (op && strcmp(op, "*") != 0) {
    for (int i = 0; i < CB_NOPS; i++)
      if (strcmp(cb_op_name((cb_op)i), op) == 0)
        id = i;
    if (id < 0)
      return cb__fail(CB_EINVAL, "no operation named '%s'", op);
  }
  if (nth < 1)
    return cb__fail(CB_EINVAL, "nth counts from 1");
  pthread_mutex_lock(&lock);
  int rc = 0;
  if (nfaults == CB__MAX_FAULTS)
    rc = cb__fail(CB_EINVAL, "at most %d faults", CB__MAX_FAULTS);
  else
    faults[nfaults++] = (struct fault){id, device, nth, 0, cl_status};
  atomic_store(&cb__faults_armed, nfaults > 0);
  pthread_mutex_unlock(&lock);
  return rc;
}

void cb_testing_clear(void) {
  pthread_mutex_lock(&lock);
  nfaults = 0;
  atomic_store(&cb__faults_armed, 0);
  pthread_mutex_unlock(&lock);
}

int cb__fault_fire(cb__task *t) {
  int status = 0;
  int device = t->device;
  if (device < 0) { /* auto placement: the device of this worker */
    int w = starpu_worker_get_id();
    for (int d = 0; d < cb__ndevices && device < 0; d++)
      for (int k = 0; k < cb__devices[d].nworkers; k++)
        if (cb__devices[d].workers[k] == w)
          device = d;
  }
  pthread_mutex_lock(&lock);
  for (int i = 0; i < nfaults; i++) {
    struct fault *f = &faults[i];
    if ((f->op >= 0 && f->op != (int)t->op) ||
        (f->device >= 0 && f->device != device))
      continue;
    if (++f->seen == f->nth) {
      status = f->cl_status;
      faults[i] = faults[--nfaults];
      break;
    }
  }
  atomic_store(&cb__faults_armed, nfaults > 0);
  pthread_mutex_unlock(&lock);
  if (status)
    cb__task_fail(t, CB_EDEVICE, status, "%s failed on device %d: %s "
                  "(injected fault)", cb_op_name(t->op), device,
                  cb_cl_status_name(status));
  return status != 0;
}
