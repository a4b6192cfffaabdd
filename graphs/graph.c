/*
 * Graphs: array operations (element-wise, reductions, dot, matmul,
 * transpose) recorded once over symbolic values, replayed as many times as
 * asked. Recording checks dtypes and shapes with the rules of the eager
 * calls; a run walks the nodes in their recorded order (a topological
 * order: a node only reads values recorded before it) and submits each as
 * its eager call would, element-wise nodes in batches (ewise.c, batch.c),
 * letting go of every intermediate value as soon as its last reader is
 * submitted, so that the pool recycles it, and waiting when it gets too
 * far ahead of the workers.
 *
 * Nodes and values are kept small (a million nodes take about 50 MB):
 * scalars live in their own table, referred to by negative operand ids.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum { VAL_INPUT, VAL_CONSTANT, VAL_NODE };

typedef struct gvalue {
  uint8_t kind, dtype, ndim, output;
  uint8_t readers;            /* nodes that read it, at most 2 counted */
  int32_t node;               /* VAL_NODE: its node; VAL_INPUT: input no. */
  int32_t last_use;           /* the last node that reads it, -1: none */
  int64_t shape[CB_MAX_NDIM];
} gvalue;

/* What a node runs: an element-wise operation (op is a cb_op), a
 * reduction (op is a cb_reduce_op), a dot product, a matrix product, a
 * transpose. */
enum { NODE_EWISE, NODE_REDUCE, NODE_DOT, NODE_MATMUL, NODE_TRANSPOSE };

typedef struct gnode {
  uint8_t kind, op, n;
  int8_t out_dtype;           /* the target of a cast, else -1 */
  int8_t axis;                /* a reduction's, or CB_AXIS_ALL */
  int32_t x[CB__MAX_OPERANDS]; /* value ids; -2 - k: scalar k */
  int32_t result;
} gnode;

typedef struct gconst {
  cb_array *array;
  int device;
} gconst;

struct cb_graph {
  gvalue *values;
  int nvalues, cvalues;
  gnode *nodes;
  int nnodes, cnodes;
  cb_operand *scalars;
  int nscalars, cscalars;
  gconst *consts;             /* per value: only constants are set */
  int ninputs;
  int *outputs;
  int noutputs, coutputs;
};

/* Grows *buf (of *cap elements of size es) to hold n + 1. */
static int grow(void **buf, int *cap, int n, size_t es) {
  if (n < *cap)
    return 0;
  int c = *cap ? 2 * *cap : 64;
  void *p = realloc(*buf, (size_t)c * es);
  if (!p)
    return cb__fail(CB_ENOMEM, "out of host memory");
  *buf = p;
  *cap = c;
  return 0;
}

int cb_graph_new(cb_graph **out) {
  cb_graph *g = calloc(1, sizeof *g);
  if (!g)
    return cb__fail(CB_ENOMEM, "out of host memory");
  *out = g;
  return 0;
}

void cb_graph_free(cb_graph *g) {
  if (!g)
    return;
  for (int v = 0; g->consts && v < g->nvalues; v++)
    if (g->values[v].kind == VAL_CONSTANT)
      cb_array_unref(g->consts[v].array);
  free(g->values);
  free(g->nodes);
  free(g->scalars);
  free(g->consts);
  free(g->outputs);
  free(g);
}

static int new_value(cb_graph *g, int kind, cb_dtype t, int ndim,
                     const int64_t *shape) {
  if (ndim < 0 || ndim > CB_MAX_NDIM || (unsigned)t >= CB_NDTYPES)
    return cb__fail(CB_EINVAL, "bad dtype or number of dimensions");
  int cap = g->cvalues;
  if (grow((void **)&g->values, &g->cvalues, g->nvalues, sizeof *g->values))
    return CB_ENOMEM;
  if (g->cvalues != cap) {
    gconst *c = realloc(g->consts, (size_t)g->cvalues * sizeof *c);
    if (!c)
      return cb__fail(CB_ENOMEM, "out of host memory");
    g->consts = c;
  }
  int id = g->nvalues++;
  gvalue *v = &g->values[id];
  memset(v, 0, sizeof *v);
  v->kind = (uint8_t)kind;
  v->dtype = (uint8_t)t;
  v->ndim = (uint8_t)ndim;
  v->last_use = -1;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0)
      return cb__fail(CB_EINVAL, "negative dimension");
    v->shape[i] = shape[i];
  }
  g->consts[id] = (gconst){NULL, -1};
  return id;
}

int cb_graph_input(cb_graph *g, cb_dtype t, int ndim, const int64_t *shape) {
  int id = new_value(g, VAL_INPUT, t, ndim, shape);
  if (id >= 0)
    g->values[id].node = g->ninputs++;
  return id;
}

int cb_graph_constant(cb_graph *g, cb_array *a, int device) {
  int id = new_value(g, VAL_CONSTANT, cb_array_dtype(a), cb_array_ndim(a),
                     cb_array_shape(a));
  if (id >= 0) {
    cb_array_ref(a);
    g->consts[id] = (gconst){a, device};
  }
  return id;
}

/* A stand-in array with a value's dtype and shape, for the type rules. */
static void stand_in(const gvalue *v, cb_array *a) {
  memset(a, 0, sizeof *a);
  a->dtype = (cb_dtype)v->dtype;
  a->ndim = v->ndim;
  a->size = 1;
  for (int i = 0; i < v->ndim; i++) {
    a->shape[i] = v->shape[i];
    a->size *= v->shape[i];
  }
}

/* Appends node (its operands set) with a new result value of dtype t and
 * shape; returns the value's id. shape may point into g->values, which
 * new_value may move: it is copied first. */
static int add_node(cb_graph *g, gnode *node, cb_dtype t, int ndim,
                    const int64_t *shape) {
  int64_t copy[CB_MAX_NDIM];
  for (int i = 0; i < ndim && i < CB_MAX_NDIM; i++)
    copy[i] = shape[i];
  if (grow((void **)&g->nodes, &g->cnodes, g->nnodes, sizeof *g->nodes))
    return CB_ENOMEM;
  int id = new_value(g, VAL_NODE, t, ndim, copy);
  if (id < 0)
    return id;
  node->result = id;
  g->values[id].node = g->nnodes;
  for (int i = 0; i < node->n; i++) {
    gvalue *v = node->x[i] >= 0 ? &g->values[node->x[i]] : NULL;
    if (v && v->last_use != g->nnodes) {
      v->last_use = g->nnodes;
      v->readers += v->readers < 2;
    }
  }
  g->nodes[g->nnodes++] = *node;
  return id;
}

int cb_graph_ewise(cb_graph *g, cb_op op, const cb_graph_operand *x, int n,
                   int out_dtype) {
  if ((unsigned)op >= CB_NOPS || n < 1 || n > CB__MAX_OPERANDS)
    return cb__fail(CB_EINVAL, "bad operation or operand count");
  cb_array stand[CB__MAX_OPERANDS];
  cb_operand ops[CB__MAX_OPERANDS];
  const gvalue *shaped = NULL;
  for (int i = 0; i < n; i++) {
    if (x[i].value < 0) {
      ops[i] = x[i].scalar;
      ops[i].array = NULL;
      continue;
    }
    if (x[i].value >= g->nvalues)
      return cb__fail(CB_EINVAL, "no value %d in this graph", x[i].value);
    const gvalue *v = &g->values[x[i].value];
    stand_in(v, &stand[i]);
    ops[i] = (cb_operand){.array = &stand[i], .device = -1};
    if (!shaped || (shaped->ndim == 0 && v->ndim > 0))
      shaped = v;
  }
  if (!shaped)
    return cb__fail(CB_EINVAL, "%s needs at least one array",
                    cb_op_name(op));
  for (int i = 0; i < n; i++) {
    const gvalue *v = x[i].value >= 0 ? &g->values[x[i].value] : NULL;
    if (v && v->ndim > 0 &&
        (v->ndim != shaped->ndim ||
         memcmp(v->shape, shaped->shape, sizeof(int64_t) * v->ndim)))
      return cb__fail(CB_ESHAPE,
                      "%s: shapes differ (only equal shapes, 0-D arrays "
                      "and scalars broadcast)", cb_op_name(op));
  }
  cb_dtype result;
  if (cb_op_get_kind(op) == CB_KIND_CAST) {
    if (out_dtype < 0 || out_dtype >= CB_NDTYPES)
      return cb__fail(CB_ETYPE, "cast needs a target dtype");
    result = (cb_dtype)out_dtype;
  } else {
    int rc = cb_result_dtype(op, ops, n, &result);
    if (rc)
      return rc;
  }
  gnode node = {.kind = NODE_EWISE, .op = (uint8_t)op, .n = (uint8_t)n,
                .out_dtype = (int8_t)out_dtype, .axis = CB_AXIS_ALL};
  for (int i = 0; i < n; i++) {
    if (x[i].value >= 0) {
      node.x[i] = x[i].value;
      continue;
    }
    if (grow((void **)&g->scalars, &g->cscalars, g->nscalars,
             sizeof *g->scalars))
      return CB_ENOMEM;
    g->scalars[g->nscalars] = ops[i];
    node.x[i] = -2 - g->nscalars++;
  }
  return add_node(g, &node, result, shaped->ndim, shaped->shape);
}

/* A value's dtype and shape, checked to exist. */
static const gvalue *value_of(const cb_graph *g, int v) {
  if (v < 0 || v >= g->nvalues) {
    cb__fail(CB_EINVAL, "no value %d in this graph", v);
    return NULL;
  }
  return &g->values[v];
}

/* A cast node of value v to t, or v itself when it has that dtype. */
static int cast_to(cb_graph *g, int v, cb_dtype t) {
  if (g->values[v].dtype == t)
    return v;
  cb_graph_operand x = {.value = v};
  return cb_graph_ewise(g, CB_OP_cast, &x, 1, (int)t);
}

/* Records a reduction (finish: a cb_reduce_op, or CB_NREDUCE for the dot
 * product of x and y) with cb_reduce's shape rules. */
static int record_reduce(cb_graph *g, int finish, int x, int y, int axis) {
  const gvalue *a = value_of(g, x), *b = y < 0 ? NULL : value_of(g, y);
  if (!a || (y >= 0 && !b))
    return CB_EINVAL;
  cb_array sa, sb;
  stand_in(a, &sa);
  if (b)
    stand_in(b, &sb);
  cb_dtype in, t;
  int ndim;
  int64_t shape[1], count;
  int rc = cb__reduce_shape(finish, &sa, b ? &sb : NULL, axis, &in, &t,
                            &ndim, shape, &count);
  if (rc)
    return rc;
  gnode node = {.kind = b ? NODE_DOT : NODE_REDUCE, .op = (uint8_t)finish,
                .n = b ? 2 : 1, .out_dtype = -1,
                .axis = (int8_t)(b ? CB_AXIS_ALL : axis), .x = {x, y}};
  return add_node(g, &node, t, ndim, shape);
}

int cb_graph_reduce(cb_graph *g, cb_reduce_op op, int x, int axis) {
  if ((unsigned)op >= CB_NREDUCE)
    return cb__fail(CB_EINVAL, "unknown reduction %d", (int)op);
  return record_reduce(g, op, x, -1, axis);
}

int cb_graph_dot(cb_graph *g, int x, int y) {
  if (y < 0)
    return cb__fail(CB_EINVAL, "no value %d in this graph", y);
  return record_reduce(g, CB_NREDUCE, x, y, CB_AXIS_ALL);
}

int cb_graph_matmul(cb_graph *g, int x, int y) {
  const gvalue *a = value_of(g, x), *b = a ? value_of(g, y) : NULL;
  if (!b)
    return CB_EINVAL;
  cb_array sa, sb;
  stand_in(a, &sa);
  stand_in(b, &sb);
  cb_operand ops[2] = {{.array = &sa, .device = -1},
                       {.array = &sb, .device = -1}};
  cb_dtype t;
  int rc = cb_result_dtype(CB_OP_multiply, ops, 2, &t);
  if (rc)
    return rc;
  if (t != CB_FLOAT32 && t != CB_FLOAT64)
    return cb__fail(CB_ETYPE,
                    "matmul: %s @ %s is not supported (BLAS multiplies "
                    "float32 and float64 arrays); convert with "
                    "astype(float64)",
                    cb_dtype_name(sa.dtype), cb_dtype_name(sb.dtype));
  int ndim;
  int64_t shape[2];
  if ((rc = cb__matmul_shape(&sa, &sb, &ndim, shape)))
    return rc;
  /* Operands of another dtype are converted first, as eager calls do. */
  if ((x = cast_to(g, x, t)) < 0 || (y = cast_to(g, y, t)) < 0)
    return x < 0 ? x : y;
  gnode node = {.kind = NODE_MATMUL, .n = 2, .out_dtype = -1,
                .axis = CB_AXIS_ALL, .x = {x, y}};
  return add_node(g, &node, t, ndim, shape);
}

int cb_graph_transpose(cb_graph *g, int x) {
  const gvalue *a = value_of(g, x);
  if (!a)
    return CB_EINVAL;
  if (a->ndim < 2)
    return x; /* as NumPy: 0-D and 1-D arrays are their own transpose */
  int64_t shape[2] = {a->shape[1], a->shape[0]};
  gnode node = {.kind = NODE_TRANSPOSE, .n = 1, .out_dtype = -1,
                .axis = CB_AXIS_ALL, .x = {x}};
  return add_node(g, &node, (cb_dtype)a->dtype, 2, shape);
}

int cb_graph_mark_output(cb_graph *g, int value) {
  if (value < 0 || value >= g->nvalues)
    return cb__fail(CB_EINVAL, "no value %d in this graph", value);
  if (grow((void **)&g->outputs, &g->coutputs, g->noutputs,
           sizeof *g->outputs))
    return CB_ENOMEM;
  g->values[value].output = 1;
  g->outputs[g->noutputs++] = value;
  return 0;
}

int cb_graph_nvalues(const cb_graph *g) { return g->nvalues; }
int cb_graph_nnodes(const cb_graph *g) { return g->nnodes; }

int cb_graph_value(const cb_graph *g, int value, cb_graph_value_info *out) {
  if (value < 0 || value >= g->nvalues)
    return cb__fail(CB_EINVAL, "no value %d in this graph", value);
  const gvalue *v = &g->values[value];
  *out = (cb_graph_value_info){.kind = v->kind, .node = v->node,
                               .dtype = (cb_dtype)v->dtype,
                               .ndim = v->ndim, .output = v->output};
  memcpy(out->shape, v->shape, sizeof out->shape);
  return 0;
}

static const char *node_name(const gnode *d) {
  switch (d->kind) {
  case NODE_EWISE:
    return cb_op_name((cb_op)d->op);
  case NODE_REDUCE:
    return cb_reduce_name((cb_reduce_op)d->op);
  case NODE_DOT:
    return "dot";
  case NODE_MATMUL:
    return "matmul";
  default:
    return "transpose";
  }
}

int cb_graph_node(const cb_graph *g, int node, const char **name,
                  int *operands, int *n, int *result) {
  if (node < 0 || node >= g->nnodes)
    return cb__fail(CB_EINVAL, "no node %d in this graph", node);
  const gnode *d = &g->nodes[node];
  *name = node_name(d);
  *n = d->n;
  for (int i = 0; i < d->n; i++)
    operands[i] = d->x[i] >= 0 ? d->x[i] : -1;
  *result = d->result;
  return 0;
}

static int check_inputs(const cb_graph *g, cb_array *const *inputs,
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

/* The value node d writes its result over, or -1: an intermediate that d
 * alone reads, of the result's dtype and shape. A chain's values then
 * share one array, and reusing it adds no dependency (its readers are
 * d). */
static int reused_value(const cb_graph *g, const gnode *d) {
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
  int rc = check_inputs(g, inputs, ninputs);
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
      int reuse = reused_value(g, d);
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

/* ---- estimates from the performance models ---------------------------- */

/* The expected time of one tile task of node d on worker, its buffers
 * standing in with handles of the right sizes (the footprint depends on
 * them only); NAN when the model has no measurement. */
static double tile_us(const cb_graph *g, const gnode *d,
                      cb_array *const *ref, int tile, int worker) {
  struct starpu_codelet *cl = &cb__ew_codelets[d->op];
  if (!cl->model || !cl->model->is_loaded)
    return NAN;
  cb_array *out = ref[d->result];
  struct starpu_task task;
  starpu_task_init(&task);
  task.cl = cl;
  int nbuf = 0, reuse = reused_value(g, d);
  for (int k = 0; k < d->n; k++) {
    if (d->x[k] < 0 || d->x[k] == reuse) /* as the run submits it */
      continue;
    const cb_array *in = ref[d->x[k]];
    int elem = in->size == 1 && out->size > 1;
    task.handles[nbuf] = in->tiles[elem ? 0 : tile];
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
  int rc = check_inputs(g, inputs, ninputs);
  if (rc || (rc = cb__enter()))
    return rc;
  for (int d = 0; device < 0 && d < cb__ndevices; d++)
    if (cb__devices[d].info.backend == CB_BACKEND_CPU)
      device = d;
  cb_array **ref = calloc((size_t)g->nvalues + 1, sizeof *ref);
  double *finish = calloc((size_t)g->nvalues + 1, sizeof *finish);
  if (!ref || !finish || device < 0 || device >= cb__ndevices) {
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
      rc = cb__array_register(ref[v]);
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
    double sum = priced ? 0 : NAN, t = 0;
    for (int tile = 0; priced && tile < r->ntiles; tile++)
      sum += tile_us(g, d, ref, tile, dev->workers[tile % dev->nworkers]);
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
