/*
 * Reductions as a two-level tree: one task per tile of the input reduces
 * it into a small partial result (a temporary handle that StarPU
 * allocates where the task runs), then one combine task on a CPU worker
 * reads every partial and writes the result. Only the partials move when
 * the tiles live on an OpenCL device.
 *
 * Every task of a reduction shares the result's writer event, which
 * counts the tile tasks and the combine, and carries a context whose
 * output is the result: a failure in any tile marks the result, the
 * combine then does nothing, and readers of the result see the failure.
 */
#include <stdlib.h>
#include <string.h>

#include "distributed.h"
#include "arrays.h"
#include "clasync.h"
#include "devices.h"
#include "devtab.h"
#include "drivers.h"
#include "errors.h"
#include "events.h"
#include "ewise.h"
#include "failure.h"
#include "reduce_codelets.h"
#include "runtime.h"
#include "shapes.h"
#include "task_end.h"
#include "tiles.h"
#include "lazy.h"

static const char *const names[CB_NREDUCE + 1] = {
#define X(name, doc) #name,
    CB_REDUCE_MAP(X)
#undef X
        "dot"};

const char *cb_reduce_name(cb_reduce_op op) {
  return (unsigned)op < CB_NREDUCE ? names[op] : "?";
}

static int is_float(cb_dtype t) { return t == CB_FLOAT32 || t == CB_FLOAT64; }

/* The dtype partials and results take for op over elements of dtype t. */
static cb_dtype part_dtype(int op, cb_dtype t) {
  switch (op) {
  case CB_REDUCE_min:
  case CB_REDUCE_max:
  case CB_REDUCE_argmin: /* the values; their indices go apart */
  case CB_REDUCE_argmax:
    return t;
  case CB_REDUCE_mean:
  case CB_REDUCE_norm:
    return is_float(t) ? t : CB_FLOAT64;
  default: /* sum, dot: unsigned integers sum into uint64 */
    return is_float(t)                                   ? t
           : t == CB_UINT8 || t == CB_UINT16 ||
                     t == CB_UINT32 || t == CB_UINT64 ? CB_UINT64
                                                       : CB_INT64;
  }
}

/* ---- codelets ----------------------------------------------------------- */

static struct starpu_perfmodel tile_models[CB_NREDUCE + 1] = {
#define X(name, doc)                                                         \
  {.type = STARPU_HISTORY_BASED, .symbol = "cambrian_reduce_" #name},
    CB_REDUCE_MAP(X)
#undef X
        {.type = STARPU_HISTORY_BASED, .symbol = "cambrian_reduce_dot"}};

static struct starpu_codelet tile_codelets[CB_NREDUCE + 1] = {
#define X(op, doc)                                                           \
  {.where = STARPU_CPU | STARPU_OPENCL,                                      \
   .cpu_funcs = {cb__reduce_tile_cpu},                                       \
   .opencl_funcs = {cb__reduce_tile_opencl},                                 \
   .opencl_flags = {CB__CL_ASYNC},                                           \
   .nbuffers = STARPU_VARIABLE_NBUFFERS,                                     \
   .model = &tile_models[CB_REDUCE_##op],                                    \
   .name = #op},
    CB_REDUCE_MAP(X)
#undef X
        {.where = STARPU_CPU | STARPU_OPENCL,
         .cpu_funcs = {cb__reduce_tile_cpu},
         .opencl_funcs = {cb__reduce_tile_opencl},
         .opencl_flags = {CB__CL_ASYNC},
         .nbuffers = STARPU_VARIABLE_NBUFFERS,
         .model = &tile_models[CB_NREDUCE],
         .name = "dot"}};

static struct starpu_perfmodel combine_model = {
    .type = STARPU_HISTORY_BASED, .symbol = "cambrian_reduce_combine"};

static struct starpu_codelet combine_codelet = {
    .where = STARPU_CPU,
    .cpu_funcs = {cb__reduce_combine_cpu},
    .nbuffers = STARPU_VARIABLE_NBUFFERS,
    .model = &combine_model,
    .name = "reduce_combine"};

/* ---- submission --------------------------------------------------------- */

static void release_task(void *arg) {
  cb__rtask *t = arg;
  cb__ctx_drop_refs(&t->ctx, t->arrays, t->narrays);
  free(t);
}

static void task_done(void *arg) {
  cb__rtask *t = arg;
  cb__ctx_end(&t->ctx, release_task, t);
}

/* A copy of proto for one task, with its own references. */
static cb__rtask *task_new(const cb__rtask *proto, cb_event *e) {
  cb__rtask *t = malloc(sizeof *t);
  if (!t)
    return NULL;
  *t = *proto;
  for (int i = 0; i < t->narrays; i++)
    cb_array_ref(t->arrays[i]);
  cb__event_ref(e);
  cb__ctx_set_event(&t->ctx, e);
  t->ctx.in = t->arrays;
  t->ctx.nin = t->narrays - 1;
  t->ctx.out = &t->arrays[t->narrays - 1];
  t->ctx.nout = 1;
  return t;
}

/* Columns that a CPU worker's tile task keeps accumulators for, at most:
 * reductions along an axis with more columns are refused, or made along
 * another (reduce_inner_axis). */
#define CB__MAX_COLS ((int64_t)8 << 20)

/* Submitting stopped after submitted tasks: those run, so the result is
 * marked failed, and the event counts the parts that will never run as
 * failed. Returns rc. */
static int abandon(const cb__rtask *proto, cb_array *out, int submitted,
                   int missing, int rc) {
  return cb__submit_abandon(out, out->writer, proto->ctx.device,
                            proto->ctx.name, submitted, missing, rc);
}

static int submit_one(struct starpu_task *task, cb__rtask *t) {
  t->ctx.task = task; /* its end reads the worker it was placed on */
  task->cl_arg = t;
  task->cl_arg_size = sizeof *t;
  task->callback_func = task_done;
  task->callback_arg = t;
  int worker = cb__task_worker(task);
  cb__busy_begin_on(t->ctx.busy_device, worker);
  int sp = cb__task_submit(task);
  if (sp == 0)
    return 0;
  const char *name = names[t->finish];
  cb__busy_end_on(t->ctx.busy_device, worker);
  task->callback_func = NULL;
  cb__task_discard(task);
  release_task(t);
  return cb__fail(sp == -ENODEV ? CB_ENODEV : CB_ESTARPU,
                  "%s: no worker can run this task (%d)", name, sp);
}

/* The elements of a tile's partial result. */
static int64_t part_elems(const cb__rtask *t, int64_t tile_elems) {
  switch (t->mode) {
  case CB__RM_ALL:
    return CB__RCHUNKS;
  case CB__RM_ROWS:
    return tile_elems / t->cols;
  case CB__RM_MID:
    return tile_elems / t->count;
  default:
    return t->cols;
  }
}

/* Submits the tile tasks and the combine. in[] holds nin inputs of equal
 * tiles; the caller holds the run lock. */
static int submit(const cb__rtask *proto, cb_array *const *in, int nin,
                  cb_array *out, int uses_f64) {
  static atomic_uint turns;
  unsigned first = atomic_fetch_add_explicit(&turns, 1, memory_order_relaxed);
  const cb_array *x = in[0];
  int ntiles = x->size ? x->ntiles : 0;
  int rc = 0;
  /* Argmin and argmax have a second partial per tile: the indices. */
  int arg = CB__RF_IS_ARG(proto->family);
  int nper = arg ? 2 : 1;
  starpu_data_handle_t *parts =
      calloc((size_t)nper * ntiles + 1, sizeof *parts);
  out->writer = cb__event_new(ntiles + 1);
  if (!parts || !out->writer) {
    free(parts);
    return cb__fail(CB_ENOMEM, "out of host memory");
  }
  size_t pes = cb_dtype_size(proto->part);
  int tile = 0;
  for (; tile < ntiles; tile++) {
    int64_t n = x->size - (int64_t)tile * x->tile_elems;
    if (n > x->tile_elems)
      n = x->tile_elems;
    cb__rtask *t = task_new(proto, out->writer);
    struct starpu_task *task = t ? starpu_task_create() : NULL;
    if (!task) {
      if (t)
        release_task(t);
      rc = cb__fail(CB_ENOMEM, "out of host memory");
      break;
    }
    t->first = (int64_t)tile * x->tile_elems;
    int nb = 0;
    for (int k = 0; k < nin; k++) {
      task->handles[nb] = in[k]->tiles[tile];
      task->modes[nb++] = STARPU_R;
    }
    for (int j = 0; j < nper; j++) {
      /* A partial lost with a device marks the result: it holds the
       * result until it is unregistered. */
      starpu_data_handle_t *h = &parts[j * ntiles + tile];
      cb_array_ref(out);
      cb__tile_register(h, -1, 0, (uint32_t)part_elems(proto, n),
                        j ? sizeof(int64_t) : pes, 0, out, cb_array_unref);
      /* A partial belongs where its tile is: only partials travel. */
      cb__dist_register(*h,
                        in[0]->dist != CB_DIST_NONE
                            ? cb__dist_owner(in[0]->dist, tile, ntiles)
                            : CB__DIST_REPLICATED,
                        out);
      task->handles[nb] = *h;
      task->modes[nb++] = STARPU_W;
    }
    task->nbuffers = nb;
    task->cl = &tile_codelets[proto->finish];
    cb__place(task, proto->ctx.device, first + (unsigned)tile, tile,
              uses_f64);
    if ((rc = submit_one(task, t))) {
      for (int j = 0; j < nper; j++)
        starpu_data_unregister_submit(parts[j * ntiles + tile]);
      break;
    }
  }
  if (rc) {
    for (int j = 0; j < nper; j++)
      for (int i = 0; i < tile; i++)
        starpu_data_unregister_submit(parts[j * ntiles + i]);
    free(parts);
    return abandon(proto, out, tile, ntiles + 1 - tile, rc);
  }

  /* The combine reads every partial and writes the whole result. */
  cb__rtask *t = task_new(proto, out->writer);
  struct starpu_task *task = t ? starpu_task_create() : NULL;
  int nbuf = nper * ntiles + out->ntiles;
  starpu_data_handle_t *h = task ? task->handles : NULL;
  enum starpu_data_access_mode *m = task ? task->modes : NULL;
  if (task && nbuf > STARPU_NMAXBUFS) {
    /* StarPU frees these with the task. */
    task->dyn_handles = h = malloc((size_t)nbuf * sizeof *h);
    task->dyn_modes = m = malloc((size_t)nbuf * sizeof *m);
  }
  if (!task || !h || !m) {
    if (task)
      cb__task_discard(task);
    if (t)
      release_task(t);
    rc = cb__fail(CB_ENOMEM, "out of host memory");
  } else {
    for (int i = 0; i < nper * ntiles; i++) {
      h[i] = parts[i];
      m[i] = STARPU_R;
    }
    for (int i = 0; i < out->ntiles; i++) {
      h[nper * ntiles + i] = out->tiles[i];
      m[nper * ntiles + i] = STARPU_W;
    }
    task->nbuffers = nbuf;
    task->cl = &combine_codelet;
    t->nparts = ntiles;
    t->size = out->size;
    /* Partials may have to come from any device. */
    t->ctx.busy_device = -1;
    rc = submit_one(task, t);
  }
  for (int i = 0; i < nper * ntiles; i++)
    starpu_data_unregister_submit(parts[i]);
  free(parts);
  if (rc)
    return abandon(proto, out, ntiles, 1, rc);
  return 0;
}

int cb__reduce_shape(int finish, const cb_array *a, const cb_array *b,
                     int axis, cb_dtype *in, cb_dtype *res, int *out_ndim,
                     int64_t *out_shape, int64_t *count) {
  const char *name = names[finish];
  *in = a->dtype;
  if (finish == CB_NREDUCE) {
    if (a->ndim != 1 || b->ndim != 1)
      return cb__fail(CB_EINVAL,
                      "dot takes 1-D vectors (got %d-D and %d-D); use "
                      "matmul for matrices",
                      a->ndim, b->ndim);
    if (a->shape[0] != b->shape[0])
      return cb__fail(CB_ESHAPE,
                      "dot: shapes (%lld,) and (%lld,) not aligned",
                      (long long)a->shape[0], (long long)b->shape[0]);
    cb_operand ops[2] = {{.array = (cb_array *)a, .device = -1},
                         {.array = (cb_array *)b, .device = -1}};
    int rc = cb_result_dtype(CB_OP_multiply, ops, 2, in);
    if (rc)
      return rc;
    axis = CB_AXIS_ALL;
  }
  if (*in == CB_COMPLEX64 || *in == CB_COMPLEX128)
    return cb__fail(CB_ETYPE,
                    "%s is not supported for %s (reduce its real and "
                    "imaginary parts, CB_OP_real and CB_OP_imag)",
                    name, cb_dtype_name(*in));
  if (*in == CB_FLOAT16)
    return cb__fail(CB_ETYPE,
                    "%s is not supported for float16 (reduce it cast to "
                    "float32, CB_OP_cast, as NumPy accumulates halves in "
                    "floats)",
                    name);
  if (axis != CB_AXIS_ALL && (axis < 0 || axis >= a->ndim))
    return cb__fail(CB_EINVAL,
                    "axis %d is out of bounds for array of dimension %d",
                    axis, a->ndim);
  *count = a->size;
  *out_ndim = 0;
  if (a->ndim >= 2 && axis != CB_AXIS_ALL) {
    *count = a->shape[axis];
    for (int i = 0; i < a->ndim; i++)
      if (i != axis)
        out_shape[(*out_ndim)++] = a->shape[i];
    /* Along the last axis each row is reduced; along the first, each
     * column; along another, each column of each slab, or, when the
     * columns would be too many, the array with the axis moved last
     * (reduce_inner_axis). */
    int64_t cols = axis == 0 ? cb__shape_row(a->ndim, a->shape)
                             : a->shape[a->ndim - 1];
    if (a->size && cols > CB__MAX_COLS)
      return cb__fail(CB_EINVAL,
                      "%s: rows of %lld elements are too long to reduce "
                      "along an axis",
                      name, (long long)cols);
  }
  if ((finish == CB_REDUCE_min || finish == CB_REDUCE_max) && *count == 0)
    return cb__fail(CB_EINVAL,
                    "zero-size array to reduction operation %s which has "
                    "no identity",
                    finish == CB_REDUCE_min ? "minimum" : "maximum");
  int arg = finish == CB_REDUCE_argmin || finish == CB_REDUCE_argmax;
  if (arg && *count == 0)
    return cb__fail(CB_EINVAL, "attempt to get %s of an empty sequence",
                    name);
  *res = finish == CB_NREDUCE ? *in
         : arg                ? CB_INT64
                              : part_dtype(finish, *in);
  return 0;
}

/* The checks of a reduction (run lock held): fills proto, the result's
 * shape and the placement. Returns 0 or an error code. */
static int plan(int finish, const cb_operand *x, const cb_operand *y,
                int axis, int default_device, cb__rtask *proto,
                int *out_ndim, int64_t *out_shape, cb_dtype *in_dtype) {
  const char *name = names[finish];
  if (!x || !x->array || (finish == CB_NREDUCE && (!y || !y->array)))
    return cb__fail(CB_EINVAL, "%s needs array operands", name);
  const cb_array *a = x->array;
  int device = x->device;
  if (y && y->array && y->device >= 0) {
    if (device >= 0 && device != y->device)
      return cb__fail(CB_EPLACE,
                      "%s: operands are on %s and %s; move one with "
                      "to_device()",
                      name, cb__devices[device].info.filter_string,
                      cb__devices[y->device].info.filter_string);
    device = y->device;
  }
  if (device < 0)
    device = default_device;

  cb_dtype in, res;
  int64_t count;
  int rc = cb__reduce_shape(finish, a, y ? y->array : NULL, axis, &in, &res,
                            out_ndim, out_shape, &count);
  if (rc)
    return rc;
  int mode = CB__RM_ALL;
  int64_t cols = cb__array_row(a);
  if (a->ndim >= 2 && axis != CB_AXIS_ALL) {
    mode = axis == a->ndim - 1 ? CB__RM_ROWS
           : axis == 0         ? CB__RM_COLS
                               : CB__RM_MID;
    if (mode == CB__RM_ROWS)
      cols = a->shape[axis];
    if (mode == CB__RM_MID)
      cols = cb__shape_row(a->ndim - axis, a->shape + axis);
  }

  static const int families[CB_NREDUCE + 1] = {
      [CB_REDUCE_sum] = CB__RF_ADD,    [CB_REDUCE_min] = CB__RF_MIN,
      [CB_REDUCE_max] = CB__RF_MAX,    [CB_REDUCE_mean] = CB__RF_ADD,
      [CB_REDUCE_norm] = CB__RF_SQUARE, [CB_REDUCE_argmin] = CB__RF_ARGMIN,
      [CB_REDUCE_argmax] = CB__RF_ARGMAX, [CB_NREDUCE] = CB__RF_DOT};
  cb_dtype part = part_dtype(finish, in);
  *proto = (cb__rtask){
      .ctx = {.name = name, .device = device, .busy_device = device},
      .family = families[finish], .mode = mode, .finish = finish,
      .in = in, .part = part, .res = res,
      .cols = cols, .count = count};
  if ((rc = cb__check_device(device, in)) ||
      (rc = cb__check_device(device, part)))
    return rc;
  if (starpu_cpu_worker_get_count() == 0)
    return cb__fail(CB_ENODEV, "%s: reductions need a CPU worker", name);
  *in_dtype = in;
  return 0;
}

static int reduce(int finish, const cb_operand *x, const cb_operand *y,
                  int axis, int default_device, cb_array **out,
                  int *out_device);

/* Along an axis other than the first and the last, with more than
 * CB__MAX_COLS columns after it: the array with that axis moved last (a
 * copy), reduced along its rows. */
static int reduce_inner_axis(int finish, const cb_operand *x, int axis,
                             int default_device, cb_array **out,
                             int *out_device) {
  const cb_array *a = x->array;
  int to = a->ndim - 1;
  cb_layout whole, moved = {.ndim = a->ndim};
  cb_layout_of(a, &whole);
  moved.shape[to] = whole.shape[axis];
  moved.strides[to] = whole.strides[axis];
  for (int d = 0, k = 0; d < a->ndim; d++) {
    if (d == axis)
      continue;
    if (k == to)
      k++;
    moved.shape[k] = whole.shape[d];
    moved.strides[k++] = whole.strides[d];
  }
  cb_operand op = *x;
  int rc = cb_gather(x->array, &moved,
                     x->device >= 0 ? x->device : default_device,
                     &op.array);
  if (rc)
    return rc;
  rc = reduce(finish, &op, NULL, to, default_device, out, out_device);
  cb_array_unref(op.array);
  return rc;
}

/* Puts in *in's place a copy of it in tiles of tile elements, which *temp
 * holds (the one it held before is let go). */
static int retile_input(cb_array **in, cb_array **temp, int device,
                        int64_t tile) {
  cb_array *copy;
  int rc = cb__array_retile(*in, device, tile, &copy);
  if (rc)
    return rc;
  if (*temp)
    cb_array_unref(*temp);
  *in = *temp = copy;
  return 0;
}

static int reduce(int finish, const cb_operand *x, const cb_operand *y,
                  int axis, int default_device, cb_array **out,
                  int *out_device) {
  cb__rtask proto = {0};
  int ndim = 0;
  int64_t shape[CB_MAX_NDIM] = {0};
  /* Along an axis between the first and the last: each slab of each tile
   * reduced down its columns where the tile is; with the axis moved last
   * when the columns would be too many for a CPU worker's accumulators. */
  if (finish != CB_NREDUCE && x && x->array && x->array->ndim > 2 &&
      axis > 0 && axis < x->array->ndim - 1 &&
      cb__shape_row(x->array->ndim - axis, x->array->shape + axis) >
          CB__MAX_COLS)
    return reduce_inner_axis(finish, x, axis, default_device, out,
                             out_device);
  cb_dtype in = CB_FLOAT64;
  int rc = cb__enter();
  if (rc)
    return rc;
  rc = plan(finish, x, y, axis, default_device, &proto, &ndim, shape, &in);
  cb__leave();
  if (rc)
    return rc;

  /* Inputs of another dtype go through a cast task first (dot). */
  int nin = finish == CB_NREDUCE ? 2 : 1;
  const cb_operand *ops[2] = {x, y};
  cb_array *inputs[2] = {NULL, NULL}, *temps[2] = {NULL, NULL};
  int busy_device = proto.ctx.device;
  for (int k = 0; k < nin; k++) {
    if (ops[k]->device != proto.ctx.device)
      busy_device = -1;
    inputs[k] = ops[k]->array;
    if (inputs[k]->dtype == in)
      continue;
    int dummy;
    rc = cb_ewise(CB_OP_cast, ops[k], 1, proto.ctx.device, (int)in,
                  &temps[k], &dummy);
    if (rc)
      goto done;
    inputs[k] = temps[k];
  }
  proto.ctx.busy_device = busy_device;

  if ((rc = cb__enter()))
    goto done;
  for (int k = 0; rc == 0 && k < nin; k++)
    rc = cb__array_register(inputs[k], proto.ctx.device);
  /* A dot product pairs tiles: both operands need the same ones. */
  if (rc == 0 && nin == 2 &&
      inputs[0]->tile_elems != inputs[1]->tile_elems)
    rc = retile_input(&inputs[1], &temps[1], proto.ctx.device,
                      inputs[0]->tile_elems);
  /* A tile's task reduces whole rows (each row, each column of its rows,
   * each column of each slab of them): an array whose tiles cut its rows
   * (longer than a tile takes whole: cb__tile_elems_for) is first copied
   * into tiles of whole ones. */
  int64_t unit = proto.mode == CB__RM_MID ? proto.count * proto.cols
                                          : proto.cols;
  if (rc == 0 && proto.mode != CB__RM_ALL && unit > 0 &&
      inputs[0]->ntiles > 1 && inputs[0]->tile_elems % unit) {
    int64_t tile = inputs[0]->tile_elems / unit * unit;
    rc = retile_input(&inputs[0], &temps[0], proto.ctx.device,
                      tile > unit ? tile : unit);
  }
  if (rc == 0)
    rc = cb__array_new_registered(proto.res, ndim, shape, -1, 0, out);
  if (rc == 0 && (*out)->size > 0) {
    for (int k = 0; k < nin; k++)
      proto.arrays[proto.narrays++] = inputs[k];
    proto.arrays[proto.narrays++] = *out;
    int uses_f64 = in == CB_FLOAT64 || proto.part == CB_FLOAT64;
    cb__lazy_begin(); /* its tasks together (lazy.h) */
    rc = submit(&proto, inputs, nin, *out, uses_f64);
    cb__lazy_end();
    if (rc) {
      cb_array_unref(*out);
      *out = NULL;
    }
  }
  cb__leave();
  if (rc == 0)
    *out_device = proto.ctx.device;
done:
  for (int k = 0; k < nin; k++)
    if (temps[k])
      cb_array_unref(temps[k]);
  return rc;
}

int cb_reduce(cb_reduce_op op, const cb_operand *x, int axis,
              int default_device, cb_array **out, int *out_device) {
  if ((unsigned)op >= CB_NREDUCE)
    return cb__fail(CB_EINVAL, "unknown reduction %d", (int)op);
  return reduce(op, x, NULL, axis, default_device, out, out_device);
}

int cb_dot(const cb_operand *x, const cb_operand *y, int default_device,
           cb_array **out, int *out_device) {
  return reduce(CB_NREDUCE, x, y, CB_AXIS_ALL, default_device, out,
                out_device);
}
