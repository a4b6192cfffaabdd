/*
 * Fused element-wise programs: a chain of element-wise operations run as
 * one task per tile, its intermediates kept in registers (OpenCL) or in
 * blocks that stay in the core's cache (CPU workers), never in arrays.
 * A program reads up to CB__MAX_OPERANDS inputs, which are registers 0
 * to nin - 1; step s writes register nin + s, and the last step's
 * register is the result. Each step computes as the operation's own loop
 * and kernel would, so a fused chain gives the values the chain of tasks
 * gives.
 *
 * Programs are interned (fused.c): equal programs share one copy, which
 * tasks point to and which lives until the runtime releases its kernels
 * (the CB__HOOK_RELEASE hook). Programs that differ in their constants'
 * values alone share one kernel, which takes the constants as
 * arguments.
 *
 * Locking: the table of interned programs has its own lock; an interned
 * program is read-only.
 */
#ifndef CAMBRIAN_CODELETS_FUSED_H
#define CAMBRIAN_CODELETS_FUSED_H

#include <stddef.h>
#include <stdint.h>

#include <starpu.h>

#include "ewise_codelets.h"

/* The most steps of a program, and the elements a CPU task computes a
 * step over at a time (a block of each register: 32 steps of 8-byte
 * elements take 64 KiB of the worker's stack). */
#define CB__FUSE_MAX_STEPS 32
#define CB__FUSE_MAX_CONSTS 32
#define CB__FUSE_BLOCK 256

/* An operand of a step: a register (>= 0), or constant k (-1 - k). */
typedef struct cb__fstep {
  uint8_t op;                 /* a cb_op */
  uint8_t dtype;              /* what its loop computes in (a cast: the
                               * source) */
  uint8_t result;             /* its result's dtype */
  uint8_t n;                  /* operands */
  int16_t x[CB__MAX_OPERANDS];
} cb__fstep;

typedef struct cb__fprog {
  uint32_t id;                /* interned programs: their id, from 1 */
  uint32_t kernel;            /* interned programs: the id of the first
                               * one that differs from it in its constants'
                               * values alone, which keys their kernel */
  uint32_t hash;              /* interned programs: a hash of the rest */
  uint32_t shape;             /* interned programs: a hash of the rest
                               * but the constants' values */
  uint8_t nin, nsteps, nconst;
  uint8_t in_dtype[CB__MAX_OPERANDS];
  cb__fstep steps[CB__FUSE_MAX_STEPS];
  /* Each in the dtype its step reads it as. */
  cb__value consts[CB__FUSE_MAX_CONSTS];
} cb__fprog;

/* What programs are compared and hashed by: everything from nin on; and
 * what their kernels are (and shape hashes), everything from nin on but
 * the constants' values (kernels take them as arguments). */
#define CB__FPROG_BODY offsetof(cb__fprog, nin)
#define CB__FPROG_SHAPE offsetof(cb__fprog, consts)

/* The dtype constant k of p is read as. */
cb_dtype cb__fprog_const_dtype(const cb__fprog *p, int k);

/* The dtype of register r of p. */
static inline cb_dtype cb__fprog_reg_dtype(const cb__fprog *p, int r) {
  return (cb_dtype)(r < p->nin ? p->in_dtype[r]
                               : p->steps[r - p->nin].result);
}

/* The dtype of p's result. */
static inline cb_dtype cb__fprog_result(const cb__fprog *p) {
  return (cb_dtype)p->steps[p->nsteps - 1].result;
}

/* Whether p computes or stores anything in float64. */
int cb__fprog_uses_f64(const cb__fprog *p);

/* Whether a step of op over operands of dtype compute into result can be
 * fused: its OpenCL kernel is one expression of the table over operands
 * loaded as they are (halves as floats, each result rounded to a half as
 * its store would round it; not complex, no cast from a float to an
 * integer, which kernels write specially). */
int cb__fuse_accepts(cb_op op, cb_dtype compute, cb_dtype result);

/* The interned copy of p (p's unused steps and constants must be
 * zeroed, as they are compared; its id and hash are not read); NULL when
 * out of memory. */
const cb__fprog *cb__fprog_intern(const cb__fprog *p);

/* The codelet of fused tasks: the element-wise functions, which run
 * t->prog, and a history model that tells programs apart. */
extern struct starpu_codelet cb__fused_codelet;

/* Writes the OpenCL source of the fused task arg (a cb__task whose
 * inputs are tiles, broadcast elements or repeated rows) into buf;
 * returns its length, or 0 when it does not fit (a cb__clsource_fn). */
size_t cb__fused_source(const void *arg, char *buf, size_t cap);

#endif
