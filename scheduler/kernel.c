/*
 * Custom OpenCL kernels: the kernel object, its source made ready for
 * device-side assertions, and launches checked at the call (argument
 * count, kinds and element types, device memory) before anything runs.
 *
 * Locking: each kernel's lock guards its builds; kernels_lock guards the
 * list of live kernels, which shutdown walks to release their programs.
 * kernels_lock is taken before a kernel's lock, never after.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrays.h"
#include "devices.h"
#include "budget.h"
#include "devtab.h"
#include "errors.h"
#include "hooks.h"
#include "job_codelets.h"
#include "jobs.h"
#include "kernel_codelets.h"
#include "runtime.h"

static pthread_mutex_t kernels_lock = PTHREAD_MUTEX_INITIALIZER;
struct cb_kernel {
  atomic_int refcount;
  cb__kprog p;                /* what it is on devices */
  struct cb_kernel *prev, *next; /* list of kernels (kernels_lock) */
};

static cb_kernel kernels = {.prev = &kernels, .next = &kernels};

/* CB_ASSERT records its first failure in a hidden buffer: a flag taken
 * with an atomic, then the line and the work-item. */
static const char prelude[] =
    "#define CB_ASSERT(cond) do { if (!(cond)) "
    "cb__assert_fail(cb__assert, __LINE__); } while (0)\n"
    "void cb__assert_fail(__global int *r, int line) {\n"
    "  if (atomic_cmpxchg(r, 0, 1) == 0) {\n"
    "    r[1] = line;\n"
    "    r[2] = (int)get_global_id(0);\n"
    "    r[3] = (int)get_global_id(1);\n"
    "    r[4] = (int)get_global_id(2);\n"
    "  }\n"
    "}\n"
    "#line 1\n";

static int is_ident(char c) { return isalnum((unsigned char)c) || c == '_'; }

/* Skips white space and comments. */
static const char *skip_blank(const char *p) {
  for (;;) {
    while (isspace((unsigned char)*p))
      p++;
    if (p[0] == '/' && p[1] == '/') {
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

/* Skips an identifier; returns p itself when there is none. */
static const char *skip_ident(const char *p) {
  while (is_ident(*p))
    p++;
  return p;
}

/* Skips a parenthesised group, nested ones included. */
static const char *skip_parens(const char *p) {
  int depth = 0;
  do {
    if (*p == '(')
      depth++;
    else if (*p == ')')
      depth--;
    p++;
  } while (*p && depth > 0);
  return p;
}

/* The word "kernel" or "__kernel" at p, alone: its length, or 0. */
static int kernel_word(const char *src, const char *p) {
  if (p > src && is_ident(p[-1]))
    return 0;
  size_t n = strncmp(p, "__kernel", 8) == 0 ? 8
             : strncmp(p, "kernel", 6) == 0 ? 6 : 0;
  return n && !is_ident(p[n]) ? (int)n : 0;
}

/* After a kernel word: attributes, the return type and the name; the
 * '(' of the parameters, or NULL when it is not a kernel definition. */
static const char *kernel_paren(const char *p) {
  for (int words = 0;;) {
    p = skip_blank(p);
    if (*p == '(')
      return words >= 2 ? p : NULL; /* "void name(" */
    if (strncmp(p, "__attribute__", 13) == 0 && !is_ident(p[13])) {
      p = skip_blank(p + 13);
      if (*p != '(')
        return NULL;
      p = skip_parens(p);
      continue;
    }
    const char *end = skip_ident(p);
    if (end == p)
      return NULL;
    p = end;
    words++;
  }
}

char *cb__kernel_assert_source(const char *src) {
  static const char hidden[] = "__global int *cb__assert";
  size_t cap = sizeof prelude + strlen(src) + 1;
  for (const char *p = src; *p; p++)
    cap += kernel_word(src, p) ? sizeof hidden + 2 : 0;
  char *out = malloc(cap);
  if (!out)
    return NULL;
  size_t len = (size_t)snprintf(out, cap, "%s", prelude);
  const char *copied = src;
  for (const char *p = src; *p;) {
    if ((p[0] == '/' && (p[1] == '/' || p[1] == '*')) ||
        isspace((unsigned char)*p)) {
      p = skip_blank(p);
      continue;
    }
    if (*p == '"' || *p == '\'') { /* a string or character literal */
      char quote = *p;
      for (p++; *p && *p != quote; p++)
        if (*p == '\\' && p[1])
          p++;
      p += *p == quote;
      continue;
    }
    int n = kernel_word(src, p);
    const char *paren = n ? kernel_paren(p + n) : NULL;
    if (!paren) {
      p = is_ident(*p) ? skip_ident(p) : p + 1;
      continue;
    }
    const char *rest = skip_blank(paren + 1), *tail = paren + 1;
    if (strncmp(rest, "void", 4) == 0 && !is_ident(rest[4]) &&
        *skip_blank(rest + 4) == ')') /* (void) */
      rest = tail = skip_blank(rest + 4);
    len += (size_t)snprintf(out + len, cap - len, "%.*s%s%s",
                            (int)(paren + 1 - copied), copied, hidden,
                            *rest == ')' ? "" : ", ");
    copied = tail;
    p = tail;
  }
  snprintf(out + len, cap - len, "%s", copied);
  return out;
}

/* Releases every kernel's programs (a hook: just before StarPU stops,
 * since the programs belong to its OpenCL contexts). */
static void release_all(void) {
  pthread_mutex_lock(&kernels_lock);
  for (cb_kernel *k = kernels.next; k != &kernels; k = k->next) {
    pthread_mutex_lock(&k->p.lock);
    cb__kprog_release(&k->p);
    pthread_mutex_unlock(&k->p.lock);
  }
  pthread_mutex_unlock(&kernels_lock);
}

int cb_kernel_new(const char *source, const char *name, const char *options,
                  cb_kernel **out) {
  if (!source || !name || !*name)
    return cb__fail(CB_EINVAL, "a kernel needs its source and its name");
  if (strlen(name) >= sizeof((cb_kernel *)0)->p.name)
    return cb__fail(CB_EINVAL, "kernel name too long: %s", name);
  cb_kernel *k = calloc(1, sizeof *k);
  if (!k)
    return cb__fail(CB_ENOMEM, "out of host memory");
  atomic_init(&k->refcount, 1);
  snprintf(k->p.name, sizeof k->p.name, "%s", name);
  k->p.asserts = strstr(source, "CB_ASSERT") != NULL;
  k->p.source = k->p.asserts ? cb__kernel_assert_source(source)
                              : strdup(source);
  k->p.options = options ? strdup(options) : NULL;
  if (!k->p.source || (options && !k->p.options)) {
    free(k->p.source);
    free(k->p.options);
    free(k);
    return cb__fail(CB_ENOMEM, "out of host memory");
  }
  if (cb__hook_add(CB__HOOK_RELEASE, release_all) != 0) {
    free(k->p.source);
    free(k->p.options);
    free(k);
    return cb__fail(CB_ENOMEM, "no room for the kernels' shutdown hook");
  }
  pthread_mutex_init(&k->p.lock, NULL);
  pthread_mutex_lock(&kernels_lock);
  k->next = &kernels;
  k->prev = kernels.prev;
  kernels.prev->next = k;
  kernels.prev = k;
  pthread_mutex_unlock(&kernels_lock);
  *out = k;
  return 0;
}

void cb_kernel_ref(cb_kernel *k) { atomic_fetch_add(&k->refcount, 1); }

void cb_kernel_unref(cb_kernel *k) {
  if (!k || atomic_fetch_sub(&k->refcount, 1) != 1)
    return;
  if (cb__forked()) /* locks may be held by threads that are gone */
    return;
  pthread_mutex_lock(&kernels_lock);
  k->prev->next = k->next;
  k->next->prev = k->prev;
  pthread_mutex_unlock(&kernels_lock);
  /* Builds of a stopped runtime were released at its shutdown. */
  cb__kprog_release(&k->p);
  pthread_mutex_destroy(&k->p.lock);
  free(k->p.source);
  free(k->p.options);
  free(k);
}

const char *cb_kernel_name(const cb_kernel *k) { return k->p.name; }

/* The device of a set that a kernel's next launch takes: each launch
 * takes the next (a kernel runs on one device); a device is its own. */
static int launch_device(int device) {
  static atomic_uint turns;
  if (device < cb__ndevices || !cb__device_valid(device))
    return device;
  return cb__device_for_tile(
      device, atomic_fetch_add_explicit(&turns, 1, memory_order_relaxed));
}

static int check_opencl(int device) {
  if (device < 0 || device >= cb__ndevices)
    return cb__fail(CB_ENODEV, "no device %d", device);
  int rc = cb__device_usable(device);
  if (rc)
    return rc;
  if (cb__devices[device].opencl_devid < 0)
    return cb__fail(CB_ENODEV,
                    "%s is not an OpenCL device: kernels run on OpenCL "
                    "devices (\"opencl:cpu\" is pocl on the host)",
                    cb__devices[device].info.filter_string);
  return 0;
}

/* Builds on device; the caller holds the run lock. */
static int build_on(cb_kernel *k, int device, char *log, size_t loglen) {
  int rc = check_opencl(device);
  if (rc)
    return rc;
  pthread_mutex_lock(&k->p.lock);
  cb__kbuild *b = cb__kprog_build_locked(&k->p, device);
  if (b->status) {
    if (log && loglen)
      snprintf(log, loglen, "%s", b->log ? b->log : "");
    rc = cb__fail(CB_EBUILD, "kernel %s failed to build on %s (%s)",
                  k->p.name, cb__devices[device].info.filter_string,
                  cb_cl_status_name(b->status));
  }
  pthread_mutex_unlock(&k->p.lock);
  return rc;
}

int cb_kernel_build(cb_kernel *k, int device, char *log, size_t loglen) {
  int rc = cb__enter();
  if (rc)
    return rc;
  /* A set's devices each build it. */
  const cb__device *set = cb__device_valid(device) ? &cb__devices[device]
                                                   : NULL;
  if (set && set->nmembers)
    for (int i = 0; rc == 0 && i < set->nmembers; i++)
      rc = build_on(k, set->members[i], log, loglen);
  else
    rc = build_on(k, device, log, loglen);
  cb__leave();
  return rc;
}

int cb_kernel_params(cb_kernel *k, int device, cb_kernel_param *out,
                     int cap) {
  int rc = cb_kernel_build(k, device, NULL, 0);
  if (rc)
    return rc;
  device = cb__device_for_tile(device, 0); /* a set's devices are alike */
  pthread_mutex_lock(&k->p.lock);
  const cb__kbuild *b = &k->p.dev[device];
  int n = b->nparams;
  for (int i = 0; i < n && i < cap; i++)
    out[i] = b->params[i];
  pthread_mutex_unlock(&k->p.lock);
  return n < 0 ? cb__fail(CB_EDEVICE, "cannot read the parameters of %s",
                          k->p.name)
               : n;
}

/* The OpenCL names an array of dtype t may be seen through (vector
 * widths aside: a complex64 array is a float2 or a float array; a
 * float16 array is a half array, read with vload_half, or a ushort one,
 * its bits). */
static int type_fits(const char *type, cb_dtype t) {
  static const char *const names[CB_NDTYPES][3] = {
      [CB_BOOL] = {"uchar", "char", "bool"},
      [CB_INT32] = {"int", "uint", NULL},
      [CB_INT64] = {"long", "ulong", NULL},
      [CB_FLOAT32] = {"float", NULL, NULL},
      [CB_FLOAT64] = {"double", NULL, NULL},
      [CB_INT8] = {"char", "uchar", NULL},
      [CB_INT16] = {"short", "ushort", NULL},
      [CB_UINT8] = {"uchar", "char", NULL},
      [CB_UINT16] = {"ushort", "short", NULL},
      [CB_UINT32] = {"uint", "int", NULL},
      [CB_UINT64] = {"ulong", "long", NULL},
      [CB_COMPLEX64] = {"float", NULL, NULL},
      [CB_COMPLEX128] = {"double", NULL, NULL},
      [CB_FLOAT16] = {"half", "ushort", NULL}};
  size_t len = strcspn(type, "*0123456789 ");
  if (!*type || strcmp(type, "void*") == 0)
    return 1; /* nothing to check against */
  for (int i = 0; i < 3 && names[t][i]; i++)
    if (strlen(names[t][i]) == len && strncmp(type, names[t][i], len) == 0)
      return 1;
  return 0;
}

static int scalar_size(const char *type) {
  static const struct { const char *name; int size; } sizes[] = {
      {"char", 1}, {"uchar", 1}, {"bool", 1}, {"short", 2}, {"ushort", 2},
      {"half", 2}, {"int", 4}, {"uint", 4}, {"float", 4}, {"long", 8},
      {"ulong", 8}, {"double", 8}, {"size_t", 8}};
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
    if (strcmp(type, sizes[i].name) == 0)
      return sizes[i].size;
  return 0; /* a vector or a struct: not checked */
}

static int check_args(const cb_kernel *k, const cb__kbuild *b,
                      const cb__device *d, const cb_arg *args, int nargs) {
  if (nargs != b->nparams)
    return cb__fail(CB_EINVAL, "kernel %s takes %d arguments, got %d",
                    k->p.name, b->nparams, nargs);
  uint64_t total = 0, local = 0;
  for (int i = 0; i < nargs; i++) {
    const cb_kernel_param *p = &b->params[i];
    const cb_arg *a = &args[i];
    if (p->is_local != (a->local != 0))
      return cb__fail(CB_ETYPE, "kernel %s: argument %d (%s) is %s, got %s",
                      k->p.name, i, p->name,
                      p->is_local ? "__local memory (pass cb.Local(nbytes))"
                                  : "not __local memory",
                      a->local ? "cb.Local" : "something else");
    if (a->local) {
      if (a->size == 0)
        return cb__fail(CB_EINVAL, "kernel %s: argument %d (%s): local "
                        "memory of 0 bytes", k->p.name, i, p->name);
      local += a->size;
      if (local > d->info.local_mem_bytes)
        return cb__fail(CB_EDEVMEM, "kernel %s: argument %d (%s): %llu "
                        "bytes of local memory in all; %s has %llu",
                        k->p.name, i, p->name, (unsigned long long)local,
                        d->info.filter_string,
                        (unsigned long long)d->info.local_mem_bytes);
      continue;
    }
    if (p->is_buffer != (a->array != NULL))
      return cb__fail(CB_ETYPE, "kernel %s: argument %d (%s) is %s, got %s",
                      k->p.name, i, p->name,
                      p->is_buffer ? "a buffer (pass an Array)"
                                   : "a scalar",
                      a->array ? "an Array" : "a scalar");
    if (!a->array) {
      int size = scalar_size(p->type);
      if (size && (size_t)size != a->size)
        return cb__fail(CB_ETYPE,
                        "kernel %s: argument %d (%s) is %s (%d bytes), got "
                        "%s (%zu bytes)", k->p.name, i, p->name, p->type, size,
                        cb_dtype_name(a->dtype), a->size);
      continue;
    }
    if (a->access < CB_IN || a->access > CB_INOUT)
      return cb__fail(CB_EINVAL, "kernel %s: argument %d has no access",
                      k->p.name, i);
    if (!type_fits(p->type, a->array->dtype))
      return cb__fail(CB_ETYPE, "kernel %s: argument %d (%s) is %s, got an "
                      "Array of %s", k->p.name, i, p->name, p->type,
                      cb_dtype_name(a->array->dtype));
    uint64_t bytes = a->array->nbytes;
    if (bytes > d->info.max_alloc_bytes)
      return cb__fail(CB_EDEVMEM,
                      "kernel %s: argument %d needs %llu bytes in one "
                      "buffer; %s allocates at most %llu",
                      k->p.name, i, (unsigned long long)bytes,
                      d->info.filter_string,
                      (unsigned long long)d->info.max_alloc_bytes);
    total += 2 * bytes; /* its tiles, and the buffer they gather into */
  }
  uint64_t room = cb__budget_device_bytes((int)(d - cb__devices));
  if (total > room)
    return cb__fail(CB_EDEVMEM,
                    "kernel %s needs up to %llu bytes; %s has %llu",
                    k->p.name, (unsigned long long)total,
                    d->info.filter_string, (unsigned long long)room);
  return 0;
}

static void release_launch(cb__job *j) {
  cb__launch *L = j->payload;
  if (!L)
    return;
  cb_kernel_unref(L->kernel);
  free(L->job_arg);
  free(L->args);
  free(L);
}

/* The launch job on device, arrays passed twice counted once. */
static int make_job(cb_kernel *k, int device, const cb_arg *args,
                    int nargs, int with_token, cb__job **out) {
  cb__launch *L = calloc(1, sizeof *L);
  int *job_arg = calloc((size_t)nargs + 1, sizeof *job_arg);
  cb_arg *copy = calloc((size_t)nargs + 1, sizeof *copy);
  int narrays = 0;
  for (int i = 0; i < nargs; i++)
    narrays += args[i].array != NULL;
  cb__job *j = cb__job_new(k->p.name, narrays + with_token);
  if (!L || !job_arg || !copy || !j) {
    free(L);
    free(job_arg);
    free(copy);
    cb__job_free(j);
    return cb__fail(CB_ENOMEM, "out of host memory");
  }
  memcpy(copy, args, (size_t)nargs * sizeof *args);
  j->ctx.device = device; /* its arrays are tiled for it */
  cb_kernel_ref(k);
  *L = (cb__launch){.kernel = k, .prog = &k->p, .nargs = nargs,
                    .job_arg = job_arg, .args = copy};
  j->payload = L;
  j->release = release_launch;
  j->run_opencl = cb__kernel_run;
  int used = 0, rc = 0;
  for (int i = 0; i < nargs && rc == 0; i++) {
    job_arg[i] = -1;
    if (!args[i].array)
      continue;
    for (int u = 0; u < used; u++)
      if (j->args[u].array == args[i].array) {
        job_arg[i] = u;
        j->args[u].mode |= (int)args[i].access;
      }
    if (job_arg[i] < 0) {
      job_arg[i] = used;
      rc = cb__job_set_arg(j, used++, args[i].array, (int)args[i].access);
    }
  }
  if (rc == 0 && with_token) {
    /* Not a parameter: later tasks that read it run after the launch. */
    cb_array *tok;
    int64_t one = 1;
    if ((rc = cb__array_new_registered(CB_BOOL, 1, &one, -1, 0, &tok)) == 0) {
      rc = cb__job_set_arg(j, used++, tok, CB__WRITE);
      cb_array_unref(tok);
    }
  }
  j->nargs = used;
  if (rc) {
    cb__job_free(j);
    return rc;
  }
  *out = j;
  return 0;
}

int cb_kernel_launch(cb_kernel *k, int device, int work_dim,
                     const size_t *global, const size_t *local,
                     const cb_arg *args, int nargs, cb_event **out,
                     cb_array **token) {
  if (work_dim < 1 || work_dim > 3)
    return cb__fail(CB_EINVAL, "global size has 1 to 3 dimensions, got %d",
                    work_dim);
  for (int i = 0; i < work_dim; i++)
    if (global[i] == 0)
      return cb__fail(CB_EINVAL, "global size %d is 0", i);
  if (nargs < 0)
    return cb__fail(CB_EINVAL, "negative argument count");
  int rc = cb__enter();
  if (rc)
    return rc;
  cb__job *j = NULL;
  device = launch_device(device);
  if ((rc = build_on(k, device, NULL, 0)))
    goto out;
  pthread_mutex_lock(&k->p.lock);
  rc = check_args(k, &k->p.dev[device], &cb__devices[device], args, nargs);
  pthread_mutex_unlock(&k->p.lock);
  if (rc || (rc = make_job(k, device, args, nargs, token != NULL, &j)))
    goto out;
  cb__launch *L = j->payload;
  L->work_dim = work_dim;
  L->has_local = local != NULL;
  for (int i = 0; i < work_dim; i++) {
    L->global[i] = global[i];
    L->local[i] = local ? local[i] : 0;
  }
  char symbol[80];
  snprintf(symbol, sizeof symbol, "kernel_%s", k->p.name);
  cb_array *tok = token ? j->args[j->nargs - 1].array : NULL;
  if (tok)
    cb_array_ref(tok);
  rc = cb__job_submit(j, symbol, STARPU_OPENCL, device, -1, 0, out);
  if (tok && rc)
    cb_array_unref(tok);
  else if (tok)
    *token = tok;
out:
  cb__leave();
  return rc;
}
