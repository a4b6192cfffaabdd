/* The drivers cambrian runs in its own threads, the busy brackets that
 * wake them, and the choice among the workers of a device (see
 * drivers.c). */
#ifndef CAMBRIAN_SCHEDULER_DRIVERS_H
#define CAMBRIAN_SCHEDULER_DRIVERS_H

#include <starpu.h>

/* Brackets work pending in StarPU for device (-1: any driver may have to
 * act; CB__BUSY_MOVES: data that may move between host memory and an
 * OpenCL device, as an acquisition or an unregistration does); idle
 * worker threads sleep until some begins. */
#define CB__BUSY_MOVES (-2)
void cb__busy_begin(int device);
void cb__busy_end(int device);
/* The same for a task placed on StarPU worker worker (-1: none, as
 * cb__busy_begin): it wakes that worker's driver, and only that one
 * unless device is -1, and counts in the worker's load until it ends.
 * Begin and end take the same arguments. */
void cb__busy_begin_on(int device, int worker);
void cb__busy_end_on(int device, int worker);
/* Moves at every begin and end of pending work; and whether any is
 * pending. */
unsigned long cb__drivers_progress(void);
int cb__drivers_pending(void);
/* Jobs (cb__drivers_job_begin) running now: their length is unknown. */
int cb__drivers_jobs_running(void);
/* The worker a task was placed on (execute_on_a_specific_worker), or -1:
 * the worker argument of the brackets above. */
int cb__task_worker(const struct starpu_task *task);
/* In a codelet: the calling worker runs a task whose length is unknown
 * (a job: a Python function, a kernel) and counts as loaded until
 * cb__drivers_job_end(the returned worker). */
int cb__drivers_job_begin(void);
void cb__drivers_job_end(int worker);
/* Of the n StarPU workers given (n > 0), the one a task placed on their
 * device should go to: the first awake driver through which tasks go
 * without waiting long; else the least loaded, then one whose driver is
 * awake, then the first from index turn on. A worker that runs a job
 * comes after all the others. */
int cb__drivers_pick(const int *workers, int n, unsigned turn);
/* Before starpu_init: the drivers cambrian runs in its own threads. */
void cb__drivers_plan(struct starpu_conf *conf, int ncpus,
                      const void *const *opencl_ids, int nopencl);
/* After starpu_init: starts them. cb__drivers_stop() ends them. */
int cb__drivers_start(void);
void cb__drivers_stop(void);

#endif
