/*
 * Recycling arrays. A result array that dies keeps its host buffer and its
 * registered tiles in a pool; the next result of the same size and element
 * size takes them over. That saves a registration and an unregistration
 * per operation (most of a tiny operation's cost), and page faults on
 * fresh memory (most of a large one's), the way caching allocators do.
 *
 * Only arrays that own their buffer and belong to the running runtime are
 * pooled; the pool keeps at most CB__POOL_BINS sizes (a new size empties
 * the one least used of late), CB__POOL_PER_BIN arrays and half of its
 * bytes per size, and at most an eighth of the memory (4 GiB at most) in
 * all. A submitting thread runs ahead of the workers, so many small
 * results die together: a bin holds thousands of small arrays. Putting
 * an array in never calls StarPU, so it may happen in a task's callback.
 *
 * Locking: lock guards every field of the pool.
 */
#include <unistd.h>

#include "arrays.h"
#include "drivers.h"
#include "failure.h"
#include "pinned.h"
#include "pool.h"
#include "reclaim.h"
#include "runtime.h"

#define CB__POOL_BINS 32
#define CB__POOL_PER_BIN 4096
/* How many arrays of a bin a taker looks at for its tiles. */
#define CB__POOL_LOOK 8

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct bin {
  int64_t size;        /* elements; 0: free bin */
  size_t elemsize;
  int count;
  size_t bytes;
  uint64_t used;       /* the tick of its last put or get */
  cb_array *head;      /* linked through reclaim_next */
} bins[CB__POOL_BINS];
static size_t pooled_bytes, max_bytes;
static uint64_t tick;

/* Takes *at, an array of bin b, out of the pool. The caller holds lock. */
static cb_array *unlink_at(struct bin *b, cb_array **at) {
  cb_array *a = *at;
  *at = a->reclaim_next;
  b->count--;
  b->bytes -= a->nbytes;
  pooled_bytes -= a->nbytes;
  return a;
}

/* Empties the bin least used of late, for a size that has none: its
 * arrays go to the reclaim thread (a put never calls StarPU). Returns it;
 * *gone receives its arrays. The caller holds lock. */
static struct bin *evict(cb_array **gone) {
  struct bin *b = &bins[0];
  for (int i = 1; i < CB__POOL_BINS; i++)
    if (bins[i].used < b->used)
      b = &bins[i];
  *gone = b->head;
  pooled_bytes -= b->bytes;
  b->head = NULL;
  b->count = 0;
  b->bytes = 0;
  return b;
}

static size_t byte_cap(void) {
  if (!max_bytes) {
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    size_t ram = pages > 0 && psize > 0 ? (size_t)pages * (size_t)psize
                                        : (size_t)1 << 32;
    max_bytes = ram / 8 < ((size_t)4 << 30) ? ram / 8 : (size_t)4 << 30;
  }
  return max_bytes;
}

int cb__pool_put(cb_array *a) {
  if (a->release || !a->ntiles || atomic_load(&a->gen) != cb_generation() ||
      !cb_is_running() || atomic_load(&cb__stopping))
    return 0;
  /* A pageable buffer of a size that is read back from a GPU goes, so
   * that the next array of that size takes pinned memory. */
  if (!a->pinned && cb__pinned_demanded(cb__array_host_bytes(a)))
    return 0;
  size_t es = cb_dtype_size(a->dtype);
  cb_array *gone = NULL;
  pthread_mutex_lock(&lock);
  struct bin *b = NULL, *empty = NULL;
  for (int i = 0; i < CB__POOL_BINS && !b; i++) {
    if (bins[i].size == a->size && bins[i].elemsize == es)
      b = &bins[i];
    else if (!empty && bins[i].count == 0)
      empty = &bins[i];
  }
  /* A new size takes a free bin, else the one least used of late: sizes
   * a program no longer makes do not keep the pool from new ones. An
   * array too large to keep empties no bin. */
  if (!b && !empty && a->nbytes > byte_cap() / 2) {
    pthread_mutex_unlock(&lock);
    return 0;
  }
  if (!b) {
    b = empty ? empty : evict(&gone);
    b->size = a->size;
    b->elemsize = es;
  }
  b->used = ++tick;
  int taken = b->count < CB__POOL_PER_BIN &&
              b->bytes + a->nbytes <= byte_cap() / 2 &&
              pooled_bytes + a->nbytes <= byte_cap();
  if (taken) {
    a->reclaim_next = b->head;
    b->head = a;
    b->count++;
    b->bytes += a->nbytes;
    pooled_bytes += a->nbytes;
  }
  pthread_mutex_unlock(&lock);
  while (gone) {
    cb_array *next = gone->reclaim_next;
    gone->reclaim_next = NULL;
    cb__reclaim_push(gone);
    gone = next;
  }
  return taken;
}

cb_array *cb__pool_get(cb_dtype t, int64_t size, int64_t tile_elems,
                       cb_distribution dist, int pinned) {
  size_t es = cb_dtype_size(t);
  cb_array *a = NULL;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < CB__POOL_BINS && !a; i++) {
    struct bin *b = &bins[i];
    if (!b->count || b->size != size || b->elemsize != es)
      continue;
    /* The first few arrays of the bin: the latest are the likeliest. */
    cb_array **at = &b->head;
    for (int k = 0; *at && k < CB__POOL_LOOK; k++, at = &(*at)->reclaim_next)
      if ((*at)->tile_elems == tile_elems && (*at)->dist == dist &&
          (!pinned || (*at)->pinned)) {
        a = unlink_at(b, at);
        b->used = ++tick;
        break;
      }
  }
  pthread_mutex_unlock(&lock);
  if (!a)
    return NULL;
  if (atomic_load(&a->gen) != cb_generation()) { /* from a stopped runtime */
    cb__reclaim_push(a);
    return NULL;
  }
  cb__failure *f = atomic_exchange(&a->mark.failure, NULL);
  cb__failure_unref(f);
  cb_event_unref(a->writer);
  a->writer = NULL;
  a->dtype = t;
  a->reclaim_next = NULL;
  atomic_store(&a->refcount, 1);
  return a;
}

int cb__pool_drop_pinned(size_t bytes) {
  cb_array *a = NULL;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < CB__POOL_BINS && !a; i++) {
    struct bin *b = &bins[i];
    cb_array **at = &b->head;
    while (*at && !((*at)->pinned && cb__array_host_bytes(*at) == bytes))
      at = &(*at)->reclaim_next;
    if (*at)
      a = unlink_at(b, at);
  }
  pthread_mutex_unlock(&lock);
  if (!a)
    return 0;
  cb__busy_begin(CB__BUSY_MOVES); /* unregistering may bring data home */
  cb__array_destroy(a); /* its pinned buffer goes to pinned.c's cache */
  cb__busy_end(CB__BUSY_MOVES);
  return 1;
}

void cb__pool_flush(void) {
  for (;;) {
    cb_array *a = NULL;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < CB__POOL_BINS && !a; i++)
      if (bins[i].count)
        a = unlink_at(&bins[i], &bins[i].head);
    pthread_mutex_unlock(&lock);
    if (!a)
      return;
    cb__array_destroy(a);
  }
}
