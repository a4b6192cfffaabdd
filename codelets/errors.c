/* Error codes, per-thread error messages, dtype names and text building. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errors.h"

static _Thread_local char last_error[512];

const char *cb_strerror(int err) {
  switch (err) {
  case CB_OK:
    return "success";
#define CB__ERRNO_CASE(name, msg)                                             \
  case CB_##name:                                                             \
    return msg;
    CB_ERRNO_MAP(CB__ERRNO_CASE)
#undef CB__ERRNO_CASE
  default:
    return "unknown error";
  }
}

const char *cb_last_error(void) {
  return last_error[0] ? last_error : "no error";
}

int cb__fail(int err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return err;
}

static const struct {
  const char *name;
  size_t size;
} dtypes[CB_NDTYPES] = {
#define CB__DTYPE_ROW(up, low, ctype, fmt) {#low, sizeof(ctype)},
    CB_DTYPE_MAP(CB__DTYPE_ROW)
#undef CB__DTYPE_ROW
};

const char *cb_dtype_name(cb_dtype t) {
  return (unsigned)t < CB_NDTYPES ? dtypes[t].name : "invalid";
}

size_t cb_dtype_size(cb_dtype t) {
  return (unsigned)t < CB_NDTYPES ? dtypes[t].size : 0;
}

int cb_dtype_from_name(const char *name) {
  for (int t = 0; t < CB_NDTYPES; t++)
    if (strcmp(name, dtypes[t].name) == 0)
      return t;
  return -1;
}

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
