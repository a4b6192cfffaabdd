/*
 * Running a graph: the nodes in their recorded order (a topological
 * order: a node only reads values recorded before it), each submitted as
 * its eager call would, element-wise nodes in batches (ewise.c, batch.c),
 * letting go of every intermediate value as soon as its last reader is
 * submitted, so that the pool recycles it, and waiting when the run gets
 * too far ahead of the workers.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arrays.h"
#include "batch.h"
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
   * for a million nodes). Every STEP nodes it notes a node's event, and
   * waits for the one noted WINDOW nodes before: one wait per STEP
   * nodes, not one per node. The STEP nodes between are one batch,
   * submitted under one hold of the run lock; only outputs and the noted
   * nodes get events. */
  enum { STEP = 1024, SLOTS = 8 };
  cb_event *window[SLOTS] = {NULL};
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
    int held = 0;
    int end = first + STEP < g->nnodes ? first + STEP : g->nnodes;
    for (int i = first; i < end && rc == 0; i++) {
      const gnode *d = &g->nodes[i];
      cb_operand x[CB__MAX_OPERANDS];
      for (int k = 0; k < d->n; k++)
        x[k] = d->x[k] >= 0 ? (cb_operand){.array = vals[d->x[k]],
                                           .device = devs[d->x[k]]}
                            : g->scalars[-2 - d->x[k]];
      int ewise = d->kind == NODE_EWISE, noted = i == first;
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
      int reuse = cb__graph_reused_value(g, d);
      rc = ewise ? cb__ewise_in(&batch, noted || g->values[d->result].output,
                                reuse >= 0 ? vals[reuse] : NULL,
                                (cb_op)d->op, x, d->n, default_device,
                                d->out_dtype, &vals[d->result],
                                &devs[d->result])
                 : submit_other(d, x, default_device, &vals[d->result],
                                &devs[d->result]);
      if (rc == 0 && noted)
        *slot = cb_array_writer(vals[d->result]);
      /* Values read for the last time go back (to the pool, once their
       * tasks end). */
      for (int k = 0; k < d->n; k++) {
        int v = d->x[k];
        if (v >= 0 && g->values[v].last_use == i && !g->values[v].output &&
            vals[v]) {
          cb_array_unref(vals[v]);
          vals[v] = NULL;
        }
      }
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
