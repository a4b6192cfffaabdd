/*
 * The additions of bench/arrays as plain C loops over OpenMP threads: what
 * the memory gives views when nothing else is in the way.
 *
 *     c_loops N THREADS REPS
 *
 * x and y hold N float32 as (N / 1024, 1024); xh and yh, contiguous, the
 * shape of x[:, ::2]. Prints, as JSON, the median seconds of each
 * addition (after one warm-up), keyed by the names run.py gives them. The
 * output is written into memory touched beforehand, as a pooled buffer
 * would be.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <omp.h>

#define COLS 1024
#define HALF (COLS / 2)

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef struct data {
  long rows;
  float *x, *y, *xh, *yh, *row, *out;
} data;

static void add_half(const data *d) {
#pragma omp parallel for schedule(static)
  for (long i = 0; i < d->rows * HALF; i++)
    d->out[i] = d->xh[i] + d->yh[i];
}

static void add_strided(const data *d) {
#pragma omp parallel for schedule(static)
  for (long r = 0; r < d->rows; r++)
    for (long c = 0; c < HALF; c++)
      d->out[r * HALF + c] = d->x[r * COLS + 2 * c] + d->y[r * COLS + 2 * c];
}

static void add_rows(const data *d) {
#pragma omp parallel for schedule(static)
  for (long r = 0; r < d->rows; r++)
    for (long c = 0; c < HALF; c++)
      d->out[r * HALF + c] = d->x[r * COLS + c] + d->y[r * COLS + c];
}

static void add_full(const data *d) {
#pragma omp parallel for schedule(static)
  for (long i = 0; i < d->rows * COLS; i++)
    d->out[i] = d->x[i] + d->y[i];
}

static void add_broadcast(const data *d) {
#pragma omp parallel for schedule(static)
  for (long r = 0; r < d->rows; r++)
    for (long c = 0; c < COLS; c++)
      d->out[r * COLS + c] = d->x[r * COLS + c] + d->row[c];
}

/* Fills n floats on the threads that will read them (first touch). */
static float *filled(long n) {
  float *p = malloc((size_t)n * sizeof *p);
  if (!p)
    return NULL;
#pragma omp parallel for schedule(static)
  for (long i = 0; i < n; i++)
    p[i] = (float)(i % 1000) * 0.001f;
  return p;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: c_loops N THREADS REPS\n");
    return 2;
  }
  long n = atol(argv[1]);
  int threads = atoi(argv[2]), reps = atoi(argv[3]);
  if (n < COLS || threads < 1 || reps < 1 || reps > 100) {
    fprintf(stderr, "c_loops: N >= %d, THREADS >= 1, 1 <= REPS <= 100\n",
            COLS);
    return 2;
  }
  omp_set_num_threads(threads);
  data d = {n / COLS, filled(n), filled(n), filled(n / 2), filled(n / 2),
            filled(COLS), filled(n)};
  if (!d.x || !d.y || !d.xh || !d.yh || !d.row || !d.out)
    return 1;
  static const struct {
    const char *name;
    void (*fn)(const data *);
  } ops[] = {{"add contiguous, half", add_half},
             {"add strided", add_strided},
             {"add strided rows", add_rows},
             {"add contiguous", add_full},
             {"add broadcast", add_broadcast}};
  int nops = (int)(sizeof ops / sizeof ops[0]);
  printf("{");
  for (int k = 0; k < nops; k++) {
    double t[100];
    ops[k].fn(&d);
    for (int i = 0; i < reps; i++) {
      double t0 = now();
      ops[k].fn(&d);
      t[i] = now() - t0;
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp);
    printf("%s\"%s\": %.9f", k ? ", " : "", ops[k].name, t[reps / 2]);
  }
  printf("}\n");
  return 0;
}
