/*
 * StarPU's messages into Python's logging, on the logger
 * "cambrian.starpu" (a child of "cambrian"). The handler runs on any
 * thread, maybe while StarPU holds its locks, so it never takes the GIL:
 * it queues a copy and asks the main thread, through Py_AddPendingCall,
 * to log what is queued. A start and a stop log it at once, so that
 * their messages come before their return.
 *
 * Locking: lock guards the queue and the scheduled flag; Python is only
 * called without it.
 */
#include "binding.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CBP_MESSAGES_MAX 256

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *queue[CBP_MESSAGES_MAX];
static int nqueued, scheduled;
static unsigned long dropped;

static int drain_pending(void *unused);

static void on_message(const char *message, void *unused) {
  (void)unused;
  char *copy = strdup(message);
  pthread_mutex_lock(&lock);
  if (copy && nqueued < CBP_MESSAGES_MAX) {
    queue[nqueued++] = copy;
    copy = NULL;
  } else {
    dropped++;
  }
  int ask = !scheduled;
  scheduled = 1;
  pthread_mutex_unlock(&lock);
  free(copy);
  if (ask && Py_AddPendingCall(drain_pending, NULL) < 0) {
    pthread_mutex_lock(&lock); /* the next message asks again */
    scheduled = 0;
    pthread_mutex_unlock(&lock);
  }
}

/* "[starpu][function] Warning: text\n" -> level and "[function] text". */
static int level_of(const char *text) {
  for (const char *p = text; *p; p++)
    if (strncasecmp(p, "warning", 7) == 0 || strncasecmp(p, "error", 5) == 0)
      return 30; /* logging.WARNING */
  return 20;     /* logging.INFO */
}

static int log_one(PyObject *logger, const char *message) {
  const char *text = message;
  if (strncmp(text, "[starpu]", 8) == 0)
    text += 8;
  size_t len = strlen(text);
  while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
    len--;
  if (!len)
    return 0;
  PyObject *r = PyObject_CallMethod(logger, "log", "is#", level_of(text),
                                    text, (Py_ssize_t)len);
  Py_XDECREF(r);
  return r ? 0 : -1;
}

int cbp_messages_drain(void) {
  char *taken[CBP_MESSAGES_MAX];
  pthread_mutex_lock(&lock);
  int n = nqueued;
  memcpy(taken, queue, (size_t)n * sizeof *taken);
  nqueued = 0;
  scheduled = 0;
  unsigned long lost = dropped;
  dropped = 0;
  pthread_mutex_unlock(&lock);
  if (n == 0 && lost == 0)
    return 0;
  /* A failure to log is not the caller's: it is reported and dropped. */
  PyObject *exc = cbp_error_take();
  PyObject *logging = PyImport_ImportModule("logging");
  PyObject *logger = logging ? PyObject_CallMethod(logging, "getLogger", "s",
                                                   "cambrian.starpu")
                             : NULL;
  for (int i = 0; i < n; i++) {
    if (logger && log_one(logger, taken[i]) < 0)
      PyErr_WriteUnraisable(logger);
    free(taken[i]);
  }
  if (logger && lost) {
    PyObject *r = PyObject_CallMethod(
        logger, "warning", "sk", "%d messages of StarPU's were dropped",
        lost);
    if (!r)
      PyErr_WriteUnraisable(logger);
    Py_XDECREF(r);
  }
  if (!logger)
    PyErr_WriteUnraisable(NULL);
  Py_XDECREF(logger);
  Py_XDECREF(logging);
  cbp_error_restore(exc);
  return 0;
}

static int drain_pending(void *unused) {
  (void)unused;
  return cbp_messages_drain();
}

void cbp_messages_start(void) {
  /* A StarPU that cannot hand its messages over prints them itself. */
  (void)cb_set_message_handler(on_message, NULL);
}

void cbp_messages_stop(void) {
  (void)cb_set_message_handler(NULL, NULL);
}
