"""python -m cambrian: info and calibrate."""

import os
import subprocess
import sys


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


def test_calibrate_writes_models(tmp_path):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    r = run("calibrate", env=env)
    assert r.returncode == 0, r.stderr
    models = tmp_path / "cambrian" / "sampling" / "codelets"
    names = {p.name for p in models.rglob("*") if p.is_file()}
    for op in ("add", "multiply", "sqrt", "exp", "divide", "fill"):
        assert any(n.startswith(f"cambrian_{op}.") for n in names), names
    assert "calibrated cpu:cpu:0" in r.stdout
