/*
 * The tests of the public C API: X(name) for each TEST(name), grouped by
 * the file that holds them. runner.c runs them; CMakeLists.txt reads this
 * list and makes each test a ctest test of its own.
 */
#define TEST_LIST(X)                                                         \
  /* test_filter.c */                                                        \
  X(filter_parse_valid)                                                      \
  X(filter_parse_invalid)                                                    \
  X(filter_cuda_is_unknown)                                                  \
  X(filter_parse_null_and_no_message_buffer)                                 \
  X(filter_alternatives_limit)                                               \
  X(filter_match)                                                            \
  X(devices_select)                                                          \
  X(devices_select_starts_runtime)                                           \
  /* test_runtime.c */                                                       \
  X(config_from_env_fills_unset_fields)                                      \
  X(config_from_env_keeps_set_fields)                                        \
  X(config_from_env_ignores_bad_values)                                      \
  X(init_and_shutdown)                                                       \
  X(init_is_idempotent)                                                      \
  X(init_uses_config)                                                        \
  X(init_default_scheduler)                                                  \
  X(init_reads_environment)                                                  \
  X(init_refuses_bad_filter)                                                 \
  X(init_refuses_no_workers)                                                 \
  X(init_refuses_unwritable_cache)                                           \
  X(runtime_info_cache_dir)                                                  \
  X(runtime_info_cache_dir_under_home)                                       \
  X(runtime_info_starts_runtime)                                             \
  X(restart_keeps_arrays)                                                    \
  X(wait_all_waits_for_tasks)                                                \
  X(wait_idle_times_out)                                                     \
  X(shutdown_waits_for_tasks)                                                \
  X(forked_child_is_refused)                                                 \
  /* test_codelets.c */                                                      \
  X(codelets_cpu)                                                            \
  X(codelets_opencl)
