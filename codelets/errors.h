/*
 * The bottom of the C core: limits shared by every layer, the calling
 * thread's last error message, and text building for generated sources.
 */
#ifndef CAMBRIAN_CODELETS_ERRORS_H
#define CAMBRIAN_CODELETS_ERRORS_H

#include <stddef.h>

#include "cambrian.h"

#define CB__MAX_DEVICES CB_MAX_DEVICES
#define CB__MAX_OPERANDS 3

/* Records msg (printf format) as this thread's last error; returns err. */
int cb__fail(int err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends printf-style text to buf (cap bytes), tracking its length in
 * *len; text beyond cap is dropped (*len then reaches cap). */
void cb__put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
