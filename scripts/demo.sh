#!/usr/bin/env bash
# Runs the demo: device discovery, the vector add done serially, on CPU
# workers and offloaded to an OpenCL device, an asynchronous chain of
# operations, an asyncio pipeline, device errors rethrown as Python
# exceptions, Python functions as tasks, a custom OpenCL kernel with a
# device-side assertion, a trace, and a graph streaming chunks through an
# OpenCL device two at a time (with its trace and chart). Sets the machine
# up first (see setup.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
"$VENV/bin/python" -m cambrian info
"$VENV/bin/python" examples/vector_add.py
"$VENV/bin/python" examples/async_chain.py
"$VENV/bin/python" examples/asyncio_pipeline.py
"$VENV/bin/python" examples/device_errors.py
"$VENV/bin/python" examples/kmeans.py
"$VENV/bin/python" examples/python_tasks.py
"$VENV/bin/python" examples/custom_kernel.py
mkdir -p build/demo
"$VENV/bin/python" examples/trace.py build/demo/trace.json
"$VENV/bin/python" examples/pipeline.py build/demo/pipeline.json
"$VENV/bin/python" examples/graph_fusion.py
