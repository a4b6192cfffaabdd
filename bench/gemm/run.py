"""gemm: C = A @ B over N x N matrices, float32 and float64, and gemv.

    PYTHONPATH=build/pkg build/benchvenv/bin/python bench/gemm/run.py \
        [--sizes 1024,2048,4096] [--dtypes float32,float64] [--quick]

Competitors, each timed in its own process so that thread pools and
StarPU's workers never share the cores with another competitor:

  numpy            A @ B, OpenBLAS with as many threads as cores
                   (OPENBLAS_NUM_THREADS / OMP_NUM_THREADS set)
  cambrian cpu     (a @ b).wait() with cb.init(ncpus=cores, devices="none"):
                   one single-threaded OpenBLAS call per row block (tile)
                   of the result, on as many CPU workers as cores
  dask             (A @ B).compute() on dask.array with 2 x 2 chunks, the
                   threaded scheduler with one thread per core and
                   single-threaded BLAS per chunk; skipped when dask is
                   not installed
  cambrian pocl    (a @ b).wait() on the pocl device (CLBlast), sizes up
                   to --pocl-max; compared with cambrian cpu
  gemv             y = A @ x at the largest N: numpy, cambrian cpu, pocl

With --gpu, the GPU peers instead, inputs already on the device:

  cambrian gpu     a @ b on the first OpenCL GPU (CLBlast), waiting for
                   the product to be written there (it stays there);
                   CAMBRIAN_TILE_SIZE is left as the environment sets it
  cupy             a @ b (cuBLAS), then a device synchronisation; skipped
                   when CuPy or a CUDA device is missing
  "vs cupy" is CuPy's median time over cambrian's (targets, never
  asserted: SGEMM >= 0.6x, DGEMM >= 0.3x at 4096 and 8192).

Inputs are made once per process and wrapped without a copy; each
repetition computes a new result and waits for it. Warm-up runs (CLBlast
compiles its kernels on first use) are reported apart. Ratios: "vs numpy"
is NumPy's median time over the competitor's (above 1: faster); "pocl vs
cpu" is cambrian cpu's time over cambrian pocl's. Nothing here asserts a
timing. Results: bench/results/gemm.{json,md}.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import harness  # noqa: E402

CORES = len(os.sched_getaffinity(0))


def cambrian_cpu_workers():
    """The CPU workers cambrian runs on all the cores (StarPU's build may
    cap them): NumPy gets as many threads, so both use the same cores."""
    code = ("import cambrian as cb; cb.init(ncpus=%d, devices='none'); "
            "print(cb.config()['ncpus'])" % CORES)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True)
    try:
        return int(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return CORES


def flops(n, kind):
    return 2.0 * n ** 3 if kind == "gemm" else 2.0 * n ** 2


# ---- one competitor, in a child process ----------------------------------

def child(args):
    import numpy as np
    peer, kind, dt = args.child, args.kind, np.dtype(args.dtype)
    rng = np.random.default_rng(0)
    out = []
    if peer == "cupy":
        try:
            import cupy
            cupy.cuda.Device(0).compute_capability
        except Exception as e:  # noqa: BLE001 - any failure means no peer
            print(json.dumps({"skipped": f"no CuPy device ({e})"}))
            return
    if peer == "dask":
        try:
            import dask
            import dask.array as da
        except ImportError as e:
            print(json.dumps({"skipped": f"dask is not installed ({e})"}))
            return
    if peer.startswith("cambrian"):
        import cambrian as cb
        if peer == "cambrian cpu":
            cb.init(ncpus=args.threads, devices="none")
            dev = cb.get_device("cpu")
        else:
            if not cb.devices(args.opencl_device):
                print(json.dumps({"skipped": "no OpenCL device"}))
                return
            dev = cb.get_device(args.opencl_device)
    for n in args.sizes:
        a = rng.standard_normal((n, n)).astype(dt)
        b = (rng.standard_normal((n, n)) if kind == "gemm"
             else rng.standard_normal(n)).astype(dt)
        if peer == "cupy":
            def run(st):
                st["c"] = st["a"] @ st["b"]
                cupy.cuda.Device().synchronize()
            st = {"a": cupy.asarray(a), "b": cupy.asarray(b)}
            get = lambda st: cupy.asnumpy(st["c"])  # noqa: E731
        elif peer == "numpy":
            def run(st):
                st["c"] = st["a"] @ st["b"]
            st = {"a": a, "b": b}
            get = lambda st: st["c"]  # noqa: E731
        elif peer == "dask":
            ca = da.from_array(a, chunks=(n // 2, n // 2))
            cb_ = da.from_array(b, chunks=(n // 2, n // 2) if kind == "gemm"
                                else (n // 2,))

            def run(st):
                st["c"] = (st["a"] @ st["b"]).compute(
                    scheduler="threads", num_workers=args.threads)
            st = {"a": ca, "b": cb_}
            get = lambda st: st["c"]  # noqa: E731
            dask.config.set(num_workers=args.threads)
        elif peer == "cambrian gpu":
            # The product stays on the GPU, as CuPy's does: the wait is
            # for the write (Array.wait() would bring it home too).
            def run(st):
                st["c"] = st["a"] @ st["b"]
                st["c"].future.result()
            st = {"a": cb.asarray(a, device=dev),
                  "b": cb.asarray(b, device=dev)}
            get = lambda st: st["c"].numpy()  # noqa: E731
        else:
            def run(st):
                st["c"] = st["a"] @ st["b"]
                st["c"].wait()
            st = {"a": cb.asarray(a, device=dev),
                  "b": cb.asarray(b, device=dev)}
            get = lambda st: st["c"].numpy()  # noqa: E731
        warm = []
        reps = args.reps if n < 4096 else max(1, min(args.reps, 3))
        with harness.Watchdog(900, f"{peer} {n}"):
            samples = harness.timed(run, st, args.warmup, reps, warm)
            got = np.asarray(get(st))
        want = a.astype(np.float64) @ b.astype(np.float64)
        err = float(np.max(np.abs(got - want)) / max(1.0, np.max(np.abs(want))))
        row = {"n": n, "warmup_s": warm, "rel_err": err}
        row.update(harness.summary(samples))
        out.append(row)
        print(f"  {peer:14s} {kind} {dt.name} N={n:5d} "
              f"{row['median_s'] * 1e3:10.2f} ms "
              f"{flops(n, kind) / row['median_s'] / 1e9:8.1f} GFLOP/s",
              file=sys.stderr)
        del st
    if peer.startswith("cambrian"):
        cb.shutdown()
    print(json.dumps({"rows": out}))


def spawn(peer, kind, dtype, sizes, args):
    env = dict(os.environ)
    threads = 1 if peer in ("dask", "cambrian cpu", "cambrian pocl") \
        else args.threads
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    cmd = [sys.executable, os.path.abspath(__file__), "--child", peer,
           "--kind", kind, "--dtype", dtype,
           "--sizes", ",".join(map(str, sizes)),
           "--reps", str(args.reps), "--warmup", str(args.warmup),
           "--opencl-device", args.opencl_device,
           "--threads", str(args.threads)]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    sys.stderr.write(p.stderr)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode or not lines:
        return {"error": f"exit {p.returncode}: {p.stderr[-300:]}"}
    return json.loads(lines[-1])


# ---- the driver ---------------------------------------------------------------

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="1024,2048,4096")
    p.add_argument("--dtypes", default="float32,float64")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--pocl-max", type=int, default=2048,
                   help="largest N run on the OpenCL device")
    p.add_argument("--opencl-device", default="opencl")
    p.add_argument("--quick", action="store_true",
                   help="N = 256, 512; one repetition")
    p.add_argument("--no-gemv", action="store_true")
    p.add_argument("--gpu", action="store_true",
                   help="cambrian on the GPU against CuPy")
    # Child mode.
    p.add_argument("--child")
    p.add_argument("--kind", default="gemm")
    p.add_argument("--dtype", default="float64")
    p.add_argument("--threads", type=int, default=CORES,
                   help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",")]
    if args.quick:
        args.sizes, args.reps = [256, 512], 1
    if args.child:
        return child(args)

    args.threads = cambrian_cpu_workers()
    env = harness.environment()
    results = []
    peers = ["numpy", "cambrian cpu", "dask", "cambrian pocl"]
    if args.gpu:
        peers = ["cupy", "cambrian gpu"]
        # One GPU against CuPy's one: "opencl:gpu" names every GPU of a
        # machine that has several (a device set).
        if args.opencl_device == "opencl":
            args.opencl_device = "opencl:gpu:0"
        args.no_gemv = True
    for dtype in args.dtypes.split(","):
        for peer in peers:
            sizes = args.sizes
            if peer == "cambrian pocl":
                sizes = [n for n in sizes if n <= args.pocl_max]
            if not sizes:
                continue
            r = spawn(peer, "gemm", dtype, sizes, args)
            for row in r.get("rows", []):
                results.append(dict(row, peer=peer, kind="gemm",
                                    dtype=dtype))
            if "rows" not in r:
                results.append({"peer": peer, "kind": "gemm", "dtype": dtype,
                                **r})
        if not args.no_gemv:
            for peer in ["numpy", "cambrian cpu", "cambrian pocl"]:
                r = spawn(peer, "gemv", dtype, [max(args.sizes)], args)
                for row in r.get("rows", []):
                    results.append(dict(row, peer=peer, kind="gemv",
                                        dtype=dtype))
                if "rows" not in r:
                    results.append({"peer": peer, "kind": "gemv",
                                    "dtype": dtype, **r})

    def find(peer, kind, dtype, n):
        return next((r for r in results if r.get("peer") == peer and
                     r["kind"] == kind and r["dtype"] == dtype and
                     r.get("n") == n and "median_s" in r), None)

    headers = ["kind", "dtype", "N", "peer", "median (ms)", "GFLOP/s",
               "vs cupy" if args.gpu else "vs numpy", "pocl vs cpu",
               "rel. error"]
    rows = []
    for r in results:
        if "median_s" not in r:
            rows.append([r["kind"], r["dtype"], "-", r["peer"],
                         (r.get("skipped") or r.get("error", ""))[:60],
                         "", "", "", ""])
            continue
        base = find("cupy" if args.gpu else "numpy", r["kind"], r["dtype"],
                    r["n"])
        cpu = find("cambrian cpu", r["kind"], r["dtype"], r["n"])
        r["vs_numpy"] = base["median_s"] / r["median_s"] if base else None
        if r["peer"] == "cambrian pocl" and cpu:
            r["pocl_vs_cpu"] = cpu["median_s"] / r["median_s"]
        rows.append([r["kind"], r["dtype"], r["n"], r["peer"],
                     f"{r['median_s'] * 1e3:.1f}",
                     f"{flops(r['n'], r['kind']) / r['median_s'] / 1e9:.1f}",
                     "-" if r["vs_numpy"] is None
                     else f"{r['vs_numpy']:.2f}x",
                     f"{r['pocl_vs_cpu']:.2f}x" if "pocl_vs_cpu" in r
                     else "-", f"{r['rel_err']:.1e}"])
    md = ["# gemm on the GPU: cambrian against CuPy\n" if args.gpu else
          "# gemm and gemv: cambrian against NumPy and dask\n",
          f"Machine: {env['cpu']}, {env['cores']} cores; numpy "
          f"{env['numpy']}, dask {env.get('dask')}; git "
          f"{env.get('git', '?')}; {time.strftime('%Y-%m-%d %H:%M')}.\n",
          f"Every peer uses the same {args.threads} cores: NumPy with "
          f"{args.threads} OpenBLAS threads, cambrian cpu with "
          f"{args.threads} CPU workers "
          "(single-threaded OpenBLAS per row block), dask with "
          f"{args.threads} threads (single-threaded BLAS per chunk). Median of "
          "the timed repetitions after a warm-up; vs numpy above 1 is "
          "faster than NumPy; pocl vs cpu above 1 means pocl is faster.\n",
          harness.markdown_table(headers, rows, "lllrrrrrr") + "\n"]
    jpath, mpath = harness.write_results(
        "gemm_gpu" if args.gpu else "gemm",
        {"environment": env, "results": results}, "\n".join(md))
    print("\n".join(md))
    print(f"results: {jpath}, {mpath}", file=sys.stderr)


if __name__ == "__main__":
    main()
