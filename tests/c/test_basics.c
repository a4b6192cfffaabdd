/* Error codes and messages, dtypes and the names of operations,
 * reductions, backends, device types and OpenCL statuses. None of these
 * needs the runtime. */
#include <pthread.h>
#include <string.h>

#include <CL/cl.h>

#include "test.h"

TEST(strerror_messages) {
  CHECK_STR(cb_strerror(CB_OK), "success");
#define CHECK_MESSAGE(name, msg) CHECK_STR(cb_strerror(CB_##name), msg);
  CB_ERRNO_MAP(CHECK_MESSAGE)
#undef CHECK_MESSAGE
  CHECK_STR(cb_strerror(1), "unknown error");
  CHECK_STR(cb_strerror(-1), "unknown error");
  CHECK_STR(cb_strerror(CB__ERRNO_END), "unknown error");
}

TEST(error_codes_are_negative_and_distinct) {
  static const int codes[] = {
#define CODE(name, msg) CB_##name,
      CB_ERRNO_MAP(CODE)
#undef CODE
  };
  int n = (int)(sizeof codes / sizeof *codes);
  for (int i = 0; i < n; i++) {
    CHECK_INT(codes[i], <, 0);
    for (int k = 0; k < i; k++)
      CHECK_INT(codes[i], !=, codes[k]);
  }
}

static void *fail_in_thread(void *arg) {
  char *seen = arg;
  /* A new thread has no error of its own yet. */
  strcpy(seen, cb_last_error());
  cb_array *a;
  int64_t shape[1] = {-5};
  cb_array_new(CB_FLOAT32, 1, shape, &a);
  strcat(seen, "|");
  strcat(seen, cb_last_error());
  return NULL;
}

TEST(last_error_is_per_thread) {
  int64_t shape[CB_MAX_NDIM + 1] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  cb_array *a;
  CHECK_RC(cb_array_new(CB_FLOAT32, CB_MAX_NDIM + 1, shape, &a), CB_EINVAL);
  char mine[512];
  strcpy(mine, cb_last_error());
  CHECK_HAS(mine, "got 9");
  char seen[1200] = "";
  pthread_t t;
  ASSERT_INT(pthread_create(&t, NULL, fail_in_thread, seen), ==, 0);
  pthread_join(t, NULL);
  CHECK(strncmp(seen, "no error|", 9) == 0, "the new thread saw: %s", seen);
  CHECK_HAS(seen, "negative dimension");
  /* The other thread's failure left this thread's message alone. */
  CHECK_STR(cb_last_error(), mine);
}

TEST(dtype_names_and_sizes) {
  static const struct {
    cb_dtype t;
    const char *name;
    size_t size;
  } rows[] = {{CB_BOOL, "bool", 1},
              {CB_INT32, "int32", 4},
              {CB_INT64, "int64", 8},
              {CB_FLOAT32, "float32", 4},
              {CB_FLOAT64, "float64", 8},
              {CB_INT8, "int8", 1},
              {CB_INT16, "int16", 2},
              {CB_UINT8, "uint8", 1},
              {CB_UINT16, "uint16", 2},
              {CB_UINT32, "uint32", 4},
              {CB_UINT64, "uint64", 8},
              {CB_COMPLEX64, "complex64", 8},
              {CB_COMPLEX128, "complex128", 16},
              {CB_FLOAT16, "float16", 2}};
  CHECK_INT(CB_NDTYPES, ==, 14);
  for (int i = 0; i < 14; i++) {
    CHECK_STR(cb_dtype_name(rows[i].t), rows[i].name);
    CHECK_INT(cb_dtype_size(rows[i].t), ==, rows[i].size);
    CHECK_INT(cb_dtype_from_name(rows[i].name), ==, rows[i].t);
  }
}

TEST(dtype_invalid) {
  CHECK_STR(cb_dtype_name(CB_NDTYPES), "invalid");
  CHECK_STR(cb_dtype_name((cb_dtype)-1), "invalid");
  CHECK_INT(cb_dtype_size(CB_NDTYPES), ==, 0);
  CHECK_INT(cb_dtype_size((cb_dtype)-1), ==, 0);
  CHECK_INT(cb_dtype_from_name("bfloat16"), ==, -1);
  CHECK_INT(cb_dtype_from_name("Float32"), ==, -1);
  CHECK_INT(cb_dtype_from_name(""), ==, -1);
}

TEST(op_names_and_kinds) {
  static const char *const names[] = {
#define X(name, kind, fexpr, iexpr, bexpr, cexpr, types) #name,
#include "cambrian/elementwise.def"
#undef X
  };
  static const cb_op_kind kinds[] = {
#define X(name, kind, fexpr, iexpr, bexpr, cexpr, types) kind,
#include "cambrian/elementwise.def"
#undef X
  };
  for (int op = 0; op < CB_NOPS; op++) {
    CHECK_STR(cb_op_name((cb_op)op), names[op]);
    CHECK_INT(cb_op_get_kind((cb_op)op), ==, kinds[op]);
  }
  CHECK_STR(cb_op_name(CB_OP_add), "add");
  CHECK_INT(cb_op_get_kind(CB_OP_add), ==, CB_KIND_BINARY);
  CHECK_INT(cb_op_get_kind(CB_OP_sqrt), ==, CB_KIND_MATH);
  CHECK_INT(cb_op_get_kind(CB_OP_less), ==, CB_KIND_COMPARE);
  CHECK_INT(cb_op_get_kind(CB_OP_where), ==, CB_KIND_WHERE);
  CHECK_INT(cb_op_get_kind(CB_OP_cast), ==, CB_KIND_CAST);
  CHECK_INT(cb_op_get_kind(CB_OP_fill), ==, CB_KIND_FILL);
  CHECK_INT(cb_op_get_kind(CB_OP_arange), ==, CB_KIND_ARANGE);
  CHECK_STR(cb_op_name(CB_NOPS), "invalid");
  CHECK_STR(cb_op_name((cb_op)-1), "invalid");
}

TEST(op_kind_outside_the_table) {
  CHECK_INT(cb_op_get_kind(CB_NOPS), ==, CB_KIND_INVALID);
  CHECK_INT(cb_op_get_kind((cb_op)(CB_NOPS + 1000000)), ==, CB_KIND_INVALID);
  CHECK_INT(cb_op_get_kind((cb_op)-1), ==, CB_KIND_INVALID);
  /* The last operation of the table still has its kind. */
  CHECK_INT(cb_op_get_kind((cb_op)(CB_NOPS - 1)), !=, CB_KIND_INVALID);
}

TEST(reduce_names) {
  CHECK_INT(CB_NREDUCE, ==, 7);
  CHECK_STR(cb_reduce_name(CB_REDUCE_sum), "sum");
  CHECK_STR(cb_reduce_name(CB_REDUCE_min), "min");
  CHECK_STR(cb_reduce_name(CB_REDUCE_max), "max");
  CHECK_STR(cb_reduce_name(CB_REDUCE_mean), "mean");
  CHECK_STR(cb_reduce_name(CB_REDUCE_norm), "norm");
  CHECK_STR(cb_reduce_name(CB_REDUCE_argmin), "argmin");
  CHECK_STR(cb_reduce_name(CB_REDUCE_argmax), "argmax");
  CHECK_STR(cb_reduce_name(CB_NREDUCE), "?");
  CHECK_STR(cb_reduce_name((cb_reduce_op)-1), "?");
}

TEST(backend_and_devtype_names) {
  CHECK_INT(CB_NBACKENDS, ==, 2);
  CHECK_STR(cb_backend_name(CB_BACKEND_CPU), "cpu");
  CHECK_STR(cb_backend_name(CB_BACKEND_OPENCL), "opencl");
  CHECK_STR(cb_backend_name(CB_NBACKENDS), "invalid");
  CHECK_STR(cb_backend_name((cb_backend)-1), "invalid");
  CHECK_STR(cb_devtype_name(CB_DEVTYPE_CPU), "cpu");
  CHECK_STR(cb_devtype_name(CB_DEVTYPE_GPU), "gpu");
  CHECK_STR(cb_devtype_name(CB_DEVTYPE_ACCELERATOR), "accelerator");
  CHECK_STR(cb_devtype_name(CB_NDEVTYPES), "invalid");
}

TEST(cl_status_names) {
  CHECK_STR(cb_cl_status_name(CL_SUCCESS), "CL_SUCCESS");
  CHECK_STR(cb_cl_status_name(CL_OUT_OF_RESOURCES), "CL_OUT_OF_RESOURCES");
  CHECK_STR(cb_cl_status_name(CL_INVALID_GLOBAL_WORK_SIZE),
            "CL_INVALID_GLOBAL_WORK_SIZE");
  CHECK_STR(cb_cl_status_name(-9999), "CL_UNKNOWN_ERROR");
  CHECK_STR(cb_cl_status_name(7), "CL_UNKNOWN_ERROR");
  CHECK_INT(cb_cl_status_code("CL_OUT_OF_RESOURCES"), ==,
            CL_OUT_OF_RESOURCES);
  CHECK_INT(cb_cl_status_code("CL_MEM_OBJECT_ALLOCATION_FAILURE"), ==,
            CL_MEM_OBJECT_ALLOCATION_FAILURE);
  CHECK_INT(cb_cl_status_code("CL_NO_SUCH_STATUS"), ==, 0);
  CHECK_INT(cb_cl_status_code(""), ==, 0);
  /* Every named status goes back to its code. */
  for (int s = -70; s <= 0; s++) {
    const char *name = cb_cl_status_name(s);
    if (strcmp(name, "CL_UNKNOWN_ERROR") != 0)
      CHECK_INT(cb_cl_status_code(name), ==, s);
  }
}
