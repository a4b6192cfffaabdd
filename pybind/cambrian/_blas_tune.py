"""Tuning CLBlast for a device: ``python -m cambrian calibrate --blas``.

CLBlast carries kernel parameters tuned for the devices its database
knows; on another one (a GPU newer than the database) it falls back to
generic parameters, several times slower. Its tuner
(``clblast_tuner_xgemm``, Debian's ``clblast-utils``) searches them for a
device. This runs it for each OpenCL device and precision asked, for at
most a given time each, keeps the fastest parameters it reported, and
writes them to ``<cache>/clblast/<device name>.txt``, one kernel and
precision per line::

    Xgemm 32 GEMMK=0 KREG=1 KWG=32 KWI=2 MDIMA=16 ... VWN=4

The runtime hands that file to CLBlast when it starts
(``Device.blas_tuned`` counts the kernels it took).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import IO, Iterable

__all__ = ["TUNER_ENV", "find_tuner", "parse_tuner_output", "tune_file",
           "tune_device"]

#: Environment variable naming the tuner program to run.
TUNER_ENV = "CAMBRIAN_CLBLAST_TUNER"

_BEST = re.compile(r"Found best result\s+([0-9.]+)\s*ms:\s*([0-9.]+)\s*GFLOPS")
_PARAMS = re.compile(r"Best parameters:\s*(.*)$")
_EXPLORED = re.compile(r"Parameters explored:\s*(.*)$")
# A configuration's row: | id | total | values | local | global | compiles
# | time | GFLOPS | status |
_ROW = re.compile(r"^\|\s*\d+\s*\|\s*\d+\s*\|([\d\s]+)\|.*\|\s*([\d.]+)\s*\|"
                  r"\s*results match\s*\|")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Tuned:
    """The fastest parameters the tuner reported for one precision."""

    precision: int
    gflops: float
    params: dict[str, int]

    def line(self) -> str:
        """The line of the device's file for them."""
        return f"Xgemm {self.precision} " + " ".join(
            f"{k}={v}" for k, v in sorted(self.params.items()))


def find_tuner() -> str | None:
    """The tuner program: CAMBRIAN_CLBLAST_TUNER, else
    ``clblast_tuner_xgemm`` on the PATH, else None."""
    given = os.environ.get(TUNER_ENV)
    if given:
        return given
    return shutil.which("clblast_tuner_xgemm")


def parse_tuner_output(lines: Iterable[str], precision: int) -> Tuned | None:
    """The fastest configuration the tuner's output reports: the best of
    each stage it finished, and each configuration it timed whose results
    matched (a stage cut short by the time budget counts too).

    >>> out = ["* Parameters explored: KWG MWG",
    ...        "|  1 | 9 |   16   32 | 8 8 | 64 64 | OK 9 ms | 2.1 ms |"
    ...        "  900.0 |     results match |",
    ...        "* Found best result 3.51 ms: 39168.0 GFLOPS",
    ...        "* Best parameters: KWG=32 MWG=64 PRECISION=32"]
    >>> parse_tuner_output(out, 32).line()
    'Xgemm 32 KWG=32 MWG=64'
    """
    best: Tuned | None = None
    gflops = None
    names: list[str] = []

    def offer(g: float, params: dict[str, int]) -> None:
        nonlocal best
        if params and (best is None or g > best.gflops):
            best = Tuned(precision, g, params)

    for raw in lines:
        line = _ANSI.sub("", raw).strip()
        m = _EXPLORED.search(line)
        if m:
            names = m.group(1).split()
            continue
        m = _ROW.match(line)
        if m and names:
            values = m.group(1).split()
            if len(values) == len(names):
                offer(float(m.group(2)),
                      {n: int(v) for n, v in zip(names, values)})
            continue
        m = _BEST.search(line)
        if m:
            gflops = float(m.group(2))
            continue
        m = _PARAMS.search(line)
        if m and gflops is not None:
            params = {}
            for item in m.group(1).split():
                name, _, value = item.partition("=")
                if name and value.isdigit() and name != "PRECISION":
                    params[name] = int(value)
            offer(gflops, params)
            gflops = None
    return best


def tune_file(cache_dir: str, device_name: str) -> str:
    """Where the tuned parameters of a device go (the runtime's rule)."""
    safe = re.sub(r"[^A-Za-z0-9.-]", "_", device_name)
    return os.path.join(cache_dir, "clblast", safe + ".txt")


def _platform_of(device: object, platforms: list[dict[str, object]]) -> int:
    vendor = str(getattr(device, "vendor", "")).lower()
    for i, p in enumerate(platforms):
        pv = str(p["vendor"]).lower()
        if vendor and (vendor.split()[0] in pv or pv.split()[0] in vendor):
            return i
    return 0


def _run(cmd: list[str], seconds: float, precision: int,
         out: IO[str] | None) -> Tuned | None:
    """Runs the tuner for at most seconds; its best result by then."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            errors="replace")
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + seconds
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    reader.join(10)
    best = parse_tuner_output(lines, precision)
    if best is None and out is not None:
        tail = "".join(_ANSI.sub("", ln) for ln in lines[-5:]).strip()
        print(f"  the tuner reported no result ({tail or 'no output'})",
              file=out)
    return best


def tune_device(device: object, cache_dir: str, platforms: list[dict[str,
                object]], *, seconds: float = 300.0, size: int = 2048,
                fraction: float = 0.02,
                precisions: Iterable[int] = (32, 64),
                tuner: str | None = None,
                out: IO[str] | None = None) -> list[Tuned]:
    """Tunes CLBlast's GEMM kernel for one OpenCL device and writes its
    file; returns what it found.

    Parameters
    ----------
    device : Device
        An OpenCL device; its platform is the OpenCL platform of the same
        vendor, and its index there is ``device.index``.
    cache_dir : str
        cambrian's cache directory (``cb.config()["cache_dir"]``).
    platforms : list of dict
        The OpenCL platforms, in the order the ICD loader lists them.
    seconds : float
        The most each precision may take; the best result found by then
        is kept.
    size : int
        The matrices' order the tuner times. 2048 keeps a poor candidate
        to a fraction of a second on a large GPU while giving its cores
        enough work groups to tell large tiles apart; at 4096 the fixed
        first stage (which starts with the smallest tiles) did not end
        in three minutes on an NVIDIA H200.
    fraction : float
        The share of the tuner's random second stage to draw (it lists
        about 120,000 candidates): on the H200 that stage raised float32
        from 34.6 to 40.1 TFLOPS, and float64 from 14.5 to 18.4.
    precisions : iterable of int
        32 (float32) and/or 64 (float64).
    tuner : str, optional
        The tuner program (default: :func:`find_tuner`).

    Returns
    -------
    list of Tuned
        The precisions tuned; those without a result are left out.

    Raises
    ------
    FileNotFoundError
        No tuner program was found.
    """
    tuner = tuner or find_tuner()
    if not tuner:
        raise FileNotFoundError(
            "clblast_tuner_xgemm was not found: install CLBlast's tuners "
            "(Debian: apt-get install clblast-utils) or name the program "
            f"in {TUNER_ENV}")
    platform = _platform_of(device, platforms)
    found: list[Tuned] = []
    for precision in precisions:
        if precision == 64 and not getattr(device, "fp64", True):
            continue
        cmd = [tuner, "-platform", str(platform), "-device",
               str(getattr(device, "index", 0)), "-precision",
               str(precision), "-m", str(size), "-n", str(size), "-k",
               str(size), "-runs", "1", "-fraction", str(fraction)]
        best = _run(cmd, seconds, precision, out)
        if best is not None:
            found.append(best)
            if out is not None:
                print(f"  float{precision}: {best.gflops:.0f} GFLOPS with "
                      "the parameters found", file=out)
    if found:
        path = tune_file(cache_dir, str(getattr(device, "name", "")))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        keep = []
        if os.path.exists(path):
            tuned = {f"Xgemm {t.precision} " for t in found}
            with open(path, encoding="utf-8") as f:
                keep = [ln.rstrip("\n") for ln in f
                        if ln.strip() and not any(ln.startswith(p)
                                                  for p in tuned)]
        with open(path, "w", encoding="utf-8") as f:
            for ln in keep + [t.line() for t in found]:
                f.write(ln + "\n")
    return found
