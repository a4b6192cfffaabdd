/* The drivers cambrian runs in its own threads, and the busy brackets
 * that wake them (see drivers.c). */
#ifndef CAMBRIAN_SCHEDULER_DRIVERS_H
#define CAMBRIAN_SCHEDULER_DRIVERS_H

#include <starpu.h>

/* Brackets work pending in StarPU for device (-1: any driver may have to
 * act); idle worker threads sleep until some begins. */
void cb__busy_begin(int device);
void cb__busy_end(int device);
/* Before starpu_init: the drivers cambrian runs in its own threads. */
void cb__drivers_plan(struct starpu_conf *conf, int ncpus,
                      const void *const *opencl_ids, int nopencl);
/* After starpu_init: starts them. cb__drivers_stop() ends them. */
int cb__drivers_start(void);
void cb__drivers_stop(void);

#endif
