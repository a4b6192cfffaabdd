"""CuPy, the GPU peer: one GPU, and every GPU with the work split by hand
(each GPU its own arrays and its share of the work, one wait per GPU).

Variants:
  one GPU                  everything on device 0
  every GPU, by hand       products: pair j on GPU j mod n; element-wise:
                           each GPU its slice of the arrays
"""
import harness

NAME = "cupy"
VARIANTS = ["one GPU", "every GPU, by hand"]

try:
    import cupy as cp
except Exception:  # noqa: BLE001
    cp = None


def available():
    return harness.cuda_available(cp)


def _ngpus(variant):
    return 1 if variant == VARIANTS[0] else cp.cuda.runtime.getDeviceCount()


def _sync(k):
    for g in range(k):
        with cp.cuda.Device(g):
            cp.cuda.Device().synchronize()


def setup(work, variant):
    k = _ngpus(variant)
    if work.name == "products":
        ops = []
        for j in range(work.count):
            with cp.cuda.Device(j % k):
                ops.append((cp.asarray(work.a[j % 2]),
                            cp.asarray(work.b[j % 2])))
        _sync(k)
        return {"work": work, "k": k, "ops": ops, "c": None}
    parts = []
    step = (work.n + k - 1) // k
    for g in range(k):
        n = min(step, work.n - g * step)
        with cp.cuda.Device(g):
            parts.append({"a": cp.full(n, work.A, cp.float32),
                          "b": cp.full(n, work.B, cp.float32), "n": n})
    _sync(k)
    return {"work": work, "k": k, "parts": parts, "z": None}


def run(state):
    work, k = state["work"], state["k"]
    if work.name == "products":
        c = []
        for j, (a, b) in enumerate(state["ops"]):
            with cp.cuda.Device(j % k):
                c.append(a @ b)
        state["c"] = c
    else:
        zs = []
        for g, p in enumerate(state["parts"]):
            with cp.cuda.Device(g):
                z = cp.zeros(p["n"], cp.float32)
                for _ in range(work.steps):
                    z = z * p["a"] + p["b"]
                zs.append(z)
        state["z"] = zs
    _sync(k)


def check(state):
    work = state["work"]
    if work.name == "products":
        return work.check([cp.asnumpy(state["c"][0]),
                           cp.asnumpy(state["c"][1])])
    zs, kk = state["z"], 4096
    return work.check(cp.asnumpy(zs[0][:kk]), cp.asnumpy(zs[-1][-kk:]))


def teardown(state):
    state.clear()
    for g in range(cp.cuda.runtime.getDeviceCount()):
        with cp.cuda.Device(g):
            cp.get_default_memory_pool().free_all_blocks()
