/*
 * Layout copies: a strided part of one array copied into a strided part
 * of another (or a new array), as one job over both arrays. Transposes,
 * broadcasts, slices, concatenations and writes through an index are all
 * such copies. The checks here keep every element reached inside its
 * array, so the codelets (codelets/layout_*.c) need none.
 */
#include <stdlib.h>
#include <string.h>

#include "arrays.h"
#include "devtab.h"
#include "distributed.h"
#include "errors.h"
#include "events.h"
#include "jobs.h"
#include "layout.h"
#include "layout_codelets.h"
#include "lazy.h"
#include "runtime.h"
#include "shapes.h"
#include "task_end.h"

void cb_layout_of(const cb_array *a, cb_layout *out) {
  memset(out, 0, sizeof *out);
  out->ndim = a->ndim;
  int64_t stride = 1;
  for (int d = a->ndim - 1; d >= 0; d--) {
    out->shape[d] = a->shape[d];
    out->strides[d] = stride;
    if (a->shape[d] > 0)
      stride *= a->shape[d];
  }
}

/* The number of elements of l's shape; CB_EINVAL for a bad shape. */
static int layout_count(const cb_layout *l, const char *what,
                        int64_t *count) {
  if (l->ndim < 0 || l->ndim > CB_MAX_NDIM)
    return cb__fail(CB_EINVAL, "%s: a layout has 0 to %d dimensions, "
                    "not %d", what, CB_MAX_NDIM, l->ndim);
  int64_t n = 1;
  for (int d = 0; d < l->ndim; d++) {
    if (l->shape[d] < 0)
      return cb__fail(CB_EINVAL, "%s: negative dimension %lld", what,
                      (long long)l->shape[d]);
    if (l->shape[d] && n > INT64_MAX / l->shape[d])
      return cb__fail(CB_EINVAL, "%s: the layout is too large", what);
    n *= l->shape[d];
  }
  *count = n;
  return 0;
}

/* Whether every element l reaches lies in a (an empty layout reaches
 * none). Sums are kept below 2^62, so nothing overflows. */
static int layout_inside(const cb_layout *l, const cb_array *a) {
  const int64_t cap = (int64_t)1 << 62;
  int64_t lo = l->offset, hi = l->offset;
  if (lo < 0 || lo >= a->size)
    return 0;
  for (int d = 0; d < l->ndim; d++) {
    int64_t s = l->strides[d], n = l->shape[d] - 1;
    if (s > cap / 2 || s < -cap / 2 || (n && (s > cap / n || -s > cap / n)))
      return 0;
    if (s < 0)
      lo += s * n;
    else
      hi += s * n;
    if (lo < 0 || hi >= a->size)
      return 0;
  }
  return 1;
}

/* Whether l reaches no element twice: sorted by stride, each dimension's
 * step must clear all the elements the smaller ones span. */
static int layout_distinct(const cb_layout *l) {
  int order[CB_MAX_NDIM], n = 0;
  for (int d = 0; d < l->ndim; d++)
    if (l->shape[d] > 1)
      order[n++] = d;
  for (int i = 1; i < n; i++)
    for (int k = i; k > 0 && llabs(l->strides[order[k]]) <
                                 llabs(l->strides[order[k - 1]]); k--) {
      int t = order[k];
      order[k] = order[k - 1];
      order[k - 1] = t;
    }
  int64_t span = 1;
  for (int i = 0; i < n; i++) {
    int64_t s = llabs(l->strides[order[i]]);
    if (s < span)
      return 0;
    span += s * (l->shape[order[i]] - 1);
  }
  return 1;
}

/* Whether l reaches every element of a, in C order. */
static int layout_whole(const cb_layout *l, const cb_array *a) {
  cb_layout w;
  cb_layout_of(a, &w);
  if (l->offset != 0 || l->ndim != w.ndim)
    return 0;
  for (int d = 0; d < l->ndim; d++)
    if (l->shape[d] != w.shape[d] ||
        (l->shape[d] > 1 && l->strides[d] != w.strides[d]))
      return 0;
  return 1;
}

static void release_copy(cb__job *j) { free(j->payload); }

/* A job copying count elements of src that from reaches into the
 * elements of dst (tiles tile0 to tile0 + ntiles; -1: all) that to
 * reaches, to's offset counted from tile0's first element. */
static cb__job *copy_job(cb_array *src, const cb_layout *from, cb_array *dst,
                         const cb_layout *to, int64_t count, int device,
                         int tile0, int ntiles, int *rc) {
  cb__layout_copy *c = calloc(1, sizeof *c);
  cb__job *j = c ? cb__job_new("copy", 2) : NULL;
  if (!j) {
    free(c);
    *rc = cb__fail(CB_ENOMEM, "out of host memory");
    return NULL;
  }
  *c = (cb__layout_copy){.ndim = from->ndim, .from_offset = from->offset,
                         .to_offset = to->offset, .count = count,
                         .elem = (int)cb_dtype_size(src->dtype)};
  for (int d = 0; d < from->ndim; d++) {
    c->shape[d] = from->shape[d];
    c->from[d] = from->strides[d];
    c->to[d] = to->strides[d];
  }
  j->payload = c;
  j->release = release_copy;
  j->ctx.device = device;
  j->ctx.busy_device = device;
  j->run_cpu = cb__layout_copy_cpu;
  j->run_opencl = cb__layout_copy_opencl;
  int mode = ntiles < 0 && layout_whole(to, dst) ? CB__WRITE
             : ntiles < 0                        ? CB__READWRITE
                                                 : CB__WRITE;
  if ((*rc = cb__job_set_arg(j, 0, src, CB__READ)) ||
      (*rc = cb__job_set_arg_tiles(j, 1, dst, mode, tile0, ntiles))) {
    cb__job_free(j);
    return NULL;
  }
  return j;
}

/* Where a copy on device may run. */
static unsigned copy_where(int device) {
  if (device < 0)
    return STARPU_CPU | STARPU_OPENCL;
  return cb__devices[device].opencl_devid >= 0 ? STARPU_OPENCL : STARPU_CPU;
}

/* A copy into the whole of dst, which CPU workers run, as one task per
 * tile of dst, so that they share it; 1 when it was so (rc then says how
 * it went), 0 when one task does it. */
static int submit_by_tiles(cb_array *src, const cb_layout *from,
                           cb_array *dst, const cb_layout *to, int device,
                           int *rc) {
  int64_t row = cb__array_row(dst);
  if (dst->ntiles < 2 || from->ndim < 1 || dst->tile_elems % row ||
      !layout_whole(to, dst) || cb__dist_on || !cb__lazy_cpu_only(device))
    return 0;
  /* Submitted together, as one operation, after the copies of dst's
   * views (lazy.h). */
  cb__lazy_begin();
  cb_event *e = NULL;
  if ((*rc = cb__lazy_before_write(dst)) == 0 &&
      !(e = cb__event_new(dst->ntiles)))
    *rc = cb__fail(CB_ENOMEM, "out of host memory");
  if (*rc) {
    cb__lazy_end();
    return 1;
  }
  cb__array_set_writer(dst, e);
  int64_t rows = dst->tile_elems / row;
  *rc = 0;
  for (int t = 0; t < dst->ntiles && *rc == 0; t++) {
    /* The rows of tile t: from's part, and dst's from the tile's start. */
    cb_layout part = *from, mine = *to;
    int64_t r0 = t * rows;
    part.shape[0] = mine.shape[0] = r0 + rows < from->shape[0]
                                        ? rows
                                        : from->shape[0] - r0;
    part.offset += r0 * from->strides[0];
    mine.offset = 0;
    cb__job *j = copy_job(src, &part, dst, &mine, part.shape[0] * row,
                          device, t, 1, rc);
    /* A job that cannot be submitted signals its part itself. */
    int gone = j != NULL;
    if (j)
      *rc = cb__job_submit_part(j, "copy", STARPU_CPU, device, e);
    if (*rc)
      cb__submit_abandon(dst, e, device, "copy", t,
                         dst->ntiles - t - gone, *rc);
  }
  cb__lazy_end();
  cb_event_unref(e);
  return 1;
}

int cb__layout_submit(cb_array *src, const cb_layout *from, cb_array *dst,
                      const cb_layout *to, int64_t count, int device) {
  int rc;
  if (submit_by_tiles(src, from, dst, to, device, &rc))
    return rc;
  cb__job *j = copy_job(src, from, dst, to, count, device, 0, -1, &rc);
  if (!j)
    return rc;
  cb_event *e;
  if ((rc = cb__job_submit(j, "copy", copy_where(device), device, 0, &e)))
    return rc;
  cb_event_unref(e);
  return 0;
}

static int check(cb_array *src, const cb_layout *from, cb_array *dst,
                 const cb_layout *to, int64_t *count) {
  int64_t n_to = 0;
  int rc;
  if (!src || !dst || !from || !to)
    return cb__fail(CB_EINVAL, "copy: missing array or layout");
  if ((rc = layout_count(from, "copy", count)) ||
      (rc = layout_count(to, "copy", &n_to)))
    return rc;
  if (src->dtype != dst->dtype)
    return cb__fail(CB_ETYPE, "copy: the arrays' dtypes differ (%s and %s)",
                    cb_dtype_name(src->dtype), cb_dtype_name(dst->dtype));
  if (from->ndim != to->ndim ||
      memcmp(from->shape, to->shape, sizeof(int64_t) * (size_t)to->ndim))
    return cb__fail(CB_ESHAPE, "copy: the layouts' shapes differ");
  if (*count && (!layout_inside(from, src) || !layout_inside(to, dst)))
    return cb__fail(CB_EINVAL,
                    "copy: a layout reaches outside its array");
  if (!layout_distinct(to))
    return cb__fail(CB_EINVAL,
                    "copy: the destination layout reaches an element "
                    "twice");
  return 0;
}

int cb_copy_layout(cb_array *src, const cb_layout *from, cb_array *dst,
                   const cb_layout *to, int device) {
  int64_t count = 0;
  int rc = check(src, from, dst, to, &count);
  if (rc || count == 0)
    return rc;
  if (src == dst) {
    /* Read everything first, into an array of its own. */
    cb_array *tmp;
    if ((rc = cb_gather(src, from, device, &tmp)))
      return rc;
    cb_layout whole;
    cb_layout_of(tmp, &whole);
    rc = cb_copy_layout(tmp, &whole, dst, to, device);
    cb_array_unref(tmp);
    return rc;
  }
  if ((rc = cb__enter()))
    return rc;
  rc = cb__layout_submit(src, from, dst, to, count, device);
  cb__leave();
  return rc;
}

/* cb__gather_locked; lazy: the copy may be put off (lazy.c), for a
 * caller whose result every use registers first; 2: the result is a view
 * (lazy.h), where views may be made. */
static int gather(cb_array *src, const cb_layout *from, int device,
                  int64_t hint, int lazy, cb_array **out) {
  int64_t count = 0;
  int rc;
  if (!src || !from)
    return cb__fail(CB_EINVAL, "copy: missing array or layout");
  if (cb__lazy_is_view(src)) {
    if (lazy == 2)
      return cb__fail(CB_EINVAL, "view: make views of the array a view "
                      "is of, not of a view");
    /* A copy of a view holds what the view's source holds now. */
    if ((rc = cb__lazy_fill(src)))
      return rc;
    lazy = 0;
  }
  if ((rc = layout_count(from, "copy", &count)))
    return rc;
  if (count && !layout_inside(from, src))
    return cb__fail(CB_EINVAL, "copy: a layout reaches outside its array");
  cb_array *dst;
  rc = cb__array_new_registered(src->dtype, from->ndim, from->shape, device,
                                hint, &dst);
  if (rc == 0 && count) {
    cb_layout to;
    cb_layout_of(dst, &to);
    /* Put off where the result may be read in place: the copy is made
     * only if something else needs it. A small part of a large source is
     * copied at once: put off, it would keep the whole source alive. */
    int put_off = lazy && cb__lazy_allowed() &&
                  (lazy == 2 || 4 * count >= src->size);
    rc = put_off ? cb__lazy_gather(src, from, device, count, lazy == 2, dst)
                 : cb__layout_submit(src, from, dst, &to, count, device);
    if (rc)
      cb_array_unref(dst);
  }
  if (rc == 0)
    *out = dst;
  return rc;
}

int cb__gather_locked(cb_array *src, const cb_layout *from, int device,
                      int64_t hint, cb_array **out) {
  return gather(src, from, device, hint, 0, out);
}

/* gather with the run lock taken (cb_gather: lazy 1; cb_view: 2). */
static int gather_entered(cb_array *src, const cb_layout *from, int device,
                          int lazy, cb_array **out) {
  int rc = cb__enter();
  if (rc)
    return rc;
  rc = gather(src, from, device, 0, lazy, out);
  cb__leave();
  return rc;
}

int cb_gather(cb_array *src, const cb_layout *from, int device,
              cb_array **out) {
  return gather_entered(src, from, device, 1, out);
}

int cb_view(cb_array *src, const cb_layout *from, int device,
            cb_array **out) {
  return gather_entered(src, from, device, 2, out);
}

int cb_view_source(cb_array *a, cb_array **src, cb_layout *from) {
  *src = NULL;
  cb__lazy_view_of(a, src, from);
  return 0;
}

void cb__broadcast_layout(const cb_array *a, int ndim, const int64_t *shape,
                          cb_layout *out) {
  cb_layout own;
  cb_layout_of(a, &own);
  cb__layout_broadcast(&own, ndim, shape, out);
}

void cb__layout_broadcast(const cb_layout *own, int ndim,
                          const int64_t *shape, cb_layout *out) {
  memset(out, 0, sizeof *out);
  out->offset = own->offset;
  out->ndim = ndim;
  for (int d = 0; d < ndim; d++) {
    int k = d - (ndim - own->ndim);
    out->shape[d] = shape[d];
    out->strides[d] = k >= 0 && own->shape[k] == shape[d] && shape[d] != 1
                          ? own->strides[k]
                          : 0;
  }
}

/* shape as NumPy writes it in messages: "(2,3)". */
static size_t shape_text(int ndim, const int64_t *shape, char *buf,
                         size_t cap) {
  size_t len = 0;
  cb__put(buf, cap, &len, "(");
  for (int d = 0; d < ndim; d++)
    cb__put(buf, cap, &len, "%s%lld", d ? "," : "", (long long)shape[d]);
  cb__put(buf, cap, &len, ndim == 1 ? ",)" : ")");
  return len;
}

int cb__broadcast_shape(const char *op, int n, const int *ndims,
                        const int64_t *const *shapes, int *ndim,
                        int64_t *shape) {
  int nd = 0;
  for (int i = 0; i < n; i++)
    if (ndims[i] > nd)
      nd = ndims[i];
  for (int d = 0; d < nd; d++)
    shape[d] = 1;
  for (int i = 0; i < n; i++)
    for (int k = 0; k < ndims[i]; k++) {
      int d = k + nd - ndims[i];
      int64_t v = shapes[i][k];
      if (v == shape[d] || v == 1)
        continue;
      if (shape[d] != 1)
        goto mismatch;
      shape[d] = v;
    }
  *ndim = nd;
  return 0;
mismatch:;
  char text[512];
  size_t len = 0;
  for (int i = 0; i < n && len < sizeof text; i++) {
    if (i)
      cb__put(text, sizeof text, &len, " ");
    if (len < sizeof text)
      len += shape_text(ndims[i], shapes[i], text + len, sizeof text - len);
  }
  return cb__fail(CB_ESHAPE,
                  "%s: operands could not be broadcast together with "
                  "shapes %s", op, text);
}
