/* The pool of dead arrays' buffers and tiles, kept for reuse. */
#ifndef CAMBRIAN_SCHEDULER_POOL_H
#define CAMBRIAN_SCHEDULER_POOL_H

#include <stdint.h>

#include "cambrian.h"

/* Keeps a dead array's buffer and tiles for reuse; returns 0 if it did
 * not take it. Never calls StarPU. */
int cb__pool_put(cb_array *a);
/* A pooled array of this size, tile geometry and distribution taken over
 * for dtype t (same element size), with one reference and no failure, or
 * NULL; one whose host buffer is pinned memory when pinned is set. */
cb_array *cb__pool_get(cb_dtype t, int64_t size, int64_t tile_elems,
                       cb_distribution dist, int pinned);
/* Destroys a pooled array whose host buffer is pinned memory of bytes,
 * so that its buffer goes back to the cache of pinned memory; returns
 * whether there was one. Not from a task or a callback: it unregisters. */
int cb__pool_drop_pinned(size_t bytes);
/* Destroys every pooled array (shutdown). */
void cb__pool_flush(void);

#endif
