/*
 * Jobs: tasks over whole arrays (user kernels, Python functions, BLAS,
 * reductions). The scheduler makes and submits them; what runs on a
 * worker sees this description, and on OpenCL gathers an array's tiles
 * into one device buffer when the job needs it whole.
 */
#ifndef CAMBRIAN_CODELETS_JOB_H
#define CAMBRIAN_CODELETS_JOB_H

#include <stddef.h>

#include "cambrian.h"
#include "taskctx.h"

/* Access of a job to one of its arrays. CB__OVERWRITE writes the tiles it
 * holds whole, without reading them, but leaves the rest of the array as
 * it was (its failure too): CB__WRITE says the job writes all of it. */
enum { CB__READ = 1, CB__WRITE = 2, CB__READWRITE = 3, CB__OVERWRITE = 6 };

typedef struct cb__job_arg {
  cb_array *array;            /* a reference */
  int mode;                   /* CB__READ, CB__WRITE, ... (above) */
  int first;                  /* index of its first tile in buffers[] */
  int tile0;                  /* the array's first tile the job holds */
  int ntiles;                 /* its tiles (buffers[first] onwards) */
  size_t nbytes;              /* the bytes of those tiles */
} cb__job_arg;

typedef struct cb__job cb__job;
struct cb__job {
  cb__ctx ctx;                /* first: the codelets see a cb__ctx too */
  char name[48];
  /* What runs, after the error channel's checks; NULL where it cannot. */
  void (*run_cpu)(cb__job *j, void *buffers[]);
  void (*run_opencl)(cb__job *j, void *buffers[]);
  void (*release)(cb__job *j); /* frees payload; may be NULL */
  void *payload;
  int nargs;
  cb__job_arg *args;
  cb_array **lists;           /* storage of ctx.in and ctx.out */
};

/* The OpenCL side, for codelets that include CL/cl.h: argument i as one
 * device buffer, gathered from its tiles when it has several (or when its
 * one tile starts at an offset and the caller cannot take one), into the
 * device's scratch buffer slot (scratch.h), or into a buffer of its own
 * when slot is -1; scatter writes a gathered buffer back, and frees it
 * when it was its own. */
#ifdef CL_SUCCESS
typedef struct cb__clbuf {
  cl_mem mem;
  size_t offset;              /* bytes */
  int scratch;                /* gathered: 1, its own; 2, a scratch slot */
} cb__clbuf;
cl_int cb__job_cl_gather(const cb__job *j, int i, void *buffers[],
                         cl_command_queue q, int accept_offset, int slot,
                         cb__clbuf *out);
/* Frees buf's buffer when it is its own. */
void cb__job_cl_release(cb__clbuf *buf);
cl_int cb__job_cl_scatter(const cb__job *j, int i, void *buffers[],
                          cl_command_queue q, cb__clbuf *buf);

/* The body of a job's OpenCL function over a source (argument 0) and a
 * destination (argument 1): gathers both, calls run(j, q, src, dst, arg,
 * what), which returns a status and names in *what the step that failed,
 * then scatters the destination back, releases the scratch buffers and
 * records any failure on the job. */
typedef cl_int (*cb__job_cl_pair_fn)(cb__job *j, cl_command_queue q,
                                     const cb__clbuf *src,
                                     const cb__clbuf *dst, const void *arg,
                                     const char **what);
void cb__job_cl_pair(cb__job *j, void *buffers[], cb__job_cl_pair_fn run,
                     const void *arg);
#endif

/* A job's OpenCL function: copies argument 0 into argument 1 (of the
 * same size, tiled another way) on the device. */
void cb__job_cl_copy(cb__job *j, void *buffers[]);

#endif
