/*
 * Half-precision values (IEEE 754 binary16, the float16 dtype) as their
 * 16 bits: conversion to float, which is exact, and from double (so from
 * float too, which widens to double exactly), rounded to the nearest
 * half with ties to even. NaN stays NaN (its sign and the top bits of its
 * payload kept, never turning into an infinity), infinities stay
 * infinite, values beyond the largest half round to an infinity and
 * values below the smallest subnormal half to a signed zero.
 */
#ifndef CAMBRIAN_HALF_H
#define CAMBRIAN_HALF_H

#include <stdint.h>
#include <string.h>

static inline float cb__half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, bits;
  if (exp == 0x1f) { /* infinity or NaN */
    bits = sign | 0x7f800000u | man << 13;
  } else if (exp != 0) { /* normal: rebias the exponent from 15 to 127 */
    bits = sign | (exp + 112) << 23 | man << 13;
  } else if (man == 0) { /* signed zero */
    bits = sign;
  } else { /* subnormal: man * 2^-24, exactly a float */
    float f = (float)man * 0x1p-24f;
    memcpy(&bits, &f, sizeof bits);
    bits |= sign;
  }
  float out;
  memcpy(&out, &bits, sizeof out);
  return out;
}

static inline uint16_t cb__double_to_half(double d) {
  uint64_t bits;
  memcpy(&bits, &d, sizeof bits);
  uint16_t sign = (uint16_t)((bits >> 48) & 0x8000u);
  int exp = (int)((bits >> 52) & 0x7ff);
  uint64_t man = bits & 0xfffffffffffffull;
  if (exp == 0x7ff) { /* infinity, or NaN with a quiet bit set */
    if (man == 0)
      return sign | 0x7c00u;
    return sign | 0x7e00u | (uint16_t)(man >> 42);
  }
  /* The value is m * 2^(e - 52) with m holding its implicit bit. */
  int e = exp - 1023;
  if (e >= 16) /* 65536 and above: beyond even the rounding of 65504 */
    return sign | 0x7c00u;
  if (e < -26) /* below half the smallest subnormal, 2^-25 */
    return sign;
  uint64_t m = man | (uint64_t)1 << 52;
  /* The half keeps 11 significant bits when normal (e >= -14); fewer, as
   * a subnormal with step 2^-24, below. drop is how many low bits of m
   * go. */
  int drop = e >= -14 ? 42 : 42 + (-14 - e);
  uint64_t kept = m >> drop, rest = m & (((uint64_t)1 << drop) - 1);
  uint64_t half_way = (uint64_t)1 << (drop - 1);
  if (rest > half_way || (rest == half_way && (kept & 1)))
    kept++; /* may carry into the exponent, or up to infinity: right */
  if (e >= -14)
    /* kept is 1.xxx in 11 bits (or 2.0 after a carry); adding the
     * biased exponent over the implicit bit carries correctly. */
    return sign | (uint16_t)(((uint64_t)(e + 14) << 10) + kept);
  return sign | (uint16_t)kept; /* a subnormal, or the smallest normal */
}

static inline uint16_t cb__float_to_half(float f) {
  return cb__double_to_half((double)f);
}

#endif
