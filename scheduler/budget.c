/*
 * Host memory accounting (see budget.h).
 *
 * The process may hold T bytes of host memory in arrays: what it could
 * still allocate when first asked, plus what arrays held then. A large
 * allocation must fit both in T and in what is free at that moment (so
 * that memory taken by others counts too), with a margin left for the
 * interpreter, StarPU and the OpenCL compiler.
 *
 * StarPU counts what it allocates on each memory node against a limit
 * and evicts (writing data home) rather than exceed it. For a device on
 * the cores, the host's free memory is the real limit, so a reservation
 * made with starpu_memory_allocate() lowers StarPU's limit for it to what
 * is left, and follows the arrays as they come and go. The reservation
 * always leaves room for the tiles its running tasks need.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <starpu.h>

#include "budget.h"
#include "devtab.h"
#include "errors.h"

/* Below this size an allocation is counted but not checked. */
#define CHECK_BYTES ((size_t)16 << 20)
/* Left free for everything that is not an array. */
#define MARGIN_BYTES ((uint64_t)256 << 20)
/* What a device on the cores must always be able to hold: the tiles of
 * the tasks it runs and the next ones it fetches. */
#define WORKING_BYTES ((uint64_t)256 << 20)

typedef struct shared_device {
  unsigned node;
  uint64_t total;    /* StarPU's own limit for the node */
  uint64_t reserved; /* what the reservation holds of it */
} shared_device;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t held, limit_total;
static int limit_known, user_set;
static shared_device shared[CB__MAX_DEVICES];
static int nshared;

/* a - b, or 0 when b is larger. */
static uint64_t less(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

/* The number after key in a "key: value kB" file, in bytes, or 0. */
static uint64_t kb_field(const char *path, const char *key) {
  FILE *f = fopen(path, "r");
  if (!f)
    return 0;
  char line[256];
  uint64_t v = 0;
  size_t klen = strlen(key);
  while (fgets(line, sizeof line, f))
    if (strncmp(line, key, klen) == 0) {
      v = strtoull(line + klen, NULL, 10) * 1024;
      break;
    }
  fclose(f);
  return v;
}

/* A number alone in a file ("max" and errors read as UINT64_MAX). */
static uint64_t file_number(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f)
    return UINT64_MAX;
  char buf[64] = "";
  uint64_t v = UINT64_MAX;
  if (fgets(buf, sizeof buf, f) && buf[0] >= '0' && buf[0] <= '9')
    v = strtoull(buf, NULL, 10);
  fclose(f);
  return v;
}

/* What the process could allocate now, and the limit that says so in
 * *why; UINT64_MAX when nothing could be read. */
static uint64_t free_now(const char **why) {
  uint64_t best = UINT64_MAX;
  *why = "no limit found";
  uint64_t avail = kb_field("/proc/meminfo", "MemAvailable:");
  if (avail) {
    best = avail;
    *why = "available RAM";
  }
  uint64_t cmax = file_number("/sys/fs/cgroup/memory.max");
  uint64_t ccur = file_number("/sys/fs/cgroup/memory.current");
  if (cmax != UINT64_MAX && ccur != UINT64_MAX) {
    uint64_t left = cmax > ccur ? cmax - ccur : 0;
    if (left < best) {
      best = left;
      *why = "the cgroup's memory.max";
    }
  }
  struct rlimit rl;
  if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    uint64_t used = kb_field("/proc/self/status", "VmSize:");
    uint64_t left = rl.rlim_cur > used ? rl.rlim_cur - used : 0;
    if (left < best) {
      best = left;
      *why = "RLIMIT_AS";
    }
  }
  if (getrlimit(RLIMIT_DATA, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    uint64_t used = kb_field("/proc/self/status", "VmData:");
    uint64_t left = rl.rlim_cur > used ? rl.rlim_cur - used : 0;
    if (left < best) {
      best = left;
      *why = "RLIMIT_DATA";
    }
  }
  return best;
}

/* CAMBRIAN_MEMORY_LIMIT in bytes (suffixes K, M, G, T), 0 when unset, or
 * CB_EINVAL when it is not a size. */
static int user_limit(uint64_t *out) {
  const char *s = getenv("CAMBRIAN_MEMORY_LIMIT");
  *out = 0;
  if (!s || !*s)
    return 0;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  int shift = 0;
  switch (*end) {
  case 'K': case 'k': shift = 10; end++; break;
  case 'M': case 'm': shift = 20; end++; break;
  case 'G': case 'g': shift = 30; end++; break;
  case 'T': case 't': shift = 40; end++; break;
  default: break;
  }
  if (errno || end == s || *end || s[0] == '-' || v == 0 ||
      v > (UINT64_MAX >> shift))
    return cb__fail(CB_EINVAL, "CAMBRIAN_MEMORY_LIMIT=%s: not a size in "
                    "bytes (a positive integer, optionally with K, M, G "
                    "or T)", s);
  *out = (uint64_t)v << shift;
  return 0;
}

/* Fixes T the first time it is needed. Holds lock. */
static int know_limit(void) {
  if (limit_known)
    return 0;
  uint64_t user;
  int rc = user_limit(&user);
  if (rc)
    return rc;
  const char *why;
  uint64_t f = free_now(&why);
  limit_total = f == UINT64_MAX ? UINT64_MAX : f + held;
  if (user)
    limit_total = user;
  user_set = user != 0;
  limit_known = 1;
  return 0;
}

/* Moves each device on the cores to its share of free, the host memory
 * that arrays leave (less what is kept for the rest). Holds lock. */
static void follow(uint64_t free) {
  if (!nshared)
    return;
  uint64_t share = free == UINT64_MAX ? UINT64_MAX : free / nshared;
  for (int i = 0; i < nshared; i++) {
    shared_device *s = &shared[i];
    if (!s->total) {
      /* StarPU learns its limit when the device's driver starts. */
      starpu_ssize_t total = starpu_memory_get_total(s->node);
      if (total <= 0)
        continue;
      s->total = (uint64_t)total;
    }
    /* What StarPU holds there (1.3 has no starpu_memory_get_used). */
    starpu_ssize_t avail = starpu_memory_get_available(s->node);
    uint64_t used = avail < 0 ? 0 : less(s->total, (uint64_t)avail);
    uint64_t copies = used > s->reserved ? used - s->reserved : 0;
    uint64_t room = share == UINT64_MAX ? UINT64_MAX : copies + share;
    if (room < WORKING_BYTES)
      room = WORKING_BYTES;
    uint64_t want = room >= s->total ? 0 : s->total - room;
    if (want > s->reserved)
      starpu_memory_allocate(s->node, want - s->reserved,
                             STARPU_MEMORY_OVERFLOW);
    else if (want < s->reserved)
      starpu_memory_deallocate(s->node, s->reserved - want);
    s->reserved = want;
  }
}

/* What arrays may still take, and why not more: T less what they hold
 * and, when fresh is set, what is free now, each less what is kept for
 * the rest (a limit set by the user is for arrays alone). Holds lock. */
static uint64_t room_now(int fresh, const char **why) {
  uint64_t keep = MARGIN_BYTES + (nshared ? WORKING_BYTES : 0);
  uint64_t room = UINT64_MAX;
  *why = "no limit found";
  if (limit_total != UINT64_MAX) {
    room = less(limit_total, held);
    if (user_set)
      *why = "CAMBRIAN_MEMORY_LIMIT";
    else {
      room = less(room, keep);
      *why = "the memory free at start";
    }
  }
  if (fresh) {
    const char *w;
    uint64_t f = free_now(&w);
    if (f != UINT64_MAX && less(f, keep) < room) {
      room = less(f, keep);
      *why = w;
    }
  }
  return room;
}

int cb__budget_take(size_t bytes) {
  pthread_mutex_lock(&lock);
  int rc = know_limit();
  if (rc == 0) {
    int large = bytes >= CHECK_BYTES;
    const char *why;
    uint64_t room = room_now(large, &why);
    if (room != UINT64_MAX && (uint64_t)bytes > room)
      rc = cb__fail(CB_ENOMEM,
                    "cannot allocate %zu bytes of host memory: arrays "
                    "hold %" PRIu64 " and about %" PRIu64 " more fit "
                    "(limited by %s)", bytes, held, room, why);
    else if (large && room != UINT64_MAX)
      follow(room - bytes);
  }
  if (rc == 0)
    held += bytes;
  pthread_mutex_unlock(&lock);
  return rc;
}

void cb__budget_count(size_t bytes) {
  pthread_mutex_lock(&lock);
  held += bytes;
  pthread_mutex_unlock(&lock);
}

void cb__budget_give(size_t bytes) {
  pthread_mutex_lock(&lock);
  held -= bytes < held ? bytes : held;
  if (bytes >= CHECK_BYTES && nshared && limit_known) {
    const char *why;
    follow(room_now(1, &why));
  }
  pthread_mutex_unlock(&lock);
}

void cb__budget_start(void) {
  pthread_mutex_lock(&lock);
  nshared = 0;
  for (int d = 0; d < cb__ndevices; d++) {
    cb__device *dev = &cb__devices[d];
    if (dev->info.backend != CB_BACKEND_OPENCL ||
        dev->info.type != CB_DEVTYPE_CPU)
      continue;
    shared[nshared++] = (shared_device){.node = dev->memory_node};
  }
  if (know_limit() == 0 && nshared) {
    const char *why;
    follow(room_now(1, &why));
  }
  pthread_mutex_unlock(&lock);
}

void cb__budget_stop(void) {
  pthread_mutex_lock(&lock);
  for (int i = 0; i < nshared; i++)
    if (shared[i].reserved)
      starpu_memory_deallocate(shared[i].node, shared[i].reserved);
  nshared = 0;
  pthread_mutex_unlock(&lock);
}

uint64_t cb__budget_device_bytes(int device) {
  cb__device *dev = &cb__devices[device];
  uint64_t bytes = dev->info.global_mem_bytes;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < nshared; i++)
    if (shared[i].node == dev->memory_node && shared[i].total)
      bytes = shared[i].total - shared[i].reserved;
  pthread_mutex_unlock(&lock);
  return bytes;
}

uint64_t cb__budget_held(void) {
  pthread_mutex_lock(&lock);
  uint64_t v = held;
  pthread_mutex_unlock(&lock);
  return v;
}

uint64_t cb__budget_limit(void) {
  pthread_mutex_lock(&lock);
  uint64_t v = limit_known && limit_total != UINT64_MAX ? limit_total : 0;
  pthread_mutex_unlock(&lock);
  return v;
}
