/* Division by invariant integers (see udiv.h). With l = ceil(log2 d),
 * m = floor(2^32 (2^l - d) / d) + 1 fits 32 bits, and for t the high
 * half of m x, x / d = (t + ((x - t) >> s1)) >> s2 with s1 = min(l, 1)
 * and s2 = max(l - 1, 0). */
#include "udiv.h"

const char cb__udiv_cl_source[] =
    "uint cb_udiv(const uint x, const uint m, const uint s) {\n"
    "  const uint t = mul_hi(m, x);\n"
    "  return (t + ((x - t) >> (s & 0xff))) >> (s >> 8);\n"
    "}\n";

int cb__udiv_magic(int64_t divisor, cl_uint *m, cl_uint *s) {
  int fits = divisor <= (int64_t)UINT32_MAX;
  uint64_t d = divisor > 0 && fits ? (uint64_t)divisor : 1;
  int l = 0;
  while (((uint64_t)1 << l) < d)
    l++;
  *m = (cl_uint)(((((uint64_t)1 << l) - d) << 32) / d + 1);
  *s = (cl_uint)(l < 1 ? l : 1) | (cl_uint)(l > 1 ? l - 1 : 0) << 8;
  return fits;
}
