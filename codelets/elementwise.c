/*
 * The element-wise codelets: one StarPU codelet per row of the operation
 * table, each with its CPU function, its OpenCL function and a history
 * based performance model (kept in the cache directory) that lets dmda
 * place tasks when several kinds of worker can run them.
 */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

static struct starpu_perfmodel models[CB_NOPS] = {
#define X(name, kind, fexpr, iexpr, bexpr, types)                            \
  [CB_OP_##name] = {.type = STARPU_HISTORY_BASED,                            \
                    .symbol = "cambrian_" #name},
#include "cambrian/elementwise.def"
#undef X
};

struct starpu_codelet cb__ew_codelets[CB_NOPS] = {
#define X(op, kind, fexpr, iexpr, bexpr, types)                              \
  [CB_OP_##op] = {.where = STARPU_CPU | STARPU_OPENCL,                     \
                    .cpu_funcs = {cb__ew_cpu},                               \
                    .opencl_funcs = {cb__ew_opencl},                         \
                    .nbuffers = STARPU_VARIABLE_NBUFFERS,                    \
                    .model = &models[CB_OP_##op],                            \
                    .name = #op},
#include "cambrian/elementwise.def"
#undef X
};

int cb__task_cancelled(cb__task *t) {
  int expected = CB__PENDING;
  if (atomic_compare_exchange_strong(&t->event->state, &expected,
                                     CB__STARTED) ||
      expected == CB__STARTED)
    return 0;
  cb__failure *f = cb__failure_new(CB_ECANCELED, 0, t->device,
                                   cb_op_name(t->op), "%s was cancelled",
                                   cb_op_name(t->op));
  if (f) {
    cb__array_poison(t->arrays[t->narrays - 1], f);
    cb__failure_unref(f);
  }
  return 1;
}

int cb__task_inputs_failed(cb__task *t) {
  for (int i = 0; i < t->narrays - 1; i++) {
    cb__failure *cause = atomic_load(&t->arrays[i]->failure);
    if (!cause)
      continue;
    if (cause->cause) /* the chain's first failure */
      cause = cause->cause;
    cb__failure *f = cb__failure_new(
        CB_EDEPEND, cause->info.cl_status, cause->info.device,
        cb_op_name(t->op), "%s did not run: an input came from %s, which "
        "failed: %s", cb_op_name(t->op), cause->info.task,
        cause->info.message);
    if (f) {
      f->cause = cause;
      cb__failure_ref(cause);
    }
    cb__array_poison(t->arrays[t->narrays - 1], f ? f : cause);
    cb__failure_unref(f);
    return 1;
  }
  return 0;
}

void cb__task_fail(cb__task *t, int code, int cl_status, const char *fmt,
                   ...) {
  char msg[sizeof(((cb_failure_info *)0)->message)];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  cb__failure *f = cb__failure_new(code, cl_status, t->device,
                                   cb_op_name(t->op), "%s", msg);
  if (f) {
    cb__failure_register(f);
    cb__array_poison(t->arrays[t->narrays - 1], f);
    cb__failure_unref(f);
  }
}
