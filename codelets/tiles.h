/*
 * The StarPU data handles of tiles: StarPU's vector interface (codelets
 * read them with the STARPU_VECTOR_* macros, performance models see the
 * same footprints), with the array a tile belongs to and data operations
 * that never reach a lost device (devloss.h). StarPU reports a failed
 * OpenCL call in a copy, an allocation or a release by aborting; once a
 * device is lost its calls would fail, so a copy to or from it does
 * nothing (one from it marks the tile's array lost: its data are gone),
 * an allocation there is a placeholder no codelet ever uses, and a
 * release frees the buffer without letting StarPU see the status.
 */
#ifndef CAMBRIAN_CODELETS_TILES_H
#define CAMBRIAN_CODELETS_TILES_H

#include <stdint.h>

#include <CL/cl.h>
#include <starpu.h>

#include "cambrian.h"

/* As starpu_vector_data_register(), for a tile of owner (the array whose
 * failure a lost copy marks; NULL: none); host_pinned says that its host
 * buffer is pinned memory (else copies from it to a GPU are staged, see
 * staging.h). owner must outlive the
 * handle's registration: either it unregisters the handle itself before
 * it goes, or the caller takes a reference for the handle and passes
 * drop, which StarPU's unregistration calls with owner once nothing can
 * use the handle any more. */
void cb__tile_register(starpu_data_handle_t *handle, int home_node,
                       uintptr_t ptr, uint32_t nx, size_t elemsize,
                       int host_pinned, cb_array *owner,
                       void (*drop)(cb_array *owner));

/* Of an asynchronous copy from a device into host memory whose event
 * StarPU was told to stop waiting for (clevents.h): marks the array it
 * was filling lost with device, its data never arrived. Returns 1 when ev
 * was such a copy. */
int cb__tile_read_abandoned(cl_event ev, int device);
/* Lets go of the copies kept for that (at shutdown). */
void cb__tile_reads_forget(void);

#endif
