/* Graphs: recording and inspecting values and nodes, the checks made at
 * record time, runs, constants, and estimates. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

static cb_graph_operand val(int v) {
  return (cb_graph_operand){.value = v};
}

static cb_graph_operand weak(double f) {
  return (cb_graph_operand){.value = -1, .scalar = test_weak_float(f)};
}

TEST(graph_record_and_inspect) {
  cb_graph *g;
  ASSERT_OK(cb_graph_new(&g));
  int64_t shape[2] = {2, 3};
  cb_array *k = test_ramp(CB_FLOAT32, 2, shape, 10, 10);
  ASSERT(k);
  CHECK_INT(cb_graph_input(g, CB_FLOAT32, 2, shape), ==, 0);
  CHECK_INT(cb_graph_constant(g, k, -1), ==, 1);
  cb_graph_operand add[2] = {val(0), val(1)};
  CHECK_INT(cb_graph_ewise(g, CB_OP_add, add, 2, -1), ==, 2);
  cb_graph_operand mul[2] = {val(2), weak(2)};
  CHECK_INT(cb_graph_ewise(g, CB_OP_multiply, mul, 2, -1), ==, 3);
  CHECK_OK(cb_graph_mark_output(g, 3));
  CHECK_INT(cb_graph_nvalues(g), ==, 4);
  CHECK_INT(cb_graph_nnodes(g), ==, 2);

  cb_graph_value_info v;
  ASSERT_OK(cb_graph_value(g, 0, &v));
  CHECK_INT(v.kind, ==, 0);
  CHECK_INT(v.node, ==, 0); /* the first input */
  CHECK_INT(v.dtype, ==, CB_FLOAT32);
  CHECK_INT(v.ndim, ==, 2);
  CHECK_INT(v.shape[0], ==, 2);
  CHECK_INT(v.shape[1], ==, 3);
  CHECK_INT(v.output, ==, 0);
  ASSERT_OK(cb_graph_value(g, 1, &v));
  CHECK_INT(v.kind, ==, 1);
  ASSERT_OK(cb_graph_value(g, 3, &v));
  CHECK_INT(v.kind, ==, 2);
  CHECK_INT(v.node, ==, 1);
  CHECK_INT(v.output, ==, 1);
  CHECK_INT(v.dtype, ==, CB_FLOAT32);

  const char *name = NULL;
  int operands[4], n = 0, result = -1;
  ASSERT_OK(cb_graph_node(g, 0, &name, operands, &n, &result));
  CHECK_STR(name, "add");
  CHECK_INT(n, ==, 2);
  CHECK_INT(operands[0], ==, 0);
  CHECK_INT(operands[1], ==, 1);
  CHECK_INT(result, ==, 2);
  ASSERT_OK(cb_graph_node(g, 1, &name, operands, &n, &result));
  CHECK_STR(name, "multiply");
  CHECK_INT(operands[0], ==, 2);
  CHECK_INT(operands[1], ==, -1); /* the scalar */
  CHECK_INT(result, ==, 3);

  CHECK_RC(cb_graph_value(g, 4, &v), CB_EINVAL);
  CHECK_RC(cb_graph_value(g, -1, &v), CB_EINVAL);
  CHECK_RC(cb_graph_node(g, 2, &name, operands, &n, &result), CB_EINVAL);
  CHECK_RC(cb_graph_node(g, -1, &name, operands, &n, &result), CB_EINVAL);
  CHECK_RC(cb_graph_mark_output(g, 4), CB_EINVAL);
  CHECK_RC(cb_graph_mark_output(g, -1), CB_EINVAL);
  /* Recording needs no runtime. */
  CHECK(!cb_is_running());
  cb_graph_free(g);
  cb_graph_free(NULL);
  cb_array_unref(k);
}

TEST(graph_record_refuses_bad_operations) {
  cb_graph *g;
  ASSERT_OK(cb_graph_new(&g));
  int64_t shape[2] = {2, 3}, other[1] = {5}, negative[1] = {-1};
  int x = cb_graph_input(g, CB_FLOAT32, 2, shape);
  int y = cb_graph_input(g, CB_FLOAT32, 1, other);
  int b = cb_graph_input(g, CB_BOOL, 2, shape);
  ASSERT(x == 0 && y == 1 && b == 2);
  int64_t nine[CB_MAX_NDIM + 1] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  CHECK_RC(cb_graph_input(g, CB_FLOAT32, CB_MAX_NDIM + 1, nine), CB_EINVAL);
  CHECK_RC(cb_graph_input(g, CB_NDTYPES, 1, other), CB_EINVAL);
  CHECK_RC(cb_graph_input(g, CB_FLOAT32, 1, negative), CB_EINVAL);
  cb_graph_operand two[2] = {val(x), val(y)};
  CHECK_RC(cb_graph_ewise(g, CB_OP_add, two, 2, -1), CB_ESHAPE);
  cb_graph_operand missing[2] = {val(x), val(99)};
  CHECK_RC(cb_graph_ewise(g, CB_OP_add, missing, 2, -1), CB_EINVAL);
  CHECK_STR(cb_last_error(), "no value 99 in this graph");
  cb_graph_operand scalars[2] = {weak(1), weak(2)};
  CHECK_RC(cb_graph_ewise(g, CB_OP_add, scalars, 2, -1), CB_EINVAL);
  cb_graph_operand bools[2] = {val(b), val(b)};
  CHECK_RC(cb_graph_ewise(g, CB_OP_subtract, bools, 2, -1), CB_ETYPE);
  CHECK_RC(cb_graph_ewise(g, CB_NOPS, bools, 2, -1), CB_EINVAL);
  CHECK_RC(cb_graph_ewise(g, CB_OP_add, bools, 0, -1), CB_EINVAL);
  cb_graph_operand four[4] = {val(x), val(x), val(x), val(x)};
  CHECK_RC(cb_graph_ewise(g, CB_OP_where, four, 4, -1), CB_EINVAL);
  CHECK_RC(cb_graph_ewise(g, CB_OP_cast, two, 1, -1), CB_ETYPE);
  CHECK_INT(cb_graph_nnodes(g), ==, 0);
  cb_graph_free(g);
}

TEST(graph_input_refused_leaves_no_value) {
  cb_graph *g;
  ASSERT_OK(cb_graph_new(&g));
  int64_t negative[2] = {4, -2}, shape[1] = {3};
  CHECK_RC(cb_graph_input(g, CB_FLOAT32, 2, negative), CB_EINVAL);
  CHECK_HAS(cb_last_error(), "negative dimension -2 in shape (4, -2)");
  CHECK_INT(cb_graph_nvalues(g), ==, 0);
  /* The next value takes the first id, and is the graph's first input. */
  CHECK_INT(cb_graph_input(g, CB_FLOAT32, 1, shape), ==, 0);
  CHECK_INT(cb_graph_nvalues(g), ==, 1);
  cb_graph_value_info v;
  ASSERT_OK(cb_graph_value(g, 0, &v));
  CHECK_INT(v.node, ==, 0);
  CHECK_INT(v.shape[0], ==, 3);
  CHECK_RC(cb_graph_value(g, 1, &v), CB_EINVAL);
  cb_graph_free(g);
}

TEST(graph_run) {
  ASSERT_OK(test_start(2, "none"));
  cb_graph *g;
  ASSERT_OK(cb_graph_new(&g));
  int64_t n = 100000;
  cb_array *k = test_ramp(CB_FLOAT32, 1, &n, 0, 1);
  ASSERT(k);
  int x = cb_graph_input(g, CB_FLOAT32, 1, &n);
  int c = cb_graph_constant(g, k, -1);
  cb_graph_operand add[2] = {val(x), val(c)};
  int s = cb_graph_ewise(g, CB_OP_add, add, 2, -1);
  cb_graph_operand mul[2] = {val(s), weak(3)};
  int m = cb_graph_ewise(g, CB_OP_multiply, mul, 2, -1);
  cb_graph_operand cast[1] = {val(m)};
  int i = cb_graph_ewise(g, CB_OP_cast, cast, 1, CB_INT64);
  ASSERT(i >= 0, "%s", cb_last_error());
  ASSERT_OK(cb_graph_mark_output(g, i));
  ASSERT_OK(cb_graph_mark_output(g, s));
  for (int run = 0; run < 3; run++) {
    cb_array *in = test_ramp(CB_FLOAT32, 1, &n, run, 0);
    ASSERT(in);
    cb_array *out[2] = {NULL, NULL};
    int devs[2] = {-5, -5};
    ASSERT_OK(cb_graph_run(g, &in, NULL, 1, -1, out, devs, 2));
    CHECK_INT(devs[0], ==, -1);
    CHECK(out[0] != out[1]);
    CHECK_INT(cb_array_dtype(out[0]), ==, CB_INT64);
    CHECK_OK(test_sync(out[0]));
    CHECK_OK(test_sync(out[1]));
    /* (run + i) * 3, and run + i. */
    CHECK_DBL(test_get(out[0], 5), ==, (run + 5) * 3);
    CHECK_DBL(test_get(out[0], n - 1), ==, (run + (double)(n - 1)) * 3);
    CHECK_DBL(test_get(out[1], 7), ==, run + 7);
    cb_array_unref(out[0]);
    cb_array_unref(out[1]);
    cb_array_unref(in);
  }
  cb_array_unref(k);
  cb_graph_free(g);
}

/* Fusion: a chain of four nodes is one group, run as one task per tile
 * with the chain's values; a node whose result is an output ends its
 * chain; recording a node drops the plan. */
TEST(graph_fuse) {
  ASSERT_OK(test_start(2, "none"));
  cb_graph *g;
  ASSERT_OK(cb_graph_new(&g));
  CHECK_INT(cb_graph_fuse(g), ==, 0); /* nothing to fuse */
  int64_t n = 5000;
  int x = cb_graph_input(g, CB_FLOAT32, 1, &n);
  cb_graph_operand sq[2] = {val(x), val(x)};
  int a = cb_graph_ewise(g, CB_OP_multiply, sq, 2, -1);
  cb_graph_operand add[2] = {val(a), weak(1)};
  int b = cb_graph_ewise(g, CB_OP_add, add, 2, -1);
  cb_graph_operand root[1] = {val(b)};
  int c = cb_graph_ewise(g, CB_OP_sqrt, root, 1, -1);
  cb_graph_operand sub[2] = {val(c), val(x)};
  int d = cb_graph_ewise(g, CB_OP_subtract, sub, 2, -1);
  cb_graph_operand cast[1] = {val(d)};
  int e = cb_graph_ewise(g, CB_OP_cast, cast, 1, CB_INT32); /* alone */
  ASSERT(e >= 0, "%s", cb_last_error());
  ASSERT_OK(cb_graph_mark_output(g, d));
  ASSERT_OK(cb_graph_mark_output(g, e));
  CHECK_INT(cb_graph_fuse(g), ==, 1);
  for (int i = 0; i < 4; i++)
    CHECK_INT(cb_graph_node_group(g, i), ==, 0);
  CHECK_INT(cb_graph_node_group(g, 4), ==, -1);
  CHECK_INT(cb_graph_node_group(g, 5), ==, CB_EINVAL);
  cb_array *in = test_ramp(CB_FLOAT32, 1, &n, 0, 1);
  ASSERT(in);
  cb_array *out[2] = {NULL, NULL};
  ASSERT_OK(cb_graph_run(g, &in, NULL, 1, -1, out, NULL, 2));
  CHECK_OK(test_sync(out[0]));
  CHECK_OK(test_sync(out[1]));
  for (int64_t i = 0; i < n; i += 997) {
    float v = (float)i, want = sqrtf(v * v + 1.0f) - v;
    CHECK_DBL(test_get(out[0], i), ==, want);
    CHECK_DBL(test_get(out[1], i), ==, (int32_t)want);
  }
  cb_array_unref(out[0]);
  cb_array_unref(out[1]);
  /* A fused intermediate marked as an output: the plan is dropped, and
   * the value is made. */
  ASSERT_OK(cb_graph_mark_output(g, b));
  CHECK_INT(cb_graph_node_group(g, 0), ==, -1);
  CHECK_INT(cb_graph_fuse(g), ==, 2); /* a and b; then c and d */
  CHECK_INT(cb_graph_node_group(g, 1), ==, 0);
  CHECK_INT(cb_graph_node_group(g, 2), ==, 1);
  cb_array *three[3] = {NULL, NULL, NULL};
  ASSERT_OK(cb_graph_run(g, &in, NULL, 1, -1, three, NULL, 3));
  CHECK_OK(test_sync(three[2]));
  CHECK_DBL(test_get(three[2], 3), ==, 10.0);
  for (int k = 0; k < 3; k++)
    cb_array_unref(three[k]);
  /* Another node: the plan is dropped. */
  cb_graph_operand more[2] = {val(e), val(e)};
  ASSERT(cb_graph_ewise(g, CB_OP_add, more, 2, -1) >= 0);
  CHECK_INT(cb_graph_node_group(g, 0), ==, -1);
  cb_array_unref(in);
  cb_graph_free(g);
}

TEST(graph_run_on_devices) {
  int gpu = test_need_opencl();
  ASSERT(gpu >= 0);
  cb_graph *g;
  ASSERT_OK(cb_graph_new(&g));
  int64_t n = 1000;
  int x = cb_graph_input(g, CB_FLOAT32, 1, &n);
  cb_graph_operand neg[1] = {val(x)};
  int y = cb_graph_ewise(g, CB_OP_negative, neg, 1, -1);
  ASSERT_OK(cb_graph_mark_output(g, y));
  cb_array *in = test_ramp(CB_FLOAT32, 1, &n, 1, 1), *out;
  ASSERT(in);
  int dev = -5, where = gpu;
  /* The input's device... */
  ASSERT_OK(cb_graph_run(g, &in, &where, 1, -1, &out, &dev, 1));
  CHECK_INT(dev, ==, gpu);
  CHECK_OK(test_sync(out));
  CHECK_DBL(test_get(out, 999), ==, -1000);
  cb_array_unref(out);
  /* ... else the default one. */
  ASSERT_OK(cb_graph_run(g, &in, NULL, 1, 0, &out, &dev, 1));
  CHECK_INT(dev, ==, 0);
  cb_array_unref(out);
  cb_array_unref(in);
  cb_graph_free(g);
}

TEST(graph_run_refuses_bad_arguments) {
  ASSERT_OK(test_start(1, "none"));
  cb_graph *g;
  ASSERT_OK(cb_graph_new(&g));
  int64_t n = 10, m = 11;
  int x = cb_graph_input(g, CB_FLOAT32, 1, &n);
  cb_graph_operand neg[1] = {val(x)};
  ASSERT_OK(cb_graph_mark_output(g, cb_graph_ewise(g, CB_OP_negative, neg,
                                                   1, -1)));
  cb_array *good, *ints, *longer;
  ASSERT_OK(cb_array_new(CB_FLOAT32, 1, &n, &good));
  ASSERT_OK(cb_array_new(CB_INT32, 1, &n, &ints));
  ASSERT_OK(cb_array_new(CB_FLOAT32, 1, &m, &longer));
  cb_array *sentinel = (cb_array *)&sentinel, *out = sentinel;
  int dev;
  CHECK_RC(cb_graph_run(g, &good, NULL, 0, -1, &out, &dev, 1), CB_EINVAL);
  CHECK_STR(cb_last_error(), "the graph has 1 inputs, got 0");
  CHECK_RC(cb_graph_run(g, &ints, NULL, 1, -1, &out, &dev, 1), CB_ETYPE);
  CHECK_RC(cb_graph_run(g, &longer, NULL, 1, -1, &out, &dev, 1), CB_ESHAPE);
  CHECK_RC(cb_graph_run(g, &good, NULL, 1, -1, &out, &dev, 2), CB_EINVAL);
  CHECK_RC(cb_graph_run(g, &good, NULL, 1, 5, &out, &dev, 1), CB_ENODEV);
  CHECK(out == sentinel);
  cb_array_unref(good);
  cb_array_unref(ints);
  cb_array_unref(longer);
  cb_graph_free(g);
}

TEST(graph_reductions_and_products) {
  ASSERT_OK(test_start(1, "none"));
  cb_graph *g;
  ASSERT_OK(cb_graph_new(&g));
  int64_t shape[2] = {4, 3}, three = 3;
  int x = cb_graph_input(g, CB_FLOAT64, 2, shape);
  int v = cb_graph_input(g, CB_INT32, 1, &three);
  int sum = cb_graph_reduce(g, CB_REDUCE_sum, x, 0);   /* (3,) */
  int t = cb_graph_transpose(g, x);                    /* (3, 4) */
  int m = cb_graph_matmul(g, x, t);                    /* (4, 4) */
  int d = cb_graph_dot(g, sum, v);                     /* () float64 */
  int mv = cb_graph_matmul(g, x, v);                   /* (4,) via a cast */
  ASSERT(sum >= 0 && t >= 0 && m >= 0 && d >= 0 && mv >= 0, "%s",
         cb_last_error());
  CHECK_INT(cb_graph_transpose(g, sum), ==, sum);
  cb_graph_value_info info;
  ASSERT_OK(cb_graph_value(g, m, &info));
  CHECK_INT(info.ndim, ==, 2);
  CHECK_INT(info.shape[0], ==, 4);
  CHECK_INT(info.shape[1], ==, 4);
  ASSERT_OK(cb_graph_value(g, d, &info));
  CHECK_INT(info.ndim, ==, 0);
  CHECK_INT(info.dtype, ==, CB_FLOAT64);
  /* The int32 operand of matmul was cast first: one node more. */
  CHECK_INT(cb_graph_nnodes(g), ==, 6);
  const char *names[6] = {"sum", "transpose", "matmul", "dot", "cast",
                          "matmul"};
  for (int i = 0; i < 6; i++) {
    const char *name;
    int ops[4], n, r;
    ASSERT_OK(cb_graph_node(g, i, &name, ops, &n, &r));
    CHECK_STR(name, names[i]);
  }
  int outs[4] = {sum, m, d, mv};
  for (int i = 0; i < 4; i++)
    ASSERT_OK(cb_graph_mark_output(g, outs[i]));
  cb_array *in[2] = {test_ramp(CB_FLOAT64, 2, shape, 0, 1),
                     test_ramp(CB_INT32, 1, &three, 1, 1)};
  ASSERT(in[0] && in[1]);
  cb_array *out[4];
  int devs[4];
  ASSERT_OK(cb_graph_run(g, in, NULL, 2, -1, out, devs, 4));
  for (int i = 0; i < 4; i++)
    CHECK_OK(test_sync(out[i]));
  /* x is 0..11 in rows of 3: column sums 18 22 26. */
  CHECK_DBL(test_get(out[0], 0), ==, 18);
  CHECK_DBL(test_get(out[0], 2), ==, 26);
  /* (x x^T)[1][2] = row 1 . row 2 = 3*6 + 4*7 + 5*8. */
  CHECK_DBL(test_get(out[1], 1 * 4 + 2), ==, 86);
  /* sum . (1 2 3). */
  CHECK_DBL(test_get(out[2], 0), ==, 18 + 44 + 78);
  /* x (1 2 3): row 3 is 9 10 11. */
  CHECK_DBL(test_get(out[3], 3), ==, 9 + 20 + 33);
  for (int i = 0; i < 4; i++)
    cb_array_unref(out[i]);
  cb_array_unref(in[0]);
  cb_array_unref(in[1]);
  cb_graph_free(g);
}

TEST(graph_reductions_and_products_refused) {
  cb_graph *g;
  ASSERT_OK(cb_graph_new(&g));
  int64_t shape[2] = {4, 3}, five = 5, three = 3;
  int x = cb_graph_input(g, CB_FLOAT32, 2, shape);
  int v5 = cb_graph_input(g, CB_FLOAT32, 1, &five);
  int v3 = cb_graph_input(g, CB_FLOAT32, 1, &three);
  int i3 = cb_graph_input(g, CB_INT32, 1, &three);
  int e = cb_graph_input(g, CB_FLOAT32, 1, (int64_t[]){0});
  CHECK_RC(cb_graph_reduce(g, CB_NREDUCE, x, CB_AXIS_ALL), CB_EINVAL);
  CHECK_RC(cb_graph_reduce(g, CB_REDUCE_sum, x, 2), CB_EINVAL);
  CHECK_RC(cb_graph_reduce(g, CB_REDUCE_sum, 99, CB_AXIS_ALL), CB_EINVAL);
  CHECK_RC(cb_graph_reduce(g, CB_REDUCE_min, e, CB_AXIS_ALL), CB_EINVAL);
  CHECK_RC(cb_graph_dot(g, x, v3), CB_EINVAL);
  CHECK_RC(cb_graph_dot(g, v5, v3), CB_ESHAPE);
  CHECK_RC(cb_graph_dot(g, v3, -1), CB_EINVAL);
  CHECK_RC(cb_graph_dot(g, v3, 99), CB_EINVAL);
  CHECK_RC(cb_graph_matmul(g, x, v5), CB_ESHAPE);
  CHECK_RC(cb_graph_matmul(g, i3, i3), CB_ETYPE);
  CHECK_RC(cb_graph_matmul(g, x, 99), CB_EINVAL);
  CHECK_RC(cb_graph_transpose(g, 99), CB_EINVAL);
  CHECK_RC(cb_graph_transpose(g, -1), CB_EINVAL);
  CHECK_INT(cb_graph_nnodes(g), ==, 0);
  cb_graph_free(g);
}

static int released;

static void count_release(void *arg) {
  (void)arg;
  released++;
}

TEST(graph_constant_keeps_array) {
  float data[4] = {1, 2, 3, 4};
  int64_t n = 4;
  cb_array *a;
  ASSERT_OK(cb_array_wrap(CB_FLOAT32, 1, &n, data, count_release, NULL, &a));
  cb_graph *g;
  ASSERT_OK(cb_graph_new(&g));
  CHECK_INT(cb_graph_constant(g, a, -1), ==, 0);
  cb_array_unref(a);
  CHECK_INT(released, ==, 0);
  cb_graph_free(g);
  CHECK_INT(released, ==, 1);
}

TEST(graph_estimate) {
  /* Every task feeds the performance models. */
  setenv("CAMBRIAN_CALIBRATE", "1", 1);
  ASSERT_OK(test_start(1, "none"));
  cb_graph *g;
  ASSERT_OK(cb_graph_new(&g));
  int64_t n = 200000;
  int x = cb_graph_input(g, CB_FLOAT32, 1, &n);
  cb_graph_operand mul[2] = {val(x), weak(2)};
  int y = cb_graph_ewise(g, CB_OP_multiply, mul, 2, -1);
  cb_graph_operand add[2] = {val(y), weak(1)};
  int z = cb_graph_ewise(g, CB_OP_add, add, 2, -1);
  int s = cb_graph_reduce(g, CB_REDUCE_sum, z, CB_AXIS_ALL);
  ASSERT(s >= 0);
  ASSERT_OK(cb_graph_mark_output(g, s));
  cb_array *in = test_ramp(CB_FLOAT32, 1, &n, 1, 0);
  ASSERT(in);
  double node_us[3], total = -1, critical = -1;
  int unknown = -1, runs = 0;
  /* Runs until the models of the element-wise nodes have measurements
   * enough (a few runs); reductions are never priced. */
  for (; runs < 40 && unknown != 1; runs++) {
    cb_array *out;
    int dev;
    ASSERT_OK(cb_graph_run(g, &in, NULL, 1, -1, &out, &dev, 1));
    CHECK_OK(test_sync(out));
    if (runs == 0)
      CHECK_DBL(test_get(out, 0), ==, 3.0 * (double)n);
    cb_array_unref(out);
    CHECK_OK(cb_wait_all());
    ASSERT_OK(cb_graph_estimate(g, &in, 1, -1, node_us, &total, &critical,
                                &unknown));
    int nan = 0;
    for (int i = 0; i < 3; i++)
      nan += isnan(node_us[i]);
    CHECK_INT(unknown, ==, nan);
    CHECK(isnan(node_us[2]));
    CHECK_DBL(critical, <=, total + 1e-9);
  }
  CHECK_INT(unknown, ==, 1);
  CHECK(node_us[0] > 0, "%g", node_us[0]);
  CHECK(node_us[1] > 0, "%g", node_us[1]);
  CHECK_DBL(total, >=, node_us[0] + node_us[1] - 1e-9);
  CHECK_DBL(critical, >, 0);
  /* Without per-node times, and on device 0 by name. */
  ASSERT_OK(cb_graph_estimate(g, &in, 1, 0, NULL, &total, &critical,
                              &unknown));
  CHECK_INT(unknown, ==, 1);
  CHECK_RC(cb_graph_estimate(g, &in, 0, -1, NULL, &total, &critical,
                             &unknown),
           CB_EINVAL);
  CHECK_RC(cb_graph_estimate(g, &in, 1, 7, NULL, &total, &critical,
                             &unknown),
           CB_ENODEV);
  cb_array_unref(in);
  cb_graph_free(g);
}
