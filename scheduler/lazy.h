/*
 * Gathers put off until their result is needed (lazy.c): a new array of
 * the elements of a source that a layout reaches (a slice with steps, a
 * transpose) is filled when something first reads it, or before its
 * source is written, whichever comes first; element-wise work reads the
 * source through the layout instead (on CPU workers, or on an OpenCL
 * device when the source is one tile), and the copy is never made.
 *
 * A view is such a gather that never settles: it stands for what its
 * source holds now, not when it was made. It is filled again whenever
 * it is read after its source was written, never before its source is
 * written, and it cannot be written itself (write its source).
 */
#ifndef CAMBRIAN_SCHEDULER_LAZY_H
#define CAMBRIAN_SCHEDULER_LAZY_H

#include <stdint.h>

#include "cambrian.h"

/* Whether gathers may be put off and their results read in place:
 * anywhere but over MPI ranks. */
int cb__lazy_allowed(void);
/* Whether work on device runs on CPU workers only. */
int cb__lazy_cpu_only(int device);
/* Makes dst (registered, nothing pending) the put-off gather of the
 * count elements of src that from reaches, on device; a view of them
 * when view is set. The caller holds the run lock. */
int cb__lazy_gather(cb_array *src, const cb_layout *from, int device,
                    int64_t count, int view, cb_array *dst);
/* Whether a is a view (a gather that never settles). */
int cb__lazy_is_view(const cb_array *a);
/* The same; when it is and src is set, also its source (*src, a new
 * reference) and the layout it views there (*from). */
int cb__lazy_view_of(const cb_array *a, cb_array **src, cb_layout *from);
/* Submits a's gather if it was put off. The caller holds the run lock. */
int cb__lazy_fill(cb_array *a);
/* Submits the put-off gathers that read a, before a task writes it, and
 * counts the write; CB_EINVAL when a is a view. The caller holds the run
 * lock. */
int cb__lazy_before_write(cb_array *a);
/* Submits every put-off gather (the runtime stops). */
void cb__lazy_fill_all(void);
/* a dies: its gather, if put off, never will be. */
void cb__lazy_drop(cb_array *a);

/* The submission lock. Between begin and end (recursive) no gather is
 * submitted by another thread, and no other operation that holds it
 * submits tasks: work that reads a put-off gather in place sees its
 * source as it was when the gather was asked for, and an operation made
 * of several tasks (element-wise, reductions, products, copies by tiles)
 * submits them together, as if it happened at once. */
void cb__lazy_begin(void);
void cb__lazy_end(void);
/* Whether a is a put-off gather: then its source (borrowed) and layout.
 * Between cb__lazy_begin and cb__lazy_end. */
int cb__lazy_source(const cb_array *a, cb_array **src, cb_layout *from);

#endif
