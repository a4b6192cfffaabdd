"""A trace of a small pipeline: chunks of a vector go through a few
operations on the CPU workers and on an OpenCL device at once; the trace
shows each task on its worker, its data waits and its dependencies.

    python examples/trace.py [out.json]

Open the JSON in chrome://tracing or https://ui.perfetto.dev; a PNG Gantt
chart is written next to it when matplotlib is installed.
"""

import os
import sys

import numpy as np

import cambrian as cb

out = sys.argv[1] if len(sys.argv) > 1 else "trace.json"
n, chunks = 1 << 20, 8
places = ["cpu"] + [d.filter_string for d in cb.devices("opencl")][:1]

with cb.trace(out):
    results = []
    for k in range(chunks):
        dev = places[k % len(places)]
        x = cb.arange(n, dtype=cb.float32, device=dev) * (k + 1)
        y = cb.sqrt(x * x + 1.0) - x * 0.5    # five tasks per tile
        results.append(y)
    total = sum(float(np.asarray(y)[-1]) for y in results)

print(f"{chunks} chunks of {n} float32 on {', '.join(places)}; "
      f"checksum {total:.6f}")
print(f"trace: {out}")
try:
    png = os.path.splitext(out)[0] + ".png"
    cb.plot_trace(out, png)
    print(f"chart: {png}")
except ImportError:
    print("chart: skipped (matplotlib is not installed)")
