"""The runtime's settings fail loudly: a value that is not valid, from
cb.init() or from the environment, raises at the start and names the
setting and the value; nothing is cut or ignored without a word."""

import json
import re
import subprocess
import sys
import textwrap
import warnings

import pytest

import cambrian as cb
from helpers import assert_alive


def escaped(*parts):
    """A pattern matching the literal parts in order, anything between."""
    return ".*".join(re.escape(p) for p in parts)


def run_fresh(code):
    """Runs code in a fresh interpreter (no runtime started yet); returns
    the JSON it prints last."""
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.splitlines()[-1])


# ---- the environment ------------------------------------------------------

def test_bad_environment_values_raise_at_the_first_start():
    """Each value in turn, in one process: a refused start leaves no
    runtime, so the next try reads the environment again."""
    out = run_fresh("""
        import json, os
        import cambrian as cb
        out = []
        for name, value in [("CAMBRIAN_NCPUS", "abc"),
                            ("CAMBRIAN_NCPUS", "-2"),
                            ("CAMBRIAN_NCPUS", "2.5"),
                            ("CAMBRIAN_TILE_SIZE", "-1"),
                            ("CAMBRIAN_TILE_SIZE", "x"),
                            ("CAMBRIAN_TILE_SIZE", "0"),
                            ("CAMBRIAN_SCHED", "nonsense")]:
            os.environ[name] = value
            for attempt in range(2):    # again at the next use
                try:
                    cb.zeros(3)
                    out.append([name, value, "started"])
                except ValueError as e:
                    out.append([name, value, type(e).__name__, str(e)])
            del os.environ[name]
        # With the environment right again, the runtime starts.
        out.append(float(cb.ones(3).sum()))
        print(json.dumps(out))
    """)
    assert out[-1] == 3.0
    for name, value, kind, *msg in out[:-1]:
        assert kind == "ValueError", (name, value, kind)
        assert f"{name}='{value}'" in msg[0] or (
            name == "CAMBRIAN_SCHED" and f"CAMBRIAN_SCHED '{value}'" in msg[0]
        ), msg
    sched = [m for n, _, _, m in out[:-1] if n == "CAMBRIAN_SCHED"][0]
    assert re.search(escaped("unknown scheduler", "'nonsense'",
                             "StarPU's policies", "dmda"), sched), sched


def test_environment_numbers_with_blanks_are_fine():
    out = run_fresh("""
        import json, os
        os.environ["CAMBRIAN_NCPUS"] = " 1 "
        os.environ["CAMBRIAN_TILE_SIZE"] = "70000"
        os.environ["CAMBRIAN_SCHED"] = "lws"
        os.environ["CAMBRIAN_DEVICES"] = "none"
        import cambrian as cb
        c = cb.config()
        print(json.dumps([c["ncpus"], c["tile_size"], c["scheduler"]]))
    """)
    assert out == [1, 70000, "lws"]


def test_a_devices_filter_matching_nothing_raises():
    if cb.devices("gpu"):
        pytest.skip("this machine has a GPU")
    out = run_fresh("""
        import json, os
        import cambrian as cb
        out = {}
        try:
            cb.init(devices="gpu")
        except cb.DeviceNotFoundError as e:
            out["init"] = str(e)
        os.environ["CAMBRIAN_DEVICES"] = "gpu"
        try:
            cb.zeros(3)
        except cb.DeviceNotFoundError as e:
            out["env"] = str(e)
        del os.environ["CAMBRIAN_DEVICES"]
        cb.init(devices="cpu:cpu")    # the CPU workers' device matches
        out["started"] = cb.config()["nopencl"]
        print(json.dumps(out))
    """)
    assert re.search(escaped("no device matches the devices filter 'gpu'",
                             "devices present: cpu:cpu:0"), out["init"]), out
    assert "the CAMBRIAN_DEVICES filter 'gpu'" in out["env"], out
    assert out["started"] == 0


# ---- init() -------------------------------------------------------------

def test_init_refuses_an_unknown_scheduler():
    with pytest.raises(ValueError, match=escaped(
            "unknown scheduler 'nonsense'", "StarPU's policies: ", "eager",
            "lws", "dmda")):
        cb.init(scheduler="nonsense")
    assert_alive()


def test_a_devices_filter_matching_nothing_is_refused_while_running():
    if cb.devices("gpu"):
        pytest.skip("this machine has a GPU")
    with pytest.raises(cb.DeviceNotFoundError, match=escaped(
            "no device matches the devices filter 'gpu'",
            "devices present: ")):
        cb.init(devices="gpu")


def test_too_long_names_are_refused_not_cut():
    long_policy = "eager" + "x" * 300
    with pytest.raises(ValueError, match=escaped(
            "unknown scheduler 'eagerxxx", "...'; StarPU's policies")):
        cb.init(scheduler=long_policy)
    # The filter is quoted shortened, and the explanation stays whole.
    with pytest.raises(ValueError, match=escaped(
            "bad device filter 'wwww", "...': unknown word 'www", "...'",
            "types: cpu, gpu, accelerator)")) as info:
        cb.devices("w" * 600)
    assert str(info.value).endswith("accelerator)")
    with pytest.raises(ValueError, match="task name 'tttt.*' is too long: "
                       "at most 47 bytes"):
        cb.task(name="t" * 48)(lambda: None)


@pytest.mark.parametrize("call,what", [
    (lambda: cb.init(scheduler="eager\0junk"), "scheduler"),
    (lambda: cb.init(devices="cpu\0gpu"), "devices"),
    (lambda: cb.devices("cpu\0gpu"), "a device filter"),
    (lambda: cb.get_device("cpu\0gpu"), "a device filter"),
    (lambda: cb.Kernel("__kernel void k(__global float *x) {}\0 junk",
                       "k"), "the kernel source"),
    (lambda: cb.Kernel("__kernel void k(__global float *x) {}", "k\0j"),
     "the kernel name"),
    (lambda: cb.task(name="f\0g")(lambda: None), "a task name"),
], ids=["scheduler", "devices", "devices()", "get_device", "kernel source",
        "kernel name", "task name"])
def test_a_nul_character_is_refused_not_taken_for_the_end(call, what):
    with pytest.raises(ValueError, match=f"{what} must not contain a NUL "
                       "character"):
        call()


def test_a_dtype_name_with_a_nul_is_not_cut():
    with pytest.raises(TypeError, match="unsupported dtype"):
        cb.zeros(3, dtype="float32\0junk")


@pytest.mark.parametrize("kwargs,match", [
    ({"ncpus": "2"}, "ncpus must be an integer or None, not 'str'"),
    ({"ncpus": 2 ** 40}, f"ncpus={2 ** 40} is too large"),
    ({"tile_size": 1.5}, "tile_size must be an integer or None"),
    ({"tile_size": -3}, "tile_size must be positive, not -3"),
])
def test_init_names_each_bad_number(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        cb.init(**kwargs)


def test_init_while_running_warns_when_settings_differ():
    running = cb.config()
    other = "lws" if running["scheduler"] != "lws" else "eager"
    with pytest.warns(RuntimeWarning, match=escaped(
            "init() changed nothing: the runtime runs already",
            f"the scheduler is '{running['scheduler']}', not '{other}'",
            "cambrian.shutdown()")) as record:
        cb.init(scheduler=other)
    assert record[0].filename == __file__    # the caller's line
    with pytest.warns(RuntimeWarning, match=escaped(
            f"ncpus is {running['ncpus']}, not 0")):
        cb.init(ncpus=0)
    after = cb.config()
    assert after["scheduler"] == running["scheduler"]
    assert after["ncpus"] == running["ncpus"]


def test_init_while_running_with_its_own_settings_is_silent():
    running = cb.config()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cb.init()
        cb.init(ncpus=running["ncpus"], scheduler=running["scheduler"])
    assert_alive()

