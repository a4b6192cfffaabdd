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
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <mpi.h>
#include <starpu_mpi.h>

#include "mpi_plugin.h"

static int mpi_started_here;

static void finalize_at_exit(void) {
  int done = 0;
  MPI_Finalized(&done);
  if (!done)
    MPI_Finalize();
}

static int start(struct starpu_conf *conf, int *rank, int *nranks, char *err,
                 size_t cap) {
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

static void data_register(starpu_data_handle_t h, int64_t tag, int owner) {
  starpu_mpi_data_register_comm(
      h, tag, owner == CB__MPI_REPLICATED ? STARPU_MPI_PER_NODE : owner,
      MPI_COMM_WORLD);
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

static int submit(struct starpu_task *task, cb__mpi_local_fn local) {
  int me = starpu_mpi_world_rank();
  unsigned n = STARPU_TASK_GET_NBUFFERS(task);
  int x = runner(task, n);
  /* What the task writes, kept apart: once submitted, the task may end
   * and be freed at any time. */
  struct starpu_data_descr few[STARPU_NMAXBUFS], *out = few;
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
      out[nout++] = (struct starpu_data_descr){.handle = h, .mode = m};
    if (!(m & STARPU_R) || r == CB__MPI_REPLICATED || r == x)
      continue;
    if (x == CB__MPI_REPLICATED)
      starpu_mpi_get_data_on_all_nodes_detached(MPI_COMM_WORLD, h);
    else
      starpu_mpi_get_data_on_node_detached(MPI_COMM_WORLD, h, x, NULL, NULL);
  }
  int rc = local(task, x == CB__MPI_REPLICATED || x == me);
  /* What the runner wrote for other owners goes back to them; copies
   * others hold of what it wrote are stale. */
  for (unsigned i = 0; rc == 0 && i < nout; i++) {
    starpu_data_handle_t h = out[i].handle;
    int r = owner_of(h);
    starpu_mpi_tag_t tag = starpu_mpi_data_get_tag(h);
    if (r != x && me == x)
      starpu_mpi_isend_detached(h, r, tag, MPI_COMM_WORLD, NULL, NULL);
    else if (r != x && me == r)
      starpu_mpi_irecv_detached(h, x, tag, MPI_COMM_WORLD, NULL, NULL);
    starpu_mpi_cache_flush(MPI_COMM_WORLD, h);
  }
  if (out != few)
    free(out);
  return rc;
}

static void fetch_all(starpu_data_handle_t h) {
  if (owner_of(h) != CB__MPI_REPLICATED)
    starpu_mpi_get_data_on_all_nodes_detached(MPI_COMM_WORLD, h);
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
    .data_register = data_register,
    .submit = submit,
    .fetch_all = fetch_all,
    .barrier = barrier,
    .library = library,
};

__attribute__((visibility("default"))) const cb__mpi_plugin *
cb__mpi_plugin_table(void) {
  return &table;
}
