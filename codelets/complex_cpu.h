/*
 * The complex helpers of the operation table's complex expressions on
 * CPUs (CB_CMUL, CB_CSQRT, ...), over C's float _Complex and double
 * _Complex: <complex.h> where it has the function, small functions of
 * our own where it has not (expm1, log1p, log2, log10, sign, and the
 * powers NumPy computes by repeated multiplication). OpenCL devices get
 * the same names from complex_cl.c. Products and quotients are NumPy's
 * (the textbook product, Smith's quotient), not C's, whose infinities
 * follow Annex G and whose calls keep loops from being vectorised.
 */
#ifndef CAMBRIAN_COMPLEX_CPU_H
#define CAMBRIAN_COMPLEX_CPU_H

#include <complex.h>
#include <math.h>

/* The function of <complex.h> or of this file for z's precision: name
 * with an "f" for float _Complex. */
#define CB__CF(name, z) _Generic((z), float _Complex: name##f, default: name)

/* One set of helpers per precision: CT the complex type, RT its parts'
 * type, S the suffix of the functions of that precision. */
#define CB__COMPLEX_DEF(CT, RT, S)                                           \
  static inline CT cb__cmake##S(RT re, RT im) {                              \
    CT z;                                                                    \
    ((RT *)&z)[0] = re;                                                      \
    ((RT *)&z)[1] = im;                                                      \
    return z;                                                                \
  }                                                                          \
  static inline CT cb__cmul##S(CT a, CT b) {                                 \
    RT ar = creal##S(a), ai = cimag##S(a), br = creal##S(b),                 \
       bi = cimag##S(b);                                                     \
    return cb__cmake##S(ar * br - ai * bi, ar * bi + ai * br);               \
  }                                                                          \
  static inline CT cb__cdiv##S(CT a, CT b) {                                 \
    RT ar = creal##S(a), ai = cimag##S(a), br = creal##S(b),                 \
       bi = cimag##S(b), abr = fabs##S(br), abi = fabs##S(bi);               \
    if (abr == 0 && abi == 0)                                                \
      return cb__cmake##S(ar / abr, ai / abi);                               \
    if (abr >= abi) {                                                        \
      RT r = bi / br, d = br + bi * r;                                       \
      return cb__cmake##S((ar + ai * r) / d, (ai - ar * r) / d);             \
    }                                                                        \
    RT r = br / bi, d = bi + br * r;                                         \
    return cb__cmake##S((ar * r + ai) / d, (ai * r - ar) / d);               \
  }                                                                          \
  /* z / |z|, 0 for 0 (NumPy 2's sign): a unit along an infinite part     \
   * when the other is not, NaN when both are infinite or a part is NaN    \
   * and none infinite. */                                                   \
  static inline CT cb__csign##S(CT z) {                                      \
    RT x = creal##S(z), y = cimag##S(z);                                     \
    if (!isinf(x) != !isinf(y))                                              \
      return cb__cmake##S(isinf(x) ? copysign##S(1, x) : 0,                  \
                          isinf(y) ? copysign##S(1, y) : 0);                 \
    if (isnan(x) || isnan(y) || isinf(x))                                    \
      return cb__cmake##S(NAN, NAN);                                         \
    RT r = cabs##S(z);                                                       \
    return r == 0 ? (CT)0 : cb__cmake##S(x / r, y / r);                      \
  }                                                                          \
  /* exp(z) - 1; an infinite real part gives exp(z)'s infinities, or -1  \
   * (from -inf), whatever the imaginary part. */                           \
  static inline CT cb__cexpm1##S(CT z) {                                     \
    RT x = creal##S(z), y = cimag##S(z), h = sin##S(y / 2);                  \
    if (isinf(x) && x < 0)                                                   \
      return cb__cmake##S(-1, isfinite(y) ? copysign##S(0, y) : 0);          \
    if (isinf(x) && !isfinite(y))                                            \
      return cb__cmake##S(x, y - y);                                         \
    /* A zero real part is +0, from -0 too, as the Array API says. */     \
    RT re = expm1##S(x) * cos##S(y) - 2 * h * h;                             \
    return cb__cmake##S(re == 0 ? 0 : re,                                    \
                        y == 0 ? y : exp##S(x) * sin##S(y));                 \
  }                                                                          \
  /* Both parts rounded to the nearest integer, halves to even. */           \
  static inline CT cb__cround##S(CT z) {                                     \
    return cb__cmake##S(rint##S(creal##S(z)), rint##S(cimag##S(z)));         \
  }                                                                          \
  static inline CT cb__clog1p##S(CT z) {                                     \
    RT x = creal##S(z) + 1, y = cimag##S(z);                                 \
    return cb__cmake##S(log##S(hypot##S(x, y)), atan2##S(y, x));             \
  }                                                                          \
  static inline CT cb__cscale##S(CT z, RT k) {                               \
    return cb__cmake##S(creal##S(z) * k, cimag##S(z) * k);                   \
  }                                                                          \
  /* a ** b: 1 for b == 0; for a == 0, 0 when b is real and positive, else \
   * NaN; a whole real b below 100 in magnitude by repeated squaring, as    \
   * NumPy computes it; otherwise exp(b log a). */                           \
  static inline CT cb__cpow##S(CT a, CT b) {                                 \
    RT br = creal##S(b), bi = cimag##S(b);                                   \
    if (br == 0 && bi == 0)                                                  \
      return (CT)1;                                                          \
    if (creal##S(a) == 0 && cimag##S(a) == 0)                                \
      return br > 0 && bi == 0 ? (CT)0 : cb__cmake##S(NAN, NAN);             \
    if (bi == 0 && br == trunc##S(br) && fabs##S(br) < 100) {                \
      long n = (long)fabs##S(br);                                            \
      CT r = 1, x = a;                                                       \
      while (n) {                                                            \
        if (n & 1)                                                           \
          r = cb__cmul##S(r, x);                                             \
        x = cb__cmul##S(x, x);                                               \
        n >>= 1;                                                             \
      }                                                                      \
      return br < 0 ? cb__cdiv##S(1, r) : r;                                 \
    }                                                                        \
    return cpow##S(a, b);                                                    \
  }

CB__COMPLEX_DEF(float _Complex, float, f)
CB__COMPLEX_DEF(double _Complex, double, )

#define CB_CMAKE(re, im) CB__CF(cb__cmake, (re) + 0 * I)(re, im)
#define CB_CMUL(a, b) CB__CF(cb__cmul, a)(a, b)
#define CB_CDIV(a, b) CB__CF(cb__cdiv, a)(a, b)
#define CB_CPOW(a, b) CB__CF(cb__cpow, a)(a, b)
#define CB_CABS(a) CB__CF(cabs, a)(a)
#define CB_CREAL(a) CB__CF(creal, a)(a)
#define CB_CIMAG(a) CB__CF(cimag, a)(a)
#define CB_CCONJ(a) CB__CF(conj, a)(a)
#define CB_CSQRT(a) CB__CF(csqrt, a)(a)
#define CB_CEXP(a) CB__CF(cexp, a)(a)
#define CB_CLOG(a) CB__CF(clog, a)(a)
#define CB_CSIN(a) CB__CF(csin, a)(a)
#define CB_CCOS(a) CB__CF(ccos, a)(a)
#define CB_CTAN(a) CB__CF(ctan, a)(a)
#define CB_CSINH(a) CB__CF(csinh, a)(a)
#define CB_CCOSH(a) CB__CF(ccosh, a)(a)
#define CB_CTANH(a) CB__CF(ctanh, a)(a)
#define CB_CASIN(a) CB__CF(casin, a)(a)
#define CB_CACOS(a) CB__CF(cacos, a)(a)
#define CB_CATAN(a) CB__CF(catan, a)(a)
#define CB_CASINH(a) CB__CF(casinh, a)(a)
#define CB_CACOSH(a) CB__CF(cacosh, a)(a)
#define CB_CATANH(a) CB__CF(catanh, a)(a)
#define CB_CEXPM1(a) CB__CF(cb__cexpm1, a)(a)
#define CB_CLOG1P(a) CB__CF(cb__clog1p, a)(a)
#define CB_CLOG2(a) CB__CF(cb__cscale, a)(CB_CLOG(a), 1.4426950408889634)
#define CB_CLOG10(a) CB__CF(cb__cscale, a)(CB_CLOG(a), 0.4342944819032518)
#define CB_CSIGN(a) CB__CF(cb__csign, a)(a)
#define CB_CROUND(a) CB__CF(cb__cround, a)(a)
#define CB_CISNAN(a) (isnan(CB_CREAL(a)) || isnan(CB_CIMAG(a)))
#define CB_CISINF(a) (isinf(CB_CREAL(a)) || isinf(CB_CIMAG(a)))
#define CB_CISFINITE(a) (isfinite(CB_CREAL(a)) && isfinite(CB_CIMAG(a)))
#define CB_CEQ(a, b) ((a) == (b))
#define CB_CNONZERO(a) ((a) != 0)

#endif
