/*
 * Copies of an array in other tiles. Tiles depend on where an array was
 * first used (runtime.c) and may be asked for: element-wise work and dot
 * products pair tile i of every operand with tile i of the result, so an
 * operand tiled otherwise is first copied, by one task where the work
 * runs, into an array tiled like the result.
 */
#include <string.h>

#include "arrays.h"
#include "devtab.h"
#include "errors.h"
#include "jobs.h"

static void copy_cpu(cb__job *j, void *buffers[]) {
  if (j->args[0].nbytes)
    memcpy(cb__job_host_ptr(j, 1, buffers), cb__job_host_ptr(j, 0, buffers),
           j->args[0].nbytes);
}

int cb__array_retile(cb_array *a, int device, int64_t tile,
                     cb_array **out) {
  cb_array *b;
  int rc = cb__array_new_registered(a->dtype, a->ndim, a->shape, device,
                                    tile, &b);
  if (rc)
    return rc;
  cb__job *j = cb__job_new("retile", 2);
  if (!j) {
    cb_array_unref(b);
    return cb__fail(CB_ENOMEM, "out of host memory");
  }
  j->ctx.device = device;
  j->run_cpu = copy_cpu;
  j->run_opencl = cb__job_cl_copy;
  if ((rc = cb__job_set_arg(j, 0, a, CB__READ)) ||
      (rc = cb__job_set_arg(j, 1, b, CB__WRITE))) {
    cb__job_free(j);
    cb_array_unref(b);
    return rc;
  }
  int opencl = device >= 0 && cb__devices[device].opencl_devid >= 0;
  cb_event *e;
  rc = cb__job_submit(j, "cambrian_retile", opencl ? STARPU_OPENCL
                                                   : STARPU_CPU,
                      device, -1, 0, &e);
  if (rc) {
    cb_array_unref(b);
    return rc;
  }
  cb_event_unref(e);
  *out = b;
  return 0;
}
