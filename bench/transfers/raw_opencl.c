/*
 * The raw OpenCL reference of bench/transfers: host-to-device and
 * device-to-host bandwidth of one device, from pageable memory (malloc)
 * and from pinned memory (a mapped CL_MEM_ALLOC_HOST_PTR buffer), the
 * pinned buffer made in the device buffer's own context and in a second
 * context of the same device (as memory pinned by one library and moved
 * by another would be). Also the time a non-blocking write takes to
 * return, which tells whether the copy runs in the background.
 *
 *   raw_opencl [MiB] [repetitions] [gpu|cpu|any]
 *
 * Prints one JSON object: GB/s (10^9 bytes a second, best of the
 * repetitions) per case, and the milliseconds a non-blocking write took
 * to return.
 */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#define CHECK(st, what)                                                      \
  do {                                                                       \
    if ((st) != CL_SUCCESS) {                                                \
      fprintf(stderr, "%s failed: %d\n", what, (int)(st));                   \
      exit(1);                                                               \
    }                                                                        \
  } while (0)

static cl_device_id pick(const char *kind) {
  cl_platform_id plats[8];
  cl_uint np = 0;
  CHECK(clGetPlatformIDs(8, plats, &np), "clGetPlatformIDs");
  cl_device_type want = strcmp(kind, "cpu") == 0   ? CL_DEVICE_TYPE_CPU
                        : strcmp(kind, "gpu") == 0 ? CL_DEVICE_TYPE_GPU
                                                   : CL_DEVICE_TYPE_ALL;
  for (cl_uint p = 0; p < np; p++) {
    cl_device_id d;
    cl_uint nd = 0;
    if (clGetDeviceIDs(plats[p], want, 1, &d, &nd) == CL_SUCCESS && nd)
      return d;
  }
  fprintf(stderr, "no OpenCL device of kind %s\n", kind);
  exit(1);
}

typedef struct pinned {
  cl_mem mem;
  void *ptr;
  cl_command_queue q;
} pinned;

static pinned pin(cl_context ctx, cl_device_id dev, size_t bytes) {
  pinned p;
  cl_int st;
  p.q = clCreateCommandQueue(ctx, dev, 0, &st);
  CHECK(st, "clCreateCommandQueue");
  p.mem = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR,
                         bytes, NULL, &st);
  CHECK(st, "clCreateBuffer(ALLOC_HOST_PTR)");
  p.ptr = clEnqueueMapBuffer(p.q, p.mem, CL_TRUE,
                             CL_MAP_READ | CL_MAP_WRITE, 0, bytes, 0, NULL,
                             NULL, &st);
  CHECK(st, "clEnqueueMapBuffer");
  memset(p.ptr, 1, bytes);
  return p;
}

/* Best GB/s of reps blocking copies between host and dev. */
static double bandwidth(cl_command_queue q, cl_mem dev, void *host,
                        size_t bytes, int reps, int to_device) {
  double best = 0;
  for (int r = 0; r < reps; r++) {
    double t0 = now();
    cl_int st = to_device
                    ? clEnqueueWriteBuffer(q, dev, CL_TRUE, 0, bytes, host, 0,
                                           NULL, NULL)
                    : clEnqueueReadBuffer(q, dev, CL_TRUE, 0, bytes, host, 0,
                                          NULL, NULL);
    CHECK(st, to_device ? "write" : "read");
    double gbs = (double)bytes / (now() - t0) / 1e9;
    if (gbs > best)
      best = gbs;
  }
  return best;
}

/* Milliseconds a non-blocking write takes to return. */
static double enqueue_ms(cl_command_queue q, cl_mem dev, void *host,
                         size_t bytes) {
  cl_event ev;
  double t0 = now();
  CHECK(clEnqueueWriteBuffer(q, dev, CL_FALSE, 0, bytes, host, 0, NULL, &ev),
        "non-blocking write");
  double ms = (now() - t0) * 1e3;
  CHECK(clWaitForEvents(1, &ev), "clWaitForEvents");
  clReleaseEvent(ev);
  return ms;
}

int main(int argc, char **argv) {
  size_t mib = argc > 1 ? (size_t)atol(argv[1]) : 256;
  int reps = argc > 2 ? atoi(argv[2]) : 5;
  cl_device_id dev = pick(argc > 3 ? argv[3] : "any");
  size_t bytes = mib << 20;
  char name[256] = "";
  clGetDeviceInfo(dev, CL_DEVICE_NAME, sizeof name, name, NULL);
  cl_int st;
  cl_context ctx = clCreateContext(NULL, 1, &dev, NULL, NULL, &st);
  CHECK(st, "clCreateContext");
  cl_context other = clCreateContext(NULL, 1, &dev, NULL, NULL, &st);
  CHECK(st, "clCreateContext (second)");
  cl_command_queue q = clCreateCommandQueue(ctx, dev, 0, &st);
  CHECK(st, "clCreateCommandQueue");
  cl_mem buf = clCreateBuffer(ctx, CL_MEM_READ_WRITE, bytes, NULL, &st);
  CHECK(st, "clCreateBuffer");
  void *pageable = malloc(bytes);
  memset(pageable, 1, bytes);
  pinned same = pin(ctx, dev, bytes), cross = pin(other, dev, bytes);
  /* A first copy of each kind makes the driver set its paths up. */
  bandwidth(q, buf, pageable, bytes, 1, 1);
  printf("{\"device\": \"%s\", \"mib\": %zu,\n", name, mib);
  printf(" \"h2d_pageable\": %.2f, \"h2d_pinned\": %.2f, "
         "\"h2d_pinned_other_context\": %.2f,\n",
         bandwidth(q, buf, pageable, bytes, reps, 1),
         bandwidth(q, buf, same.ptr, bytes, reps, 1),
         bandwidth(q, buf, cross.ptr, bytes, reps, 1));
  printf(" \"d2h_pageable\": %.2f, \"d2h_pinned\": %.2f, "
         "\"d2h_pinned_other_context\": %.2f,\n",
         bandwidth(q, buf, pageable, bytes, reps, 0),
         bandwidth(q, buf, same.ptr, bytes, reps, 0),
         bandwidth(q, buf, cross.ptr, bytes, reps, 0));
  printf(" \"enqueue_ms_pageable\": %.3f, \"enqueue_ms_pinned\": %.3f, "
         "\"enqueue_ms_pinned_other_context\": %.3f}\n",
         enqueue_ms(q, buf, pageable, bytes),
         enqueue_ms(q, buf, same.ptr, bytes),
         enqueue_ms(q, buf, cross.ptr, bytes));
  return 0;
}
