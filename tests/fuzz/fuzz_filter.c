/*
 * Fuzzes the device filter parser, cb_filter_parse(), with any bytes. The
 * parser takes a C string, so the input ends at its first NUL byte, if
 * any. Beyond the absence of crashes, it checks that:
 *
 * - a filter that parses has 1 to CB_FILTER_MAX_ALTS alternatives, each
 *   made of a backend, a device type and an index in range, and an empty
 *   message; written back as "backend:type:index" with "*" for what is
 *   any, it parses again into the same alternatives;
 * - a filter that does not parse gives CB_EINVAL and a message, which a
 *   message buffer of any size holds cut but terminated (one of size 0
 *   is not written), and cb_devices_select() refuses it with CB_EINVAL,
 *   quoting the message in the thread's last error;
 * - a filter whose alternatives all have the form "backend:type:index"
 *   (each part a name, a number or "*"; at most CB_FILTER_MAX_ALTS of
 *   them) parses into exactly those, and one with an alternative of more
 *   than three parts, an empty part or an unknown word does not.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cambrian.h"

/* Stops the program, showing the input and what went wrong. */
#define REQUIRE(cond, s)                                                     \
  do {                                                                       \
    if (!(cond)) {                                                           \
      fprintf(stderr, "%s:%d: %s does not hold for the filter \"%s\"\n",    \
              __FILE__, __LINE__, #cond, (s));                               \
      abort();                                                               \
    }                                                                        \
  } while (0)

static const char *const backends[] = {"cpu", "opencl"};
static const char *const devtypes[] = {"cpu", "gpu", "accelerator"};

/* The position of the word s[0..len) in names (case ignored), or -1. */
static int find_name(const char *const *names, int n, const char *s,
                     size_t len) {
  for (int i = 0; i < n; i++)
    if (strlen(names[i]) == len && strncasecmp(names[i], s, len) == 0)
      return i;
  return -1;
}

/* What the grammar says of one alternative, read without the parser:
 * BAD when it cannot parse, FULL when it has the three-part form (then
 * *alt is what it means), OTHER when it may parse. */
enum { BAD, FULL, OTHER };

static int classify(const char *s, size_t len, cb_filter_alt *alt) {
  const char *part[4];
  size_t plen[4];
  int n = 0;
  for (size_t start = 0, i = 0; i <= len; i++) {
    if (i < len && s[i] != ':')
      continue;
    if (n == 3)
      return BAD; /* a fourth part */
    part[n] = s + start;
    plen[n++] = i - start;
    start = i + 1;
  }
  int values[3], full = n == 3;
  for (int k = 0; k < n; k++) {
    const char *p = part[k];
    size_t l = plen[k];
    while (l && isspace((unsigned char)*p))
      p++, l--;
    while (l && isspace((unsigned char)p[l - 1]))
      l--;
    if (l == 0)
      return BAD;
    size_t digits = 0;
    while (digits < l && isdigit((unsigned char)p[digits]))
      digits++;
    int backend = find_name(backends, 2, p, l);
    int devtype = find_name(devtypes, 3, p, l);
    int star = l == 1 && *p == '*';
    if (!star && digits == 0 && backend < 0 && devtype < 0)
      return BAD;
    if (digits == l && digits > 6)
      full = 0; /* a large number: refused or not, by its size */
    /* The three-part form: a backend, a type, then an index. */
    if (star)
      values[k] = -1;
    else if (k == 0 && backend >= 0)
      values[k] = backend;
    else if (k == 1 && devtype >= 0)
      values[k] = devtype;
    else if (k == 2 && digits == l)
      values[k] = atoi(p);
    else
      full = 0;
  }
  if (!full)
    return OTHER;
  *alt = (cb_filter_alt){values[0], values[1], values[2]};
  return FULL;
}

/* Writes f back as a filter string. */
static void format_filter(const cb_filter *f, char *out, size_t cap) {
  size_t len = 0;
  out[0] = '\0';
  for (int i = 0; i < f->nalts && len < cap; i++) {
    const cb_filter_alt *a = &f->alts[i];
    char index[16] = "*";
    if (a->index >= 0)
      snprintf(index, sizeof index, "%d", a->index);
    len += (size_t)snprintf(out + len, cap - len, "%s%s:%s:%s",
                            i ? "," : "",
                            a->backend < 0 ? "*" : backends[a->backend],
                            a->type < 0 ? "*" : devtypes[a->type], index);
  }
}

static void check_accepted(const char *s, const cb_filter *f,
                           const char *err) {
  REQUIRE(err[0] == '\0', s);
  REQUIRE(f->nalts >= 1 && f->nalts <= CB_FILTER_MAX_ALTS, s);
  for (int i = 0; i < f->nalts; i++) {
    const cb_filter_alt *a = &f->alts[i];
    REQUIRE(a->backend >= -1 && a->backend < CB_NBACKENDS, s);
    REQUIRE(a->type >= -1 && a->type < CB_NDEVTYPES, s);
    REQUIRE(a->index >= -1 && a->index <= 1100000, s);
  }
  char again[CB_FILTER_MAX_ALTS * 40];
  cb_filter g;
  format_filter(f, again, sizeof again);
  REQUIRE(cb_filter_parse(again, &g, NULL, 0) == 0, s);
  REQUIRE(g.nalts == f->nalts, s);
  REQUIRE(memcmp(g.alts, f->alts, (size_t)f->nalts * sizeof *f->alts) == 0,
          s);
}

static void check_refused(const char *s, int rc, const char *err) {
  REQUIRE(rc == CB_EINVAL, s);
  REQUIRE(err[0] != '\0', s);
  /* A message buffer of any size: cut but terminated, same answer. */
  cb_filter g;
  for (size_t cap = 1; cap <= 9; cap += 4) {
    char *small = malloc(cap); /* exactly cap bytes, for ASan */
    REQUIRE(small != NULL, s);
    REQUIRE(cb_filter_parse(s, &g, small, cap) == rc, s);
    REQUIRE(strlen(small) < cap, s);
    REQUIRE(strncmp(small, err, cap - 1) == 0, s);
    free(small);
  }
  /* Refused before the runtime is needed: it does not start here. */
  int ids[4];
  REQUIRE(cb_devices_select(s, ids, 4) == CB_EINVAL, s);
  REQUIRE(strstr(cb_last_error(), err) != NULL, s);
  REQUIRE(!cb_is_running(), s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s)
    return 0;
  memcpy(s, data, size);
  s[size] = '\0';

  cb_filter f;
  char err[256];
  memset(err, 'x', sizeof err);
  int rc = cb_filter_parse(s, &f, err, sizeof err);
  REQUIRE(memchr(err, '\0', sizeof err) != NULL, s);
  /* No message buffer, or one of size 0, which is left alone: the same
   * answer. */
  cb_filter g;
  char none = 'x';
  REQUIRE(cb_filter_parse(s, &g, NULL, 0) == rc, s);
  REQUIRE(cb_filter_parse(s, &g, &none, 0) == rc, s);
  REQUIRE(none == 'x', s);
  if (rc == 0)
    check_accepted(s, &f, err);
  else
    check_refused(s, rc, err);

  /* What the grammar alone says. */
  int nfull = 0, all_full = 1, bad = 0;
  cb_filter_alt want[CB_FILTER_MAX_ALTS];
  for (const char *alt = s;;) {
    const char *end = strchr(alt, ',');
    size_t len = end ? (size_t)(end - alt) : strlen(alt);
    cb_filter_alt a;
    int kind = classify(alt, len, &a);
    bad |= kind == BAD;
    all_full &= kind == FULL;
    if (kind == FULL && nfull < CB_FILTER_MAX_ALTS)
      want[nfull] = a;
    nfull += kind == FULL;
    if (!end)
      break;
    alt = end + 1;
  }
  if (bad)
    REQUIRE(rc == CB_EINVAL, s);
  if (all_full && nfull <= CB_FILTER_MAX_ALTS) {
    REQUIRE(rc == 0, s);
    REQUIRE(f.nalts == nfull, s);
    REQUIRE(memcmp(f.alts, want, (size_t)nfull * sizeof *want) == 0, s);
  }
  free(s);
  return 0;
}
