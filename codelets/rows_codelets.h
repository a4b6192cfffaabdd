/*
 * Row copies: a task whose output tile is made of runs of elements taken
 * from its input buffers in turn (rows.c). Rolling an array along its
 * leading dimension is such tasks: each result tile takes its rows from
 * its own tile of the source and, through small buffers that other tasks
 * fill where the neighbouring tiles live, from those tiles; so only those
 * rows travel between devices or ranks.
 */
#ifndef CAMBRIAN_CODELETS_ROWS_H
#define CAMBRIAN_CODELETS_ROWS_H

#include <stdint.h>

#include <starpu.h>

#include "cambrian.h"
#include "taskctx.h"

/* Runs a task may take: a result tile's rows come from at most two runs
 * of the source (the roll wraps once), each over at most two tiles. */
#define CB__ROWS_MAXRUNS 4

typedef struct cb__rows_task {
  cb__ctx ctx;                /* first: the codelets see a cb__ctx */
  int nruns;                  /* buffers[0..nruns) in, buffers[nruns] out */
  int64_t from[CB__ROWS_MAXRUNS];  /* first element of run i in buffer i */
  int64_t count[CB__ROWS_MAXRUNS]; /* its elements */
  cb_array *arrays[2];        /* what it reads and what it writes */
  int narrays;
} cb__rows_task;

/* The codelet (CPU and OpenCL), whose cl_arg is a cb__rows_task. */
extern struct starpu_codelet cb__rows_codelet;

#endif
