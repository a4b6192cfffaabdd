/*
 * Reductions: a task per tile reduces it into partial results where the
 * tile lives (a CPU loop or a generated OpenCL kernel), then one CPU task
 * combines the partials.
 */
#ifndef CAMBRIAN_CODELETS_REDUCE_H
#define CAMBRIAN_CODELETS_REDUCE_H

#include <stdint.h>

#include "cambrian.h"
#include "taskctx.h"

/* How elements combine: added (sum, mean), squared and added (norm),
 * smallest, largest, multiplied pairwise and added (dot), and the index
 * of the first smallest or largest (argmin, argmax: a tile's task writes
 * the best values into its partial and their indices into a second one,
 * of int64). */
enum { CB__RF_ADD, CB__RF_SQUARE, CB__RF_MIN, CB__RF_MAX, CB__RF_DOT,
       CB__RF_ARGMIN, CB__RF_ARGMAX, CB__NRF };
#define CB__RF_IS_ARG(f) ((f) == CB__RF_ARGMIN || (f) == CB__RF_ARGMAX)
/* What a tile's task reduces: every element (into CB__RCHUNKS partials,
 * one per chunk of the tile), each row, each column, or each column of
 * each slab of count rows (an axis between the first and the last: the
 * tile's partial is its part of the result). */
enum { CB__RM_ALL, CB__RM_ROWS, CB__RM_COLS, CB__RM_MID, CB__NRM };
#define CB__RCHUNKS 64

/* The context of a reduction's tile task and of its combine task. */
typedef struct cb__rtask {
  cb__ctx ctx;                /* first: the codelets see a cb__ctx too */
  int family;                 /* CB__RF_* */
  int mode;                   /* CB__RM_* */
  int finish;                 /* cb_reduce_op, or CB_NREDUCE for dot */
  cb_dtype in;                /* input elements */
  cb_dtype part;              /* partial results */
  cb_dtype res;               /* the result */
  int64_t cols;               /* elements per row (1 for vectors) */
  int64_t count;              /* elements reduced into each result */
  int64_t first;              /* tile task: its tile's first element */
  int nparts;                 /* combine: partial buffers (for argmin and
                               * argmax, those of values, then those of
                               * indices), then outputs */
  int64_t size;               /* combine: elements of the result */
  int narrays;
  cb_array *arrays[3];        /* references: inputs, then the result */
} cb__rtask;

/* Reductions have loops for real dtypes only: the scheduler refuses
 * complex ones at the call (the package takes them apart). A task of
 * another dtype that got here anyway fails (CB_ETYPE); returns 1 then. */
int cb__reduce_refused(cb__rtask *t);

void cb__reduce_tile_cpu(void *buffers[], void *cl_arg);
void cb__reduce_tile_opencl(void *buffers[], void *cl_arg);
void cb__reduce_combine_cpu(void *buffers[], void *cl_arg);

#endif
