/* Layout copies inside the scheduler: broadcasts of element-wise
 * operands and moves of a reduction's axis (layout.c). */
#ifndef CAMBRIAN_SCHEDULER_LAYOUT_H
#define CAMBRIAN_SCHEDULER_LAYOUT_H

#include <stdint.h>

#include "cambrian.h"

/* cb_gather, for a caller that holds the run lock; the result asks for
 * tiles of hint elements (0: the default). */
int cb__gather_locked(cb_array *src, const cb_layout *from, int device,
                      int64_t hint, cb_array **out);
/* The layout that reads a as an array of shape (ndim dimensions, to which
 * a's shape broadcasts): stride 0 along the dimensions it repeats. */
void cb__broadcast_layout(const cb_array *a, int ndim, const int64_t *shape,
                          cb_layout *out);

#endif
