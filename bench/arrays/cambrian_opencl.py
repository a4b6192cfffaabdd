"""cambrian on the first OpenCL device (pocl's "opencl:cpu" here): the
same operations as cambrian_cpu, placed on the device (the warm-up
repetitions finish the transfers)."""
import cambrian as cb
import cambrian_cpu

NAME = "cambrian opencl"
VARIANTS = cambrian_cpu.VARIANTS
DEVICE = "opencl"


def available():
    try:
        cb.init()
        found = cb.devices(DEVICE)
    except cb.CambrianError as e:
        return False, f"cambrian failed to start: {e}"
    finally:
        cb.shutdown()
    if not found:
        return False, f"no OpenCL device matches '{DEVICE}'"
    return True, ""


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
