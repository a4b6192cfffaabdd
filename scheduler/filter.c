/*
 * Device filter strings: "backend:type:index", each part optional or "*",
 * alternatives separated by ",". Examples: "opencl:gpu:0", "gpu", "cpu",
 * "opencl:cpu", "opencl:1", "cpu,gpu". The parser knows nothing of the
 * devices present; cb_devices_select() applies a filter to them.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "devtab.h"
#include "errors.h"
#include "runtime.h"

/* Messages quote at most this many bytes of a filter or of a part, so
 * that what follows the quote always fits; a longer one ends in "...". */
#define QUOTE 48
#define QUOTED(len, s)                                                      \
  (int)((len) > QUOTE ? QUOTE - 3 : (len)), (s), ((len) > QUOTE ? "..." : "")

static const char *const backend_names[CB_NBACKENDS] = {"cpu", "opencl"};
static const char *const devtype_names[CB_NDEVTYPES] = {"cpu", "gpu",
                                                        "accelerator"};

const char *cb_backend_name(cb_backend b) {
  return (unsigned)b < CB_NBACKENDS ? backend_names[b] : "invalid";
}

const char *cb_devtype_name(cb_devtype t) {
  return (unsigned)t < CB_NDEVTYPES ? devtype_names[t] : "invalid";
}

/* What one part of an alternative can be. */
typedef struct part {
  int wildcard;
  int backend;  /* -1 when the word names no backend */
  int type;     /* -1 when the word names no type */
  int index;    /* -1 when not a number */
} part;

static int lookup(const char *const *names, int n, const char *w, size_t len) {
  for (int i = 0; i < n; i++)
    if (strlen(names[i]) == len && strncasecmp(names[i], w, len) == 0)
      return i;
  return -1;
}

static int parse_part(const char *s, size_t len, part *p, char *err,
                      size_t errlen) {
  while (len && isspace((unsigned char)*s))
    s++, len--;
  while (len && isspace((unsigned char)s[len - 1]))
    len--;
  p->wildcard = 0;
  p->backend = p->type = p->index = -1;
  if (len == 0) {
    snprintf(err, errlen, "empty part");
    return CB_EINVAL;
  }
  if (len == 1 && *s == '*') {
    p->wildcard = 1;
    return 0;
  }
  if (isdigit((unsigned char)*s)) {
    long v = 0;
    for (size_t i = 0; i < len; i++) {
      if (!isdigit((unsigned char)s[i]) || v > 100000) {
        snprintf(err, errlen, "bad device index '%.*s%s'", QUOTED(len, s));
        return CB_EINVAL;
      }
      v = v * 10 + (s[i] - '0');
    }
    p->index = (int)v;
    return 0;
  }
  p->backend = lookup(backend_names, CB_NBACKENDS, s, len);
  p->type = lookup(devtype_names, CB_NDEVTYPES, s, len);
  if (p->backend < 0 && p->type < 0) {
    snprintf(err, errlen,
             "unknown word '%.*s%s' (backends: cpu, opencl; types: cpu, "
             "gpu, accelerator)",
             QUOTED(len, s));
    return CB_EINVAL;
  }
  return 0;
}

static int add_alt(cb_filter *f, int backend, int type, int index, char *err,
                   size_t errlen) {
  if (f->nalts == CB_FILTER_MAX_ALTS) {
    snprintf(err, errlen, "more than %d alternatives", CB_FILTER_MAX_ALTS);
    return CB_EINVAL;
  }
  f->alts[f->nalts++] = (cb_filter_alt){backend, type, index};
  return 0;
}

static int is_index(const part *p) { return p->wildcard || p->index >= 0; }

/* Turns the parts of one alternative into one or two alternatives: a word
 * that names both a backend and a type ("cpu") where either fits gives
 * both readings. */
static int parse_alt(const part *p, int n, cb_filter *f, char *err,
                     size_t errlen) {
  int any = -1;
  if (n == 3) {
    if (!p[0].wildcard && p[0].backend < 0)
      goto bad_backend;
    if (!p[1].wildcard && p[1].type < 0)
      goto bad_type;
    if (!is_index(&p[2]))
      goto bad_index;
    return add_alt(f, p[0].wildcard ? any : p[0].backend,
                   p[1].wildcard ? any : p[1].type,
                   p[2].wildcard ? any : p[2].index, err, errlen);
  }
  if (n == 2) {
    if (p[1].type >= 0 && p[1].index < 0) { /* backend:type */
      if (!p[0].wildcard && p[0].backend < 0)
        goto bad_backend;
      return add_alt(f, p[0].wildcard ? any : p[0].backend, p[1].type, any,
                     err, errlen);
    }
    if (!is_index(&p[1]))
      goto bad_index;
    int idx = p[1].wildcard ? any : p[1].index;
    if (p[0].wildcard) /* *:index */
      return add_alt(f, any, any, idx, err, errlen);
    if (p[0].backend >= 0) {
      int rc = add_alt(f, p[0].backend, any, idx, err, errlen);
      if (rc || p[0].type < 0)
        return rc;
    }
    return add_alt(f, any, p[0].type, idx, err, errlen);
  }
  /* One part. */
  if (p[0].wildcard)
    return add_alt(f, any, any, any, err, errlen);
  if (p[0].index >= 0) {
    snprintf(err, errlen, "an index needs a backend or a type, as in "
                          "'gpu:%d'", p[0].index);
    return CB_EINVAL;
  }
  if (p[0].backend >= 0) {
    int rc = add_alt(f, p[0].backend, any, any, err, errlen);
    if (rc || p[0].type < 0)
      return rc;
  }
  return add_alt(f, any, p[0].type, any, err, errlen);

bad_backend:
  snprintf(err, errlen, "the first of several parts must be a backend "
                        "(cpu, opencl) or '*'");
  return CB_EINVAL;
bad_type:
  snprintf(err, errlen, "the middle part must be a device type (cpu, gpu, "
                        "accelerator) or '*'");
  return CB_EINVAL;
bad_index:
  snprintf(err, errlen, "the last part must be an index or '*'");
  return CB_EINVAL;
}

int cb_filter_parse(const char *s, cb_filter *out, char *err, size_t errlen) {
  char scratch[256];
  if (!err || !errlen) { /* nothing is written to a buffer of size 0 */
    err = scratch;
    errlen = sizeof scratch;
  }
  err[0] = '\0';
  out->nalts = 0;
  if (!s) {
    snprintf(err, errlen, "no filter string");
    return CB_EINVAL;
  }
  const char *alt = s;
  for (;;) {
    const char *end = strchr(alt, ',');
    size_t len = end ? (size_t)(end - alt) : strlen(alt);
    part parts[3];
    int n = 0;
    const char *p = alt, *stop = alt + len;
    for (;;) {
      const char *colon = memchr(p, ':', (size_t)(stop - p));
      size_t plen = colon ? (size_t)(colon - p) : (size_t)(stop - p);
      if (n == 3) {
        snprintf(err, errlen, "'%.*s%s' has more than three parts",
                 QUOTED(len, alt));
        return CB_EINVAL;
      }
      int rc = parse_part(p, plen, &parts[n++], err, errlen);
      if (rc) {
        if (len == 0 || strspn(alt, " \t") >= len)
          snprintf(err, errlen, "empty alternative in '%.*s%s'",
                   QUOTED(strlen(s), s));
        return rc;
      }
      if (!colon)
        break;
      p = colon + 1;
    }
    int rc = parse_alt(parts, n, out, err, errlen);
    if (rc)
      return rc;
    if (!end)
      break;
    alt = end + 1;
  }
  return 0;
}

int cb_filter_match(const cb_filter *f, cb_backend b, cb_devtype t,
                    int index) {
  for (int i = 0; i < f->nalts; i++) {
    const cb_filter_alt *a = &f->alts[i];
    if ((a->backend < 0 || a->backend == (int)b) &&
        (a->type < 0 || a->type == (int)t) &&
        (a->index < 0 || a->index == index))
      return 1;
  }
  return 0;
}

int cb_devices_select(const char *filter, int *ids, int cap) {
  cb_filter f;
  char err[256];
  if (cb_filter_parse(filter, &f, err, sizeof err))
    return cb__fail(CB_EINVAL, "bad device filter '%.*s%s': %s",
                    QUOTED(filter ? strlen(filter) : 0, filter ? filter : ""),
                    err);
  int rc = cb__ensure_running();
  if (rc)
    return rc;
  int n = 0;
  bool taken[CB__MAX_DEVICES] = {false};
  for (int i = 0; i < f.nalts; i++) {
    cb_filter one = {.nalts = 1, .alts = {f.alts[i]}};
    for (int d = 0; d < cb__ndevices; d++) {
      const cb_device_info *di = &cb__devices[d].info;
      if (taken[d] || !cb_filter_match(&one, di->backend, di->type, di->index))
        continue;
      taken[d] = true;
      if (n < cap)
        ids[n] = d;
      n++;
    }
  }
  return n;
}

int cb_device_set(const char *filter) {
  int ids[CB__MAX_DEVICES];
  int n = cb_devices_select(filter, ids, CB__MAX_DEVICES);
  if (n < 0)
    return n;
  if (n == 0)
    return cb__fail(CB_ENODEV, "no device matches '%.*s%s'",
                    QUOTED(strlen(filter), filter));
  /* The set whose members are exactly the devices matched. */
  for (int s = cb__ndevices; s < cb__ndevices + cb__nsets; s++) {
    const cb__device *set = &cb__devices[s];
    int same = set->nmembers == n;
    for (int i = 0; same && i < n; i++) {
      same = 0;
      for (int k = 0; k < set->nmembers; k++)
        same |= set->members[k] == ids[i];
    }
    if (same)
      return s;
  }
  return ids[0];
}
