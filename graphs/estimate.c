/*
 * Estimating a graph from StarPU's performance models: each node's time
 * with its tiles spread over a device's workers (a fused group's at its
 * last node, which runs it), the total work and the critical path.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arrays.h"
#include "devtab.h"
#include "errors.h"
#include "ewise_codelets.h"
#include "fused.h"
#include "graph.h"
#include "runtime.h"

/* The expected time of one tile task of node d (of fused program prog
 * when not NULL, over gr's inputs) on worker, its buffers standing in
 * with handles of the right sizes (the footprint depends on them, and on
 * a fused task's program); NAN when the model has no measurement. */
static double tile_us(const cb_graph *g, const gnode *d,
                      const cb__fprog *prog, const ggroup *gr,
                      cb_array *const *ref, int tile, int worker) {
  struct starpu_codelet *cl = prog ? &cb__fused_codelet
                                   : &cb__ew_codelets[d->op];
  if (!cl->model || !cl->model->is_loaded)
    return NAN;
  cb_array *out = ref[d->result];
  struct starpu_task task;
  starpu_task_init(&task);
  task.cl = cl;
  cb__task ctx = {.prog = prog};
  task.cl_arg = &ctx;
  int nbuf = 0, reuse = prog ? -1 : cb__graph_reused_value(g, d);
  int n = prog ? prog->nin : d->n;
  for (int k = 0; k < n; k++) {
    int v = prog ? gr->inputs[k] : d->x[k];
    if (v < 0 || v == reuse) /* as the run submits it */
      continue;
    const cb_array *in = ref[v];
    /* An operand broadcast (read as an element or a row, or copied out
     * first, which the estimate leaves out) stands in with its first
     * tile. */
    int own = in->size == out->size && tile < in->ntiles;
    task.handles[nbuf] = in->tiles[own ? tile : 0];
    task.modes[nbuf++] = STARPU_R;
  }
  task.handles[nbuf] = out->tiles[tile];
  task.modes[nbuf++] = reuse >= 0 ? STARPU_RW : STARPU_W;
  task.nbuffers = nbuf;
  struct starpu_perfmodel_arch *arch =
      starpu_worker_get_perf_archtype(worker, STARPU_NMAX_SCHED_CTXS);
  double us = arch ? starpu_task_expected_length(&task, arch, 0) : NAN;
  starpu_task_clean(&task);
  return us;
}

int cb_graph_estimate(cb_graph *g, cb_array *const *inputs, int ninputs,
                      int device, double *node_us, double *total_us,
                      double *critical_us, int *unknown) {
  int rc = cb__graph_check_inputs(g, inputs, ninputs);
  if (rc || (rc = cb__enter()))
    return rc;
  for (int d = 0; device < 0 && d < cb__ndevices; d++)
    if (cb__devices[d].info.backend == CB_BACKEND_CPU)
      device = d;
  cb_array **ref = calloc((size_t)g->nvalues + 1, sizeof *ref);
  double *finish = calloc((size_t)g->nvalues + 1, sizeof *finish);
  if (!ref || !finish || !cb__device_valid(device)) {
    rc = !ref || !finish ? cb__fail(CB_ENOMEM, "out of host memory")
                         : cb__fail(CB_ENODEV, "no such device");
    goto out;
  }
  const cb__device *dev = &cb__devices[device];
  /* Each value borrows the tiles of an array of its shape: inputs and
   * constants their own, a node's result its widest operand's. */
  for (int v = 0; v < g->nvalues && rc == 0; v++) {
    const gvalue *d = &g->values[v];
    if (d->kind == VAL_INPUT)
      ref[v] = inputs[d->node];
    else if (d->kind == VAL_CONSTANT)
      ref[v] = g->consts[v].array;
    if (ref[v])
      rc = cb__array_register(ref[v], device);
  }
  double total = 0, critical = 0;
  int missing = 0;
  for (int i = 0; i < g->nnodes && rc == 0; i++) {
    const gnode *d = &g->nodes[i];
    double start = 0;
    /* Only element-wise nodes are priced: the others, and the nodes that
     * read their results (no stand-in has their shape), count as
     * unknown. */
    int priced = d->kind == NODE_EWISE;
    for (int k = 0; k < d->n; k++) {
      int v = d->x[k];
      if (v < 0)
        continue;
      priced &= ref[v] != NULL;
      if (priced && (!ref[d->result] || ref[v]->size > ref[d->result]->size))
        ref[d->result] = ref[v];
      if (finish[v] > start)
        start = finish[v];
    }
    if (!priced)
      ref[d->result] = NULL;
    cb_array *r = ref[d->result];
    /* A fused group is priced where it runs, as one task per tile; its
     * other nodes take no time of their own. */
    const ggroup *gr = d->group >= 0 ? &g->groups[d->group] : NULL;
    const cb__fprog *prog = NULL;
    if (gr && gr->last == i && !(prog = cb__fprog_intern(gr->prog))) {
      rc = cb__fail(CB_ENOMEM, "out of host memory");
      break;
    }
    double sum = priced ? 0 : NAN, t = 0;
    for (int tile = 0; priced && (!gr || prog) && tile < r->ntiles; tile++)
      sum += tile_us(g, d, prog, gr, ref, tile,
                     dev->workers[tile % dev->nworkers]);
    /* Tiles share the device's workers: rounds of nworkers tiles. */
    int rounds = r ? (r->ntiles + dev->nworkers - 1) / dev->nworkers : 0;
    t = r && r->ntiles ? sum / r->ntiles * rounds : 0;
    if (isnan(sum)) {
      missing++;
      t = 0;
    } else {
      total += sum;
    }
    if (node_us)
      node_us[i] = isnan(sum) ? NAN : t;
    finish[d->result] = start + t;
    if (finish[d->result] > critical)
      critical = finish[d->result];
  }
  *total_us = total;
  *critical_us = critical;
  *unknown = missing;
out:
  cb__leave();
  free(ref);
  free(finish);
  return rc;
}
