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
 * the cache, else pinned now when now is set, else asked of the
 * background thread for next time. The runtime runs and the caller holds
 * the run lock. *token frees it. */
void *cb__pinned_alloc(int device, size_t bytes, int now,
                       cb__pinned **token);
/* Gives pinned memory back (to the cache, or to the system), from any
 * thread, also after the runtime stopped. */
void cb__pinned_free(cb__pinned *token);
/* Bytes pinned now (in use and cached), and the bound. */
size_t cb__pinned_bytes(size_t *max);

#endif
