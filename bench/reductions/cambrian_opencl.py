"""cambrian on the first OpenCL device (pocl's "opencl:cpu" here).

The inputs are placed on the device once (the warm-up repetitions finish
their transfer); each repetition reduces the tiles there and moves only
the partial results to the CPU worker that combines them, then waits.
"""
import cambrian as cb
import harness
import cambrian_cpu

NAME = "cambrian opencl"
VARIANTS = ["r = cb.op(x); r.wait()"]
DEVICE = "opencl"


def available():
    return harness.cambrian_has(DEVICE)


def setup(x, y, variant):
    cambrian_cpu.DEVICE = DEVICE
    try:
        return cambrian_cpu.setup(x, y, variant)
    finally:
        cambrian_cpu.DEVICE = "cpu"


compute = cambrian_cpu.compute
run = cambrian_cpu.run
result = cambrian_cpu.result
teardown = cambrian_cpu.teardown
