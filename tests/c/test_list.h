/*
 * The tests of the public C API: X(name) for each TEST(name), grouped by
 * the file that holds them. runner.c runs them; CMakeLists.txt reads this
 * list and makes each test a ctest test of its own.
 */
#define TEST_LIST(X)                                                         \
  /* test_basics.c */                                                        \
  X(strerror_messages)                                                       \
  X(error_codes_are_negative_and_distinct)                                   \
  X(last_error_is_per_thread)                                                \
  X(dtype_names_and_sizes)                                                   \
  X(dtype_invalid)                                                           \
  X(op_names_and_kinds)                                                      \
  X(op_kind_outside_the_table)                                               \
  X(reduce_names)                                                            \
  X(backend_and_devtype_names)                                               \
  X(cl_status_names)                                                         \
  /* test_filter.c */                                                        \
  X(filter_parse_valid)                                                      \
  X(filter_parse_invalid)                                                    \
  X(filter_cuda_is_unknown)                                                  \
  X(filter_parse_null_and_no_message_buffer)                                 \
  X(filter_parse_zero_size_buffer)                                           \
  X(filter_alternatives_limit)                                               \
  X(filter_match)                                                            \
  X(devices_select)                                                          \
  X(devices_select_starts_runtime)                                           \
  /* test_runtime.c */                                                       \
  X(config_from_env_fills_unset_fields)                                      \
  X(config_from_env_keeps_set_fields)                                        \
  X(config_from_env_refuses_bad_values)                                      \
  X(init_refuses_bad_environment)                                            \
  X(init_refuses_unknown_scheduler)                                          \
  X(init_refuses_filter_matching_nothing)                                    \
  X(init_while_running_refuses_other_settings)                               \
  X(init_and_shutdown)                                                       \
  X(messages_reach_the_handler)                                              \
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
  /* test_devices.c */                                                       \
  X(device_table_cpu)                                                        \
  X(device_get_out_of_range)                                                 \
  X(device_table_opencl)                                                     \
  X(device_count_starts_runtime)                                             \
  X(workers)                                                                 \
  X(workers_of_opencl_devices)                                               \
  X(opencl_platforms)                                                        \
  X(device_set_spreads_tiles_over_its_devices)                               \
  /* test_arrays.c */                                                        \
  X(array_new_shapes)                                                        \
  X(array_new_refuses_bad_shapes)                                            \
  X(array_wrap_is_zero_copy)                                                 \
  X(array_copy_in_fills_a_new_array)                                         \
  X(array_wrap_receives_task_output)                                         \
  X(array_wrap_release_on_last_unref)                                        \
  X(array_wrap_release_waits_for_tasks)                                      \
  X(array_wrap_refuses_bad_arguments)                                        \
  X(array_sync_host_of_unused_array)                                         \
  X(array_sync_host_after_tasks)                                             \
  X(array_prefetch_checks_device)                                            \
  X(array_prefetch_moves_data)                                               \
  X(array_writer)                                                            \
  /* test_tiles.c */                                                         \
  X(tile_size_is_asked_before_use)                                           \
  X(default_tiles_are_two_per_cpu_worker)                                    \
  X(thread_tile_size_reaches_new_arrays)                                     \
  X(tiles_follow_the_first_operand)                                          \
  X(tiles_copied_on_opencl)                                                  \
  X(array_new_on_pins_for_devices)                                           \
  X(array_new_result_reuses_dead_results)                                    \
  X(array_new_result_keeps_pinning_for_devices)                              \
  X(array_pool_makes_room_for_new_sizes)                                     \
  /* test_distributed.c */                                                   \
  X(distribution_is_asked_before_use)                                        \
  X(thread_distribution_reaches_new_arrays)                                  \
  /* test_events.c */                                                        \
  X(event_wait_timeout_and_poll)                                             \
  X(event_poll_sees_completion)                                              \
  X(event_on_done_later)                                                     \
  X(event_on_done_when_done)                                                 \
  X(event_ref_keeps_event)                                                   \
  X(event_cancel_before_start)                                               \
  X(event_cancel_after_start)                                                \
  X(event_failure)                                                           \
  /* test_ewise.c */                                                         \
  X(ewise_add)                                                               \
  X(ewise_into_writes_an_array)                                              \
  X(ewise_scalars_and_0d_broadcast)                                          \
  X(ewise_promotes_and_casts_inputs)                                         \
  X(ewise_integers_wrap)                                                     \
  X(ewise_where_and_cast)                                                    \
  X(ewise_refuses_bad_arguments)                                             \
  X(ewise_placement)                                                         \
  X(ewise_nonblocking)                                                       \
  X(result_dtype_rules)                                                      \
  X(full_values)                                                             \
  X(full_refuses_bad_arguments)                                              \
  X(arange_values)                                                           \
  X(arange_refuses_bad_arguments)                                            \
  /* test_codelets.c */                                                      \
  X(codelets_cpu)                                                            \
  X(codelets_opencl)                                                         \
  /* test_complex.c */                                                       \
  X(complex_codelets_cpu)                                                    \
  X(complex_codelets_opencl)                                                 \
  X(complex_casts)                                                           \
  X(complex_promotion)                                                       \
  X(complex_fill_and_scalar)                                                 \
  X(complex_compose)                                                         \
  X(complex_matmul)                                                          \
  /* test_float16.c */                                                       \
  X(float16_conversions)                                                     \
  X(float16_codelets_cpu)                                                    \
  X(float16_codelets_opencl)                                                 \
  X(float16_comparisons)                                                     \
  X(float16_casts)                                                           \
  X(float16_fill_and_scalar)                                                 \
  X(float16_promotion)                                                       \
  X(float16_reductions_and_blas_refused)                                     \
  /* test_failures.c */                                                      \
  X(testing_inject_fails_one_task)                                           \
  X(testing_inject_counts_executions)                                        \
  X(testing_inject_counts_for_every_armed_fault)                            \
  X(testing_inject_matches_device)                                           \
  X(testing_inject_refuses_bad_arguments)                                    \
  X(testing_clear_disarms)                                                   \
  X(failure_reaches_dependents)                                              \
  X(failures_take_lists_unseen)                                              \
  X(failure_seen_forgets)                                                    \
  /* test_devloss.c */                                                       \
  X(device_loss_fails_later_tasks)                                           \
  X(device_loss_strands_data_left_there)                                     \
  X(device_loss_fails_reductions_in_flight)                                  \
  X(device_loss_ends_with_the_runtime)                                       \
  X(device_loss_unusable_context_stops_the_runtime)                          \
  X(device_loss_spares_the_cpu_workers)                                      \
  X(staged_copies_reach_the_device)                                          \
  X(device_loss_in_a_staged_copy)                                            \
  X(device_loss_in_a_staged_read)                                            \
  X(events_that_cannot_complete_end_all_the_same)                            \
  X(environment_changes_keep_pocl_codelets_out)                              \
  /* test_tasks.c */                                                         \
  X(task_submit_runs_on_host_data)                                           \
  X(task_token_orders_calls)                                                 \
  X(task_fail_marks_outputs)                                                 \
  X(task_nonzero_return_fails)                                               \
  X(task_submit_refuses_bad_arguments)                                       \
  X(task_submit_refuses_opencl_device)                                       \
  X(task_submit_nonblocking)                                                 \
  /* test_kernels.c */                                                       \
  X(kernel_new_and_name)                                                     \
  X(kernel_new_refuses_bad_arguments)                                        \
  X(kernel_build_and_params)                                                 \
  X(kernel_build_reports_errors)                                             \
  X(kernel_build_needs_opencl_device)                                        \
  X(kernel_launch_computes)                                                  \
  X(kernel_launch_two_dimensions_with_options)                               \
  X(kernel_launch_checks_arguments)                                          \
  X(kernel_local_memory)                                                     \
  X(kernel_assertion_fails_task)                                             \
  X(kernel_assertion_after_quote_literal)                                    \
  /* test_reduce.c */                                                        \
  X(reduce_all_elements)                                                     \
  X(reduce_result_dtypes)                                                    \
  X(reduce_wraps_and_propagates_nan)                                         \
  X(reduce_along_axis)                                                       \
  X(reduce_arg_indices)                                                      \
  X(reduce_empty)                                                            \
  X(reduce_refuses_bad_arguments)                                            \
  X(reduce_on_opencl_device)                                                 \
  X(dot_values)                                                              \
  X(dot_refuses_bad_arguments)                                               \
  X(dot_refuses_two_devices)                                                 \
  /* test_layout.c */                                                        \
  X(gather_transposes)                                                       \
  X(gather_holds_its_source_as_it_was)                                       \
  X(views_follow_their_source)                                               \
  X(views_of_copies_asked_while_their_source_changes)                       \
  X(copy_layout_writes_part_of_an_array)                                     \
  X(copy_layout_into_rows_of_several_tiles)                                  \
  X(copy_layout_within_one_array)                                            \
  X(roll_rows_by_tiles)                                                      \
  X(copy_layout_refuses_bad_layouts)                                         \
  X(ewise_broadcasts_operands)                                               \
  X(reduce_along_every_axis_of_nd)                                           \
  X(reduce_along_every_axis_on_opencl_device)                                \
  X(layout_copies_on_opencl_device)                                          \
  /* test_linalg.c */                                                        \
  X(matmul_matrices)                                                         \
  X(matmul_over_many_tiles)                                                  \
  X(matmul_vectors)                                                          \
  X(matmul_refuses_bad_arguments)                                            \
  X(gemm_values)                                                             \
  X(gemm_refuses_bad_arguments)                                              \
  X(gemv_values)                                                             \
  X(gemv_refuses_bad_arguments)                                              \
  X(transpose_values)                                                        \
  X(linalg_on_opencl_device)                                                 \
  X(blas_tuning_from_the_cache)                                              \
  /* test_graph.c */                                                         \
  X(graph_record_and_inspect)                                                \
  X(graph_record_refuses_bad_operations)                                     \
  X(graph_input_refused_leaves_no_value)                                     \
  X(graph_run)                                                               \
  X(graph_fuse)                                                              \
  X(graph_run_on_devices)                                                    \
  X(graph_run_refuses_bad_arguments)                                         \
  X(graph_reductions_and_products)                                           \
  X(graph_reductions_and_products_refused)                                   \
  X(graph_constant_keeps_array)                                              \
  X(graph_estimate)                                                          \
  /* test_observe.c */                                                       \
  X(profiling_set_get)                                                       \
  X(profiling_from_environment)                                              \
  X(trace_records_tasks)                                                     \
  X(trace_marks_failed_tasks)                                                \
  X(trace_stop_without_start)                                                \
  X(stats_count_tasks)                                                       \
  X(stats_without_profiling_count_nothing)
