/*
 * Staged copies between pageable host memory and GPUs (see staging.h).
 *
 * A copy is cut into chunks of CB__STAGE_CHUNK bytes (a short one into
 * four smaller chunks). Stager threads (three for every four cores, at
 * least two, at most CB__STAGERS; none on the cores of OpenCL drivers)
 * take the work in order. A write's chunk takes a free pinned buffer of
 * the device and is copied into it in pieces of CB__STAGE_PIECE bytes,
 * each stager taking the next piece, so that the first chunk is ready
 * for the bus after a few pieces' copies rather than a whole chunk's by
 * one thread (the bus then waited 0.3 ms on an H200 for each upload's
 * first 2 MiB, 6% of a 256 MiB upload). The stager that copies the last
 * piece enqueues the chunk's write, and the completer thread waits for
 * the writes in the order they were sent and gives their buffers back. A
 * read's chunk is taken whole by a stager with a free buffer, enqueued
 * into it, waited for and copied out. A copy whose next chunk finds no
 * free buffer of its device waits in the queue, later copies going
 * first. So memory copies run on every stager at once, none waiting for
 * the bus, and bus copies go on meanwhile: one core copies about 8 GB/s,
 * an H200's bus takes 55 GB/s each way.
 * The last chunk of a copy completes its user event, which StarPU polls
 * as the copy's event. Copies between host buffers (cb__stage_memcpy)
 * go through the same queue, their caller waiting for the last chunk.
 *
 * Each device gets, on first use, two command queues of its own in
 * StarPU's context, one for writes and one for reads, so that the bus
 * carries both ways at once and staged copies never wait behind kernels
 * (StarPU's queues), and CB__STAGE_BUFFERS pinned buffers (mapped
 * CL_MEM_ALLOC_HOST_PTR buffers): 4 MiB each, 64 MiB a device. They go
 * with StarPU's contexts, at shutdown (CB__HOOK_RELEASE); the stagers
 * and the completer stay for the next runtime.
 *
 * Every OpenCL status is checked. A failure loses the device (its later
 * work fails with DeviceLostError; the host copy, intact, stays readable
 * and usable elsewhere) and still completes the event normally: StarPU
 * aborts on an event that reports an error.
 *
 * Locking: lock guards the queue of copies (and their next chunk and
 * piece to take), the list of writes sent, the devices' state and their
 * free buffers; OpenCL calls that may block run without it.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pthread.h>
#include <starpu.h>
#if defined(__x86_64__)
#include <emmintrin.h>
#endif

#include "cambrian/testing.h"
#include "clevents.h"
#include "clprog.h"
#include "devloss.h"
#include "devtab.h"
#include "failure.h"
#include "faults.h"
#include "hooks.h"
#include "staging.h"

/* Chunks of 4 MiB in 16 buffers: each write costs the bus some time of
 * its own, and 256 MiB uploads on an H200 ran at 49.5 GB/s (median of
 * four processes' best) with these against 47.4 GB/s with chunks of 2
 * MiB in 32 buffers, the same pinned memory. */
#define CB__STAGE_CHUNK ((size_t)4 << 20)
#define CB__STAGE_SPLIT (4 * CB__STAGE_CHUNK)
#define CB__STAGE_PIECE ((size_t)256 << 10)
#define CB__STAGE_BUFFERS 16
#define CB__STAGERS 16

typedef struct stage_buf {
  cl_mem mem;
  void *ptr;
  atomic_int pieces;          /* a write's: pieces not yet copied in */
} stage_buf;

/* A device's staging state, made on its first staged copy. */
typedef struct stage_dev {
  int ready;                  /* 1: made; -1: could not be, copy directly */
  int device;                 /* its entry in the device table */
  cl_command_queue q[2];       /* reads, writes: the bus's two ways */
  stage_buf bufs[CB__STAGE_BUFFERS];
  int nfree;
  int free_idx[CB__STAGE_BUFFERS];
} stage_dev;

/* One copy: its chunks, and the event that its last one completes. */
typedef struct stage_job {
  int devid, device;
  int to_device;              /* 1: host to device; 0: device to host */
  const char *from;           /* a copy between host buffers: from host */
  int ended;                  /* such a copy: its last chunk ended (lock) */
  cl_mem mem;                 /* the device's buffer */
  size_t mem_off, bytes;
  char *host;
  cb_array *owner;            /* reads: whose data a failure loses */
  cl_event done;
  size_t chunk;               /* its chunks' length (the last: up to) */
  size_t next;                /* the next chunk to take (a write: to take
                                 pieces of) (lock) */
  size_t piece;               /* a write: its next piece to take (lock) */
  int buf;                    /* the buffer of chunk next (lock) */
  size_t nchunks;
  atomic_size_t left;         /* chunks not finished */
  atomic_int status;          /* the first failed status, else 0 */
  struct stage_job *next_job;
} stage_job;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t host_ended = PTHREAD_COND_INITIALIZER;
static stage_dev devs[STARPU_MAXOPENCLDEVS];
static stage_job *jobs_head, *jobs_tail;
static int nstagers;
static atomic_long staged_chunks;

long cb_testing_staged_chunks(void) { return atomic_load(&staged_chunks); }
/* CAMBRIAN_PINNED: 0 none, 1 GPUs, 2 all (pocl too: for tests). */
static atomic_int policy = -1;

int cb__stage_wanted(unsigned node, size_t bytes) {
  if (bytes < CB__STAGE_MIN ||
      starpu_node_get_kind(node) != STARPU_OPENCL_RAM)
    return 0;
  int p = atomic_load_explicit(&policy, memory_order_relaxed);
  if (p < 0) {
    const char *v = getenv("CAMBRIAN_PINNED");
    p = !v ? 1 : strcmp(v, "none") == 0 ? 0 : strcmp(v, "all") == 0 ? 2 : 1;
    atomic_store_explicit(&policy, p, memory_order_relaxed);
  }
  int d = cb__node_device(node);
  return d >= 0 && (p == 2 || (p == 1 && cb__devices[d].info.type !=
                                             CB_DEVTYPE_CPU));
}

/* Releases every device's queue and buffers (StarPU's contexts go). No
 * staged copy is in flight: StarPU waited for every copy's event. */
static void release_devices(void) {
  pthread_mutex_lock(&lock);
  for (int i = 0; i < STARPU_MAXOPENCLDEVS; i++) {
    stage_dev *s = &devs[i];
    /* A lost device's context may never answer again, even to a
     * release: its queue and buffers are left as they are, as StarPU's
     * own are (see cb_shutdown). */
    int alive = s->ready == 1 && !cb__device_lost(s->device);
    for (int b = 0; alive && b < CB__STAGE_BUFFERS; b++) {
      if (s->bufs[b].ptr)
        clEnqueueUnmapMemObject(s->q[0], s->bufs[b].mem, s->bufs[b].ptr, 0,
                                NULL, NULL);
      if (s->bufs[b].mem)
        clReleaseMemObject(s->bufs[b].mem);
    }
    for (int w = 0; alive && w < 2; w++) {
      if (s->q[w]) {
        clFinish(s->q[w]);
        clReleaseCommandQueue(s->q[w]);
      }
    }
    memset(s, 0, sizeof *s);
  }
  pthread_mutex_unlock(&lock);
}

/* Makes devid's queue and buffers; the caller holds lock. On failure the
 * device copies directly. */
static void make_device(int devid) {
  stage_dev *s = &devs[devid];
  cl_context ctx;
  cl_device_id dev;
  cl_int st;
  starpu_opencl_get_context((unsigned)devid, &ctx);
  starpu_opencl_get_device((unsigned)devid, &dev);
  s->q[0] = clCreateCommandQueue(ctx, dev, 0, &st);
  if (st == CL_SUCCESS)
    s->q[1] = clCreateCommandQueue(ctx, dev, 0, &st);
  for (int b = 0; st == CL_SUCCESS && b < CB__STAGE_BUFFERS; b++) {
    s->bufs[b].mem = clCreateBuffer(ctx,
                                    CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR,
                                    CB__STAGE_CHUNK, NULL, &st);
    if (st == CL_SUCCESS)
      s->bufs[b].ptr = clEnqueueMapBuffer(s->q[0], s->bufs[b].mem, CL_TRUE,
                                          CL_MAP_READ | CL_MAP_WRITE, 0,
                                          CB__STAGE_CHUNK,
                                          0, NULL, NULL, &st);
    s->free_idx[s->nfree++] = b;
  }
  s->ready = st == CL_SUCCESS ? 1 : -1;
  if (st != CL_SUCCESS) {
    for (int b = 0; b < CB__STAGE_BUFFERS; b++) {
      if (s->bufs[b].ptr)
        clEnqueueUnmapMemObject(s->q[0], s->bufs[b].mem, s->bufs[b].ptr, 0,
                                NULL, NULL);
      if (s->bufs[b].mem)
        clReleaseMemObject(s->bufs[b].mem);
    }
    for (int w = 0; w < 2; w++)
      if (s->q[w])
        clReleaseCommandQueue(s->q[w]);
    memset(s, 0, sizeof *s);
    s->ready = -1;
  }
}

/* The device of j was lost before a read ended: its array's data are
 * gone. */
static void lose_data(stage_job *j) {
  cb__failure *f = cb__lost_failure(j->device, "", "the array's data were "
                                    "lost");
  if (f) {
    cb__mark_poison(j->owner, f);
    cb__failure_unref(f);
  }
}

/* A copy failed with status st: the device is lost, the array failed. */
static void fail_job(stage_job *j, cl_int st) {
  cb__failure *f = cb__failure_new(
      CB_EDEVICE, st, j->device, "", "copying %zu bytes %s %s failed (%s)",
      j->bytes, j->to_device ? "to" : "from",
      cb__devices[j->device].info.filter_string, cb_cl_status_name(st));
  if (f) {
    cb__failure_register(f);
    cb__device_lose(j->device, f);
    cb__failure_unref(f);
  }
  /* A read left the host copy incomplete: the array's data are lost. */
  if (!j->to_device && j->owner)
    lose_data(j);
}

/* The bytes of j's chunk that starts at off: a whole chunk but the last. */
static size_t chunk_bytes(const stage_job *j, size_t off) {
  return j->bytes - off < j->chunk ? j->bytes - off : j->chunk;
}

/* Cuts j's bytes into chunks: whole ones from CB__STAGE_SPLIT up; below,
 * four of whole CB__STAGE_PIECEs (the last one short), so that several
 * stagers share a short copy (one core copies a MiB in about 130 us). */
static void cut(stage_job *j) {
  size_t each = j->bytes >= CB__STAGE_SPLIT ? CB__STAGE_CHUNK
                                            : (j->bytes + 3) / 4;
  each = (each + CB__STAGE_PIECE - 1) / CB__STAGE_PIECE * CB__STAGE_PIECE;
  j->chunk = each < CB__STAGE_CHUNK ? each : CB__STAGE_CHUNK;
  j->nchunks = (j->bytes + j->chunk - 1) / j->chunk;
  atomic_init(&j->left, j->nchunks);
}

/* Chunk status st of j ended, through buffer b: records a failure, gives
 * the buffer back and, after the last chunk, completes the copy. */
static void chunk_done(stage_job *j, int b, cl_int st) {
  stage_dev *s = &devs[j->devid];
  if (st != CL_SUCCESS) {
    cl_int none = CL_SUCCESS;
    if (atomic_compare_exchange_strong(&j->status, &none, st))
      fail_job(j, st);
  }
  pthread_mutex_lock(&lock);
  s->free_idx[s->nfree++] = b;
  pthread_cond_broadcast(&work); /* copies that wanted a buffer */
  pthread_mutex_unlock(&lock);
  if (atomic_fetch_sub(&j->left, 1) == 1) {
    /* Never an error status: StarPU would abort on it. */
    cb__user_event_end(j->done, j->device);
    clReleaseMemObject(j->mem);
    free(j);
  }
}

/* Writes sent and not yet seen to end, oldest first (lock); the
 * completer waits for each, so that stagers go on copying meanwhile. */
typedef struct sent_write {
  stage_job *job;
  int buf;
  cl_event ev;
  struct sent_write *next;
} sent_write;
static sent_write *sent_head, *sent_tail;
static pthread_cond_t sent_cond = PTHREAD_COND_INITIALIZER;

static void *completer(void *unused) {
  (void)unused;
  pthread_setname_np(pthread_self(), "cb-stage-end");
  pthread_mutex_lock(&lock);
  for (;;) {
    while (!sent_head)
      pthread_cond_wait(&sent_cond, &lock);
    sent_write *w = sent_head;
    sent_head = w->next;
    if (!sent_head)
      sent_tail = NULL;
    pthread_mutex_unlock(&lock);
    chunk_done(w->job, w->buf, cb__cl_outcome(w->ev));
    free(w);
    pthread_mutex_lock(&lock);
  }
  return NULL;
}

/* Copies len bytes from src to dst without bringing dst into the cache,
 * for copies into an array's host buffer (cb__stage_memcpy): the array is
 * read long after, by then out of the cache, so a store that first reads
 * its line (as memcpy's do below a few MiB) costs the memory a pass for
 * nothing (asarray(copy=True) then upload, 256 MiB: 24.3 against 21.6
 * GB/s on the H200). A staging buffer is the opposite case: the device
 * reads it at once, from the cache that memcpy leaves it in (44.6 against
 * 37.5 GB/s there with these stores), so chunks are copied with memcpy.
 * On x86-64 the stores are non-temporal and fenced before the copy is
 * said to have ended; elsewhere it is memcpy. */
static void stream_copy(void *dst, const void *src, size_t len) {
#if defined(__x86_64__)
  char *d = dst;
  const char *s = src;
  size_t head = (16 - ((uintptr_t)d & 15)) & 15;
  if (head > len)
    head = len;
  memcpy(d, s, head);
  d += head, s += head, len -= head;
  for (; len >= 64; d += 64, s += 64, len -= 64) {
    __m128i a = _mm_loadu_si128((const __m128i *)s);
    __m128i b = _mm_loadu_si128((const __m128i *)(s + 16));
    __m128i c = _mm_loadu_si128((const __m128i *)(s + 32));
    __m128i e = _mm_loadu_si128((const __m128i *)(s + 48));
    _mm_stream_si128((__m128i *)d, a);
    _mm_stream_si128((__m128i *)(d + 16), b);
    _mm_stream_si128((__m128i *)(d + 32), c);
    _mm_stream_si128((__m128i *)(d + 48), e);
  }
  memcpy(d, s, len);
  _mm_sfence();
#else
  memcpy(dst, src, len);
#endif
}

/* Sends chunk k of j through buffer b of its device, which holds the
 * chunk already for a write. A write is handed to the completer once
 * sent; a read is waited for here, and copied out. */
static void send_chunk(stage_job *j, size_t k, int b) {
  stage_dev *s = &devs[j->devid];
  size_t off = k * j->chunk, len = chunk_bytes(j, off);
  cl_int st = atomic_load(&j->status);
  if (st == CL_SUCCESS &&
      atomic_load_explicit(&cb__faults_armed, memory_order_relaxed))
    st = cb__fault_take("stage", 1, j->device, NULL);
  if (st != CL_SUCCESS) {
    chunk_done(j, b, st);
    return;
  }
  if (cb__device_lost(j->device)) {
    /* Lost by another fault meanwhile: a read leaves the host copy
     * incomplete, so the array's data are lost with the device. */
    cl_int none = CL_SUCCESS;
    if (!j->to_device && j->owner &&
        atomic_compare_exchange_strong(&j->status, &none, CL_INVALID_CONTEXT))
      lose_data(j);
    chunk_done(j, b, CL_SUCCESS);
    return;
  }
  atomic_fetch_add(&staged_chunks, 1);
  cl_event ev;
  if (j->to_device) {
    st = clEnqueueWriteBuffer(s->q[1], j->mem, CL_FALSE, j->mem_off + off, len,
                              s->bufs[b].ptr, 0, NULL, &ev);
  } else {
    st = clEnqueueReadBuffer(s->q[0], j->mem, CL_FALSE, j->mem_off + off, len,
                             s->bufs[b].ptr, 0, NULL, &ev);
  }
  if (st == CL_SUCCESS && (st = clFlush(s->q[j->to_device])) != CL_SUCCESS)
    clReleaseEvent(ev);
  if (st != CL_SUCCESS) {
    chunk_done(j, b, st);
    return;
  }
  sent_write *w = j->to_device ? malloc(sizeof *w) : NULL;
  if (w) {
    *w = (sent_write){j, b, ev, NULL};
    pthread_mutex_lock(&lock);
    if (sent_tail)
      sent_tail->next = w;
    else
      sent_head = w;
    sent_tail = w;
    pthread_cond_signal(&sent_cond);
    pthread_mutex_unlock(&lock);
    return;
  }
  st = cb__cl_outcome(ev);
  if (st == CL_SUCCESS && !j->to_device)
    memcpy(j->host + off, s->bufs[b].ptr, len);
  chunk_done(j, b, st);
}

/* The pieces of chunk k of j, a write. */
static int pieces(const stage_job *j, size_t k) {
  size_t len = chunk_bytes(j, k * j->chunk);
  return (int)((len + CB__STAGE_PIECE - 1) / CB__STAGE_PIECE);
}

/* Copies piece p of chunk k of j, a write, into the chunk's buffer b;
 * the piece copied last sends the chunk. */
static void write_piece(stage_job *j, size_t k, size_t p, int b) {
  stage_dev *s = &devs[j->devid];
  size_t at = k * j->chunk, off = p * CB__STAGE_PIECE;
  size_t len = chunk_bytes(j, at) - off;
  if (len > CB__STAGE_PIECE)
    len = CB__STAGE_PIECE;
  /* A failed copy, or one to a lost device, is not sent (send_chunk). */
  if (atomic_load(&j->status) == CL_SUCCESS && !cb__device_lost(j->device))
    memcpy((char *)s->bufs[b].ptr + off, j->host + at + off, len);
  if (atomic_fetch_sub(&s->bufs[b].pieces, 1) == 1)
    send_chunk(j, k, b);
}

/* Chunk k of a copy between host buffers. j is its caller's
 * (cb__stage_memcpy), which waits for the last chunk to end. */
static void host_chunk(stage_job *j, size_t k) {
  size_t off = k * j->chunk, len = chunk_bytes(j, off);
  stream_copy(j->host + off, j->from + off, len);
  if (atomic_fetch_sub(&j->left, 1) == 1) {
    pthread_mutex_lock(&lock);
    j->ended = 1;
    pthread_cond_broadcast(&host_ended);
    pthread_mutex_unlock(&lock);
  }
}

/* The cores stagers run on: the process's (its first thread's, not
 * those of the driver thread that asks, which StarPU may have bound to
 * one), but those of the runtime's OpenCL driver threads when others are
 * left: a stager that takes a driver's core stops it from feeding its
 * device (kernels of 30 us took 300 us while 16 stagers copied). Set
 * anew for each runtime (the drivers may move); stagers take it on when
 * they next wake (lock). */
static cpu_set_t stager_cores;
static int cores_epoch;       /* 0: none chosen yet */

static void choose_cores(void) {
  cpu_set_t set;
  if (sched_getaffinity(getpid(), sizeof set, &set) != 0)
    return;
  cpu_set_t left = set;
  int ids[STARPU_NMAXWORKERS];
  int n = starpu_worker_get_ids_by_type(STARPU_OPENCL_WORKER, ids,
                                        STARPU_NMAXWORKERS);
  for (int i = 0; i < n; i++) {
    int bind = starpu_worker_get_bindid(ids[i]);
    int os = bind >= 0 ? starpu_get_pu_os_index((unsigned)bind) : -1;
    if (os >= 0 && os < CPU_SETSIZE)
      CPU_CLR(os, &left);
  }
  stager_cores = CPU_COUNT(&left) >= 2 ? left : set;
  cores_epoch++;
}

/* Puts the calling stager on the cores chosen last (lock). */
static void take_cores(int *epoch) {
  if (*epoch == cores_epoch)
    return;
  *epoch = cores_epoch;
  pthread_setaffinity_np(pthread_self(), sizeof stager_cores, &stager_cores);
}

/* The first copy in the queue that a stager can take work of now, prev
 * getting the one before it: a copy whose next chunk needs a buffer
 * waits until its device frees one, and later copies go first (lock). */
static stage_job *runnable(stage_job **prev) {
  *prev = NULL;
  for (stage_job *j = jobs_head; j; *prev = j, j = j->next_job)
    if (j->from || j->piece > 0 || devs[j->devid].nfree > 0)
      return j;
  return NULL;
}

static void *stager(void *unused) {
  (void)unused;
  pthread_setname_np(pthread_self(), "cb-stager");
  int epoch = 0;
  pthread_mutex_lock(&lock);
  for (;;) {
    stage_job *prev, *j;
    while (!(j = runnable(&prev)))
      pthread_cond_wait(&work, &lock);
    take_cores(&epoch);
    size_t k = j->next, p = j->piece;
    int b = -1;
    if (!j->from) {
      /* A chunk takes its buffer (a write's, with its first piece). */
      stage_dev *s = &devs[j->devid];
      if (p == 0)
        j->buf = s->free_idx[--s->nfree];
      b = j->buf;
    }
    if (j->to_device) {
      int np = pieces(j, k);
      if (p == 0)
        atomic_store(&devs[j->devid].bufs[b].pieces, np);
      if (++j->piece == (size_t)np) {
        j->piece = 0;
        j->next++;
      }
    } else {
      j->next++;
    }
    if (j->next == j->nchunks) { /* all taken: out of the queue */
      if (prev)
        prev->next_job = j->next_job;
      else
        jobs_head = j->next_job;
      if (jobs_tail == j)
        jobs_tail = prev;
    }
    pthread_mutex_unlock(&lock);
    if (j->from)
      host_chunk(j, k);
    else if (j->to_device)
      write_piece(j, k, p, b); /* may free j */
    else
      send_chunk(j, k, b); /* a read; may free j */
    pthread_mutex_lock(&lock);
  }
  return NULL;
}

/* Starts the stagers once; the caller holds lock. */
static int start_stagers(void) {
  if (nstagers)
    return 0;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  cpu_set_t set;
  int have_set = sched_getaffinity(getpid(), sizeof set, &set) == 0;
  if (have_set)
    cores = CPU_COUNT(&set);
  if (cores_epoch)
    cores = CPU_COUNT(&stager_cores);
  /* Three quarters of the cores they may take: memory copies fill the
   * memory's bandwidth before every core copies, and a stager that has
   * to share its core with the completer, the caller or a CPU worker
   * holds back the whole copy, which ends with its last chunk (on a
   * 16-core H200 host, uploads of 256 MiB ran at 45 GB/s with 8 or 11
   * stagers in most runs, at 35 GB/s in the median one with 15). */
  int want = (int)(cores * 3 / 4);
  want = want < 2 ? 2 : want > CB__STAGERS ? CB__STAGERS : want;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (have_set)
    pthread_attr_setaffinity_np(&attr, sizeof set, &set);
  pthread_t t;
  /* Writes end in the completer: without it, no stager. */
  if (pthread_create(&t, &attr, completer, NULL) == 0)
    for (int i = 0; i < want; i++)
      if (pthread_create(&t, &attr, stager, NULL) == 0)
        nstagers++;
  pthread_attr_destroy(&attr);
  return nstagers ? 0 : -1;
}

/* Queues j (the lock is held). */
static void enqueue_job(stage_job *j) {
  if (jobs_tail)
    jobs_tail->next_job = j;
  else
    jobs_head = j;
  jobs_tail = j;
  pthread_cond_broadcast(&work);
}

/* Starts a staged copy between host and mem, a buffer of node's device;
 * see cb__stage_write and cb__stage_read. */
static int stage(unsigned node, int to_device, cl_mem mem, size_t mem_off,
                 void *host, size_t bytes, cb_array *owner, cl_event *done) {
  int devid = starpu_memory_node_get_devid(node);
  int device = cb__node_device(node);
  if (devid < 0 || devid >= STARPU_MAXOPENCLDEVS || device < 0 || !bytes)
    return -1;
  pthread_mutex_lock(&lock);
  /* Called on a driver thread: the runtime is up. */
  int fresh = devs[devid].ready == 0;
  if (fresh)
    choose_cores();
  int ok = start_stagers() == 0;
  if (ok && fresh) {
    devs[devid].device = device;
    make_device(devid);
    cb__hook_add(CB__HOOK_RELEASE, release_devices);
  }
  ok = ok && devs[devid].ready == 1;
  pthread_mutex_unlock(&lock);
  if (!ok)
    return -1;
  cl_context ctx;
  starpu_opencl_get_context((unsigned)devid, &ctx);
  cl_int st;
  cl_event ev = clCreateUserEvent(ctx, &st);
  stage_job *j = st == CL_SUCCESS ? calloc(1, sizeof *j) : NULL;
  if (!j) {
    if (st == CL_SUCCESS)
      clReleaseEvent(ev);
    return -1;
  }
  clRetainMemObject(mem);
  clRetainEvent(ev); /* one for StarPU, one for the last chunk */
  *j = (stage_job){.devid = devid, .device = device,
                   .to_device = to_device, .mem = mem, .mem_off = mem_off,
                   .bytes = bytes, .host = host, .owner = owner,
                   .done = ev};
  atomic_init(&j->status, CL_SUCCESS);
  pthread_mutex_lock(&lock);
  cut(j);
  enqueue_job(j);
  pthread_mutex_unlock(&lock);
  *done = ev;
  return 0;
}

int cb__stage_memcpy(void *dst, const void *src, size_t bytes) {
  stage_job j = {.host = dst, .from = src, .bytes = bytes};
  if (!bytes)
    return 0;
  pthread_mutex_lock(&lock);
  if (start_stagers()) {
    pthread_mutex_unlock(&lock);
    return -1;
  }
  cut(&j);
  enqueue_job(&j);
  while (!j.ended)
    pthread_cond_wait(&host_ended, &lock);
  pthread_mutex_unlock(&lock);
  return 0;
}

int cb__stage_write(unsigned node, cl_mem dst, size_t dst_off,
                    const void *src, size_t bytes, cl_event *done) {
  return stage(node, 1, dst, dst_off, (void *)src, bytes, NULL, done);
}

int cb__stage_read(unsigned node, cl_mem src, size_t src_off, void *dst,
                   size_t bytes, cb_array *owner, cl_event *done) {
  return stage(node, 0, src, src_off, dst, bytes, owner, done);
}
