/* A spinning thread's hint to the core that it is waiting. */
#ifndef CAMBRIAN_CODELETS_RELAX_H
#define CAMBRIAN_CODELETS_RELAX_H

static inline void cb__cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

#endif
