/*
 * Result dtypes, as NumPy 2 computes them for these five dtypes:
 *
 * - arrays and NumPy scalars are "strong": bool < int32 < int64, float32 <
 *   float64, and an integer with float32 gives float64;
 * - Python scalars are "weak" (NEP 50): a Python int takes an integer or
 *   float array's dtype (and must fit it) and makes a bool array int64; a
 *   Python float takes a float array's dtype and makes others float64; a
 *   Python bool takes any array's dtype;
 * - divide and the math functions (sqrt, exp, ...) compute in floats:
 *   integers go to float64, bool goes to float32 (NumPy gives float16,
 *   which cambrian lacks);
 * - bool - bool, -bool and bool ** bool raise TypeError (NumPy refuses the
 *   first two; the third would be int8, which cambrian lacks);
 * - comparisons give bool; where() promotes its second and third operands.
 */
#include <string.h>

#include "arrays.h"
#include "errors.h"
#include "ewise_codelets.h"
#include "promote.h"

static cb_dtype promote2(cb_dtype a, cb_dtype b) {
  if (a == b || b == CB_BOOL)
    return a;
  if (a == CB_BOOL)
    return b;
  char ca = cb__dtype_class(a), cbb = cb__dtype_class(b);
  if (ca == 'I' && cbb == 'I')
    return CB_INT64;
  return CB_FLOAT64; /* int with float, or float32 with float64 */
}

/* Promotes strong dtypes, then applies the weak scalars. */
static int promote(const cb_operand *x, int n, cb_dtype *out) {
  int have_strong = 0;
  cb_dtype s = CB_BOOL;
  char weak = 'B';
  for (int i = 0; i < n; i++) {
    cb_dtype t = x[i].array ? cb_array_dtype(x[i].array) : x[i].dtype;
    if (x[i].array || !x[i].weak) {
      s = have_strong ? promote2(s, t) : t;
      have_strong = 1;
    } else if (cb__dtype_class(t) == 'F' || weak == 'F') {
      weak = 'F';
    } else if (cb__dtype_class(t) == 'I') {
      weak = 'I';
    }
  }
  if (!have_strong) {
    *out = weak == 'F' ? CB_FLOAT64 : weak == 'I' ? CB_INT64 : CB_BOOL;
    return 0;
  }
  char cs = cb__dtype_class(s);
  if (weak == 'F' && cs != 'F')
    s = CB_FLOAT64;
  else if (weak == 'I' && cs == 'B')
    s = CB_INT64;
  /* A weak integer must fit the integer dtype it takes. */
  if (cb__dtype_class(s) == 'I')
    for (int i = 0; i < n; i++) {
      if (x[i].array || !x[i].weak || x[i].dtype != CB_INT64)
        continue;
      if (x[i].weak == 2) /* an integer: written as one, exactly */
        return cb__fail(CB_ERANGE, "Python integer %.0f out of bounds for "
                                   "%s", x[i].value.f, cb_dtype_name(s));
      if (s == CB_INT32 &&
          (x[i].value.i < INT32_MIN || x[i].value.i > INT32_MAX))
        return cb__fail(CB_ERANGE, "Python integer %lld out of bounds for "
                                   "int32", (long long)x[i].value.i);
    }
  *out = s;
  return 0;
}

int cb__ewise_types(cb_op op, const cb_operand *x, int n, cb_dtype *compute,
                    cb_dtype *result) {
  if ((unsigned)op >= CB_NOPS)
    return cb__fail(CB_EINVAL, "unknown operation %d", (int)op);
  cb_op_kind kind = cb_op_get_kind(op);
  int first = kind == CB_KIND_WHERE ? 1 : 0;
  cb_dtype t = CB_BOOL;
  int rc = promote(x + first, n - first, &t);
  if (rc)
    return rc;
  if (kind == CB_KIND_DIVIDE && cb__dtype_class(t) != 'F')
    t = CB_FLOAT64;
  if ((kind == CB_KIND_MATH || kind == CB_KIND_MATH2) &&
      cb__dtype_class(t) != 'F')
    t = t == CB_BOOL ? CB_FLOAT32 : CB_FLOAT64;
  if (!cb__op_accepts(op, t))
    return cb__fail(CB_ETYPE, "%s is not supported for %s", cb_op_name(op),
                    cb_dtype_name(t));
  *compute = t;
  *result = kind == CB_KIND_COMPARE || kind == CB_KIND_TEST ? CB_BOOL : t;
  return 0;
}

int cb_result_dtype(cb_op op, const cb_operand *x, int n, cb_dtype *out) {
  cb_dtype compute;
  return cb__ewise_types(op, x, n, &compute, out);
}
