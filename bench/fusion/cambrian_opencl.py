"""cambrian on an OpenCL device (see cambrian_graph.py): the first, a GPU
where there is one, unless run.py's --opencl-device names another."""
import cambrian_graph

DEVICE = "opencl"


def bind(device):
    globals().update(cambrian_graph.make(f"cambrian {device}", device))


bind(DEVICE)
