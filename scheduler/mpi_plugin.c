/*
 * The StarPU-MPI plugin (see mpi_plugin.h): the only code that includes
 * MPI. It is built as its own module and loaded by distributed.c when the
 * process runs distributed.
 *
 * Which rank runs a task: the owner of the data it writes (the first
 * owned datum when several ranks own what it writes). A task that writes
 * replicated data runs on every rank, each on its own copy: what it reads
 * from an owner is first sent to every rank. StarPU-MPI's cache keeps what
 * a rank received until the owner writes it again.
 */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <mpi.h>
#include <starpu_mpi.h>

#include "mpi_plugin.h"

static int mpi_started_here, abandoned;
typedef void (*clear_fn)(starpu_data_handle_t h);
static clear_fn clear_tag; /* see retag() */
static cb__mpi_hooks hooks;
/* Status records take tags of their own, counted alike on every rank
 * (by the one thread that submits there). */
#define STATUS_TAGS (INT64_C(1) << 61)
static int64_t status_count;

static void finalize_at_exit(void) {
  int done = 0;
  MPI_Finalized(&done);
  if (!done && !abandoned)
    MPI_Finalize();
}

static int start(struct starpu_conf *conf, const cb__mpi_hooks *h,
                 int *rank, int *nranks, char *err, size_t cap) {
  hooks = *h;
  status_count = 0;
  *(void **)&clear_tag = dlsym(RTLD_DEFAULT,
                               "_starpu_mpi_mpi_backend_data_clear");
  int up = 0;
  MPI_Initialized(&up);
  if (!up) {
    int provided = 0;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided) !=
        MPI_SUCCESS) {
      snprintf(err, cap, "MPI_Init_thread failed");
      return -EIO;
    }
    if (!mpi_started_here)
      atexit(finalize_at_exit);
    mpi_started_here = 1;
  }
  int rc = starpu_mpi_init_conf(NULL, NULL, 0, MPI_COMM_WORLD, conf);
  if (rc) {
    snprintf(err, cap, "starpu_mpi_init_conf failed (%d)", rc);
    return rc;
  }
  starpu_mpi_comm_rank(MPI_COMM_WORLD, rank);
  starpu_mpi_comm_size(MPI_COMM_WORLD, nranks);
  return 0;
}

static int stop(void) { return starpu_mpi_shutdown(); }

static void abandon(void) { abandoned = 1; }

static void data_register(starpu_data_handle_t h, int64_t tag, int owner) {
  starpu_mpi_data_register_comm(
      h, tag, owner == CB__MPI_REPLICATED ? STARPU_MPI_PER_NODE : owner,
      MPI_COMM_WORLD);
}

/* StarPU-MPI keeps a table from tags to handles; giving a handle a new
 * tag adds an entry, and only the last one goes when the handle is
 * unregistered. Its MPI backend's clear function (clear_tag, not part of
 * the API, looked for at start) takes the handle's entry out first;
 * without it each reuse of a tile leaves one entry until shutdown. */
static void retag(starpu_data_handle_t h, int64_t tag) {
  starpu_mpi_cache_flush(MPI_COMM_WORLD, h);
  if (clear_tag)
    clear_tag(h);
  starpu_mpi_data_set_tag(h, tag);
}

static int owner_of(starpu_data_handle_t h) {
  int r = starpu_mpi_data_get_rank(h);
  return r == STARPU_MPI_PER_NODE ? CB__MPI_REPLICATED : r;
}

/* The rank that runs task: the owner of the first owned datum it writes;
 * CB__MPI_REPLICATED (every rank) when it writes none. Replicated data
 * that a task run by one rank writes changes on that rank only. */
static int runner(const struct starpu_task *task, unsigned n) {
  for (unsigned i = 0; i < n; i++) {
    if (!(STARPU_TASK_GET_MODE(task, i) & STARPU_W))
      continue;
    int r = owner_of(STARPU_TASK_GET_HANDLE(task, i));
    if (r != CB__MPI_REPLICATED)
      return r;
  }
  return CB__MPI_REPLICATED;
}

/* The tasks that write and apply status records: CPU tasks on the data
 * (buffer 0, also their cl_arg) and its record (buffer 1). */
static void stamp_cpu(void *buffers[], void *arg) {
  hooks.stamp(arg, (void *)STARPU_VARIABLE_GET_PTR(buffers[1]));
}

static void apply_cpu(void *buffers[], void *arg) {
  hooks.apply(arg, (const void *)STARPU_VARIABLE_GET_PTR(buffers[1]), 0);
}

static void overwrite_cpu(void *buffers[], void *arg) {
  hooks.apply(arg, (const void *)STARPU_VARIABLE_GET_PTR(buffers[1]), 1);
}

static struct starpu_codelet stamp_cl = {
    .where = STARPU_CPU,
    .cpu_funcs = {stamp_cpu},
    .nbuffers = 2,
    .modes = {STARPU_R, STARPU_W},
    .name = "status",
};

/* The applying task writes the data so that every later reader waits for
 * it; it leaves the values as they are. */
static struct starpu_codelet apply_cl = {
    .where = STARPU_CPU,
    .cpu_funcs = {apply_cpu},
    .nbuffers = 2,
    .modes = {STARPU_RW, STARPU_R},
    .name = "status",
};

static struct starpu_codelet overwrite_cl = {
    .where = STARPU_CPU,
    .cpu_funcs = {overwrite_cpu},
    .nbuffers = 2,
    .modes = {STARPU_RW, STARPU_R},
    .name = "status",
};

static void status_done(void *arg) { hooks.hold(arg, 0); }

/* Submits a task of cl on record and h; a record nobody fills reads as
 * no status at all (the receiver checks its mark). */
static void status_task(struct starpu_codelet *cl, starpu_data_handle_t h,
                        starpu_data_handle_t record) {
  struct starpu_task *t = starpu_task_create();
  if (!t)
    return;
  t->cl = cl;
  t->handles[0] = h;
  t->handles[1] = record;
  t->cl_arg = h;
  t->callback_func = status_done;
  t->callback_arg = h;
  hooks.hold(h, 1);
  if (starpu_task_submit(t)) {
    hooks.hold(h, 0);
    t->destroy = 0;
    starpu_task_destroy(t);
  }
}

/* Moves h from rank from to rank to with its status record; every rank
 * calls it, in the same order. When cached (h is read there), nothing
 * moves if StarPU-MPI's cache says that to holds h already (the status
 * came with it); else h was written on from, and goes back to its owner
 * with the status that replaces the one it had. */
static void move(starpu_data_handle_t h, int from, int to, int cached) {
  int me = starpu_mpi_world_rank();
  starpu_mpi_tag_t status_tag = STATUS_TAGS + status_count++;
  if (from == to || (me != from && me != to))
    return;
  starpu_mpi_tag_t tag = starpu_mpi_data_get_tag(h);
  if (me == to && cached && starpu_mpi_cached_receive_set(h))
    return;
  if (me == from && cached && starpu_mpi_cached_send_set(h, to))
    return;
  starpu_data_handle_t record;
  starpu_variable_data_register(&record, -1, 0, hooks.status_bytes);
  if (me == to) {
    starpu_mpi_irecv_detached(h, from, tag, MPI_COMM_WORLD, NULL, NULL);
    starpu_mpi_irecv_detached(record, from, status_tag, MPI_COMM_WORLD,
                              NULL, NULL);
    status_task(cached ? &apply_cl : &overwrite_cl, h, record);
  } else {
    starpu_mpi_isend_detached(h, to, tag, MPI_COMM_WORLD, NULL, NULL);
    status_task(&stamp_cl, h, record);
    starpu_mpi_isend_detached(record, to, status_tag, MPI_COMM_WORLD, NULL,
                              NULL);
  }
  starpu_data_unregister_submit(record);
}

/* Moves h from its owner to rank to (every rank when to is
 * CB__MPI_REPLICATED), unless it is there already. */
static void fetch(starpu_data_handle_t h, int to) {
  int from = owner_of(h), n = starpu_mpi_world_size();
  for (int r = 0; r < n; r++)
    if (to == CB__MPI_REPLICATED || r == to)
      move(h, from, r, 1);
}

static int submit(struct starpu_task *task, cb__mpi_local_fn local) {
  int me = starpu_mpi_world_rank();
  unsigned n = STARPU_TASK_GET_NBUFFERS(task);
  int x = runner(task, n);
  /* The owned data the task writes, kept apart: once submitted, the task
   * may end and be freed at any time. */
  starpu_data_handle_t few[STARPU_NMAXBUFS], *out = few;
  if (x != CB__MPI_REPLICATED && n > STARPU_NMAXBUFS &&
      !(out = malloc(n * sizeof *out)))
    return -ENOMEM;
  unsigned nout = 0;
  for (unsigned i = 0; i < n; i++) {
    starpu_data_handle_t h = STARPU_TASK_GET_HANDLE(task, i);
    enum starpu_data_access_mode m = STARPU_TASK_GET_MODE(task, i);
    int r = owner_of(h);
    if ((m & STARPU_W) && r != CB__MPI_REPLICATED &&
        x != CB__MPI_REPLICATED)
      out[nout++] = h;
    if ((m & STARPU_R) && r != CB__MPI_REPLICATED && r != x)
      fetch(h, x);
  }
  int rc = local(task, x == CB__MPI_REPLICATED || x == me);
  /* What the runner wrote for other owners goes back to them; copies
   * others hold of what it wrote are stale. The owners wait for it even
   * when the runner could not submit the task: they then get its
   * failure (and every rank counts the same status tags). */
  for (unsigned i = 0; i < nout; i++) {
    move(out[i], x, owner_of(out[i]), 0);
    starpu_mpi_cache_flush(MPI_COMM_WORLD, out[i]);
  }
  if (out != few)
    free(out);
  return rc;
}

static void fetch_all(starpu_data_handle_t h) {
  if (owner_of(h) != CB__MPI_REPLICATED)
    fetch(h, CB__MPI_REPLICATED);
}

static int barrier(void) {
  starpu_mpi_wait_for_all(MPI_COMM_WORLD);
  return starpu_mpi_barrier(MPI_COMM_WORLD);
}

static void library(char *buf, size_t cap) {
  char v[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(v, &len);
  /* The first line names the library and its version. */
  int end = 0;
  while (end < len && v[end] && v[end] != '\n' && v[end] != ',')
    end++;
  snprintf(buf, cap, "%.*s", end, v);
}

static const cb__mpi_plugin table = {
    .abi = CB__MPI_PLUGIN_ABI,
    .start = start,
    .stop = stop,
    .abandon = abandon,
    .data_register = data_register,
    .retag = retag,
    .submit = submit,
    .fetch_all = fetch_all,
    .barrier = barrier,
    .library = library,
};

__attribute__((visibility("default"))) const cb__mpi_plugin *
cb__mpi_plugin_table(void) {
  return &table;
}
