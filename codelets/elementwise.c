/*
 * The operation table (include/cambrian/elementwise.def) as code: each
 * operation's name, kind and accepted dtype classes, and its StarPU
 * codelet, with its CPU function, its OpenCL function and a history based
 * performance model (kept in the cache directory) that lets dmda place
 * tasks when several kinds of worker can run them.
 */
#include <string.h>

#include "clasync.h"
#include "ewise_codelets.h"

static const char *const op_names[CB_NOPS] = {
#define X(name, kind, fexpr, iexpr, bexpr, cexpr, types) #name,
#include "cambrian/elementwise.def"
#undef X
};
static const cb_op_kind op_kinds[CB_NOPS] = {
#define X(name, kind, fexpr, iexpr, bexpr, cexpr, types) kind,
#include "cambrian/elementwise.def"
#undef X
};
static const char *const op_types[CB_NOPS] = {
#define X(name, kind, fexpr, iexpr, bexpr, cexpr, types) types,
#include "cambrian/elementwise.def"
#undef X
};

const char *cb_op_name(cb_op op) {
  return (unsigned)op < CB_NOPS ? op_names[op] : "invalid";
}

/* CB_KIND_INVALID for an op outside the table. */
cb_op_kind cb_op_get_kind(cb_op op) {
  return (unsigned)op < CB_NOPS ? op_kinds[op] : CB_KIND_INVALID;
}

char cb__dtype_class(cb_dtype t) {
  switch (t) {
  case CB_BOOL:
    return 'B';
  case CB_FLOAT16:
  case CB_FLOAT32:
  case CB_FLOAT64:
    return 'F';
  case CB_COMPLEX64:
  case CB_COMPLEX128:
    return 'C';
  default:
    return 'I';
  }
}

cb_dtype cb__dtype_part(cb_dtype t) {
  return t == CB_COMPLEX64 ? CB_FLOAT32 : t == CB_COMPLEX128 ? CB_FLOAT64 : t;
}

int cb__dtype_unsigned(cb_dtype t) {
  return t == CB_UINT8 || t == CB_UINT16 || t == CB_UINT32 || t == CB_UINT64;
}

int cb__op_accepts(cb_op op, cb_dtype t) {
  return strchr(op_types[op], cb__dtype_class(t)) != NULL;
}

int cb__op_accepts_bool_as_int8(cb_op op) {
  return strchr(op_types[op], '8') != NULL;
}


static struct starpu_perfmodel models[CB_NOPS] = {
#define X(name, kind, fexpr, iexpr, bexpr, cexpr, types)                      \
  [CB_OP_##name] = {.type = STARPU_HISTORY_BASED,                            \
                    .symbol = "cambrian_" #name},
#include "cambrian/elementwise.def"
#undef X
};

struct starpu_codelet cb__ew_codelets[CB_NOPS] = {
#define X(op, kind, fexpr, iexpr, bexpr, cexpr, types)                        \
  [CB_OP_##op] = {.where = STARPU_CPU | STARPU_OPENCL,                     \
                    .cpu_funcs = {cb__ew_cpu},                               \
                    .opencl_funcs = {cb__ew_opencl},                         \
                    .opencl_flags = {CB__CL_ASYNC},                          \
                    .nbuffers = STARPU_VARIABLE_NBUFFERS,                    \
                    .model = &models[CB_OP_##op],                            \
                    .name = #op},
#include "cambrian/elementwise.def"
#undef X
};
