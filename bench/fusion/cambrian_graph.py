"""cambrian: GELU recorded once as a cambrian.Graph and run on its
device, fused (9 operations as one task per tile, the default) and
unfused (cb.Graph(fuse=False): one task per operation and tile). The
input is placed on the device once; each repetition runs the graph and
waits for its result, which stays on the device."""
import cambrian as cb
import harness

from workload import gelu

VARIANTS = ["graph, fused", "graph, unfused"]


def make(name, device):
    """A competitor module's functions for one device filter."""
    def available():
        return harness.cambrian_has(device)

    def setup(x, variant):
        with cb.Graph(fuse=variant == VARIANTS[0]) as g:
            v = g.input("x", x.shape, cb.float32)
            g.output("y", gelu(v, cb.tanh))
        a = cb.asarray(x, device=device)
        a.future.result()
        return {"g": g, "x": a, "y": None}

    def run(state):
        state["y"] = state["g"].run(x=state["x"])["y"]
        state["y"].future.result()

    def result(state):
        return state["y"].numpy()

    def teardown(state):
        state.clear()
        cb.synchronize()

    return {"NAME": name, "VARIANTS": VARIANTS, "available": available,
            "setup": setup, "run": run, "result": result,
            "teardown": teardown}
