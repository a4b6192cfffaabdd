/*
 * Arrays: a host buffer, its tiles registered with StarPU for the running
 * runtime, the failure of the task that wrote it, and the event of the
 * operation that writes it now.
 */
#ifndef CAMBRIAN_SCHEDULER_ARRAYS_H
#define CAMBRIAN_SCHEDULER_ARRAYS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <starpu.h>

#include "cambrian.h"
#include "failure.h"

struct cb_array {
  /* First, so that tasks can mark it (see failure.h): the failure of the
   * task that wrote it, if any (set once). */
  cb__marked mark;
  atomic_int refcount;
  cb_dtype dtype;
  int ndim;
  int64_t shape[CB_MAX_NDIM];
  int64_t size;
  size_t nbytes;
  void *data;
  void (*release)(void *arg); /* NULL: data is ours, freed with free(). */
  void *release_arg;
  struct cb__pinned *pinned;  /* data is pinned memory (pinned.c) */
  /* Tiles: registered lazily, for the runtime generation in gen. Guarded by
   * registry_lock (array.c); readers check gen with an acquire load first. */
  atomic_uint gen;
  int ntiles;
  int64_t tile_elems;
  int64_t tile_hint;          /* elements a tile asked for; 0: default */
  cb_distribution dist;       /* over the ranks (distributed.h) */
  starpu_data_handle_t *tiles;
  starpu_data_handle_t tile0;  /* storage when ntiles == 1 */
  /* The device the array was last made or registered for (-1: none, or
   * automatic placement): where its results are read back from. */
  int home;
  /* The event of the operation that writes it; NULL when none does.
   * Set before the operation's tasks are submitted. */
  cb_event *writer;
  /* Links in the list of registered arrays (registry_lock). */
  struct cb_array *prev, *next;
  /* Gathers put off (lazy.c): the one that fills this array, and those
   * that read it. */
  struct cb__lazy *_Atomic lazy;
  struct cb__lazy *_Atomic readers;
  /* Operations submitted that write it (cb__lazy_before_write): a view
   * reads it again when the count moved since it last did. */
  atomic_ullong writes;
  /* Link in the reclaim queue. */
  struct cb_array *reclaim_next;
};

/* The bytes of an array's host buffer: its data rounded up to 64 bytes
 * (the alignment that suits vector loads and DMA). */
static inline size_t cb__array_host_bytes(const cb_array *a) {
  return (a->nbytes + 63) & ~(size_t)63;
}

/* The row length tiles follow: the elements after the leading dimension
 * (1 for 0-D and 1-D arrays). Tiles hold whole rows, so that they cut an
 * array along its leading dimension only. */
static inline int64_t cb__shape_row(int ndim, const int64_t *shape) {
  int64_t row = 1;
  for (int i = 1; i < ndim; i++)
    row *= shape[i];
  return row;
}

static inline int64_t cb__array_row(const cb_array *a) {
  return cb__shape_row(a->ndim, a->shape);
}

/* A new array registered with the running runtime, tiled for device (-1:
 * none) or in tiles of hint elements (see cb__tile_elems_for), recycled
 * from the pool when one of the same size and tiles is there (its data is
 * then undefined). */
int cb__array_new_registered(cb_dtype t, int ndim, const int64_t *shape,
                             int device, int64_t hint, cb_array **out);
/* The same, distributed as dist says (never from the pool when it is);
 * cb__array_new_registered takes the calling thread's distribution. */
int cb__array_new_dist(cb_dtype t, int ndim, const int64_t *shape,
                       int device, int64_t hint, cb_distribution dist,
                       cb_array **out);
/* The distribution of a result computed from the arrays given (NULL ones
 * skipped): the first distributed one's, else the calling thread's. */
cb_distribution cb__dist_of(cb_array *const *arrays, int n);
/* Registers the array's tiles with the running runtime, tiled for device,
 * unless it is registered already (with the tiles it has then). */
int cb__array_register(cb_array *a, int device);
/* A copy of a in tiles of tile elements (*out, a new reference), written
 * by a task on device, for work there with arrays tiled otherwise. The
 * caller holds the run lock (retile.c). */
int cb__array_retile(cb_array *a, int device, int64_t tile, cb_array **out);
/* Makes e the event of the operation that writes the array now. */
void cb__array_set_writer(cb_array *a, cb_event *e);
/* Unregisters every array (runtime shutdown, nothing pending). */
void cb__arrays_unregister_all(void);
/* Frees an array right away; only where nothing can be pending on it. */
void cb__array_destroy(cb_array *a);

#endif
