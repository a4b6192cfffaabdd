/*
 * Gathers put off (see lazy.h). A put-off gather is a record on its
 * result (cb_array.lazy) and in its source's list of readers
 * (cb_array.readers); it holds a reference to the source, so that the
 * source lives while a reader may still need its elements as they are.
 *
 * The source must not change before the gather is submitted: every task
 * that writes an array submits the put-off gathers that read it first
 * (cb__lazy_before_write, called where tasks take arrays to write).
 * Element-wise work, which reads the result in place, submits its tasks
 * between cb__lazy_begin and cb__lazy_end, so that no write of the
 * source can come between its look and its tasks.
 *
 * A view's record stays for the view's life: each fill copies what the
 * source holds then, and notes the source's count of writes, so that
 * the next use fills again only if the source was written since (or the
 * last fill failed). Writes of the source pass over views, which are
 * not on its list of readers; only their fill may write a view.
 *
 * Locking: lock, recursive, guards the records and the lists; it is held
 * while a gather is submitted, so that no task reads a result before its
 * gather is submitted. A record is only made or dropped by threads
 * outside tasks and callbacks.
 */
#include <stdlib.h>

#include <pthread.h>

#include "arrays.h"
#include "devtab.h"
#include "distributed.h"
#include "errors.h"
#include "failure.h"
#include "layout.h"
#include "lazy.h"

struct cb__lazy {
  cb_array *dst;              /* the result (not a reference) */
  cb_array *src;              /* a reference */
  cb_layout from;
  int device;
  int64_t count;
  int filling;                /* its gather is being submitted */
  int view;                   /* never settles (lazy.h) */
  int filled;                 /* a view: filled once, when src had */
  unsigned long long seen;    /* this count of writes */
  struct cb__lazy *_Atomic next; /* in src's list of readers */
  struct cb__lazy *all_prev, *all_next; /* in the list of all records */
};

static pthread_mutex_t lock;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct cb__lazy all = {.all_prev = &all, .all_next = &all};

static void init_lock(void) {
  pthread_mutexattr_t at;
  pthread_mutexattr_init(&at);
  pthread_mutexattr_settype(&at, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init(&lock, &at);
  pthread_mutexattr_destroy(&at);
}

void cb__lazy_begin(void) {
  pthread_once(&once, init_lock);
  pthread_mutex_lock(&lock);
}

void cb__lazy_end(void) { pthread_mutex_unlock(&lock); }

int cb__lazy_allowed(void) { return !cb__dist_on; }

int cb__lazy_cpu_only(int device) {
  if (device >= 0)
    return device < cb__ndevices && cb__devices[device].opencl_devid < 0;
  return starpu_opencl_worker_get_count() == 0;
}

/* Takes z off its lists; the lock is held. */
static void unlink_record(struct cb__lazy *z) {
  struct cb__lazy *_Atomic *p = &z->src->readers;
  while (!z->view && *p != z)
    p = &(*p)->next;
  if (!z->view)
    *p = z->next;
  z->all_prev->all_next = z->all_next;
  z->all_next->all_prev = z->all_prev;
  atomic_store(&z->dst->lazy, NULL);
}

/* Puts z on its lists; the lock is held. */
static void link_record(struct cb__lazy *z) {
  if (!z->view) {
    z->next = z->src->readers;
    z->src->readers = z;
  }
  z->all_next = &all;
  z->all_prev = all.all_prev;
  all.all_prev->all_next = z;
  all.all_prev = z;
  atomic_store(&z->dst->lazy, z);
}

/* Frees z, off its lists; the lock is held. */
static void drop_record(struct cb__lazy *z) {
  unlink_record(z);
  cb_array_unref(z->src);
  free(z);
}

/* Takes a reference to a unless it is dying (another thread let its last
 * one go and is about to drop its record): whether it did. */
static int ref_live(cb_array *a) {
  int n = atomic_load(&a->refcount);
  while (n > 0 && !atomic_compare_exchange_weak(&a->refcount, &n, n + 1))
    ;
  return n > 0;
}

static int fill_live(struct cb__lazy *z);

/* Submits z's gather and, but for a view, frees it; one that cannot be
 * submitted stays put off, and the next use tries again (and reports
 * why). The lock is held. z stays on its lists until its task is
 * submitted, so that other threads, which look at them without the lock
 * first, wait for it; the submission itself, which registers and writes
 * dst, passes over z (filling). The gather of a result that is dying
 * goes with it: its task would bring it back to life. */
static int fill(struct cb__lazy *z) {
  if (z->filling)
    return 0;
  cb_array *dst = z->dst; /* z may be gone after its fill */
  if (!ref_live(dst)) {
    drop_record(z);
    return 0;
  }
  int rc = fill_live(z);
  cb_array_unref(dst);
  return rc;
}

/* fill, with a reference to z->dst held. */
static int fill_live(struct cb__lazy *z) {
  unsigned long long writes = atomic_load(&z->src->writes);
  if (z->view && z->filled && z->seen == writes && !cb__mark_get(z->dst))
    return 0; /* what it holds is what src holds */
  if (z->view) /* filled again: a failed fill's mark goes */
    cb__failure_unref(atomic_exchange(&z->dst->mark.failure, NULL));
  z->filling = 1;
  cb_layout to;
  cb_layout_of(z->dst, &to);
  /* Views of dst want what this gather writes: its task must not submit
   * their gathers before it, as a task that changes dst would. */
  struct cb__lazy *readers = atomic_exchange(&z->dst->readers, NULL);
  int rc = cb__layout_submit(z->src, &z->from, z->dst, &to, z->count,
                             z->device);
  atomic_store(&z->dst->readers, readers);
  z->filling = 0;
  if (rc)
    return rc;
  if (z->view) {
    z->filled = 1;
    z->seen = writes;
    return 0;
  }
  drop_record(z);
  return 0;
}

int cb__lazy_gather(cb_array *src, const cb_layout *from, int device,
                    int64_t count, int view, cb_array *dst) {
  struct cb__lazy *z = malloc(sizeof *z);
  if (!z)
    return cb__fail(CB_ENOMEM, "out of host memory");
  cb_array_ref(src);
  *z = (struct cb__lazy){.dst = dst, .src = src, .from = *from,
                         .device = device, .count = count,
                         .view = view};
  cb__lazy_begin();
  link_record(z);
  cb__lazy_end();
  return 0;
}

int cb__lazy_fill(cb_array *a) {
  if (!atomic_load(&a->lazy))
    return 0;
  cb__lazy_begin();
  struct cb__lazy *z = atomic_load(&a->lazy);
  int rc = z ? fill(z) : 0;
  cb__lazy_end();
  return rc;
}

int cb__lazy_before_write(cb_array *a) {
  atomic_fetch_add(&a->writes, 1);
  if (!a->readers && !atomic_load(&a->lazy))
    return 0;
  cb__lazy_begin();
  struct cb__lazy *own = atomic_load(&a->lazy);
  if (own && own->view && !own->filling) {
    cb__lazy_end();
    return cb__fail(CB_EINVAL, "a view cannot be written: write the array "
                    "it is a view of");
  }
  int rc = 0;
  for (;;) {
    /* The first reader not being submitted by this thread already. */
    struct cb__lazy *z = a->readers;
    while (z && z->filling)
      z = z->next;
    if (!z || (rc = fill(z)))
      break;
  }
  cb__lazy_end();
  return rc;
}

void cb__lazy_fill_all(void) {
  cb__lazy_begin();
  /* One that cannot be submitted is dropped: its array keeps what its
   * buffer holds. */
  while (all.all_next != &all) {
    struct cb__lazy *z = all.all_next;
    cb_array *dst = z->dst;
    if (!ref_live(dst)) {
      drop_record(z);
      continue;
    }
    int view = z->view, rc = fill_live(z); /* a copy's z is gone */
    if (rc == 0 && view) { /* it keeps what its source holds now */
      drop_record(z);
    } else if (rc) {
      /* Reading the array raises instead of giving what it holds. */
      cb__failure *f = cb__failure_new(CB_ENOMEM, 0, -1, "copy",
                                       "the copy of an indexing result "
                                       "could not be made: %s",
                                       cb_last_error());
      if (f) {
        cb__mark_poison(dst, f);
        cb__failure_unref(f);
      }
      drop_record(z);
    }
    cb_array_unref(dst);
  }
  cb__lazy_end();
}

void cb__lazy_drop(cb_array *a) {
  if (!atomic_load(&a->lazy))
    return;
  cb__lazy_begin();
  struct cb__lazy *z = atomic_load(&a->lazy);
  if (z) {
    drop_record(z);
  }
  cb__lazy_end();
}

int cb__lazy_view_of(const cb_array *a, cb_array **src, cb_layout *from) {
  if (!atomic_load(&a->lazy))
    return 0;
  /* Another thread may fill and free a put-off copy's record meanwhile. */
  cb__lazy_begin();
  struct cb__lazy *z = atomic_load(&a->lazy);
  int view = z && z->view;
  if (view && src) {
    cb_array_ref(z->src);
    *src = z->src;
    *from = z->from;
  }
  cb__lazy_end();
  return view;
}

int cb__lazy_is_view(const cb_array *a) {
  return cb__lazy_view_of(a, NULL, NULL);
}

int cb__lazy_source(const cb_array *a, cb_array **src, cb_layout *from) {
  struct cb__lazy *z = atomic_load(&a->lazy);
  if (!z)
    return 0;
  *src = z->src;
  *from = z->from;
  return 1;
}
