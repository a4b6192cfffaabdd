/* Scratch buffers of OpenCL devices (see scratch.h). */
#include <starpu.h>

#include "hooks.h"
#include "scratch.h"

static struct scratch {
  cl_mem mem;
  size_t bytes;
} bufs[STARPU_MAXOPENCLDEVS][CB__NSCRATCH];

static void release_all(void) {
  for (int d = 0; d < STARPU_MAXOPENCLDEVS; d++)
    for (int i = 0; i < CB__NSCRATCH; i++) {
      if (bufs[d][i].mem)
        clReleaseMemObject(bufs[d][i].mem); /* status: no use */
      bufs[d][i] = (struct scratch){0};
    }
}

cl_mem cb__scratch(cl_command_queue q, int slot, size_t bytes, cl_int *st) {
  int devid = starpu_worker_get_devid(starpu_worker_get_id());
  *st = CL_INVALID_DEVICE;
  if (devid < 0 || devid >= STARPU_MAXOPENCLDEVS || slot < 0 ||
      slot >= CB__NSCRATCH)
    return NULL;
  struct scratch *s = &bufs[devid][slot];
  *st = CL_SUCCESS;
  if (s->mem && s->bytes >= bytes)
    return s->mem;
  cl_context ctx;
  *st = clGetCommandQueueInfo(q, CL_QUEUE_CONTEXT, sizeof ctx, &ctx, NULL);
  if (*st != CL_SUCCESS)
    return NULL;
  if (s->mem) /* grows: the driver waits for the commands that use it */
    clReleaseMemObject(s->mem);
  *s = (struct scratch){0};
  /* A quarter more, so that sizes that creep up do not make it again
   * each time. */
  size_t want = bytes + bytes / 4;
  cl_mem m = clCreateBuffer(ctx, CL_MEM_READ_WRITE, want ? want : 16, NULL,
                            st);
  if (*st != CL_SUCCESS)
    return NULL;
  /* Adding the hook again does nothing. */
  *st = cb__hook_add(CB__HOOK_RELEASE, release_all) ? CL_OUT_OF_HOST_MEMORY
                                                    : CL_SUCCESS;
  if (*st != CL_SUCCESS) {
    clReleaseMemObject(m);
    return NULL;
  }
  s->mem = m;
  s->bytes = want;
  return m;
}
