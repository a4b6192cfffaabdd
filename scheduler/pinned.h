/*
 * Page-locked host memory for arrays that live on a GPU (pinned.c).
 */
#ifndef CAMBRIAN_SCHEDULER_PINNED_H
#define CAMBRIAN_SCHEDULER_PINNED_H

#include <stddef.h>

typedef struct cb__pinned cb__pinned;

/* Whether host copies of arrays on device are pinned (a GPU's, while the
 * bound has room). */
int cb__pinned_wanted(int device);
/* bytes of pinned host memory for device, or NULL (then use malloc): from
 * the cache, else pinned now when now is set. The runtime runs and the
 * caller holds the run lock. *token frees it. */
void *cb__pinned_alloc(int device, size_t bytes, int now,
                       cb__pinned **token);
/* Host copies of bytes were read back: asks the background thread to pin
 * a buffer of that size for a GPU, for the arrays to come. */
void cb__pinned_demand(size_t bytes);
/* Whether arrays of bytes are read back from a GPU and could be pinned:
 * the pool then lets go of their pageable buffers. */
int cb__pinned_demanded(size_t bytes);
/* Gives pinned memory back (to the cache, or to the system), from any
 * thread, also after the runtime stopped. */
void cb__pinned_free(cb__pinned *token);
/* Bytes pinned now (in use and cached), and the bound. */
size_t cb__pinned_bytes(size_t *max);

#endif
