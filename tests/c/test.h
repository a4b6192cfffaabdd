/*
 * The C test harness. A test is a function declared with TEST(name) and
 * listed once in a list file (test_list.h); runner.c runs each test in a
 * child process of its own, so that a crash, a hang or a runtime left
 * running fails that test only.
 *
 * Checks report where and what failed and let the test go on; the ASSERT
 * forms also return from the test, for checks whose failure makes the
 * rest meaningless. A test passes when no check failed.
 */
#ifndef CAMBRIAN_TEST_H
#define CAMBRIAN_TEST_H

#include <stdint.h>
#include <stdio.h>

#include "cambrian.h"

#define TEST(name) void test_##name(void)

/* Two tests of check(device): name_cpu on the CPU workers alone, and
 * name_opencl on every OpenCL device. */
#define TEST_CPU_AND_OPENCL(name, check)                                     \
  TEST(name##_cpu) {                                                         \
    ASSERT_OK(test_start(2, "none"));                                        \
    check(0);                                                                \
  }                                                                          \
  TEST(name##_opencl) {                                                      \
    int first = test_need_opencl();                                          \
    ASSERT(first >= 0);                                                      \
    for (int d = first; d < cb_device_count(); d++)                          \
      check(d);                                                              \
  }

/* The exit status of a skipped test (ctest's SKIP_RETURN_CODE). */
#define TEST_SKIPPED 77

/* Records a failed check: file and line, what was checked, and a detail
 * formatted from fmt. */
void test_fail(const char *file, int line, const char *what,
               const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Ends the test as skipped, after saying why; never returns. */
void test_skip(const char *why) __attribute__((noreturn));
/* The name of a CB_E* code ("CB_EINVAL"), or "0". */
const char *test_code_name(int code);

#define TEST_CHECK_(ret, cond, ...)                                          \
  do {                                                                       \
    if (!(cond)) {                                                           \
      test_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                     \
      ret;                                                                   \
    }                                                                        \
  } while (0)

#define TEST_RC_(ret, expr, want)                                            \
  do {                                                                       \
    int test_rc_ = (expr), test_want_ = (want);                              \
    if (test_rc_ != test_want_) {                                            \
      test_fail(__FILE__, __LINE__, #expr, "returned %s (%d), want %s; "     \
                "last error: %s", test_code_name(test_rc_), test_rc_,        \
                test_code_name(test_want_), cb_last_error());                \
      ret;                                                                   \
    }                                                                        \
  } while (0)

#define TEST_CMP_(ret, type, fmt, a, op, b)                                  \
  do {                                                                       \
    type test_a_ = (a), test_b_ = (b);                                       \
    if (!(test_a_ op test_b_)) {                                             \
      test_fail(__FILE__, __LINE__, #a " " #op " " #b,                       \
                "left " fmt ", right " fmt, test_a_, test_b_);               \
      ret;                                                                   \
    }                                                                        \
  } while (0)

/* CHECK(cond) or CHECK(cond, fmt, ...): cond must hold. */
#define CHECK(cond, ...) TEST_CHECK_((void)0, cond, "" __VA_ARGS__)
#define ASSERT(cond, ...) TEST_CHECK_(return, cond, "" __VA_ARGS__)
/* CHECK_RC(call, code): call must return code. */
#define CHECK_RC(expr, want) TEST_RC_((void)0, expr, want)
#define ASSERT_RC(expr, want) TEST_RC_(return, expr, want)
#define CHECK_OK(expr) TEST_RC_((void)0, expr, 0)
#define ASSERT_OK(expr) TEST_RC_(return, expr, 0)
/* CHECK_INT(a, op, b): a op b, compared as long long. */
#define CHECK_INT(a, op, b) TEST_CMP_((void)0, long long, "%lld", a, op, b)
#define ASSERT_INT(a, op, b) TEST_CMP_(return, long long, "%lld", a, op, b)
/* CHECK_DBL(a, op, b): a op b, compared as double. */
#define CHECK_DBL(a, op, b) TEST_CMP_((void)0, double, "%.17g", a, op, b)
/* CHECK_STR(a, b): equal strings. */
#define CHECK_STR(a, b)                                                      \
  TEST_CHECK_((void)0, test_streq((a), (b)), "\"%s\" and \"%s\"", (a), (b))
/* CHECK_HAS(s, part): s contains part. */
#define CHECK_HAS(s, part)                                                   \
  TEST_CHECK_((void)0, test_contains((s), (part)),                           \
              "\"%s\" does not contain \"%s\"", (s), (part))

#define SKIP(why) test_skip(why)

int test_streq(const char *a, const char *b);
int test_contains(const char *s, const char *part);

/* ---- helpers ---------------------------------------------------------- */

/* Starts the runtime with ncpus CPU workers (-1: automatic) and the
 * OpenCL devices that devices selects ("none": no OpenCL device). */
int test_start(int ncpus, const char *devices);
/* The first OpenCL device of the running runtime, or -1. */
int test_opencl_device(void);
/* Starts the runtime with one CPU worker and the OpenCL devices, and
 * returns the first OpenCL device; skips the test when there is none. */
int test_need_opencl(void);

/* Waits until the host copy of a is current; returns what the wait
 * returned. */
int test_sync(cb_array *a);
/* Waits for the end of the tasks that write a (its writer event, which
 * also covers their callbacks); returns what the wait returned, or 0 when
 * no task writes a. */
int test_wait_writer(cb_array *a);
/* Element i of a's host buffer, read as a double, and written (complex
 * elements: the real part; written with a zero imaginary part). */
double test_get(const cb_array *a, int64_t i);
void test_set(cb_array *a, int64_t i, double v);
/* A new array whose element i is first + i * step (converted to t); NULL
 * (after a failed check) when it cannot be made. */
cb_array *test_ramp(cb_dtype t, int ndim, const int64_t *shape, double first,
                    double step);
/* A new 1-D array holding the n values given. */
cb_array *test_values(cb_dtype t, int64_t n, const double *values);
/* An operand for an array, placed on device (-1: auto). */
cb_operand test_arg(cb_array *a, int device);
/* An operation over n operands and the dtype its result must have. */
typedef struct test_promotion {
  cb_op op;
  cb_operand x[2];
  int n;
  cb_dtype want;
} test_promotion;
/* Checks cb_result_dtype against each of the n rows. */
void test_check_promotions(const test_promotion *rows, size_t n);
/* A weak (Python) float scalar, and a strong scalar of dtype t. */
cb_operand test_weak_float(double v);
cb_operand test_scalar(cb_dtype t, double v);
/* Removes dir and everything in it (a test's temporary folder); 0 or -1
 * (errno set). */
int test_remove_tree(const char *dir);
/* Waits up to timeout_ms for *flag to become non-zero; returns it. */
int test_wait_flag(const volatile int *flag, int timeout_ms);

#endif
