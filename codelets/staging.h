/*
 * Copies between pageable host memory and a GPU through pinned staging
 * buffers (staging.c). With pageable memory NVIDIA's driver copies
 * synchronously, holding the device's driver thread, at a fraction of the
 * bus's speed; with pinned memory it copies in the background at full
 * speed. Arrays over memory the user owns (zero-copy NumPy arrays), and
 * results whose host buffers could not be pinned, are pageable, so their
 * tiles travel in chunks: threads of cambrian's own copy each chunk into
 * a pinned buffer, several of them sharing it in pieces, and send it from
 * there (or receive it there and copy it out), several chunks at a time,
 * while the driver thread goes on with other work.
 */
#ifndef CAMBRIAN_CODELETS_STAGING_H
#define CAMBRIAN_CODELETS_STAGING_H

#include <stddef.h>

#include <CL/cl.h>

#include "cambrian.h"

/* Copies smaller than this go straight from pageable memory. */
#define CB__STAGE_MIN ((size_t)4 << 20)

/* Whether a copy of bytes between pageable memory and memory node node
 * (an OpenCL device's) goes through staging: a GPU's (not a device on the
 * cores, which copies at memory speed; every device's with
 * CAMBRIAN_PINNED=all, for tests), big enough, with pinning allowed
 * (CAMBRIAN_PINNED is not "none"). */
int cb__stage_wanted(unsigned node, size_t bytes);

/* Starts copying bytes from src to offset dst_off of dst, a buffer of
 * node's OpenCL device, through staging. On 0, *done is an event of that
 * device's context that completes once the data are there (never with an
 * error status: a failed copy loses the device). A negative return means
 * nothing was started: copy directly. */
int cb__stage_write(unsigned node, cl_mem dst, size_t dst_off,
                    const void *src, size_t bytes, cl_event *done);

/* The same from offset src_off of src to dst. A failed read also marks
 * owner (when set) failed: its host copy is incomplete. */
int cb__stage_read(unsigned node, cl_mem src, size_t src_off, void *dst,
                   size_t bytes, cb_array *owner, cl_event *done);

/* Copies bytes from src to dst, host memory both, in chunks spread over
 * the stager threads, and waits: a large copy into an array's host buffer
 * runs at the memory's speed, not one core's. 0, or -1 when no stager
 * could be started (nothing was copied). */
int cb__stage_memcpy(void *dst, const void *src, size_t bytes);

#endif
