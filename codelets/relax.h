/* What a spinning thread uses: a hint to the core that it is waiting,
 * and the time it has spun by. */
#ifndef CAMBRIAN_CODELETS_RELAX_H
#define CAMBRIAN_CODELETS_RELAX_H

#include <time.h>

static inline void cb__cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* Microseconds of the monotonic clock. */
static inline long cb__now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long)t.tv_sec * 1000000L + t.tv_nsec / 1000;
}

#endif
