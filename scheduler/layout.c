/*
 * Layout copies: a strided part of one array copied into a strided part
 * of another (or a new array), as one job over both arrays, or one job
 * per tile written where the copy reaches rows. Transposes,
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

/* A job copying count elements of src that from reaches (counted from
 * tile src0's first element; nsrc tiles, -1: all) into the elements of
 * dst that to reaches (counted from tile tile0's first element; ntiles
 * tiles, -1: all), in mode (CB__WRITE, CB__OVERWRITE, CB__READWRITE). */
static cb__job *copy_job(cb_array *src, const cb_layout *from, int src0,
                         int nsrc, cb_array *dst, const cb_layout *to,
                         int tile0, int ntiles, int mode, int64_t count,
                         int device, int *rc) {
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
  if ((*rc = cb__job_set_arg_tiles(j, 0, src, CB__READ, src0, nsrc)) ||
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

/* Whether to reaches rows of dst (of row elements) in order, the same
 * part of each: its dimensions after the first are at most dst's, at
 * dst's strides, and that part lies inside a row. Then [*r0, *r1) are the
 * rows, and *full says whether to reaches them whole. */
static int reaches_rows(const cb_layout *to, const cb_array *dst,
                        int64_t row, int64_t *r0, int64_t *r1, int *full) {
  cb_layout w;
  cb_layout_of(dst, &w);
  if (to->ndim < 1 || to->ndim != w.ndim || row <= 0 || to->offset < 0)
    return 0;
  int64_t last = to->offset % row;
  *full = last == 0;
  for (int d = 0; d < to->ndim; d++) {
    if ((to->shape[d] > 1 && to->strides[d] != w.strides[d]) ||
        (d > 0 && (to->shape[d] < 1 || to->shape[d] > w.shape[d])))
      return 0;
    if (d > 0) {
      *full &= to->shape[d] == w.shape[d];
      last += (to->shape[d] - 1) * w.strides[d];
    }
  }
  if (last >= row)
    return 0;
  *r0 = to->offset / row;
  *r1 = *r0 + to->shape[0];
  return 1;
}

/* How far below and above its first element l reaches (l not empty),
 * over its dimensions from d0 on. */
static void layout_extent(const cb_layout *l, int d0, int64_t *below,
                          int64_t *above) {
  *below = *above = 0;
  for (int d = d0; d < l->ndim; d++) {
    int64_t ext = (l->shape[d] - 1) * l->strides[d];
    if (ext < 0)
      *below += ext;
    else
      *above += ext;
  }
}

void cb__layout_tiles(const cb_layout *l, const cb_array *a, int64_t *first,
                      int64_t *last) {
  int64_t below, above;
  layout_extent(l, 0, &below, &above);
  *first = (l->offset + below) / a->tile_elems;
  *last = (l->offset + above) / a->tile_elems;
}

/* A piece of a copy into rows [r0, r1) of dst (tiles of rows rows of row
 * elements): rows [lo, hi) of dst, all in its tile t, read from tiles
 * first to last of src. */
typedef struct piece {
  int t;
  int64_t lo, hi, first, last;
} piece;

/* The layouts of piece p: from's rows, counted from src's tile p->first,
 * and dst's, counted from the start of tile p->t. */
static void piece_layouts(const piece *p, const cb_layout *from,
                          const cb_layout *to, const cb_array *src,
                          int64_t r0, int64_t rows, int64_t row,
                          cb_layout *pf, cb_layout *pt) {
  *pf = *from;
  *pt = *to;
  pf->shape[0] = pt->shape[0] = p->hi - p->lo;
  pf->offset += (p->lo - r0) * from->strides[0] - p->first * src->tile_elems;
  pt->offset = (p->lo - (int64_t)p->t * rows) * row + to->offset % row;
}

/* Splits rows [lo, hi) of dst's tile t into pieces that read one tile of
 * src each, as far as from's rows allow (on OpenCL devices a piece that
 * reads several is gathered into one buffer first): rows that follow at
 * a positive stride, each within one tile of src (one: in one piece).
 * Appends them to ps; returns how many. */
static int split_rows(const cb_layout *from, const cb_array *src,
                      int64_t r0, int t, int64_t lo, int64_t hi, int one,
                      piece *ps) {
  cb_layout f = *from;
  f.shape[0] = hi - lo;
  f.offset += (lo - r0) * from->strides[0];
  int64_t s0 = from->strides[0], lo_ext, hi_ext, n = 0;
  layout_extent(from, 1, &lo_ext, &hi_ext);
  for (int64_t i = 0; i < hi - lo;) {
    int64_t k = (f.offset + i * s0 + lo_ext) / src->tile_elems;
    /* The last row that ends in tile k. */
    int64_t room = (k + 1) * src->tile_elems - 1 - hi_ext - f.offset;
    int64_t end = s0 > 0 && room >= 0 ? room / s0 + 1 : -1;
    if (one || end <= i) {
      /* The rest in one piece. */
      piece p = {.t = t, .lo = lo + i, .hi = hi};
      cb_layout rest = f;
      rest.shape[0] = hi - lo - i;
      rest.offset += i * s0;
      cb__layout_tiles(&rest, src, &p.first, &p.last);
      ps[n++] = p;
      break;
    }
    if (end > hi - lo)
      end = hi - lo;
    ps[n++] = (piece){.t = t, .lo = lo + i, .hi = lo + end, .first = k,
                      .last = k};
    i = end;
  }
  return (int)n;
}

/* A copy into rows of dst (the same part of each: whole rows, or the
 * columns of one input of a concatenation), as jobs over one tile of dst
 * each and the tiles of src its rows read (on OpenCL devices, pieces of
 * the tile that read one tile of src each, where rows allow): the jobs
 * run side by side and move no more than they copy (a job over whole
 * arrays gathers them on OpenCL devices, and reads and writes the rest
 * of dst back). A tile that the copy writes whole is not read; dst's
 * readers wait for its earlier writer too. 1 when it was so (rc then
 * says how it went), 0 when one job over the arrays does it: dst has one
 * tile, or its tiles cut rows, or the jobs would read a tile of src more
 * than once or twice in all (a transpose, on an OpenCL device, which
 * gathers what each job reads), or the arrays are distributed. */
static int submit_by_rows(cb_array *src, const cb_layout *from,
                          cb_array *dst, const cb_layout *to, int device,
                          int *rc) {
  int64_t row = cb__array_row(dst), r0, r1;
  int full;
  /* Tiled for device first (a new array is not yet); if that fails, the
   * one job fails the same way and says why. */
  if (cb__array_register(dst, device) || cb__array_register(src, device))
    return 0;
  if (dst->ntiles < 2 || from->ndim < 1 || row <= 0 ||
      dst->tile_elems % row ||
      !reaches_rows(to, dst, row, &r0, &r1, &full) || cb__dist_on)
    return 0;
  int64_t rows = dst->tile_elems / row, nrows = dst->size / row;
  int t0 = (int)(r0 / rows), t1 = (int)((r1 - 1) / rows);
  int cpu = cb__lazy_cpu_only(device);
  int whole = full && r0 == 0 && r1 == nrows;
  /* At most one piece more per tile of dst than the tiles of src. */
  piece *ps = malloc(sizeof *ps * (size_t)(2 * (t1 - t0 + 1) + src->ntiles));
  if (!ps)
    return 0;
  int np = 0;
  for (int t = t0; t <= t1; t++) {
    int64_t lo = (int64_t)t * rows > r0 ? (int64_t)t * rows : r0;
    int64_t hi = (int64_t)(t + 1) * rows < r1 ? (int64_t)(t + 1) * rows : r1;
    np += split_rows(from, src, r0, t, lo, hi, cpu, ps + np);
  }
  if (!cpu) { /* OpenCL devices gather what each job reads */
    int64_t reads = 0, first, last;
    for (int i = 0; i < np; i++)
      reads += ps[i].last - ps[i].first + 1;
    cb__layout_tiles(from, src, &first, &last);
    if (reads > last - first + 1 + (t1 - t0 + 1)) {
      free(ps);
      return 0;
    }
  }
  /* Submitted together, as one operation, after the copies of dst's
   * views (lazy.h). */
  cb__lazy_begin();
  cb_event *e = NULL, *before = NULL;
  if ((*rc = cb__lazy_before_write(dst)) == 0) {
    before = whole ? NULL : cb_array_writer(dst);
    if (before && cb_event_done(before)) {
      cb_event_unref(before);
      before = NULL;
    }
    if (!(e = cb__event_new(np + (before != NULL))))
      *rc = cb__fail(CB_ENOMEM, "out of host memory");
    else if (before && (*rc = cb__event_signal_after(e, before)))
      cb_event_unref(e);
  }
  cb_event_unref(before);
  if (*rc) {
    cb__lazy_end();
    free(ps);
    return 1;
  }
  cb__array_set_writer(dst, e);
  for (int i = 0; i < np && *rc == 0; i++) {
    const piece *p = &ps[i];
    int64_t start = (int64_t)p->t * rows;
    int64_t end = start + rows < nrows ? start + rows : nrows;
    /* The first piece of a tile that the copy writes whole reads nothing
     * of it; the pieces after it add to what it wrote. */
    int mode = i > 0 && ps[i - 1].t == p->t   ? CB__READWRITE
               : whole                        ? CB__WRITE
               : full && r0 <= start && r1 >= end ? CB__OVERWRITE
                                                  : CB__READWRITE;
    cb_layout pf, pt;
    piece_layouts(p, from, to, src, r0, rows, row, &pf, &pt);
    int64_t count = 0;
    cb__job *j = NULL;
    if ((*rc = layout_count(&pt, "copy", &count)) == 0)
      j = copy_job(src, &pf, (int)p->first, (int)(p->last - p->first + 1),
                   dst, &pt, p->t, 1, mode, count, device, rc);
    /* A job that cannot be submitted signals its part itself. */
    int gone = j != NULL;
    if (j)
      *rc = cb__job_submit_part(j, "copy", copy_where(device), device,
                                p->t, e);
    if (*rc)
      cb__submit_abandon(dst, e, device, "copy", i, np - i - gone, *rc);
  }
  cb__lazy_end();
  cb_event_unref(e);
  free(ps);
  return 1;
}

int cb__layout_submit(cb_array *src, const cb_layout *from, cb_array *dst,
                      const cb_layout *to, int64_t count, int device) {
  int rc;
  if (submit_by_rows(src, from, dst, to, device, &rc))
    return rc;
  int mode = layout_whole(to, dst) ? CB__WRITE : CB__READWRITE;
  cb__job *j = copy_job(src, from, 0, -1, dst, to, 0, -1, mode, count,
                        device, &rc);
  if (!j)
    return rc;
  /* On a device set, where the result's first tile lives (its only one
   * when it has one). */
  cb_event *e;
  if ((rc = cb__job_submit(j, "copy", copy_where(device), device, 0, 0,
                           &e)))
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
