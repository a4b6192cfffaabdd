/*
 * Arrays: a host buffer cut into tiles, each a StarPU vector handle.
 *
 * Tiles are registered lazily, for the runtime that runs when the array is
 * first used, and unregistered at shutdown, so arrays outlive a runtime
 * and stay readable on the host. Arrays of the same shape registered for
 * devices of one kind have the same tiles within one runtime; element-wise
 * work on an array tiled for another kind copies it first (retile.c).
 *
 * Lifetime: the creator holds a reference and every task using the array
 * holds one. The last reference queues the array for the reclaim thread.
 *
 * Locking: registry_lock guards the list of registered arrays and the
 * tile fields while they are registered or unregistered.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrays.h"
#include "budget.h"
#include "devices.h"
#include "devtab.h"
#include "distributed.h"
#include "drivers.h"
#include "errors.h"
#include "events.h"
#include "failure.h"
#include "lazy.h"
#include "pinned.h"
#include "pool.h"
#include "reclaim.h"
#include "runtime.h"
#include "staging.h"
#include "tiles.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static cb_array registered = {.prev = &registered, .next = &registered};

static int check_shape(cb_dtype t, int ndim, const int64_t *shape,
                       int64_t *size) {
  if ((unsigned)t >= CB_NDTYPES)
    return cb__fail(CB_ETYPE, "unknown dtype %d", (int)t);
  if (ndim < 0 || ndim > CB_MAX_NDIM)
    return cb__fail(CB_EINVAL,
                    "arrays have at most %d dimensions (got %d)",
                    CB_MAX_NDIM, ndim);
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0)
      return cb__fail(CB_EINVAL, "negative dimension %lld",
                      (long long)shape[i]);
    if (shape[i] && n > INT64_MAX / 16 / shape[i])
      return cb__fail(CB_ENOMEM, "array too large");
    n *= shape[i];
  }
  *size = n;
  return 0;
}

/* The tile size the arrays this thread makes ask for (0: default). */
static _Thread_local int64_t thread_tile;

int cb_set_thread_tile_size(int64_t tile_elems, int64_t *previous) {
  if (tile_elems < 0)
    return cb__fail(CB_EINVAL, "tile size %lld is negative",
                    (long long)tile_elems);
  if (previous)
    *previous = thread_tile;
  thread_tile = tile_elems;
  return 0;
}

static _Thread_local cb_distribution thread_dist;

static int check_distribution(cb_distribution d) {
  return d == CB_DIST_NONE || d == CB_DIST_BLOCK || d == CB_DIST_CYCLIC
             ? 0
             : cb__fail(CB_EINVAL, "unknown distribution %d", (int)d);
}

int cb_set_thread_distribution(cb_distribution d, cb_distribution *previous) {
  if (check_distribution(d))
    return CB_EINVAL;
  if (previous)
    *previous = thread_dist;
  thread_dist = d;
  return 0;
}

static cb_array *alloc_array(cb_dtype t, int ndim, const int64_t *shape,
                             int64_t size) {
  cb_array *a = calloc(1, sizeof *a);
  if (!a)
    return NULL;
  a->tile_hint = thread_tile;
  a->dist = thread_dist;
  a->home = -1;
  atomic_init(&a->refcount, 1);
  atomic_init(&a->gen, 0);
  atomic_init(&a->mark.failure, NULL);
  a->dtype = t;
  a->ndim = ndim;
  for (int i = 0; i < ndim; i++)
    a->shape[i] = shape[i];
  a->size = size;
  a->nbytes = (size_t)size * cb_dtype_size(t);
  return a;
}

/* A new array whose host buffer suits device: pinned for a GPU, at once
 * when pin_now, else when pinned memory is at hand (see pinned.c). */
static int array_new(cb_dtype t, int ndim, const int64_t *shape, int device,
                     int pin_now, cb_array **out) {
  int64_t size;
  int rc = check_shape(t, ndim, shape, &size);
  if (rc)
    return rc;
  cb_array *a = alloc_array(t, ndim, shape, size);
  if (!a)
    return cb__fail(CB_ENOMEM, "out of host memory");
  size_t bytes = cb__array_host_bytes(a);
  rc = cb__budget_take(bytes);
  if (rc == CB_ENOMEM && cb_is_running() && !cb__in_task()) {
    /* Arrays already dropped may still hold memory: kept for reuse, or
     * queued to be freed. */
    cb__busy_begin(CB__BUSY_MOVES); /* unregistering may bring data home */
    cb__pool_flush();
    cb__busy_end(CB__BUSY_MOVES);
    cb__reclaim_settle();
    rc = cb__budget_take(bytes);
  }
  if (rc) {
    free(a);
    return rc;
  }
  if (device >= 0) {
    a->data = cb__pinned_alloc(device, bytes, 0, &a->pinned);
    /* A dead array's pinned buffer of this size, kept in the pool with
     * its tiles for results, is taken back before pinning anew: pinning
     * costs far more (11 ms for 16 MiB on an H200, against 1.5 ms to
     * fill it). */
    if (!a->data && pin_now && cb_is_running() && !cb__in_task() &&
        cb__pool_drop_pinned(bytes))
      a->data = cb__pinned_alloc(device, bytes, 0, &a->pinned);
    if (!a->data && pin_now)
      a->data = cb__pinned_alloc(device, bytes, 1, &a->pinned);
  }
  if (!a->data)
    a->data = aligned_alloc(64, bytes ? bytes : 64);
  if (!a->data) {
    size_t nbytes = a->nbytes;
    cb__budget_give(bytes);
    free(a);
    return cb__fail(CB_ENOMEM, "cannot allocate %zu bytes of host memory",
                    nbytes);
  }
  *out = a;
  return 0;
}

int cb_array_new(cb_dtype t, int ndim, const int64_t *shape, cb_array **out) {
  return array_new(t, ndim, shape, -1, 0, out);
}

int cb_array_new_on(cb_dtype t, int ndim, const int64_t *shape, int device,
                    cb_array **out) {
  if (device < 0)
    return array_new(t, ndim, shape, -1, 0, out);
  int rc = cb__enter();
  if (rc)
    return rc;
  rc = cb__device_usable(device);
  if (rc == 0)
    rc = array_new(t, ndim, shape, device, 1, out);
  cb__leave();
  return rc;
}

int cb__array_new_registered(cb_dtype t, int ndim, const int64_t *shape,
                             int device, int64_t hint, cb_array **out) {
  return cb__array_new_dist(t, ndim, shape, device, hint, thread_dist, out);
}

cb_distribution cb__dist_of(cb_array *const *arrays, int n) {
  for (int i = 0; i < n; i++)
    if (arrays[i] && arrays[i]->dist != CB_DIST_NONE)
      return arrays[i]->dist;
  return thread_dist;
}

/* The tiles of an array of size elements in rows of row: as the device
 * would take them, or, spread over the ranks without a hint, as many for
 * each rank, whole rows each, so that the ranks get equal parts. */
static int64_t plan_tiles(int64_t size, int64_t row, int device,
                          int64_t hint, int spread, int64_t *ntiles) {
  int64_t tile = cb__tile_elems_for(size, row, device, hint, ntiles);
  if (spread && size > 0 && !hint) {
    int64_t rows = size / row;
    int64_t want = (*ntiles + cb_nranks() - 1) / cb_nranks() * cb_nranks();
    int64_t per = (rows + want - 1) / want;
    tile = per * row;
    *ntiles = (rows + per - 1) / per;
  }
  return tile;
}

/* A pooled array of size elements for device, taken over with this shape,
 * or NULL; one with a pinned host buffer when pinned is set. A pooled
 * distributed array has the same owners (the same tiles over the same
 * ranks); its tiles take new tags, as many as a new one's. */
static cb_array *pooled(cb_dtype t, int ndim, const int64_t *shape,
                        int64_t size, int device, int64_t hint,
                        cb_distribution dist, int pinned) {
  if (size <= 0)
    return NULL;
  int64_t ntiles;
  int spread = cb__dist_on && dist != CB_DIST_NONE;
  int64_t tile = plan_tiles(size, cb__shape_row(ndim, shape), device, hint,
                            spread, &ntiles);
  cb_array *a = cb__pool_get(t, size, tile, dist, pinned);
  if (!a)
    return NULL;
  if (spread)
    for (int i = 0; i < a->ntiles; i++)
      cb__dist_retag(a->tiles[i]);
  a->ndim = ndim;
  for (int i = 0; i < ndim; i++)
    a->shape[i] = shape[i];
  a->home = device;
  return a;
}

int cb__array_new_dist(cb_dtype t, int ndim, const int64_t *shape,
                       int device, int64_t hint, cb_distribution dist,
                       cb_array **out) {
  int64_t size;
  int rc = check_shape(t, ndim, shape, &size);
  if (rc)
    return rc;
  if (!hint)
    hint = thread_tile;
  if ((*out = pooled(t, ndim, shape, size, device, hint, dist, 0)))
    return 0;
  rc = array_new(t, ndim, shape, device, 0, out);
  if (rc == 0) {
    (*out)->tile_hint = hint;
    (*out)->dist = dist;
  }
  if (rc == 0 && (rc = cb__array_register(*out, device))) {
    cb_array_unref(*out);
    *out = NULL;
  }
  return rc;
}

int cb_array_new_result(cb_dtype t, int ndim, const int64_t *shape,
                        int device, cb_array **out) {
  int64_t size;
  int rc = check_shape(t, ndim, shape, &size);
  if (rc)
    return rc;
  if (device < 0)
    return cb_array_new_on(t, ndim, shape, device, out);
  if ((rc = cb__enter()))
    return rc;
  cb_array *a = NULL;
  /* An array for a GPU keeps its promise of pinned host memory. */
  if ((rc = cb__device_usable(device)) == 0)
    a = pooled(t, ndim, shape, size, device, thread_tile, thread_dist,
               cb__pinned_wanted(device));
  cb__leave();
  if (rc || a) {
    *out = a;
    return rc;
  }
  return cb_array_new_on(t, ndim, shape, device, out);
}

int cb_array_wrap(cb_dtype t, int ndim, const int64_t *shape, void *data,
                  void (*release)(void *arg), void *arg, cb_array **out) {
  int64_t size;
  int rc = check_shape(t, ndim, shape, &size);
  if (rc)
    return rc;
  if (!release)
    return cb__fail(CB_EINVAL, "a wrapped buffer needs a release function");
  cb_array *a = alloc_array(t, ndim, shape, size);
  if (!a)
    return cb__fail(CB_ENOMEM, "out of host memory");
  cb__budget_count(a->nbytes);
  a->data = data;
  a->release = release;
  a->release_arg = arg;
  *out = a;
  return 0;
}

void cb_array_ref(cb_array *a) {
  atomic_fetch_add_explicit(&a->refcount, 1, memory_order_relaxed);
}

void cb_array_unref(cb_array *a) {
  if (!a || atomic_fetch_sub_explicit(&a->refcount, 1,
                                      memory_order_acq_rel) != 1)
    return;
  if (cb__forked()) {
    /* In a child after fork(), locks may be held by threads that are
     * gone: only the host buffer goes back; the rest stays behind. */
    if (a->release)
      a->release(a->release_arg);
    else if (!a->pinned) /* the driver's state is the parent's */
      free(a->data);
    return;
  }
  cb__lazy_drop(a);
  if (cb__pool_put(a))
    return;
  if (atomic_load(&a->gen))
    cb__reclaim_push(a);
  else
    cb__array_destroy(a);
}

/* Takes the array off the registered list; the caller unregisters the
 * tiles it returns. Holds registry_lock. */
static starpu_data_handle_t *detach(cb_array *a, int *ntiles) {
  starpu_data_handle_t *tiles = a->tiles;
  *ntiles = a->ntiles;
  a->tiles = NULL;
  a->ntiles = 0;
  a->prev->next = a->next;
  a->next->prev = a->prev;
  a->prev = a->next = NULL;
  atomic_store(&a->gen, 0);
  return tiles;
}

static void unregister_tiles(cb_array *a, starpu_data_handle_t *tiles, int n,
                             int coherent) {
  for (int i = 0; i < n && !cb__forked(); i++) {
    if (coherent)
      starpu_data_unregister(tiles[i]);
    else
      starpu_data_unregister_no_coherency(tiles[i]);
  }
  if (tiles != &a->tile0)
    free(tiles);
}

void cb__array_destroy(cb_array *a) {
  starpu_data_handle_t *tiles = NULL;
  int n = 0;
  pthread_mutex_lock(&registry_lock);
  if (a->prev)
    tiles = detach(a, &n);
  pthread_mutex_unlock(&registry_lock);
  /* Memory of the caller's (a NumPy array a task wrote through cb.Out,
   * say) gets the data back from wherever it is; ours needs no copy. */
  if (tiles && a->release) {
    cb__busy_begin(CB__BUSY_MOVES);
    unregister_tiles(a, tiles, n, 1);
    cb__busy_end(CB__BUSY_MOVES);
  } else if (tiles) {
    unregister_tiles(a, tiles, n, 0);
  }
  cb__failure *f = atomic_load(&a->mark.failure);
  if (f)
    cb__failure_unref(f);
  cb_event_unref(a->writer);
  size_t bytes = a->release ? a->nbytes : cb__array_host_bytes(a);
  if (a->release)
    a->release(a->release_arg);
  else if (a->pinned)
    cb__pinned_free(a->pinned);
  else
    free(a->data);
  free(a);
  cb__budget_give(bytes);
}

/* At shutdown, with nothing pending: the data comes home. The arrays are
 * detached under the lock and unregistered after it, since a coherent
 * unregistration waits for drivers, whose callbacks may need the lock. */
void cb__arrays_unregister_all(void) {
  for (;;) {
    pthread_mutex_lock(&registry_lock);
    cb_array *a = registered.next != &registered ? registered.next : NULL;
    int n = 0;
    starpu_data_handle_t *tiles = a ? detach(a, &n) : NULL;
    pthread_mutex_unlock(&registry_lock);
    if (!a)
      return;
    unregister_tiles(a, tiles, n, 1);
  }
}

int cb__array_register(cb_array *a, int device) {
  /* An array filled by a gather put off is about to be used: the gather
   * goes first (lazy.c). */
  if (atomic_load_explicit(&a->lazy, memory_order_relaxed)) {
    int rc = cb__lazy_fill(a);
    if (rc)
      return rc;
  }
  unsigned g = cb_generation();
  if (atomic_load_explicit(&a->gen, memory_order_acquire) == g)
    return 0;
  pthread_mutex_lock(&registry_lock);
  int rc = 0;
  if (atomic_load(&a->gen) == g)
    goto out;
  int64_t ntiles = 0, tile = 0;
  int spread = cb__dist_on && a->dist != CB_DIST_NONE;
  if (a->size > 0)
    tile = plan_tiles(a->size, cb__array_row(a), device, a->tile_hint, spread,
                      &ntiles);
  a->tiles = ntiles > 1 ? calloc((size_t)ntiles, sizeof *a->tiles)
                        : &a->tile0;
  if (!a->tiles) {
    rc = cb__fail(CB_ENOMEM, "out of host memory");
    goto out;
  }
  size_t es = cb_dtype_size(a->dtype);
  for (int64_t i = 0; i < ntiles; i++) {
    int64_t first = i * tile;
    int64_t n = a->size - first < tile ? a->size - first : tile;
    cb__tile_register(&a->tiles[i], STARPU_MAIN_RAM,
                      (uintptr_t)((char *)a->data + first * es), (uint32_t)n,
                      es, a->pinned != NULL, a, NULL);
    cb__dist_register(a->tiles[i],
                      spread ? cb__dist_owner(a->dist, i, ntiles)
                             : CB__DIST_REPLICATED,
                      a);
  }
  a->ntiles = (int)ntiles;
  a->tile_elems = tile;
  a->home = device;
  a->next = &registered;
  a->prev = registered.prev;
  registered.prev->next = a;
  registered.prev = a;
  atomic_store_explicit(&a->gen, g, memory_order_release);
out:
  pthread_mutex_unlock(&registry_lock);
  return rc;
}

cb_dtype cb_array_dtype(const cb_array *a) { return a->dtype; }
int cb_array_ndim(const cb_array *a) { return a->ndim; }
const int64_t *cb_array_shape(const cb_array *a) { return a->shape; }
int64_t cb_array_size(const cb_array *a) { return a->size; }
void *cb_array_data(const cb_array *a) { return a->data; }

/* Copies from this many bytes up go through the stager threads. */
#define CB__COPY_IN_SHARED ((size_t)8 << 20)

int cb_array_copy_in(cb_array *a, const void *src) {
  if (atomic_load(&a->gen) || a->release)
    return cb__fail(CB_ESTATE, "copy_in: only an array not used yet, with "
                    "a host buffer of its own, takes a copy in");
  if (a->nbytes < CB__COPY_IN_SHARED ||
      cb__stage_memcpy(a->data, src, a->nbytes))
    memcpy(a->data, src, a->nbytes);
  return 0;
}

int cb_array_set_tile_size(cb_array *a, int64_t tile_elems) {
  if (tile_elems < 0)
    return cb__fail(CB_EINVAL, "tile size %lld is negative",
                    (long long)tile_elems);
  pthread_mutex_lock(&registry_lock);
  int used = atomic_load(&a->gen) != 0;
  if (!used)
    a->tile_hint = tile_elems;
  pthread_mutex_unlock(&registry_lock);
  return used ? cb__fail(CB_ESTATE, "the array is in use: its tiles are set")
              : 0;
}

int cb_array_set_distribution(cb_array *a, cb_distribution d) {
  if (check_distribution(d))
    return CB_EINVAL;
  pthread_mutex_lock(&registry_lock);
  int used = atomic_load(&a->gen) != 0;
  if (!used)
    a->dist = d;
  pthread_mutex_unlock(&registry_lock);
  return used ? cb__fail(CB_ESTATE, "the array is in use: its distribution "
                         "is set")
              : 0;
}

cb_distribution cb_array_distribution(const cb_array *a) { return a->dist; }

int cb_array_local_rows(cb_array *a, int64_t *first, int64_t *count,
                        int cap, int *n) {
  int64_t rows = a->ndim ? a->shape[0] : 1;
  *n = 0;
  if (a->dist == CB_DIST_NONE || a->size == 0 || !cb__dist_on) {
    if (cap > 0) {
      first[0] = 0;
      count[0] = rows;
    }
    *n = 1;
    return 0;
  }
  int rc = cb__enter();
  if (rc)
    return rc;
  if ((rc = cb__array_register(a, -1)) == 0) {
    /* This rank's tiles, neighbours joined into one run. */
    int64_t per = a->tile_elems / cb__array_row(a), end = -1;
    for (int64_t t = 0; t < a->ntiles; t++) {
      if (!cb__dist_mine(a->dist, t, a->ntiles))
        continue;
      int64_t lo = t * per, hi = lo + per < rows ? lo + per : rows;
      if (lo != end)
        (*n)++;
      if (*n <= cap && lo != end) {
        first[*n - 1] = lo;
        count[*n - 1] = 0;
      }
      if (*n <= cap)
        count[*n - 1] += hi - lo;
      end = hi;
    }
  }
  cb__leave();
  return rc;
}

int64_t cb_array_tile_size(const cb_array *a) {
  return atomic_load_explicit(&a->gen, memory_order_acquire) ? a->tile_elems
                                                             : a->tile_hint;
}

int cb_array_failure(const cb_array *a, cb_failure *out) {
  cb__failure *f = atomic_load(&a->mark.failure);
  if (!f)
    return 0;
  cb__failure_export(f, out);
  return f->info.code;
}

/* Locking: writer_lock guards the writer of arrays that tasks rewrite
 * (a kernel's or a function's outputs) against readers of it. */
static pthread_mutex_t writer_lock = PTHREAD_MUTEX_INITIALIZER;

cb_event *cb_array_writer(cb_array *a) {
  /* A gather put off: the operation that writes the array starts now. */
  if (atomic_load_explicit(&a->lazy, memory_order_relaxed) &&
      cb__try_enter() == 0) { /* never starts or waits for the runtime */
    (void)cb__lazy_fill(a); /* if it cannot be, reading a says why */
    cb__leave();
  }
  pthread_mutex_lock(&writer_lock);
  cb_event *e = a->writer;
  if (e)
    cb__event_ref(e);
  pthread_mutex_unlock(&writer_lock);
  return e;
}

void cb__array_set_writer(cb_array *a, cb_event *e) {
  cb__event_ref(e);
  pthread_mutex_lock(&writer_lock);
  cb_event *old = a->writer;
  a->writer = e;
  pthread_mutex_unlock(&writer_lock);
  cb_event_unref(old);
}


/* ---- host synchronisation and prefetch -------------------------------- */

/* Acquiring a tile on a memory node (the host to read it, a device to
 * move it there), releasing it at once and signalling an event. */
typedef struct sync_part {
  cb_array *array;
  cb_event *event;
  starpu_data_handle_t handle;
  int node;
} sync_part;

static void sync_acquired(void *arg) {
  sync_part *p = arg;
  starpu_data_release_on_node(p->handle, p->node);
  if (p->event) {
    cb__event_signal(p->event, 0);
    cb_event_unref(p->event);
  }
  cb_array_unref(p->array);
  free(p);
  cb__busy_end(CB__BUSY_MOVES);
}

/* Returns 0, or CB_ENOMEM/CB_ESTARPU after signalling the event. */
static int acquire_tile(cb_array *a, int tile, int node, cb_event *e) {
  sync_part *p = malloc(sizeof *p);
  int rc = CB_ENOMEM;
  if (p) {
    if (e)
      cb__event_ref(e);
    cb_array_ref(a);
    *p = (sync_part){a, e, a->tiles[tile], node};
    cb__busy_begin(CB__BUSY_MOVES);
    if (starpu_data_acquire_on_node_cb(a->tiles[tile], node, STARPU_R,
                                       sync_acquired, p) == 0)
      return 0;
    cb__busy_end(CB__BUSY_MOVES);
    cb_event_unref(e);
    cb_array_unref(a);
    free(p);
    rc = CB_ESTARPU;
  }
  if (e)
    cb__event_signal(e, rc);
  return rc;
}

/* Whether reading a back is likely a copy from a device that wants pinned
 * memory: a is placed there, or, placed automatically, a tile has no
 * valid copy in host memory now. An array placed on CPU workers or pocl
 * is not: pooling its pageable buffer (pool.c) spares the page faults of
 * a fresh one, which cost far more than pinning would save. */
static int from_device(const cb_array *a) {
  if (a->home >= 0)
    return cb__pinned_wanted(a->home);
  for (int i = 0; i < a->ntiles; i++)
    if (!starpu_data_is_on_node(a->tiles[i], STARPU_MAIN_RAM))
      return 1;
  return 0;
}

/* Brings the tiles of a to the host, all of them (from other ranks too)
 * unless mine: then those this rank owns. */
static int sync_host(cb_array *a, int mine, cb_event **out) {
  int rc = 0;
  cb_event *e = NULL;
  if (atomic_load(&a->lazy) && (cb__forked() || !cb_is_running()))
    /* Its copy is put off, and no runtime here can make it (a child
     * made by fork()): its buffer holds nothing yet. */
    return cb__fail(CB_ESTATE, "this array's elements were to be copied "
                    "by a runtime that does not run in this process");
  if (!atomic_load(&a->gen) || !cb_is_running()) {
    /* Never used by a task of this runtime: the host copy is current. */
    e = cb__event_new(0);
    goto out;
  }
  if ((rc = cb__enter()))
    return rc;
  if ((rc = cb__lazy_fill(a))) {
    cb__leave();
    return rc;
  }
  if (atomic_load(&a->gen) != cb_generation()) {
    e = cb__event_new(0);
    cb__leave();
    goto out;
  }
  /* Distributed: this rank's tiles (mine), or all of them from their
   * owners. */
  int spread = cb__dist_on && a->dist != CB_DIST_NONE, n = 0;
  int only_mine = spread && mine;
  for (int i = 0; i < a->ntiles; i++)
    n += !only_mine || cb__dist_mine(a->dist, i, a->ntiles);
  e = cb__event_new(n);
  if (!e) {
    cb__leave();
    goto out;
  }
  /* Results read back from a GPU are worth pinning: the next array of
   * this size may take pinned memory (pinned.c). */
  if (!a->pinned && !a->release && from_device(a))
    cb__pinned_demand(cb__array_host_bytes(a));
  for (int i = 0; i < a->ntiles; i++) {
    if (only_mine && !cb__dist_mine(a->dist, i, a->ntiles))
      continue;
    if (spread && !mine)
      cb__dist_fetch(a->tiles[i]);
    acquire_tile(a, i, STARPU_MAIN_RAM, e);
  }
  cb__leave();
out:
  if (!e)
    return cb__fail(CB_ENOMEM, "out of host memory");
  *out = e;
  return 0;
}

int cb_array_sync_host_start(cb_array *a, cb_event **out) {
  return sync_host(a, 0, out);
}

int cb_array_sync_local_start(cb_array *a, cb_event **out) {
  return sync_host(a, 1, out);
}

int cb_array_prefetch(cb_array *a, int device) {
  int rc = cb__enter();
  if (rc)
    return rc;
  if (!cb__device_valid(device)) {
    cb__leave();
    return cb__fail(CB_ENODEV, "no device %d", device);
  }
  rc = cb__device_usable(device);
  if (rc == 0)
    rc = cb__array_register(a, device);
  for (int i = 0; rc == 0 && i < a->ntiles; i++) {
    int home = cb__device_for_tile(device, (unsigned)i);
    rc = acquire_tile(a, i, (int)cb__devices[home].memory_node, NULL);
  }
  cb__leave();
  return rc;
}
