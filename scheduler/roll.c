/*
 * Rolling an array along its leading dimension, tile by tile (see
 * cb_roll_rows). The result has the tiles (and owners) of the source.
 * Result tile t takes its rows from rows t0 - s .. t1 - s of the source
 * (wrapping), a run or two cut where the source's tiles end. A run within
 * the source's own tile t is read in place; any other is first copied out
 * of its tile, where that tile lives, into a small buffer (a "halo") that
 * belongs to the same owner; then one task where result tile t lives
 * joins the runs (codelets/rows.c). Over the ranks of a distributed run
 * StarPU-MPI moves the halos alone, and on a device set only they cross
 * from one device to another.
 *
 * Every task signals the result's event; submitting stops at the first
 * failure, as the other operations do.
 */
#include <stdlib.h>

#include "arrays.h"
#include "distributed.h"
#include "drivers.h"
#include "errors.h"
#include "events.h"
#include "ewise.h"
#include "rows_codelets.h"
#include "runtime.h"
#include "task_end.h"
#include "tiles.h"
#include "lazy.h"

/* A run of source rows [lo, hi) within source tile tile. */
typedef struct run {
  int tile;
  int64_t lo, hi;
} run;

/* The runs of source rows that fill result rows [r0, r1) for a shift of
 * s rows (0 <= s < rows), tiles of trows rows; returns how many. */
static int runs_of(int64_t r0, int64_t r1, int64_t s, int64_t rows,
                   int64_t trows, run *out) {
  int n = 0;
  int64_t lo = r0 - s;
  int64_t left = r1 - r0;
  if (lo < 0)
    lo += rows;
  while (left > 0 && n < CB__ROWS_MAXRUNS) {
    int64_t tile = lo / trows;
    int64_t end = (tile + 1) * trows;
    if (end > rows)
      end = rows;
    int64_t take = end - lo < left ? end - lo : left;
    out[n++] = (run){(int)tile, lo, lo + take};
    left -= take;
    lo = lo + take == rows ? 0 : lo + take;
  }
  return left > 0 ? -1 : n;
}

static void release_task(void *arg) {
  cb__rows_task *t = arg;
  cb__ctx_drop_refs(&t->ctx, t->arrays, t->narrays);
  free(t);
}

static void task_done(void *arg) {
  cb__rows_task *t = arg;
  cb__ctx_end(&t->ctx, release_task, t);
}

/* A task of the roll of a into o, signalling e. */
static cb__rows_task *task_new(cb_array *a, cb_array *o, cb_event *e,
                               int device) {
  cb__rows_task *t = calloc(1, sizeof *t);
  if (!t)
    return NULL;
  t->arrays[0] = a;
  t->arrays[1] = o;
  t->narrays = 2;
  cb_array_ref(a);
  cb_array_ref(o);
  cb__event_ref(e);
  t->ctx = (cb__ctx){.name = "roll", .device = device,
                     .busy_device = device, .in = t->arrays, .nin = 1,
                     .out = &t->arrays[1], .nout = 1};
  cb__ctx_set_event(&t->ctx, e);
  return t;
}

/* Submits task (its buffers set) for t, placed for tile; 0 or an error
 * (t is then released). */
static int submit(struct starpu_task *task, cb__rows_task *t, int tile) {
  static atomic_uint turns;
  task->cl = &cb__rows_codelet;
  task->cl_arg = t;
  task->cl_arg_size = sizeof *t;
  task->callback_func = task_done;
  task->callback_arg = t;
  task->name = "roll";
  t->ctx.task = task;
  cb__place(task, t->ctx.device,
            atomic_fetch_add_explicit(&turns, 1, memory_order_relaxed), tile,
            0);
  int worker = cb__task_worker(task);
  cb__busy_begin_on(t->ctx.busy_device, worker);
  int sp = cb__task_submit(task);
  if (sp == 0)
    return 0;
  cb__busy_end_on(t->ctx.busy_device, worker);
  task->callback_func = NULL;
  cb__task_discard(task);
  release_task(t);
  return cb__fail(sp == -ENODEV ? CB_ENODEV : CB_ESTARPU,
                  "roll: no worker can run this task (%d)", sp);
}

/* A halo of run r of a's rows, filled by a task where its tile lives;
 * *h is registered, owned as that tile, and holds o (whose failure marks
 * what it holds). */
static int halo(cb_array *a, cb_array *o, cb_event *e, int device,
                const run *r, int64_t row, starpu_data_handle_t *h,
                int *submitted) {
  cb__rows_task *t = task_new(a, o, e, device);
  struct starpu_task *task = t ? starpu_task_create() : NULL;
  if (!task) {
    if (t)
      release_task(t);
    return cb__fail(CB_ENOMEM, "out of host memory");
  }
  int64_t count = (r->hi - r->lo) * row;
  cb_array_ref(o); /* dropped when *h is unregistered */
  cb__tile_register(h, -1, 0, (uint32_t)count, cb_dtype_size(a->dtype), 0,
                    o, cb_array_unref);
  cb__dist_register(*h,
                    a->dist != CB_DIST_NONE && cb__dist_on
                        ? cb__dist_owner(a->dist, r->tile, a->ntiles)
                        : CB__DIST_REPLICATED,
                    o);
  t->nruns = 1;
  t->from[0] = r->lo * row - (int64_t)r->tile * a->tile_elems;
  t->count[0] = count;
  task->handles[0] = a->tiles[r->tile];
  task->modes[0] = STARPU_R;
  task->handles[1] = *h;
  task->modes[1] = STARPU_W;
  task->nbuffers = 2;
  int rc = submit(task, t, r->tile);
  if (rc)
    starpu_data_unregister_submit(*h);
  else
    (*submitted)++;
  return rc;
}

/* The task of result tile tile, and the halos it reads; *submitted
 * counts the tasks that went in. */
static int result_tile(cb_array *a, cb_array *o, cb_event *e, int device,
                       int tile, const run *runs, int nruns, int64_t row,
                       int *submitted) {
  starpu_data_handle_t halos[CB__ROWS_MAXRUNS] = {0};
  int nhalos = 0, rc = 0;
  for (int i = 0; i < nruns && rc == 0; i++)
    if (runs[i].tile != tile)
      rc = halo(a, o, e, device, &runs[i], row, &halos[nhalos++],
                submitted);
  cb__rows_task *t = rc ? NULL : task_new(a, o, e, device);
  struct starpu_task *task = t ? starpu_task_create() : NULL;
  if (!rc && !task) {
    if (t)
      release_task(t);
    rc = cb__fail(CB_ENOMEM, "out of host memory");
  }
  if (rc == 0) {
    int k = 0;
    t->nruns = nruns;
    for (int i = 0; i < nruns; i++) {
      const run *r = &runs[i];
      t->count[i] = (r->hi - r->lo) * row;
      if (r->tile == tile) {
        t->from[i] = r->lo * row - (int64_t)tile * a->tile_elems;
        task->handles[i] = a->tiles[tile];
      } else {
        t->from[i] = 0;
        task->handles[i] = halos[k++];
      }
      task->modes[i] = STARPU_R;
    }
    task->handles[nruns] = o->tiles[tile];
    task->modes[nruns] = STARPU_W;
    task->nbuffers = nruns + 1;
    rc = submit(task, t, tile);
    *submitted += rc == 0;
  }
  for (int i = 0; i < nhalos; i++)
    if (halos[i])
      starpu_data_unregister_submit(halos[i]);
  return rc;
}

static int roll_locked(cb_array *a, int64_t shift, int device,
                       cb_array **out) {
  int rc;
  if (!a || !out)
    return cb__fail(CB_EINVAL, "roll: missing array");
  if (a->ndim < 1)
    return cb__fail(CB_EINVAL, "roll: a 0-d array has no rows");
  if ((rc = cb__check_device(device, CB_UINT8)) ||
      (rc = cb__array_register(a, device)))
    return rc;
  int64_t rows = a->shape[0], row = cb__array_row(a);
  cb_array *o;
  rc = cb__array_new_dist(a->dtype, a->ndim, a->shape, device,
                          a->size ? a->tile_elems : 0, a->dist, &o);
  if (rc)
    return rc;
  if (a->size == 0) {
    *out = o;
    return 0;
  }
  if (o->ntiles != a->ntiles || o->tile_elems != a->tile_elems) {
    cb_array_unref(o);
    return cb__fail(CB_ESTATE, "roll: the result is not tiled as its "
                               "source");
  }
  int64_t s = shift % rows, trows = a->tile_elems / row;
  if (s < 0)
    s += rows;
  /* Every task is counted: each result tile's, and its halos'. */
  run (*plan)[CB__ROWS_MAXRUNS] = calloc((size_t)a->ntiles, sizeof *plan);
  int *nruns = calloc((size_t)a->ntiles, sizeof *nruns);
  int ntasks = 0;
  for (int t = 0; plan && nruns && t < a->ntiles; t++) {
    int64_t r0 = (int64_t)t * trows;
    int64_t r1 = r0 + trows < rows ? r0 + trows : rows;
    nruns[t] = runs_of(r0, r1, s, rows, trows, plan[t]);
    if (nruns[t] < 0) {
      rc = cb__fail(CB_ESTATE, "roll: tile %d takes too many runs", t);
      break;
    }
    ntasks += 1;
    for (int i = 0; i < nruns[t]; i++)
      ntasks += plan[t][i].tile != t;
  }
  cb_event *e = rc || !plan || !nruns ? NULL : cb__event_new(ntasks);
  if (!e) {
    free(plan);
    free(nruns);
    cb_array_unref(o);
    return rc ? rc : cb__fail(CB_ENOMEM, "out of host memory");
  }
  cb__array_set_writer(o, e);
  int done = 0;
  for (int t = 0; rc == 0 && t < a->ntiles; t++)
    rc = result_tile(a, o, e, device, t, plan[t], nruns[t], row, &done);
  if (rc)
    cb__submit_abandon(o, e, device, "roll", done, ntasks - done, rc);
  cb_event_unref(e);
  free(plan);
  free(nruns);
  if (rc) {
    cb_array_unref(o); /* the tasks that went in hold their own */
    return rc;
  }
  *out = o;
  return 0;
}

int cb_roll_rows(cb_array *a, int64_t shift, int device, cb_array **out) {
  int rc = cb__enter();
  if (rc)
    return rc;
  cb__lazy_begin(); /* its tasks together (lazy.h) */
  rc = roll_locked(a, shift, device, out);
  cb__lazy_end();
  cb__leave();
  return rc;
}
