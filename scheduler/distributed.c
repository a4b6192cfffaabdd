/*
 * Running over MPI ranks (see distributed.h). The StarPU-MPI plugin is
 * loaded from the folder that holds this code (or CAMBRIAN_MPI_PLUGIN)
 * the first time the runtime starts distributed, and stays loaded.
 *
 * Tags: owned data takes the next of a counter every rank advances in the
 * same order (its tag must be the same everywhere); replicated data never
 * travels, so its tags come from a range of their own, counted apart, and
 * a rank may create replicated data that others do not.
 */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "distributed.h"
#include "drivers.h"
#include "errors.h"
#include "mpi_plugin.h"
#include "runtime.h"

int cb__dist_on;
static const cb__mpi_plugin *plugin;
static int my_rank, nranks = 1;
static atomic_llong owned_tags, replicated_tags;
static char library[96];

/* The environment variables MPI launchers set: Open MPI, PMI (MPICH,
 * Slurm's srun --mpi=pmi2), PMIx (Open MPI, srun --mpi=pmix), Hydra. */
static const char *const launch_vars[] = {
    "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"};

int cb__dist_wanted(int setting) {
  if (setting)
    return setting > 0;
  for (size_t i = 0; i < sizeof launch_vars / sizeof *launch_vars; i++)
    if (getenv(launch_vars[i]))
      return 1;
  return 0;
}

/* Where the plugin is: CAMBRIAN_MPI_PLUGIN, else beside this code. */
static int plugin_path(char *path, size_t cap) {
  const char *set = getenv("CAMBRIAN_MPI_PLUGIN");
  if (set && *set) {
    snprintf(path, cap, "%s", set);
    return 0;
  }
  Dl_info info;
  if (!dladdr((void *)plugin_path, &info) || !info.dli_fname)
    return cb__fail(CB_ESTATE, "distributed: cannot tell where cambrian "
                    "is installed; set CAMBRIAN_MPI_PLUGIN");
  const char *slash = strrchr(info.dli_fname, '/');
  int dir = slash ? (int)(slash - info.dli_fname) : 1;
  snprintf(path, cap, "%.*s/libcambrian_mpi.so", dir,
           slash ? info.dli_fname : ".");
  return 0;
}

int cb__dist_available(void) {
  char path[4096];
  return plugin || (plugin_path(path, sizeof path) == 0 &&
                    access(path, R_OK) == 0);
}

static int load(void) {
  if (plugin)
    return 0;
  char path[4096];
  int rc = plugin_path(path, sizeof path);
  if (rc)
    return rc;
  /* Global: MPI libraries load components that look for its symbols. */
  void *lib = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
  if (!lib)
    return cb__fail(CB_ESTATE, "distributed: cannot load the StarPU-MPI "
                    "plugin (%s); cambrian was built without StarPU-MPI or "
                    "MPI is not installed", dlerror());
  cb__mpi_plugin_fn get;
  *(void **)&get = dlsym(lib, CB__MPI_PLUGIN_SYMBOL);
  const cb__mpi_plugin *p = get ? get() : NULL;
  if (!p || p->abi != CB__MPI_PLUGIN_ABI)
    return cb__fail(CB_ESTATE, "distributed: %s is not a StarPU-MPI plugin "
                    "of this cambrian", path);
  plugin = p;
  return 0;
}

int cb__dist_start(struct starpu_conf *conf) {
  int rc = load();
  if (rc)
    return rc;
  char err[256] = "";
  int sp = plugin->start(conf, &my_rank, &nranks, err, sizeof err);
  if (sp)
    return cb__fail(CB_ESTARPU, "distributed: %s", err);
  plugin->library(library, sizeof library);
  atomic_store(&owned_tags, 0);
  atomic_store(&replicated_tags, 0);
  cb__dist_on = 1;
  return 0;
}

void cb__dist_stop(void) {
  plugin->stop();
  cb__dist_on = 0;
  my_rank = 0;
  nranks = 1;
}

void cb__dist_register(starpu_data_handle_t h, int owner) {
  if (!cb__dist_on)
    return;
  int64_t tag = owner == CB__DIST_REPLICATED
                    ? (INT64_C(1) << 62) + atomic_fetch_add(&replicated_tags, 1)
                    : 1 + atomic_fetch_add(&owned_tags, 1);
  plugin->data_register(h, tag, owner);
}

int cb__dist_block_owner(int64_t tile, int64_t ntiles) {
  return ntiles > 0 ? (int)(tile * nranks / ntiles) : 0;
}

void cb__dist_tiles(int64_t ntiles, int64_t *t0, int64_t *t1) {
  /* Those with tile * nranks / ntiles == my_rank. */
  *t0 = ((int64_t)my_rank * ntiles + nranks - 1) / nranks;
  *t1 = ((int64_t)(my_rank + 1) * ntiles + nranks - 1) / nranks;
}

void cb__dist_rows(int64_t rows, int64_t rows_per_tile, int64_t ntiles,
                   int64_t *first, int64_t *count) {
  int64_t t0, t1;
  cb__dist_tiles(ntiles, &t0, &t1);
  int64_t a = t0 * rows_per_tile, b = t1 * rows_per_tile;
  if (b > rows)
    b = rows;
  if (a > b)
    a = b;
  *first = a;
  *count = b - a;
}

/* A task that ends where it does not run: the same callbacks, no work. */
static void nothing(void *buffers[], void *arg) {
  (void)buffers;
  (void)arg;
}

static struct starpu_codelet elsewhere = {
    .where = STARPU_CPU | STARPU_OPENCL,
    .cpu_funcs = {nothing},
    .opencl_funcs = {nothing},
    .nbuffers = 0,
    .name = "elsewhere",
};

static int local(struct starpu_task *task, int run) {
  if (!run) {
    task->cl = &elsewhere;
    task->nbuffers = 0;
    task->where = -1;
  }
  return starpu_task_submit(task);
}

int cb__task_submit(struct starpu_task *task) {
  if (!cb__dist_on)
    return starpu_task_submit(task);
  return plugin->submit(task, local);
}

void cb__task_discard(struct starpu_task *task) {
  task->destroy = 0;
  starpu_task_destroy(task);
}

void cb__dist_fetch(starpu_data_handle_t h) {
  if (cb__dist_on)
    plugin->fetch_all(h);
}

int cb_rank(void) { return my_rank; }
int cb_nranks(void) { return nranks; }

int cb__dist_barrier(void) { return plugin->barrier(); }

int cb_barrier(void) {
  int rc = cb__refuse_in_task("the other ranks");
  if (rc || !cb__dist_on)
    return rc;
  if ((rc = cb__enter()))
    return rc;
  cb__busy_begin(-1); /* transfers may need the drivers awake */
  int sp = plugin->barrier();
  cb__busy_end(-1);
  cb__leave();
  return sp ? cb__fail(CB_ESTARPU, "distributed: barrier failed (%d)", sp)
            : 0;
}

const char *cb__dist_library(void) { return library; }
