/* A minimal harness for the C tests: CHECK records a failure and goes on;
 * main() returns the number of failures. */
#ifndef CAMBRIAN_CHECK_H
#define CAMBRIAN_CHECK_H

#include <stdio.h>

#include "cambrian.h"

static int check_failures, check_count;

#define CHECK(cond, ...)                                                     \
  do {                                                                       \
    check_count++;                                                           \
    if (!(cond)) {                                                           \
      check_failures++;                                                      \
      fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__,       \
              #cond);                                                        \
      fprintf(stderr, __VA_ARGS__);                                          \
      fputc('\n', stderr);                                                   \
    }                                                                        \
  } while (0)

/* Waits until the array's host copy is current. */
static inline int sync_host(cb_array *a) {
  cb_event *e;
  int rc = cb_array_sync_host_start(a, &e);
  if (rc)
    return rc;
  rc = cb_event_wait(e, -1);
  cb_event_unref(e);
  return rc;
}

#define CHECK_DONE()                                                         \
  (printf("%d checks, %d failed\n", check_count, check_failures),            \
   check_failures ? 1 : 0)

#endif
