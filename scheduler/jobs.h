/*
 * Submitting jobs: tasks over whole arrays (kernels, functions, BLAS,
 * reductions). What a job carries is in job_codelets.h.
 */
#ifndef CAMBRIAN_SCHEDULER_JOBS_H
#define CAMBRIAN_SCHEDULER_JOBS_H

#include <starpu.h>

#include "cambrian.h"
#include "job_codelets.h"

/* A job named name (its failures carry it) with room for nargs arrays.
 * Its data may have to come from any device, so every driver stays awake
 * while it is pending (ctx.busy_device -1) unless the caller knows better
 * and sets ctx.busy_device before submitting it. */
cb__job *cb__job_new(const char *name, int nargs);
/* Sets argument i (registering the array; the job takes a reference). */
int cb__job_set_arg(cb__job *j, int i, cb_array *a, int mode);
/* The same for ntiles tiles of a from tile0 on: the job holds those only
 * (on a CPU worker, from the first one's address). */
int cb__job_set_arg_tiles(cb__job *j, int i, cb_array *a, int mode,
                          int tile0, int ntiles);
/* Frees a job that was not submitted. */
void cb__job_free(cb__job *j);
/* Submits the job as one task of the codelet kind symbol (its model's
 * name) on workers of where (STARPU_CPU, STARPU_OPENCL) of device (-1:
 * the scheduler chooses). On a device set it goes to the member that
 * holds tile of its outputs (-1: the next member in turn), so that copies
 * into a tile run where that tile lives. Its outputs' writer becomes the
 * job's event, a new reference returned in *event. The job is consumed,
 * even on failure. The caller holds the run lock. */
int cb__job_submit(cb__job *j, const char *symbol, unsigned where,
                   int device, int tile, int priority, cb_event **event);
/* The same for a job that is one part of event e (its caller made e, with
 * a part for each job, and made it its outputs' writer): the job signals
 * its part when it ends, or at once when it cannot be submitted. */
int cb__job_submit_part(cb__job *j, const char *symbol, unsigned where,
                        int device, int tile, cb_event *e);
/* The codelet of a kind of job (made on first use, kept for good). */
struct starpu_codelet *cb__job_codelet(const char *symbol);
/* Gives task room for n buffers: its own arrays, or arrays StarPU frees
 * with it when n is beyond STARPU_NMAXBUFS. */
int cb__task_buffers(struct starpu_task *task, int n,
                     starpu_data_handle_t **handles,
                     enum starpu_data_access_mode **modes);
/* In a CPU function: the host address of argument i, entire. */
void *cb__job_host_ptr(const cb__job *j, int i, void *buffers[]);

/* A kernel source as built when it uses CB_ASSERT: the assertion prelude,
 * then src with the hidden parameter "__global int *cb__assert" put first
 * in every kernel function ("(void)" gives way to it). Comments, and
 * string and character literals, are skipped. A new string (free()), or
 * NULL when out of memory. */
char *cb__kernel_assert_source(const char *src);

#endif
