/*
 * The complex helpers of the operation table's complex expressions in
 * OpenCL C, which has no complex type: a complex value is a float2 or a
 * double2 (x the real part, y the imaginary), CT its type and RT the
 * type of its parts, both defined before this source. The formulas are
 * the textbook ones, computed so as to avoid the worst cancellations
 * and overflows (Smith's division, Kahan's tanh, sqrt from half sums);
 * values with infinite or NaN parts follow from them and need not be
 * those of C99's Annex G.
 */
#include "ewise_codelets.h"

static const char source[] =
    "static inline CT cb_cmul(CT a, CT b) {\n"
    "  return (CT)(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);\n"
    "}\n"
    "static inline CT cb_cdiv(CT a, CT b) {\n"
    "  RT br = fabs(b.x), bi = fabs(b.y);\n"
    "  if (br == 0 && bi == 0)\n"
    "    return (CT)(a.x / br, a.y / bi);\n"
    "  if (br >= bi) {\n"
    "    RT r = b.y / b.x, d = b.x + b.y * r;\n"
    "    return (CT)((a.x + a.y * r) / d, (a.y - a.x * r) / d);\n"
    "  }\n"
    "  RT r = b.x / b.y, d = b.y + b.x * r;\n"
    "  return (CT)((a.x * r + a.y) / d, (a.y * r - a.x) / d);\n"
    "}\n"
    "static inline RT cb_cabs(CT a) { return hypot(a.x, a.y); }\n"
    /* r + a and r - a for a real r: the imaginary part as it is (a zero
     * keeps its sign, which picks the side of a branch cut), where
     * adding (r, +0) would make -0 + 0 = +0. */
    "static inline CT cb_cradd(RT r, CT a) { return (CT)(r + a.x, a.y); }\n"
    "static inline CT cb_crsub(RT r, CT a) { return (CT)(r - a.x, -a.y); }\n"
    "static inline CT cb_cscale(CT a, RT k) {\n"
    "  return (CT)(a.x * k, a.y * k);\n"
    "}\n"
    "static inline CT cb_csqrt(CT a) {\n"
    "  if (a.x == 0 && a.y == 0)\n"
    "    return (CT)((RT)0, a.y);\n"
    "  if (isinf(a.y))\n"
    "    return (CT)(fabs(a.y), a.y);\n"
    "  RT t = sqrt((RT)0.5 * fabs(a.x) + (RT)0.5 * hypot(a.x, a.y));\n"
    "  if (a.x >= 0)\n"
    "    return (CT)(t, a.y / (2 * t));\n"
    "  return (CT)(fabs(a.y) / (2 * t), copysign(t, a.y));\n"
    "}\n"
    /* An infinite real part with an imaginary one that is not finite
     * gives (inf, NaN) from +inf and 0 from -inf, as C99 says. */
    "static inline CT cb_cexp(CT a) {\n"
    "  RT e = exp(a.x);\n"
    "  if (a.y == 0)\n"
    "    return (CT)(e, a.y);\n"
    "  if (isinf(a.x) && !isfinite(a.y))\n"
    "    return a.x > 0 ? (CT)(a.x, a.y - a.y) : (CT)((RT)0, (RT)0);\n"
    "  return (CT)(e * cos(a.y), e * sin(a.y));\n"
    "}\n"
    /* Near the unit circle log|a| is taken as log1p(|a|^2 - 1) / 2, with
     * the larger part m giving (m - 1)(m + 1), exact, and the smaller n
     * adding n^2: log(hypot(...)) would lose the digits of a small
     * result. */
    "static inline CT cb_clog(CT a) {\n"
    "  RT r = hypot(a.x, a.y), re;\n"
    "  if (r > (RT)0.5 && r < 2) {\n"
    "    RT m = fmax(fabs(a.x), fabs(a.y)), n = fmin(fabs(a.x), fabs(a.y));\n"
    "    re = (RT)0.5 * log1p((m - 1) * (m + 1) + n * n);\n"
    "  } else {\n"
    "    re = log(r);\n"
    "  }\n"
    "  return (CT)(re, atan2(a.y, a.x));\n"
    "}\n"
    /* An infinite real part gives exp's infinities, or -1 (from -inf),
     * whatever the imaginary part. */
    "static inline CT cb_cexpm1(CT a) {\n"
    "  if (isinf(a.x) && a.x < 0)\n"
    "    return (CT)((RT)-1, isfinite(a.y) ? copysign((RT)0, a.y) : (RT)0);\n"
    "  if (isinf(a.x) && !isfinite(a.y))\n"
    "    return (CT)(a.x, a.y - a.y);\n"
    "  RT h = sin(a.y / 2), re = expm1(a.x) * cos(a.y) - 2 * h * h;\n"
    "  return (CT)(re == 0 ? (RT)0 : re,\n"
    "              a.y == 0 ? a.y : exp(a.x) * sin(a.y));\n"
    "}\n"
    "static inline CT cb_clog1p(CT a) {\n"
    "  RT x = a.x + 1;\n"
    "  return (CT)(log(hypot(x, a.y)), atan2(a.y, x));\n"
    "}\n"
    /* log(1 + a) without cancellation for small a, for the inverse
     * functions (the log1p operation keeps NumPy's formula above). */
    "static inline CT cb_clog1p_small(CT a) {\n"
    "  if (hypot(a.x, a.y) > (RT)0.5)\n"
    "    return cb_clog1p(a);\n"
    "  return (CT)((RT)0.5 * log1p(a.x * (2 + a.x) + a.y * a.y),\n"
    "              atan2(a.y, 1 + a.x));\n"
    "}\n"
    /* The hyperbolic functions; a zero part, or an infinite real part
     * with an imaginary one that is not finite, gives what C99 says
     * (where the products below would make 0 * inf a NaN): a zero part
     * keeps the sign of its product, sinh(+-0) cos(y), say, and is 0
     * where the other factor overflows. */
    "static inline CT cb_csinh(CT a) {\n"
    "  if (a.y == 0)\n"
    "    return (CT)(sinh(a.x), a.y);\n"
    "  if (a.x == 0)\n"
    "    return (CT)(isfinite(a.y) ? a.x * cos(a.y) : a.x, sin(a.y));\n"
    "  if (isinf(a.x) && !isfinite(a.y))\n"
    "    return (CT)(a.x, a.y - a.y);\n"
    "  return (CT)(sinh(a.x) * cos(a.y), cosh(a.x) * sin(a.y));\n"
    "}\n"
    "static inline CT cb_ccosh(CT a) {\n"
    "  if (a.y == 0)\n"
    "    return (CT)(cosh(a.x), copysign((RT)0, a.x) * a.y);\n"
    "  if (a.x == 0)\n"
    "    return (CT)(cos(a.y), isfinite(a.y) ? a.x * sin(a.y) : a.x);\n"
    "  if (isinf(a.x) && !isfinite(a.y))\n"
    "    return (CT)(fabs(a.x), a.y - a.y);\n"
    "  return (CT)(cosh(a.x) * cos(a.y), sinh(a.x) * sin(a.y));\n"
    "}\n"
    /* sin(z) = -i sinh(iz), cos(z) = cosh(iz). */
    "static inline CT cb_csin(CT a) {\n"
    "  CT h = cb_csinh((CT)(-a.y, a.x));\n"
    "  return (CT)(h.y, -h.x);\n"
    "}\n"
    "static inline CT cb_ccos(CT a) {\n"
    "  return cb_ccosh((CT)(-a.y, a.x));\n"
    "}\n"
    /* Beyond |x| = 22, tanh(x) is 1 to double precision; tanh(iy) is
     * i tan(y) and tanh(x + 0i) tanh(x), NaN parts included; a finite x
     * with an infinite or NaN y gives NaN + NaN i (C99's values). */
    "static inline CT cb_ctanh(CT a) {\n"
    "  if (a.x == 0)\n"
    "    return (CT)(a.x, tan(a.y));\n"
    "  if (a.y == 0)\n"
    "    return (CT)(tanh(a.x), a.y);\n"
    "  if (isfinite(a.x) && !isfinite(a.y))\n"
    "    return (CT)((RT)NAN, (RT)NAN);\n"
    "  if (fabs(a.x) > 22) {\n"
    "    RT e = exp(-2 * fabs(a.x));\n"
    "    return (CT)(copysign((RT)1, a.x),\n"
    "                isfinite(a.y) ? 4 * sin(a.y) * cos(a.y) * e\n"
    "                              : copysign((RT)0, a.y));\n"
    "  }\n"
    "  RT t = tan(a.y), b = 1 + t * t, s = sinh(a.x), r = sqrt(1 + s * s);\n"
    "  RT d = 1 + b * s * s;\n"
    "  return (CT)(b * r * s / d, t / d);\n"
    "}\n"
    /* tan(z) = -i tanh(iz), and so on for the inverse functions. */
    "static inline CT cb_ctan(CT a) {\n"
    "  CT h = cb_ctanh((CT)(-a.y, a.x));\n"
    "  return (CT)(h.y, -h.x);\n"
    "}\n"
    /* asinh(z) = log(z + sqrt(z^2 + 1)), odd: computed where Re z >= 0,
     * away from the cancellation of z + sqrt(...), as log1p(z + z^2 /
     * (1 + sqrt(1 + z^2))), exact for small z too; beyond |z| = 2^12
     * (float) or 2^27 (double), where z^2 could overflow, log(2z), whose
     * error 1/(4 z^2) is below the precision there. */
    "static inline CT cb_casinh(CT a) {\n"
    "  int neg = signbit(a.x);\n"
    "  CT z = neg ? -a : a;\n"
    "  RT big = sizeof(RT) == 4 ? (RT)4096 : (RT)134217728;\n"
    "  CT w;\n"
    "  if (z.y == 0) {\n"
    "    w = (CT)(asinh(z.x), z.y);\n"
    "  } else if (isinf(z.x) || isinf(z.y)) {\n"
    "    w = (CT)((RT)INFINITY, isnan(z.x) || isnan(z.y) ? (RT)NAN\n"
    "                                                   : atan2(z.y, z.x));\n"
    "  } else if (hypot(z.x, z.y) > big) {\n"
    "    w = cb_clog(z) + (CT)((RT)0.6931471805599453, (RT)0);\n"
    "  } else {\n"
    "    CT z2 = cb_cmul(z, z);\n"
    "    CT s = cb_csqrt(cb_cradd((RT)1, z2));\n"
    "    w = cb_clog1p_small(z + cb_cdiv(z2, cb_cradd((RT)1, s)));\n"
    "  }\n"
    "  return neg ? -w : w;\n"
    "}\n"
    "static inline CT cb_casin(CT a) {\n"
    "  CT h = cb_casinh((CT)(-a.y, a.x));\n"
    "  return (CT)(h.y, -h.x);\n"
    "}\n"
    /* pi/2 - asin(z) cancels where acos(z) is small (z near 1): from
     * the square roots of 1 - z and 1 + z instead, whose real parts give
     * the angle and whose cross product the imaginary part; far out or
     * infinite, where the products could overflow, pi/2 - asin(z). */
    "static inline CT cb_cacos(CT a) {\n"
    "  RT big = sizeof(RT) == 4 ? (RT)4096 : (RT)134217728;\n"
    "  if (!isfinite(a.x) || !isfinite(a.y) || hypot(a.x, a.y) > big) {\n"
    "    CT s = cb_casin(a);\n"
    "    return (CT)((RT)1.5707963267948966 - s.x, -s.y);\n"
    "  }\n"
    "  CT p = cb_csqrt(cb_crsub((RT)1, a)), q = cb_csqrt(cb_cradd((RT)1, a));\n"
    "  return (CT)(2 * atan2(p.x, q.x), asinh(q.x * p.y - q.y * p.x));\n"
    "}\n"
    /* An infinite part: +inf, at the angle of a; +-0 + NaN i: NaN +
     * pi/2 i (C99's values). */
    "static inline CT cb_cacosh(CT a) {\n"
    "  if (a.x == 0 && isnan(a.y))\n"
    "    return (CT)((RT)NAN, (RT)1.5707963267948966);\n"
    "  if (isinf(a.x) || isinf(a.y))\n"
    "    return (CT)((RT)INFINITY, isnan(a.x) || isnan(a.y)\n"
    "                                  ? (RT)NAN : atan2(a.y, a.x));\n"
    "  CT p = cb_csqrt(cb_cradd((RT)1, a));\n"
    "  CT m = cb_csqrt(cb_cradd((RT)-1, a));\n"
    "  return cb_clog(a + cb_cmul(p, m));\n"
    "}\n"
    /* An infinite part: a signed 0 and +-pi/2 (C99's values); atanh(iy)
     * is i atan(y). */
    "static inline CT cb_catanh(CT a) {\n"
    "  if (a.x == 0)\n"
    "    return (CT)(a.x, atan(a.y));\n"
    "  if (isinf(a.x) || isinf(a.y))\n"
    "    return (CT)(copysign((RT)0, a.x), isnan(a.y)\n"
    "        ? a.y : copysign((RT)1.5707963267948966, a.y));\n"
    "  return cb_cscale(cb_clog1p_small(a) - cb_clog1p_small(-a), (RT)0.5);\n"
    "}\n"
    "static inline CT cb_catan(CT a) {\n"
    "  CT h = cb_catanh((CT)(-a.y, a.x));\n"
    "  return (CT)(h.y, -h.x);\n"
    "}\n"
    /* As on CPUs: a unit along an infinite part when the other is not,
     * NaN when both are infinite or a part is NaN and none infinite. */
    "static inline CT cb_csign(CT a) {\n"
    "  if (!isinf(a.x) != !isinf(a.y))\n"
    "    return (CT)(isinf(a.x) ? copysign((RT)1, a.x) : (RT)0,\n"
    "                isinf(a.y) ? copysign((RT)1, a.y) : (RT)0);\n"
    "  if (isnan(a.x) || isnan(a.y) || isinf(a.x))\n"
    "    return (CT)((RT)NAN, (RT)NAN);\n"
    "  RT r = hypot(a.x, a.y);\n"
    "  return r == 0 ? (CT)((RT)0, (RT)0) : (CT)(a.x / r, a.y / r);\n"
    "}\n"
    /* As on CPUs (complex_cpu.h): 1 for b == 0; for a == 0, 0 when b is
     * real and positive, else NaN; whole real exponents below 100 by
     * repeated squaring; otherwise exp(b log a). */
    "static inline CT cb_cpow(CT a, CT b) {\n"
    "  if (b.x == 0 && b.y == 0)\n"
    "    return (CT)((RT)1, (RT)0);\n"
    "  if (a.x == 0 && a.y == 0)\n"
    "    return b.x > 0 && b.y == 0 ? (CT)((RT)0, (RT)0)\n"
    "                               : (CT)((RT)NAN, (RT)NAN);\n"
    "  if (b.y == 0 && b.x == trunc(b.x) && fabs(b.x) < 100) {\n"
    "    int n = (int)fabs(b.x);\n"
    "    CT r = (CT)((RT)1, (RT)0), x = a;\n"
    "    while (n) {\n"
    "      if (n & 1)\n"
    "        r = cb_cmul(r, x);\n"
    "      x = cb_cmul(x, x);\n"
    "      n >>= 1;\n"
    "    }\n"
    "    return b.x < 0 ? cb_cdiv((CT)((RT)1, (RT)0), r) : r;\n"
    "  }\n"
    "  return cb_cexp(cb_cmul(b, cb_clog(a)));\n"
    "}\n"
    "#define CB_CMUL cb_cmul\n#define CB_CDIV cb_cdiv\n"
    "#define CB_CPOW cb_cpow\n#define CB_CABS cb_cabs\n"
    "#define CB_CREAL(a) ((a).x)\n#define CB_CIMAG(a) ((a).y)\n"
    "#define CB_CCONJ(a) ((CT)((a).x, -(a).y))\n"
    "#define CB_CSQRT cb_csqrt\n#define CB_CEXP cb_cexp\n"
    "#define CB_CLOG cb_clog\n#define CB_CSIN cb_csin\n"
    "#define CB_CCOS cb_ccos\n#define CB_CTAN cb_ctan\n"
    "#define CB_CSINH cb_csinh\n#define CB_CCOSH cb_ccosh\n"
    "#define CB_CTANH cb_ctanh\n#define CB_CASIN cb_casin\n"
    "#define CB_CACOS cb_cacos\n#define CB_CATAN cb_catan\n"
    "#define CB_CASINH cb_casinh\n#define CB_CACOSH cb_cacosh\n"
    "#define CB_CATANH cb_catanh\n#define CB_CEXPM1 cb_cexpm1\n"
    "#define CB_CLOG1P cb_clog1p\n"
    "#define CB_CROUND(a) ((CT)(rint((a).x), rint((a).y)))\n"
    "#define CB_CLOG2(a) cb_cscale(cb_clog(a), (RT)1.4426950408889634)\n"
    "#define CB_CLOG10(a) cb_cscale(cb_clog(a), (RT)0.4342944819032518)\n"
    "#define CB_CSIGN cb_csign\n"
    "#define CB_CISNAN(a) (isnan((a).x) || isnan((a).y))\n"
    "#define CB_CISINF(a) (isinf((a).x) || isinf((a).y))\n"
    "#define CB_CISFINITE(a) (isfinite((a).x) && isfinite((a).y))\n"
    "#define CB_CEQ(a, b) ((a).x == (b).x && (a).y == (b).y)\n"
    "#define CB_CNONZERO(a) ((a).x != 0 || (a).y != 0)\n";

const char *cb__complex_cl_source(void) { return source; }
