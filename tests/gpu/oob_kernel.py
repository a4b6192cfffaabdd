"""Device loss on a real GPU: a kernel that writes far out of bounds.

Run it by hand on a machine with an OpenCL GPU (it is not part of the
test suite, which runs on pocl and injects the loss instead):

    .venv/bin/python tests/gpu/oob_kernel.py [--device opencl:gpu:0]

The scenario runs in a child process, so that an abort (StarPU asserting
on a failed OpenCL status) shows as a failure here instead of killing the
check. The child launches the faulting kernel with work already queued
behind it, then checks, step by step, that:

- the faulting launch's future raises DeviceError;
- the device shows as lost (Device.lost, python -m cambrian info);
- work that was pending on the GPU raises DeviceLostError whose
  __cause__ is that DeviceError;
- new work placed on the GPU is refused with DeviceLostError;
- an array whose only copy was on the GPU raises DeviceLostError when
  read, one with a host copy reads back unchanged;
- the CPU workers and automatic placement keep working;
- cb.shutdown() returns, and the process exits normally; whether a new
  runtime starts (a context that still answers) or is refused (NVIDIA:
  the context stays unusable) is reported.

Exit status 0 when every step passed; the child's output is printed.
With --inject the kernel never runs: an injected fault loses the device
in its place (cambrian.testing), so that the check itself can be tried
on any OpenCL device, pocl's included.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

CHILD = r'''
import io
import sys

import numpy as np

import cambrian as cb
from cambrian.__main__ import info

GPU = sys.argv[1]
INJECT = sys.argv[2] == "inject"
# A step that hangs shows where: every thread's Python stack, then exit.
import faulthandler
faulthandler.dump_traceback_later(float(sys.argv[3]), exit=True)

def step(name, ok, detail=""):
    print(f"{'PASS' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}",
          flush=True)
    if not ok:
        sys.exit(1)

gpus = cb.devices(GPU)
if not gpus:
    print(f"SKIP no device matches {GPU!r}: {cb.devices()}")
    sys.exit(3)
gpu = gpus[0]
print(f"device: {gpu.filter_string} {gpu.name} [{gpu.vendor}] {gpu.version}",
      flush=True)

n = 1 << 20
host = np.arange(n, dtype=np.float32)
kept = cb.asarray(host, device=gpu)          # has its host copy
only_there = kept * 2                        # its only copy is on the GPU
only_there.future.result()
np.testing.assert_array_equal((kept + 1).numpy(), host + 1)  # GPU works

oob = cb.Kernel("""
__kernel void oob(__global float *a, const ulong stride) {
  a[get_global_id(0) * stride] = 1.0f;
}""", "oob")
target = cb.empty(16, dtype=cb.float32, device=gpu)
# A task on a CPU worker holds target until everything is queued.
import threading
go = threading.Event()

@cb.task
def hold(t):
    go.wait(60)

hold(cb.InOut(target))
if INJECT:
    import cambrian.testing
    cambrian.testing.inject_fault("oob", device=gpu, lose_device=True)
fault = oob((4096,), cb.InOut(target), np.uint64(1 << 28), device=gpu)
# Queued behind it: work that reads what it writes, and work that does
# not (which may have run before the fault, or fail after it).
pending = [target * 2, cb.sqrt(target)]
beside = [kept * 3, only_there - 1]
go.set()

err = fault.exception(timeout=120)
step("the faulting kernel raises DeviceError",
     type(err) is cb.DeviceError, repr(err))
print(f"     cl_status={err.cl_status} task={err.task}", flush=True)

now = cb.get_device(gpu.filter_string)
step("Device.lost", now.lost is True)
out = io.StringIO()
info(out=out)
step("info shows LOST", "LOST" in out.getvalue())

for p in pending:
    e = p.future.exception(timeout=120)
    step("pending GPU work raises DeviceLostError",
         type(e) is cb.DeviceLostError, repr(e))
    step("its cause is the first fault",
         type(e.__cause__) is cb.DeviceError, repr(e.__cause__))
for p in beside:
    e = p.future.exception(timeout=120)
    step("independent GPU work ran before the fault or failed after it",
         e is None or type(e) is cb.DeviceLostError, repr(e))

try:
    kept + 1
except cb.DeviceLostError as e:
    step("new GPU work is refused", type(e.__cause__) is cb.DeviceError,
         str(e)[:200])
else:
    step("new GPU work is refused", False, "it was accepted")

try:
    only_there.numpy()
except cb.DeviceLostError as e:
    step("data left on the GPU is lost", True, str(e)[:200])
else:
    step("data left on the GPU is lost", False, "it was read")

step("data with a host copy reads back",
     np.array_equal(kept.numpy(), host))
step("the CPU workers work",
     np.array_equal((cb.asarray(host, device="cpu") + 1).numpy(), host + 1))
step("automatic placement works",
     np.array_equal((cb.asarray(host) * 3).numpy(), host * 3))
total = float(cb.sum(cb.asarray(host)))
exact = float(host.sum(dtype=np.float64))
step("a reduction works", abs(total - exact) <= 1e-5 * abs(exact),
     f"{total} against {exact}")

cb.shutdown()
step("cb.shutdown() returns", True)
try:
    again = cb.get_device(gpu.filter_string)
    y = cb.asarray(host, device=again) + 1
    print("INFO a new runtime uses the GPU again:",
          np.array_equal(y.numpy(), host + 1), flush=True)
except cb.DeviceLostError as e:
    print("INFO a new runtime is refused:", e, flush=True)
print("DONE", flush=True)
'''


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="opencl:gpu",
                    help="filter of the GPU to fault (default opencl:gpu)")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--inject", action="store_true",
                    help="lose the device through an injected fault instead "
                    "of running the kernel")
    args = ap.parse_args(argv)
    mode = "inject" if args.inject else "real"
    done = subprocess.run([sys.executable, "-c", CHILD, args.device, mode,
                           str(max(args.timeout - 10, 1))],
                          capture_output=True, text=True,
                          timeout=args.timeout)
    sys.stdout.write(done.stdout)
    if done.stderr:
        sys.stdout.write("--- stderr ---\n" + done.stderr[-6000:])
    if done.returncode == 3:
        print("skipped: no such device")
        return 0
    if done.returncode < 0:
        print(f"the process died of signal {-done.returncode}: the device's "
              "fault reached an aborting path")
        return 1
    ok = done.returncode == 0 and "DONE" in done.stdout
    print("device loss handled" if ok else
          f"device loss check failed (exit status {done.returncode})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
