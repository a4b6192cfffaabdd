/*
 * Reclaiming arrays. The last reference to an array may go in a StarPU
 * callback, where unregistering data is forbidden, or in a thread holding
 * the Python GIL, where nothing may block, so such arrays are queued here
 * and this thread unregisters their tiles and frees them, in batches.
 *
 * Locking: lock guards head, stopping and idle; settled is signalled when
 * the thread goes idle.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "arrays.h"
#include "drivers.h"
#include "errors.h"
#include "reclaim.h"
#include "runtime.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t settled = PTHREAD_COND_INITIALIZER;
static cb_array *head;
static int stopping, idle, started;
static pthread_t thread;

/* Each queued array counts as pending work from its push to its end, so
 * that waiting for idleness (cb.synchronize()) also waits for the data
 * that its unregistration brings home. */
static void drain(cb_array *list) {
  while (list) {
    cb_array *next = list->reclaim_next;
    cb__array_destroy(list);
    cb__busy_end(CB__BUSY_MOVES);
    list = next;
  }
}

static void *reclaimer(void *arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "cb-reclaim");
  pthread_mutex_lock(&lock);
  for (;;) {
    while (!head && !stopping) {
      idle = 1;
      pthread_cond_broadcast(&settled);
      pthread_cond_wait(&cond, &lock);
      idle = 0;
    }
    cb_array *list = head;
    head = NULL;
    if (!list && stopping)
      break;
    pthread_mutex_unlock(&lock);
    drain(list);
    pthread_mutex_lock(&lock);
  }
  pthread_mutex_unlock(&lock);
  return NULL;
}

int cb__reclaim_start(void) {
  pthread_mutex_lock(&lock);
  stopping = 0;
  int rc = pthread_create(&thread, NULL, reclaimer, NULL);
  started = rc == 0;
  pthread_mutex_unlock(&lock);
  return rc ? cb__fail(CB_ENOMEM, "cannot start the reclaim thread") : 0;
}

void cb__reclaim_push(cb_array *a) {
  pthread_mutex_lock(&lock);
  if (!started || cb__forked()) { /* nothing is pending, or no thread */
    pthread_mutex_unlock(&lock);
    cb__array_destroy(a);
    return;
  }
  cb__busy_begin(CB__BUSY_MOVES);
  a->reclaim_next = head;
  head = a;
  if (idle)
    pthread_cond_signal(&cond);
  pthread_mutex_unlock(&lock);
}

void cb__reclaim_settle(void) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 1;
  pthread_mutex_lock(&lock);
  while (started && (head || !idle))
    if (pthread_cond_timedwait(&settled, &lock, &until))
      break;
  pthread_mutex_unlock(&lock);
}

void cb__reclaim_stop(void) {
  pthread_mutex_lock(&lock);
  if (!started) {
    pthread_mutex_unlock(&lock);
    return;
  }
  stopping = 1;
  pthread_cond_signal(&cond);
  pthread_mutex_unlock(&lock);
  pthread_join(thread, NULL);
  pthread_mutex_lock(&lock);
  started = 0;
  cb_array *rest = head;
  head = NULL;
  pthread_mutex_unlock(&lock);
  drain(rest);
}
