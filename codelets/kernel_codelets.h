/*
 * User OpenCL kernels on a device: a kernel's program, built once per
 * runtime and device from its source, and the launch a kernel job runs.
 */
#ifndef CAMBRIAN_CODELETS_KERNEL_H
#define CAMBRIAN_CODELETS_KERNEL_H

#include <pthread.h>
#include <stddef.h>

#include "cambrian.h"
#include "errors.h"
#include "job_codelets.h"

/* A kernel's program on one device, for runtime generation gen. */
typedef struct cb__kbuild {
  unsigned gen;               /* 0: not built */
  int status;                 /* 0, or the CL status of a failed build */
  void *program, *kernel;     /* cl_program, cl_kernel */
  void *assert_buf;           /* cl_mem of the assertion record */
  char *log;                  /* build log of a failure */
  int nparams;                /* without the hidden assertion buffer */
  cb_kernel_param *params;
} cb__kbuild;

/* What a kernel is on devices: its source and its builds. */
typedef struct cb__kprog {
  char name[64];
  char *source;               /* as built: with the assertion prelude */
  char *options;
  int asserts;                /* uses CB_ASSERT: hidden parameter 0 */
  pthread_mutex_t lock;       /* guards dev[] */
  cb__kbuild dev[CB__MAX_DEVICES];
} cb__kprog;

/* The build of p for device, made now if needed; p->lock is held. */
cb__kbuild *cb__kprog_build_locked(cb__kprog *p, int device);
/* Releases every build's OpenCL objects. */
void cb__kprog_release(cb__kprog *p);

/* The launch a kernel job carries (its payload). */
typedef struct cb__launch {
  cb_kernel *kernel;          /* a reference, for the submitter */
  cb__kprog *prog;            /* the kernel's program */
  int work_dim;
  size_t global[3], local[3];
  int has_local;
  int nargs;
  int *job_arg;               /* per argument: its job argument, or -1 */
  cb_arg *args;
} cb__launch;

/* Runs a kernel launch job on an OpenCL worker. */
void cb__kernel_run(cb__job *j, void *buffers[]);

#endif
