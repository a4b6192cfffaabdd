"""Every error a user can reach says what went wrong and names the
offending thing: the argument, value, dtype, shape, operation, filter
string or device, with the exception type the README promises.

Messages that other test files already check with match= are not checked
again here. Tests marked xfail pin messages that do not name what they
should yet: once a message is fixed its test passes, which strict xfail
reports as a failure, so that the mark goes.
"""

import concurrent.futures as cf
import json
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import cambrian as cb
import cambrian.testing as faults
from helpers import Held, assert_alive, reserve

HUGE = 2 ** 70    # beyond int64


def escaped(*parts):
    """A pattern matching the literal parts in order, anything between."""
    return ".*".join(re.escape(p) for p in parts)


@pytest.fixture
def no_gpu():
    if cb.devices("gpu"):
        pytest.skip("this machine has a GPU")


@pytest.fixture
def clean_faults():
    yield
    faults.clear_faults()


# ---- asarray --------------------------------------------------------------

def test_asarray_names_the_unsupported_dtype():
    with pytest.raises(TypeError, match=r"unsupported dtype 'float128'.*"
                       r"pass dtype="):
        cb.asarray(np.arange(3, dtype=np.longdouble))
    with pytest.raises(TypeError, match="unsupported dtype 'complex256'"):
        cb.asarray(np.array([1j, 2j], dtype=np.clongdouble))
    with pytest.raises(TypeError, match="unsupported dtype 'object'"):
        cb.asarray(object())
    # A dtype asked for is named, and so are those that exist.
    with pytest.raises(TypeError, match=escaped(
            "unsupported dtype 'float128'", "bool, int8 to int64, uint8 to "
            "uint64, float16, float32, float64, complex64 and complex128")):
        cb.asarray(np.arange(3.0), dtype=np.longdouble)


def test_asarray_names_the_dimensions():
    with pytest.raises(ValueError, match=r"at most 8 dimensions \(got 9\)"):
        cb.asarray(np.zeros((1,) * 9))
    with pytest.raises(ValueError, match=r"got 10\)"):
        cb.asarray(np.zeros((1,) * 10).tolist())


def test_asarray_says_how_to_copy():
    with pytest.raises(ValueError, match=r"not C-contiguous: pass "
                       r"copy=True"):
        cb.asarray(memoryview(np.arange(10.0))[::2])
    with pytest.raises(ValueError, match="copy=False, but list has no "
                       "buffer"):
        cb.asarray([1.0, 2.0], copy=False)
    with pytest.raises(ValueError, match=r"copy=False.*another dtype"):
        cb.asarray(np.arange(3.0), dtype=np.float32, copy=False)
    with pytest.raises(ValueError, match=r"copy=False.*dtype differs"):
        cb.asarray(cb.ones(3), dtype=np.float32, copy=False)


def test_placement_names_the_filter(no_gpu):
    with pytest.raises(ValueError, match=escaped(
            "bad device filter 'warp-drive'", "unknown word 'warp-drive'")):
        cb.asarray(np.ones(3), device="warp-drive")
    with pytest.raises(cb.DeviceNotFoundError, match=escaped(
            "no device matches 'opencl:gpu'", "cpu:cpu:0")):
        cb.zeros(3, device="opencl:gpu")
    with pytest.raises(TypeError, match="device filter is a string"):
        cb.asarray(np.ones(3), device=3)


# ---- creation functions ---------------------------------------------------

def test_creation_names_shapes_and_dtypes():
    with pytest.raises(ValueError, match=r"got 9\)"):
        cb.zeros((1,) * 9)
    with pytest.raises(ValueError, match=r"got 10\)"):
        cb.empty((1,) * 10)
    with pytest.raises(ValueError, match=r"negative dimension -1"):
        cb.zeros(-1)
    with pytest.raises(ValueError, match=r"negative dimension -3"):
        cb.ones((2, -3))
    with pytest.raises(MemoryError, match="too large"):
        cb.zeros((1 << 40, 1 << 40))
    for dtype, name in ((np.longdouble, "float128"), (object, "object"),
                        ("junk", "junk")):
        with pytest.raises(TypeError, match=f"unsupported dtype '{name}'"):
            cb.zeros(3, dtype=dtype)


def test_full_names_the_value_out_of_range():
    with pytest.raises(OverflowError, match=escaped(
            str(2 ** 40), "out of bounds for int32")):
        cb.full(3, 2 ** 40, dtype=np.int32)


def test_full_names_int64_when_the_value_is_beyond_it():
    with pytest.raises(OverflowError, match="int64"):
        cb.full(3, HUGE, dtype=np.int64)


@pytest.mark.parametrize("value,dtype", [(float("inf"), "int32"),
                                         (float("nan"), "int64")])
def test_full_names_a_float_that_no_integer_holds(value, dtype):
    with pytest.raises(OverflowError, match=escaped(str(value), dtype)):
        cb.full(3, value, dtype=dtype)


def test_arange_names_its_problem():
    with pytest.raises(ValueError, match="arange: step must not be zero"):
        cb.arange(0, 10, 0)
    with pytest.raises(TypeError, match="arange is not supported for bool"):
        cb.arange(5, dtype=bool)
    with pytest.raises(TypeError, match="unsupported dtype 'float128'"):
        cb.arange(5, dtype=np.longdouble)
    with pytest.raises(OverflowError, match="arange: values out of bounds "
                       "for int32"):
        cb.arange(2 ** 31 - 2, 2 ** 31 + 2, dtype=np.int32)


# ---- element-wise operations ----------------------------------------------

def test_shape_mismatch_names_the_operation():
    a, b = cb.ones(3), cb.ones(4)
    for name, f in (("add", lambda: a + b), ("maximum",
                                              lambda: cb.maximum(a, b)),
                    ("less", lambda: a < b),
                    ("where", lambda: cb.where(a > 0, a, b))):
        with pytest.raises(ValueError, match=f"{name}: operands could not "
                           r"be broadcast together with shapes \(3,\).* "
                           r"\(4,\)"):
            f()


def test_operand_errors_name_the_operation_and_type():
    a = cb.ones(3)
    with pytest.raises(TypeError, match="add: unsupported operand type "
                       "'object'"):
        cb.add(a, object())
    with pytest.raises(TypeError, match=escaped("'cambrian.Array'",
                                                "'str'")):
        a + "x"
    with pytest.raises(ValueError, match="add needs at least one array"):
        cb.add(1, 2)
    with pytest.raises(ValueError, match="sqrt needs at least one array"):
        cb.sqrt(2.0)
    with pytest.raises(ValueError, match=r"got 9\)"):
        a + np.ones((1,) * 9)
    with pytest.raises(ValueError, match="not C-contiguous"):
        a + np.arange(6.0)[::2]


@pytest.mark.parametrize("op,f", [("subtract", lambda b: b - b),
                                  ("negative", lambda b: -b)])
def test_bool_refusals_name_the_operation(op, f):
    b = cb.asarray(np.array([True, False]))
    with pytest.raises(TypeError, match=f"{op} is not supported for bool"):
        f(b)


def test_python_integer_out_of_range_is_named():
    i32 = cb.asarray(np.arange(3, dtype=np.int32))
    with pytest.raises(OverflowError, match=escaped(
            f"Python integer {2 ** 40} out of bounds for int32")):
        i32 + 2 ** 40
    with pytest.raises(OverflowError, match=escaped(
            f"Python integer {-2 ** 40} out of bounds for int32")):
        i32 * -2 ** 40


def test_python_integer_beyond_int64_is_named_exactly():
    with pytest.raises(OverflowError, match=escaped(
            f"Python integer {HUGE} out of bounds for int64")):
        cb.asarray(np.arange(3)) + HUGE


def test_astype_and_len_name_their_problem():
    a = cb.ones(3)
    with pytest.raises(TypeError, match="unsupported dtype 'float128'"):
        a.astype(np.longdouble)
    with pytest.raises(TypeError, match=r"astype\(\) needs a dtype"):
        a.astype(None)
    with pytest.raises(TypeError, match="unsized object"):
        len(cb.asarray(1.0))


def test_to_device_names_the_filter(no_gpu):
    a = cb.ones(3)
    with pytest.raises(ValueError, match="bad device filter 'warp'"):
        a.to_device("warp")
    with pytest.raises(cb.DeviceNotFoundError, match="no device matches "
                       "'gpu'"):
        a.to_device("gpu")


def test_to_device_refuses_an_int_as_asarray_does():
    with pytest.raises(TypeError, match="device filter is a string"):
        cb.ones(3).to_device(5)


# ---- reductions -----------------------------------------------------------

def test_reduction_axis_errors_name_the_axis():
    m = cb.ones((2, 3))
    with pytest.raises(ValueError, match="axis 2 is out of bounds for "
                       "array of dimension 2"):
        cb.sum(m, axis=2)
    with pytest.raises(ValueError, match="axis -3 is out of bounds"):
        m.max(-3)
    with pytest.raises(ValueError, match="axis 1 is out of bounds for "
                       "array of dimension 1"):
        cb.mean(cb.ones(3), axis=1)
    for axis, name in ((1.0, "float"), ("0", "str"), (True, "bool")):
        with pytest.raises(TypeError, match=f"axis must be None or an "
                           f"integer, not '{name}'"):
            cb.sum(m, axis=axis)


def test_reduction_names_a_huge_axis_as_given():
    with pytest.raises((ValueError, OverflowError), match=str(HUGE)):
        cb.sum(cb.ones((2, 3)), axis=HUGE)


def test_reduction_methods_name_bad_arguments():
    m = cb.ones((2, 3))
    with pytest.raises(TypeError, match="sum\\(\\) got an unexpected "
                       "keyword argument 'foo'"):
        m.sum(foo=1)
    with pytest.raises(TypeError, match=r"min\(\) takes at most one "
                       r"argument \(axis\)"):
        m.min(0, 1)


def test_dot_names_shapes_and_dimensions():
    with pytest.raises(ValueError, match=escaped("dot: shapes (3,) and (4,) "
                                                 "not aligned")):
        cb.dot(cb.ones(3), cb.ones(4))
    with pytest.raises(ValueError, match=escaped("got 2-D and 2-D",
                                                 "use matmul")):
        cb.dot(cb.ones((2, 2)), cb.ones((2, 2)))
    with pytest.raises(ValueError, match="got 1-D and 0-D"):
        cb.dot(cb.ones(3), 2.0)


# ---- matmul, transpose, gemm, gemv ----------------------------------------

def test_matmul_names_shapes_dtypes_and_operands():
    with pytest.raises(ValueError, match=escaped("3 (a) and 4 (b)")):
        cb.ones((2, 3)) @ cb.ones((4, 2))
    i = cb.asarray(np.ones((2, 2), np.int32))
    assert (i @ i).tolist() == [[2, 2], [2, 2]]  # no BLAS: exact sums
    with pytest.raises(ValueError, match="matmul: operands must be arrays "
                       "of 1 or 2 dimensions, not scalars"):
        cb.matmul(cb.ones((2, 2)), 2.0)
    with pytest.raises(ValueError, match="matmul: operands must have 1 or "
                       "2 dimensions, not 0"):
        cb.matmul(cb.asarray(1.0), cb.ones(2))
    with pytest.raises(TypeError, match="matmul: unsupported operand type "
                       "'str'"):
        cb.matmul(cb.ones((2, 2)), "x")
    with pytest.raises(TypeError, match="transpose: unsupported operand "
                       "type 'str'"):
        cb.transpose("x")


def test_gemm_names_shapes_and_dtypes():
    f64 = cb.ones((2, 2))
    with pytest.raises(ValueError, match=escaped(
            "op(A) is (2, 3), op(B) (2, 3) and C (2, 3)")):
        cb.gemm(1.0, cb.ones((2, 3)), cb.ones((2, 3)), 0.0, cb.ones((2, 3)))
    with pytest.raises(ValueError, match="got 1-D, 2-D, 2-D"):
        cb.gemm(1.0, cb.ones(2), f64, 0.0, cb.ones((2, 2)))
    i = cb.ones((2, 2), dtype=np.int32)
    with pytest.raises(TypeError, match="gemm: operands must be float32, "
                       "float64, complex64 or complex128, got int32"):
        cb.gemm(1.0, i, i, 0.0, cb.ones((2, 2), dtype=np.int32))
    with pytest.raises(TypeError, match="operands are float64 and float32"):
        cb.gemm(1.0, f64, cb.ones((2, 2), dtype=np.float32), 0.0,
                cb.ones((2, 2)))
    with pytest.raises(TypeError, match="not 'numpy.ndarray'"):
        cb.gemm(1.0, f64, f64, 0.0, np.ones((2, 2)))


def test_gemv_names_shapes_dtypes_and_the_output():
    a = cb.ones((2, 3))
    with pytest.raises(ValueError, match=escaped(
            "gemv: op(A) is (2, 3), x (2,) and y (2,)")):
        cb.gemv(1.0, a, cb.ones(2), 0.0, cb.ones(2))
    with pytest.raises(ValueError, match="got 2-D, 2-D, 1-D"):
        cb.gemv(1.0, a, cb.ones((3, 1)), 0.0, cb.ones(2))
    with pytest.raises(TypeError, match="gemv: operands are float64 and "
                       "float32"):
        cb.gemv(1.0, a, cb.ones(3, dtype=np.float32), 0.0, cb.ones(2))
    with pytest.raises(TypeError, match="gemv: the output must be a "
                       "cambrian.Array"):
        cb.gemv(1.0, a, cb.ones(3), 0.0, np.ones(2))
    y = cb.ones(2)
    with pytest.raises(ValueError, match="gemv: the output must not be an "
                       "operand"):
        cb.gemv(1.0, cb.ones((2, 2)), y, 0.0, y)


def test_products_too_large_for_the_device_name_it(opencl_device):
    # Host memory is reserved, not touched: nothing is computed. A has more
    # elements than one allocation holds, in rows of fewer than 2**31
    # (what BLAS takes) where the device allows larger allocations.
    n = opencl_device.max_alloc_bytes // 4 + 1024
    rows = -(-n // (2**31 - 1))
    k = -(-n // rows)
    a = reserve((rows, k), np.float32, opencl_device)
    b = reserve((k,), np.float32, opencl_device)
    # The device, or on a device set the set or the member whose memory
    # falls short (its members are alike).
    where = "(" + "|".join(re.escape(d.filter_string) for d in
                           (opencl_device, *opencl_device.members)) + ")"
    with pytest.raises(cb.DeviceMemoryError, match=escaped(
            "matmul needs up to") + f".*{where} has "):
        a @ b
    with pytest.raises(cb.DeviceMemoryError, match=escaped(
            "transpose needs up to") + f".*{where} has "):
        a.T
    del a, b
    assert_alive()


# ---- devices and filters --------------------------------------------------

@pytest.mark.parametrize("bad,why", [
    ("warp", "unknown word 'warp'"),
    ("opencl:cpu:0:1", "'opencl:cpu:0:1' has more than three parts"),
    ("cpu,", "empty alternative"),
    ("0", "an index needs a backend or a type"),
    ("opencl:0:cpu", "the middle part must be a device type"),
    ("gpu:cpu", "the first of several parts must be a backend"),
])
def test_bad_filters_say_what_is_wrong(bad, why):
    pattern = escaped(f"bad device filter '{bad}': {why}")
    with pytest.raises(ValueError, match=pattern):
        cb.devices(bad)
    with pytest.raises(ValueError, match=pattern):
        cb.get_device(bad)
    with pytest.raises(ValueError, match=pattern):
        with cb.device_scope(bad):
            pass


def test_a_filter_must_be_a_string():
    for f in (lambda: cb.devices(0), lambda: cb.get_device(1.5),
              lambda: cb.device_scope(42).__enter__()):
        with pytest.raises(TypeError, match="a device filter is a string"):
            f()


def test_a_bad_default_device_names_the_variable(monkeypatch):
    monkeypatch.setenv("CAMBRIAN_DEVICE", "nonsense")
    with pytest.raises(ValueError, match="CAMBRIAN_DEVICE"):
        cb.zeros(3)


# ---- init and runtime start ----------------------------------------------

def test_init_names_the_bad_setting():
    with pytest.raises(ValueError, match="ncpus must be 0 or more"):
        cb.init(ncpus=-1)
    with pytest.raises(ValueError, match="tile_size must be positive"):
        cb.init(tile_size=0)
    with pytest.raises(ValueError, match="bad device filter 'warp'"):
        cb.init(devices="warp")


@pytest.mark.parametrize("arg", ["scheduler", "devices"])
def test_init_names_an_argument_of_the_wrong_type(arg):
    with pytest.raises(TypeError, match=arg):
        cb.init(**{arg: 5})


def test_runtime_start_errors_name_their_cause():
    """In a fresh process: a bad CAMBRIAN_DEVICES, no workers at all, and
    a Device of an earlier runtime that the new one lacks."""
    code = textwrap.dedent("""
        import json, os
        import cambrian as cb
        out = {}
        os.environ["CAMBRIAN_DEVICES"] = "warp"
        try:
            cb.zeros(3)
        except ValueError as e:
            out["env"] = str(e)
        del os.environ["CAMBRIAN_DEVICES"]
        try:
            cb.init(ncpus=0, devices="none")
        except ValueError as e:
            out["none"] = str(e)
        ocl = cb.devices("opencl")
        if ocl:
            cb.shutdown()
            cb.init(devices="none")
            try:
                cb.zeros(3, device=ocl[0])
            except cb.DeviceNotFoundError as e:
                out["gone"] = [ocl[0].filter_string, str(e)]
        print(json.dumps(out))
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.splitlines()[-1])
    assert re.search(escaped("bad CAMBRIAN_DEVICES filter 'warp'",
                             "unknown word 'warp'"), out["env"]), out
    assert "no CPU workers and no OpenCL device" in out["none"], out
    if cb.devices("opencl"):
        where, msg = out["gone"]
        assert f"device {where} does not exist in this runtime" in msg


# ---- task functions -------------------------------------------------------

def test_task_placement_names_the_device(opencl_device):
    with pytest.raises(ValueError, match=escaped(
            "run on CPU workers, not on", opencl_device.filter_string)):
        cb.task(device=opencl_device)(lambda: None)
    with pytest.raises(ValueError, match="bad device filter 'warp'"):
        cb.task(device="warp")(lambda: None)


@cb.task(name="load_batch")
def load_batch():
    raise KeyError("missing")


@cb.task
def consume(value):
    return value


def test_task_failures_name_the_task_and_the_exception():
    f = load_batch()
    g = consume(f)
    with pytest.raises(cb.TaskError, match=escaped(
            "task load_batch raised KeyError", "missing")):
        f.result()
    with pytest.raises(cb.DependencyError, match=escaped(
            "consume did not run", "came from load_batch")):
        g.result()


def test_a_nested_task_function_is_named_by_its_own_name():
    def a_function_defined_inside_a_test_with_a_long_name():
        @cb.task
        def nested_consumer(value):
            return value
        return nested_consumer

    f = load_batch()
    g = a_function_defined_inside_a_test_with_a_long_name()(f)
    try:
        with pytest.raises(cb.DependencyError, match="nested_consumer did "
                           "not run"):
            g.result()
    finally:
        f.exception()        # retrieved: not logged when collected


# ---- kernels ---------------------------------------------------------------

SET = ("__kernel void set(__global float *x, float a) "
       "{ x[get_global_id(0)] = a; }")
SET_INT = ("__kernel void set_int(__global int *x, int a) "
           "{ x[get_global_id(0)] = a; }")


def test_kernel_construction_names_its_problem():
    with pytest.raises(ValueError, match="a kernel needs its source and "
                       "its name"):
        cb.Kernel(SET, "")
    with pytest.raises(ValueError, match="kernel name too long: nnnn"):
        cb.Kernel(SET, "n" * 200)
    with pytest.raises(ValueError, match="local memory needs a positive "
                       "size"):
        cb.Local(0)


def test_kernel_source_of_the_wrong_type_is_named():
    with pytest.raises(TypeError, match="source"):
        cb.Kernel(5, "set")


def test_kernel_launch_errors_name_their_problem(opencl_device):
    k = cb.Kernel(SET, "set")
    y = cb.empty(8, dtype=np.float32, device=opencl_device)
    with pytest.raises(ValueError, match="local size has 2 dimensions, "
                       "global size 1"):
        k(8, cb.Out(y), np.float32(1), local_size=(2, 2))
    i = cb.empty(8, dtype=np.int32, device=opencl_device)
    with pytest.raises(TypeError, match=escaped("kernel set: argument 0 "
                                                "(x) is float*",
                                                "Array of int32")):
        k(8, cb.Out(i), np.float32(1))
    with pytest.raises(TypeError, match="'a' is float \\(float32\\), got "
                       "float64"):
        k(8, cb.Out(y), np.float64(1))


def test_kernel_integer_out_of_range_names_the_parameter(opencl_device):
    k = cb.Kernel(SET_INT, "set_int")
    y = cb.empty(8, dtype=np.int32, device=opencl_device)
    with pytest.raises(OverflowError, match=r"'a'|\(a\)"):
        k(8, cb.Out(y), 2 ** 40)


def test_kernel_argument_too_large_names_the_device(opencl_device):
    k = cb.Kernel(SET, "set")
    n = opencl_device.max_alloc_bytes // 4 + 1024
    huge = reserve(n, np.float32)    # reserved, never touched
    with pytest.raises(cb.DeviceMemoryError, match=escaped(
            "kernel set: argument 0 needs", opencl_device.filter_string,
            f"allocates at most {opencl_device.max_alloc_bytes}")):
        k(8, cb.Out(huge), np.float32(1), device=opencl_device)


def test_kernel_failures_name_kernel_and_device(opencl_device):
    where = opencl_device.filter_string
    y = cb.empty(1, dtype=np.float32, device=opencl_device)
    with pytest.raises(cb.KernelBuildError, match=escaped(
            f"kernel broken failed to build on {where}",
            "CL_BUILD_PROGRAM_FAILURE")):
        cb.Kernel("__kernel void broken(__global float *x) "
                  "{ x[0] = nothing; }", "broken")(1, cb.Out(y))
    k = cb.Kernel(SET, "set")
    z = cb.empty(10, dtype=np.float32, device=opencl_device)
    fut = k(10, cb.Out(z), np.float32(1), local_size=3)
    with pytest.raises(cb.DeviceError, match=escaped(
            f"kernel set on {where}", "CL_INVALID_WORK_GROUP_SIZE")):
        fut.result()
    check = cb.Kernel("__kernel void check(__global const float *x) "
                      "{ CB_ASSERT(x[get_global_id(0)] != 2.0f); }", "check")
    x = cb.asarray(np.arange(4, dtype=np.float32), device=opencl_device)
    with pytest.raises(cb.DeviceAssertionError, match=escaped(
            "kernel check: CB_ASSERT failed at line 1",
            "work-item (2, 0, 0)")):
        check(4, x).result()


# ---- graphs ----------------------------------------------------------------

def recorded():
    with cb.Graph() as g:
        x = g.input("x", (4,), cb.float32)
        g.output("y", x * 2.0)
    return g


def test_graph_misuse_names_its_problem():
    g = recorded()
    with pytest.raises(RuntimeError, match="recorded already"):
        with g:
            pass
    fresh = cb.Graph()
    with pytest.raises(RuntimeError, match="record the graph first"):
        fresh.run(x=np.ones(4, np.float32))
    with pytest.raises(RuntimeError, match="record the graph first"):
        fresh.estimate(x=np.ones(4, np.float32))
    with pytest.raises(ValueError, match=escaped(
            "input 'x': the graph takes float32 (4,), got float32 (3,)")):
        g.estimate(x=np.ones(3, np.float32))
    with pytest.raises(ValueError, match="in_flight must be at least 1"):
        g.map([], in_flight=0)


def test_graph_recording_names_dtypes_and_operations():
    with cb.Graph() as g:
        b = g.input("b", (4,), cb.bool_)
        i = g.input("i", (4,), cb.int32)
        with pytest.raises(TypeError, match="subtract is not supported "
                           "for bool"):
            b - b
        with pytest.raises(OverflowError, match=escaped(
                f"Python integer {2 ** 40} out of bounds for int32")):
            i + 2 ** 40
        with pytest.raises(TypeError, match="unsupported dtype 'float128'"):
            i.astype(np.longdouble)
        with pytest.raises(ValueError, match="dot: operands must be arrays, "
                           "not scalars"):
            cb.dot(i, 2.0)
        with pytest.raises(TypeError, match="unsupported dtype 'float128'"):
            g.input("u", (4,), np.longdouble)
        g.output("y", i + b)


@pytest.mark.parametrize("shape,named", [((1,) * 9, "got 9"),
                                         ((-2,), "-2")])
def test_graph_input_names_its_bad_shape(shape, named):
    with pytest.raises(ValueError, match=named):
        with cb.Graph() as g:
            g.input("x", shape, cb.float32)


def test_graph_map_failures_are_counted_and_named(clean_faults):
    g = recorded()
    faults.inject_fault("multiply", device="cpu", nth=1)
    faults.inject_fault("multiply", device="cpu", nth=2)
    batches = [cb.asarray(np.ones(4, np.float32), device="cpu")] * 3
    with pytest.raises(ExceptionGroup, match="2 batches of Graph.map "
                       "failed") as info:
        list(g.map(batches, progress=False, device="cpu"))
    for e in info.value.exceptions:
        assert isinstance(e, cb.DeviceError)
        assert re.search("multiply failed", str(e)), str(e)
    cb.synchronize()


def test_graph_map_counts_one_failed_batch_in_the_singular(clean_faults):
    g = recorded()
    faults.inject_fault("multiply", device="cpu", nth=1)
    batches = [cb.asarray(np.ones(4, np.float32), device="cpu")] * 2
    with pytest.raises(ExceptionGroup, match="^1 batch of Graph.map "
                       "failed"):
        list(g.map(batches, progress=False, device="cpu"))
    cb.synchronize()


# ---- futures, cancellation, synchronize -----------------------------------

def test_wait_timeouts_say_what_concurrent_futures_says():
    # A negative timeout looks without waiting, as in concurrent.futures;
    # one that is not a number fails with the same message.
    plain = cf.Future()
    with pytest.raises(TypeError) as expected:
        plain.result(timeout="soon")
    held = Held("cpu")
    try:
        b = held.array + 1
        with pytest.raises(cf.TimeoutError):
            b.future.result(timeout=-1)
        with pytest.raises(TypeError) as got:
            b.future.result(timeout="soon")
        assert str(got.value) == str(expected.value)
    finally:
        held.release()


def test_wait_refuses_what_is_not_a_future():
    with pytest.raises(TypeError, match="got object <object object"):
        cb.wait([object()])
    with pytest.raises(TypeError, match="got str 'x'"):
        list(cb.as_completed(["x"]))


def test_cancellation_names_the_operation():
    held = Held("cpu")
    try:
        b = held.array + 1
        assert b.future.cancel()
        c = b * 2
    finally:
        held.release()
    with pytest.raises(cf.CancelledError, match="add was cancelled"):
        b.numpy()
    with pytest.raises(cb.DependencyError, match=escaped(
            "multiply did not run", "add was cancelled")):
        c.numpy()
    cb.synchronize()


def test_synchronize_timeout_says_so():
    held = Held("cpu")
    try:
        with pytest.raises(TimeoutError, match="synchronize timed out"):
            cb.synchronize(timeout=0.01)
    finally:
        held.release()
    cb.synchronize()


# ---- asynchronous failures: every CambrianError ---------------------------

@pytest.mark.parametrize("op,run", [
    ("add", lambda a: a + 1),
    ("sum", lambda a: cb.sum(a)),
    ("matmul", lambda a: cb.ones((3, 3), device="cpu") @ a),
], ids=["add", "sum", "matmul"])
@pytest.mark.parametrize("status,exc", [
    ("CL_OUT_OF_RESOURCES", cb.DeviceError),
    ("CL_MEM_OBJECT_ALLOCATION_FAILURE", cb.DeviceMemoryError)])
def test_device_failures_name_operation_and_status(clean_faults, op, run,
                                                   status, exc):
    faults.inject_fault(op, device="cpu", nth=1, cl_status=status)
    r = run(cb.asarray(np.arange(3.0), device="cpu"))
    with pytest.raises(exc, match=escaped(f"{op} failed", status)):
        r.numpy()


def test_device_failures_name_the_device(clean_faults):
    faults.inject_fault("add", device="cpu", nth=1)
    r = cb.asarray(np.arange(3.0), device="cpu") + 1
    with pytest.raises(cb.DeviceError, match="cpu:cpu:0"):
        r.numpy()


def test_dependency_error_names_both_operations(clean_faults):
    faults.inject_fault("add", device="cpu", nth=1)
    r = cb.sqrt(cb.asarray(np.arange(3.0), device="cpu") + 1)
    with pytest.raises(cb.DependencyError, match=escaped(
            "sqrt did not run: an input came from add, which failed",
            "CL_OUT_OF_RESOURCES")):
        r.numpy()


def test_synchronize_counts_the_failures(clean_faults):
    faults.inject_fault("add", device="cpu", nth=1)
    faults.inject_fault("subtract", device="cpu", nth=1)
    a = cb.asarray(np.arange(3.0), device="cpu")
    b, c = a + 1, a - 1
    with pytest.raises(ExceptionGroup, match="2 cambrian operations "
                       "failed") as info:
        cb.synchronize()
    got = sorted(str(e).split(" ")[0] for e in info.value.exceptions)
    assert got == ["add", "subtract"]


def test_a_failure_synchronize_raised_is_not_logged_again(clean_faults,
                                                          caplog):
    import gc
    faults.inject_fault("add", device="cpu", nth=1)
    b = cb.asarray(np.arange(3.0), device="cpu") + 1
    cb.wait([b])
    with pytest.raises(cb.DeviceError, match="add failed"):
        cb.synchronize()
    with caplog.at_level("ERROR", logger="cambrian"):
        del b
        gc.collect()
    assert "never retrieved" not in caplog.text


def test_fault_injection_arguments_are_named():
    with pytest.raises(ValueError, match="unknown OpenCL status "
                       "'CL_NOT_A_STATUS'"):
        faults.inject_fault("add", cl_status="CL_NOT_A_STATUS")
    with pytest.raises(ValueError, match="nth counts from 1"):
        faults.inject_fault("add", nth=0)
    with pytest.raises(ValueError, match="no operation is named 'xxxx"):
        faults.inject_fault("x" * 100)
    with pytest.raises(ValueError, match="bad device filter 'warp'"):
        faults.inject_fault("add", device="warp")
