/*
 * The StarPU-MPI plugin's table: what the scheduler asks of StarPU-MPI,
 * behind one loadable module (libcambrian_mpi.so, mpi_plugin.c), so that a
 * process that is not launched by MPI never loads MPI at all.
 *
 * Data handles have an owner rank, or are replicated: each rank then has
 * its own value and computes it itself. Every rank submits the same tasks
 * in the same order; the owner of what a task writes runs it, and the
 * plugin moves what the task reads there, and what it wrote back to the
 * owners of the other data it writes.
 *
 * A status record travels beside each transfer: whether what the data
 * holds came from a failed task, and that failure. The sender writes it in
 * a task that reads the data after its writer; the receiver applies it in
 * a task that every later reader of the data waits for. So a failure on
 * one rank fails the tasks that read its outputs on others.
 */
#ifndef CAMBRIAN_SCHEDULER_MPI_PLUGIN_H
#define CAMBRIAN_SCHEDULER_MPI_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include <starpu.h>

/* Raised when the table changes; a module of another ABI is refused. */
#define CB__MPI_PLUGIN_ABI 4
/* The symbol the module exports: a function returning its table. */
#define CB__MPI_PLUGIN_SYMBOL "cb__mpi_plugin_table"
/* The owner of replicated data. */
#define CB__MPI_REPLICATED (-1)

/* Submits task on this rank (run) or completes it here without running it
 * (!run). Returns 0 or a negative StarPU code. */
typedef int (*cb__mpi_local_fn)(struct starpu_task *task, int run);

/* What the scheduler gives the plugin for status records. */
typedef struct cb__mpi_hooks {
  size_t status_bytes;
  /* Writes h's status into record (in a task reading h after its
   * writer). */
  void (*stamp)(starpu_data_handle_t h, void *record);
  /* Applies a status received with h (in a task before h's readers);
   * written: h comes back from the rank that wrote it, whose status
   * replaces the one h had. */
  void (*apply)(starpu_data_handle_t h, const void *record, int written);
  /* Brackets the tasks the plugin submits on h: 1 before (what h belongs
   * to is kept), 0 at their end. */
  void (*hold)(starpu_data_handle_t h, int begin);
} cb__mpi_hooks;

typedef struct cb__mpi_plugin {
  int abi;
  /* Initialises MPI unless it runs already (it is then never finalised by
   * the plugin before exit), then StarPU-MPI and StarPU with conf. On
   * failure, a message in err. */
  int (*start)(struct starpu_conf *conf, const cb__mpi_hooks *hooks,
               int *rank, int *nranks, char *err, size_t cap);
  /* Waits for every communication, then stops StarPU-MPI and StarPU. All
   * ranks call it. */
  int (*stop)(void);
  /* Gives h its tag (the same on every rank for owned data) and owner (a
   * rank, or CB__MPI_REPLICATED). */
  void (*data_register)(starpu_data_handle_t h, int64_t tag, int owner);
  /* Gives owned data that is used anew (a pooled array's tile) a new tag,
   * and forgets what StarPU-MPI's cache knew of it. */
  void (*retag)(starpu_data_handle_t h, int64_t tag);
  /* Moves what task reads to the rank that runs it, has local submit it
   * there (and complete it without running elsewhere), then moves what it
   * wrote to the owners. Returns local's code. */
  int (*submit)(struct starpu_task *task, cb__mpi_local_fn local);
  /* Brings h from its owner to every rank (all ranks call it); detached:
   * an access to h on the host waits for its arrival. */
  void (*fetch_all)(starpu_data_handle_t h);
  /* After a rank was lost: MPI is not finalised at exit. */
  void (*abandon)(void);
  /* An MPI barrier over all ranks, waiting for all communications. */
  int (*barrier)(void);
  /* The MPI library's version string. */
  void (*library)(char *buf, size_t cap);
} cb__mpi_plugin;

typedef const cb__mpi_plugin *(*cb__mpi_plugin_fn)(void);

#endif
