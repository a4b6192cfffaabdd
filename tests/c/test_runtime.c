/* The runtime: configuration, start, stop and restart, its information,
 * waiting for work, and its refusal to run in a forked child. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

static void clear_env(void) {
  unsetenv("CAMBRIAN_NCPUS");
  unsetenv("CAMBRIAN_DEVICES");
  unsetenv("CAMBRIAN_SCHED");
  unsetenv("CAMBRIAN_TILE_SIZE");
}

TEST(config_from_env_fills_unset_fields) {
  clear_env();
  setenv("CAMBRIAN_NCPUS", "3", 1);
  setenv("CAMBRIAN_DEVICES", "opencl:cpu", 1);
  setenv("CAMBRIAN_SCHED", "lws", 1);
  setenv("CAMBRIAN_TILE_SIZE", "4096", 1);
  cb_config cfg = {.ncpus = -1};
  cb_config_from_env(&cfg);
  CHECK_INT(cfg.ncpus, ==, 3);
  CHECK_STR(cfg.devices, "opencl:cpu");
  CHECK_STR(cfg.scheduler, "lws");
  CHECK_INT(cfg.tile_elems, ==, 4096);
}

TEST(config_from_env_keeps_set_fields) {
  clear_env();
  setenv("CAMBRIAN_NCPUS", "3", 1);
  setenv("CAMBRIAN_DEVICES", "opencl:cpu", 1);
  setenv("CAMBRIAN_SCHED", "lws", 1);
  setenv("CAMBRIAN_TILE_SIZE", "4096", 1);
  cb_config cfg = {.ncpus = 1, .devices = "none", .scheduler = "eager",
                   .tile_elems = 100};
  cb_config_from_env(&cfg);
  CHECK_INT(cfg.ncpus, ==, 1);
  CHECK_STR(cfg.devices, "none");
  CHECK_STR(cfg.scheduler, "eager");
  CHECK_INT(cfg.tile_elems, ==, 100);
}

TEST(config_from_env_refuses_bad_values) {
  clear_env();
  cb_config cfg = {.ncpus = -1};
  CHECK_OK(cb_config_from_env(&cfg));
  CHECK_INT(cfg.ncpus, ==, -1);
  CHECK(cfg.devices == NULL);
  CHECK(cfg.scheduler == NULL);
  CHECK_INT(cfg.tile_elems, ==, 0);
  static const char *const bad[] = {"abc", "2x", "-2", "-1", "1.5",
                                    "99999999999999999999"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    setenv("CAMBRIAN_NCPUS", bad[i], 1);
    cb_config c = {.ncpus = -1};
    CHECK_RC(cb_config_from_env(&c), CB_EINVAL);
    char want[64];
    snprintf(want, sizeof want, "CAMBRIAN_NCPUS='%s'", bad[i]);
    CHECK_HAS(cb_last_error(), want);
    CHECK_HAS(cb_last_error(), "0 or more");
  }
  /* Blanks around a number are fine; an empty variable is unset. */
  setenv("CAMBRIAN_NCPUS", " 3 ", 1);
  cb_config c = {.ncpus = -1};
  CHECK_OK(cb_config_from_env(&c));
  CHECK_INT(c.ncpus, ==, 3);
  setenv("CAMBRIAN_NCPUS", "", 1);
  c = (cb_config){.ncpus = -1};
  CHECK_OK(cb_config_from_env(&c));
  CHECK_INT(c.ncpus, ==, -1);
  unsetenv("CAMBRIAN_NCPUS");
  static const char *const bad_tiles[] = {"-1", "x", "0", "12k"};
  for (size_t i = 0; i < sizeof bad_tiles / sizeof *bad_tiles; i++) {
    setenv("CAMBRIAN_TILE_SIZE", bad_tiles[i], 1);
    c = (cb_config){.ncpus = -1};
    CHECK_RC(cb_config_from_env(&c), CB_EINVAL);
    char want[64];
    snprintf(want, sizeof want, "CAMBRIAN_TILE_SIZE='%s'", bad_tiles[i]);
    CHECK_HAS(cb_last_error(), want);
  }
  unsetenv("CAMBRIAN_TILE_SIZE");
  setenv("CAMBRIAN_SCHED", "nonsense", 1);
  c = (cb_config){.ncpus = -1};
  CHECK_RC(cb_config_from_env(&c), CB_EINVAL);
  CHECK_HAS(cb_last_error(), "unknown scheduler in CAMBRIAN_SCHED "
                             "'nonsense'");
  CHECK_HAS(cb_last_error(), "dmda");
  CHECK_HAS(cb_last_error(), "eager");
  CHECK(c.scheduler == NULL);
  /* A field set already is not read from the environment. */
  c = (cb_config){.ncpus = -1, .scheduler = "lws"};
  CHECK_OK(cb_config_from_env(&c));
  CHECK_STR(c.scheduler, "lws");
}

TEST(init_refuses_bad_environment) {
  clear_env();
  setenv("CAMBRIAN_NCPUS", "abc", 1);
  CHECK_RC(cb_init(NULL), CB_EINVAL);
  CHECK_HAS(cb_last_error(), "CAMBRIAN_NCPUS='abc'");
  CHECK(!cb_is_running());
  /* Every call that starts the runtime says so. */
  CHECK_RC(cb_device_count(), CB_EINVAL);
  CHECK_HAS(cb_last_error(), "CAMBRIAN_NCPUS='abc'");
  unsetenv("CAMBRIAN_NCPUS");
  setenv("CAMBRIAN_TILE_SIZE", "-1", 1);
  CHECK_RC(cb_init(NULL), CB_EINVAL);
  CHECK_HAS(cb_last_error(), "CAMBRIAN_TILE_SIZE='-1'");
  unsetenv("CAMBRIAN_TILE_SIZE");
  setenv("CAMBRIAN_SCHED", "nonsense", 1);
  CHECK_RC(cb_init(NULL), CB_EINVAL);
  CHECK_HAS(cb_last_error(), "CAMBRIAN_SCHED 'nonsense'");
  CHECK(!cb_is_running());
  unsetenv("CAMBRIAN_SCHED");
  setenv("CAMBRIAN_DEVICES", "none", 1);
  CHECK_OK(cb_init(NULL));
  CHECK(cb_is_running());
}

TEST(init_refuses_unknown_scheduler) {
  cb_config cfg = {.ncpus = 1, .devices = "none", .scheduler = "nonsense"};
  CHECK_RC(cb_init(&cfg), CB_EINVAL);
  CHECK_HAS(cb_last_error(), "unknown scheduler 'nonsense'");
  CHECK_HAS(cb_last_error(), "lws");
  CHECK_HAS(cb_last_error(), "modular-{");
  CHECK(!cb_is_running());
  /* A name too long for any policy is refused, not cut to one; the
   * message shows its start, marked as cut. */
  char name[200];
  memset(name, 'e', sizeof name - 1);
  name[sizeof name - 1] = '\0';
  memcpy(name, "eager", 5);
  cfg.scheduler = name;
  CHECK_RC(cb_init(&cfg), CB_EINVAL);
  CHECK_HAS(cb_last_error(), "...'; StarPU's policies: ");
  CHECK(!cb_is_running());
  /* Refused while the runtime runs too. */
  cfg.scheduler = "eager";
  ASSERT_OK(cb_init(&cfg));
  cfg.scheduler = "nonsense";
  CHECK_RC(cb_init(&cfg), CB_EINVAL);
  CHECK_HAS(cb_last_error(), "unknown scheduler 'nonsense'");
}

TEST(init_refuses_filter_matching_nothing) {
  cb_config cfg = {.ncpus = 1, .devices = "gpu"};
  int rc = cb_init(&cfg);
  if (rc == 0)
    SKIP("this machine has a GPU");
  CHECK_RC(rc, CB_ENODEV);
  CHECK_HAS(cb_last_error(), "no device matches the devices filter 'gpu'; "
                             "devices present: cpu:cpu:0 (CPU workers)");
  CHECK(!cb_is_running());
  /* Without CPU workers, a filter that names only them matches nothing. */
  cfg = (cb_config){.ncpus = 0, .devices = "cpu:cpu"};
  CHECK_RC(cb_init(&cfg), CB_ENODEV);
  CHECK_HAS(cb_last_error(), "devices present: ");
  CHECK(strstr(cb_last_error(), "cpu:cpu:0") == NULL, "%s",
        cb_last_error());
  clear_env();
  setenv("CAMBRIAN_DEVICES", "gpu", 1);
  CHECK_RC(cb_init(NULL), CB_ENODEV);
  CHECK_HAS(cb_last_error(), "the CAMBRIAN_DEVICES filter 'gpu'");
  CHECK(!cb_is_running());
  /* A filter that matches the CPU workers' device only is fine. */
  cfg = (cb_config){.ncpus = 1, .devices = "cpu:cpu"};
  CHECK_OK(cb_init(&cfg));
  cb_runtime_info info;
  ASSERT_OK(cb_runtime_info_get(&info));
  CHECK_INT(info.nopencl, ==, 0);
}

TEST(init_while_running_refuses_other_settings) {
  cb_config cfg = {.ncpus = 1, .devices = "none", .scheduler = "eager",
                   .tile_elems = 70000};
  ASSERT_OK(cb_init(&cfg));
  unsigned gen = cb_generation();
  /* The same settings, or none, are fine. */
  CHECK_OK(cb_init(&cfg));
  CHECK_OK(cb_init(NULL));
  cb_config none = {.ncpus = -1};
  CHECK_OK(cb_init(&none));
  cb_config other = cfg;
  other.ncpus = 2;
  CHECK_RC(cb_init(&other), CB_ESTATE);
  CHECK_HAS(cb_last_error(), "the runtime runs already, with other "
                             "settings (ncpus is 1, not 2)");
  CHECK_HAS(cb_last_error(), "shut it down first");
  other = (cb_config){.ncpus = -1, .scheduler = "lws", .tile_elems = 5};
  CHECK_RC(cb_init(&other), CB_ESTATE);
  CHECK_HAS(cb_last_error(), "the scheduler is 'eager', not 'lws'; the "
                             "tile size is 70000, not 5");
  other = (cb_config){.ncpus = -1, .devices = "opencl"};
  int rc = cb_init(&other);
  if (rc != CB_ENODEV) { /* an OpenCL device is present */
    CHECK_RC(rc, CB_ESTATE);
    CHECK_HAS(cb_last_error(), "it drives 0 OpenCL devices, not the ");
    CHECK_HAS(cb_last_error(), "that 'opencl' chooses");
  }
  /* The runtime went on with its own. */
  CHECK_INT(cb_generation(), ==, gen);
  cb_runtime_info info;
  ASSERT_OK(cb_runtime_info_get(&info));
  CHECK_INT(info.ncpus, ==, 1);
  CHECK_STR(info.scheduler, "eager");
}

TEST(init_and_shutdown) {
  CHECK(!cb_is_running());
  unsigned gen = cb_generation();
  ASSERT_OK(test_start(1, "none"));
  CHECK(cb_is_running());
  CHECK_INT(cb_generation(), ==, gen + 1);
  CHECK_OK(cb_shutdown());
  CHECK(!cb_is_running());
  CHECK_INT(cb_generation(), ==, gen + 1);
  /* Stopping a stopped runtime does nothing. */
  CHECK_OK(cb_shutdown());
  CHECK(!cb_is_running());
}

/* StarPU's messages reach the handler instead of stderr: a start with a
 * fresh cache calibrates the bus and says so, when StarPU is not
 * silenced. */
static atomic_int nmessages;
static char first_message[256];

static void on_message(const char *message, void *arg) {
  if (atomic_fetch_add(&nmessages, 1) == 0)
    snprintf(first_message, sizeof first_message, "%s%s", (char *)arg,
             message);
}

TEST(messages_reach_the_handler) {
  char dir[] = "/tmp/cb-messages-XXXXXX";
  ASSERT(mkdtemp(dir) != NULL);
  setenv("XDG_CACHE_HOME", dir, 1);
  setenv("CAMBRIAN_VERBOSE", "1", 1);
  unsetenv("STARPU_SILENT"); /* the tests' own setting */
  int rc = cb_set_message_handler(on_message, "got: ");
  if (rc == CB_ESTARPU) { /* a StarPU that prints them itself */
    CHECK_HAS(cb_last_error(), "stderr");
    CHECK_OK(cb_set_message_handler(NULL, NULL));
    CHECK_INT(test_remove_tree(dir), ==, 0);
    return;
  }
  CHECK_OK(rc);
  ASSERT_OK(test_start(1, "none"));
  CHECK(atomic_load(&nmessages) > 0);
  CHECK_HAS(first_message, "got: [starpu]");
  /* Back to stderr: the handler hears nothing more. */
  CHECK_OK(cb_set_message_handler(NULL, NULL));
  int n = atomic_load(&nmessages);
  CHECK_OK(cb_shutdown());
  setenv("XDG_CACHE_HOME", dir, 1);
  ASSERT_OK(test_start(1, "none"));
  CHECK_OK(cb_shutdown());
  CHECK_INT(atomic_load(&nmessages), ==, n);
  CHECK_INT(test_remove_tree(dir), ==, 0);
}

TEST(init_is_idempotent) {
  ASSERT_OK(test_start(1, "none"));
  unsigned gen = cb_generation();
  /* A running runtime keeps its configuration. */
  CHECK_OK(test_start(1, "none"));
  CHECK_RC(test_start(2, "none"), CB_ESTATE);
  CHECK_OK(cb_init(NULL));
  CHECK_INT(cb_generation(), ==, gen);
  cb_runtime_info info;
  CHECK_OK(cb_runtime_info_get(&info));
  CHECK_INT(info.ncpus, ==, 1);
}

TEST(init_uses_config) {
  cb_config cfg = {.ncpus = 2, .devices = "none", .scheduler = "lws",
                   .tile_elems = 70000};
  ASSERT_OK(cb_init(&cfg));
  cb_runtime_info info;
  ASSERT_OK(cb_runtime_info_get(&info));
  CHECK_INT(info.ncpus, ==, 2);
  CHECK_INT(info.nopencl, ==, 0);
  CHECK_STR(info.scheduler, "lws");
  CHECK_INT(info.tile_elems, ==, 70000);
  CHECK_INT(info.min_tile_elems, ==, 1 << 16);
  CHECK_INT(info.max_tile_bytes, ==, 64 << 20);
  CHECK_INT(info.ncores, >=, 1);
  CHECK_INT(info.max_cpus, >=, info.ncpus);
  CHECK(strncmp(info.starpu_version, "1.", 2) == 0, "%s",
        info.starpu_version);
  CHECK_INT(cb_worker_count(), ==, 2);
  /* The tile size applies: 140000 elements make two tiles, so a task
   * per tile. */
  CHECK_OK(cb_profiling_set(1));
  cb_array *a;
  int64_t n = 140000;
  ASSERT_OK(cb_full(CB_INT32, 1, &n, (cb_scalar){.i = 3}, -1, &a));
  CHECK_OK(test_wait_writer(a));
  cb_op_stats ops[8];
  int nw, nl, nop;
  CHECK_OK(cb_stats_get(NULL, 0, &nw, NULL, 0, &nl, ops, 8, &nop));
  CHECK_INT(nop, ==, 1);
  CHECK_STR(ops[0].name, "fill");
  CHECK_INT(ops[0].tasks, ==, 2);
  cb_array_unref(a);
}

TEST(init_default_scheduler) {
  ASSERT_OK(test_start(1, "none"));
  cb_runtime_info info;
  ASSERT_OK(cb_runtime_info_get(&info));
  /* Only CPU workers: a plain queue. */
  CHECK_STR(info.scheduler, "eager");
  CHECK_OK(cb_shutdown());
  ASSERT_OK(test_start(1, "opencl"));
  ASSERT_OK(cb_runtime_info_get(&info));
  if (info.nopencl == 0)
    SKIP("no OpenCL device");
  /* Several kinds of worker: performance models choose. */
  CHECK_STR(info.scheduler, "dmda");
}

TEST(init_reads_environment) {
  clear_env();
  setenv("CAMBRIAN_NCPUS", "1", 1);
  setenv("CAMBRIAN_DEVICES", "none", 1);
  setenv("CAMBRIAN_SCHED", "ws", 1);
  ASSERT_OK(cb_init(NULL));
  cb_runtime_info info;
  ASSERT_OK(cb_runtime_info_get(&info));
  CHECK_INT(info.ncpus, ==, 1);
  CHECK_INT(info.nopencl, ==, 0);
  CHECK_STR(info.scheduler, "ws");
}

TEST(init_refuses_bad_filter) {
  cb_config bad = {.ncpus = -1, .devices = "opencl:gpu:zz"};
  CHECK_RC(cb_init(&bad), CB_EINVAL);
  CHECK_HAS(cb_last_error(), "bad devices filter 'opencl:gpu:zz'");
  CHECK(!cb_is_running());
  bad.devices = "cuda";
  CHECK_RC(cb_init(&bad), CB_EINVAL);
  CHECK(!cb_is_running());
  clear_env();
  setenv("CAMBRIAN_DEVICES", "opencl:gpu:zz", 1);
  CHECK_RC(cb_init(NULL), CB_EINVAL);
  CHECK_HAS(cb_last_error(), "bad CAMBRIAN_DEVICES filter 'opencl:gpu:zz'");
  CHECK(!cb_is_running());
}

TEST(init_refuses_no_workers) {
  unsigned gen = cb_generation();
  CHECK_RC(test_start(0, "none"), CB_EINVAL);
  CHECK_HAS(cb_last_error(), "no CPU workers and no OpenCL device");
  CHECK(!cb_is_running());
  CHECK_INT(cb_generation(), ==, gen);
}

TEST(init_refuses_unwritable_cache) {
  setenv("XDG_CACHE_HOME", "/proc/cambrian-no-such-dir", 1);
  CHECK_RC(test_start(1, "none"), CB_ESTARPU);
  CHECK_HAS(cb_last_error(), "cannot create the cache directory");
  CHECK(!cb_is_running());
}

TEST(runtime_info_cache_dir) {
  const char *xdg = getenv("XDG_CACHE_HOME");
  ASSERT(xdg && *xdg, "XDG_CACHE_HOME is not set");
  char want[600];
  snprintf(want, sizeof want, "%s/cambrian", xdg);
  ASSERT_OK(test_start(1, "none"));
  cb_runtime_info info;
  ASSERT_OK(cb_runtime_info_get(&info));
  CHECK_STR(info.cache_dir, want);
  struct stat st;
  CHECK(stat(want, &st) == 0 && S_ISDIR(st.st_mode), "%s", want);
}

TEST(runtime_info_cache_dir_under_home) {
  const char *xdg = getenv("XDG_CACHE_HOME");
  ASSERT(xdg && *xdg, "XDG_CACHE_HOME is not set");
  char home[600], want[700];
  snprintf(home, sizeof home, "%s/home", xdg);
  snprintf(want, sizeof want, "%s/.cache/cambrian", home);
  setenv("HOME", home, 1);
  unsetenv("XDG_CACHE_HOME");
  ASSERT_OK(test_start(1, "none"));
  cb_runtime_info info;
  ASSERT_OK(cb_runtime_info_get(&info));
  CHECK_STR(info.cache_dir, want);
}

TEST(runtime_info_starts_runtime) {
  setenv("CAMBRIAN_DEVICES", "none", 1);
  CHECK(!cb_is_running());
  cb_runtime_info info;
  CHECK_OK(cb_runtime_info_get(&info));
  CHECK(cb_is_running());
  CHECK_INT(info.ncpus, >=, 1);
  /* What the StarPU this was built with can do. */
#ifdef CB_HAVE_STARPU_TASK_EVENT
  CHECK_INT(info.opencl_async, ==, 1);
#else
  CHECK_INT(info.opencl_async, ==, 0);
#endif
#ifdef CB_HAVE_STARPU_MESSAGE_FUNCTION
  CHECK_INT(info.starpu_messages, ==, 1);
#else
  CHECK_INT(info.starpu_messages, ==, 0);
#endif
}

TEST(restart_keeps_arrays) {
  ASSERT_OK(test_start(1, "none"));
  unsigned gen = cb_generation();
  int64_t n = 1000;
  cb_array *a;
  ASSERT_OK(cb_full(CB_FLOAT64, 1, &n, (cb_scalar){.f = 2.5}, 0, &a));
  /* Shutdown waits for the task and brings the data home. */
  CHECK_OK(cb_shutdown());
  CHECK(!cb_is_running());
  CHECK_OK(test_sync(a));
  CHECK_DBL(test_get(a, 999), ==, 2.5);
  /* The array serves the next runtime. */
  ASSERT_OK(test_start(1, "none"));
  CHECK_INT(cb_generation(), ==, gen + 1);
  cb_operand x[2] = {test_arg(a, -1), test_weak_float(1.0)};
  cb_array *b;
  int dev;
  ASSERT_OK(cb_ewise(CB_OP_add, x, 2, -1, -1, &b, &dev));
  CHECK_OK(test_sync(b));
  CHECK_DBL(test_get(b, 0), ==, 3.5);
  CHECK_DBL(test_get(b, 999), ==, 3.5);
  cb_array_unref(a);
  cb_array_unref(b);
}

static volatile int go, ran;

/* Waits until the test lets it go (10 s at most), then says it ran. */
static int wait_for_go(void *arg, void **ptrs, cb_task_ctx *ctx) {
  (void)arg, (void)ptrs, (void)ctx;
  test_wait_flag(&go, 10000);
  __atomic_store_n(&ran, 1, __ATOMIC_RELEASE);
  return 0;
}

static int submit_waiting_task(void) {
  cb_event *e;
  int rc = cb_task_submit(wait_for_go, NULL, NULL, NULL, NULL, 0, NULL, &e,
                          NULL);
  if (rc == 0)
    cb_event_unref(e);
  return rc;
}

TEST(wait_all_waits_for_tasks) {
  ASSERT_OK(test_start(1, "none"));
  ASSERT_OK(submit_waiting_task());
  go = 1;
  CHECK_OK(cb_wait_all());
  CHECK(ran);
}

TEST(wait_idle_times_out) {
  ASSERT_OK(test_start(1, "none"));
  CHECK_OK(cb_wait_idle(0));
  ASSERT_OK(submit_waiting_task());
  CHECK_RC(cb_wait_idle(20), CB_ETIMEDOUT);
  CHECK_RC(cb_wait_idle(0), CB_ETIMEDOUT);
  CHECK(!ran);
  go = 1;
  CHECK_OK(cb_wait_idle(-1));
  CHECK(ran);
}

TEST(shutdown_waits_for_tasks) {
  ASSERT_OK(test_start(1, "none"));
  ASSERT_OK(submit_waiting_task());
  go = 1;
  CHECK_OK(cb_shutdown());
  CHECK(ran);
}

TEST(forked_child_is_refused) {
  ASSERT_OK(test_start(1, "none"));
  int64_t n = 10;
  cb_array *a;
  ASSERT_OK(cb_full(CB_INT32, 1, &n, (cb_scalar){.i = 1}, -1, &a));
  CHECK_OK(test_sync(a));
  fflush(NULL);
  pid_t pid = fork();
  ASSERT(pid >= 0);
  if (pid == 0) {
    /* Each refusal is a bit of the exit status. */
    int bad = 0;
    bad |= cb_is_running() ? 1 : 0;
    bad |= cb_init(NULL) != CB_ESTATE ? 2 : 0;
    bad |= strstr(cb_last_error(), "fork()") == NULL ? 4 : 0;
    cb_operand x = test_arg(a, -1);
    cb_array *b = NULL;
    int dev;
    bad |= cb_ewise(CB_OP_negative, &x, 1, -1, -1, &b, &dev) != CB_ESTATE
               ? 8 : 0;
    bad |= cb_shutdown() != 0 ? 16 : 0;
    /* The parent's work can never end here: waiting for it refuses. */
    bad |= cb_wait_idle(50) != CB_ESTATE ? 32 : 0;
    cb_array_unref(a);
    _exit(bad);
  }
  int status;
  ASSERT_INT(waitpid(pid, &status, 0), ==, pid);
  CHECK(WIFEXITED(status), "the child did not exit normally");
  CHECK_INT(WEXITSTATUS(status), ==, 0);
  /* The parent's runtime is untouched. */
  CHECK(cb_is_running());
  cb_operand x = test_arg(a, -1);
  cb_array *b;
  int dev;
  ASSERT_OK(cb_ewise(CB_OP_negative, &x, 1, -1, -1, &b, &dev));
  CHECK_OK(test_sync(b));
  CHECK_DBL(test_get(b, 9), ==, -1);
  cb_array_unref(a);
  cb_array_unref(b);
}
