/*
 * CPU side of the reductions: the loop that reduces one tile into its
 * partial results, and the combine that reduces the partials into the
 * result.
 *
 * A run of elements is reduced in LANES independent accumulators, which
 * the compiler turns into vector code without reassociating anything,
 * and which are then merged pairwise. Sums accumulate in double for float
 * dtypes and in uint64_t for integers (wrapping as NumPy's int64 does);
 * min and max work in the element type, NaN sticking once met.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reduce_codelets.h"

#define LANES 16

/* Per family: identity, one step over element i, merge of two partials.
 * X and Y are the inputs; NANQ(v) tests for NaN (0 for integers). */
#define INIT_ADD(T, A, HI, LO) ((A)0)
#define INIT_SQUARE(T, A, HI, LO) ((A)0)
#define INIT_DOT(T, A, HI, LO) ((A)0)
#define INIT_MIN(T, A, HI, LO) ((A)(HI))
#define INIT_MAX(T, A, HI, LO) ((A)(LO))
#define STEP_ADD(acc, i, A, NANQ) acc += (A)X[i]
#define STEP_SQUARE(acc, i, A, NANQ) acc += (A)X[i] * (A)X[i]
#define STEP_DOT(acc, i, A, NANQ) acc += (A)X[i] * (A)Y[i]
#define STEP_MIN(acc, i, A, NANQ)                                            \
  do {                                                                       \
    A v_ = X[i];                                                             \
    acc = ((v_ < acc) | NANQ(v_)) ? v_ : acc;                                 \
  } while (0)
#define STEP_MAX(acc, i, A, NANQ)                                            \
  do {                                                                       \
    A v_ = X[i];                                                             \
    acc = ((v_ > acc) | NANQ(v_)) ? v_ : acc;                                 \
  } while (0)
#define MERGE_ADD(a, b, NANQ) ((a) + (b))
#define MERGE_SQUARE(a, b, NANQ) ((a) + (b))
#define MERGE_DOT(a, b, NANQ) ((a) + (b))
#define MERGE_MIN(a, b, NANQ) (((b) < (a) || NANQ(b)) ? (b) : (a))
#define MERGE_MAX(a, b, NANQ) (((b) > (a) || NANQ(b)) ? (b) : (a))

#define NAN_F(v) ((v) != (v))
#define NAN_I(v) 0

/* tile_<family>_<in>_<acc>: reduces the tile x (and y) of n elements
 * into part, as t's mode says. The accumulator A stores as P. */
#define TILE_FN(FAM, tn, T, an, A, P, HI, LO, NANQ)                          \
  TILE_FN_RUN(FAM, tn, T, an, A, P, HI, LO, NANQ, run_##FAM##_##tn##_##an)
#define TILE_FN_RUN(FAM, tn, T, an, A, P, HI, LO, NANQ, RUN)                  \
  __attribute__((unused)) static A run_##FAM##_##tn##_##an(                  \
      const T *X, const T *Y, int64_t lo, int64_t hi) {                      \
    (void)Y;                                                                 \
    A l[LANES];                                                              \
    for (int k = 0; k < LANES; k++)                                          \
      l[k] = INIT_##FAM(T, A, HI, LO);                                       \
    int64_t i = lo;                                                          \
    for (; i + LANES <= hi; i += LANES)                                      \
      for (int k = 0; k < LANES; k++)                                        \
        STEP_##FAM(l[k], i + k, A, NANQ);                                    \
    for (; i < hi; i++)                                                      \
      STEP_##FAM(l[0], i, A, NANQ);                                          \
    for (int w = LANES / 2; w; w /= 2)                                       \
      for (int k = 0; k < w; k++)                                            \
        l[k] = MERGE_##FAM(l[k], l[k + w], NANQ);                            \
    return l[0];                                                             \
  }                                                                          \
  static int tile_##FAM##_##tn##_##an(const cb__rtask *t, const void *x,     \
                                      const void *y, int64_t n, void *out) { \
    const T *X = x, *Y = y;                                                  \
    P *o = out;                                                              \
    int64_t cols = t->cols;                                                  \
    if (t->mode == CB__RM_ALL) {                                             \
      for (int g = 0; g < CB__RCHUNKS; g++)                                  \
        o[g] = (P)RUN(X, Y, n * g / CB__RCHUNKS, n * (g + 1) / CB__RCHUNKS);  \
    } else if (t->mode == CB__RM_ROWS) {                                     \
      for (int64_t r = 0; r < n / cols; r++)                                 \
        o[r] = (P)RUN(X, Y, r * cols, (r + 1) * cols);                       \
    } else {                                                                 \
      /* Columns of each slab of rows (one slab: the tile's columns). */     \
      int mid = t->mode == CB__RM_MID;                                       \
      int64_t rows = mid ? t->count : n / cols;                              \
      int64_t slabs = mid ? n / (rows * cols) : 1;                           \
      A *acc = malloc((size_t)cols * sizeof *acc);                           \
      if (!acc)                                                              \
        return -1;                                                           \
      for (int64_t s = 0; s < slabs; s++) {                                  \
        for (int64_t c = 0; c < cols; c++)                                   \
          acc[c] = INIT_##FAM(T, A, HI, LO);                                 \
        for (int64_t r = 0; r < rows; r++) {                                 \
          const T *row = X + (s * rows + r) * cols;                          \
          const T *yrow = Y ? Y + (s * rows + r) * cols : NULL;              \
          for (int64_t c = 0; c < cols; c++) {                               \
            const T *X = row, *Y = yrow;                                     \
            (void)Y;                                                         \
            STEP_##FAM(acc[c], c, A, NANQ);                                  \
          }                                                                  \
        }                                                                    \
        for (int64_t c = 0; c < cols; c++)                                   \
          o[s * cols + c] = (P)acc[c];                                       \
      }                                                                      \
      free(acc);                                                             \
    }                                                                        \
    return 0;                                                                \
  }

typedef int (*tile_fn)(const cb__rtask *t, const void *x, const void *y,
                       int64_t n, void *out);

/* Sums: integers into int64 (or double for mean and norm), floats in
 * double, stored as the float dtype. */
#define SUM_FAMILY(FAM)                                                      \
  TILE_FN(FAM, b, uint8_t, i, uint64_t, int64_t, 0, 0, NAN_I)                \
  TILE_FN(FAM, i32, int32_t, i, uint64_t, int64_t, 0, 0, NAN_I)              \
  TILE_FN(FAM, i64, int64_t, i, uint64_t, int64_t, 0, 0, NAN_I)              \
  TILE_FN(FAM, b, uint8_t, d, double, double, 0, 0, NAN_I)                   \
  TILE_FN(FAM, i32, int32_t, d, double, double, 0, 0, NAN_I)                 \
  TILE_FN(FAM, i64, int64_t, d, double, double, 0, 0, NAN_I)                 \
  TILE_FN(FAM, f32, float, f, double, float, 0, 0, NAN_I)                    \
  TILE_FN(FAM, f64, double, d, double, double, 0, 0, NAN_I)                  \
  TILE_FN(FAM, i8, int8_t, i, uint64_t, int64_t, 0, 0, NAN_I)                \
  TILE_FN(FAM, i16, int16_t, i, uint64_t, int64_t, 0, 0, NAN_I)              \
  TILE_FN(FAM, u8, uint8_t, i, uint64_t, int64_t, 0, 0, NAN_I)               \
  TILE_FN(FAM, u16, uint16_t, i, uint64_t, int64_t, 0, 0, NAN_I)             \
  TILE_FN(FAM, u32, uint32_t, i, uint64_t, int64_t, 0, 0, NAN_I)             \
  TILE_FN(FAM, u64, uint64_t, i, uint64_t, int64_t, 0, 0, NAN_I)             \
  TILE_FN(FAM, i8, int8_t, d, double, double, 0, 0, NAN_I)                   \
  TILE_FN(FAM, i16, int16_t, d, double, double, 0, 0, NAN_I)                 \
  TILE_FN(FAM, u8, uint8_t, d, double, double, 0, 0, NAN_I)                  \
  TILE_FN(FAM, u16, uint16_t, d, double, double, 0, 0, NAN_I)                \
  TILE_FN(FAM, u32, uint32_t, d, double, double, 0, 0, NAN_I)                \
  TILE_FN(FAM, u64, uint64_t, d, double, double, 0, 0, NAN_I)
/* min and max of floats in explicit vectors: a comparison selects the
 * better element, and a mask remembers NaN, since the compiler does not
 * vectorise the NaN-propagating select by itself. */
#define VRUN(FAM, tn, T, I, CMP, INIT)                                       \
  static T vrun_##FAM##_##tn(const T *X, const T *Y, int64_t lo,             \
                             int64_t hi) {                                   \
    typedef T V __attribute__((vector_size(16)));                            \
    typedef I M __attribute__((vector_size(16)));                            \
    enum { W = 16 / sizeof(T), K = 4 };                                      \
    (void)Y;                                                                 \
    V acc[K];                                                                \
    M bad[K];                                                                \
    for (int k = 0; k < K; k++)                                              \
      for (int j = 0; j < W; j++) {                                          \
        acc[k][j] = INIT;                                                    \
        bad[k][j] = 0;                                                       \
      }                                                                      \
    int64_t i = lo;                                                          \
    for (; i + K * W <= hi; i += K * W)                                      \
      for (int k = 0; k < K; k++) {                                          \
        V v;                                                                 \
        memcpy(&v, X + i + k * W, sizeof v);                                 \
        M take = v CMP acc[k];                                               \
        acc[k] = (V)(((M)v & take) | ((M)acc[k] & ~take));                   \
        bad[k] |= v != v;                                                    \
      }                                                                      \
    T r = INIT;                                                              \
    int nan = 0;                                                             \
    for (int k = 0; k < K; k++)                                              \
      for (int j = 0; j < W; j++) {                                          \
        r = acc[k][j] CMP r ? acc[k][j] : r;                                 \
        nan |= bad[k][j] != 0;                                               \
      }                                                                      \
    for (; i < hi; i++) {                                                    \
      r = X[i] CMP r ? X[i] : r;                                             \
      nan |= X[i] != X[i];                                                   \
    }                                                                        \
    return nan ? (T)NAN : r;                                                 \
  }
VRUN(MIN, f32, float, int32_t, <, INFINITY)
VRUN(MAX, f32, float, int32_t, >, -INFINITY)
VRUN(MIN, f64, double, int64_t, <, INFINITY)
VRUN(MAX, f64, double, int64_t, >, -INFINITY)

#define ORDER_FAMILY(FAM)                                                    \
  TILE_FN(FAM, b, uint8_t, t, uint8_t, uint8_t, 1, 0, NAN_I)                 \
  TILE_FN(FAM, i32, int32_t, t, int32_t, int32_t, INT32_MAX, INT32_MIN,      \
          NAN_I)                                                             \
  TILE_FN(FAM, i64, int64_t, t, int64_t, int64_t, INT64_MAX, INT64_MIN,      \
          NAN_I)                                                             \
  TILE_FN_RUN(FAM, f32, float, t, float, float, INFINITY, -INFINITY, NAN_F, \
              vrun_##FAM##_f32)                                              \
  TILE_FN_RUN(FAM, f64, double, t, double, double, INFINITY, -INFINITY,      \
              NAN_F, vrun_##FAM##_f64)                                       \
  TILE_FN(FAM, i8, int8_t, t, int8_t, int8_t, INT8_MAX, INT8_MIN, NAN_I)     \
  TILE_FN(FAM, i16, int16_t, t, int16_t, int16_t, INT16_MAX, INT16_MIN,      \
          NAN_I)                                                             \
  TILE_FN(FAM, u8, uint8_t, t, uint8_t, uint8_t, UINT8_MAX, 0, NAN_I)        \
  TILE_FN(FAM, u16, uint16_t, t, uint16_t, uint16_t, UINT16_MAX, 0, NAN_I)   \
  TILE_FN(FAM, u32, uint32_t, t, uint32_t, uint32_t, UINT32_MAX, 0, NAN_I)   \
  TILE_FN(FAM, u64, uint64_t, t, uint64_t, uint64_t, UINT64_MAX, 0, NAN_I)

SUM_FAMILY(ADD)
SUM_FAMILY(SQUARE)
SUM_FAMILY(DOT)
ORDER_FAMILY(MIN)
ORDER_FAMILY(MAX)

/* Writes the np partial buffers from buffers[0] on, one after the other,
 * into out: the result, when each partial is already its part of it
 * (each row, each column of each slab). */
static void concat_parts(void *buffers[], int np, size_t es, void *out) {
  char *o = out;
  for (int p = 0; p < np; p++) {
    size_t bytes = (size_t)STARPU_VECTOR_GET_NX(buffers[p]) * es;
    memcpy(o, (const void *)STARPU_VECTOR_GET_PTR(buffers[p]), bytes);
    o += bytes;
  }
}

/* Argmin and argmax keep pairs of a value and its index. Within a run
 * (indices rising) a pair is replaced by a strictly better value, or by
 * the first NaN; two runs' pairs merge the same way, the smaller index
 * winning ties. A chunk of no elements has index -1, which the combine
 * skips. Each accumulator starts with the run's first element. */
#define ARG_STEP(CMP, NANQ, a, ai, v, i)                                     \
  do {                                                                       \
    int take_ = (!NANQ(a)) & (((v)CMP(a)) | NANQ(v));                       \
    a = take_ ? (v) : (a);                                                   \
    ai = take_ ? (i) : (ai);                                                 \
  } while (0)
#define ARG_WINS(CMP, NANQ, a, ai, b, bi)                                    \
  ((bi) >= 0 &&                                                              \
   ((ai) < 0 ||                                                              \
    (NANQ(a) ? NANQ(b) && (bi) < (ai)                                        \
             : NANQ(b) || (b)CMP(a) || ((b) == (a) && (bi) < (ai)))))

/* arun_*: the best of X[lo, hi) into *val, and its index less base into
 * *idx; atile_*: a tile's partials, as t's mode says; acombine_*: the
 * indices of the result from the partials. */
#define ARG_FN(tn, T, NANQ, CMP, FAM)                                        \
  static void arun_##FAM##_##tn(const T *X, int64_t lo, int64_t hi,          \
                                int64_t base, T *val, int64_t *idx) {        \
    if (lo >= hi) {                                                          \
      *val = 0;                                                              \
      *idx = -1;                                                             \
      return;                                                                \
    }                                                                        \
    T a[LANES];                                                              \
    int64_t ai[LANES];                                                       \
    for (int k = 0; k < LANES; k++) {                                        \
      a[k] = X[lo];                                                          \
      ai[k] = lo;                                                            \
    }                                                                        \
    int64_t i = lo + 1;                                                      \
    for (; i + LANES <= hi; i += LANES)                                      \
      for (int k = 0; k < LANES; k++)                                        \
        ARG_STEP(CMP, NANQ, a[k], ai[k], X[i + k], i + k);                   \
    for (; i < hi; i++)                                                      \
      ARG_STEP(CMP, NANQ, a[0], ai[0], X[i], i);                             \
    for (int k = 1; k < LANES; k++)                                          \
      if (ARG_WINS(CMP, NANQ, a[0], ai[0], a[k], ai[k])) {                   \
        a[0] = a[k];                                                         \
        ai[0] = ai[k];                                                       \
      }                                                                      \
    *val = a[0];                                                             \
    *idx = ai[0] - base;                                                     \
  }                                                                          \
  static void atile_##FAM##_##tn(const cb__rtask *t, const void *x,          \
                                 int64_t n, void *vout, int64_t *iout) {     \
    const T *X = x;                                                          \
    T *v = vout;                                                             \
    int64_t cols = t->cols;                                                  \
    if (t->mode == CB__RM_ALL) {                                             \
      /* Indices in the array, whose first element is the tile's first. */  \
      for (int g = 0; g < CB__RCHUNKS; g++)                                  \
        arun_##FAM##_##tn(X, n * g / CB__RCHUNKS, n * (g + 1) / CB__RCHUNKS, \
                          -t->first, &v[g], &iout[g]);                       \
    } else if (t->mode == CB__RM_ROWS) {                                     \
      for (int64_t r = 0; r < n / cols; r++)                                 \
        arun_##FAM##_##tn(X, r * cols, (r + 1) * cols, r * cols, &v[r],      \
                          &iout[r]);                                         \
    } else {                                                                 \
      /* Down columns: of each slab (the index is the row in the slab),    \
       * or of the tile (the row in the array). */                          \
      int mid = t->mode == CB__RM_MID;                                       \
      int64_t rows = mid ? t->count : n / cols;                              \
      int64_t slabs = mid ? n / (rows * cols) : 1;                           \
      int64_t row0 = mid ? 0 : t->first / cols;                              \
      for (int64_t s = 0; s < slabs; s++) {                                  \
        T *a = v + s * cols;                                                 \
        int64_t *ai = iout + s * cols;                                       \
        const T *slab = X + s * rows * cols;                                 \
        for (int64_t c = 0; c < cols; c++) {                                 \
          a[c] = slab[c];                                                    \
          ai[c] = row0;                                                      \
        }                                                                    \
        for (int64_t r = 1; r < rows; r++)                                   \
          for (int64_t c = 0; c < cols; c++)                                 \
            ARG_STEP(CMP, NANQ, a[c], ai[c], slab[r * cols + c], row0 + r);  \
      }                                                                      \
    }                                                                        \
  }                                                                          \
  static void acombine_##FAM##_##tn(const cb__rtask *t, void *buffers[],     \
                                    int64_t *o, int64_t nout) {              \
    int np = t->nparts;                                                      \
    if (t->mode == CB__RM_ROWS || t->mode == CB__RM_MID) {                   \
      concat_parts(buffers + np, np, sizeof *o, o);                          \
      return;                                                                \
    }                                                                        \
    for (int64_t c = 0; c < nout; c++) {                                     \
      int64_t lo = t->mode == CB__RM_ALL ? 0 : c;                            \
      int64_t hi = t->mode == CB__RM_ALL ? CB__RCHUNKS : c + 1;              \
      T a = 0;                                                               \
      int64_t ai = -1;                                                       \
      for (int p = 0; p < np; p++) {                                         \
        const T *v = (const T *)STARPU_VECTOR_GET_PTR(buffers[p]);           \
        const int64_t *ix =                                                  \
            (const int64_t *)STARPU_VECTOR_GET_PTR(buffers[np + p]);         \
        for (int64_t j = lo; j < hi; j++)                                    \
          if (ARG_WINS(CMP, NANQ, a, ai, v[j], ix[j])) {                     \
            a = v[j];                                                        \
            ai = ix[j];                                                      \
          }                                                                  \
      }                                                                      \
      o[c] = ai;                                                             \
    }                                                                        \
  }

#define ARG_FAMILY(tn, T, NANQ)                                              \
  ARG_FN(tn, T, NANQ, <, ARGMIN)                                             \
  ARG_FN(tn, T, NANQ, >, ARGMAX)
ARG_FAMILY(b, uint8_t, NAN_I)
ARG_FAMILY(i32, int32_t, NAN_I)
ARG_FAMILY(i64, int64_t, NAN_I)
ARG_FAMILY(f32, float, NAN_F)
ARG_FAMILY(f64, double, NAN_F)
ARG_FAMILY(i8, int8_t, NAN_I)
ARG_FAMILY(i16, int16_t, NAN_I)
ARG_FAMILY(u8, uint8_t, NAN_I)
ARG_FAMILY(u16, uint16_t, NAN_I)
ARG_FAMILY(u32, uint32_t, NAN_I)
ARG_FAMILY(u64, uint64_t, NAN_I)

typedef void (*arg_tile_fn)(const cb__rtask *t, const void *x, int64_t n,
                            void *vout, int64_t *iout);
typedef void (*arg_combine_fn)(const cb__rtask *t, void *buffers[],
                               int64_t *o, int64_t nout);
#define ARG_ROW(what, FAM)                                                   \
  {what##_##FAM##_b,   what##_##FAM##_i32, what##_##FAM##_i64,               \
   what##_##FAM##_f32, what##_##FAM##_f64, what##_##FAM##_i8,                \
   what##_##FAM##_i16, what##_##FAM##_u8,  what##_##FAM##_u16,               \
   what##_##FAM##_u32, what##_##FAM##_u64}
static const arg_tile_fn arg_tiles[2][CB_NDTYPES] = {
    ARG_ROW(atile, ARGMIN), ARG_ROW(atile, ARGMAX)};
static const arg_combine_fn arg_combines[2][CB_NDTYPES] = {
    ARG_ROW(acombine, ARGMIN), ARG_ROW(acombine, ARGMAX)};

/* Whether partials are integers (int64 or uint64: the same bits). */
static int integral_part(const cb__rtask *t) {
  return t->part == CB_INT64 || t->part == CB_UINT64;
}

/* Storage of partials: 0 64-bit integer, 1 double, 2 float, 3 the input
 * dtype. */
static int part_kind(const cb__rtask *t) {
  if (t->family == CB__RF_MIN || t->family == CB__RF_MAX)
    return 3;
  return integral_part(t) ? 0 : t->part == CB_FLOAT64 ? 1 : 2;
}

#define SUM_ROW(FAM)                                                         \
  {{tile_##FAM##_b_i, tile_##FAM##_b_d, NULL, NULL},                         \
   {tile_##FAM##_i32_i, tile_##FAM##_i32_d, NULL, NULL},                     \
   {tile_##FAM##_i64_i, tile_##FAM##_i64_d, NULL, NULL},                     \
   {NULL, NULL, tile_##FAM##_f32_f, NULL},                                   \
   {NULL, tile_##FAM##_f64_d, NULL, NULL},                                   \
   {tile_##FAM##_i8_i, tile_##FAM##_i8_d, NULL, NULL},                       \
   {tile_##FAM##_i16_i, tile_##FAM##_i16_d, NULL, NULL},                     \
   {tile_##FAM##_u8_i, tile_##FAM##_u8_d, NULL, NULL},                       \
   {tile_##FAM##_u16_i, tile_##FAM##_u16_d, NULL, NULL},                     \
   {tile_##FAM##_u32_i, tile_##FAM##_u32_d, NULL, NULL},                     \
   {tile_##FAM##_u64_i, tile_##FAM##_u64_d, NULL, NULL}}
#define ORDER_ROW(FAM)                                                       \
  {{NULL, NULL, NULL, tile_##FAM##_b_t},                                     \
   {NULL, NULL, NULL, tile_##FAM##_i32_t},                                   \
   {NULL, NULL, NULL, tile_##FAM##_i64_t},                                   \
   {NULL, NULL, NULL, tile_##FAM##_f32_t},                                   \
   {NULL, NULL, NULL, tile_##FAM##_f64_t},                                   \
   {NULL, NULL, NULL, tile_##FAM##_i8_t},                                    \
   {NULL, NULL, NULL, tile_##FAM##_i16_t},                                   \
   {NULL, NULL, NULL, tile_##FAM##_u8_t},                                    \
   {NULL, NULL, NULL, tile_##FAM##_u16_t},                                   \
   {NULL, NULL, NULL, tile_##FAM##_u32_t},                                   \
   {NULL, NULL, NULL, tile_##FAM##_u64_t}}

static const tile_fn tiles[CB__NRF][CB_NDTYPES][4] = {
    [CB__RF_ADD] = SUM_ROW(ADD),      [CB__RF_SQUARE] = SUM_ROW(SQUARE),
    [CB__RF_DOT] = SUM_ROW(DOT),      [CB__RF_MIN] = ORDER_ROW(MIN),
    [CB__RF_MAX] = ORDER_ROW(MAX)};

int cb__reduce_refused(cb__rtask *t) {
  if (t->in != CB_COMPLEX64 && t->in != CB_COMPLEX128 &&
      t->in != CB_FLOAT16)
    return 0;
  cb__ctx_fail(&t->ctx, CB_ETYPE, 0, "%s: no loop for %s", t->ctx.name,
               cb_dtype_name(t->in));
  return 1;
}

void cb__reduce_tile_cpu(void *buffers[], void *cl_arg) {
  cb__rtask *t = cl_arg;
  if (cb__ctx_skip(&t->ctx) || cb__reduce_refused(t))
    return;
  int nin = t->family == CB__RF_DOT ? 2 : 1;
  const void *x = (const void *)STARPU_VECTOR_GET_PTR(buffers[0]);
  const void *y =
      nin == 2 ? (const void *)STARPU_VECTOR_GET_PTR(buffers[1]) : NULL;
  int64_t n = STARPU_VECTOR_GET_NX(buffers[0]);
  void *part = (void *)STARPU_VECTOR_GET_PTR(buffers[nin]);
  if (CB__RF_IS_ARG(t->family)) {
    arg_tiles[t->family == CB__RF_ARGMAX][t->in](
        t, x, n, part, (int64_t *)STARPU_VECTOR_GET_PTR(buffers[nin + 1]));
    return;
  }
  tile_fn fn = tiles[t->family][t->in][part_kind(t)];
  if (!fn) {
    cb__ctx_fail(&t->ctx, CB_ETYPE, 0, "%s: no loop for %s", t->ctx.name,
                 cb_dtype_name(t->in));
    return;
  }
  if (fn(t, x, y, n, part))
    cb__ctx_fail(&t->ctx, CB_ENOMEM, 0, "%s: out of host memory",
                 t->ctx.name);
}

/* ---- combine ------------------------------------------------------------ */

/* Writes a finished value into the result at i. */
static void store(const cb__rtask *t, void *out, int64_t i, double d,
                  uint64_t u, int integral) {
  switch (t->res) {
  case CB_BOOL:
    ((uint8_t *)out)[i] = integral ? u != 0 : d != 0;
    break;
  case CB_INT8:
    ((int8_t *)out)[i] = (int8_t)(uint8_t)u;
    break;
  case CB_INT16:
    ((int16_t *)out)[i] = (int16_t)(uint16_t)u;
    break;
  case CB_INT32:
    ((int32_t *)out)[i] = (int32_t)(uint32_t)u;
    break;
  case CB_INT64:
    ((int64_t *)out)[i] = (int64_t)u;
    break;
  case CB_UINT8:
    ((uint8_t *)out)[i] = (uint8_t)u;
    break;
  case CB_UINT16:
    ((uint16_t *)out)[i] = (uint16_t)u;
    break;
  case CB_UINT32:
    ((uint32_t *)out)[i] = (uint32_t)u;
    break;
  case CB_UINT64:
    ((uint64_t *)out)[i] = u;
    break;
  case CB_FLOAT32:
    ((float *)out)[i] = (float)d;
    break;
  default:
    ((double *)out)[i] = d;
  }
}

/* Sums of partials: the finish of mean, norm, dot or sum. */
static void finish_sum(const cb__rtask *t, void *out, int64_t i, double d,
                       uint64_t u) {
  if (t->finish == CB_REDUCE_mean)
    d = d / (double)t->count;
  else if (t->finish == CB_REDUCE_norm)
    d = sqrt(d);
  store(t, out, i, d, u, integral_part(t));
}

static void combine_sum(const cb__rtask *t, void *buffers[], void *out,
                        int64_t nout) {
  int integral = integral_part(t);
  int np = t->nparts;
  /* Value j of partial buffer p, as double and as uint64_t. */
#define PART_D(p, j)                                                         \
  (t->part == CB_FLOAT32                                                     \
       ? (double)((const float *)STARPU_VECTOR_GET_PTR(buffers[p]))[j]       \
       : ((const double *)STARPU_VECTOR_GET_PTR(buffers[p]))[j])
#define PART_U(p, j)                                                         \
  ((uint64_t)((const int64_t *)STARPU_VECTOR_GET_PTR(buffers[p]))[j])
  /* Rows of no elements (no partials) fall to the loop below, which
   * writes what reducing nothing gives. */
  if ((t->mode == CB__RM_ROWS || t->mode == CB__RM_MID) && np > 0) {
    int64_t at = 0;
    for (int p = 0; p < np; p++) {
      int64_t m = STARPU_VECTOR_GET_NX(buffers[p]);
      for (int64_t j = 0; j < m; j++, at++)
        finish_sum(t, out, at, integral ? 0 : PART_D(p, j),
                   integral ? PART_U(p, j) : 0);
    }
    return;
  }
  int64_t m = t->mode == CB__RM_ALL ? CB__RCHUNKS : nout;
  for (int64_t c = 0; c < nout; c++) {
    double d = 0;
    uint64_t u = 0;
    for (int p = 0; p < np; p++) {
      int64_t lo = t->mode == CB__RM_ALL ? 0 : c;
      int64_t hi = t->mode == CB__RM_ALL ? m : c + 1;
      for (int64_t j = lo; j < hi; j++) {
        if (integral)
          u += PART_U(p, j);
        else
          d += PART_D(p, j);
      }
    }
    finish_sum(t, out, c, d, u);
  }
#undef PART_D
#undef PART_U
}

#define COMBINE_ORDER(tn, T, NANQ)                                           \
  static void combine_order_##tn(const cb__rtask *t, void *buffers[],        \
                                 void *out, int64_t nout) {                  \
    T *o = out;                                                              \
    int np = t->nparts, min = t->family == CB__RF_MIN;                       \
    if (t->mode == CB__RM_ROWS || t->mode == CB__RM_MID) {                   \
      concat_parts(buffers, np, sizeof *o, o);                               \
      return;                                                                \
    }                                                                        \
    for (int64_t c = 0; c < nout; c++) {                                     \
      int64_t lo = t->mode == CB__RM_ALL ? 0 : c;                            \
      int64_t hi = t->mode == CB__RM_ALL ? CB__RCHUNKS : c + 1;              \
      T acc = ((const T *)STARPU_VECTOR_GET_PTR(buffers[0]))[lo];            \
      for (int p = 0; p < np; p++) {                                         \
        const T *v = (const T *)STARPU_VECTOR_GET_PTR(buffers[p]);           \
        for (int64_t j = lo; j < hi; j++)                                    \
          acc = min ? MERGE_MIN(acc, v[j], NANQ)                             \
                    : MERGE_MAX(acc, v[j], NANQ);                            \
      }                                                                      \
      o[c] = acc;                                                            \
    }                                                                        \
  }
COMBINE_ORDER(b, uint8_t, NAN_I)
COMBINE_ORDER(i32, int32_t, NAN_I)
COMBINE_ORDER(i64, int64_t, NAN_I)
COMBINE_ORDER(f32, float, NAN_F)
COMBINE_ORDER(f64, double, NAN_F)
COMBINE_ORDER(i8, int8_t, NAN_I)
COMBINE_ORDER(i16, int16_t, NAN_I)
COMBINE_ORDER(u8, uint8_t, NAN_I)
COMBINE_ORDER(u16, uint16_t, NAN_I)
COMBINE_ORDER(u32, uint32_t, NAN_I)
COMBINE_ORDER(u64, uint64_t, NAN_I)

typedef void (*combine_fn)(const cb__rtask *t, void *buffers[], void *out,
                           int64_t nout);
static const combine_fn order_combines[CB_NDTYPES] = {
    combine_order_b,   combine_order_i32, combine_order_i64,
    combine_order_f32, combine_order_f64, combine_order_i8,
    combine_order_i16, combine_order_u8,  combine_order_u16,
    combine_order_u32, combine_order_u64};

void cb__reduce_combine_cpu(void *buffers[], void *cl_arg) {
  cb__rtask *t = cl_arg;
  if (cb__ctx_skip(&t->ctx) || cb__reduce_refused(t))
    return;
  cb_array *out = t->arrays[t->narrays - 1];
  /* A tile task of this reduction failed: the result carries it. */
  if (cb__mark_get(out))
    return;
  if (CB__RF_IS_ARG(t->family)) {
    int64_t *o = (int64_t *)STARPU_VECTOR_GET_PTR(buffers[2 * t->nparts]);
    arg_combines[t->family == CB__RF_ARGMAX][t->in](t, buffers, o, t->size);
    return;
  }
  void *o = (void *)STARPU_VECTOR_GET_PTR(buffers[t->nparts]);
  if (t->family == CB__RF_MIN || t->family == CB__RF_MAX)
    order_combines[t->in](t, buffers, o, t->size);
  else
    combine_sum(t, buffers, o, t->size);
}
