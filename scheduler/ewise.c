/*
 * Element-wise submission: one StarPU task per tile of the result. Inputs
 * of another dtype than the loop's go through a cast task first; 0-D
 * arrays and scalars are broadcast (stride 0).
 */
#include <stdlib.h>
#include <string.h>

#include "distributed.h"
#include "arrays.h"
#include "batch.h"
#include "devices.h"
#include "devloss.h"
#include "devtab.h"
#include "drivers.h"
#include "errors.h"
#include "events.h"
#include "ewise.h"
#include "layout.h"
#include "promote.h"
#include "shapes.h"
#include "ewise_codelets.h"
#include "failure.h"
#include "fused.h"
#include "half.h"
#include "runtime.h"
#include "task_end.h"
#include "jobs.h"
#include "lazy.h"

static int arity(cb_op_kind k) {
  switch (k) {
  case CB_KIND_FILL:
  case CB_KIND_ARANGE:
    return 0;
  case CB_KIND_UNARY:
  case CB_KIND_PART:
  case CB_KIND_MATH:
  case CB_KIND_TEST:
  case CB_KIND_CAST:
    return 1;
  case CB_KIND_WHERE:
    return 3;
  default:
    return 2;
  }
}

/* A scalar as the dtype to a loop reads it as. v holds a double when
 * from is a float dtype, two (its parts) when from is complex, else an
 * integer: the bits of a uint64 for CB_UINT64, an int64 for the others.
 * A complex value becomes another dtype as NumPy casts it: bool says
 * whether either part is not 0, the others take the real part. */
static cb__value to_value(cb_scalar v, cb_dtype from, cb_dtype to) {
  /* Every byte zeroed, not the first member's alone: fused programs
   * compare their constants byte by byte. */
  cb__value out;
  memset(&out, 0, sizeof out);
  if (cb__dtype_class(from) == 'C') {
    if (to == CB_BOOL) {
      out.b = v.c[0] != 0 || v.c[1] != 0;
      return out;
    }
    double im = v.c[1];
    v = (cb_scalar){.f = v.c[0]};
    from = CB_FLOAT64;
    if (to == CB_COMPLEX64 || to == CB_COMPLEX128) {
      out = to_value(v, from, to);
      if (to == CB_COMPLEX64)
        out.c64.im = (float)im;
      else
        out.c128.im = im;
      return out;
    }
  }
  int isf = cb__dtype_class(from) == 'F';
  double d = isf ? v.f
             : from == CB_UINT64 ? (double)(uint64_t)v.i
                                 : (double)v.i;
  /* A double truncated towards zero; one beyond the integers (NaN too),
   * whose conversion C leaves undefined, gives INT64_MIN, as x86-64
   * does. Integers narrow by keeping their low bits, as NumPy's casts. */
  uint64_t u = !isf                         ? (uint64_t)v.i
               : d >= -0x1p63 && d < 0x1p63 ? (uint64_t)(int64_t)d
               : d >= 0x1p63 && d < 0x1p64  ? (uint64_t)d
                                            : (uint64_t)INT64_MIN;
  switch (to) {
  case CB_BOOL:
    out.b = isf ? d != 0 : u != 0;
    break;
  case CB_INT8:
    out.i8 = (int8_t)u;
    break;
  case CB_INT16:
    out.i16 = (int16_t)u;
    break;
  case CB_INT32:
    out.i32 = (int32_t)u;
    break;
  case CB_INT64:
    out.i64 = (int64_t)u;
    break;
  case CB_UINT8:
    out.u8 = (uint8_t)u;
    break;
  case CB_UINT16:
    out.u16 = (uint16_t)u;
    break;
  case CB_UINT32:
    out.u32 = (uint32_t)u;
    break;
  case CB_UINT64:
    out.u64 = u;
    break;
  case CB_FLOAT32:
    out.f32 = (float)d;
    break;
  case CB_COMPLEX64:
    out.c64 = (cb_complex64){(float)d, 0};
    break;
  case CB_COMPLEX128:
    out.c128 = (cb_complex128){d, 0};
    break;
  case CB_FLOAT16:
    out.f16 = cb__double_to_half(d);
    break;
  default:
    out.f64 = d;
  }
  return out;
}

cb__value cb__scalar_value(const cb_operand *x, cb_dtype want) {
  /* A huge int is held as a double (weak 2), or as the bits of a uint64
   * (weak 3). */
  return to_value(x->value,
                  x->weak == 2   ? CB_FLOAT64
                  : x->weak == 3 ? CB_UINT64
                                 : x->dtype,
                  want);
}

static void release_task(void *arg) {
  cb__task *t = arg;
  cb__ctx_drop_refs(&t->ctx, t->arrays, t->narrays);
  if (t->slab)
    cb__batch_release(t);
  else
    free(t);
}

/* A tile's task ended: its operation's event learns whether the output
 * was marked failed. */
static void task_done(void *arg) {
  cb__task *t = arg;
  cb__ctx_end(&t->ctx, release_task, t);
}

void cb__place(struct starpu_task *task, int device, unsigned turn, int tile,
               int uses_f64) {
  if (device >= 0) {
    device = cb__device_for_tile(device, tile >= 0 ? (unsigned)tile : turn);
    const cb__device *d = &cb__devices[device];
    task->execute_on_a_specific_worker = 1;
    task->workerid = (unsigned)(d->nworkers == 1
                                    ? d->workers[0]
                                    : cb__drivers_pick(d->workers,
                                                       d->nworkers, turn));
    return;
  }
  /* The scheduler chooses among the workers of devices not lost, even
   * when one is lost while the task waits; CPU workers, which are never
   * lost, keep that choice from ever being empty. */
  unsigned where = task->where == -1 ? task->cl->where
                                     : (unsigned)task->where;
  if ((where & STARPU_CPU) && starpu_cpu_worker_get_count() > 0) {
    task->workerids = cb__alive_workers;
    task->workerids_len = cb__alive_words;
  }
  if (!uses_f64 || starpu_cpu_worker_get_count() == 0)
    return;
  for (int i = 0; i < cb__ndevices; i++)
    if (!cb__devices[i].info.fp64)
      task->where = STARPU_CPU;
}

/* Submitting stopped at tile: tiles before it run, so the result is marked
 * failed, and the event counts the rest as failed parts, so that nobody
 * waits for them. Returns rc. */
static int abandon(const cb__task *proto, cb_array *out, int tile, int rc) {
  return cb__submit_abandon(out, out->writer, proto->ctx.device,
                            proto->ctx.name, tile, out->ntiles - tile, rc);
}

/* The tiles of a, read through lay (over a result of rows of row
 * elements) by the task of the result's tile at element base and n
 * elements on: first to last. */
static void strided_span(const cb_array *a, const cb_layout *lay,
                         int64_t row, int64_t base, int64_t n,
                         int64_t *first, int64_t *last) {
  if (a->ntiles <= 1) {
    *first = *last = 0;
    return;
  }
  /* lay's rows that the task reads. */
  int64_t r0 = base / row, r1 = (base + n + row - 1) / row;
  cb_layout rows = *lay;
  rows.shape[0] = r1 - r0;
  rows.offset += r0 * lay->strides[0];
  cb__layout_tiles(&rows, a, first, last);
}

/* Submits one task per tile of out, in batch b (NULL: alone), out's writer
 * a new event unless !event. in[i] is NULL for scalars; an operand of
 * kind CB__IN_STRIDED is read through lay[i]. Holds the run lock. */
static int submit_tiles_locked(cb__batch *b, int event,
                               const cb__task *proto, cb_array *const *in,
                               const cb_layout *lay, cb_array *out) {
  static atomic_uint turns;
  unsigned first = atomic_fetch_add_explicit(&turns, 1, memory_order_relaxed);
  int rc = cb__lazy_before_write(out);
  if (rc)
    return rc;
  cb_event_unref(out->writer); /* written over in place: the former's */
  out->writer = event ? cb__event_new(out->ntiles) : NULL;
  if (event && !out->writer)
    return cb__fail(CB_ENOMEM, "out of host memory");
  int uses_f64 = cb__dtype_fp64(proto->out_dtype) ||
                 (proto->prog && cb__fprog_uses_f64(proto->prog));
  for (int k = 0; k < proto->nin; k++)
    uses_f64 |= cb__dtype_fp64(proto->in_dtype[k]);
  for (int tile = 0; tile < out->ntiles; tile++) {
    cb__task *t = NULL;
    struct starpu_task *task = NULL;
    if (b) {
      rc = cb__batch_task(b, &t, &task);
    } else if (!(t = malloc(sizeof *t)) || !(task = starpu_task_create())) {
      free(t);
      rc = cb__fail(CB_ENOMEM, "out of host memory");
    }
    if (rc)
      return abandon(proto, out, tile, rc);
    struct cb__slab *slab = b ? t->slab : NULL;
    *t = *proto;
    t->slab = slab;
    cb__ctx_set_event(&t->ctx, out->writer);
    if (t->ctx.event)
      cb__event_ref(t->ctx.event);
    t->base = (int64_t)tile * out->tile_elems;
    t->n = out->size - t->base < out->tile_elems ? out->size - t->base
                                                 : out->tile_elems;
    t->narrays = 0;
    int nbuf = 0, inplace = 0, strided = 0, wide_span = 0;
    starpu_data_handle_t *handles = task->handles;
    enum starpu_data_access_mode *modes = task->modes;
    int64_t span[CB__MAX_OPERANDS][2];
    for (int k = 0; k < proto->nin; k++) {
      if (in[k] && proto->in_kind[k] == CB__IN_STRIDED) {
        strided_span(in[k], &lay[k], cb__array_row(out), t->base, t->n,
                     &span[k][0], &span[k][1]);
        nbuf += (int)(span[k][1] - span[k][0] + 1);
        strided = 1;
        wide_span |= span[k][1] > span[k][0];
      } else {
        nbuf += in[k] && in[k] != out;
      }
    }
    if (strided &&
        (rc = cb__task_buffers(task, nbuf + 1, &handles, &modes))) {
      if (b)
        starpu_task_clean(task); /* its block frees it */
      else
        cb__task_discard(task);
      release_task(t);
      return abandon(proto, out, tile, rc);
    }
    nbuf = 0;
    for (int k = 0; k < proto->nin; k++) {
      if (!in[k])
        continue;
      if (proto->in_kind[k] == CB__IN_STRIDED) {
        /* Its tiles from the first that the task's elements reach. */
        int64_t t0 = span[k][0];
        t->strided[k].offset = lay[k].offset - t0 * in[k]->tile_elems;
        t->strided[k].ntiles = (int)(span[k][1] - t0 + 1);
        for (int64_t i = t0; i <= span[k][1]; i++) {
          handles[nbuf] = in[k]->tiles[i];
          modes[nbuf++] = STARPU_R;
        }
        cb_array_ref(in[k]);
        t->arrays[t->narrays++] = in[k];
        continue;
      }
      if (in[k] == out) {
        t->in_kind[k] = CB__IN_OUT;
        inplace = 1;
        continue;
      }
      int elem = in[k]->ntiles == 1 && in[k]->size == 1 && out->size > 1;
      int row = proto->in_kind[k] == CB__IN_ROW;
      t->in_kind[k] = row ? CB__IN_ROW : elem ? CB__IN_ELEM : CB__IN_TILE;
      handles[nbuf] = in[k]->tiles[elem || row ? 0 : tile];
      modes[nbuf++] = STARPU_R;
      cb_array_ref(in[k]);
      t->arrays[t->narrays++] = in[k];
    }
    handles[nbuf] = out->tiles[tile];
    modes[nbuf++] = inplace ? STARPU_RW : STARPU_W;
    cb_array_ref(out);
    t->arrays[t->narrays++] = out;
    t->ctx.task = task;
    t->ctx.in = t->arrays;
    t->ctx.nin = t->narrays - !inplace; /* written in place: read too */
    t->ctx.out = &t->arrays[t->narrays - 1];
    t->ctx.nout = 1;
    task->nbuffers = nbuf;
    task->cl = proto->prog ? &cb__fused_codelet
                           : &cb__ew_codelets[proto->op];
    task->cl_arg = t;
    task->cl_arg_size = sizeof *t;
    task->callback_func = task_done;
    task->callback_arg = t;
    if (wide_span) /* OpenCL kernels read one tile of an operand */
      task->where = STARPU_CPU;
    cb__place(task, proto->ctx.device, first + (unsigned)tile, tile,
              uses_f64);
    int worker = cb__task_worker(task);
    cb__busy_begin_on(t->ctx.busy_device, worker);
    int sp = cb__task_submit(task);
    if (sp) {
      cb__busy_end_on(t->ctx.busy_device, worker);
      task->callback_func = NULL;
      if (b)
        starpu_task_clean(task); /* its block frees it */
      else
        cb__task_discard(task);
      release_task(t);
      rc = cb__fail(sp == -ENODEV ? CB_ENODEV : CB_ESTARPU,
                    "%s: no worker can run this task (%d)",
                    proto->ctx.name, sp);
      return abandon(proto, out, tile, rc);
    }
  }
  return rc;
}

/* submit_tiles_locked, its tasks submitted together: no other thread's
 * view of these arrays is filled, nor another write of them submitted,
 * between two of them (lazy.h), so the operation reads and writes as if
 * it happened at once. */
static int submit_tiles(cb__batch *b, int event, const cb__task *proto,
                        cb_array *const *in, const cb_layout *lay,
                        cb_array *out) {
  cb__lazy_begin();
  int rc = submit_tiles_locked(b, event, proto, in, lay, out);
  cb__lazy_end();
  return rc;
}

int cb__check_device(int device, cb_dtype t) {
  if (device < -1 || (device >= 0 && !cb__device_valid(device)))
    return cb__fail(CB_ENODEV, "no device %d", device);
  int rc = cb__device_usable(device);
  if (rc)
    return rc;
  if (device >= 0 && cb__dtype_fp64(t) && !cb__devices[device].info.fp64)
    return cb__fail(CB_ETYPE, "device %s does not support %s",
                    cb__devices[device].info.filter_string,
                    cb_dtype_name(t));
  return 0;
}

/* A shape, with its number of elements. */
typedef struct cb__shape {
  int ndim;
  int64_t shape[CB_MAX_NDIM];
  int64_t size;
} cb__shape;

static int same_shape(const cb_array *a, const cb__shape *s) {
  return a->ndim == s->ndim &&
         !memcmp(a->shape, s->shape, sizeof(int64_t) * (size_t)a->ndim);
}

/* Whether the result, tiled as tile says, may be written over reuse. */
static int reusable(const cb_array *reuse, cb_dtype result,
                    const cb__shape *shaped, int64_t tile) {
  return reuse && reuse->dtype == result && reuse->ntiles > 0 &&
         reuse->tile_elems == tile && same_shape(reuse, shaped);
}

/* A comparison with a Python integer beyond the range of the integer
 * dtype compared in (operand stray, found by cb__ewise_types_ex) answers
 * by value, as NumPy's: every element is below it, or above. The
 * operation becomes one of the same shape whose answer is that constant
 * (x == x, or x != x, on integers); a logical one takes the integer as
 * true. Returns the operation to run over adj (two operands). */
static cb_op settle_stray(cb_op op, const cb_operand *x, int stray,
                          cb_operand *adj) {
  adj[0] = x[0];
  adj[1] = x[1];
  if (op == CB_OP_logical_and || op == CB_OP_logical_or ||
      op == CB_OP_logical_xor) {
    adj[stray] = (cb_operand){.device = -1, .dtype = CB_INT64, .weak = 1,
                              .value.i = 1};
    return op;
  }
  int above = cb__weak_above(&x[stray]);
  if (stray == 0) /* s < x is x > s */
    op = op == CB_OP_less            ? CB_OP_greater
         : op == CB_OP_greater       ? CB_OP_less
         : op == CB_OP_less_equal    ? CB_OP_greater_equal
         : op == CB_OP_greater_equal ? CB_OP_less_equal
                                     : op;
  int answer = op == CB_OP_not_equal ||
               ((op == CB_OP_less || op == CB_OP_less_equal) && above) ||
               ((op == CB_OP_greater || op == CB_OP_greater_equal) &&
                !above);
  adj[stray] = x[1 - stray];
  return answer ? CB_OP_equal : CB_OP_not_equal;
}

/* Rows shorter than this are copied out instead: a loop a row would cost
 * more than the copy. */
#define CB__MIN_ROW 64

/* Whether a, broadcast to shape, repeats itself along the result: its
 * shape, leading 1s aside, is shape's last dimensions (so that each run
 * of a->size elements of the result is a whole, and a tile, made of
 * whole rows, starts at one), it has one tile and needs no cast. */
static int repeats_rows(const cb_array *a, const cb__shape *shape,
                        cb_dtype want) {
  int lead = 0;
  while (lead < a->ndim && a->shape[lead] == 1)
    lead++;
  int k = a->ndim - lead;
  if (k >= shape->ndim || a->size < CB__MIN_ROW || a->ntiles != 1 ||
      a->dtype != want)
    return 0;
  for (int d = 0; d < k; d++)
    if (a->shape[lead + d] != shape->shape[shape->ndim - k + d])
      return 0;
  return 1;
}

/* Whether the result's tiles of tile elements (0: as src's rows say,
 * then set) each read one tile of src through lay, as OpenCL kernels
 * need. Registers src for device. */
static int one_tile_each(cb_array *src, const cb_layout *lay,
                         const cb__shape *shape, int device, int64_t *tile) {
  if (cb__array_register(src, device))
    return 0;
  if (src->ntiles == 1)
    return 1;
  int64_t row = cb__shape_row(shape->ndim, shape->shape);
  int64_t src_row = cb__array_row(src), t = *tile;
  if (!t) {
    /* Rows of the result taken k rows of src apart: as many of them in a
     * tile as k go into src's tiles. */
    int64_t s0 = lay->strides[0];
    if (s0 <= 0 || s0 % src_row || src->tile_elems % src_row)
      return 0;
    t = src->tile_elems / src_row / (s0 / src_row) * row;
  }
  /* No larger than src's tiles, or than CPU workers' largest. */
  if (t <= 0 || t % row ||
      (t > src->tile_elems && t > CB__MAX_TILE_BYTES / 8))
    return 0;
  for (int64_t base = 0; base < shape->size; base += t) {
    int64_t first, last;
    strided_span(src, lay, row, base,
                 shape->size - base < t ? shape->size - base : t, &first,
                 &last);
    if (first != last)
      return 0;
  }
  *tile = t;
  return 1;
}

/* Operands read in place through a layout: arrays that a gather put off
 * would fill (copies put off and views) are read in their source, and
 * operands broadcast along other than their leading dimensions in
 * themselves, instead of a copy each. Once one is, operands broadcast
 * along the leading dimensions are too (the loops do not mix the two).
 * On OpenCL devices, only when each task reads one tile of each: *tile,
 * when not 0, is the result's tiling; else it is set to the tiling that
 * lets the result's tiles read a source of several tiles so. Sets in[i]
 * (a reference), lay[i] and the task's kinds and strides; returns how
 * many. The caller holds the run lock and the lazy lock. */
static int plan_strided(const cb_operand *x, int n, cb_dtype compute,
                        cb_op_kind kind, const cb_array *reuse,
                        const cb__shape *shape, int device, cb_array **in,
                        cb_layout *lay, cb__task *proto, int64_t *tile) {
  int count = 0;
  /* OpenCL kernels do not cast complex values through a layout. */
  int cpu = cb__lazy_cpu_only(device);
  if (kind == CB_KIND_CAST && cb__dtype_class(compute) == 'C' && !cpu)
    return 0;
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < n; i++) {
      cb_array *a = x[i].array, *src = NULL;
      cb_dtype want = (kind == CB_KIND_WHERE && i == 0) ? CB_BOOL : compute;
      if (!a || in[i] || a == reuse || a->dtype != want || a->ndim == 0)
        continue;
      cb_layout from;
      int wide = !same_shape(a, shape);
      if (pass == 0 && cb__lazy_source(a, &src, &from) && src != reuse &&
          (cb__layout_broadcast(&from, shape->ndim, shape->shape, &lay[i]),
           cpu || one_tile_each(src, &lay[i], shape, device, tile))) {
        /* Read in its source. */
      } else if (wide &&
                 (pass == 1 ? count > 0 : !repeats_rows(a, shape, want)) &&
                 (cb__broadcast_layout(a, shape->ndim, shape->shape,
                                       &lay[i]),
                  cpu || one_tile_each(a, &lay[i], shape, device, tile))) {
        src = a;
      } else {
        continue;
      }
      cb_array_ref(src);
      in[i] = src;
      proto->in_kind[i] = CB__IN_STRIDED;
      memcpy(proto->strided[i].strides, lay[i].strides,
             sizeof lay[i].strides);
      count++;
    }
  }
  if (count) {
    proto->ndim = shape->ndim;
    memcpy(proto->shape, shape->shape, sizeof proto->shape);
  }
  return count;
}

/* cb__ewise_in; into: the result must go to reuse, an array of the
 * result's dtype and shape (cb_ewise_into), whose tiles the operands
 * then take. */
static int ewise(cb__batch *b, int event, cb_array *reuse, int into,
                 const cb__fprog *prog, cb_op op, const cb_operand *x, int n,
                 int default_device, int out_dtype, cb_array **out,
                 int *out_device) {
  cb_op_kind kind = cb_op_get_kind(op);
  if ((!prog && n != arity(kind)) || n > CB__MAX_OPERANDS)
    return cb__fail(CB_EINVAL, "%s takes %d operands, got %d",
                    cb_op_name(op), arity(kind), n);
  /* Shape and placement: array operands broadcast to one shape. */
  int ndims[CB__MAX_OPERANDS], narrays = 0;
  const int64_t *shapes[CB__MAX_OPERANDS];
  int device = -1;
  for (int i = 0; i < n; i++) {
    const cb_array *a = x[i].array;
    if (!a)
      continue;
    ndims[narrays] = a->ndim;
    shapes[narrays++] = a->shape;
    if (x[i].device >= 0) {
      if (device >= 0 && device != x[i].device)
        return cb__fail(CB_EPLACE,
                        "%s: operands are on %s and %s; move one with "
                        "to_device()",
                        cb_op_name(op), cb__devices[device].info.filter_string,
                        cb__devices[x[i].device].info.filter_string);
      device = x[i].device;
    }
  }
  if (!narrays)
    return cb__fail(CB_EINVAL, "%s needs at least one array",
                    cb_op_name(op));
  cb__shape shaped;
  int rc = cb__broadcast_shape(cb_op_name(op), narrays, ndims, shapes,
                               &shaped.ndim, shaped.shape);
  if (rc)
    return rc;
  shaped.size = 1;
  for (int d = 0; d < shaped.ndim; d++) {
    if (shaped.shape[d] && shaped.size > INT64_MAX / 16 / shaped.shape[d])
      return cb__fail(CB_ENOMEM, "%s: array too large", cb_op_name(op));
    shaped.size *= shaped.shape[d];
  }
  if (device < 0)
    device = default_device;

  /* Dtypes. A stray operand (settle_stray) takes the place of none that
   * shapes or places the work: the checks above hold for the operands
   * that replace it, kept in adj. */
  cb_dtype compute, result;
  cb_operand adj[CB__MAX_OPERANDS];
  if (prog) {
    /* Its steps' dtypes were settled as it was built. */
    compute = (cb_dtype)prog->steps[prog->nsteps - 1].dtype;
    result = cb__fprog_result(prog);
    if (cb__fprog_uses_f64(prog) &&
        (rc = cb__check_device(device, CB_FLOAT64)))
      return rc;
  } else if (kind == CB_KIND_CAST) {
    if (out_dtype < 0 || out_dtype >= CB_NDTYPES)
      return cb__fail(CB_ETYPE, "cast needs a target dtype");
    compute = cb_array_dtype(x[0].array);
    result = (cb_dtype)out_dtype;
  } else {
    int stray;
    if ((rc = cb__ewise_types_ex(op, x, n, &compute, &result, &stray)))
      return rc;
    if (stray >= 0) {
      op = settle_stray(op, x, stray, adj);
      x = adj;
      if ((rc = cb__ewise_types(op, x, n, &compute, &result)))
        return rc;
    }
  }
  if ((rc = cb__check_device(device, compute)) ||
      (rc = cb__check_device(device, result)))
    return rc;
  if (into && reuse->dtype != result)
    return cb__fail(CB_ETYPE, "%s: cannot write its %s result into an "
                    "array of %s", cb_op_name(op), cb_dtype_name(result),
                    cb_dtype_name(reuse->dtype));
  if (into && !same_shape(reuse, &shaped))
    return cb__fail(CB_ESHAPE, "%s: the array written has another shape "
                    "than the result", cb_op_name(op));

  /* A task keeps its device's drivers awake; when an input is placed
   * elsewhere its data may have to come from another device, whose driver
   * makes that copy: then every driver stays awake. */
  int busy_device = device;
  for (int i = 0; i < n; i++)
    if (x[i].array && x[i].device != device)
      busy_device = -1;
  cb__task proto = {.ctx = {.name = prog ? "fused" : cb_op_name(op),
                            .device = device, .busy_device = busy_device},
                    .op = op, .out_dtype = result, .nin = n, .prog = prog};
  cb_array *in[CB__MAX_OPERANDS] = {NULL};
  cb_array *temps[CB__MAX_OPERANDS] = {NULL};
  cb_layout lay[CB__MAX_OPERANDS];
  /* Views and broadcasts read in place (plan_strided); until their tasks
   * are submitted, no view may be filled by another thread, nor its
   * source written. */
  int strided = shaped.ndim > 0 && shaped.size > 0 && !into && !prog &&
                cb__lazy_allowed();
  /* Tiles follow the data: the result takes the tiles of the first
   * operand of its size (registered now for the device if it was not),
   * or those that let a view of an array of several tiles be read in
   * place on a device (plan_strided); operands tiled otherwise are
   * copied into those tiles first. */
  int64_t tile = 0;
  for (int i = 0; i < n && strided && !tile; i++)
    if (x[i].array && same_shape(x[i].array, &shaped) &&
        !atomic_load(&x[i].array->lazy) &&
        atomic_load(&x[i].array->gen) == cb_generation())
      tile = x[i].array->tile_elems;
  if (strided)
    cb__lazy_begin();
  if (strided &&
      plan_strided(x, n, compute, kind, reuse, &shaped, device, in, lay,
                   &proto, &tile)) {
    for (int i = 0; i < n; i++)
      if (in[i] && (rc = cb__array_register(in[i], device)))
        goto done;
  }
  if (into) {
    if ((rc = cb__array_register(reuse, device)))
      goto done;
    tile = reuse->tile_elems;
  }
  for (int i = 0; i < n; i++) {
    if (!x[i].array)
      continue;
    if (proto.in_kind[i] == CB__IN_STRIDED) {
      /* A view read in place still gives the result its tiles, as its
       * copy would have. */
      if (!tile && same_shape(x[i].array, &shaped) &&
          atomic_load(&x[i].array->gen) == cb_generation())
        tile = x[i].array->tile_elems;
      continue;
    }
    in[i] = x[i].array;
    if ((rc = cb__array_register(in[i], device)))
      goto done;
    if (!tile && same_shape(in[i], &shaped))
      tile = in[i]->tile_elems;
  }
  /* A result is distributed as its first distributed operand of its
   * shape (whose tiles it takes when it is the first of that shape). */
  cb_distribution dist = cb__dist_of(NULL, 0);
  for (int i = 0; i < n; i++)
    if (in[i] && same_shape(in[i], &shaped) && in[i]->tile_elems == tile &&
        in[i]->dist != CB_DIST_NONE) {
      dist = in[i]->dist;
      break;
    }
  /* Distributed, a row read by every tile's task would be sent to every
   * rank: it is copied out there instead. */
  int rows_ok = !cb__dist_on;
  int64_t row_period = 0;
  for (int i = 0; i < n; i++) {
    cb_dtype want = prog ? (cb_dtype)prog->in_dtype[i]
                    : (kind == CB_KIND_WHERE && i == 0) ? CB_BOOL
                                                        : compute;
    proto.in_dtype[i] = want;
    if (proto.in_kind[i] == CB__IN_STRIDED)
      continue;
    if (!x[i].array) {
      proto.in_kind[i] = CB__IN_SCALAR;
      proto.scalar[i] = cb__scalar_value(&x[i], want);
      continue;
    }
    if (in[i]->ndim > 0 && !same_shape(in[i], &shaped) && rows_ok &&
        repeats_rows(in[i], &shaped, want) &&
        (!row_period || in[i]->size == row_period)) {
      /* Broadcast along the leading dimensions only: read in place, once
       * per period of the result. CPU loops run over one period at a
       * time, so rows of another period are copied out instead. */
      proto.in_kind[i] = CB__IN_ROW;
      proto.period[i] = row_period = in[i]->size;
      continue;
    }
    if (in[i]->ndim > 0 && in[i]->size != 1 &&
        !same_shape(in[i], &shaped)) {
      /* An operand broadcast along some dimension is copied out whole
       * first, tiled like the result (one element is read as such). */
      cb_layout wide;
      cb__broadcast_layout(in[i], shaped.ndim, shaped.shape, &wide);
      if ((rc = cb__gather_locked(in[i], &wide, device, tile,
                                    &temps[i])))
        goto done;
      in[i] = temps[i];
    }
    if (in[i]->size == shaped.size && in[i]->tile_elems != tile) {
      if ((rc = cb__array_retile(in[i], device, tile, &temps[i])))
        goto done;
      in[i] = temps[i];
    }
    if (cb_array_dtype(in[i]) != want) {
      cb_operand src = {.array = in[i], .device = x[i].device};
      cb_array *cast;
      int dummy;
      rc = cb__ewise_in(b, 0, NULL, CB_OP_cast, &src, 1, device, (int)want,
                        &cast, &dummy);
      if (rc)
        goto done;
      if (temps[i])
        cb_array_unref(temps[i]);
      in[i] = temps[i] = cast;
    }
  }
  if (reusable(reuse, result, &shaped, tile) || (into && shaped.size == 0)) {
    cb_array_ref(reuse);
    *out = reuse;
    if (shaped.size == 0) { /* nothing to write */
      *out_device = device;
      goto done;
    }
  } else if (into) {
    rc = cb__fail(CB_ESTATE, "%s: the array written is tiled otherwise",
                  cb_op_name(op));
    goto done;
  } else if ((rc = cb__array_new_dist(result, shaped.ndim, shaped.shape,
                                      device, tile, dist, out))) {
    goto done;
  }
  rc = submit_tiles(b, event, &proto, in, lay, *out);
  if (rc) {
    cb_array_unref(*out);
    *out = NULL;
  } else {
    *out_device = device;
  }
done:
  if (strided)
    cb__lazy_end();
  for (int i = 0; i < n; i++) {
    if (temps[i])
      cb_array_unref(temps[i]);
    if (proto.in_kind[i] == CB__IN_STRIDED)
      cb_array_unref(in[i]);
  }
  return rc;
}

int cb__ewise_in(cb__batch *b, int event, cb_array *reuse, cb_op op,
                 const cb_operand *x, int n, int default_device,
                 int out_dtype, cb_array **out, int *out_device) {
  return ewise(b, event, reuse, 0, NULL, op, x, n, default_device,
               out_dtype, out, out_device);
}

int cb__ewise_fused(cb__batch *b, int event, const cb__fprog *prog,
                    const cb_operand *x, int default_device, cb_array **out,
                    int *out_device) {
  for (int i = 0; i < prog->nin; i++)
    if (!x[i].array)
      return cb__fail(CB_EINVAL, "a fused program's inputs are arrays");
  return ewise(b, event, NULL, 0, prog,
               (cb_op)prog->steps[prog->nsteps - 1].op, x, prog->nin,
               default_device, -1, out, out_device);
}

/* cb_ewise alone, into dst when not NULL; try_only: CB_EAGAIN instead of
 * starting or waiting for the runtime. */
static int ewise_alone(int try_only, cb_op op, const cb_operand *x, int n,
                       int default_device, int out_dtype, cb_array *dst,
                       cb_array **out, int *out_device) {
  if ((unsigned)op >= CB_NOPS)
    return cb__fail(CB_EINVAL, "unknown operation %d", (int)op);
  int rc = try_only ? cb__try_enter() : cb__enter();
  if (rc)
    return rc;
  rc = ewise(NULL, 1, dst, dst != NULL, NULL, op, x, n, default_device,
             out_dtype, out, out_device);
  cb__leave();
  return rc;
}

int cb_ewise_nonblocking(cb_op op, const cb_operand *x, int n,
                         int default_device, int out_dtype, cb_array **out,
                         int *out_device) {
  return ewise_alone(1, op, x, n, default_device, out_dtype, NULL, out,
                     out_device);
}

int cb_ewise(cb_op op, const cb_operand *x, int n, int default_device,
             int out_dtype, cb_array **out, int *out_device) {
  return ewise_alone(0, op, x, n, default_device, out_dtype, NULL, out,
                     out_device);
}

int cb_ewise_into(cb_op op, const cb_operand *x, int n, int default_device,
                  int out_dtype, cb_array *dst, int *out_device) {
  if (!dst)
    return cb__fail(CB_EINVAL, "no array to write into");
  cb_array *out = NULL;
  int rc = ewise_alone(0, op, x, n, default_device, out_dtype, dst, &out,
                       out_device);
  if (out)
    cb_array_unref(out); /* dst itself */
  return rc;
}

static int generate(cb__task *proto, int ndim, const int64_t *shape,
                    cb_array **out) {
  int rc = cb__enter();
  if (rc)
    return rc;
  rc = cb__check_device(proto->ctx.device, proto->out_dtype);
  if (rc == 0)
    rc = cb__array_new_registered(proto->out_dtype, ndim, shape,
                                  proto->ctx.device, 0, out);
  if (rc == 0 && (rc = submit_tiles(NULL, 1, proto, NULL, NULL, *out))) {
    cb_array_unref(*out);
    *out = NULL;
  }
  cb__leave();
  return rc;
}

/* Refuses a dtype outside the table before a value is converted for it. */
static int check_dtype(cb_dtype t) {
  return (unsigned)t < CB_NDTYPES
             ? 0
             : cb__fail(CB_ETYPE, "unknown dtype %d", (int)t);
}

int cb_full(cb_dtype t, int ndim, const int64_t *shape, cb_scalar value,
            int device, cb_array **out) {
  int rc = check_dtype(t);
  if (rc)
    return rc;
  cb__task proto = {.ctx = {.name = cb_op_name(CB_OP_fill), .device = device,
                            .busy_device = device},
                    .op = CB_OP_fill, .out_dtype = t};
  char cls = cb__dtype_class(t);
  proto.scalar[0] = to_value(value, cls == 'F'       ? CB_FLOAT64
                                    : cls == 'C'     ? CB_COMPLEX128
                                    : t == CB_UINT64 ? CB_UINT64
                                                     : CB_INT64,
                             t);
  return generate(&proto, ndim, shape, out);
}

int cb_arange(cb_dtype t, int64_t n, cb_scalar start, cb_scalar step,
              int device, cb_array **out) {
  int rc = check_dtype(t);
  if (rc)
    return rc;
  if (!cb__op_accepts(CB_OP_arange, t))
    return cb__fail(CB_ETYPE, "arange is not supported for %s",
                    cb_dtype_name(t));
  cb__task proto = {.ctx = {.name = cb_op_name(CB_OP_arange), .device = device,
                            .busy_device = device},
                    .op = CB_OP_arange, .out_dtype = t};
  cb_dtype from = cb__dtype_class(t) == 'F' ? CB_FLOAT64
                 : t == CB_UINT64            ? CB_UINT64
                                             : CB_INT64;
  proto.start = to_value(start, from, t);
  proto.step = to_value(step, from, t);
  return generate(&proto, 1, &n, out);
}
