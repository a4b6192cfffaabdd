/*
 * Running a graph: the nodes in their recorded order (a topological
 * order: a node only reads values recorded before it), each submitted as
 * its eager call would, element-wise nodes in batches (ewise.c, batch.c)
 * and fused groups (fuse.c) as one task per tile where their last node
 * is, letting go of every intermediate value as soon as its last reader
 * is submitted, so that the pool recycles it, and waiting when the run
 * gets too far ahead of the workers.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arrays.h"
#include "batch.h"
#include "distributed.h"
#include "devtab.h"
#include "errors.h"
#include "ewise.h"
#include "graph.h"
#include "runtime.h"

int cb__graph_check_inputs(const cb_graph *g, cb_array *const *inputs,
                           int ninputs) {
  if (ninputs != g->ninputs)
    return cb__fail(CB_EINVAL, "the graph has %d inputs, got %d",
                    g->ninputs, ninputs);
  for (int v = 0; v < g->nvalues; v++) {
    const gvalue *d = &g->values[v];
    if (d->kind != VAL_INPUT)
      continue;
    const cb_array *a = inputs[d->node];
    if (cb_array_dtype(a) != d->dtype)
      return cb__fail(CB_ETYPE, "input %d: the graph takes %s, got %s",
                      d->node, cb_dtype_name((cb_dtype)d->dtype),
                      cb_dtype_name(cb_array_dtype(a)));
    if (cb_array_ndim(a) != d->ndim ||
        memcmp(cb_array_shape(a), d->shape, sizeof(int64_t) * d->ndim))
      return cb__fail(CB_ESHAPE, "input %d: the graph takes another shape",
                      d->node);
  }
  return 0;
}

int cb__graph_reused_value(const cb_graph *g, const gnode *d) {
  if (d->kind != NODE_EWISE)
    return -1;
  const gvalue *r = &g->values[d->result];
  for (int k = 0; k < d->n; k++) {
    const gvalue *v = d->x[k] >= 0 ? &g->values[d->x[k]] : NULL;
    if (v && v->kind == VAL_NODE && !v->output && v->readers == 1 &&
        v->dtype == r->dtype && v->ndim == r->ndim &&
        !memcmp(v->shape, r->shape, sizeof(int64_t) * r->ndim))
      return d->x[k];
  }
  return -1;
}

/* Submits a node other than an element-wise one as its eager call would
 * (each of these takes the run lock itself). */
static int submit_other(const gnode *d, const cb_operand *x,
                        int default_device, cb_array **out, int *dev) {
  switch (d->kind) {
  case NODE_REDUCE:
    return cb_reduce((cb_reduce_op)d->op, &x[0], d->axis, default_device,
                     out, dev);
  case NODE_DOT:
    return cb_dot(&x[0], &x[1], default_device, out, dev);
  case NODE_MATMUL:
    if (x[0].device >= 0 && x[1].device >= 0 && x[0].device != x[1].device)
      return cb__fail(CB_EPLACE,
                      "matmul: operands are on %s and %s; move one with "
                      "to_device()",
                      cb__devices[x[0].device].info.filter_string,
                      cb__devices[x[1].device].info.filter_string);
    return cb_matmul(x[0].array, x[1].array,
                     x[0].device >= 0   ? x[0].device
                     : x[1].device >= 0 ? x[1].device
                                        : default_device,
                     out, dev);
  default:
    return cb_transpose(x[0].array, x[0].device, out, dev);
  }
}

/* The operands of node d. */
static void operands(const cb_graph *g, const gnode *d, cb_array **vals,
                     const int *devs, cb_operand *x) {
  for (int k = 0; k < d->n; k++)
    x[k] = d->x[k] >= 0 ? (cb_operand){.array = vals[d->x[k]],
                                       .device = devs[d->x[k]]}
                        : g->scalars[-2 - d->x[k]];
}

/* Submits node i (in batch b, held, when it is element-wise). */
static int run_node(cb_graph *g, int i, cb__batch *b, int event,
                    cb_array **vals, int *devs, int default_device) {
  const gnode *d = &g->nodes[i];
  cb_operand x[CB__MAX_OPERANDS];
  operands(g, d, vals, devs, x);
  if (d->kind != NODE_EWISE)
    return submit_other(d, x, default_device, &vals[d->result],
                        &devs[d->result]);
  int reuse = cb__graph_reused_value(g, d);
  return cb__ewise_in(b, event, reuse >= 0 ? vals[reuse] : NULL,
                      (cb_op)d->op, x, d->n, default_device, d->out_dtype,
                      &vals[d->result], &devs[d->result]);
}

/* Submits group gr as one fused task per tile of its result. */
static int run_group(cb_graph *g, const ggroup *gr, cb__batch *b, int event,
                     cb_array **vals, int *devs, int default_device) {
  const cb__fprog *p = cb__fprog_intern(gr->prog);
  if (!p)
    return cb__fail(CB_ENOMEM, "out of host memory");
  cb_operand x[CB__MAX_OPERANDS];
  for (int k = 0; k < p->nin; k++)
    x[k] = (cb_operand){.array = vals[gr->inputs[k]],
                        .device = devs[gr->inputs[k]]};
  int r = g->nodes[gr->last].result;
  return cb__ewise_fused(b, event, p, x, default_device, &vals[r], &devs[r]);
}

/* Submits group gr's nodes one by one (where tasks must not be fused);
 * its intermediates go back with the values the group reads last, once
 * its last node is submitted. */
static int run_members(cb_graph *g, const ggroup *gr, cb__batch *b,
                       int event, cb_array **vals, int *devs,
                       int default_device) {
  int rc = 0;
  for (int i = gr->first; i <= gr->last && rc == 0; i++)
    if (g->nodes[i].group == g->nodes[gr->last].group)
      rc = run_node(g, i, b, i == gr->last && event, vals, devs,
                    default_device);
  return rc;
}

/* Lets go of the values node d reads for the last time at node at. */
static void release_read(const cb_graph *g, const gnode *d, int at,
                         cb_array **vals) {
  for (int k = 0; k < d->n; k++) {
    int v = d->x[k];
    if (v >= 0 && g->values[v].last_use == at && !g->values[v].output &&
        vals[v]) {
      cb_array_unref(vals[v]);
      vals[v] = NULL;
    }
  }
}

int cb_graph_run(cb_graph *g, cb_array *const *inputs,
                 const int *input_devices, int ninputs, int default_device,
                 cb_array **outputs, int *output_devices, int noutputs) {
  int rc = cb__graph_check_inputs(g, inputs, ninputs);
  if (rc)
    return rc;
  if (noutputs != g->noutputs)
    return cb__fail(CB_EINVAL, "the graph has %d outputs, got room for %d",
                    g->noutputs, noutputs);
  cb_array **vals = calloc((size_t)g->nvalues + 1, sizeof *vals);
  int *devs = malloc(((size_t)g->nvalues + 1) * sizeof *devs);
  if (!vals || !devs) {
    free(vals);
    free(devs);
    return cb__fail(CB_ENOMEM, "out of host memory");
  }
  for (int v = 0; v < g->nvalues; v++) {
    const gvalue *d = &g->values[v];
    devs[v] = -1;
    if (d->kind == VAL_INPUT) {
      vals[v] = inputs[d->node];
      devs[v] = input_devices ? input_devices[d->node] : -1;
    } else if (d->kind == VAL_CONSTANT) {
      vals[v] = g->consts[v].array;
      devs[v] = g->consts[v].device;
    }
    if (vals[v])
      cb_array_ref(vals[v]);
  }
  /* A run keeps about WINDOW nodes in flight: submitting far ahead of
   * the workers would keep every intermediate alive at once (gigabytes
   * for a million nodes). Every STEP nodes it notes the event of the
   * first node it submits, and waits for the one noted WINDOW nodes
   * before: one wait per STEP nodes, not one per node. The STEP nodes
   * between are one batch, submitted under one hold of the run lock;
   * only outputs and the noted nodes get events. A fused group runs
   * where its last node is recorded; its other nodes are passed over. */
  enum { STEP = 1024, SLOTS = 8 };
  cb_event *window[SLOTS] = {NULL};
  int fuse = !cb__dist_on; /* every rank decides alike */
  for (int first = 0; first < g->nnodes && rc == 0; first += STEP) {
    cb_event **slot = &window[(first / STEP) % SLOTS];
    if (*slot) {
      cb_event_wait(*slot, -1);
      cb_event_unref(*slot);
      *slot = NULL;
    }
    /* Element-wise nodes in a row share a batch; the other kinds take
     * the run lock themselves. */
    cb__batch batch;
    int held = 0, note = 1;
    int end = first + STEP < g->nnodes ? first + STEP : g->nnodes;
    for (int i = first; i < end && rc == 0; i++) {
      const gnode *d = &g->nodes[i];
      const ggroup *gr = d->group >= 0 ? &g->groups[d->group] : NULL;
      if (gr && gr->last != i)
        continue;
      int ewise = d->kind == NODE_EWISE;
      if (ewise && !held) {
        if ((rc = cb__enter()))
          break;
        cb__batch_init(&batch);
        held = 1;
      } else if (!ewise && held) {
        cb__batch_end(&batch);
        cb__leave();
        held = 0;
      }
      int event = note || g->values[d->result].output;
      if (gr && fuse)
        rc = run_group(g, gr, &batch, event, vals, devs, default_device);
      else if (gr)
        rc = run_members(g, gr, &batch, event, vals, devs, default_device);
      else
        rc = run_node(g, i, &batch, event, vals, devs, default_device);
      if (rc == 0 && note) {
        *slot = cb_array_writer(vals[d->result]);
        note = 0;
      }
      /* Values read for the last time go back (to the pool, once their
       * tasks end). */
      for (int m = gr ? gr->first : i; m <= i; m++)
        if (m == i || g->nodes[m].group == d->group)
          release_read(g, &g->nodes[m], i, vals);
    }
    if (held) {
      cb__batch_end(&batch);
      cb__leave();
    }
  }
  for (int k = 0; k < noutputs && rc == 0; k++) {
    int v = g->outputs[k];
    outputs[k] = vals[v];
    cb_array_ref(outputs[k]);
    if (output_devices)
      output_devices[k] = devs[v];
  }
  for (int k = 0; k < SLOTS; k++)
    cb_event_unref(window[k]);
  for (int v = 0; v < g->nvalues; v++)
    cb_array_unref(vals[v]);
  free(vals);
  free(devs);
  return rc;
}
