/*
 * Helpers of the element-wise expressions, written once in the common
 * subset of C11 and OpenCL C: the C loops expand these macros, the OpenCL
 * generator stringifies them into kernel sources.
 */
#ifndef CAMBRIAN_EW_HELPERS_H
#define CAMBRIAN_EW_HELPERS_H

/* Integer power with wrap-around, as NumPy computes it. A negative
 * exponent, which NumPy refuses, gives the integer part of 1 / a**-b. */
#define CB__IPOW_DEF(T, U, NAME)                                             \
  static inline T NAME(T a, T b) {                                           \
    if (b < 0)                                                               \
      return a == 1 ? (T)1 : a == -1 ? ((b & 1) ? (T)-1 : (T)1) : (T)0;      \
    U r = 1, x = (U)a, e = (U)b;                                             \
    while (e) {                                                              \
      if (e & 1)                                                             \
        r *= x;                                                              \
      x *= x;                                                                \
      e >>= 1;                                                               \
    }                                                                        \
    return (T)r;                                                             \
  }

/* Floor division and remainder of floats as NumPy computes them (the
 * remainder takes the divisor's sign; the quotient is rounded so that
 * q * b + r == a holds as closely as it can). */
#define CB__FDIV_DEF(T, NAME)                                                \
  static inline T NAME(T a, T b) {                                           \
    if (b == 0)                                                              \
      return a / b;                                                          \
    T m = fmod(a, b);                                                        \
    T d = (a - m) / b;                                                       \
    if (m != 0 && ((b < 0) != (m < 0)))                                      \
      d -= 1;                                                                \
    if (d == 0)                                                              \
      return copysign((T)0, a / b);                                          \
    T f = floor(d);                                                          \
    if (d - f > (T)0.5)                                                      \
      f += 1;                                                                \
    return f;                                                                \
  }
#define CB__FMOD_DEF(T, NAME)                                                \
  static inline T NAME(T a, T b) {                                           \
    T m = fmod(a, b);                                                        \
    if (b == 0)                                                              \
      return m;                                                              \
    if (m == 0)                                                              \
      return copysign((T)0, b);                                              \
    return ((b < 0) != (m < 0)) ? m + b : m;                                 \
  }

/* Unsigned integer power with wrap-around. */
#define CB__UPOW_DEF(U, NAME)                                                \
  static inline U NAME(U a, U b) {                                           \
    U r = 1;                                                                 \
    while (b) {                                                              \
      if (b & 1)                                                             \
        r *= a;                                                              \
      a *= a;                                                                \
      b >>= 1;                                                               \
    }                                                                        \
    return r;                                                                \
  }

#define CB__STR(...) #__VA_ARGS__
#define CB__XSTR(...) CB__STR(__VA_ARGS__)

#endif
