/*
 * Division of 32-bit unsigned numbers by a divisor known when a kernel
 * is launched, as a multiplication and shifts (Granlund and Montgomery's
 * division by invariant integers). OpenCL kernels that split a flat
 * index into an array's indexes divide once per dimension per element,
 * and OpenCL devices on the CPU (pocl) vectorise no division: a copy
 * through a view took tens of nanoseconds an element there.
 */
#ifndef CAMBRIAN_CODELETS_UDIV_H
#define CAMBRIAN_CODELETS_UDIV_H

#include <stdint.h>

#include <CL/cl.h>

/* OpenCL C of cb_udiv(x, m, s): x / d for every 32-bit unsigned x, given
 * what cb__udiv_magic made for d. */
extern const char cb__udiv_cl_source[];

/* The multiplier *m and the shifts *s (the first in the low byte, the
 * second in the next) that divide by d (a d below 1 counts as 1): 1 when
 * d fits (d <= UINT32_MAX); 0 when not, and then they divide by 1 and
 * the kernel must take its other path. */
int cb__udiv_magic(int64_t d, cl_uint *m, cl_uint *s);

#endif
