/*
 * Host memory accounting: every array's host buffer is counted, a large
 * one is checked against what the process may still allocate (available
 * RAM, its cgroup's limit, RLIMIT_AS and RLIMIT_DATA, or
 * CAMBRIAN_MEMORY_LIMIT), and an OpenCL device that computes on the
 * cores (pocl), whose buffers are host memory too, is held by StarPU to
 * what is left, so that its allocations cannot fail inside its driver.
 *
 * Locking: one mutex guards the counts and the devices' reservations;
 * StarPU's memory manager is called under it, never waiting.
 */
#ifndef CAMBRIAN_SCHEDULER_BUDGET_H
#define CAMBRIAN_SCHEDULER_BUDGET_H

#include <stddef.h>
#include <stdint.h>

/* Counts bytes of host memory about to be allocated: 0, or CB_ENOMEM
 * (with the last error set) when they cannot fit. */
int cb__budget_take(size_t bytes);
/* Counts bytes of host memory that exist already (a caller's buffer). */
void cb__budget_count(size_t bytes);
/* Gives back what cb__budget_take or cb__budget_count counted. */
void cb__budget_give(size_t bytes);

/* With the runtime started and its devices discovered: holds the OpenCL
 * devices on the cores to the memory left. Before StarPU stops: lets go. */
void cb__budget_start(void);
void cb__budget_stop(void);

/* The bytes that device may hold now: its global memory, or for a device
 * on the cores the share of host memory it is held to. */
uint64_t cb__budget_device_bytes(int device);

/* Bytes of host buffers counted now, and the limit found for the process
 * (0 when none could be read). */
uint64_t cb__budget_held(void);
uint64_t cb__budget_limit(void);

#endif
