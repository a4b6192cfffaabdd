/* Interned fused programs (codelets/fused.c), seen from inside: the same
 * program gives the same copy; programs that differ in a constant's value
 * alone are kept apart but share their kernel and the hash their history
 * is kept under; thousands of them are interned and found again. */
#include "test.h"
#include "fuse.h"
#include "fused.h"
#include "runtime.h"

/* x * c + 1 over a float32 input. */
static const cb__fprog *scaled(double c) {
  cb__fprog p;
  cb__fprog_init(&p);
  int in = cb__fprog_input(&p, CB_FLOAT32), r, out;
  int mul[2] = {in, -1}, add[2] = {0, -1};
  cb_operand k[2] = {{0}, test_weak_float(c)};
  if (cb__fprog_step(&p, CB_OP_multiply, mul, k, 2, -1, &r))
    return NULL;
  add[0] = r;
  k[1] = test_weak_float(1.0);
  if (cb__fprog_step(&p, CB_OP_add, add, k, 2, -1, &out))
    return NULL;
  return cb__fprog_intern(&p);
}

TEST(fused_programs_intern_by_value_and_share_kernels) {
  ASSERT_OK(test_start(1, "none"));
  const cb__fprog *a = scaled(2.0), *b = scaled(2.0), *c = scaled(3.0);
  ASSERT(a && b && c);
  CHECK(a == b, "the same program, the same copy");
  CHECK(a != c && a->id != c->id, "another constant, another program");
  CHECK_INT(c->kernel, ==, a->kernel);
  CHECK_INT(c->shape, ==, a->shape);
  CHECK(c->hash != a->hash, "the hashes tell the constants apart");
  /* Past the index's first sizes, each is found again as it was. */
  enum { N = 5000 };
  static const cb__fprog *seen[N];
  int wrong = 0;
  for (int i = 0; i < N; i++)
    wrong += !(seen[i] = scaled(10.0 + i)) || seen[i]->kernel != a->kernel;
  for (int i = 0; i < N; i++)
    wrong += scaled(10.0 + i) != seen[i];
  CHECK_INT(wrong, ==, 0);
  CHECK(scaled(2.0) == a, "the first one too");
  CHECK_OK(cb_shutdown());
}
