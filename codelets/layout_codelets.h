/*
 * Layout copies: the elements of one array that a strided layout reaches,
 * copied into those of another array that a second layout reaches. A copy
 * is a job of two arguments (source, destination); its payload is this
 * description. The CPU loop and the OpenCL kernel walk the destination's
 * shape in C order.
 */
#ifndef CAMBRIAN_CODELETS_LAYOUT_H
#define CAMBRIAN_CODELETS_LAYOUT_H

#include <stdint.h>

#include "cambrian.h"
#include "job_codelets.h"

typedef struct cb__layout_copy {
  int ndim;
  int64_t shape[CB_MAX_NDIM];
  int64_t from[CB_MAX_NDIM];  /* source strides, in elements */
  int64_t to[CB_MAX_NDIM];    /* destination strides, in elements */
  int64_t from_offset;        /* first element read */
  int64_t to_offset;          /* first element written */
  int64_t count;              /* elements copied */
  int elem;                   /* bytes of an element: 1, 2, 4, 8 or 16 */
} cb__layout_copy;

/* The job's functions; the payload is a cb__layout_copy. */
void cb__layout_copy_cpu(cb__job *j, void *buffers[]);
void cb__layout_copy_opencl(cb__job *j, void *buffers[]);

#endif
