/*
 * Fuzzes the rewriting of kernel sources that use CB_ASSERT
 * (cb__kernel_assert_source) with any bytes, taken as a C string as
 * cb_kernel_new() takes the source. Beyond the absence of crashes, it
 * checks that the result:
 *
 * - is the assertion prelude followed by the source, with the hidden
 *   parameter inserted right after an opening parenthesis (followed by
 *   ", " unless the parameters were empty or "(void)"), no more often
 *   than the source has the word "kernel"; taking those insertions out
 *   leaves the source itself when it has no "void", and else a
 *   subsequence of it;
 * - is no longer than the prelude, the source and an insertion per
 *   "kernel" together;
 * - has exactly one insertion per kernel definition, outside comments
 *   and string and character literals, when the source has no attribute
 *   (counted here over tokens: "kernel" or "__kernel", two or more
 *   identifiers, then "(").
 *
 * cb_kernel_new() takes the same source (no runtime is needed for that).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cambrian.h"
#include "jobs.h"

#define REQUIRE(cond)                                                        \
  do {                                                                       \
    if (!(cond)) {                                                           \
      fprintf(stderr, "%s:%d: %s does not hold\n", __FILE__, __LINE__,      \
              #cond);                                                        \
      abort();                                                               \
    }                                                                        \
  } while (0)

static const char hidden[] = "__global int *cb__assert";

/* Occurrences of word in s, overlapping ones included. */
static size_t count(const char *s, const char *word) {
  size_t n = 0;
  for (const char *p = s; (p = strstr(p, word)) != NULL; p++)
    n++;
  return n;
}

static int is_ident(char c) { return isalnum((unsigned char)c) || c == '_'; }

/* Skips white space and comments; an unterminated comment ends at the
 * end of the source. */
static const char *skip_blank(const char *p) {
  for (;;) {
    if (isspace((unsigned char)*p)) {
      p++;
    } else if (p[0] == '/' && p[1] == '/') {
      while (*p && *p != '\n')
        p++;
    } else if (p[0] == '/' && p[1] == '*') {
      const char *end = strstr(p + 2, "*/");
      p = end ? end + 2 : p + strlen(p);
    } else {
      return p;
    }
  }
}

/* Skips the string or character literal at p, as C reads it; an
 * unterminated one ends at the end of the source. */
static const char *skip_literal(const char *p) {
  char quote = *p++;
  for (; *p && *p != quote; p++)
    if (*p == '\\' && p[1])
      p++;
  return p + (*p == quote);
}

/* The kernel definitions of a source without attributes, counted over
 * its tokens outside comments and literals: a definition is "kernel" or
 * "__kernel", two or more identifiers, then "(". The scan goes on after
 * that "(". */
static size_t count_definitions(const char *s) {
  size_t n = 0;
  for (const char *p = s;;) {
    p = skip_blank(p);
    if (!*p)
      return n;
    if (*p == '"' || *p == '\'') {
      p = skip_literal(p);
      continue;
    }
    if (!is_ident(*p)) {
      p++;
      continue;
    }
    const char *end = p;
    while (is_ident(*end))
      end++;
    size_t len = (size_t)(end - p);
    int kernel = (len == 6 && strncmp(p, "kernel", 6) == 0) ||
                 (len == 8 && strncmp(p, "__kernel", 8) == 0);
    p = end;
    if (!kernel)
      continue;
    const char *q = p;
    int words = 0;
    for (;;) {
      q = skip_blank(q);
      if (!is_ident(*q))
        break;
      while (is_ident(*q))
        q++;
      words++;
    }
    if (*q == '(' && words >= 2) {
      n++;
      p = q + 1;
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *src = malloc(size + 1);
  if (!src)
    return 0;
  memcpy(src, data, size);
  src[size] = '\0';
  size_t len = strlen(src);

  char *out = cb__kernel_assert_source(src);
  REQUIRE(out != NULL);
  /* The prelude ends with the line directive. */
  const char *body = strstr(out, "#line 1\n");
  REQUIRE(body != NULL);
  body += strlen("#line 1\n");
  REQUIRE(strncmp(out, "#define CB_ASSERT(cond)", 23) == 0);
  size_t kernels = count(src, "kernel");
  size_t hlen = strlen(hidden);
  REQUIRE(strlen(body) <= len + kernels * (hlen + 2));

  if (!strstr(src, "cb__assert")) {
    /* The insertions, taken out. */
    char *rest = malloc(strlen(body) + 1);
    REQUIRE(rest != NULL);
    size_t n = 0, inserted = 0;
    for (const char *p = body; *p;) {
      if (strncmp(p, hidden, hlen) == 0) {
        REQUIRE(p > body && p[-1] == '(');
        p += hlen;
        if (strncmp(p, ", ", 2) == 0)
          p += 2;
        else
          REQUIRE(*skip_blank(p) == ')' || *skip_blank(p) == '\0');
        inserted++;
        continue;
      }
      rest[n++] = *p++;
    }
    rest[n] = '\0';
    REQUIRE(inserted <= kernels);
    if (!strstr(src, "void")) {
      REQUIRE(strcmp(rest, src) == 0);
    } else {
      const char *q = src;
      for (const char *p = rest; *p; p++, q++) {
        q = strchr(q, *p);
        REQUIRE(q != NULL);
      }
    }
    if (!strstr(src, "__attribute__"))
      REQUIRE(inserted == count_definitions(src));
    free(rest);
  }
  free(out);

  cb_kernel *k = NULL;
  REQUIRE(cb_kernel_new(src, "k", NULL, &k) == 0);
  cb_kernel_unref(k);
  free(src);
  return 0;
}
