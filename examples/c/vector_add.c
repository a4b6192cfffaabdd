/*
 * Vector addition with cambrian's C API: c[i] = a[i] + b[i].
 *
 * The program wraps two buffers of its own as cambrian arrays (no copy),
 * asks for their sum, which runs as StarPU tasks (one per tile of the
 * result) on the CPU workers or on an OpenCL device, waits for the host
 * copy of the result, checks it and stops the runtime.
 *
 * Build it against an installed cambrian:
 *
 *     cc -std=c11 vector_add.c $(pkg-config --cflags --libs cambrian) \
 *        -o vector_add
 *
 * Run it:
 *
 *     ./vector_add [N] [DEVICE]
 *
 * N is the number of elements (default 1000000); DEVICE is a device
 * filter such as "cpu" or "opencl:gpu" (default: let the scheduler
 * choose). It prints what it did and exits with 0 when every element is
 * right.
 */
#include <stdio.h>
#include <stdlib.h>

#include <cambrian.h>

/* cambrian calls this once no task uses a wrapped buffer any more, from
 * whichever thread drops the last reference: the buffer goes back to
 * its owner, here the C library. */
static void free_buffer(void *data) { free(data); }

/* Reports a failed call with its code and the detailed message. */
static int fail(const char *what, int rc) {
  fprintf(stderr, "%s failed: %s (%s)\n", what, cb_strerror(rc),
          cb_last_error());
  return 1;
}

int main(int argc, char **argv) {
  int64_t n = argc > 1 ? strtoll(argv[1], NULL, 10) : 1000000;
  const char *filter = argc > 2 ? argv[2] : NULL;
  if (n <= 0) {
    fprintf(stderr, "usage: %s [N > 0] [DEVICE]\n", argv[0]);
    return 2;
  }

  /* Start the runtime. A zeroed configuration with ncpus = -1 means
   * "automatic", then the CAMBRIAN_* environment variables apply. Calls
   * that need the runtime would start it themselves; starting it here
   * makes its start-up errors show at one place. */
  cb_config cfg = {.ncpus = -1};
  int rc = cb_init(&cfg);
  if (rc)
    return fail("cb_init", rc);

  /* Where to run: a device id, or -1 for "the scheduler chooses". */
  int device = -1;
  if (filter) {
    rc = cb_devices_select(filter, &device, 1);
    if (rc < 0)
      return fail("cb_devices_select", rc);
    if (rc == 0) {
      fprintf(stderr, "no device matches '%s'\n", filter);
      return 1;
    }
  }

  /* Two input buffers of our own, wrapped without a copy. From now on
   * the arrays own them: free_buffer() gives them back. */
  float *a_data = malloc((size_t)n * sizeof *a_data);
  float *b_data = malloc((size_t)n * sizeof *b_data);
  if (!a_data || !b_data) {
    fprintf(stderr, "out of memory\n");
    return 1;
  }
  for (int64_t i = 0; i < n; i++) {
    a_data[i] = (float)i;
    b_data[i] = 2.0f * (float)i;
  }
  cb_array *a, *b;
  rc = cb_array_wrap(CB_FLOAT32, 1, &n, a_data, free_buffer, a_data, &a);
  if (rc)
    return fail("cb_array_wrap", rc);
  rc = cb_array_wrap(CB_FLOAT32, 1, &n, b_data, free_buffer, b_data, &b);
  if (rc)
    return fail("cb_array_wrap", rc);

  /* c = a + b. The call checks the operands, submits the tasks and
   * returns at once with c, which the tasks write asynchronously. */
  cb_operand x[2] = {{.array = a, .device = device},
                     {.array = b, .device = device}};
  cb_array *c;
  int placed;
  rc = cb_ewise(CB_OP_add, x, 2, device, -1, &c, &placed);
  if (rc)
    return fail("cb_ewise", rc);

  /* Wait until the host copy of c is current: its tasks have ended and
   * the data came back from the device that computed it. */
  cb_event *done;
  rc = cb_array_sync_host_start(c, &done);
  if (rc)
    return fail("cb_array_sync_host_start", rc);
  rc = cb_event_wait(done, -1);
  cb_event_unref(done);
  if (rc)
    return fail("waiting for c", rc);

  /* A task that failed (a device error, say) marks the arrays it writes:
   * the failure comes with what happened. */
  cb_failure failure;
  if (cb_array_failure(c, &failure)) {
    fprintf(stderr, "computing c failed: %s\n", failure.info.message);
    return 1;
  }

  /* Check every element. */
  const float *c_data = cb_array_data(c);
  int64_t wrong = 0;
  for (int64_t i = 0; i < n; i++)
    wrong += c_data[i] != 3.0f * (float)i;

  cb_device_info info;
  const char *where = "chosen by the scheduler";
  if (placed >= 0 && cb_device_get(placed, &info) == 0)
    where = info.filter_string;
  printf("added %lld float32 elements on %s: %lld wrong\n", (long long)n,
         where, (long long)wrong);

  /* Drop our references (the last one frees each array once its tasks
   * are done; this never blocks), then stop the runtime. */
  cb_array_unref(a);
  cb_array_unref(b);
  cb_array_unref(c);
  rc = cb_shutdown();
  if (rc)
    return fail("cb_shutdown", rc);
  return wrong == 0 ? 0 : 1;
}
