/*
 * The element-wise codelets: one StarPU codelet per row of the operation
 * table, each with its CPU function, its OpenCL function and a history
 * based performance model (kept in the cache directory) that lets dmda
 * place tasks when several kinds of worker can run them.
 */
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
