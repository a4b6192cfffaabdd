/*
 * Device loss: an OpenCL device whose context a fault left unusable. The
 * codelet that meets the fault loses the device (keeping the fault as the
 * cause of everything that fails after it); from then on codelets placed
 * there fail at entry without touching OpenCL, the data operations of
 * tiles stay off it (tiles.h), and the scheduler sends no new work there.
 *
 * Locking: none. The lost mark of a device is set once per runtime by a
 * compare-and-swap; cb__nlost counts the marks so that the checks cost
 * one branch while no device is lost.
 */
#ifndef CAMBRIAN_CODELETS_DEVLOSS_H
#define CAMBRIAN_CODELETS_DEVLOSS_H

#include <stdatomic.h>
#include <stdint.h>

#include <starpu.h>

#include "devtab.h"
#include "failure.h"

/* Devices lost in the running runtime. */
extern atomic_int cb__nlost;

/* The workers of devices that are not lost, as the bitmap StarPU reads in
 * starpu_task.workerids: tasks placed by the scheduler point at it, so
 * that even pending ones avoid a device lost after they were submitted.
 * Bits are only ever cleared while the runtime runs. */
#define CB__WORKER_WORDS ((STARPU_NMAXWORKERS + 31) / 32)
extern uint32_t cb__alive_workers[CB__WORKER_WORDS];
extern unsigned cb__alive_words;

/* Forgets every loss and sets the bitmap to the table's workers: when the
 * runtime starts, before it fills the table (forget) and after (bits). */
void cb__devices_lost_forget(void);
void cb__alive_reset(void);

/* Marks device lost with cause as the first fault (the device keeps a
 * reference), and with it every other device of its OpenCL platform
 * that no longer runs a command (a fault on one of NVIDIA's GPUs poisons
 * them all), each with a failure of its own whose cause is cause.
 * Returns 1 when this call lost device, 0 when it was lost already or
 * cannot be lost (not an OpenCL device). */
int cb__device_lose(int device, cb__failure *cause);
/* The first fault of a lost device (no new reference), else NULL. */
static inline cb__failure *cb__device_lost(int device) {
  if (device >= cb__ndevices && cb__device_valid(device)) {
    /* A set is lost as soon as one of its devices is. */
    const cb__device *s = &cb__devices[device];
    cb__failure *f = NULL;
    for (int k = 0; k < s->nmembers && !f; k++)
      f = atomic_load(&cb__devices[s->members[k]].lost);
    return f;
  }
  return device >= 0 && device < cb__ndevices
             ? atomic_load(&cb__devices[device].lost)
             : NULL;
}
/* The lost device whose memory node is node, or -1. */
int cb__node_lost_device(unsigned node);

/* A new CB_EDEVLOST failure for task (may be "") on the lost device,
 * whose cause is the device's first fault; its message is what, then
 * the fault's. NULL when out of memory (or the device is not lost). */
cb__failure *cb__lost_failure(int device, const char *task,
                              const char *what);

/* Whether an OpenCL status means that the device's queue or context is
 * gone, whatever call returned it. */
int cb__cl_status_loses(int cl_status);
/* Whether a command that failed with cl_status while it executed (learnt
 * from its event or a wait) leaves the context unusable: every such
 * failure does but a lack of memory. */
int cb__cl_completion_loses(int cl_status);

/* Whether lost device no longer runs a command (asked once, with a tiny
 * write waited for at most two seconds): then nothing it was doing will
 * ever end, and waiting for it is pointless. 0 for a device not lost. */
int cb__device_dead(int device);

/* Asks a lost device's context whether it still answers: 0 when it does,
 * else the OpenCL status it gave (or CL_INVALID_CONTEXT for a context an
 * injected loss left unusable). */
int cb__device_probe(int device);

#endif
