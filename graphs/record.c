/*
 * Recording a graph: array operations (element-wise, reductions, dot,
 * matmul, transpose) over symbolic values, with dtypes and shapes checked
 * by the rules of the eager calls; and what a graph tells of itself.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrays.h"
#include "errors.h"
#include "graph.h"
#include "shapes.h"

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
  for (int grp = 0; grp < g->ngroups; grp++)
    free(g->groups[grp].prog);
  free(g->groups);
  free(g->values);
  free(g->nodes);
  free(g->scalars);
  free(g->consts);
  free(g->outputs);
  free(g);
}

/* shape as Python writes a tuple: "(3,)", "(2, 3)". */
static void shape_text(int ndim, const int64_t *shape, char *buf,
                       size_t cap) {
  int used = snprintf(buf, cap, "(");
  for (int i = 0; i < ndim && used >= 0 && (size_t)used < cap; i++)
    used += snprintf(buf + used, cap - (size_t)used, "%s%lld",
                     i ? ", " : "", (long long)shape[i]);
  if (used >= 0 && (size_t)used < cap)
    snprintf(buf + used, cap - (size_t)used, ndim == 1 ? ",)" : ")");
}

static int new_value(cb_graph *g, int kind, cb_dtype t, int ndim,
                     const int64_t *shape) {
  if (ndim < 0 || ndim > CB_MAX_NDIM || (unsigned)t >= CB_NDTYPES)
    return cb__fail(CB_EINVAL, "bad dtype or number of dimensions");
  /* The shape is checked before the graph grows: a refused value leaves
   * nothing behind. */
  for (int i = 0; i < ndim; i++)
    if (shape[i] < 0) {
      char text[64];
      shape_text(ndim, shape, text, sizeof text);
      return cb__fail(CB_EINVAL, "negative dimension %lld in shape %s",
                      (long long)shape[i], text);
    }
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
  for (int i = 0; i < ndim; i++)
    v->shape[i] = shape[i];
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
  if (g->ngroups)
    cb__graph_unfuse(g); /* the plan is stale */
  node->result = id;
  node->group = -1;
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
  int ndims[CB__MAX_OPERANDS], narrays = 0;
  const int64_t *shapes[CB__MAX_OPERANDS];
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
    ndims[narrays] = v->ndim;
    shapes[narrays++] = v->shape;
  }
  if (!narrays)
    return cb__fail(CB_EINVAL, "%s needs at least one array",
                    cb_op_name(op));
  int ndim;
  int64_t shape[CB_MAX_NDIM];
  int rc = cb__broadcast_shape(cb_op_name(op), narrays, ndims, shapes, &ndim,
                               shape);
  if (rc)
    return rc;
  cb_dtype result;
  if (cb_op_get_kind(op) == CB_KIND_CAST) {
    if (out_dtype < 0 || out_dtype >= CB_NDTYPES)
      return cb__fail(CB_ETYPE, "cast needs a target dtype");
    result = (cb_dtype)out_dtype;
  } else if ((rc = cb_result_dtype(op, ops, n, &result))) {
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
  return add_node(g, &node, result, ndim, shape);
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
  int64_t shape[CB_MAX_NDIM], count;
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
  if (t != CB_FLOAT32 && t != CB_FLOAT64 && t != CB_COMPLEX64 &&
      t != CB_COMPLEX128)
    return cb__fail(CB_ETYPE,
                    "matmul: %s @ %s is not supported (BLAS multiplies "
                    "float and complex arrays); convert with "
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
  if (g->ngroups)
    cb__graph_unfuse(g); /* the value may be a fused intermediate */
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
