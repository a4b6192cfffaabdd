"""cambrian on the first OpenCL device (pocl's "opencl:cpu" here): the
same operations as cambrian_cpu, placed on the device (the warm-up
repetitions finish the transfers)."""
import cambrian as cb
import harness
import cambrian_cpu

NAME = "cambrian opencl"
VARIANTS = cambrian_cpu.VARIANTS
DEVICE = "opencl"


def available():
    return harness.cambrian_has(DEVICE)


def setup(data, variant):
    cambrian_cpu.DEVICE = DEVICE
    try:
        return cambrian_cpu.setup(data, variant)
    finally:
        cambrian_cpu.DEVICE = "cpu"


compute = cambrian_cpu.compute
run = cambrian_cpu.run
result = cambrian_cpu.result
teardown = cambrian_cpu.teardown
