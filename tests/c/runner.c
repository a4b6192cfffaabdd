/*
 * The test runner. TEST_LIST_FILE (test_list.h unless the build says
 * otherwise) lists the tests with an X-macro, TEST_LIST(X); this program
 * runs them:
 *
 *   runner              every test, one after the other
 *   runner NAME...      the tests named
 *   runner --list       prints the names, one a line
 *   runner --no-fork NAME  runs one test in this process (for a debugger)
 *
 * Each test runs in a child process of its own: a crash or a hang fails
 * that test, with the signal that ended it, and every test starts without
 * a runtime. A child stops the runtime when its test returns, so a test
 * that hangs in shutdown fails too. It has CAMBRIAN_TEST_TIMEOUT seconds
 * (290 by default, within ctest's 300: with pocl's kernel cache empty,
 * as on a new machine, the whole operation table's kernels are built
 * first, which took 130 s on two cores). Exit status: 0 when
 * every test run passed or was skipped, TEST_SKIPPED when the only test
 * run was skipped, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

#ifndef TEST_LIST_FILE
#define TEST_LIST_FILE "test_list.h"
#endif
#include TEST_LIST_FILE

#define TEST_DECLARE(name) TEST(name);
TEST_LIST(TEST_DECLARE)
#undef TEST_DECLARE

typedef struct test_entry {
  const char *name;
  void (*fn)(void);
} test_entry;

static const test_entry tests[] = {
#define TEST_ENTRY(name) {#name, test_##name},
    TEST_LIST(TEST_ENTRY)
#undef TEST_ENTRY
};
enum { NTESTS = sizeof tests / sizeof *tests };

static int failures;

void test_fail(const char *file, int line, const char *what,
               const char *fmt, ...) {
  failures++;
  fprintf(stderr, "%s:%d: check failed: %s", file, line, what);
  if (fmt && *fmt) {
    va_list ap;
    va_start(ap, fmt);
    fputs(": ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
  }
  fputc('\n', stderr);
}

void test_skip(const char *why) {
  printf("skipped: %s\n", why);
  fflush(stdout);
  cb_shutdown();
  _exit(TEST_SKIPPED);
}

const char *test_code_name(int code) {
  switch (code) {
  case 0:
    return "0";
#define TEST_CODE_CASE(name, msg)                                            \
  case CB_##name:                                                            \
    return "CB_" #name;
    CB_ERRNO_MAP(TEST_CODE_CASE)
#undef TEST_CODE_CASE
  default:
    return code > 0 ? "a positive value" : "an unknown code";
  }
}

int test_streq(const char *a, const char *b) {
  return a && b && strcmp(a, b) == 0;
}

int test_contains(const char *s, const char *part) {
  return s && part && strstr(s, part) != NULL;
}

static const test_entry *find(const char *name) {
  for (int i = 0; i < NTESTS; i++)
    if (strcmp(tests[i].name, name) == 0)
      return &tests[i];
  return NULL;
}

/* In the child: runs the test, stops the runtime, exits with the result. */
static void run_here(const test_entry *t) {
  t->fn();
  int rc = cb_shutdown();
  if (rc)
    test_fail(__FILE__, __LINE__, "cb_shutdown() after the test",
              "returned %s", test_code_name(rc));
  fflush(stdout);
  fflush(stderr);
  _exit(failures ? 1 : 0);
}

static double seconds_since(const struct timespec *t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0->tv_sec) +
         (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Runs t in a child; returns 0 (passed), TEST_SKIPPED or 1 (failed). */
static int run_forked(const test_entry *t, int number, int timeout) {
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    printf("not ok %d - %s: fork failed: %s\n", number, t->name,
           strerror(errno));
    return 1;
  }
  if (pid == 0) {
    alarm((unsigned)timeout); /* SIGALRM ends a test that hangs */
    run_here(t);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) {
      printf("not ok %d - %s: waitpid failed: %s\n", number, t->name,
             strerror(errno));
      return 1;
    }
  double secs = seconds_since(&t0);
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    if (sig == SIGALRM)
      printf("not ok %d - %s: timed out after %d s\n", number, t->name,
             timeout);
    else
      printf("not ok %d - %s: killed by signal %d (%s)\n", number, t->name,
             sig, strsignal(sig));
    return 1;
  }
  int code = WEXITSTATUS(status);
  if (code == TEST_SKIPPED) {
    printf("ok %d - %s # SKIP (%.2f s)\n", number, t->name, secs);
    return TEST_SKIPPED;
  }
  if (code) {
    printf("not ok %d - %s: failed (%.2f s)\n", number, t->name, secs);
    return 1;
  }
  printf("ok %d - %s (%.2f s)\n", number, t->name, secs);
  return 0;
}

static void usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s [--list | --no-fork NAME | NAME...]\n"
          "Runs the named tests (all without a name), each in a child "
          "process.\n",
          argv0);
}

int main(int argc, char **argv) {
  /* Tests keep StarPU quiet; the user's settings win. */
  setenv("STARPU_SILENT", "1", 0);
  const char *tv = getenv("CAMBRIAN_TEST_TIMEOUT");
  int timeout = tv && atoi(tv) > 0 ? atoi(tv) : 290;

  if (argc == 2 && strcmp(argv[1], "--list") == 0) {
    for (int i = 0; i < NTESTS; i++)
      printf("%s\n", tests[i].name);
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "--no-fork") == 0) {
    const test_entry *t = find(argv[2]);
    if (!t) {
      fprintf(stderr, "no test named %s\n", argv[2]);
      return 1;
    }
    run_here(t);
  }
  for (int i = 1; i < argc; i++)
    if (argv[i][0] == '-' || !find(argv[i])) {
      if (argv[i][0] != '-')
        fprintf(stderr, "no test named %s\n", argv[i]);
      usage(argv[0]);
      return 1;
    }

  int nrun = argc > 1 ? argc - 1 : NTESTS;
  int passed = 0, skipped = 0, failed = 0;
  printf("1..%d\n", nrun);
  for (int i = 0; i < nrun; i++) {
    const test_entry *t = argc > 1 ? find(argv[i + 1]) : &tests[i];
    int rc = run_forked(t, i + 1, timeout);
    passed += rc == 0;
    skipped += rc == TEST_SKIPPED;
    failed += rc == 1;
  }
  if (nrun > 1)
    printf("# %d passed, %d skipped, %d failed\n", passed, skipped, failed);
  if (failed)
    return 1;
  return nrun == 1 && skipped ? TEST_SKIPPED : 0;
}
