/* Layout copies inside the scheduler: broadcasts of element-wise
 * operands and moves of a reduction's axis, and the tiles that a layout
 * reaches (layout.c). */
#ifndef CAMBRIAN_SCHEDULER_LAYOUT_H
#define CAMBRIAN_SCHEDULER_LAYOUT_H

#include <stdint.h>

#include "cambrian.h"

/* cb_gather, for a caller that holds the run lock; the result asks for
 * tiles of hint elements (0: the default). */
int cb__gather_locked(cb_array *src, const cb_layout *from, int device,
                      int64_t hint, cb_array **out);
/* Submits the copy of the count elements of src that from reaches into
 * those of dst that to reaches, checked already, as one task on device.
 * The caller holds the run lock. */
int cb__layout_submit(cb_array *src, const cb_layout *from, cb_array *dst,
                      const cb_layout *to, int64_t count, int device);
/* The layout that reads a as an array of shape (ndim dimensions, to which
 * a's shape broadcasts): stride 0 along the dimensions it repeats. */
void cb__broadcast_layout(const cb_array *a, int ndim, const int64_t *shape,
                          cb_layout *out);
/* The same for the array that own reads (own's shape broadcasts to
 * shape). */
void cb__layout_broadcast(const cb_layout *own, int ndim,
                          const int64_t *shape, cb_layout *out);
/* The tiles of a that l reaches (l not empty): first to last. */
void cb__layout_tiles(const cb_layout *l, const cb_array *a, int64_t *first,
                      int64_t *last);

#endif
