/* Layout copies and broadcasting: transposes, broadcasts and writes into
 * part of an array, on CPU workers and an OpenCL device; reductions along
 * every axis of an N-D array; and the refusals. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include "test.h"

/* The layout of shape with strides and offset. */
static cb_layout layout(int ndim, const int64_t *shape,
                        const int64_t *strides, int64_t offset) {
  cb_layout l = {.ndim = ndim, .offset = offset};
  for (int d = 0; d < ndim; d++) {
    l.shape[d] = shape[d];
    l.strides[d] = strides[d];
  }
  return l;
}

/* The transpose of a (3, 4) ramp, gathered on device, read back. */
static void check_transpose(int device) {
  int64_t shape[2] = {3, 4}, tshape[2] = {4, 3}, tstrides[2] = {1, 4};
  cb_array *a = test_ramp(CB_FLOAT32, 2, shape, 0, 1), *t = NULL;
  if (!a)
    return;
  cb_layout l = layout(2, tshape, tstrides, 0);
  CHECK_OK(cb_gather(a, &l, device, &t));
  if (t) {
    CHECK_OK(test_sync(t));
    CHECK_INT(cb_array_ndim(t), ==, 2);
    CHECK_INT(cb_array_shape(t)[0], ==, 4);
    for (int i = 0; i < 4; i++)
      for (int j = 0; j < 3; j++)
        CHECK_DBL(test_get(t, i * 3 + j), ==, j * 4 + i);
    cb_array_unref(t);
  }
  cb_array_unref(a);
}

TEST(gather_transposes) {
  ASSERT_OK(test_start(2, "none"));
  check_transpose(-1);
  check_transpose(0);
}

/* Every other column of a (6, 4) ramp gathered on CPU workers, whose copy
 * is put off: element-wise work reads it in place, and writing the source
 * afterwards leaves it as it was asked for. */
TEST(gather_holds_its_source_as_it_was) {
  ASSERT_OK(test_start(2, "none"));
  int64_t shape[2] = {6, 4}, vshape[2] = {6, 2}, vstrides[2] = {4, 2};
  cb_array *a = test_ramp(CB_INT64, 2, shape, 0, 1), *v = NULL, *w = NULL;
  ASSERT(a);
  cb_layout l = layout(2, vshape, vstrides, 1);
  CHECK_OK(cb_gather(a, &l, 0, &v));
  ASSERT(v);
  int dev;
  cb_operand ops[2] = {test_arg(v, 0), test_arg(v, 0)};
  CHECK_OK(cb_ewise(CB_OP_add, ops, 2, -1, -1, &w, &dev));
  /* a += a: the source changes after both. */
  cb_operand self[2] = {test_arg(a, 0), test_arg(a, 0)};
  CHECK_OK(cb_ewise_into(CB_OP_add, self, 2, -1, -1, a, &dev));
  CHECK_OK(test_sync(v));
  CHECK_OK(w ? test_sync(w) : CB_EINVAL);
  CHECK_OK(test_sync(a));
  for (int i = 0; i < 6; i++)
    for (int j = 0; j < 2; j++) {
      CHECK_DBL(test_get(v, i * 2 + j), ==, i * 4 + 2 * j + 1);
      if (w)
        CHECK_DBL(test_get(w, i * 2 + j), ==, 2 * (i * 4 + 2 * j + 1));
    }
  CHECK_DBL(test_get(a, 23), ==, 46);
  cb_array_unref(w);
  cb_array_unref(v);
  cb_array_unref(a);
}

TEST(views_follow_their_source) {
  ASSERT_OK(test_start(2, "none"));
  int64_t shape[2] = {6, 4}, vshape[2] = {6, 2}, vstrides[2] = {4, 2};
  cb_array *a = test_ramp(CB_INT64, 2, shape, 0, 1), *v = NULL, *w = NULL;
  ASSERT(a);
  cb_layout l = layout(2, vshape, vstrides, 1);
  CHECK_OK(cb_view(a, &l, 0, &v));
  ASSERT(v);
  cb_array *src = NULL;
  cb_layout seen;
  CHECK_OK(cb_view_source(v, &src, &seen));
  CHECK(src == a && seen.offset == 1 && seen.strides[1] == 2);
  cb_array_unref(src);
  CHECK_OK(cb_view_source(a, &src, &seen));
  CHECK(src == NULL);
  /* Read once, then a += a: the view holds the new elements. */
  CHECK_OK(test_sync(v));
  CHECK_DBL(test_get(v, 11), ==, 23);
  int dev;
  cb_operand self[2] = {test_arg(a, 0), test_arg(a, 0)};
  CHECK_OK(cb_ewise_into(CB_OP_add, self, 2, -1, -1, a, &dev));
  cb_operand ops[2] = {test_arg(v, 0), test_arg(v, 0)};
  CHECK_OK(cb_ewise(CB_OP_add, ops, 2, -1, -1, &w, &dev));
  CHECK_OK(test_sync(v));
  CHECK_OK(w ? test_sync(w) : CB_EINVAL);
  for (int i = 0; i < 6; i++)
    for (int j = 0; j < 2; j++) {
      CHECK_DBL(test_get(v, i * 2 + j), ==, 2 * (i * 4 + 2 * j + 1));
      if (w)
        CHECK_DBL(test_get(w, i * 2 + j), ==, 4 * (i * 4 + 2 * j + 1));
    }
  /* A view is written through its source only, and is not viewed. */
  CHECK_INT(cb_ewise_into(CB_OP_add, ops, 2, -1, -1, v, &dev), ==,
            CB_EINVAL);
  cb_array *vv = NULL;
  CHECK_INT(cb_view(v, &l, 0, &vv), ==, CB_EINVAL);
  CHECK(vv == NULL);
  cb_array_unref(w);
  cb_array_unref(v);
  cb_array_unref(a);
}

static atomic_int adding;

/* a += 1, 5000 times, beside the main thread (views_of_copies). */
static void *add_ones(void *arg) {
  cb_array *a = arg;
  cb_operand ops[2] = {{.array = a, .device = -1},
                       {.device = -1, .dtype = CB_FLOAT64, .weak = 1,
                        .value.f = 1}};
  int dev;
  void *rc = NULL;
  for (int i = 0; i < 5000 && !rc; i++)
    if (cb_ewise_into(CB_OP_add, ops, 2, -1, -1, a, &dev))
      rc = (void *)1;
  atomic_store(&adding, 0);
  return rc;
}

/* Whether put-off copies are views, asked while another thread writes
 * their source, which fills their copies and frees their records: never.
 * (A record read after it was freed, which this once did, shows in a
 * sanitized build only now and then.) */
TEST(views_of_copies_asked_while_their_source_changes) {
  ASSERT_OK(test_start(2, "none"));
  int64_t shape[2] = {8, 8}, tstrides[2] = {1, 8};
  cb_array *a = test_ramp(CB_FLOAT64, 2, shape, 0, 0);
  ASSERT(a);
  atomic_store(&adding, 1);
  pthread_t writer;
  ASSERT(pthread_create(&writer, NULL, add_ones, a) == 0);
  cb_layout tr = layout(2, shape, tstrides, 0);
  /* The copies stay, so that each write of a fills those still put off
   * while this thread asks about them. */
  enum { KEEP = 4000 };
  cb_array **kept = calloc(KEEP, sizeof *kept);
  ASSERT(kept);
  int views = 0, n = 0;
  while (atomic_load(&adding) && n < KEEP) {
    cb_array *src;
    cb_layout seen;
    CHECK_OK(cb_gather(a, &tr, 0, &kept[n]));
    for (int k = 0; kept[n] && k < 50; k++) {
      cb_view_source(kept[n], &src, &seen);
      views += src != NULL;
      cb_array_unref(src);
    }
    n++;
  }
  void *failed;
  pthread_join(writer, &failed);
  CHECK(failed == NULL);
  CHECK_INT(views, ==, 0);
  CHECK_OK(test_sync(a));
  CHECK_DBL(test_get(a, 63), ==, 5000);
  for (int i = 0; i < n; i++)
    cb_array_unref(kept[i]);
  free(kept);
  cb_array_unref(a);
}

TEST(copy_layout_writes_part_of_an_array) {
  ASSERT_OK(test_start(1, "none"));
  int64_t shape[2] = {3, 4}, one = 4;
  cb_array *dst = test_ramp(CB_INT64, 2, shape, 0, 0);
  cb_array *row = test_ramp(CB_INT64, 1, &one, 10, 1);
  ASSERT(dst && row);
  /* dst[1, :] = row[::-1], then dst[:, 0] = row[0] repeated. */
  int64_t n4[1] = {4}, back[1] = {-1}, fwd[1] = {1};
  cb_layout from = layout(1, n4, back, 3), to = layout(1, n4, fwd, 4);
  CHECK_OK(cb_copy_layout(row, &from, dst, &to, -1));
  int64_t n3[1] = {3}, zero[1] = {0}, down[1] = {4};
  from = layout(1, n3, zero, 0);
  to = layout(1, n3, down, 0);
  CHECK_OK(cb_copy_layout(row, &from, dst, &to, -1));
  CHECK_OK(test_sync(dst));
  double want[12] = {10, 0, 0, 0, 10, 12, 11, 10, 10, 0, 0, 0};
  for (int i = 0; i < 12; i++)
    CHECK_DBL(test_get(dst, i), ==, want[i]);
  cb_array_unref(dst);
  cb_array_unref(row);
}

/* Two copies into rows 5 to 19 of a 20 x 3 array in tiles of 4 rows, from
 * arrays in tiles of 3 rows, on device: tiles the rows fill whole, the
 * tile the copies share and the rows they leave keep what they should. */
static void check_copies_into_rows(int device) {
  int64_t shape[2] = {20, 3}, part[2] = {7, 3}, rest[2] = {8, 3};
  cb_array *dst = test_ramp(CB_INT32, 2, shape, 0, 1);
  cb_array *a = test_ramp(CB_INT32, 2, part, 100, 1);
  cb_array *b = test_ramp(CB_INT32, 2, rest, 200, 1);
  ASSERT(dst && a && b);
  ASSERT_OK(cb_array_set_tile_size(dst, 4 * 3));
  ASSERT_OK(cb_array_set_tile_size(a, 3 * 3));
  ASSERT_OK(cb_array_set_tile_size(b, 3 * 3));
  int64_t c[2] = {3, 1};
  cb_layout from = layout(2, part, c, 0), to = layout(2, part, c, 5 * 3);
  CHECK_OK(cb_copy_layout(a, &from, dst, &to, device));
  from = layout(2, rest, c, 0);
  to = layout(2, rest, c, 12 * 3);
  CHECK_OK(cb_copy_layout(b, &from, dst, &to, device));
  CHECK_OK(test_sync(dst));
  int bad = 0;
  for (int i = 0; i < 60; i++) {
    double want = i < 15 ? i : i < 36 ? 100 + i - 15 : 200 + i - 36;
    bad += test_get(dst, i) != want;
  }
  CHECK(bad == 0, "%d elements wrong", bad);
  cb_array_unref(dst);
  cb_array_unref(a);
  cb_array_unref(b);
}

TEST(copy_layout_into_rows_of_several_tiles) {
  ASSERT_OK(test_start(2, "none"));
  check_copies_into_rows(-1);
}

TEST(copy_layout_within_one_array) {
  ASSERT_OK(test_start(1, "none"));
  int64_t n = 6;
  cb_array *a = test_ramp(CB_INT32, 1, &n, 0, 1);
  ASSERT(a);
  /* a[:] = a[::-1]: every element is read before any is written. */
  int64_t six[1] = {6}, back[1] = {-1}, fwd[1] = {1};
  cb_layout from = layout(1, six, back, 5), to = layout(1, six, fwd, 0);
  CHECK_OK(cb_copy_layout(a, &from, a, &to, -1));
  CHECK_OK(test_sync(a));
  for (int i = 0; i < 6; i++)
    CHECK_DBL(test_get(a, i), ==, 5 - i);
  cb_array_unref(a);
}

TEST(copy_layout_refuses_bad_layouts) {
  ASSERT_OK(test_start(1, "none"));
  int64_t n = 6, two[2] = {2, 3};
  cb_array *a = test_ramp(CB_INT32, 1, &n, 0, 1);
  cb_array *f = test_ramp(CB_FLOAT32, 1, &n, 0, 1);
  ASSERT(a && f);
  int64_t six[1] = {6}, seven[1] = {7}, fwd[1] = {1}, zero[1] = {0};
  cb_layout whole = layout(1, six, fwd, 0);
  cb_layout past = layout(1, seven, fwd, 0);
  cb_layout shifted = layout(1, six, fwd, 1);
  cb_layout before = layout(1, six, fwd, -1);
  cb_layout repeat = layout(1, six, zero, 0);
  int64_t s2[2] = {1, 1};
  cb_layout overlap = layout(2, two, s2, 0);
  cb_array *sentinel = (cb_array *)&sentinel, *out = sentinel;
  CHECK_RC(cb_gather(a, &past, -1, &out), CB_EINVAL);
  CHECK_HAS(cb_last_error(), "outside its array");
  CHECK_RC(cb_gather(a, &shifted, -1, &out), CB_EINVAL);
  CHECK_RC(cb_gather(a, &before, -1, &out), CB_EINVAL);
  CHECK(out == sentinel, "a failed call wrote *out");
  CHECK_RC(cb_copy_layout(a, &whole, f, &whole, -1), CB_ETYPE);
  CHECK_HAS(cb_last_error(), "dtypes differ");
  CHECK_RC(cb_copy_layout(a, &whole, a, &past, -1), CB_ESHAPE);
  CHECK_RC(cb_copy_layout(a, &repeat, a, &repeat, -1), CB_EINVAL);
  CHECK_HAS(cb_last_error(), "reaches an element twice");
  CHECK_RC(cb_copy_layout(a, &overlap, a, &overlap, -1), CB_EINVAL);
  cb_layout nine = {.ndim = CB_MAX_NDIM + 1};
  CHECK_RC(cb_gather(a, &nine, -1, &out), CB_EINVAL);
  CHECK_RC(cb_copy_layout(NULL, &whole, a, &whole, -1), CB_EINVAL);
  /* A repeated source is fine: it broadcasts. */
  CHECK_OK(cb_gather(a, &repeat, -1, &out));
  if (out != sentinel) {
    CHECK_OK(test_sync(out));
    for (int i = 0; i < 6; i++)
      CHECK_DBL(test_get(out, i), ==, 0);
    cb_array_unref(out);
  }
  cb_layout own;
  cb_layout_of(f, &own);
  CHECK_INT(own.ndim, ==, 1);
  CHECK_INT(own.strides[0], ==, 1);
  cb_array_unref(a);
  cb_array_unref(f);
}

TEST(ewise_broadcasts_operands) {
  ASSERT_OK(test_start(2, "none"));
  int64_t col[2] = {4, 1}, row[2] = {1, 3}, bad[2] = {2, 3};
  cb_array *c = test_ramp(CB_FLOAT64, 2, col, 0, 10);
  cb_array *r = test_ramp(CB_FLOAT64, 2, row, 0, 1);
  cb_array *b = test_ramp(CB_FLOAT64, 2, bad, 0, 1);
  ASSERT(c && r && b);
  cb_operand ops[2] = {test_arg(c, -1), test_arg(r, -1)};
  cb_array *out = NULL;
  int dev;
  CHECK_OK(cb_ewise(CB_OP_add, ops, 2, -1, -1, &out, &dev));
  if (out) {
    CHECK_OK(test_sync(out));
    CHECK_INT(cb_array_ndim(out), ==, 2);
    CHECK_INT(cb_array_shape(out)[0], ==, 4);
    CHECK_INT(cb_array_shape(out)[1], ==, 3);
    for (int i = 0; i < 4; i++)
      for (int j = 0; j < 3; j++)
        CHECK_DBL(test_get(out, i * 3 + j), ==, 10 * i + j);
    cb_array_unref(out);
  }
  ops[1] = test_arg(b, -1);
  CHECK_RC(cb_ewise(CB_OP_add, ops, 2, -1, -1, &out, &dev), CB_ESHAPE);
  CHECK_HAS(cb_last_error(), "could not be broadcast together with shapes "
                             "(4,1) (2,3)");
  cb_array_unref(c);
  cb_array_unref(r);
  cb_array_unref(b);
}

/* Sums of a ramp of shape {6, 3, 4, 5} in tiles of two leading rows along
 * each axis on device, against the sums of its elements by hand. */
static void check_sums_along_every_axis(int device) {
  int64_t shape[4] = {6, 3, 4, 5};
  int64_t strides[4] = {60, 20, 5, 1};
  cb_array *x = test_ramp(CB_INT64, 4, shape, 0, 1);
  ASSERT(x);
  CHECK_OK(cb_array_set_tile_size(x, 2 * strides[0]));
  for (int axis = 0; axis < 4; axis++) {
    cb_operand a = test_arg(x, device);
    cb_array *r = NULL;
    int dev;
    CHECK_OK(cb_reduce(CB_REDUCE_sum, &a, axis, -1, &r, &dev));
    if (!r)
      continue;
    CHECK_OK(test_sync(r));
    CHECK_INT(cb_array_ndim(r), ==, 3);
    /* Element k of the result, by the index it has without axis. */
    int64_t k = 0;
    int64_t idx[4];
    for (idx[0] = 0; idx[0] < shape[0]; idx[0]++)
      for (idx[1] = 0; idx[1] < shape[1]; idx[1]++)
        for (idx[2] = 0; idx[2] < shape[2]; idx[2]++)
          for (idx[3] = 0; idx[3] < shape[3]; idx[3]++) {
            if (idx[axis] != 0)
              continue;
            double want = 0;
            int64_t base = 0;
            for (int d = 0; d < 4; d++)
              base += idx[d] * strides[d];
            for (int64_t i = 0; i < shape[axis]; i++)
              want += (double)(base + i * strides[axis]);
            CHECK_DBL(test_get(r, k), ==, want);
            k++;
          }
    cb_array_unref(r);
  }
  cb_array_unref(x);
}

TEST(reduce_along_every_axis_of_nd) {
  ASSERT_OK(test_start(2, "none"));
  check_sums_along_every_axis(-1);
}

/* The axes between the first and the last are reduced on the device,
 * slab by slab of each tile. */
TEST(reduce_along_every_axis_on_opencl_device) {
  int dev = test_need_opencl();
  if (dev < 0)
    return;
  check_sums_along_every_axis(dev);
}

TEST(layout_copies_on_opencl_device) {
  int dev = test_need_opencl();
  if (dev < 0)
    return;
  check_transpose(dev);
  check_copies_into_rows(dev);
  int64_t shape[3] = {2, 3, 4}, flipped[3] = {2, 3, 4};
  int64_t back[3] = {-12, -4, -1};
  cb_array *a = test_ramp(CB_INT64, 3, shape, 0, 1), *t = NULL;
  ASSERT(a);
  cb_layout l = layout(3, flipped, back, 23);
  CHECK_OK(cb_gather(a, &l, dev, &t));
  if (t) {
    CHECK_OK(test_sync(t));
    for (int i = 0; i < 24; i++)
      CHECK_DBL(test_get(t, i), ==, 23 - i);
    cb_array_unref(t);
  }
  cb_array_unref(a);
}

/* Rolls of a 2-D ramp of rows x 3 in tiles of 4 rows, on device. */
static void check_rolls(int device) {
  int64_t shape[2] = {37, 3};
  cb_array *a = test_ramp(CB_INT32, 2, shape, 0, 1);
  ASSERT(a);
  ASSERT_OK(cb_array_set_tile_size(a, 4 * 3));
  const int64_t shifts[] = {0, 1, -1, 5, -9, 37, 40, -75};
  for (size_t k = 0; k < sizeof shifts / sizeof *shifts; k++) {
    cb_array *r = NULL;
    ASSERT_OK(cb_roll_rows(a, shifts[k], device, &r));
    CHECK_INT(cb_array_tile_size(r), ==, 4 * 3);
    CHECK_OK(test_sync(r));
    int bad = 0;
    for (int64_t i = 0; i < 37; i++) {
      int64_t from = ((i - shifts[k]) % 37 + 37) % 37;
      for (int64_t j = 0; j < 3; j++)
        bad += test_get(r, i * 3 + j) != (double)(from * 3 + j);
    }
    CHECK(bad == 0, "shift %lld: %d wrong", (long long)shifts[k], bad);
    cb_array_unref(r);
  }
  cb_array_unref(a);
}

TEST(roll_rows_by_tiles) {
  ASSERT_OK(test_start(2, NULL));
  check_rolls(-1);
  check_rolls(0);
  int dev = test_opencl_device();
  if (dev >= 0)
    check_rolls(dev);
  /* Bad input. */
  cb_array *r = NULL;
  CHECK_RC(cb_roll_rows(NULL, 1, -1, &r), CB_EINVAL);
  cb_array *zero_d = test_ramp(CB_FLOAT32, 0, NULL, 1, 0);
  ASSERT(zero_d);
  CHECK_RC(cb_roll_rows(zero_d, 1, -1, &r), CB_EINVAL);
  CHECK_STR(cb_last_error(), "roll: a 0-d array has no rows");
  CHECK_RC(cb_roll_rows(zero_d, 1, 99, &r), CB_EINVAL);
  cb_array_unref(zero_d);
}
