/*
 * StarPU's messages (see cb_set_message_handler): the StarPU that the
 * set-up builds hands each one to a function (its messages.patch) in
 * place of printing it on stderr; this passes them on to the handler
 * the application set.
 *
 * Locking: none. The handler and its argument are swapped as one
 * pointer, so that a message never meets one with the other's argument.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include <starpu.h>

#include "cambrian.h"
#include "errors.h"

#ifdef CB_HAVE_STARPU_MESSAGE_FUNCTION
typedef struct handler {
  cb_message_fn fn;
  void *arg;
} handler;

static _Atomic(handler *) current;

static void forward(const char *message, void *unused) {
  (void)unused;
  handler *h = atomic_load_explicit(&current, memory_order_acquire);
  if (h)
    h->fn(message, h->arg);
}
#endif

int cb_set_message_handler(cb_message_fn fn, void *arg) {
#ifdef CB_HAVE_STARPU_MESSAGE_FUNCTION
  handler *h = NULL;
  if (fn) {
    if (!(h = malloc(sizeof *h)))
      return cb__fail(CB_ENOMEM, "out of host memory");
    *h = (handler){fn, arg};
  }
  starpu_set_message_function(h ? forward : NULL, NULL);
  /* A message being passed on may still use the handler replaced: it is
   * kept (a few bytes, each time a handler is set). */
  atomic_store_explicit(&current, h, memory_order_release);
  return 0;
#else
  (void)arg;
  return fn ? cb__fail(CB_ESTARPU, "this StarPU prints its messages on "
                                   "stderr and cannot hand them over "
                                   "(build it with scripts/setup.sh)")
            : 0;
#endif
}
