"""Memory pressure: allocations that do not fit, in a process whose
address space is limited (RLIMIT_AS) once the runtime has started. Each
attempt runs in a process of its own and is one check: it succeeds with
NumPy's values, or raises MemoryError (cambrian's DeviceMemoryError is
one; a task function's MemoryError arrives as TaskError caused by it),
at the call or when the result is read; it never aborts, crashes or
hangs. A second check per attempt: once the attempt's arrays are let go,
the runtime computes again.
"""

import resource
import sys
import threading

import numpy as np

MiB = 1 << 20


def _vsize():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _memory_error(e):
    import cambrian as cb
    if isinstance(e, MemoryError):
        return True
    if isinstance(e, cb.TaskError) and isinstance(e.__cause__, MemoryError):
        return True
    if isinstance(e, cb.DependencyError) and isinstance(e.__cause__,
                                                        MemoryError):
        return True
    return False


def _read(a):
    return a.numpy()


# ---- the attempts: each returns None (done right) or what was wrong -------

def within_limit(cb, dev, room):
    """Work that fits: it must simply be right under the limit."""
    n = int(room * 0.03) // 8
    a = cb.full(n, 2.0, device=dev)
    b = cb.sqrt(a * a + 5.0) - 1.0
    s = float(b.sum())
    v = _read(b)
    if v[0] != 2.0 or v[-1] != 2.0 or s != 2.0 * n:
        return f"wrong values {v[0]}, {v[-1]}, sum {s}"
    return None


def huge_empty(cb, dev, room):
    a = cb.empty(1 << 40, dtype=np.float64, device=dev)   # 8 TiB
    a = cb.full(1 << 40, 1.0, device=dev)
    _read(a)
    return "an 8 TiB array was made and read"


def over_limit_full(cb, dev, room):
    n = int(room * 1.5) // 8
    a = cb.full(n, 3.0, device=dev)
    v = _read(a)
    return None if v[0] == 3.0 and v[-1] == 3.0 else "wrong values"


def copies_until_full(cb, dev, room):
    x = np.arange(int(room * 0.3) // 8, dtype=np.float64)
    kept = []
    for _ in range(8):
        kept.append(cb.asarray(x, device=dev, copy=True))
    for a in kept:
        v = _read(a)
        if v[-1] != x[-1]:
            return "a copy has wrong values"
    return None


def results_until_full(cb, dev, room):
    n = int(room * 0.15) // 8
    a = cb.asarray(np.ones(n), device=dev)
    kept = []
    for i in range(12):
        kept.append(a * float(i))
    for i, r in enumerate(kept):
        v = _read(r)
        if v[0] != float(i) or v[-1] != float(i):
            return f"result {i} has wrong values"
    return None


def chain_over_limit(cb, dev, room):
    n = int(room * 0.4) // 8
    x = np.full(n, 2.0)
    a = cb.asarray(x, device=dev)
    b = cb.sqrt(a * a + 1.0) - a
    c = (b + a) * 0.5
    v = _read(c)
    want = (np.sqrt(5.0) - 2.0 + 2.0) * 0.5
    return None if abs(v[0] - want) < 1e-12 else "wrong values"


def reduce_over_limit(cb, dev, room):
    n = int(room * 0.7) // 8
    a = cb.full(n, 0.5, device=dev)
    s = float((a + a).sum())
    return None if s == float(n) else f"sum {s}, expected {n}"


def matmul_over_limit(cb, dev, room):
    n = int((room * 1.2 / 8) ** 0.5)
    a = cb.ones((n, 4), device=dev)
    b = cb.ones((4, n), device=dev)
    c = a @ b
    v = _read(c)
    return None if v[0, 0] == 4.0 and v[-1, -1] == 4.0 else "wrong values"


def graph_over_limit(cb, dev, room):
    n = int(room * 0.35) // 8
    with cb.Graph() as g:
        x = g.input("x", (n,), cb.float64)
        g.output("y", (x * 2.0 + 1.0) * x)
        g.output("z", x - 1.0)
    outs = [g.run(x=cb.full(n, 1.0, device=dev)) for _ in range(3)]
    for o in outs:
        if _read(o["y"])[-1] != 3.0 or _read(o["z"])[-1] != 0.0:
            return "wrong values"
    return None


def task_over_limit(cb, dev, room):
    @cb.task
    def grow(out, nbytes):
        tmp = np.ones(nbytes // 8)        # does not fit
        out[:] = tmp[: out.size]

    out = cb.empty(16, device="cpu")
    grow(cb.Out(out), int(room * 2)).result(timeout=120)
    return "a task allocated more than the address space holds"


def device_move_over_limit(cb, dev, room):
    if not cb.devices("opencl"):
        return None
    n = int(room * 0.45) // 8
    a = cb.asarray(np.full(n, 2.0), copy=True)
    b = a.to_device("opencl")
    c = b * 2.0
    d = c.to_device("cpu") + 1.0
    v = _read(d)
    return None if v[0] == 5.0 and v[-1] == 5.0 else "wrong values"


def kernel_over_limit(cb, dev, room):
    if not cb.devices("opencl"):
        return None
    k = cb.Kernel("__kernel void twice(__global const double *x, "
                  "__global double *y) { size_t i = get_global_id(0); "
                  "y[i] = 2.0 * x[i]; }", "twice")
    n = int(room * 0.45) // 8
    x = cb.full(n, 1.5, device="opencl")
    y = cb.empty(n, device="opencl")
    k(n, x, cb.Out(y)).result(timeout=120)
    v = _read(y)
    return None if v[0] == 3.0 and v[-1] == 3.0 else "wrong values"


def threads_until_full(cb, dev, room):
    n = int(room * 0.1) // 8
    errors, wrong = [], []

    def work(t):
        kept = []
        try:
            for i in range(6):
                kept.append(cb.full(n, float(t), device=dev) + float(i))
            for i, r in enumerate(kept):
                if _read(r)[-1] != float(t + i):
                    wrong.append(f"thread {t} result {i}")
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    # Small stacks: each thread's stack is address space too.
    threading.stack_size(256 << 10)
    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if wrong:
        return ", ".join(wrong) + " wrong"
    for e in errors:
        if not _memory_error(e):
            raise e
    if errors:
        raise errors[0]
    return None


OPENCL_ONLY = {device_move_over_limit, kernel_over_limit}
ATTEMPTS = [within_limit, huge_empty, over_limit_full, copies_until_full,
            results_until_full, chain_over_limit, reduce_over_limit,
            matmul_over_limit, graph_over_limit, task_over_limit,
            device_move_over_limit, kernel_over_limit, threads_until_full]


def attempt(name, dev, room_mib):
    """In a process of its own: start the runtime, limit the address space
    to what it uses now plus room_mib, run the attempt, then let it all go
    and compute once more. Prints RESULT and ALIVE lines."""
    import cambrian as cb
    for d in ("cpu", "opencl"):
        if cb.devices(d):
            (cb.asarray(np.arange(4.0), device=d) * 2.0).numpy()
    room = room_mib * MiB
    limit = _vsize() + room
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    fn = globals()[name]
    try:
        err = fn(cb, dev, room)
        print("RESULT", "ok" if err is None else "wrong " + err, flush=True)
    except Exception as e:  # noqa: BLE001
        kind = "memory" if _memory_error(e) else "wrong"
        print("RESULT", kind, f"{type(e).__name__}: {e}"[:300], flush=True)
    import gc
    gc.collect()
    try:
        cb.synchronize(timeout=120)
    except Exception as e:  # noqa: BLE001
        # Failures of work whose arrays were let go are reported here.
        if not _memory_error(e) and not (
                isinstance(e, BaseExceptionGroup) and
                all(_memory_error(x) for x in e.exceptions)):
            print("ALIVE wrong synchronize raised", repr(e)[:300])
            return
    try:
        a = cb.asarray(np.arange(6.0), device=dev)
        v = (a * 2.0 + 1.0).numpy()
        ok = np.array_equal(v, np.arange(6.0) * 2 + 1)
        print("ALIVE", "ok" if ok else f"wrong {v}", flush=True)
    except Exception as e:  # noqa: BLE001
        print("ALIVE wrong", repr(e)[:300], flush=True)


def _judge(ck, res, what):
    out = res.stdout
    result = [ln for ln in out.splitlines() if ln.startswith("RESULT")]
    alive = [ln for ln in out.splitlines() if ln.startswith("ALIVE")]
    if not result:
        ck.wrong(f"{what}: no result; stderr: {res.stderr[-600:]}")
    else:
        kind = result[0].split()[1]
        ck.check(kind in ("ok", "memory"), f"{what}: {result[0]}")
        ck.note(f"{what}: {result[0][7:][:160]}")
    if not alive:
        ck.wrong(f"{what}: nothing computed afterwards; stderr: "
                 f"{res.stderr[-600:]}")
    else:
        ck.check(alive[0] == "ALIVE ok", f"{what}: afterwards {alive[0]}")


def pressure(ck, names=None, devices=("cpu", "opencl"), room_mib=768,
             timeout=120):
    """Each attempt on each device, in a process of its own."""
    code = ("import sys, memory; memory.attempt(sys.argv[1], sys.argv[2], "
            "int(sys.argv[3]))")
    from harness import opencl_present
    has_cl = opencl_present()
    for dev in devices:
        if dev == "opencl" and not has_cl:
            continue
        for fn in ATTEMPTS:
            if names and fn.__name__ not in names:
                continue
            if dev == "cpu" and fn in OPENCL_ONLY:
                continue
            what = f"{fn.__name__} on {dev} ({room_mib} MiB of room)"
            res = ck.python(code, what, timeout=timeout, expect_rc=None,
                            args=[fn.__name__, dev, str(room_mib)])
            if res is not None and res.returncode >= 0:
                _judge(ck, res, what)


def scenarios(long):
    rooms = [256, 768, 2048] if long else [512]
    out = []
    for room in rooms:
        out.append({"name": f"pressure_cpu_{room}", "func": "pressure",
                    "params": {"devices": ["cpu"], "room_mib": room},
                    "timeout": 900})
        out.append({"name": f"pressure_opencl_{room}", "func": "pressure",
                    "params": {"devices": ["opencl"], "room_mib": room},
                    "timeout": 900})
    return out


if __name__ == "__main__":
    attempt(sys.argv[1], sys.argv[2], int(sys.argv[3]))
