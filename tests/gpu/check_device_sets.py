"""Device sets: arrays spread over several OpenCL devices of one type.

Runs on any machine whose OpenCL devices of one type number two or more:
two GPUs (``gpu``), or two pocl devices on the CPU, which pocl makes when
``POCL_DEVICES="pthread pthread"`` (``opencl:cpu``):

    POCL_DEVICES="pthread pthread" .venv/bin/python \\
        tests/gpu/check_device_sets.py opencl:cpu
    .venv/bin/python tests/gpu/check_device_sets.py gpu

Each result is compared with NumPy's. The statistics check that the tiles
of an array on the set run on its devices in turn and stay there. Prints
one line per check and "N checks passed"; exits 1 on the first failure,
and 77 when the filter names fewer than two devices.
"""

from __future__ import annotations

import sys

import numpy as np

import cambrian as cb

checks = 0


def check(what: str, ok: bool) -> None:
    global checks
    if not ok:
        print(f"FAILED: {what}", flush=True)
        sys.exit(1)
    checks += 1
    print(f"ok {what}", flush=True)


def same(what: str, got: cb.Array, want: np.ndarray, rtol: float = 1e-6,
         atol: float = 0.0) -> None:
    g = got.numpy()
    ok = (g.dtype == want.dtype and g.shape == want.shape
          and np.allclose(g, want, rtol=rtol, atol=atol))
    if not ok and g.shape == want.shape:
        bad = ~np.isclose(g, want, rtol=rtol, atol=atol)
        i = np.flatnonzero(bad)[:5]
        print(f"{bad.sum()} of {g.size} differ; at {i.tolist()}: got "
              f"{g.ravel()[i].tolist()}, want {want.ravel()[i].tolist()}")
    check(what, ok)


def tasks_per_device(s: cb.Stats) -> dict[str, int]:
    out: dict[str, int] = {}
    for w in s["workers"]:
        out[w["device"]] = out.get(w["device"], 0) + w["tasks"]
    return out


def main(filt: str) -> None:
    found = cb.devices(filt)
    if len(found) < 2:
        print(f"skip: '{filt}' names {len(found)} device(s)")
        sys.exit(77)
    n = 1 << 22
    x = np.arange(n, dtype=np.float32) / 7
    a = cb.asarray(x, device=filt)
    s = a.device
    names = [str(m) for m in s.members]
    check("the filter gives the set of its devices",
          s.index == -1 and names == [str(d) for d in found])
    check("a set adds up its devices' workers and memory",
          s.nworkers == sum(d.nworkers for d in found)
          and s.global_mem_bytes == sum(d.global_mem_bytes for d in found))
    check("the set's filter string names it again",
          cb.asarray(x[:10], device=str(s)).device == s)
    check("a filter that also names the CPU workers is its first match",
          cb.asarray(x[:10], device=f"{names[0]},cpu").device == found[0])
    check("an array on the set has a tile for each device at least",
          a.tile_size * len(names) <= n)

    # Element-wise work, reductions and products, against NumPy.
    cb.profiling(True)
    cb.stats(reset=True)
    y = a * 2 + 1
    z = cb.sqrt(y) - a
    # OpenCL's sqrt may be 3 ulp off the rounded result (NumPy's is
    # exact), and z cancels near 2.4.
    same("element-wise chain", z, np.sqrt(x * 2 + 1) - x, rtol=1e-5,
         atol=1e-5)
    same("comparison and where", cb.where(a > 100, a, -a),
         np.where(x > 100, x, -x))
    same("cast to float64", z.astype(cb.float64),
         (np.sqrt(x * 2 + 1) - x).astype(np.float64), rtol=1e-5)
    per = tasks_per_device(cb.stats())
    check(f"tiles ran on every device of the set ({per})",
          all(per.get(m, 0) > 0 for m in names))
    check("no device ran more than its share plus one tile per operation",
          max(per.get(m, 0) for m in names)
          - min(per.get(m, 0) for m in names) <= 8)
    # a is on the set already: nothing moves until w is read (StarPU moves
    # data between devices through the host).
    cb.synchronize()
    cb.stats(reset=True)
    w = a + 0
    for _ in range(5):
        w += a
    cb.synchronize()
    moved = sum(link["bytes"] for link in cb.stats()["links"])
    check(f"tiles stay on their device from one operation to the next "
          f"({moved} bytes moved)", moved == 0)
    same("in place, five times", w, x * 6, rtol=1e-5)

    r = cb.asarray(x.reshape(1024, -1), device=filt)
    check("sum", np.isclose(float(cb.sum(a)), float(x.astype(np.float64)
                                                    .sum()), rtol=1e-4))
    check("max", float(cb.max(a)) == float(x.max()))
    same("sum along rows", cb.sum(r, axis=1),
         x.reshape(1024, -1).sum(axis=1), rtol=1e-4)
    m = np.random.default_rng(0).standard_normal((512, 384), np.float32)
    v = np.random.default_rng(1).standard_normal((384, 256), np.float32)
    same("matrix product", cb.asarray(m, device=filt) @
         cb.asarray(v, device=filt), m @ v, rtol=1e-4, atol=1e-3)

    # Creation, scopes, moves.
    same("arange on the set", cb.arange(1000, dtype=cb.int32, device=filt),
         np.arange(1000, dtype=np.int32))
    with cb.device_scope(filt):
        o = cb.ones(5000, dtype=cb.float32)
    check("a scope on the filter places on the set", o.device == s)
    one = s.members[1]
    moved = a.to_device(one)
    check("to_device moves an array to one device of the set",
          moved.device == one)
    same("its values come along", moved, x)
    back = cb.asarray(x, device=one).to_device(s)
    check("and back onto the set", back.device == s)
    same("values on the set again", back + 0, x)
    try:
        a + moved
    except ValueError as e:
        check("mixing the set with one of its devices is refused",
              str(s) in str(e) and str(one) in str(e))
    else:
        check("mixing the set with one of its devices is refused", False)

    # Kernels: each launch runs on one device, the next on the next.
    k = cb.Kernel("__kernel void twice(__global const float *x,"
                  " __global float *y) {"
                  " size_t i = get_global_id(0); y[i] = 2 * x[i]; }",
                  "twice")
    cb.stats(reset=True)
    outs = []
    for _ in range(4):
        out = cb.empty(n, dtype=cb.float32, device=filt)
        k(n, cb.In(a), cb.Out(out), device=filt).result(timeout=120)
        outs.append(out)
    for i, out in enumerate(outs):
        same(f"kernel launch {i} on the set", out, 2 * x)
    launches = {w["device"] for w in cb.stats()["workers"]
                if w["tasks"] and w["device"] in names}
    check(f"kernel launches took the set's devices in turn ({launches})",
          launches == set(names))
    # A fault aimed at the set fires on whichever of its devices runs the
    # task first.
    import cambrian.testing as faults
    faults.inject_fault("negative", device=s, nth=1,
                        cl_status="CL_OUT_OF_RESOURCES")
    try:
        (-a).numpy()
    except cb.DeviceError as e:
        check("a fault aimed at the set fires on one of its devices",
              any(m in str(e) for m in names))
    else:
        check("a fault aimed at the set fires on one of its devices", False)
    same("the set works on after the fault", -a, -x)
    cb.profiling(False)
    print(f"{checks} checks passed")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "gpu")
