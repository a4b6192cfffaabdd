/* Building OpenCL source text for generated kernels. */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

void cb__put(char *buf, size_t cap, size_t *len, const char *fmt, ...) {
  if (*len >= cap)
    return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
  va_end(ap);
  if (n > 0)
    *len += (size_t)n;
}
