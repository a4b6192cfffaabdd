/* Building fused programs (fuse.h). */
#include <string.h>

#include "arrays.h"
#include "errors.h"
#include "ewise.h"
#include "fuse.h"
#include "promote.h"

void cb__fprog_init(cb__fprog *p) { memset(p, 0, sizeof *p); }

int cb__fprog_input(cb__fprog *p, cb_dtype t) {
  if (p->nin == CB__MAX_OPERANDS || p->nsteps > 0)
    return CB_EAGAIN;
  p->in_dtype[p->nin] = (uint8_t)t;
  return p->nin++;
}

/* Appends a step; its register, or CB_EAGAIN when p is full. */
static int append(cb__fprog *p, const cb__fstep *st) {
  if (p->nsteps == CB__FUSE_MAX_STEPS)
    return CB_EAGAIN;
  p->steps[p->nsteps++] = *st;
  return p->nin + p->nsteps - 1;
}

/* Register r as dtype want: itself, or a cast step's register. */
static int as_dtype(cb__fprog *p, int r, cb_dtype want) {
  cb_dtype have = cb__fprog_reg_dtype(p, r);
  if (have == want)
    return r;
  if (!cb__fuse_accepts(CB_OP_cast, have, want))
    return CB_EAGAIN;
  cb__fstep cast = {.op = CB_OP_cast, .dtype = (uint8_t)have,
                    .result = (uint8_t)want, .n = 1, .x = {(int16_t)r}};
  return append(p, &cast);
}

static int step(cb__fprog *p, cb_op op, const int *reg, const cb_operand *x,
                int n, int out_dtype, int *out) {
  cb_array stand[CB__MAX_OPERANDS];
  cb_operand ops[CB__MAX_OPERANDS];
  for (int k = 0; k < n; k++) {
    ops[k] = x[k];
    ops[k].array = NULL;
    if (reg[k] >= 0) {
      memset(&stand[k], 0, sizeof stand[k]);
      stand[k].dtype = cb__fprog_reg_dtype(p, reg[k]);
      ops[k] = (cb_operand){.array = &stand[k], .device = -1};
    }
  }
  cb_dtype compute, result;
  cb_op_kind kind = cb_op_get_kind(op);
  if (kind == CB_KIND_CAST) {
    if (reg[0] < 0 || out_dtype < 0 || out_dtype >= CB_NDTYPES)
      return CB_EAGAIN;
    compute = stand[0].dtype;
    result = (cb_dtype)out_dtype;
  } else {
    int stray;
    /* A comparison with a stray integer answers by value: not fused. */
    if (cb__ewise_types_ex(op, ops, n, &compute, &result, &stray) ||
        stray >= 0)
      return CB_EAGAIN;
  }
  if (!cb__fuse_accepts(op, compute, result))
    return CB_EAGAIN;
  cb__fstep st = {.op = (uint8_t)op, .dtype = (uint8_t)compute,
                  .result = (uint8_t)result, .n = (uint8_t)n};
  int arrays = 0;
  for (int k = 0; k < n; k++) {
    cb_dtype want = kind == CB_KIND_WHERE && k == 0 ? CB_BOOL : compute;
    if (reg[k] >= 0) {
      int r = as_dtype(p, reg[k], want);
      if (r < 0)
        return r;
      st.x[k] = (int16_t)r;
      arrays++;
      continue;
    }
    if (p->nconst == CB__FUSE_MAX_CONSTS)
      return CB_EAGAIN;
    p->consts[p->nconst] = cb__scalar_value(&x[k], want);
    st.x[k] = (int16_t)(-1 - p->nconst++);
  }
  if (!arrays)
    return CB_EAGAIN; /* a step reads at least one register */
  int r = append(p, &st);
  if (r < 0)
    return r;
  *out = r;
  return 0;
}

int cb__fprog_step(cb__fprog *p, cb_op op, const int *reg,
                   const cb_operand *x, int n, int out_dtype, int *out) {
  if ((unsigned)op >= CB_NOPS || n < 1 || n > CB__MAX_OPERANDS)
    return CB_EAGAIN;
  /* A step that cannot be fused leaves nothing of itself, casts
   * included. */
  int nsteps = p->nsteps, nconst = p->nconst;
  int rc = step(p, op, reg, x, n, out_dtype, out);
  if (rc) {
    memset(&p->steps[nsteps], 0,
           (size_t)(p->nsteps - nsteps) * sizeof p->steps[0]);
    memset(&p->consts[nconst], 0,
           (size_t)(p->nconst - nconst) * sizeof p->consts[0]);
    p->nsteps = nsteps;
    p->nconst = nconst;
  }
  return rc;
}
