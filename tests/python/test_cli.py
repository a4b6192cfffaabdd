"""python -m cambrian: --help, --version, info, calibrate, trace-view."""

import json
import os
import subprocess
import sys

import pytest

import cambrian.__main__ as main


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "cambrian", *args],
                          capture_output=True, text=True, timeout=300,
                          env=env)


def test_info_lists_devices():
    r = run("info")
    assert r.returncode == 0, r.stderr
    assert "devices:" in r.stdout and "cpu:cpu:0" in r.stdout


def test_bad_usage():
    r = run("nonsense")
    assert r.returncode == 2 and "usage" in r.stderr
    assert run("--help").returncode == 0


def test_help_lists_the_commands():
    r = run("--help")
    assert r.returncode == 0, r.stderr
    for word in ("info", "calibrate", "trace-view", "--version"):
        assert word in r.stdout
    r = run("trace-view", "--help")
    assert r.returncode == 0 and "FILE" in r.stdout and ".png" in r.stdout


def test_version():
    import cambrian
    r = run("--version")
    assert r.returncode == 0
    assert r.stdout.strip() == f"cambrian {cambrian.__version__}"


def test_no_command_prints_the_usage():
    r = run()
    assert r.returncode == 2 and "usage" in r.stderr


def test_info_into_a_reader_that_leaves_early():
    # python -m cambrian info | head -1: no traceback when head is done.
    p = subprocess.run(
        f"{sys.executable} -m cambrian info | head -1", shell=True,
        capture_output=True, text=True, timeout=300)
    assert p.stdout.startswith("cambrian "), p.stdout
    assert "Traceback" not in p.stderr and "BrokenPipe" not in p.stderr, \
        p.stderr


def test_info_json():
    r = run("info", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["versions"]["starpu"] == doc["config"]["starpu_version"]
    assert "cpu:cpu:0" in [d["filter_string"] for d in doc["devices"]]
    assert doc["workers"] and "ncpus" in doc["config"]


@pytest.fixture(scope="module")
def trace_file(tmp_path_factory):
    import cambrian as cb
    path = tmp_path_factory.mktemp("trace") / "run.json"
    with cb.trace(str(path)):
        a = cb.arange(200_000.0)
        (cb.sqrt(a) + a).wait()
    return path


def test_trace_view_html(trace_file):
    r = run("trace-view", str(trace_file))
    assert r.returncode == 0, r.stderr
    out = trace_file.with_suffix(".html")
    assert f"wrote {out}" in r.stdout
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert "sqrt" in page and "<title>" in page


def test_trace_view_png(trace_file, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "gantt.png"
    r = run("trace-view", str(trace_file), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_trace_view_of_a_missing_file(tmp_path):
    r = run("trace-view", str(tmp_path / "none.json"))
    assert r.returncode == 1 and "none.json" in r.stderr


def test_calibrate_writes_models(tmp_path):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    r = run("calibrate", env=env)
    assert r.returncode == 0, r.stderr
    models = tmp_path / "cambrian" / "sampling" / "codelets"
    names = {p.name for p in models.rglob("*") if p.is_file()}
    for op in ("add", "multiply", "sqrt", "exp", "divide", "fill"):
        assert any(n.startswith(f"cambrian_{op}.") for n in names), names
    assert "calibrated cpu:cpu:0" in r.stdout


# ---- calibrate --blas ------------------------------------------------------

GOOD = ("GEMMK=0 KREG=1 KWG=32 KWI=2 MDIMA=16 MDIMC=16 MWG=64 NDIMB=8 "
        "NDIMC=8 NWG=64 SA=1 SB=1 STRM=0 STRN=0 VWM=4 VWN=4")
SLOW = GOOD.replace("KWI=2", "KWI=8")


@pytest.fixture
def fake_tuner(tmp_path):
    """A stand-in for clblast_tuner_xgemm that reports two stages, the
    second faster, and records its arguments."""
    path = tmp_path / "tuner"
    path.write_text(
        "#!/bin/sh\n"
        f"echo \"$@\" >> {tmp_path}/calls\n"
        "p=32; while [ $# -gt 0 ]; do [ \"$1\" = -precision ] && p=$2; "
        "shift; done\n"
        "echo '* Found best result 9.0 ms: 15000.0 GFLOPS'\n"
        f"echo \"* Best parameters: {SLOW} PRECISION=$p\"\n"
        "echo '* Found best result 3.5 ms: 39000.0 GFLOPS'\n"
        f"echo \"* Best parameters: {GOOD} PRECISION=$p\"\n")
    path.chmod(0o755)
    return path


def test_calibrate_blas_writes_the_fastest_parameters(tmp_path, fake_tuner):
    import cambrian as cb
    if not cb.devices("opencl:cpu"):
        pytest.skip("no OpenCL CPU device")
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path),
               CAMBRIAN_CLBLAST_TUNER=str(fake_tuner))
    r = run("calibrate", "--blas", "--devices", "opencl:cpu", "--seconds",
            "60", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    files = list((tmp_path / "cambrian" / "clblast").glob("*.txt"))
    assert len(files) == 1
    lines = files[0].read_text().splitlines()
    assert lines == [f"Xgemm 32 {GOOD}", f"Xgemm 64 {GOOD}"]
    # The restarted runtime handed both to CLBlast.
    assert "opencl:cpu:0: 2 CLBlast kernel(s) tuned" in r.stdout, r.stdout
    assert "-precision 32" in (tmp_path / "calls").read_text()
    # A product on the device with those parameters is right.
    code = ("import numpy as np, cambrian as cb\n"
            "d = cb.devices('opencl:cpu')[0]\n"
            "a = np.random.rand(70, 50); b = np.random.rand(50, 30)\n"
            "c = (cb.asarray(a, device=d) @ cb.asarray(b, device=d))\n"
            "print(d.blas_tuned, np.abs(c.numpy() - a @ b).max() < 1e-9)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, timeout=300, env=env)
    assert r.stdout.split() == ["2", "True"], r.stdout + r.stderr


def test_calibrate_blas_without_a_tuner(monkeypatch):
    import io

    import cambrian._blas_tune as tune
    monkeypatch.delenv(tune.TUNER_ENV, raising=False)
    monkeypatch.setattr(tune.shutil, "which", lambda name: None)
    out = io.StringIO()
    assert main.calibrate_blas(out=out) == 1
    assert "clblast-utils" in out.getvalue()


def test_tune_file_and_lines(tmp_path):
    from cambrian._blas_tune import Tuned, tune_file
    path = tune_file(str(tmp_path), "Some GPU (rev 2)")
    assert path.endswith(os.path.join("clblast", "Some_GPU__rev_2_.txt"))
    assert Tuned(64, 1.0, {"B": 2, "A": 1}).line() == "Xgemm 64 A=1 B=2"


# ---- OpenCL drivers that no ICD file registers ----------------------------

def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


@pytest.fixture
def drivers(tmp_path, monkeypatch):
    """A folder of libraries searched for OpenCL drivers instead of the
    system's, and an empty folder of .icd files as OCL_ICD_VENDORS."""
    libs, vendors = tmp_path / "lib", tmp_path / "vendors"
    libs.mkdir()
    vendors.mkdir()
    monkeypatch.setattr(main, "OPENCL_LIB_DIRS", [str(libs)])
    monkeypatch.setenv("OCL_ICD_VENDORS", str(vendors))
    monkeypatch.delenv("OCL_ICD_FILENAMES", raising=False)
    return libs, vendors


def test_unregistered_drivers_are_found(drivers):
    libs, _ = drivers
    real = touch(libs / "libnvidia-opencl.so.570.86.15")
    (libs / "libnvidia-opencl.so.1").symlink_to(real.name)
    amd = touch(libs / "libamdocl64.so")
    intel = touch(libs / "libintelocl.so")
    for other in ("libOpenCL.so.1", "libopencl-clang.so.14",
                  "libsocl-1.3.so.0", "libnvidia-ml.so.1"):
        touch(libs / other)      # no drivers
    found = main.unregistered_opencl_drivers([])
    assert sorted(found) == sorted([
        (str(libs / "libnvidia-opencl.so.1"), "nvidia"),
        (str(amd), "amd"), (str(intel), "intel")])


def test_drivers_registered_or_with_a_platform_are_not_named(drivers,
                                                             monkeypatch):
    libs, vendors = drivers
    nv = touch(libs / "libnvidia-opencl.so.1")
    amd = touch(libs / "libamdocl64.so")
    pocl = touch(libs / "libpocl.so.2")
    touch(libs / "libMesaOpenCL.so.1")
    (vendors / "nvidia.icd").write_text(f"{nv}\n")    # by its path
    (vendors / "pocl.icd").write_text("libpocl.so.2\n")   # by its name
    (vendors / "notes.txt").write_text(f"{amd}\n")    # no .icd file
    assert sorted(main.unregistered_opencl_drivers([])) == sorted([
        (str(amd), "amd"), (str(libs / "libMesaOpenCL.so.1"), "mesa")])
    amd_platform = {"name": "AMD Accelerated Parallel Processing",
                    "vendor": "Advanced Micro Devices, Inc."}
    assert main.unregistered_opencl_drivers([amd_platform]) == [
        (str(libs / "libMesaOpenCL.so.1"), "mesa")]
    # OCL_ICD_VENDORS naming one .icd file; OCL_ICD_FILENAMES registers
    # nothing (ocl-icd does not read it).
    (vendors / "amd.icd").write_text(f"{amd}\n")
    monkeypatch.setenv("OCL_ICD_VENDORS", str(vendors / "amd.icd"))
    monkeypatch.setenv("OCL_ICD_FILENAMES", f"{nv}:libpocl.so.2")
    assert sorted(main.unregistered_opencl_drivers([])) == sorted([
        (str(nv), "nvidia"), (str(pocl), "pocl"),
        (str(libs / "libMesaOpenCL.so.1"), "mesa")])


def test_notes_say_how_to_register_a_driver(drivers, monkeypatch):
    libs, vendors = drivers
    nv = touch(libs / "libnvidia-opencl.so.1")
    text = "\n".join(main.opencl_registration_notes([]))
    assert f"note: {nv} is an OpenCL driver" in " ".join(text.split())
    assert f"echo {nv} > {vendors / 'nvidia.icd'}" in text
    assert "/etc/OpenCL/vendors" not in text    # not read: OCL_ICD_VENDORS
    monkeypatch.delenv("OCL_ICD_VENDORS")
    text = "\n".join(main.opencl_registration_notes([]))
    assert f"echo {nv} > /etc/OpenCL/vendors/nvidia.icd" in text
    assert f"echo {nv} > ~/.opencl-vendors/nvidia.icd" in text
    assert "export OCL_ICD_VENDORS=~/.opencl-vendors" in text
    assert "OCL_ICD_FILENAMES names it" not in text
    (vendors / "pocl.icd").write_text("libpocl.so.2\n")
    monkeypatch.setenv("OCL_ICD_VENDORS", str(vendors / "pocl.icd"))
    text = "\n".join(main.opencl_registration_notes([]))
    assert f"echo {nv} > ~/.opencl-vendors/nvidia.icd" in text
    assert f"cp {vendors / 'pocl.icd'} ~/.opencl-vendors/" in text
    assert "export OCL_ICD_VENDORS=~/.opencl-vendors" in text
    monkeypatch.setenv("OCL_ICD_FILENAMES", "libnvidia-opencl.so.1")
    text = " ".join("\n".join(main.opencl_registration_notes([])).split())
    assert "OCL_ICD_FILENAMES names it, but the ICD loader in use did not " \
        "load it from there" in text
    platform = {"name": "NVIDIA CUDA", "vendor": "NVIDIA Corporation"}
    assert main.opencl_registration_notes([platform]) == []


def test_info_names_an_unregistered_driver(tmp_path):
    """python -m cambrian info, with a driver in LD_LIBRARY_PATH and no
    .icd file at all."""
    lib = touch(tmp_path / "lib" / "libacme-opencl.so.1")
    (tmp_path / "vendors").mkdir()
    path = os.environ.get("LD_LIBRARY_PATH")
    env = dict(os.environ, OCL_ICD_VENDORS=str(tmp_path / "vendors"),
               LD_LIBRARY_PATH=f"{lib.parent}:{path}" if path
               else str(lib.parent))
    r = run("info", env=env)
    assert r.returncode == 0, r.stderr
    assert "OpenCL platforms:\n  none" in r.stdout
    assert f"note: {lib} is an OpenCL driver" in " ".join(r.stdout.split())
    assert f"echo {lib} > {tmp_path / 'vendors' / 'acme.icd'}" in r.stdout
