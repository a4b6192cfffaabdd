/*
 * What a graph is made of, shared by its recording (record.c), its runs
 * (run.c) and its estimates (estimate.c). Nodes and values are kept small
 * (a million nodes take about 50 MB): scalars live in their own table,
 * referred to by negative operand ids.
 */
#ifndef CAMBRIAN_GRAPHS_GRAPH_H
#define CAMBRIAN_GRAPHS_GRAPH_H

#include <stdint.h>

#include "cambrian.h"
#include "errors.h"
#include "fused.h"

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
  int32_t group;              /* its fused group, or -1 */
} gnode;

/* Element-wise nodes run as one fused task per tile (fuse.c): the
 * members are the nodes first to last whose group it is, and the last
 * one runs it; its result is the group's, the others' results are read
 * by members only and never made. */
typedef struct ggroup {
  cb__fprog *prog;            /* once planned (about 1 KB) */
  int32_t inputs[CB__MAX_OPERANDS]; /* value ids, register by register */
  int32_t first, last;
  int nmembers;
} ggroup;

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
  ggroup *groups;             /* the fusion plan, if any (fuse.c) */
  int ngroups, cgroups;
};

/* Checks that inputs fit the graph's inputs (count, dtypes, shapes). */
int cb__graph_check_inputs(const cb_graph *g, cb_array *const *inputs,
                           int ninputs);
/* Drops the fusion plan (recording a node makes it stale), and sets
 * every value's last use back to its last reader. */
void cb__graph_unfuse(cb_graph *g);

/* The value node d writes its result over, or -1: an intermediate that d
 * alone reads, of the result's dtype and shape. A chain's values then
 * share one array, and reusing it adds no dependency (its readers are
 * d). */
int cb__graph_reused_value(const cb_graph *g, const gnode *d);

#endif
