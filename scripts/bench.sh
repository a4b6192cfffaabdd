#!/usr/bin/env bash
# Runs the benchmarks against their peers (NumPy, numba, dask,
# ThreadPoolExecutor, raw StarPU; Python functions as tasks against
# ThreadPoolExecutor; reductions and gemm against NumPy and dask; graph
# replay against eager calls and dask.delayed; views, broadcasts, indexing
# and sort against NumPy; fused element-wise chains against NumPy and
# cupy.fuse; transfer/compute overlap of a streamed graph;
# distributed runs over MPI ranks against one process; one GPU against
# every GPU, beside CuPy) after installing the peers (the "bench" extra)
# into the virtual environment. Extra arguments go to every driver (e.g. --quick).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
# The peers are the "bench" extra of pyproject.toml.
install_requirements bench extra:bench
"$VENV/bin/python" bench/vector_add/run.py "$@"
"$VENV/bin/python" bench/overhead/run.py "$@"
"$VENV/bin/python" bench/futures/run.py "$@"
"$VENV/bin/python" bench/tasks/run.py "$@"
"$VENV/bin/python" bench/reductions/run.py "$@"
"$VENV/bin/python" bench/arrays/run.py "$@"
"$VENV/bin/python" bench/distributed/run.py "$@"
"$VENV/bin/python" bench/gemm/run.py "$@"
"$VENV/bin/python" bench/graph/run.py "$@"
"$VENV/bin/python" bench/fusion/run.py "$@"
"$VENV/bin/python" bench/overlap/run.py "$@"
"$VENV/bin/python" bench/transfers/run.py "$@"
"$VENV/bin/python" bench/multi_gpu/run.py "$@"
