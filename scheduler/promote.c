/*
 * Result dtypes, as NumPy 2 computes them for cambrian's dtypes:
 *
 * - arrays and NumPy scalars are "strong": within a kind the wider dtype
 *   wins; a signed and an unsigned integer give the narrowest signed
 *   integer holding both (uint64 with a signed one gives float64); an
 *   float is as wide as the wider of the float and what the integer
 *   needs: float16 for 8 bits, float32 for 16, float64 for more (int8
 *   with float16 gives float16, int16 float32, int32 float64); bool gives
 *   way to any other dtype;
 * - Python scalars are "weak" (NEP 50): a Python int takes an integer or
 *   float array's dtype (and must fit it) and makes a bool array int64; a
 *   Python float takes a float array's dtype and makes others float64; a
 *   Python bool takes any array's dtype;
 * - divide computes in floats: integers and bool go to float64; the math
 *   functions (sqrt, exp, ...) give bool and 8-bit integers float16,
 *   integers of 16 bits float32 and wider ones float64;
 * - bool - bool and -bool raise TypeError, as in NumPy; bool ** bool,
 *   //, %, shifts and square of bools compute in int8, as NumPy's; round
 *   of bool gives float16, as NumPy's (which rounds as its math function
 *   rint does);
 * - comparisons give bool; where() promotes its second and third operands;
 * - a complex dtype with another gives the complex dtype whose parts
 *   have the dtype the other would give with those parts (int16 with
 *   complex64 gives complex64, int32 complex128); a Python complex is
 *   weak, keeping a complex array's dtype, making float16 and float32
 *   complex64 and others complex128;
 * - absolute, real and imag of complex give the dtype of its parts;
 *   complex(re, im) the complex dtype of parts re and im promote to.
 */
#include <string.h>

#include "arrays.h"
#include "errors.h"
#include "ewise_codelets.h"
#include "promote.h"

static int bits(cb_dtype t) { return 8 * (int)cb_dtype_size(t); }

static cb_dtype int_of(int nbits, int is_unsigned) {
  switch (nbits) {
  case 8:
    return is_unsigned ? CB_UINT8 : CB_INT8;
  case 16:
    return is_unsigned ? CB_UINT16 : CB_INT16;
  case 32:
    return is_unsigned ? CB_UINT32 : CB_INT32;
  default:
    return is_unsigned ? CB_UINT64 : CB_INT64;
  }
}

/* The float dtype of nbits bits. */
static cb_dtype float_of(int nbits) {
  return nbits <= 16 ? CB_FLOAT16 : nbits == 32 ? CB_FLOAT32 : CB_FLOAT64;
}

/* The narrowest complex dtype holding values of dtype t (a float: a
 * float16 or float32 one gives complex64). */
static cb_dtype complex_of(cb_dtype t) {
  return t == CB_FLOAT16 || t == CB_FLOAT32 ? CB_COMPLEX64 : CB_COMPLEX128;
}

/* The bits of the narrowest float that holds every integer of dtype t
 * (or bool) exactly. */
static int float_bits_for(cb_dtype t) {
  return bits(t) <= 8 ? 16 : bits(t) <= 16 ? 32 : 64;
}

static cb_dtype promote2(cb_dtype a, cb_dtype b) {
  if (a == b || b == CB_BOOL)
    return a;
  if (a == CB_BOOL)
    return b;
  char ca = cb__dtype_class(a), cbb = cb__dtype_class(b);
  if (ca == 'C' || cbb == 'C')
    return complex_of(promote2(cb__dtype_part(a), cb__dtype_part(b)));
  if (ca == 'F' && cbb == 'F')
    return bits(a) > bits(b) ? a : b;
  if (ca == 'F' || cbb == 'F') {
    cb_dtype f = ca == 'F' ? a : b, i = ca == 'F' ? b : a;
    int need = float_bits_for(i);
    return float_of(bits(f) > need ? bits(f) : need);
  }
  int ua = cb__dtype_unsigned(a), ub = cb__dtype_unsigned(b);
  int wide = bits(a) > bits(b) ? bits(a) : bits(b);
  if (ua == ub)
    return int_of(wide, ua);
  cb_dtype sgn = ua ? b : a, uns = ua ? a : b;
  if (bits(sgn) > bits(uns))
    return sgn;
  return bits(uns) == 64 ? CB_FLOAT64 : int_of(2 * bits(uns), 0);
}

/* Whether the weak integer x fits dtype t (an integer dtype). weak 3
 * holds an integer in [2**63, 2**64) as the bits of a uint64; weak 2, one
 * beyond that, as a double. */
static int weak_fits(const cb_operand *x, cb_dtype t) {
  if (x->weak == 2)
    return 0;
  if (x->weak == 3)
    return t == CB_UINT64;
  int64_t v = x->value.i;
  if (cb__dtype_unsigned(t))
    return v >= 0 && (t == CB_UINT64 || v < ((int64_t)1 << bits(t)));
  if (t == CB_INT64)
    return 1;
  int64_t lim = (int64_t)1 << (bits(t) - 1);
  return v >= -lim && v < lim;
}

/* Promotes strong dtypes, then applies the weak scalars. A weak integer
 * that does not fit the integer dtype it takes is refused (CB_ERANGE),
 * unless stray is given: then *stray gets its index (-1 when all fit). */
static int promote(const cb_operand *x, int n, cb_dtype *out, int *stray) {
  int have_strong = 0;
  cb_dtype s = CB_BOOL;
  char weak = 'B';
  for (int i = 0; i < n; i++) {
    cb_dtype t = x[i].array ? cb_array_dtype(x[i].array) : x[i].dtype;
    if (x[i].array || !x[i].weak) {
      s = have_strong ? promote2(s, t) : t;
      have_strong = 1;
    } else if (cb__dtype_class(t) == 'C' || weak == 'C') {
      weak = 'C';
    } else if (cb__dtype_class(t) == 'F' || weak == 'F') {
      weak = 'F';
    } else if (cb__dtype_class(t) == 'I') {
      weak = 'I';
    }
  }
  if (!have_strong) {
    *out = weak == 'C'   ? CB_COMPLEX128
           : weak == 'F' ? CB_FLOAT64
           : weak == 'I' ? CB_INT64
                         : CB_BOOL;
    return 0;
  }
  char cs = cb__dtype_class(s);
  if (weak == 'C' && cs != 'C')
    s = cs == 'F' ? complex_of(s) : CB_COMPLEX128;
  else if (weak == 'F' && cs != 'F' && cs != 'C')
    s = CB_FLOAT64;
  else if (weak == 'I' && cs == 'B')
    s = CB_INT64;
  /* A weak integer must fit the integer dtype it takes. */
  if (stray)
    *stray = -1;
  if (cb__dtype_class(s) == 'I')
    for (int i = 0; i < n; i++) {
      if (x[i].array || !x[i].weak || x[i].dtype != CB_INT64 ||
          weak_fits(&x[i], s))
        continue;
      if (stray) {
        *stray = i;
        break;
      }
      if (x[i].weak == 2) /* an integer: written as one, exactly */
        return cb__fail(CB_ERANGE, "Python integer %.0f out of bounds for "
                                   "%s", x[i].value.f, cb_dtype_name(s));
      if (x[i].weak == 3)
        return cb__fail(CB_ERANGE, "Python integer %llu out of bounds for "
                                   "%s", (unsigned long long)x[i].value.i,
                        cb_dtype_name(s));
      return cb__fail(CB_ERANGE, "Python integer %lld out of bounds for %s",
                      (long long)x[i].value.i, cb_dtype_name(s));
    }
  *out = s;
  return 0;
}

int cb__weak_above(const cb_operand *x) {
  return x->weak == 3 || (x->weak == 2 ? x->value.f > 0 : x->value.i > 0);
}

int cb__ewise_types_ex(cb_op op, const cb_operand *x, int n,
                       cb_dtype *compute, cb_dtype *result, int *stray) {
  if ((unsigned)op >= CB_NOPS)
    return cb__fail(CB_EINVAL, "unknown operation %d", (int)op);
  cb_op_kind kind = cb_op_get_kind(op);
  int first = kind == CB_KIND_WHERE ? 1 : 0;
  /* Where the result does not take the integer dtype (true division, the
   * math functions) a weak integer need not fit it; comparisons answer
   * by value, as NumPy's. */
  int lenient = kind == CB_KIND_DIVIDE || kind == CB_KIND_MATH ||
                kind == CB_KIND_MATH2 || kind == CB_KIND_COMPARE;
  int s = -1;
  cb_dtype t = CB_BOOL;
  int rc = promote(x + first, n - first, &t, lenient ? &s : NULL);
  if (rc)
    return rc;
  if (stray)
    *stray = kind == CB_KIND_COMPARE && s >= 0 ? s + first : -1;
  if (t == CB_BOOL && cb__op_accepts_bool_as_int8(op))
    t = CB_INT8;
  if (t == CB_BOOL && op == CB_OP_round)
    t = CB_FLOAT16;
  char ct = cb__dtype_class(t);
  if (kind == CB_KIND_DIVIDE && ct != 'F' && ct != 'C')
    t = CB_FLOAT64;
  if ((kind == CB_KIND_MATH || kind == CB_KIND_MATH2) && ct != 'F' &&
      ct != 'C')
    t = float_of(float_bits_for(t));
  if (!cb__op_accepts(op, t))
    return cb__fail(CB_ETYPE, "%s is not supported for %s", cb_op_name(op),
                    cb_dtype_name(t));
  *compute = t;
  *result = kind == CB_KIND_COMPARE || kind == CB_KIND_TEST ? CB_BOOL
            : kind == CB_KIND_PART                           ? cb__dtype_part(t)
            : kind == CB_KIND_COMPOSE                        ? complex_of(t)
                                                             : t;
  return 0;
}

int cb__ewise_types(cb_op op, const cb_operand *x, int n, cb_dtype *compute,
                    cb_dtype *result) {
  return cb__ewise_types_ex(op, x, n, compute, result, NULL);
}

int cb_result_dtype(cb_op op, const cb_operand *x, int n, cb_dtype *out) {
  cb_dtype compute;
  return cb__ewise_types(op, x, n, &compute, out);
}
