/*
 * raw_starpu: the cost of one StarPU task, submission to completion, with
 * nothing of cambrian in the way. The reference for bench/overhead/run.py.
 *
 * Each mode submits --ntasks tasks of a codelet whose CPU function does
 * nothing, then starpu_task_wait_for_all(); the time from the first
 * submission to the end of the wait, divided by the number of tasks, is
 * the cost per task. Each mode runs once as a warm-up, then --reps times;
 * the median is reported.
 *
 * Modes:
 *   empty   no buffer.
 *   rw1     one registered vector of 16 float32, STARPU_RW, the same for
 *           every task (so the tasks form one dependency chain).
 *   rwown   one registered vector per task (registered before the clock
 *           starts), STARPU_RW: independent tasks.
 *   mirror  what a cambrian `c = a + b` does per operation: two shared
 *           vectors in STARPU_R, a freshly allocated and registered output
 *           vector in STARPU_W, a malloc'ed cl_arg freed by a completion
 *           callback, and the output unregistered after its task
 *           (starpu_data_unregister_submit; cambrian does it in a helper
 *           thread with starpu_data_unregister_no_coherency).
 *   rrwown  mirror without the per-task registration: two shared vectors
 *           in STARPU_R and an output vector registered before the clock
 *           starts, one per task, in STARPU_W, with the cl_arg and the
 *           callback. mirror - rrwown is the cost of registering and
 *           unregistering a new output per operation.
 *
 * Usage: raw_starpu [--ntasks N] [--ncpus K] [--nopencl M] [--sched NAME]
 *                   [--reps R] [--model] [--modes a,b,...]
 * A bare first number is taken as --ncpus. Prints one JSON object per mode
 * on stdout.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <starpu.h>

#define VEC 16

static void noop_cpu(void *buffers[], void *cl_arg) {
  (void)buffers;
  (void)cl_arg;
}

static struct starpu_perfmodel model = {.type = STARPU_HISTORY_BASED,
                                        .symbol = "raw_starpu_noop"};

static struct starpu_codelet cl = {
    .where = STARPU_CPU,
    .cpu_funcs = {noop_cpu},
    .nbuffers = STARPU_VARIABLE_NBUFFERS,
    .name = "noop",
};

/* The size of cambrian's per-task context (cb__task), roughly. */
typedef struct ctx {
  char pad[168];
} ctx;

static void free_ctx(void *arg) { free(arg); }

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void submit_or_die(struct starpu_task *t) {
  int rc = starpu_task_submit(t);
  if (rc) {
    fprintf(stderr, "starpu_task_submit failed: %d\n", rc);
    exit(1);
  }
}

/* One timed run of a mode; returns seconds per task. */
static double run_mode(const char *mode, int ntasks) {
  float *shared[2];
  starpu_data_handle_t sh[2];
  for (int i = 0; i < 2; i++) {
    shared[i] = aligned_alloc(64, 64);
    memset(shared[i], 0, 64);
    starpu_vector_data_register(&sh[i], STARPU_MAIN_RAM,
                                (uintptr_t)shared[i], VEC, sizeof(float));
  }
  float **bufs = NULL;
  starpu_data_handle_t *hs = NULL;
  int mirror = strcmp(mode, "mirror") == 0;
  int rrw = strcmp(mode, "rrwown") == 0;
  int own = strcmp(mode, "rwown") == 0 || rrw;
  if (own || mirror) {
    bufs = calloc((size_t)ntasks, sizeof *bufs);
    hs = calloc((size_t)ntasks, sizeof *hs);
  }
  if (own) {
    for (int i = 0; i < ntasks; i++) {
      bufs[i] = aligned_alloc(64, 64);
      starpu_vector_data_register(&hs[i], STARPU_MAIN_RAM,
                                  (uintptr_t)bufs[i], VEC, sizeof(float));
    }
  }

  double t0 = now();
  for (int i = 0; i < ntasks; i++) {
    struct starpu_task *t = starpu_task_create();
    t->cl = &cl;
    if (strcmp(mode, "empty") == 0) {
      t->nbuffers = 0;
    } else if (strcmp(mode, "rw1") == 0) {
      t->nbuffers = 1;
      t->handles[0] = sh[0];
      t->modes[0] = STARPU_RW;
    } else if (own && !rrw) {
      t->nbuffers = 1;
      t->handles[0] = hs[i];
      t->modes[0] = STARPU_RW;
    } else { /* mirror, rrwown */
      if (mirror) {
        bufs[i] = aligned_alloc(64, 64);
        starpu_vector_data_register(&hs[i], STARPU_MAIN_RAM,
                                    (uintptr_t)bufs[i], VEC, sizeof(float));
      }
      ctx *c = malloc(sizeof *c);
      t->nbuffers = 3;
      t->handles[0] = sh[0];
      t->modes[0] = STARPU_R;
      t->handles[1] = sh[1];
      t->modes[1] = STARPU_R;
      t->handles[2] = hs[i];
      t->modes[2] = STARPU_W;
      t->cl_arg = c;
      t->cl_arg_size = sizeof *c;
      t->callback_func = free_ctx;
      t->callback_arg = c;
    }
    submit_or_die(t);
    if (mirror)
      starpu_data_unregister_submit(hs[i]);
  }
  starpu_task_wait_for_all();
  double dt = now() - t0;

  if (own)
    for (int i = 0; i < ntasks; i++)
      starpu_data_unregister(hs[i]);
  if (bufs) {
    for (int i = 0; i < ntasks; i++)
      free(bufs[i]);
    free(bufs);
    free(hs);
  }
  for (int i = 0; i < 2; i++) {
    starpu_data_unregister(sh[i]);
    free(shared[i]);
  }
  return dt / ntasks;
}

int main(int argc, char **argv) {
  int ntasks = 20000, ncpus = 1, nopencl = 0, reps = 5, use_model = 0;
  const char *sched = "eager";
  char modes[256] = "empty,rw1,rwown,rrwown,mirror";
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--ntasks") && v) {
      ntasks = atoi(v);
      i++;
    } else if (!strcmp(a, "--ncpus") && v) {
      ncpus = atoi(v);
      i++;
    } else if (!strcmp(a, "--nopencl") && v) {
      nopencl = atoi(v);
      i++;
    } else if (!strcmp(a, "--sched") && v) {
      sched = v;
      i++;
    } else if (!strcmp(a, "--reps") && v) {
      reps = atoi(v);
      i++;
    } else if (!strcmp(a, "--modes") && v) {
      snprintf(modes, sizeof modes, "%s", v);
      i++;
    } else if (!strcmp(a, "--model")) {
      use_model = 1;
    } else if (i == 1 && a[0] >= '0' && a[0] <= '9') {
      ncpus = atoi(a);
    } else {
      fprintf(stderr,
              "usage: %s [--ntasks N] [--ncpus K] [--nopencl M] "
              "[--sched NAME] [--reps R] [--model] [--modes a,b]\n",
              argv[0]);
      return 2;
    }
  }
  if (ntasks < 1 || reps < 1 || reps > 101) {
    fprintf(stderr, "bad --ntasks or --reps\n");
    return 2;
  }
  setenv("STARPU_SILENT", "1", 0);
  if (nopencl > 0)
    setenv("STARPU_OPENCL_ON_CPUS", "1", 0);
  if (use_model)
    cl.model = &model;

  struct starpu_conf conf;
  starpu_conf_init(&conf);
  conf.precedence_over_environment_variables = 1;
  conf.catch_signals = 0;
  conf.ncpus = ncpus;
  conf.nopencl = nopencl;
  conf.ncuda = 0;
  conf.nmic = 0;
  conf.nmpi_ms = 0;
  conf.sched_policy_name = sched;
  int rc = starpu_init(&conf);
  if (rc) {
    fprintf(stderr, "starpu_init failed: %d\n", rc);
    return 1;
  }
  unsigned got_cpus = starpu_cpu_worker_get_count();
  unsigned got_ocl = starpu_opencl_worker_get_count();

  double samples[101];
  char *save = NULL;
  for (char *m = strtok_r(modes, ",", &save); m;
       m = strtok_r(NULL, ",", &save)) {
    if (strcmp(m, "empty") && strcmp(m, "rw1") && strcmp(m, "rwown") &&
        strcmp(m, "rrwown") && strcmp(m, "mirror")) {
      fprintf(stderr, "unknown mode %s\n", m);
      starpu_shutdown();
      return 2;
    }
    run_mode(m, ntasks < 2000 ? ntasks : 2000); /* warm-up */
    for (int r = 0; r < reps; r++)
      samples[r] = run_mode(m, ntasks);
    qsort(samples, (size_t)reps, sizeof *samples, cmp_double);
    double med = reps % 2 ? samples[reps / 2]
                          : 0.5 * (samples[reps / 2 - 1] + samples[reps / 2]);
    printf("{\"mode\": \"%s\", \"us_per_task\": %.4f, \"min_us\": %.4f, "
           "\"max_us\": %.4f, \"ntasks\": %d, \"reps\": %d, \"ncpus\": %u, "
           "\"nopencl\": %u, \"sched\": \"%s\", \"model\": %d}\n",
           m, med * 1e6, samples[0] * 1e6, samples[reps - 1] * 1e6, ntasks,
           reps, got_cpus, got_ocl, sched, use_model);
    fflush(stdout);
  }
  starpu_shutdown();
  return 0;
}
