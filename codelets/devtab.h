/*
 * The device table of the running runtime, as tasks see it: the CPU
 * workers as one device, then each OpenCL device StarPU drives, then the
 * device sets: one for each kind (backend and type) of OpenCL device
 * present more than once, which spreads tiles over its members. The
 * runtime fills it when it starts (with no task running) and it is
 * read-only while the runtime runs, but for the loss of a device (see
 * devloss.h), which its atomic fields record.
 */
#ifndef CAMBRIAN_CODELETS_DEVTAB_H
#define CAMBRIAN_CODELETS_DEVTAB_H

#include <stdatomic.h>

#include <starpu.h>

#include "cambrian.h"
#include "errors.h"
#include "failure.h"

typedef struct cb__device {
  cb_device_info info;
  unsigned memory_node;
  int nworkers;
  int workers[STARPU_NMAXWORKERS];
  int opencl_devid;          /* StarPU OpenCL device id, -1 for CPU. */
  /* Once the device is lost, its first fault (a reference); else NULL. */
  _Atomic(cb__failure *) lost;
  /* Set by an injected loss that leaves the context "unusable". */
  atomic_int unusable;
  /* Whether a lost device still runs a command (cb__device_dead): 0 not
   * asked yet, 1 it does, 2 it does not. */
  atomic_int dead;
  /* A device set's devices (nmembers >= 2); 0 for a device. */
  int nmembers;
  int members[CB__MAX_DEVICES];
} cb__device;

/* Devices first (cb__ndevices), then sets (cb__nsets). */
extern cb__device cb__devices[CB__MAX_DEVICES + CB_NDEVTYPES];
extern int cb__ndevices;
extern int cb__nsets;
/* Bumped at each start of the runtime: objects built for devices (OpenCL
 * programs) compare it to tell that their context is gone. */
extern atomic_uint cb__devtab_gen;

/* Whether d names a device or a device set of the table. */
static inline int cb__device_valid(int d) {
  return d >= 0 && d < cb__ndevices + cb__nsets;
}

/* The device that the tile-th tile of an array on d lives on: a set's
 * tiles go to its members in turn, the same tile to the same member;
 * anything else is its own. */
static inline int cb__device_for_tile(int d, unsigned tile) {
  if (d < cb__ndevices || !cb__device_valid(d))
    return d;
  const cb__device *s = &cb__devices[d];
  return s->members[tile % (unsigned)s->nmembers];
}

/* The OpenCL device whose memory node is node, or -1. */
int cb__node_device(unsigned node);

/* The device whose tasks StarPU worker w runs, or -1. */
int cb__worker_device(int w);

#endif
