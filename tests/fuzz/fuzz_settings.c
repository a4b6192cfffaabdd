/*
 * Fuzzes the settings read from the environment, cb_config_from_env(),
 * and dtype names, cb_dtype_from_name(). The input is split at its 0xff
 * bytes into the values of CAMBRIAN_NCPUS, CAMBRIAN_TILE_SIZE,
 * CAMBRIAN_SCHED and CAMBRIAN_DEVICES, in that order; the first byte says
 * which of them are set at all. (A value of the environment cannot hold
 * a NUL byte: one ends it.) The result is checked against the rules read
 * here without the parser:
 *
 * - a number is blanks, an optional sign, digits, then spaces or tabs;
 *   an empty one, or one of blanks only, is unset; CPU workers are 0 to
 *   INT_MAX, tiles 1 to INT64_MAX elements;
 * - a scheduler is unset, empty, or the name of one of StarPU's
 *   policies;
 * - the first bad setting (in the order CPU workers, scheduler, tile
 *   size) gives CB_EINVAL and a last error that names its variable; the
 *   others give 0 and the values, the device filter as it is.
 *
 * The first value is also taken as a dtype name: a name that parses
 * names its dtype back, and only those do.
 */
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starpu.h>

#include "cambrian.h"

#define REQUIRE(cond)                                                        \
  do {                                                                       \
    if (!(cond)) {                                                           \
      fprintf(stderr, "%s:%d: %s does not hold; last error: %s\n",          \
              __FILE__, __LINE__, #cond, cb_last_error());                   \
      abort();                                                               \
    }                                                                        \
  } while (0)

enum { NCPUS, TILE, SCHED, DEVICES, NVARS };
static const char *const names[NVARS] = {
    "CAMBRIAN_NCPUS", "CAMBRIAN_TILE_SIZE", "CAMBRIAN_SCHED",
    "CAMBRIAN_DEVICES"};

/* A number setting as the rules read it: 0 unset, 1 valid (*out), -1
 * bad. */
static int read_number(const char *v, long long min, long long max,
                       long long *out) {
  if (!v || !v[strspn(v, " \t")])
    return 0;
  const char *p = v;
  while (isspace((unsigned char)*p))
    p++;
  int negative = *p == '-';
  if (*p == '-' || *p == '+')
    p++;
  if (!isdigit((unsigned char)*p))
    return -1;
  /* The magnitude, held up to one past LLONG_MAX. */
  unsigned long long m = 0, limit = (unsigned long long)LLONG_MAX + 1;
  for (; isdigit((unsigned char)*p); p++) {
    unsigned d = (unsigned)(*p - '0');
    if (m > (limit - d) / 10)
      return -1;
    m = m * 10 + d;
  }
  p += strspn(p, " \t");
  if (*p || (!negative && m == limit))
    return -1;
  long long x = negative ? (m == limit ? LLONG_MIN : -(long long)m)
                         : (long long)m;
  if (x < min || x > max)
    return -1;
  *out = x;
  return 1;
}

/* Whether name is one of StarPU's scheduling policies. */
static int known_policy(const char *name) {
  struct starpu_sched_policy **all = starpu_sched_get_predefined_policies();
  for (struct starpu_sched_policy **p = all; p && *p; p++)
    if ((*p)->policy_name && strcmp((*p)->policy_name, name) == 0)
      return 1;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  unsigned set = data[0];
  char *copy = malloc(size);
  if (!copy)
    return 0;
  memcpy(copy, data + 1, size - 1);
  copy[size - 1] = '\0';
  const char *value[NVARS] = {NULL, NULL, NULL, NULL};
  char *p = copy;
  for (int i = 0; i < NVARS; i++) {
    char *end = memchr(p, 0xff, (size_t)(copy + size - 1 - p));
    if (end)
      *end = '\0';
    if (set & (1u << i))
      value[i] = p;
    if (!end)
      break;
    p = end + 1;
  }
  for (int i = 0; i < NVARS; i++) {
    if (value[i])
      setenv(names[i], value[i], 1);
    else
      unsetenv(names[i]);
  }
  /* What the environment holds: up to its first NUL. */
  for (int i = 0; i < NVARS; i++)
    value[i] = getenv(names[i]);

  long long ncpus = -1, tile = 0;
  int ok_ncpus = read_number(value[NCPUS], 0, INT_MAX, &ncpus);
  int ok_tile = read_number(value[TILE], 1, INT64_MAX, &tile);
  const char *sched = value[SCHED];
  int ok_sched = !sched || !*sched || known_policy(sched);
  const char *first_bad = ok_ncpus < 0 ? names[NCPUS]
                          : !ok_sched  ? names[SCHED]
                          : ok_tile < 0 ? names[TILE]
                                        : NULL;

  cb_config cfg = {.ncpus = -1};
  int rc = cb_config_from_env(&cfg);
  if (first_bad) {
    REQUIRE(rc == CB_EINVAL);
    REQUIRE(strstr(cb_last_error(), first_bad) != NULL);
  } else {
    REQUIRE(rc == 0);
    REQUIRE(cfg.ncpus == (ok_ncpus ? ncpus : -1));
    REQUIRE(cfg.tile_elems == (ok_tile ? tile : 0));
    REQUIRE(cfg.devices == value[DEVICES]);
    if (sched && *sched)
      REQUIRE(cfg.scheduler && strcmp(cfg.scheduler, sched) == 0);
    else
      REQUIRE(cfg.scheduler == NULL);
  }

  /* Set fields are kept, whatever the environment says. */
  cb_config mine = {.ncpus = 3, .devices = "gpu", .scheduler = "eager",
                    .tile_elems = 7};
  REQUIRE(cb_config_from_env(&mine) == 0);
  REQUIRE(mine.ncpus == 3 && mine.tile_elems == 7);
  REQUIRE(strcmp(mine.devices, "gpu") == 0);
  REQUIRE(strcmp(mine.scheduler, "eager") == 0);

  const char *name = value[NCPUS] ? value[NCPUS] : "";
  int t = cb_dtype_from_name(name);
  REQUIRE(t >= -1 && t < CB_NDTYPES);
  if (t >= 0)
    REQUIRE(strcmp(cb_dtype_name((cb_dtype)t), name) == 0);
  for (int i = 0; i < CB_NDTYPES; i++)
    REQUIRE((strcmp(cb_dtype_name((cb_dtype)i), name) == 0) == (t == i));
  free(copy);
  return 0;
}
