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

/* The interned programs, and their lock. table holds them in the order
 * they came; index is an open-addressing table of their positions + 1
 * (0: a free slot), found by their hash, and shapes the same for the
 * first program of each shape (see CB__FPROG_SHAPE), found by its hash:
 * a lookup does not grow with the programs interned. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static cb__fprog **table;
static uint32_t *index_, *shapes;
static uint32_t count, cap;

/* Lets every interned program go: the runtime has released its kernels,
 * and no task is left that points to one. */
static void release_all(void) {
  pthread_mutex_lock(&lock);
  for (uint32_t i = 0; i < count; i++)
    free(table[i]);
  free(table);
  free(index_);
  free(shapes);
  table = NULL;
  index_ = shapes = NULL;
  count = cap = 0;
  pthread_mutex_unlock(&lock);
}

/* A hash (FNV-1a) of bytes [from, to) of p. */
static uint32_t hash_of(const cb__fprog *p, size_t from, size_t to) {
  const unsigned char *b = (const unsigned char *)p;
  uint32_t h = 2166136261u;
  for (size_t i = from; i < to; i++)
    h = (h ^ b[i]) * 16777619u;
  return h;
}

/* Whether bytes [CB__FPROG_BODY, to) of a and b are the same. */
static int same(const cb__fprog *a, const cb__fprog *b, size_t to) {
  return !memcmp((const char *)a + CB__FPROG_BODY,
                 (const char *)b + CB__FPROG_BODY, to - CB__FPROG_BODY);
}

/* The slot of slots (cap of them, a power of 2) where the program that
 * is p up to byte to, of hash h, is; else the free slot where it goes. */
static uint32_t *find(uint32_t *slots, const cb__fprog *p, size_t to,
                      uint32_t h) {
  uint32_t mask = 2 * cap - 1;
  for (uint32_t at = h & mask;; at = (at + 1) & mask) {
    uint32_t v = slots[at];
    if (!v)
      return &slots[at];
    const cb__fprog *q = table[v - 1];
    if ((to == sizeof *p ? q->hash : q->shape) == h && same(q, p, to))
      return &slots[at];
  }
}

/* Room for one more interned program (the slots at most half full);
 * 0, or -1 out of memory. */
static int grow(void) {
  if (count < cap)
    return 0;
  uint32_t c = cap ? 2 * cap : 16;
  cb__fprog **t = realloc(table, c * sizeof *t);
  if (t)
    table = t;
  uint32_t *x = calloc(2 * (size_t)c, sizeof *x);
  uint32_t *y = calloc(2 * (size_t)c, sizeof *y);
  if (!t || !x || !y) {
    free(x);
    free(y);
    return -1;
  }
  free(index_);
  free(shapes);
  index_ = x;
  shapes = y;
  cap = c;
  for (uint32_t i = 0; i < count; i++) {
    cb__fprog *q = table[i];
    *find(index_, q, sizeof *q, q->hash) = i + 1;
    if (q->kernel == q->id)
      *find(shapes, q, CB__FPROG_SHAPE, q->shape) = i + 1;
  }
  return 0;
}

const cb__fprog *cb__fprog_intern(const cb__fprog *p) {
  uint32_t h = hash_of(p, CB__FPROG_BODY, sizeof *p);
  uint32_t hs = hash_of(p, CB__FPROG_BODY, CB__FPROG_SHAPE);
  cb__fprog *found = NULL;
  pthread_mutex_lock(&lock);
  uint32_t *at = cap ? find(index_, p, sizeof *p, h) : NULL;
  if (at && *at)
    found = table[*at - 1];
  else if (grow() == 0 && cb__hook_add(CB__HOOK_RELEASE, release_all) == 0 &&
           (found = malloc(sizeof *found))) {
    memcpy(found, p, sizeof *found);
    found->id = ++count;
    found->hash = h;
    found->shape = hs;
    table[count - 1] = found;
    *find(index_, found, sizeof *found, h) = count;
    /* The first program of its shape keys the kernel of all of them. */
    uint32_t *sh = find(shapes, found, CB__FPROG_SHAPE, hs);
    if (!*sh)
      *sh = count;
    found->kernel = table[*sh - 1]->id;
  }
  pthread_mutex_unlock(&lock);
  return found;
}

/* A program's history is told apart from another's over tiles of the
 * same size by a hash of its shape, the same from one process to the
 * next (its id is not): programs that differ in their constants alone
 * take about the same time (an integer power's exponent aside), and a
 * graph recorded again with new constants finds its history. */
static uint32_t footprint(struct starpu_task *task) {
  const cb__task *t = task->cl_arg;
  return starpu_hash_crc32c_be(t->prog->shape,
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
