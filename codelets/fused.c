/*
 * Fused programs (fused.h): which steps may be fused, the table of
 * interned programs, and the codelet of fused tasks.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clasync.h"
#include "fused.h"
#include "hooks.h"

int cb__fprog_uses_f64(const cb__fprog *p) {
  for (int r = 0; r < p->nin + p->nsteps; r++)
    if (cb__dtype_fp64(cb__fprog_reg_dtype(p, r)))
      return 1;
  for (int s = 0; s < p->nsteps; s++)
    if (cb__dtype_fp64((cb_dtype)p->steps[s].dtype))
      return 1;
  return 0;
}

cb_dtype cb__fprog_const_dtype(const cb__fprog *p, int k) {
  for (int s = 0; s < p->nsteps; s++)
    for (int i = 0; i < p->steps[s].n; i++)
      if (p->steps[s].x[i] == -1 - k)
        return i == 0 && cb_op_get_kind((cb_op)p->steps[s].op) ==
                             CB_KIND_WHERE
                   ? CB_BOOL
                   : (cb_dtype)p->steps[s].dtype;
  return CB_BOOL; /* not read */
}

static int plain(cb_dtype t) {
  return (unsigned)t < CB_NDTYPES && cb__dtype_class(t) != 'C';
}

int cb__fuse_accepts(cb_op op, cb_dtype compute, cb_dtype result) {
  if (!plain(compute) || !plain(result))
    return 0;
  switch (cb_op_get_kind(op)) {
  case CB_KIND_CAST:
    return !(cb__dtype_class(compute) == 'F' &&
             cb__dtype_class(result) == 'I');
  case CB_KIND_UNARY:
  case CB_KIND_MATH:
  case CB_KIND_BINARY:
  case CB_KIND_DIVIDE:
  case CB_KIND_COMPARE:
  case CB_KIND_MATH2:
  case CB_KIND_TEST:
  case CB_KIND_WHERE:
  case CB_KIND_PART:
    return 1;
  default:
    return 0;
  }
}

/* The interned programs, and their lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static cb__fprog **table;
static uint32_t count, cap;

/* Lets every interned program go: the runtime has released its kernels,
 * and no task is left that points to one. */
static void release_all(void) {
  pthread_mutex_lock(&lock);
  for (uint32_t i = 0; i < count; i++)
    free(table[i]);
  free(table);
  table = NULL;
  count = cap = 0;
  pthread_mutex_unlock(&lock);
}

/* Room for one more interned program; 0, or -1 out of memory. */
static int grow(void) {
  if (count < cap)
    return 0;
  uint32_t c = cap ? 2 * cap : 16;
  cb__fprog **t = realloc(table, c * sizeof *t);
  if (!t)
    return -1;
  table = t;
  cap = c;
  return 0;
}

/* A hash of what programs are compared by (FNV-1a), from h. */
static uint32_t body_hash(const cb__fprog *p, uint32_t h) {
  const unsigned char *b = (const unsigned char *)p + CB__FPROG_BODY;
  for (size_t i = 0; i < sizeof *p - CB__FPROG_BODY; i++)
    h = (h ^ b[i]) * 16777619u;
  return h;
}

const cb__fprog *cb__fprog_intern(const cb__fprog *p) {
  uint32_t h = body_hash(p, 2166136261u);
  cb__fprog *found = NULL;
  pthread_mutex_lock(&lock);
  for (uint32_t i = 0; i < count && !found; i++)
    if (table[i]->hash == h &&
        !memcmp((const char *)table[i] + CB__FPROG_BODY,
                (const char *)p + CB__FPROG_BODY,
                sizeof *p - CB__FPROG_BODY))
      found = table[i];
  if (!found && grow() == 0 &&
      cb__hook_add(CB__HOOK_RELEASE, release_all) == 0 &&
      (found = malloc(sizeof *found))) {
    memcpy(found, p, sizeof *found);
    found->id = ++count;
    found->hash = h;
    found->kernel = found->id;
    for (uint32_t i = 0; i + 1 < count; i++)
      if (!memcmp((const char *)table[i] + CB__FPROG_BODY,
                  (const char *)p + CB__FPROG_BODY,
                  CB__FPROG_SHAPE - CB__FPROG_BODY)) {
        found->kernel = table[i]->kernel;
        break;
      }
    table[count - 1] = found;
  }
  pthread_mutex_unlock(&lock);
  return found;
}

/* A program's history is told apart from another's over tiles of the
 * same size by a hash of its steps, the same from one process to the
 * next (its id is not). */
static uint32_t footprint(struct starpu_task *task) {
  const cb__task *t = task->cl_arg;
  return starpu_hash_crc32c_be(t->prog->hash,
                               starpu_task_data_footprint(task));
}

static struct starpu_perfmodel model = {.type = STARPU_HISTORY_BASED,
                                        .symbol = "cambrian_fused",
                                        .footprint = footprint};

struct starpu_codelet cb__fused_codelet = {
    .where = STARPU_CPU | STARPU_OPENCL,
    .cpu_funcs = {cb__ew_cpu},
    .opencl_funcs = {cb__ew_opencl},
    .opencl_flags = {CB__CL_ASYNC},
    .nbuffers = STARPU_VARIABLE_NBUFFERS,
    .model = &model,
    .name = "fused"};
