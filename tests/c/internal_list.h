/*
 * Tests that look at the internals of the scheduler, run by their own
 * program (cambrian_internal_tests): X(name) for each TEST(name).
 */
#define TEST_LIST(X)                                                         \
  /* test_batch.c */                                                         \
  X(batch_blocks_end_once)                                                   \
  X(batch_shutdown_frees_blocks)                                             \
  X(batch_graph_chain)                                                       \
  /* test_fused_intern.c */                                                  \
  X(fused_programs_intern_by_value_and_share_kernels)
