"""Distributed runs: tests/mpi/check_distributed.py under mpirun with 2
and 4 ranks (every rank compares its results with NumPy's),
tests/mpi/check_failures.py (failures that travel between ranks), and what
a process that no MPI launcher started sees."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cambrian as cb

HERE = Path(__file__).resolve().parent
MPI_TESTS = HERE.parent / "mpi"
MPIRUN = shutil.which("mpirun")


def mpirun(nranks, *args, timeout=240, **settings):
    env = dict(os.environ, CAMBRIAN_DEVICES="none",
               OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               # Ranks share the few cores of a test machine.
               OMPI_MCA_rmaps_base_oversubscribe="1", **settings)
    return subprocess.run(
        [MPIRUN, "-n", str(nranks), sys.executable, *args],
        env=env, capture_output=True, text=True, timeout=timeout)


needs_mpirun = pytest.mark.skipif(
    MPIRUN is None or not cb.config()["mpi_plugin"],
    reason="no mpirun, or cambrian built without StarPU-MPI")


def every_rank_passes(program, nranks, at_least):
    p = mpirun(nranks, str(MPI_TESTS / program), str(nranks))
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    # The ranks' lines may come interleaved.
    found = re.findall(r"rank (\d+) of \d+: (\d+) checks passed", p.stdout)
    assert sorted(int(r) for r, _ in found) == list(range(nranks)), found
    counts = {int(k) for _, k in found}
    assert len(counts) == 1 and counts.pop() >= at_least, found


@needs_mpirun
@pytest.mark.parametrize("nranks", [2, 4])
def test_every_rank_matches_numpy(nranks):
    every_rank_passes("check_distributed.py", nranks, 95)


@needs_mpirun
@pytest.mark.parametrize("nranks", [2, 4])
def test_failures_reach_every_rank(nranks):
    every_rank_passes("check_failures.py", nranks, 6)


@needs_mpirun
def test_the_heat_example_keeps_its_heat_over_ranks():
    example = HERE.parent.parent / "examples" / "distributed_heat.py"
    p = mpirun(2, str(example))
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert re.search(r"2 rank\(s\): heat 64.000 -> 64.000, peak 0\.\d+, "
                     r"this rank's rows: 128", p.stdout), p.stdout


@needs_mpirun
def test_a_killed_rank_makes_the_others_raise():
    # Open MPI kills the whole job when a rank dies, unless told not to:
    # then the others are left waiting, as under srun's default.
    p = mpirun(3, str(MPI_TESTS / "check_rank_lost.py"), timeout=120,
               CAMBRIAN_RANK_TIMEOUT="3",
               OMPI_MCA_orte_abort_on_non_zero_status="0")
    lost = sorted(re.findall(r"rank (\d+): lost after ([\d.]+) s",
                             p.stdout))
    assert [int(r) for r, _ in lost] == [0, 2], (
        p.stdout[-3000:] + p.stderr[-3000:])
    for _, took in lost:
        assert 3 <= float(took) < 30, lost


@needs_mpirun
def test_a_bad_rank_timeout_is_refused():
    code = ("import cambrian as cb\n"
            "try:\n    cb.ones(2)\nexcept ValueError as e:\n    print(e)")
    p = mpirun(1, "-c", code, timeout=120, CAMBRIAN_RANK_TIMEOUT="soon")
    assert "CAMBRIAN_RANK_TIMEOUT is a number of seconds" in p.stdout, (
        p.stdout + p.stderr)


def test_without_a_launcher_nothing_is_distributed():
    assert cb.rank() == 0 and cb.nranks() == 1
    assert not cb.config()["distributed"]
    a = cb.arange(10, distribution="block")
    assert a.distribution == "block"
    np.testing.assert_array_equal((a * 2).local(), np.arange(10) * 2)
    np.testing.assert_array_equal((a * 2).numpy(), np.arange(10) * 2)
    assert (a + 1).distribution == "block"
    empty = cb.zeros((4, 0), distribution="block") @ cb.zeros((0, 3))
    np.testing.assert_array_equal(empty.numpy(), np.zeros((4, 3)))
    c = cb.arange(10, distribution="cyclic", tile_size=4)
    assert c.distribution == "cyclic" and (c + 1).distribution == "cyclic"
    np.testing.assert_array_equal(c.local(), np.arange(10))
    assert cb.asarray([1.0, 2.0]).distribution is None
    cb.barrier()  # at once


def test_mpi_stays_unloaded_without_a_launcher():
    code = ("import cambrian as cb; float(cb.sum(cb.ones(3))); "
            "maps = open('/proc/self/maps').read(); "
            "print('libmpi' in maps, 'starpumpi' in maps)")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OMPI_", "PMI", "PMIX"))}
    out = subprocess.run([sys.executable, "-c", code], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False", "False"], out.stderr


def test_bad_distribution_is_refused():
    with pytest.raises(ValueError, match="distribution must be 'block', "
                       "'cyclic' or None, got 'diagonal'"):
        cb.zeros(3, distribution="diagonal")
    a = cb.zeros(3)
    with pytest.raises(ValueError, match="copy=False"):
        cb.asarray(a, distribution="block", copy=False)
    b = cb.asarray(a, distribution="block")
    assert b.distribution == "block" and a.distribution is None


def test_bad_setting_is_refused(monkeypatch):
    code = "import cambrian as cb; cb.config()"
    env = dict(os.environ, CAMBRIAN_DISTRIBUTED="yes")
    out = subprocess.run([sys.executable, "-c", code], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "CAMBRIAN_DISTRIBUTED is 1, 0 or auto, not 'yes'" in out.stderr
