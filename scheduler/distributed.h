/*
 * Running over the ranks of an MPI launch (distributed.c): loading the
 * StarPU-MPI plugin, the owners of distributed arrays' tiles, and the one
 * way every task is submitted.
 *
 * Every rank runs the same program: distributed arrays are created, used
 * and read in the same order on every rank, from one thread per rank, so
 * that their tiles get the same tags everywhere and each transfer finds
 * its partner.
 */
#ifndef CAMBRIAN_SCHEDULER_DISTRIBUTED_H
#define CAMBRIAN_SCHEDULER_DISTRIBUTED_H

#include <pthread.h>
#include <time.h>

#include <starpu.h>

#include "cambrian.h"

/* 1 while the runtime runs over MPI ranks; set before any task runs. */
extern int cb__dist_on;

/* Whether the runtime should start distributed: setting 1 yes, -1 no, 0
 * when an MPI launcher started the process. */
int cb__dist_wanted(int setting);
/* Whether the StarPU-MPI plugin is installed. */
int cb__dist_available(void);
/* Starts StarPU through StarPU-MPI with conf (instead of starpu_init).
 * The CPU workers leave a core to the MPI progress thread. */
int cb__dist_start(struct starpu_conf *conf);
/* Stops StarPU-MPI and StarPU (instead of starpu_shutdown). */
void cb__dist_stop(void);
/* After a rank was lost: leaves StarPU, StarPU-MPI and MPI as they are
 * (stopping them would wait for that rank), never to start again. */
void cb__dist_abandon(void);
/* Gives a new handle its owner (a rank; CB__DIST_REPLICATED: each rank
 * has its own) and a tag; marked is the array whose failure mark tells
 * whether what h holds came from a failure (it outlives h's tasks). No-op
 * when not distributed. */
#define CB__DIST_REPLICATED (-1)
void cb__dist_register(starpu_data_handle_t h, int owner, cb_array *marked);
/* Gives a reused tile of an owned array a new tag (the next of the same
 * counter as new tiles'), forgetting what was cached of it. */
void cb__dist_retag(starpu_data_handle_t h);
/* The owner of tile i of the ntiles of an array distributed as d (block:
 * equal runs of tiles; cyclic: tile i to rank i % nranks). */
int cb__dist_owner(cb_distribution d, int64_t tile, int64_t ntiles);
/* Whether this rank owns that tile. */
int cb__dist_mine(cb_distribution d, int64_t tile, int64_t ntiles);
/* Submits task: on this process alone, or, distributed, on the rank that
 * owns what it writes, after bringing there what it reads (the task ends
 * here without running on the other ranks). Returns starpu_task_submit's
 * code. */
int cb__task_submit(struct starpu_task *task);
/* The barrier of cb_barrier, for a caller that holds the run lock: 0,
 * or CB_ERANKLOST when a rank is lost meanwhile. */
int cb__dist_barrier(void);
/* Whether another rank was taken as lost (see cb_check_ranks). */
int cb__dist_lost(void);
/* Fails with CB_ERANKLOST and the watchdog's message. */
int cb__dist_refuse_lost(void);
/* Waits on cond (with mutex held, cond timed on clock) until deadline
 * (NULL: none), as pthread_cond_(timed)wait does; distributed, it returns
 * 0 now and then before that, so that the caller can check
 * cb__dist_lost(). ETIMEDOUT only at the deadline. */
int cb__dist_cond_wait(pthread_cond_t *cond, pthread_mutex_t *mutex,
                       clockid_t clock, const struct timespec *deadline);
/* The MPI library's name and version (empty when not distributed). */
const char *cb__dist_library(void);
/* Frees a task that was never submitted (starpu_task_destroy refuses the
 * detached tasks that starpu_task_create makes). */
void cb__task_discard(struct starpu_task *task);
/* Brings a tile from its owner to every rank (every rank calls it). */
void cb__dist_fetch(starpu_data_handle_t h);

#endif
