/*
 * The runtime's life: starting StarPU with the environment's settings,
 * holding it running while it is used, and the tile geometry it sets.
 *
 * Locking: the run lock is held for reading by every call that uses
 * StarPU (cb__enter .. cb__leave) and for writing by cb_shutdown, which
 * therefore waits for those calls to end.
 */
#ifndef CAMBRIAN_SCHEDULER_RUNTIME_H
#define CAMBRIAN_SCHEDULER_RUNTIME_H

#include <stdatomic.h>
#include <stdint.h>

/* Starts the runtime with the environment's settings if it is not running.
 * Cheap when it runs. */
int cb__ensure_running(void);

/* Holds the runtime running (starting it if needed) while StarPU is used;
 * every cb__enter() is paired with cb__leave(). */
int cb__enter(void);
void cb__leave(void);
/* As cb__enter, but CB_EAGAIN instead of starting or waiting. */
int cb__try_enter(void);
/* 1 while cb_shutdown runs. */
extern atomic_int cb__stopping;
/* 1 in a child process after fork(): StarPU must not be touched. */
int cb__forked(void);
/* CB_ESTATE, with a message saying that cambrian cannot run in a child
 * created by fork() after it started. */
int cb__refuse_forked(void);
/* 1 in a StarPU worker, that is inside a task or a task's callback: a
 * wait there would hold a worker the awaited work may need. */
int cb__in_task(void);
/* CB_EINTASK with a message saying what was waited for, when called from
 * a task; else 0. */
int cb__refuse_in_task(const char *what);

/* Tile geometry of the running runtime for n elements in rows of row
 * elements (1 for vectors), for an array that lives on device (-1: none):
 * hint elements a tile when hint > 0, else the runtime's tile size when
 * one was set, else the device's. CPU workers (and OpenCL devices on the
 * same cores) share cache-friendly tiles, about two per worker; a GPU gets
 * few, large ones. Arrays of one shape get the same tiles on devices of
 * one kind, whatever their dtype. Tiles hold whole rows when rows fit. */
int64_t cb__tile_elems_for(int64_t n, int64_t row, int device, int64_t hint,
                           int64_t *ntiles);

/* The largest tile cb__tile_elems_for gives CPU workers, counted for
 * 8-byte elements; and rows up to this long are never cut by a tile. */
#define CB__MAX_TILE_BYTES ((int64_t)64 << 20)

#endif
