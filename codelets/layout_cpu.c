/*
 * Layout copies on CPU workers: an odometer over every dimension but the
 * last, and a strided loop over the last, with one loop per element size
 * so that the compiler moves whole elements.
 */
#include <string.h>

#include <starpu.h>

#include "layout_codelets.h"

#define ROW_LOOP(T)                                                          \
  do {                                                                       \
    const T *s_ = (const T *)src + from;                                     \
    T *d_ = (T *)dst + to;                                                   \
    for (int64_t k = 0; k < n; k++)                                          \
      d_[k * dt] = s_[k * st];                                               \
  } while (0)

/* Copies the last dimension's n elements from element from of src (stride
 * st) to element to of dst (stride dt). */
static void copy_row(const void *src, void *dst, int elem, int64_t from,
                     int64_t to, int64_t n, int64_t st, int64_t dt) {
  if (st == 1 && dt == 1) { /* a run: the loops below would not be one */
    memcpy((char *)dst + to * elem, (const char *)src + from * elem,
           (size_t)(n * elem));
    return;
  }
  switch (elem) {
  case 1:
    ROW_LOOP(uint8_t);
    break;
  case 2:
    ROW_LOOP(uint16_t);
    break;
  case 4:
    ROW_LOOP(uint32_t);
    break;
  case 8:
    ROW_LOOP(uint64_t);
    break;
  default:
    for (int64_t k = 0; k < n; k++)
      memcpy((char *)dst + (to + k * dt) * elem,
             (const char *)src + (from + k * st) * elem, (size_t)elem);
  }
}

void cb__layout_copy_cpu(cb__job *j, void *buffers[]) {
  const cb__layout_copy *c = j->payload;
  if (c->count == 0)
    return;
  /* On a CPU worker an array's tiles lie in order in its host buffer. */
  const void *src = (const void *)STARPU_VECTOR_GET_PTR(
      buffers[j->args[0].first]);
  void *dst = (void *)STARPU_VECTOR_GET_PTR(buffers[j->args[1].first]);
  if (c->ndim == 0) {
    copy_row(src, dst, c->elem, c->from_offset, c->to_offset, 1, 0, 0);
    return;
  }
  int last = c->ndim - 1;
  int64_t idx[CB_MAX_NDIM] = {0};
  int64_t from = c->from_offset, to = c->to_offset;
  for (;;) {
    copy_row(src, dst, c->elem, from, to, c->shape[last], c->from[last],
             c->to[last]);
    /* The odometer: the next index of the outer dimensions. */
    int d = last - 1;
    for (; d >= 0; d--) {
      from += c->from[d];
      to += c->to[d];
      if (++idx[d] < c->shape[d])
        break;
      from -= c->from[d] * c->shape[d];
      to -= c->to[d] * c->shape[d];
      idx[d] = 0;
    }
    if (d < 0)
      return;
  }
}
