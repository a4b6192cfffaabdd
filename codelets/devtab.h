/*
 * The device table of the running runtime, as tasks see it: the CPU
 * workers as one device, then each OpenCL device StarPU drives. The
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
} cb__device;

extern cb__device cb__devices[CB__MAX_DEVICES];
extern int cb__ndevices;
/* Bumped at each start of the runtime: objects built for devices (OpenCL
 * programs) compare it to tell that their context is gone. */
extern atomic_uint cb__devtab_gen;

/* The device whose tasks StarPU worker w runs, or -1. */
int cb__worker_device(int w);

#endif
