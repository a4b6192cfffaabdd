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
/* bytes of pinned host memory for device, or NULL (then use malloc): the
 * runtime runs and the caller holds the run lock. *token frees it. */
void *cb__pinned_alloc(int device, size_t bytes, cb__pinned **token);
/* Frees pinned memory, from any thread, also after the runtime stopped. */
void cb__pinned_free(cb__pinned *token);
/* Bytes pinned now, and the bound. */
size_t cb__pinned_bytes(size_t *max);

#endif
