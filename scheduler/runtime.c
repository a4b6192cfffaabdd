/*
 * The runtime: StarPU's configuration, start and stop.
 *
 * Cores: each OpenCL device StarPU drives takes one core for its driver
 * thread, so by default CPU workers = cores available - OpenCL devices
 * (at least 1), capped by STARPU_MAXCPUS of the StarPU build. CAMBRIAN_NCPUS
 * (or cb_init's ncpus) sets the number of CPU workers, CAMBRIAN_DEVICES
 * (a filter such as "opencl:gpu" or "none") chooses the OpenCL devices.
 *
 * Locking: init_lock serialises cb_init and cb_shutdown. Submitting
 * threads hold run_lock for reading while they use StarPU, shutdown holds
 * it for writing, so no task is submitted into a runtime going away.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CL/cl.h>

#include "arrays.h"
#include "blas_codelets.h"
#include "budget.h"
#include "clasync.h"
#include "clevents.h"
#include "devices.h"
#include "devloss.h"
#include "devtab.h"
#include "distributed.h"
#include "drivers.h"
#include "errors.h"
#include "hooks.h"
#include "pinned.h"
#include "pool.h"
#include "reclaim.h"
#include "runtime.h"
#include "trace.h"
#include "lazy.h"

#define CB__MIN_TILE_ELEMS ((int64_t)1 << 16)
#define CB__GPU_TILE_BYTES ((int64_t)256 << 20)
#define CB__GPU_TILES 4

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static atomic_int forked;    /* set in a child process after fork() */
pthread_rwlock_t cb__run_lock = PTHREAD_RWLOCK_INITIALIZER;
static atomic_int running;
atomic_int cb__stopping;
static cb_runtime_info rt_info;
static int total_workers;
/* What the running runtime was started with: CPU workers, and the
 * OpenCL devices in StarPU's numbering. */
static struct {
  int ncpus, nopencl;
  unsigned opencl[STARPU_MAXOPENCLDEVS];
} started;

/* Set (under init_lock) when a shutdown found a lost device's context
 * unusable: StarPU was left as it was, and cannot start again. */
static char stuck[512];
static int stuck_code = CB_EDEVLOST;

int cb_is_running(void) { return atomic_load(&running); }
int cb__forked(void) { return atomic_load(&forked); }

/* In a child after fork() only the forking thread exists: StarPU's
 * threads and locks are gone, so cambrian refuses to run there. */
static void in_child(void) {
  atomic_store(&forked, 1);
  atomic_store(&running, 0);
}

static void watch_forks(void) { pthread_atfork(NULL, NULL, in_child); }

int cb__refuse_forked(void) {
  return cb__fail(CB_ESTATE,
                  "cambrian cannot run in a child process created by fork() "
                  "after it started; start children with the 'spawn' or "
                  "'forkserver' method");
}
unsigned cb_generation(void) { return atomic_load(&cb__devtab_gen); }

/* At most this many bytes of a setting are quoted in a message, so that
 * the explanation after it always fits; a longer one ends in "...". */
#define CB__QUOTE 64

/* "%.*s%s" arguments quoting s, shortened visibly when too long. */
#define CB__QUOTED(s)                                                      \
  (int)(strlen(s) > CB__QUOTE ? CB__QUOTE - 3 : strlen(s)), (s),            \
      (strlen(s) > CB__QUOTE ? "..." : "")

/* Parses the whole number in variable name (0 when unset or empty):
 * surrounding blanks are allowed, nothing else; values below min or
 * beyond max are refused with a message saying what the variable is. */
static int env_number(const char *name, long long min, long long max,
                      const char *what, long long *out) {
  const char *v = getenv(name);
  *out = 0;
  if (!v || !v[strspn(v, " \t")])
    return 0;
  char *end;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  int ok = end != v && errno == 0;
  end += strspn(end, " \t");
  if (!ok || *end || x < min || x > max)
    return cb__fail(CB_EINVAL, "%s='%.*s%s' is not valid: %s", name,
                    CB__QUOTED(v), what);
  *out = x;
  return 0;
}

/* Appends text to buf (cap bytes, *used of them taken), cut at the end
 * of buf. */
static void append(char *buf, size_t cap, size_t *used, const char *text) {
  int n = snprintf(buf + *used, cap - *used, "%s", text);
  *used += n < 0 ? 0 : (size_t)n;
  if (*used >= cap)
    *used = cap - 1;
}

/* StarPU's scheduling policies into buf, those named "modular-..."
 * grouped at the end as "modular-{eager, ...}". */
static void list_policies(char *buf, size_t cap) {
  static const char modular[] = "modular-";
  const size_t mlen = sizeof modular - 1;
  struct starpu_sched_policy **all = starpu_sched_get_predefined_policies();
  size_t used = 0;
  buf[0] = '\0';
  for (int pass = 0; pass < 2; pass++) {
    int n = 0;
    for (struct starpu_sched_policy **p = all; p && *p; p++) {
      const char *name = (*p)->policy_name;
      if (!name || (strncmp(name, modular, mlen) == 0) != pass)
        continue;
      if (used)
        append(buf, cap, &used, ", ");
      if (pass && n == 0)
        append(buf, cap, &used, "modular-{");
      append(buf, cap, &used, pass ? name + mlen : name);
      n++;
    }
    if (pass && n > 0)
      append(buf, cap, &used, "}");
  }
}

/* Refuses a scheduler that StarPU does not have: StarPU would fall back
 * to its default policy with no more than a warning. setting says where
 * the name came from. */
static int check_scheduler(const char *name, const char *setting) {
  if (!name || !*name)
    return 0;
  struct starpu_sched_policy **all = starpu_sched_get_predefined_policies();
  for (struct starpu_sched_policy **p = all; p && *p; p++)
    if ((*p)->policy_name && strcmp((*p)->policy_name, name) == 0 &&
        strlen(name) < sizeof rt_info.scheduler)
      return 0;
  char known[400];
  list_policies(known, sizeof known);
  return cb__fail(CB_EINVAL, "unknown scheduler %s'%.*s%s'; StarPU's "
                  "policies: %s", setting, CB__QUOTED(name), known);
}

int cb_config_from_env(cb_config *cfg) {
  long long x;
  int rc;
  if (cfg->ncpus < 0) {
    rc = env_number("CAMBRIAN_NCPUS", 0, INT_MAX,
                    "the number of CPU workers is a whole number, 0 or more",
                    &x);
    if (rc)
      return rc;
    const char *v = getenv("CAMBRIAN_NCPUS");
    cfg->ncpus = v && v[strspn(v, " \t")] ? (int)x : -1;
  }
  if (!cfg->devices)
    cfg->devices = getenv("CAMBRIAN_DEVICES");
  if (!cfg->scheduler) {
    const char *v = getenv("CAMBRIAN_SCHED");
    rc = check_scheduler(v, "in CAMBRIAN_SCHED ");
    if (rc)
      return rc;
    cfg->scheduler = v && *v ? v : NULL;
  }
  if (!cfg->distributed) {
    const char *v = getenv("CAMBRIAN_DISTRIBUTED");
    if (v && *v && strcmp(v, "auto") != 0) {
      if (strcmp(v, "1") != 0 && strcmp(v, "0") != 0)
        return cb__fail(CB_EINVAL, "CAMBRIAN_DISTRIBUTED is 1, 0 or auto, "
                        "not '%.*s%s'", CB__QUOTED(v));
      cfg->distributed = *v == '1' ? 1 : -1;
    }
  }
  if (cfg->tile_elems <= 0) {
    rc = env_number("CAMBRIAN_TILE_SIZE", 1, INT64_MAX,
                    "the tile size is a whole number of elements, 1 or "
                    "more (unset: automatic)",
                    &x);
    if (rc)
      return rc;
    cfg->tile_elems = x;
  }
  return 0;
}

static int cores_available(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    return CPU_COUNT(&set);
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

static int mkdirs(char *path) {
  for (char *p = path + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    int rc = mkdir(path, 0700);
    *p = '/';
    if (rc && errno != EEXIST)
      return -1;
  }
  return (mkdir(path, 0700) && errno != EEXIST) ? -1 : 0;
}

/* StarPU keeps its bus calibration and performance models under
 * $STARPU_PERF_MODEL_DIR (else $XDG_CACHE_HOME/.starpu/sampling or
 * $STARPU_HOME/.starpu/sampling); ours go to a per-user cache directory. */
static void cache_dir_name(char *dir, size_t cap) {
  const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  if (xdg && *xdg)
    snprintf(dir, cap, "%s/cambrian", xdg);
  else if (home && *home)
    snprintf(dir, cap, "%s/.cache/cambrian", home);
  else
    snprintf(dir, cap, "/tmp/cambrian-%d", (int)getuid());
}

static int setup_cache_dir(void) {
  char *dir = rt_info.cache_dir;
  cache_dir_name(dir, sizeof rt_info.cache_dir);
  if (mkdirs(dir))
    return cb__fail(CB_ESTARPU, "cannot create the cache directory %s: %s",
                    dir, strerror(errno));
  return 0;
}

/* Lists the OpenCL devices in the order StarPU numbers them (platforms in
 * order, then each platform's devices), with their types, so a filter can
 * choose among them before StarPU starts. */
static int opencl_enumerate(cb_devtype *types, cl_device_id *ids_out,
                            int cap) {
  /* StarPU reads the first four platforms, skips SOCL, and takes GPU and
   * accelerator devices, and CPU ones under STARPU_OPENCL_ON_CPUS. */
  cl_platform_id plats[4];
  cl_uint nplat = 0;
  if (clGetPlatformIDs(4, plats, &nplat) != CL_SUCCESS)
    return 0;
  const char *on_cpus = getenv("STARPU_OPENCL_ON_CPUS");
  cl_device_type mask = CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_ACCELERATOR;
  if (on_cpus && atoi(on_cpus) > 0)
    mask |= CL_DEVICE_TYPE_CPU;
  int n = 0;
  for (cl_uint p = 0; p < nplat && p < 4; p++) {
    char pname[128] = "";
    clGetPlatformInfo(plats[p], CL_PLATFORM_NAME, sizeof pname, pname, NULL);
    if (strcmp(pname, "SOCL Platform") == 0)
      continue;
    cl_device_id ids[32];
    cl_uint nd = 0;
    if (clGetDeviceIDs(plats[p], mask, 32, ids, &nd) != CL_SUCCESS)
      continue;
    for (cl_uint d = 0; d < nd && d < 32 && n < cap; d++) {
      cl_device_type t = 0;
      clGetDeviceInfo(ids[d], CL_DEVICE_TYPE, sizeof t, &t, NULL);
      ids_out[n] = ids[d];
      types[n++] = (t & CL_DEVICE_TYPE_GPU)   ? CB_DEVTYPE_GPU
                   : (t & CL_DEVICE_TYPE_CPU) ? CB_DEVTYPE_CPU
                                              : CB_DEVTYPE_ACCELERATOR;
    }
  }
  return n;
}

/* The OpenCL devices present and the filter strings the runtime would
 * give them, with the CPU workers' device first when it would exist,
 * into buf: what a filter that matches nothing could have chosen. */
static void list_present(int cpus, const cb_devtype *types,
                         const cl_device_id *ids, int n, char *buf,
                         size_t cap) {
  size_t used = 0;
  buf[0] = '\0';
  if (cpus)
    append(buf, cap, &used, "cpu:cpu:0 (CPU workers)");
  int count[CB_NDEVTYPES] = {0};
  for (int i = 0; i < n; i++) {
    char name[128] = "", one[192];
    clGetDeviceInfo(ids[i], CL_DEVICE_NAME, sizeof name - 1, name, NULL);
    snprintf(one, sizeof one, "%sopencl:%s:%d (%s)", used ? ", " : "",
             cb_devtype_name(types[i]), count[types[i]]++, name);
    append(buf, cap, &used, one);
  }
  if (!used)
    append(buf, cap, &used, "none");
}

/* The indices (in StarPU's numbering) of the OpenCL devices that filter
 * chooses into chosen, their cl_device_id into chosen_ids; returns how
 * many, or CB_EINVAL for a filter that does not parse, or CB_ENODEV for
 * one that matches no device at all, neither an OpenCL device nor the
 * CPU workers' (present unless cpus is 0). setting names the filter's
 * origin in messages. "none" chooses no OpenCL device; NULL or "" all.
 * *own_cores counts the chosen devices that are not the CPU itself: each
 * of those gets a core for its driver thread. */
static int choose_opencl(const char *filter, int cpus, const char *setting,
                         unsigned *chosen, const void **chosen_ids,
                         int *own_cores) {
  *own_cores = 0;
  if (filter && strcmp(filter, "none") == 0)
    return 0;
  cb_devtype types[STARPU_MAXOPENCLDEVS];
  cl_device_id ids[STARPU_MAXOPENCLDEVS];
  int n = opencl_enumerate(types, ids, STARPU_MAXOPENCLDEVS);
  cb_filter f;
  char err[256];
  int given = filter && *filter;
  if (given && cb_filter_parse(filter, &f, err, sizeof err))
    return cb__fail(CB_EINVAL, "bad %s filter '%.*s%s': %s", setting,
                    CB__QUOTED(filter), err);
  int count[CB_NDEVTYPES] = {0}, nchosen = 0;
  for (int i = 0; i < n; i++) {
    int index = count[types[i]]++;
    if (given && !cb_filter_match(&f, CB_BACKEND_OPENCL, types[i], index))
      continue;
    if (chosen_ids)
      chosen_ids[nchosen] = ids[i];
    chosen[nchosen++] = (unsigned)i;
    *own_cores += types[i] != CB_DEVTYPE_CPU;
  }
  if (given && nchosen == 0 &&
      !(cpus && cb_filter_match(&f, CB_BACKEND_CPU, CB_DEVTYPE_CPU, 0))) {
    char present[400];
    list_present(cpus, types, ids, n, present, sizeof present);
    return cb__fail(CB_ENODEV, "no device matches the %s filter '%.*s%s'; "
                    "devices present: %s", setting, CB__QUOTED(filter),
                    present);
  }
  return nchosen;
}

/* StarPU reads its settings from the environment, and setenv() while
 * another thread calls getenv() can crash that thread (glibc moves the
 * array getenv reads). So the defaults are set when the library loads,
 * before a program's threads usually exist; a start then changes a
 * variable only where its default has changed since (XDG_CACHE_HOME or
 * CAMBRIAN_VERBOSE set after loading), and the user's own settings win. */
enum { ENV_HOME, ENV_MODELS, ENV_ON_CPUS, ENV_SILENT, NENV };
static const char *const env_names[NENV] = {
    "STARPU_HOME", "STARPU_PERF_MODEL_DIR", "STARPU_OPENCL_ON_CPUS",
    "STARPU_SILENT"};
/* What the defaults are now; NULL: none (STARPU_SILENT when verbose). */
static void env_defaults(char values[NENV][600], const char *out[NENV]) {
  cache_dir_name(values[ENV_HOME], sizeof values[ENV_HOME]);
  snprintf(values[ENV_MODELS], sizeof values[ENV_MODELS], "%.580s/sampling",
           values[ENV_HOME]);
  snprintf(values[ENV_ON_CPUS], sizeof values[ENV_ON_CPUS], "1");
  snprintf(values[ENV_SILENT], sizeof values[ENV_SILENT], "1");
  for (int i = 0; i < NENV; i++)
    out[i] = values[i];
  if (getenv("CAMBRIAN_VERBOSE"))
    out[ENV_SILENT] = NULL;
}
/* The values the library set when it loaded ("" where it set none). */
static char env_loaded[NENV][600];

__attribute__((constructor)) static void env_at_load(void) {
  char values[NENV][600];
  const char *want[NENV];
  env_defaults(values, want);
  for (int i = 0; i < NENV; i++)
    if (want[i] && !getenv(env_names[i]) &&
        setenv(env_names[i], want[i], 0) == 0)
      snprintf(env_loaded[i], sizeof env_loaded[i], "%s", want[i]);
}

static void apply_env_defaults(void) {
  char values[NENV][600];
  const char *want[NENV];
  env_defaults(values, want);
  for (int i = 0; i < NENV; i++) {
    const char *now = getenv(env_names[i]);
    int ours = now && env_loaded[i][0] && strcmp(now, env_loaded[i]) == 0;
    if (!now && want[i])
      setenv(env_names[i], want[i], 0);
    else if (ours && !want[i])
      unsetenv(env_names[i]);
    else if (ours && strcmp(now, want[i]) != 0)
      setenv(env_names[i], want[i], 1);
    else
      continue;
    snprintf(env_loaded[i], sizeof env_loaded[i], "%s", want[i] ? want[i] : "");
  }
}

/* Whether tiles on device are a GPU's: few and large. */
static int large_tiles(int device) {
  return device >= 0 && device < cb__ndevices &&
         cb__devices[device].opencl_devid >= 0 &&
         cb__devices[device].info.type != CB_DEVTYPE_CPU;
}

int64_t cb__tile_elems_for(int64_t n, int64_t row, int device,
                           int64_t hint, int64_t *ntiles) {
  int64_t tile = hint > 0 ? hint : rt_info.tile_elems;
  /* Tiles hold whole rows, so that row blocks of a matrix are whole
   * tiles, unless a row is longer than a tile may be. */
  int64_t unit = row > 1 && row <= CB__MAX_TILE_BYTES / 8 ? row : 1;
  /* A device set takes its devices' tiles, as many for each. */
  int64_t members = 1;
  if (device >= cb__ndevices && cb__device_valid(device)) {
    members = cb__devices[device].nmembers;
    device = cb__devices[device].members[0];
  }
  if (tile <= 0 && large_tiles(device)) {
    /* One tile per CB__GPU_TILE_BYTES, at most CB__GPU_TILES of them
     * (enough for the copy of one to overlap the work on another), none
     * beyond the device's largest allocation. Counted for 8-byte
     * elements whatever the dtype, so that arrays of one shape on one
     * device have the same tiles. */
    int64_t k = (n + CB__GPU_TILE_BYTES / 8 - 1) / (CB__GPU_TILE_BYTES / 8);
    if (k > CB__GPU_TILES)
      k = CB__GPU_TILES;
    k = (k + members - 1) / members * members;
    if (k < 1)
      k = 1;
    int64_t cap = (int64_t)(cb__devices[device].info.max_alloc_bytes / 8);
    tile = (n + k - 1) / k;
    if (cap > 0 && tile > cap)
      tile = cap;
  } else if (tile <= 0) {
    /* Two tiles for each worker that may take them: the CPU workers, for
     * an array of theirs; else every worker. In whole rows, rounded up,
     * so that rounding leaves no short extra tile: on 15 CPU workers of
     * 17, the (16384, 512) float32 result of an addition had 35 tiles
     * (the last of 30 rows), three rounds for some workers, where 30
     * make two for each. */
    int cpu = device >= 0 && device < cb__ndevices &&
              cb__devices[device].opencl_devid < 0 &&
              cb__devices[device].nworkers > 0;
    int64_t workers = cpu ? cb__devices[device].nworkers : total_workers;
    int64_t target = 2 * (workers > 0 ? workers : 1);
    tile = ((n + unit - 1) / unit + target - 1) / target * unit;
    if (tile < CB__MIN_TILE_ELEMS)
      tile = CB__MIN_TILE_ELEMS;
    if (tile > CB__MAX_TILE_BYTES / 8)
      tile = CB__MAX_TILE_BYTES / 8;
  }
  if (unit > 1)
    tile = tile < unit ? unit : tile / unit * unit;
  if (n <= tile) {
    *ntiles = 1;
    return n;
  }
  *ntiles = (n + tile - 1) / tile;
  return tile;
}

/* Tuned CLBlast parameters for each OpenCL device, from the cache, where
 * python -m cambrian calibrate --blas writes them: clblast/<name>.txt,
 * the device's name with characters other than letters, digits, '.' and
 * '-' made '_'. */
static void load_blas_tuning(void) {
  for (int i = 0; i < cb__ndevices; i++) {
    cb__device *d = &cb__devices[i];
    if (d->opencl_devid < 0)
      continue;
    char path[sizeof rt_info.cache_dir + 160];
    int n = snprintf(path, sizeof path, "%s/clblast/", rt_info.cache_dir);
    for (const char *c = d->info.name; *c && n < (int)sizeof path - 8; c++)
      path[n++] = isalnum((unsigned char)*c) || *c == '.' || *c == '-'
                      ? *c
                      : '_';
    snprintf(path + n, sizeof path - (size_t)n, ".txt");
    d->info.blas_tuned = cb__blas_load_tuning(d->opencl_devid, path);
  }
}

/* The ranks an MPI launcher started on this machine, when they share
 * its ncores cores (a launcher that binds each rank to its own cores
 * leaves each fewer); 1 otherwise. */
static int local_ranks(int ncores) {
  static const char *const vars[] = {"OMPI_COMM_WORLD_LOCAL_SIZE",
                                     "MPI_LOCALNRANKS", "PMI_LOCAL_SIZE",
                                     "SLURM_NTASKS_PER_NODE"};
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  if (online > 0 && ncores < online)
    return 1;
  for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
    const char *v = getenv(vars[i]);
    long n = v ? strtol(v, NULL, 10) : 0;
    if (n > 1)
      return n < ncores ? (int)n : ncores;
  }
  return 1;
}

/* This rank's index among those on this machine (0 when unknown). */
static int local_rank(void) {
  static const char *const vars[] = {"OMPI_COMM_WORLD_LOCAL_RANK",
                                     "MPI_LOCALRANKID", "PMI_LOCAL_RANK",
                                     "SLURM_LOCALID"};
  for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
    const char *v = getenv(vars[i]);
    if (v && *v)
      return (int)strtol(v, NULL, 10);
  }
  return 0;
}

/* Ranks that share a machine's cores take each its own run of them:
 * StarPU binds its threads (workers, drivers, then the MPI progress
 * thread) to these cores in turn, where each rank's would otherwise all
 * start at the first core. */
static void bind_to_share(struct starpu_conf *conf, int ncores) {
  int n = local_ranks(ncores);
  if (n < 2)
    return;
  int per = ncores / n, first = (local_rank() % n) * per;
  conf->use_explicit_workers_bindid = 1;
  for (int i = 0; i < STARPU_NMAXWORKERS; i++)
    conf->workers_bindid[i] = (unsigned)(first + i % per);
}

static void stop_starpu(void) {
  if (cb__dist_on)
    cb__dist_stop();
  else
    starpu_shutdown();
}

static int start(const cb_config *user) {
  cb_config cfg = {.ncpus = -1};
  if (user)
    cfg = *user;
  const char *devices_setting = cfg.devices ? "devices" : "CAMBRIAN_DEVICES";
  int rc = cb_config_from_env(&cfg);
  if (rc)
    return rc;

  rc = setup_cache_dir();
  if (rc)
    return rc;
  apply_env_defaults();

  struct starpu_conf conf;
  starpu_conf_init(&conf);
  conf.precedence_over_environment_variables = 1;
  if (!getenv("CAMBRIAN_CATCH_SIGNALS"))
    conf.catch_signals = 0;
  /* CAMBRIAN_CALIBRATE=1: every task feeds the performance models (as
   * python -m cambrian calibrate does); 2 starts them afresh. */
  const char *cal = getenv("CAMBRIAN_CALIBRATE");
  if (cal && (*cal == '1' || *cal == '2'))
    conf.calibrate = *cal - '0';
  const void *opencl_ids[STARPU_MAXOPENCLDEVS];
  unsigned chosen[STARPU_MAXOPENCLDEVS];
  int own_cores;
  int nchosen = choose_opencl(cfg.devices, cfg.ncpus != 0, devices_setting,
                              chosen, opencl_ids, &own_cores);
  if (nchosen < 0)
    return nchosen;
  for (int i = 0; i < nchosen; i++)
    conf.workers_opencl_gpuid[i] = chosen[i];
  conf.use_explicit_workers_opencl_gpuid = 1;
  conf.nopencl = nchosen;
  int ncores = cores_available();
  int ncpus = cfg.ncpus;
  int dist = cb__dist_wanted(cfg.distributed);
  if (ncpus < 0) {
    /* A GPU's driver thread gets a core of its own; an OpenCL device
     * that computes on the cores (pocl) reserves none; distributed, the
     * ranks on this machine share its cores, and each leaves one to its
     * MPI progress thread. */
    int cores = ncores;
    if (dist)
      cores = cores / local_ranks(ncores) - 1;
    ncpus = cores - own_cores;
    if (ncpus < 1)
      ncpus = 1;
  }
  if (ncpus > STARPU_MAXCPUS)
    ncpus = STARPU_MAXCPUS;
  if (ncpus == 0 && conf.nopencl == 0)
    return cb__fail(CB_EINVAL, "no CPU workers and no OpenCL device");
  conf.ncpus = ncpus;
  conf.ncuda = 0;
  conf.nmpi_ms = 0;
  /* The other kinds of workers that StarPU would look for: 1.4 dropped
   * MIC and added HIP, Maxeler FPGAs and TCP/IP master-slave. */
#if STARPU_MAJOR_VERSION == 1 && STARPU_MINOR_VERSION < 4
  conf.nmic = 0;
#else
  conf.nhip = 0;
  conf.nmax_fpga = 0;
  conf.ntcpip_ms = 0;
#endif
  const char *sched = cfg.scheduler;
  if (!sched || !*sched)
    sched = (ncpus > 0 && conf.nopencl > 0) ? "dmda" : "eager";
  conf.sched_policy_name = sched;
  cb__drivers_plan(&conf, ncpus, opencl_ids, conf.nopencl);
#ifdef CB_HAVE_STARPU_UNFINISHED_EVENTS
  /* StarPU asks before it waits for ever on an event of a lost device,
   * or aborts on one that failed (codelets/clevents.h). */
  starpu_opencl_set_unfinished_event_function(cb__cl_unfinished);
#endif

  if (dist) {
    bind_to_share(&conf, ncores);
    rc = cb__dist_start(&conf);
    if (rc)
      return rc;
  } else {
    int sp = starpu_init(&conf);
    if (sp)
      return cb__fail(CB_ESTARPU, "starpu_init failed (%d)", sp);
  }
  rt_info.distributed = dist;
  rt_info.mpi_plugin = cb__dist_available();
  rt_info.rank = cb_rank();
  rt_info.nranks = cb_nranks();
  snprintf(rt_info.mpi_library, sizeof rt_info.mpi_library, "%s",
           dist ? cb__dist_library() : "");

  rt_info.ncpus = (int)starpu_cpu_worker_get_count();
  rt_info.nopencl = (int)starpu_opencl_worker_get_count();
  rt_info.ncores = ncores;
  rt_info.max_cpus = STARPU_MAXCPUS;
  rt_info.tile_elems = cfg.tile_elems;
  rt_info.min_tile_elems = CB__MIN_TILE_ELEMS;
  rt_info.max_tile_bytes = CB__MAX_TILE_BYTES;
  snprintf(rt_info.scheduler, sizeof rt_info.scheduler, "%s", sched);
  int ma, mi, re;
  starpu_get_version(&ma, &mi, &re);
  snprintf(rt_info.starpu_version, sizeof rt_info.starpu_version,
           "%d.%d.%d", ma, mi, re);
#ifdef CB_HAVE_STARPU_MESSAGE_FUNCTION
  rt_info.starpu_messages = 1;
#endif
#ifdef CB_HAVE_STARPU_TASK_EVENT
  rt_info.opencl_async = 1;
#endif
  total_workers = (int)starpu_worker_get_count();

  rc = cb__devices_discover();
  if (rc == 0)
    load_blas_tuning();
  if (rc == 0)
    cb__budget_start();
  if (rc == 0)
    rc = cb__drivers_start();
  if (rc == 0)
    rc = cb__reclaim_start();
  if (rc) {
    cb__drivers_stop();
    cb__budget_stop();
    stop_starpu();
    return rc;
  }
  memcpy(started.opencl, chosen, (size_t)nchosen * sizeof *chosen);
  started.nopencl = nchosen;
  started.ncpus = ncpus;
  atomic_fetch_add(&cb__devtab_gen, 1);
  atomic_store(&running, 1);
  cb__profiling_apply();
  return 0;
}

/* Adds "what is running, not asked" to the list of differences in buf. */
static void differs(char *buf, size_t cap, size_t *used, const char *what,
                    const char *running_value, const char *asked) {
  char one[256];
  snprintf(one, sizeof one, "%s%s is %s, not %s", *used ? "; " : "", what,
           running_value, asked);
  append(buf, cap, used, one);
}

/* Refuses settings that the running runtime does not have: it keeps its
 * own until it stops, so they would have no effect. Unset fields of cfg
 * ask for nothing. */
static int check_running_settings(const cb_config *cfg) {
  char diff[400], a[96], b[96];
  size_t used = 0;
  diff[0] = '\0';
  if (cfg->ncpus >= 0 && (cfg->ncpus < STARPU_MAXCPUS ? cfg->ncpus
                                                       : STARPU_MAXCPUS) !=
                             started.ncpus) {
    snprintf(a, sizeof a, "%d", started.ncpus);
    snprintf(b, sizeof b, "%d", cfg->ncpus);
    differs(diff, sizeof diff, &used, "ncpus", a, b);
  }
  if (cfg->scheduler && *cfg->scheduler &&
      strcmp(cfg->scheduler, rt_info.scheduler) != 0) {
    snprintf(a, sizeof a, "'%s'", rt_info.scheduler);
    snprintf(b, sizeof b, "'%s'", cfg->scheduler);
    differs(diff, sizeof diff, &used, "the scheduler", a, b);
  }
  if (cfg->tile_elems > 0 && cfg->tile_elems != rt_info.tile_elems) {
    if (rt_info.tile_elems > 0)
      snprintf(a, sizeof a, "%lld", (long long)rt_info.tile_elems);
    else
      snprintf(a, sizeof a, "automatic");
    snprintf(b, sizeof b, "%lld", (long long)cfg->tile_elems);
    differs(diff, sizeof diff, &used, "the tile size", a, b);
  }
  if (cfg->distributed && (cfg->distributed > 0) != rt_info.distributed)
    differs(diff, sizeof diff, &used, "distributed",
            rt_info.distributed ? "on" : "off",
            cfg->distributed > 0 ? "on" : "off");
  if (cfg->devices) {
    unsigned chosen[STARPU_MAXOPENCLDEVS];
    int cpus = cfg->ncpus < 0 ? started.ncpus : cfg->ncpus;
    int own_cores;
    int n = choose_opencl(cfg->devices, cpus != 0, "devices", chosen, NULL,
                          &own_cores);
    if (n < 0)
      return n;
    if (n != started.nopencl ||
        memcmp(chosen, started.opencl, (size_t)n * sizeof *chosen) != 0) {
      char one[192];
      snprintf(one, sizeof one, "%sit drives %d OpenCL device%s, not the "
               "%d that '%.*s%s' chooses", used ? "; " : "", started.nopencl,
               started.nopencl == 1 ? "" : "s", n, CB__QUOTED(cfg->devices));
      append(diff, sizeof diff, &used, one);
    }
  }
  if (!used)
    return 0;
  return cb__fail(CB_ESTATE, "the runtime runs already, with other "
                  "settings (%s): shut it down first to change them", diff);
}

int cb_init(const cb_config *cfg) {
  if (atomic_load(&forked))
    return cb__refuse_forked();
  pthread_once(&fork_once, watch_forks);
  int rc = cfg ? check_scheduler(cfg->scheduler, "") : 0;
  if (rc)
    return rc;
  pthread_mutex_lock(&init_lock);
  if (stuck[0])
    rc = cb__fail(stuck_code, "%s", stuck);
  else if (!atomic_load(&running)) {
    /* StarPU, the OpenCL loader and pocl read the environment as they
     * start: os.environ's changes wait (codelets/clasync.h). */
    cb__cl_gate_enter();
    rc = start(cfg);
    cb__cl_gate_leave();
  }
  else if (cfg)
    rc = check_running_settings(cfg);
  pthread_mutex_unlock(&init_lock);
  return rc;
}

int cb__ensure_running(void) {
  return atomic_load_explicit(&running, memory_order_acquire) ? 0
                                                              : cb_init(NULL);
}

int cb__enter(void) {
  if (atomic_load(&forked))
    return cb__refuse_forked();
  for (;;) {
    int rc = cb__ensure_running();
    if (rc)
      return rc;
    pthread_rwlock_rdlock(&cb__run_lock);
    if (atomic_load(&running))
      return 0;
    pthread_rwlock_unlock(&cb__run_lock);
  }
}

int cb__try_enter(void) {
  if (!atomic_load_explicit(&running, memory_order_acquire) ||
      pthread_rwlock_tryrdlock(&cb__run_lock) != 0)
    return CB_EAGAIN;
  if (atomic_load(&running))
    return 0;
  pthread_rwlock_unlock(&cb__run_lock);
  return CB_EAGAIN;
}

void cb__leave(void) { pthread_rwlock_unlock(&cb__run_lock); }

int cb__in_task(void) {
  return atomic_load(&running) && starpu_worker_get_id() >= 0;
}

int cb__refuse_in_task(const char *what) {
  if (!cb__in_task())
    return 0;
  return cb__fail(CB_EINTASK,
                  "%s cannot be waited for inside a task: the task holds a "
                  "worker that the awaited work may need; return the "
                  "arrays and wait outside, or pass them to another task",
                  what);
}

/* Asks each lost device whether its OpenCL context still answers. StarPU
 * stops an OpenCL driver through calls that abort the process when they
 * fail, so a device whose context does not answer is marked unusable:
 * its driver then stops without StarPU's clean-up, and StarPU is not
 * stopped. Returns how many such devices there are; init_lock held. */
static int check_lost_devices(void) {
  int n = 0;
  for (int d = 0; d < cb__ndevices; d++) {
    cb__failure *cause = cb__device_lost(d);
    int st = cause ? cb__device_probe(d) : 0;
    if (!st)
      continue;
    atomic_store(&cb__devices[d].unusable, 1);
    if (n++ == 0)
      snprintf(stuck, sizeof stuck,
               "the runtime cannot start again in this process: %s was "
               "lost after a fault (%.300s), and its OpenCL context no "
               "longer answers (%s), so StarPU could not be stopped",
               cb__devices[d].info.filter_string, cause->info.message,
               cb_cl_status_name(st));
  }
  return n;
}

int cb_shutdown(void) {
  if (atomic_load(&forked))
    return 0; /* nothing of the parent's runtime can be stopped here */
  if (cb__in_task())
    return cb__fail(CB_EINTASK, "the runtime cannot be shut down from "
                                "inside a task or a task's callback");
  pthread_mutex_lock(&init_lock);
  if (!atomic_load(&running)) {
    pthread_mutex_unlock(&init_lock);
    return 0;
  }
  pthread_rwlock_wrlock(&cb__run_lock);
  /* Distributed, this rank's work and a barrier end first; either can
   * find a rank lost, and stopping would then wait for the lost rank's
   * work: it all stays. */
  if (cb__dist_on && (cb__dist_lost() || cb_wait_idle(-1) == CB_ERANKLOST ||
                      cb__dist_barrier() == CB_ERANKLOST)) {
    cb__dist_abandon();
    stuck_code = cb__dist_refuse_lost();
    snprintf(stuck, sizeof stuck, "the runtime cannot start again in "
             "this process: %s", cb_last_error());
    atomic_store(&running, 0);
    pthread_rwlock_unlock(&cb__run_lock);
    pthread_mutex_unlock(&init_lock);
    return 0;
  }
  cb__lazy_fill_all(); /* results of gathers put off outlive the runtime */
  atomic_store(&cb__stopping, 1); /* the pool takes no more arrays */
  starpu_task_wait_for_all();
  cb_wait_idle(-1); /* acquisitions too: their callbacks drop references */
  cb__hooks_run(CB__HOOK_DRAINED);
  cb__reclaim_stop();
  cb__busy_begin(-1); /* bringing data home needs the drivers awake */
  cb__pool_flush();
  cb__arrays_unregister_all();
  cb__busy_end(-1);
  int unusable = atomic_load(&cb__nlost) ? check_lost_devices() : 0;
  cb__drivers_stop();
  cb__hooks_run(CB__HOOK_RELEASE);
  cb__budget_stop();
  if (!unusable)
    stop_starpu();
  cb__cl_unfinished_forget();
  cb__ndevices = 0;
  cb__nsets = 0;
  atomic_store(&running, 0);
  atomic_store(&cb__stopping, 0);
  pthread_rwlock_unlock(&cb__run_lock);
  pthread_mutex_unlock(&init_lock);
  return 0;
}

int cb_runtime_info_get(cb_runtime_info *info) {
  int rc = cb__ensure_running();
  if (rc)
    return rc;
  *info = rt_info;
  size_t max;
  info->pinned_bytes = cb__pinned_bytes(&max);
  info->pinned_max_bytes = max;
  info->memory_held_bytes = cb__budget_held();
  info->memory_limit_bytes = cb__budget_limit();
  return 0;
}

int cb_wait_all(void) {
  int rc = cb__refuse_in_task("all the work");
  if (rc)
    return rc;
  rc = cb__enter();
  if (rc)
    return rc;
  /* Distributed, a wait that can give up when a rank is lost. */
  if (cb__dist_on)
    rc = cb_wait_idle(-1);
  else
    starpu_task_wait_for_all();
  cb__leave();
  return rc;
}
