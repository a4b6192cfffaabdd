/*
 * CPU loops of the element-wise operations, generated from the table in
 * elementwise.def: one loop per operation and dtype (per dtype pair for
 * casts; "u8" names bool, which is a macro). A loop reads input k at
 * in[k][i * s[k]], s[k] being 1 for a tile and 0 for a broadcast 0-D
 * array or scalar; common stride patterns get
 * loops of their own so that the compiler vectorises them.
 */
#include <string.h>
#include <tgmath.h>

#include "complex_cpu.h"
#include "ew_helpers.h"
#include "ewise_codelets.h"
#include "fused.h"
#include "half.h"

CB__IPOW_DEF(int64_t, uint64_t, cb__ipow64)
CB__UPOW_DEF(uint64_t, cb__upow64)
/* Powers of every integer dtype, in 64 bits and narrowed: the low bits
 * are the same. */
#define CB_IPOW(a, b)                                                        \
  ((T)((T)-1 < 0 ? (U)cb__ipow64((int64_t)(a), (int64_t)(b))               \
                 : (U)cb__upow64((uint64_t)(a), (uint64_t)(b))))
CB__FDIV_DEF(float, cb__fdivf)
CB__FDIV_DEF(double, cb__fdiv)
CB__FMOD_DEF(float, cb__fmodf)
CB__FMOD_DEF(double, cb__fmod)
#define CB_FDIV(a, b) _Generic((a), float: cb__fdivf, default: cb__fdiv)(a, b)
#define CB_FMOD(a, b) _Generic((a), float: cb__fmodf, default: cb__fmod)(a, b)

typedef void (*loop_fn)(int64_t n, const void *const *in, const int *s,
                        void *out, const cb__task *t);

/* Per dtype: the expression of its class, and its unsigned twin. */
#define UTYPE_BOOL uint8_t
#define UTYPE_INT8 uint8_t
#define UTYPE_INT16 uint16_t
#define UTYPE_INT32 uint32_t
#define UTYPE_INT64 uint64_t
#define UTYPE_UINT8 uint8_t
#define UTYPE_UINT16 uint16_t
#define UTYPE_UINT32 uint32_t
#define UTYPE_UINT64 uint64_t
#define UTYPE_FLOAT32 uint32_t
#define UTYPE_FLOAT64 uint64_t
#define UTYPE_COMPLEX64 uint64_t
#define UTYPE_COMPLEX128 uint64_t
#define UTYPE_FLOAT16 uint16_t

/* The result type of each kind, given the loop type c, the type p of
 * its parts (c itself but for complex types) and the complex type z whose
 * parts have type c (double _Complex for types other than float). */
#define RTYPE_CB_KIND_UNARY(c, p, z) c
#define RTYPE_CB_KIND_MATH(c, p, z) c
#define RTYPE_CB_KIND_BINARY(c, p, z) c
#define RTYPE_CB_KIND_DIVIDE(c, p, z) c
#define RTYPE_CB_KIND_COMPARE(c, p, z) uint8_t
#define RTYPE_CB_KIND_MATH2(c, p, z) c
#define RTYPE_CB_KIND_PART(c, p, z) p
#define RTYPE_CB_KIND_COMPOSE(c, p, z) z
#define RTYPE_CB_KIND_TEST(c, p, z) uint8_t
#define RTYPE_CB_KIND_WHERE(c, p, z) c
#define RTYPE_CB_KIND_CAST(c, p, z) c
#define RTYPE_CB_KIND_FILL(c, p, z) c
#define RTYPE_CB_KIND_ARANGE(c, p, z) c

/* A loop reads its operands as S (the dtype's storage), computes in T
 * and writes R. Every dtype but float16 stores what it computes in: LD
 * is CB__AS_IS and ST a cast to R. float16 loads halves to float (T),
 * computes in float and stores back rounded to the nearest half (R its
 * 16 bits), or as bool for the tests and comparisons. */
#define LOOP_HEAD(fn, ctype, stype, rtype, UP)                               \
  static void fn(int64_t n, const void *const *in, const int *s, void *out, \
                 const cb__task *t) {                                        \
    typedef ctype T;                                                         \
    typedef stype S;                                                         \
    typedef UTYPE_##UP U;                                                    \
    typedef rtype R;                                                         \
    R *o = out;                                                              \
    (void)s;                                                                 \
    (void)t;                                                                 \
    (void)in;                                                                \
    (void)sizeof(U);                                                         \
    (void)sizeof(S);

#define CB__AS_IS(x) (x)
#define CB__AS_R(x) ((R)(x))
#define CB__TO_HALF(x) cb__float_to_half((float)(x))

#define LOOP_ONE(expr, LD, ST)                                               \
  const S *A = in[0];                                                        \
  for (int64_t k = 0; k < n; k++) {                                          \
    T a = LD(A[k]);                                                          \
    o[k] = ST(expr);                                                         \
  }

#define LOOP_TWO(expr, LD, ST)                                               \
  const S *A = in[0], *B = in[1];                                            \
  if (s[0] && s[1]) {                                                        \
    for (int64_t k = 0; k < n; k++) {                                        \
      T a = LD(A[k]), b = LD(B[k]);                                          \
      o[k] = ST(expr);                                                       \
    }                                                                        \
  } else if (s[0]) {                                                         \
    const T b = LD(B[0]);                                                    \
    for (int64_t k = 0; k < n; k++) {                                        \
      T a = LD(A[k]);                                                        \
      o[k] = ST(expr);                                                       \
    }                                                                        \
  } else if (s[1]) {                                                         \
    const T a = LD(A[0]);                                                    \
    for (int64_t k = 0; k < n; k++) {                                        \
      T b = LD(B[k]);                                                        \
      o[k] = ST(expr);                                                       \
    }                                                                        \
  } else {                                                                   \
    const T a = LD(A[0]), b = LD(B[0]);                                      \
    for (int64_t k = 0; k < n; k++)                                          \
      o[k] = ST(expr);                                                       \
  }

#define BODY_CB_KIND_UNARY(expr, LD, ST) LOOP_ONE(expr, LD, ST)
#define BODY_CB_KIND_MATH(expr, LD, ST) LOOP_ONE(expr, LD, ST)
#define BODY_CB_KIND_PART(expr, LD, ST) LOOP_ONE(expr, LD, ST)
#define BODY_CB_KIND_COMPOSE(expr, LD, ST) LOOP_TWO(expr, LD, ST)
#define BODY_CB_KIND_CAST(expr, LD, ST) LOOP_ONE(expr, LD, ST)
#define BODY_CB_KIND_BINARY(expr, LD, ST) LOOP_TWO(expr, LD, ST)
#define BODY_CB_KIND_DIVIDE(expr, LD, ST) LOOP_TWO(expr, LD, ST)
#define BODY_CB_KIND_COMPARE(expr, LD, ST) LOOP_TWO(expr, LD, ST)
#define BODY_CB_KIND_MATH2(expr, LD, ST) LOOP_TWO(expr, LD, ST)
#define BODY_CB_KIND_TEST(expr, LD, ST) LOOP_ONE(expr, LD, ST)
#define BODY_CB_KIND_WHERE(expr, LD, ST)                                     \
  const uint8_t *C = in[0];                                                  \
  const S *X = in[1], *Y = in[2];                                            \
  for (int64_t k = 0; k < n; k++) {                                          \
    uint8_t a = C[k * s[0]];                                                 \
    T b = LD(X[k * s[1]]), c = LD(Y[k * s[2]]);                              \
    o[k] = ST(expr);                                                         \
  }
#define BODY_CB_KIND_FILL(expr, LD, ST)                                      \
  const T a = LD(*(const S *)in[0]);                                         \
  for (int64_t k = 0; k < n; k++)                                            \
    o[k] = ST(expr);
#define BODY_CB_KIND_ARANGE(expr, LD, ST)                                    \
  const T a = LD(*(const S *)in[0]), b = LD(*(const S *)in[1]);              \
  for (int64_t k = 0; k < n; k++) {                                          \
    int64_t i = t->base + k;                                                 \
    o[k] = ST(expr);                                                         \
  }

/* How float16 loops store each kind's result: tests and comparisons give
 * bool, complex(re, im) complex64, the others a half. */
#define HST_CB_KIND_UNARY CB__TO_HALF
#define HST_CB_KIND_MATH CB__TO_HALF
#define HST_CB_KIND_BINARY CB__TO_HALF
#define HST_CB_KIND_DIVIDE CB__TO_HALF
#define HST_CB_KIND_COMPARE CB__AS_R
#define HST_CB_KIND_MATH2 CB__TO_HALF
#define HST_CB_KIND_PART CB__TO_HALF
#define HST_CB_KIND_COMPOSE CB__AS_R
#define HST_CB_KIND_TEST CB__AS_R
#define HST_CB_KIND_WHERE CB__TO_HALF
#define HST_CB_KIND_CAST CB__TO_HALF
#define HST_CB_KIND_FILL CB__TO_HALF
#define HST_CB_KIND_ARANGE CB__TO_HALF

/* One loop per operation and dtype, in the order of CB_DTYPE_MAP ("u8"
 * is bool); casts have their own. */
#define LOOP(name, low, ctype, ptype, ztype, UP, kind, expr)                 \
  LOOP_HEAD(loop_##name##_##low, ctype, ctype,                               \
            RTYPE_##kind(ctype, ptype, ztype), UP)                           \
  BODY_##kind(expr, CB__AS_IS, CB__AS_R)                                     \
  }
#define LOOP_HALF(name, kind, expr)                                          \
  LOOP_HEAD(loop_##name##_float16, float, uint16_t,                          \
            RTYPE_##kind(uint16_t, uint16_t, float _Complex), FLOAT16)       \
  BODY_##kind(expr, cb__half_to_float, HST_##kind)                           \
  }
#define ZD double _Complex
#define LOOPS(name, kind, f, i, b, c)                                        \
  LOOP(name, u8, uint8_t, uint8_t, ZD, BOOL, kind, b)                      \
  LOOP(name, int32, int32_t, int32_t, ZD, INT32, kind, i)                    \
  LOOP(name, int64, int64_t, int64_t, ZD, INT64, kind, i)                    \
  LOOP(name, float32, float, float, float _Complex, FLOAT32, kind, f)        \
  LOOP(name, float64, double, double, ZD, FLOAT64, kind, f)                  \
  LOOP(name, int8, int8_t, int8_t, ZD, INT8, kind, i)                        \
  LOOP(name, int16, int16_t, int16_t, ZD, INT16, kind, i)                    \
  LOOP(name, uint8, uint8_t, uint8_t, ZD, UINT8, kind, i)                    \
  LOOP(name, uint16, uint16_t, uint16_t, ZD, UINT16, kind, i)                \
  LOOP(name, uint32, uint32_t, uint32_t, ZD, UINT32, kind, i)                \
  LOOP(name, uint64, uint64_t, uint64_t, ZD, UINT64, kind, i)                \
  LOOP(name, complex64, float _Complex, float, ZD, COMPLEX64, kind, c)       \
  LOOP(name, complex128, double _Complex, double, ZD, COMPLEX128, kind, c)   \
  LOOP_HALF(name, kind, f)
#define ROW(name)                                                            \
  {loop_##name##_u8,     loop_##name##_int32,  loop_##name##_int64,        \
   loop_##name##_float32, loop_##name##_float64, loop_##name##_int8,       \
   loop_##name##_int16,  loop_##name##_uint8,  loop_##name##_uint16,       \
   loop_##name##_uint32, loop_##name##_uint64, loop_##name##_complex64,    \
   loop_##name##_complex128, loop_##name##_float16},

/* Floating values as integers: truncated towards zero, and the minimum of
 * the integer type beyond its range (NaN too), where C leaves the
 * conversion undefined; x86-64, and NumPy there, give that minimum. */
static inline int32_t float_to_int32(double x) {
  return x >= -0x1p31 && x < 0x1p31 ? (int32_t)x : INT32_MIN;
}
static inline int64_t float_to_int64(double x) {
  return x >= -0x1p63 && x < 0x1p63 ? (int64_t)x : INT64_MIN;
}
/* Unsigned 32 and 64 bits: through int64 (uint64 above it), and the low
 * bits kept; 8 and 16 bits, signed or not, through int32: as NumPy's
 * casts give on x86-64. */
static inline uint64_t float_to_bits(double x) {
  return x >= 0x1p63 && x < 0x1p64 ? (uint64_t)x
                                   : (uint64_t)float_to_int64(x);
}
#define FLOAT_TO(D, x)                                                       \
  _Generic((D *)0, int32_t *: float_to_int32(x),                             \
           int64_t *: float_to_int64(x), float *: (D)(x),                    \
           double *: (D)(x), int8_t *: (D)float_to_int32(x),                 \
           int16_t *: (D)float_to_int32(x), uint8_t *: (D)float_to_int32(x), \
           uint16_t *: (D)float_to_int32(x), default: (D)float_to_bits(x))
/* x converted to D: to a complex type as C converts; a complex x to
 * another type through its real part, as NumPy does. */
#define CONVERT_REAL(D, x)                                                   \
  _Generic((x), float: FLOAT_TO(D, x), double: FLOAT_TO(D, x),              \
           float _Complex: FLOAT_TO(D, creal(x)),                            \
           double _Complex: FLOAT_TO(D, creal(x)), default: (D)(x))
#define CONVERT(D, x)                                                        \
  _Generic((D *)0, float _Complex *: (D)(x), double _Complex *: (D)(x),      \
           default: CONVERT_REAL(D, x))

/* A cast loads a value of type V from storage S (LD), and stores it as
 * dtype D's storage E (ST): float16 loads its halves as floats and
 * stores a value converted to double, then rounded once to a half. */
#define CB__CONVERT_TO(D, x) CONVERT(D, x)
#define CB__CONVERT_HALF(D, x) cb__double_to_half(CONVERT(double, x))
#define CAST_LOOP(slow, S, V, LD, dlow, D, E, ST, expr)                      \
  static void cast_##slow##_##dlow(int64_t n, const void *const *in,         \
                                   const int *s, void *out,                  \
                                   const cb__task *t) {                      \
    const S *A = in[0];                                                      \
    E *o = out;                                                              \
    (void)s;                                                                 \
    (void)t;                                                                 \
    for (int64_t k = 0; k < n; k++) {                                        \
      V a = LD(A[k]);                                                        \
      o[k] = ST(D, expr);                                                    \
    }                                                                        \
  }
#define CASTS_INTO(slow, S, V, LD, f, i, b, c)                               \
  CAST_LOOP(slow, S, V, LD, u8, uint8_t, uint8_t, CB__CONVERT_TO, b)         \
  CAST_LOOP(slow, S, V, LD, int32, int32_t, int32_t, CB__CONVERT_TO, i)      \
  CAST_LOOP(slow, S, V, LD, int64, int64_t, int64_t, CB__CONVERT_TO, i)      \
  CAST_LOOP(slow, S, V, LD, float32, float, float, CB__CONVERT_TO, f)        \
  CAST_LOOP(slow, S, V, LD, float64, double, double, CB__CONVERT_TO, f)      \
  CAST_LOOP(slow, S, V, LD, int8, int8_t, int8_t, CB__CONVERT_TO, i)         \
  CAST_LOOP(slow, S, V, LD, int16, int16_t, int16_t, CB__CONVERT_TO, i)      \
  CAST_LOOP(slow, S, V, LD, uint8, uint8_t, uint8_t, CB__CONVERT_TO, i)      \
  CAST_LOOP(slow, S, V, LD, uint16, uint16_t, uint16_t, CB__CONVERT_TO, i)   \
  CAST_LOOP(slow, S, V, LD, uint32, uint32_t, uint32_t, CB__CONVERT_TO, i)   \
  CAST_LOOP(slow, S, V, LD, uint64, uint64_t, uint64_t, CB__CONVERT_TO, i)   \
  CAST_LOOP(slow, S, V, LD, complex64, float _Complex, float _Complex,       \
            CB__CONVERT_TO, c)                                               \
  CAST_LOOP(slow, S, V, LD, complex128, double _Complex, double _Complex,    \
            CB__CONVERT_TO, c)                                               \
  CAST_LOOP(slow, S, V, LD, float16, double, uint16_t, CB__CONVERT_HALF, f)
#define CASTS_FROM(slow, S, f, i, b, c)                                      \
  CASTS_INTO(slow, S, S, CB__AS_IS, f, i, b, c)
#define CAST_ROW(slow)                                                       \
  {cast_##slow##_u8,     cast_##slow##_int32,  cast_##slow##_int64,        \
   cast_##slow##_float32, cast_##slow##_float64, cast_##slow##_int8,       \
   cast_##slow##_int16,  cast_##slow##_uint8,  cast_##slow##_uint16,       \
   cast_##slow##_uint32, cast_##slow##_uint64, cast_##slow##_complex64,    \
   cast_##slow##_complex128, cast_##slow##_float16},

#define LOOPS_CB_KIND_CAST(name, f, i, b, c)                                 \
  CASTS_FROM(u8, uint8_t, f, i, b, c)                                      \
  CASTS_FROM(int32, int32_t, f, i, b, c)                                     \
  CASTS_FROM(int64, int64_t, f, i, b, c)                                     \
  CASTS_FROM(float32, float, f, i, b, c)                                     \
  CASTS_FROM(float64, double, f, i, b, c)                                    \
  CASTS_FROM(int8, int8_t, f, i, b, c)                                       \
  CASTS_FROM(int16, int16_t, f, i, b, c)                                     \
  CASTS_FROM(uint8, uint8_t, f, i, b, c)                                     \
  CASTS_FROM(uint16, uint16_t, f, i, b, c)                                   \
  CASTS_FROM(uint32, uint32_t, f, i, b, c)                                   \
  CASTS_FROM(uint64, uint64_t, f, i, b, c)                                   \
  CASTS_FROM(complex64, float _Complex, f, i, b, c)                          \
  CASTS_FROM(complex128, double _Complex, f, i, b, c)                        \
  CASTS_INTO(float16, uint16_t, float, cb__half_to_float, f, i, b, c)
#define LOOPS_OTHER(name, kind, f, i, b, c) LOOPS(name, kind, f, i, b, c)
#define LOOPS_CB_KIND_UNARY(name, f, i, b, c) \
  LOOPS_OTHER(name, CB_KIND_UNARY, f, i, b, c)
#define LOOPS_CB_KIND_MATH(name, f, i, b, c) \
  LOOPS_OTHER(name, CB_KIND_MATH, f, i, b, c)
#define LOOPS_CB_KIND_BINARY(name, f, i, b, c) \
  LOOPS_OTHER(name, CB_KIND_BINARY, f, i, b, c)
#define LOOPS_CB_KIND_DIVIDE(name, f, i, b, c) \
  LOOPS_OTHER(name, CB_KIND_DIVIDE, f, i, b, c)
#define LOOPS_CB_KIND_COMPARE(name, f, i, b, c) \
  LOOPS_OTHER(name, CB_KIND_COMPARE, f, i, b, c)
#define LOOPS_CB_KIND_MATH2(name, f, i, b, c) \
  LOOPS_OTHER(name, CB_KIND_MATH2, f, i, b, c)
#define LOOPS_CB_KIND_PART(name, f, i, b, c) \
  LOOPS_OTHER(name, CB_KIND_PART, f, i, b, c)
#define LOOPS_CB_KIND_COMPOSE(name, f, i, b, c) \
  LOOPS_OTHER(name, CB_KIND_COMPOSE, f, i, b, c)
#define LOOPS_CB_KIND_TEST(name, f, i, b, c) \
  LOOPS_OTHER(name, CB_KIND_TEST, f, i, b, c)
#define LOOPS_CB_KIND_WHERE(name, f, i, b, c) \
  LOOPS_OTHER(name, CB_KIND_WHERE, f, i, b, c)
#define LOOPS_CB_KIND_FILL(name, f, i, b, c) \
  LOOPS_OTHER(name, CB_KIND_FILL, f, i, b, c)
#define LOOPS_CB_KIND_ARANGE(name, f, i, b, c) \
  LOOPS_OTHER(name, CB_KIND_ARANGE, f, i, b, c)

#define X(name, kind, fexpr, iexpr, bexpr, cexpr, types)                      \
  LOOPS_##kind(name, fexpr, iexpr, bexpr, cexpr)
#include "cambrian/elementwise.def"
#undef X

#define ROW_CB_KIND_CAST(name) {NULL},
#define ROW_CB_KIND_UNARY(name) ROW(name)
#define ROW_CB_KIND_MATH(name) ROW(name)
#define ROW_CB_KIND_BINARY(name) ROW(name)
#define ROW_CB_KIND_DIVIDE(name) ROW(name)
#define ROW_CB_KIND_COMPARE(name) ROW(name)
#define ROW_CB_KIND_MATH2(name) ROW(name)
#define ROW_CB_KIND_PART(name) ROW(name)
#define ROW_CB_KIND_COMPOSE(name) ROW(name)
#define ROW_CB_KIND_TEST(name) ROW(name)
#define ROW_CB_KIND_WHERE(name) ROW(name)
#define ROW_CB_KIND_FILL(name) ROW(name)
#define ROW_CB_KIND_ARANGE(name) ROW(name)

static const loop_fn loops[CB_NOPS][CB_NDTYPES] = {
#define X(name, kind, fexpr, iexpr, bexpr, cexpr, types) ROW_##kind(name)
#include "cambrian/elementwise.def"
#undef X
};

static const loop_fn casts[CB_NDTYPES][CB_NDTYPES] = {
    CAST_ROW(u8) CAST_ROW(int32) CAST_ROW(int64) CAST_ROW(float32)
        CAST_ROW(float64) CAST_ROW(int8) CAST_ROW(int16) CAST_ROW(uint8)
            CAST_ROW(uint16) CAST_ROW(uint32) CAST_ROW(uint64)
                CAST_ROW(complex64) CAST_ROW(complex128)
                    CAST_ROW(float16)};

/* Elements of strided operands are copied into blocks of this many, which
 * stay in the core's cache, and the loop runs over the blocks. */
#define CB__STRIDED_BLOCK 1024
#define CB__GATHER_RUN 128

/* The strides met most (0: a broadcast; 2: every other element) are loops
 * of their own, which the compiler vectorises as it cannot the general
 * one. */
#define GATHER_RUN(T)                                                        \
  do {                                                                       \
    const T *s_ = (const T *)src;                                            \
    T *d_ = (T *)dst;                                                        \
    if (st == 0)                                                             \
      for (int64_t k = 0; k < n; k++)                                        \
        d_[k] = s_[0];                                                       \
    else if (st == 2)                                                        \
      for (int64_t k = 0; k < n; k++)                                        \
        d_[k] = s_[2 * k];                                                   \
    else                                                                     \
      for (int64_t k = 0; k < n; k++)                                        \
        d_[k] = s_[k * st];                                                  \
  } while (0)

/* Copies n elements of size es, from src at stride st, to dst. */
static void gather_run(char *dst, const char *src, int64_t n, int64_t st,
                       size_t es) {
  if (st == 1) {
    memcpy(dst, src, (size_t)n * es);
    return;
  }
  switch (es) {
  case 1:
    GATHER_RUN(uint8_t);
    break;
  case 2:
    GATHER_RUN(uint16_t);
    break;
  case 4:
    GATHER_RUN(uint32_t);
    break;
  case 8:
    GATHER_RUN(uint64_t);
    break;
  default:
    for (int64_t k = 0; k < n; k++)
      memcpy(dst + (size_t)k * es, src + (size_t)(k * st) * es, es);
  }
}

/* A walk over a strided operand in C order of the result's shape: the
 * index of the next element, and its offset in the operand. */
typedef struct walk {
  int64_t idx[CB_MAX_NDIM];
  int64_t off;
} walk;

static void walk_start(walk *w, const cb__task *t, const cb__strided *s,
                       int64_t at) {
  w->off = s->offset;
  for (int d = t->ndim - 1; d >= 0; d--) {
    int64_t n = t->shape[d] > 0 ? t->shape[d] : 1;
    w->idx[d] = at % n;
    at /= n;
    w->off += w->idx[d] * s->strides[d];
  }
}

/* Moves the walk on by m elements of its last dimension, carrying into
 * the outer ones. */
static void walk_advance(walk *w, const cb__task *t, const cb__strided *s,
                         int64_t m) {
  int last = t->ndim - 1;
  w->idx[last] += m;
  w->off += m * s->strides[last];
  for (int d = last; d > 0 && w->idx[d] == t->shape[d]; d--) {
    w->off += s->strides[d - 1] - w->idx[d] * s->strides[d];
    w->idx[d] = 0;
    w->idx[d - 1]++;
  }
}

/* The next n elements of the walk: in src itself when they lie there in
 * a row, else copied into dst. */
static const char *walk_take(walk *w, const cb__task *t,
                             const cb__strided *s, const char *src,
                             char *dst, int64_t n, size_t es) {
  int last = t->ndim - 1;
  if (s->strides[last] == 1 && t->shape[last] - w->idx[last] >= n) {
    const char *in_place = src + (size_t)w->off * es;
    walk_advance(w, t, s, n);
    return in_place;
  }
  char *at = dst;
  while (n > 0) {
    int64_t m = t->shape[last] - w->idx[last];
    if (m > n)
      m = n;
    gather_run(at, src + (size_t)w->off * es, m, s->strides[last], es);
    at += (size_t)m * es;
    n -= m;
    walk_advance(w, t, s, m);
  }
  return dst;
}

/* A task with strided operands: each block of the output reads them
 * through their layouts into blocks of its own first. */
static void run_strided(loop_fn fn, const cb__task *t, const void **in,
                        const int *s, void *out, int64_t n) {
  _Alignas(64) char blocks[CB__MAX_OPERANDS][CB__STRIDED_BLOCK * 16];
  walk w[CB__MAX_OPERANDS];
  size_t es[CB__MAX_OPERANDS] = {0};
  /* Blocks end where rows do when an operand's rows are read in place
   * (unit stride), if that leaves blocks of a useful length. */
  int last = t->ndim - 1, by_rows = 0;
  walk *lead = NULL;
  for (int k = 0; k < t->nin; k++) {
    es[k] = cb_dtype_size(t->in_dtype[k]);
    if (t->in_kind[k] == CB__IN_STRIDED) {
      walk_start(&w[k], t, &t->strided[k], t->base);
      lead = lead ? lead : &w[k];
      by_rows |= t->strided[k].strides[last] == 1;
    }
  }
  by_rows &= t->shape[last] >= CB__STRIDED_BLOCK / 8;
  size_t oes = cb_dtype_size(t->out_dtype);
  for (int64_t at = 0, m; at < n; at += m) {
    m = n - at < CB__STRIDED_BLOCK ? n - at : CB__STRIDED_BLOCK;
    if (by_rows && t->shape[last] - lead->idx[last] < m)
      m = t->shape[last] - lead->idx[last];
    const void *part[CB__MAX_OPERANDS];
    for (int k = 0; k < t->nin; k++) {
      if (t->in_kind[k] != CB__IN_STRIDED)
        part[k] = s[k] ? (const char *)in[k] + (size_t)at * es[k] : in[k];
      else if (t->strided[k].strides[last] == 1)
        part[k] = walk_take(&w[k], t, &t->strided[k], in[k], blocks[k], m,
                            es[k]);
      else
        part[k] = blocks[k];
    }
    /* Operands read with a step are gathered in turns of CB__GATHER_RUN
     * elements each, so that the memory streams them together. */
    for (int64_t done = 0, g; done < m; done += g) {
      g = m - done < CB__GATHER_RUN ? m - done : CB__GATHER_RUN;
      for (int k = 0; k < t->nin; k++)
        if (t->in_kind[k] == CB__IN_STRIDED &&
            t->strided[k].strides[last] != 1)
          walk_take(&w[k], t, &t->strided[k], in[k],
                    blocks[k] + (size_t)done * es[k], g, es[k]);
    }
    fn(m, part, s, (char *)out + (size_t)at * oes, t);
  }
}

/* A fused program over n elements (fused.h): each step runs its
 * operation's own loop over blocks of CB__FUSE_BLOCK elements, its
 * operands being inputs, constants or earlier steps' blocks, and the
 * last step writes the output. An input broadcast from one element
 * (s[k] 0) is spread over a block first, since loops of one operand read
 * a block. */
static void fused_loop(int64_t n, const void *const *in, const int *s,
                       void *out, const cb__task *t) {
  const cb__fprog *p = t->prog;
  _Alignas(64) char regs[CB__FUSE_MAX_STEPS][CB__FUSE_BLOCK * 8];
  _Alignas(64) char spread[CB__MAX_OPERANDS][CB__FUSE_BLOCK * 8];
  size_t es[CB__MAX_OPERANDS] = {0};
  for (int k = 0; k < p->nin; k++) {
    es[k] = cb_dtype_size((cb_dtype)p->in_dtype[k]);
    for (int i = 0; !s[k] && i < CB__FUSE_BLOCK; i++)
      memcpy(spread[k] + (size_t)i * es[k], in[k], es[k]);
  }
  size_t oes = cb_dtype_size(cb__fprog_result(p));
  static const int ones[CB__MAX_OPERANDS] = {1, 1, 1};
  for (int64_t at = 0, m; at < n; at += m) {
    m = n - at < CB__FUSE_BLOCK ? n - at : CB__FUSE_BLOCK;
    for (int i = 0; i < p->nsteps; i++) {
      const cb__fstep *st = &p->steps[i];
      const void *x[CB__MAX_OPERANDS];
      int xs[CB__MAX_OPERANDS];
      for (int k = 0; k < st->n; k++) {
        int r = st->x[k];
        xs[k] = r >= 0;
        x[k] = r < 0        ? (const void *)&p->consts[-1 - r]
               : r >= p->nin ? (const void *)regs[r - p->nin]
               : !s[r]       ? (const void *)spread[r]
                             : (const char *)in[r] + (size_t)at * es[r];
      }
      void *o = i == p->nsteps - 1 ? (char *)out + (size_t)at * oes
                                   : (void *)regs[i];
      loop_fn fn = cb_op_get_kind((cb_op)st->op) == CB_KIND_CAST
                       ? casts[st->dtype][st->result]
                       : loops[st->op][st->dtype];
      fn(m, x, st->n == 1 ? ones : xs, o, t);
    }
  }
}

void cb__ew_cpu(void *buffers[], void *cl_arg) {
  cb__task *t = cl_arg;
  if (cb__ctx_skip(&t->ctx))
    return;
  /* The output's buffer comes after the inputs'. */
  int nb = cb__ew_output_buffer(t);
  void *out = (void *)STARPU_VECTOR_GET_PTR(buffers[nb]);
  int64_t n = STARPU_VECTOR_GET_NX(buffers[nb]);
  const void *in[CB__MAX_OPERANDS];
  int s[CB__MAX_OPERANDS] = {0};
  int64_t period = 0;
  int strided = 0;
  nb = 0;
  for (int k = 0; k < t->nin; k++) {
    switch (t->in_kind[k]) {
    case CB__IN_SCALAR:
      in[k] = &t->scalar[k];
      break;
    case CB__IN_OUT:
      in[k] = out;
      s[k] = 1;
      break;
    case CB__IN_STRIDED:
      /* On a CPU worker the tiles of an array lie in order in its host
       * buffer: the first one's address reaches them all. */
      in[k] = (const void *)STARPU_VECTOR_GET_PTR(buffers[nb]);
      nb += t->strided[k].ntiles;
      s[k] = 1;
      strided = 1;
      break;
    default:
      in[k] = (const void *)STARPU_VECTOR_GET_PTR(buffers[nb++]);
      s[k] = t->in_kind[k] == CB__IN_TILE || t->in_kind[k] == CB__IN_ROW;
      if (t->in_kind[k] == CB__IN_ROW)
        period = t->period[k];
    }
  }
  cb_op_kind kind = cb_op_get_kind(t->op);
  if (kind == CB_KIND_FILL) {
    in[0] = &t->scalar[0];
  } else if (kind == CB_KIND_ARANGE) {
    in[0] = &t->start;
    in[1] = &t->step;
  }
  loop_fn fn = t->prog               ? fused_loop
               : kind == CB_KIND_CAST ? casts[t->in_dtype[0]][t->out_dtype]
                                      : loops[t->op][cb__task_dtype(t)];
  if (strided) {
    run_strided(fn, t, in, s, out, n);
    return;
  }
  if (!period) {
    fn(n, in, s, out, t);
    return;
  }
  /* Rows: the loop runs over one period at a time, rows staying where
   * they are and everything else moving on (the tile starts at a whole
   * number of periods). */
  size_t oes = cb_dtype_size(t->out_dtype);
  for (int64_t at = 0; at < n; at += period) {
    const void *part[CB__MAX_OPERANDS];
    for (int k = 0; k < t->nin; k++)
      part[k] = s[k] && t->in_kind[k] != CB__IN_ROW
                    ? (const char *)in[k] +
                          (size_t)at * cb_dtype_size(t->in_dtype[k])
                    : in[k];
    int64_t m = n - at < period ? n - at : period;
    fn(m, part, s, (char *)out + (size_t)at * oes, t);
  }
}
