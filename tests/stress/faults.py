"""Fault storms: many injected device faults (cambrian.testing), failing
task functions and failing device-side assertions across random graphs
of operations, run eagerly and as recorded cb.Graph replays, from one
thread and from several.

Every round builds a random DAG over a few inputs (element-wise
operations, reductions, matrix products, task functions, kernels), arms
faults on some of its operations, submits it and reads every node. Each
node is one check, of exactly one of:

- it failed itself: a DeviceError of its own operation, with a status that
  a fault armed for that operation has (DeviceMemoryError exactly for
  CL_MEM_OBJECT_ALLOCATION_FAILURE), on its device; or TaskError (cause the
  function's exception) or DeviceAssertionError where the round made it
  fail;
- it did not run because an ancestor failed: DependencyError whose
  __cause__ is the failure of such an ancestor (never a DependencyError);
- neither it nor any ancestor failed: it succeeded, with NumPy's values.

Each armed fault is one check more: a fault on the nth execution of an
operation fires exactly once when the round executes that operation at
least n times (its tasks count whether or not their inputs failed), and
not at all otherwise. After a round, cb.synchronize() has nothing left to
report (every failure was read): one check more.
"""

import threading

import numpy as np

import cambrian as cb
import cambrian.testing as faults

from harness import alive, opencl_present

STATUSES = {"CL_OUT_OF_RESOURCES": cb.DeviceError,
            "CL_MEM_OBJECT_ALLOCATION_FAILURE": cb.DeviceMemoryError,
            "CL_INVALID_KERNEL_ARGS": cb.DeviceError,
            "CL_OUT_OF_HOST_MEMORY": cb.DeviceMemoryError}

# Element-wise operations whose results are exactly rounded in float64 on
# every device, so that chains of them compare closely with NumPy.
BINARY = {"add": (cb.add, np.add), "subtract": (cb.subtract, np.subtract),
          "multiply": (cb.multiply, np.multiply),
          "maximum": (cb.maximum, np.maximum),
          "minimum": (cb.minimum, np.minimum)}
UNARY = {"sqrt": (cb.sqrt, np.sqrt), "negative": (cb.negative, np.negative),
         "absolute": (cb.abs, np.abs)}
# Executions of a reduction over one tile: the tile's, then the combining.
REDUCE = {"sum": 2, "max": 2}

ASSERT_SRC = """
__kernel void storm_below(__global const double *x, __global double *y,
                          const double limit) {
  size_t i = get_global_id(0);
  CB_ASSERT(x[i] < limit);
  y[i] = x[i] * 0.5;
}
"""
_kernel = None


def _task(name):
    def body(x, out, scale, fail):
        if fail:
            raise ArithmeticError(f"{name} fails on purpose")
        np.multiply(x, scale, out=out)
        return float(scale)
    return cb.task(name=name)(body)


class Node:
    __slots__ = ("op", "kind", "inputs", "value", "result", "fail",
                 "execs", "anc", "future")

    def __init__(self, op, kind, inputs, value, result, execs=0, fail=None):
        self.op, self.kind, self.inputs = op, kind, inputs
        self.value, self.result = value, result
        self.execs, self.fail = execs, fail
        self.future = None


class Round:
    """One random DAG, on one device, eager (graph=None) or recorded into
    graph."""

    def __init__(self, rng, device, nodes, graph=None, tasks=(),
                 kernels=False, fail_share=0.15, prefix=""):
        self.rng, self.device, self.graph = rng, device, graph
        self.tasks, self.kernels = list(tasks), kernels
        self.prefix = prefix
        self.fail_share = fail_share
        square = rng.random() < 0.4
        if device == "opencl":
            # A few sizes only, as in load.py: pocl builds a kernel for
            # each work-group size it meets.
            n = int(rng.choice((2, 4, 8) if square else (1, 7, 64, 100)))
        else:
            n = int(rng.integers(2, 9)) if square else \
                int(rng.integers(1, 200))
        self.shape = (n, n) if square else (n,)
        self.nodes = []
        self.inputs = {}
        for i in range(int(rng.integers(2, 5))):
            x = rng.uniform(0.5, 2.0, self.shape)
            if graph is not None:
                a = graph.input(f"x{i}", self.shape, cb.float64)
                self.inputs[f"x{i}"] = x
            else:
                a = cb.asarray(x, device=device)
            self.nodes.append(Node("input", "input", [], x, a))
        for _ in range(nodes):
            self.add_node()
        for nd in self.nodes:
            nd.anc = set()
            for j in nd.inputs:
                nd.anc |= self.nodes[j].anc | {j}

    def pick(self, want_full=False):
        full = [i for i, nd in enumerate(self.nodes)
                if nd.value.shape == self.shape]
        # Recent nodes more often: longer chains.
        pool = full if want_full else range(len(self.nodes))
        pool = list(pool)
        k = int(len(pool) * self.rng.random() ** 0.5)
        return pool[min(k, len(pool) - 1)]

    def add_node(self):
        rng = self.rng
        r = rng.random()
        mode = "graph" if self.graph is not None else "eager"
        if r < 0.45:
            op = list(BINARY)[int(rng.integers(len(BINARY)))]
            i, j = self.pick(), self.pick(want_full=True)
            fn, ref = BINARY[op]
            a, b = self.nodes[i], self.nodes[j]
            if rng.random() < 0.5:
                a, b, i, j = b, a, j, i
            self.nodes.append(Node(op, "ew", [i, j], ref(a.value, b.value),
                                   fn(a.result, b.result), 1))
        elif r < 0.55:
            op = list(BINARY)[int(rng.integers(3))]
            i = self.pick()
            s = float(rng.uniform(0.25, 2.0))
            fn, ref = BINARY[op]
            self.nodes.append(Node(op, "ew", [i], ref(self.nodes[i].value, s),
                                   fn(self.nodes[i].result, s), 1))
        elif r < 0.65:
            op = list(UNARY)[int(rng.integers(len(UNARY)))]
            i = self.pick()
            fn, ref = UNARY[op]
            self.nodes.append(Node(op, "ew", [i], ref(self.nodes[i].value),
                                   fn(self.nodes[i].result), 1))
        elif r < 0.75:
            op = list(REDUCE)[int(rng.integers(len(REDUCE)))]
            i = self.pick(want_full=True)
            v = np.asarray(getattr(np, op)(self.nodes[i].value))
            self.nodes.append(Node(op, "reduce", [i], v,
                                   getattr(cb, op)(self.nodes[i].result),
                                   REDUCE[op]))
        elif r < 0.82 and len(self.shape) == 2:
            i, j = self.pick(want_full=True), self.pick(want_full=True)
            a, b = self.nodes[i], self.nodes[j]
            self.nodes.append(Node("matmul", "matmul", [i, j],
                                   a.value @ b.value, a.result @ b.result, 1))
        elif r < 0.92 and mode == "eager" and self.tasks and \
                self.device == "cpu":
            fn = self.tasks[int(rng.integers(len(self.tasks)))]
            i = self.pick(want_full=True)
            fail = rng.random() < self.fail_share
            out = cb.empty(self.shape, dtype=np.float64, device="cpu")
            s = float(rng.uniform(0.5, 2.0))
            fut = fn(self.nodes[i].result, cb.Out(out), s, fail)
            nd = Node(fn.name, "task", [i], self.nodes[i].value * s, out, 1,
                      "task" if fail else None)
            nd.future = fut
            self.nodes.append(nd)
        elif r < 0.97 and mode == "eager" and self.kernels and \
                self.device == "opencl":
            i = self.pick(want_full=True)
            fail = rng.random() < self.fail_share
            x = self.nodes[i]
            # The limit passes every element, or fails one at least (NaN
            # fails x < limit, as in NumPy).
            v = x.value
            m = float(np.max(np.where(np.isfinite(v), np.abs(v), 0.0)))
            limit = m * 0.5 if fail else m * 4.0 + 1.0
            out = cb.empty(self.shape, dtype=np.float64, device="opencl")
            fut = _kernel(int(np.prod(self.shape)), x.result, cb.Out(out),
                          np.float64(limit))
            fails = bool(np.any(~(v < limit)))
            nd = Node("storm_below", "kernel", [i], x.value * 0.5, out, 1,
                      "assert" if fails else None)
            nd.future = fut
            self.nodes.append(nd)
        else:
            op = "add"
            i = self.pick()
            fn, ref = BINARY[op]
            v = self.nodes[i]
            self.nodes.append(Node(op, "ew", [i, i], ref(v.value, v.value),
                                   fn(v.result, v.result), 1))

    def executions(self, op):
        return sum(nd.execs for nd in self.nodes if nd.op == op)


def _ops_of(rnd):
    ops = {}
    for nd in rnd.nodes:
        if nd.op != "input" and nd.execs:
            ops[nd.op] = ops.get(nd.op, 0) + nd.execs
    return ops


def arm(rng, rnd, nfaults):
    """Arms up to nfaults faults on distinct operations of the round;
    returns {op: (nth, status)}."""
    ops = _ops_of(rnd)
    names = sorted(ops)
    rng.shuffle(names)
    armed = {}
    for op in names[:nfaults]:
        # Now and then past the last execution: the fault must not fire.
        nth = int(rng.integers(1, ops[op] + 2))
        status = list(STATUSES)[int(rng.integers(len(STATUSES)))]
        faults.inject_fault(op, device=rnd.device, nth=nth, cl_status=status)
        armed[op] = (nth, status)
    return armed


def _read(nd):
    """(value, exception) of a node's result."""
    try:
        if nd.future is not None:
            nd.future.result(timeout=120)
        return nd.result.numpy(), None
    except Exception as e:  # noqa: BLE001 (judged by check_round)
        return None, e


def _key(e):
    return (type(e), getattr(e, "task", None), getattr(e, "cl_status", None),
            str(e))


def check_round(ck, rnd, armed, results, label, sync=True):
    """The checks of one round; results maps node index to (value,
    exception) for the nodes to check (inputs left out). With sync, what
    cb.synchronize() reports afterwards is checked too (a round of its
    own in the process only)."""
    dev = cb.get_device(rnd.device)
    direct = {}          # node index -> its own failure
    scale = max([float(np.max(np.abs(nd.value), initial=0.0))
                 for nd in rnd.nodes if np.all(np.isfinite(nd.value))] + [1])
    fired = {op: 0 for op in armed}
    # The nodes that failed themselves first: dependents are judged by them.
    for i in sorted(results):
        nd = rnd.nodes[i]
        value, e = results[i]
        if e is None or isinstance(e, cb.DependencyError):
            continue
        what = f"{label}: node {i} ({nd.op})"
        if nd.fail == "task" and isinstance(e, cb.TaskError):
            ck.check(isinstance(e.__cause__, ArithmeticError),
                     f"{what}: TaskError caused by {e.__cause__!r}")
            direct[i] = e
            continue
        if nd.fail == "assert" and isinstance(e, cb.DeviceAssertionError):
            ck.check(e.kernel == "storm_below" and e.device == dev,
                     f"{what}: assertion of {e.kernel} on {e.device}")
            direct[i] = e
            continue
        if not isinstance(e, cb.DeviceError) or nd.op not in armed:
            ck.wrong(f"{what}: failed with {type(e).__name__}: {e} (armed: "
                     f"{armed})")
            direct[i] = e
            continue
        nth, status = armed[nd.op]
        expected = STATUSES[status]
        good = (type(e) is expected and e.cl_status == status and
                e.task == nd.op and e.device == dev)
        ck.check(good, f"{what}: {type(e).__name__}({e.cl_status}, task "
                 f"{e.task}, on {e.device}), armed {status} on {dev}")
        fired[nd.op] += 1
        direct[i] = e
    # Nodes that are not checked (a graph's intermediates) may have failed
    # where a fault was armed on their operation, or where made to fail.
    maybe = {j for j, nd in enumerate(rnd.nodes) if j not in results and (
        nd.fail is not None or (nd.op in armed and
                                rnd.executions(nd.op) >= armed[nd.op][0]))}

    def caused_by(cause, j):
        if j in direct:
            return _key(direct[j]) == _key(cause)
        nd = rnd.nodes[j]
        if nd.op in armed:
            status = armed[nd.op][1]
            if (type(cause) is STATUSES[status] and
                    cause.cl_status == status and cause.task == nd.op):
                return True
        return (nd.fail == "task" and isinstance(cause, cb.TaskError)) or \
            (nd.fail == "assert" and
             isinstance(cause, cb.DeviceAssertionError))

    for i in sorted(results):
        nd = rnd.nodes[i]
        value, e = results[i]
        what = f"{label}: node {i} ({nd.op})"
        if i in direct:
            continue
        failed_anc = sorted(j for j in nd.anc if j in direct)
        maybe_anc = sorted(j for j in nd.anc if j in maybe)
        if isinstance(e, cb.DependencyError):
            cause = e.__cause__
            if isinstance(cause, cb.DependencyError) or cause is None:
                ck.wrong(f"{what}: DependencyError caused by {cause!r}")
            elif not failed_anc and not maybe_anc:
                ck.wrong(f"{what}: DependencyError({cause!r}) but no "
                         f"ancestor failed")
            else:
                ck.check(any(caused_by(cause, j)
                             for j in failed_anc + maybe_anc),
                         lambda: f"{what}: caused by {cause!r}, not by a "
                         f"failed ancestor's failure "
                         f"{[direct[j] for j in failed_anc]}")
            continue
        if e is not None:
            ck.wrong(f"{what}: raised {type(e).__name__}: {e}")
            continue
        if failed_anc:
            ck.wrong(f"{what}: succeeded although ancestors "
                     f"{failed_anc} failed")
            continue
        if nd.fail is not None:
            ck.wrong(f"{what}: was made to fail ({nd.fail}) but succeeded")
            continue
        ok = value.shape == nd.value.shape and np.allclose(
            value, nd.value, rtol=1e-9, atol=1e-12 * scale, equal_nan=True)
        ck.check(ok, lambda: f"{what}: values differ from NumPy's: "
                 f"{np.ravel(value)[:4]} vs {np.ravel(nd.value)[:4]}")
    hidden = _sync_hidden(ck, rnd, armed, results, label) if sync else []
    for op, (nth, status) in armed.items():
        should = 1 if rnd.executions(op) >= nth else 0
        seen = fired[op] + sum(x.task == op for x in hidden)
        if should and not seen and any(rnd.nodes[j].op == op
                                       for j in maybe):
            # It fired in an intermediate of a graph: an output that
            # depends on a node of op failed (with a DependencyError, or
            # with a fault of its own that fired too).
            seen = int(any(
                results[i][1] is not None and any(
                    rnd.nodes[j].op == op for j in rnd.nodes[i].anc)
                for i in results))
        ck.check(seen == should,
                 f"{label}: fault on {op} (nth {nth} of "
                 f"{rnd.executions(op)} executions) fired {seen} "
                 f"times, expected {should}")


def _sync_hidden(ck, rnd, armed, results, label):
    """One check of what cb.synchronize() reports once every node was
    read: nothing, but for failures that no result could show. An
    operation's array keeps its first failure: a reduction whose tile
    task failed because of its input, and whose combining task's fault
    fired afterwards, shows the DependencyError, and the fault's own
    failure is left for synchronize(); so is one in a graph's
    intermediate that an output hides behind a fault of its own. Each
    such report must be a fault armed on the operation of a node that
    did not show it. Returns the reports."""
    try:
        cb.synchronize(timeout=120)
        ck.ok()
        return []
    except BaseException as e:  # noqa: BLE001
        if isinstance(e, KeyboardInterrupt):
            raise
        excs = list(e.exceptions) if isinstance(e, BaseExceptionGroup) \
            else [e]
    shown = {_key(x) for _, x in results.values() if x is not None}
    shown |= {_key(x.__cause__) for _, x in results.values()
              if isinstance(x, cb.DependencyError)}
    could_hide = {nd.op for j, nd in enumerate(rnd.nodes)
                  if j not in results or
                  isinstance(results[j][1], cb.DependencyError)}
    bad = [x for x in excs
           if not isinstance(x, cb.DeviceError) or
           isinstance(x, cb.DependencyError) or x.task not in armed or
           x.task not in could_hide or _key(x) in shown or
           x.cl_status != armed[x.task][1]]
    ck.check(not bad, f"{label}: synchronize() reported {bad!r}, which "
             f"are no hidden failures (armed {armed})")
    return [x for x in excs if x not in bad]


def _eager_round(ck, rng, device, nodes, nfaults, label, tasks, kernels,
                 sync):
    # Arm on the operations the round is likely to use, then build: which
    # of them the round executes, and how often, is counted afterwards.
    ops = list(BINARY) + list(UNARY) + list(REDUCE) + ["matmul"] + \
        [t.name for t in tasks]
    rng.shuffle(ops)
    armed_ops = ops[:nfaults]
    plan = {op: (int(rng.integers(1, 4)),
                 list(STATUSES)[int(rng.integers(len(STATUSES)))])
            for op in armed_ops}
    for op, (nth, status) in plan.items():
        faults.inject_fault(op, device=device, nth=nth, cl_status=status)
    rnd = Round(rng, device, nodes, tasks=tasks, kernels=kernels)
    results = {i: _read(nd) for i, nd in enumerate(rnd.nodes)
               if nd.kind != "input"}
    check_round(ck, rnd, plan, results, label)
    return rnd


def storm(ck, rounds=40, nodes=20, nfaults=3, seed=0, device="cpu",
          kernels=True):
    """Eager rounds on one device, one thread."""
    if device == "opencl" and not opencl_present():
        ck.note("no OpenCL device: the OpenCL storm did not run")
        return
    global _kernel
    if device == "opencl" and kernels:
        _kernel = cb.Kernel(ASSERT_SRC, "storm_below")
    rng = np.random.default_rng(seed)
    tasks = [_task(f"storm_fn{k}") for k in range(3)]
    for r in range(rounds):
        _eager_round(ck, rng, device, nodes, nfaults, f"round {r}", tasks,
                     kernels and device == "opencl", True)
        faults.clear_faults()
    alive(ck)


def _sync_clean(ck, label):
    try:
        cb.synchronize(timeout=120)
        ck.ok()
    except BaseException as e:  # noqa: BLE001
        if isinstance(e, KeyboardInterrupt):
            raise
        ck.wrong(f"{label}: synchronize() after every failure was read "
                 f"raised {e!r}")


def graph_storm(ck, rounds=30, nodes=20, nfaults=3, seed=0, device="cpu",
                runs=3):
    """Rounds recorded as graphs, each run several times with faults armed
    before each run."""
    if device == "opencl" and not opencl_present():
        ck.note("no OpenCL device: the OpenCL graph storm did not run")
        return
    rng = np.random.default_rng(seed)
    for r in range(rounds):
        # Unfused: faults are armed, and judged, operation by operation
        # (map_storm runs a fused graph).
        with cb.Graph(fuse=False) as g:
            rnd = Round(rng, device, nodes, graph=g)
            outputs = {}
            users = {j for nd in rnd.nodes for j in nd.inputs}
            for i, nd in enumerate(rnd.nodes):
                if nd.kind != "input" and (i not in users or
                                           rng.random() < 0.3):
                    outputs[i] = f"n{i}"
                    g.output(f"n{i}", nd.result)
            # Every input must reach an output: a sink that is an input is
            # sent through an operation of its own.
            for i, nd in enumerate(list(rnd.nodes)):
                if nd.kind == "input" and i not in users:
                    rnd.nodes.append(Node("add", "ew", [i], nd.value + 0.0,
                                          nd.result + 0.0, 1))
                    rnd.nodes[-1].anc = {i}
                    outputs[len(rnd.nodes) - 1] = f"n{len(rnd.nodes) - 1}"
                    g.output(outputs[len(rnd.nodes) - 1],
                             rnd.nodes[-1].result)
        for k in range(runs):
            armed = arm(rng, rnd, nfaults)
            inputs = {name: cb.asarray(x, device=device)
                      for name, x in rnd.inputs.items()}
            outs = g.run(**inputs)
            results = {}
            for i, name in outputs.items():
                try:
                    results[i] = (outs[name].numpy(), None)
                except cb.CambrianError as e:
                    results[i] = (None, e)
            check_round(ck, rnd, armed, results, f"graph {r} run {k}")
            faults.clear_faults()
            del outs
    alive(ck)


def threaded_storm(ck, threads=4, rounds=15, nodes=16, seed=0):
    """Several threads storm at once. Faults are armed for the process, so
    each thread arms them on the task functions of its own only, and
    reads every node; the threads on the CPU workers and on the OpenCL
    device also run rounds without faults beside them, which must not
    fail at all."""
    barrier = threading.Barrier(threads)
    has_cl = opencl_present()

    def run(t):
        rng = np.random.default_rng(seed * 100 + t)
        tasks = [_task(f"t{t}_fn{k}") for k in range(3)]
        device = "opencl" if (has_cl and t % 2) else "cpu"
        barrier.wait(60)
        for r in range(rounds):
            label = f"thread {t} round {r}"
            plan = {}
            if device == "cpu":
                for fn in tasks[:1 + int(rng.integers(2))]:
                    nth = int(rng.integers(1, 3))
                    status = list(STATUSES)[int(rng.integers(len(STATUSES)))]
                    faults.inject_fault(fn.name, nth=nth, cl_status=status)
                    plan[fn.name] = (nth, status)
            rnd = Round(rng, device, nodes, tasks=tasks)
            results = {i: _read(nd) for i, nd in enumerate(rnd.nodes)
                       if nd.kind != "input"}
            check_round(ck, rnd, plan, results, label, sync=False)
            # A fault that did not fire is used up by calls of its own.
            for op, (nth, _) in plan.items():
                left = nth - rnd.executions(op)
                for _ in range(max(0, left)):
                    fn = next(f for f in tasks if f.name == op)
                    fut = fn(cb.asarray(np.ones(2), device="cpu"),
                             cb.Out(cb.empty(2, device="cpu")), 1.0, False)
                    try:
                        fut.result(timeout=60)
                    except cb.DeviceError:
                        pass

    errors = []

    def guard(t):
        try:
            run(t)
        except Exception as e:  # noqa: BLE001
            import traceback
            errors.append(f"thread {t}: {traceback.format_exc()[-1500:]}")

    pool = [threading.Thread(target=guard, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    for e in errors:
        ck.wrong(e)
    faults.clear_faults()
    _sync_clean(ck, "after the threads")
    alive(ck)


def map_storm(ck, rounds=10, batches=12, seed=0):
    """Graph.map over batches with faults in some: the failures come out
    once each, naming their batch; the other batches are right. The graph
    is fused: each batch is one task, whose failure is its output's."""
    rng = np.random.default_rng(seed)
    with cb.Graph() as g:
        x = g.input("x", (256,), cb.float64)
        g.output("y", cb.sqrt(x * 2.0 + 1.0) - x)
    ck.check(g.fused_groups == (0, 0, 0, 0), "map graph: not fused")
    data = [rng.uniform(0, 4, 256) for _ in range(batches)]
    for r in range(rounds):
        nth = sorted({int(v) for v in rng.integers(1, batches + 1, 2)})
        for k in nth:
            faults.inject_fault("fused", nth=k)
        done = {}
        try:
            for i, outs in g.map(data, in_flight=int(rng.integers(1, 4)),
                                 ordered=bool(rng.random() < 0.5)):
                done[i] = outs["y"].numpy()
            got = []
        except ExceptionGroup as eg:
            got = list(eg.exceptions)
        faults.clear_faults()
        # Which batches fail depends on the order the fused tasks run in:
        # as many as faults, each named, the others right. The output is
        # the fused task's own: its DeviceError.
        ck.check(len(got) == len(nth) and all(
            type(e) is cb.DeviceError and e.task == "fused" for e in got),
            f"map round {r}: {len(got)} failures {got!r}, expected "
            f"{len(nth)}")
        failed = {getattr(e, "batch_index", None) for e in got}
        ck.check(failed.isdisjoint(done) and
                 failed | set(done) == set(range(batches)),
                 f"map round {r}: batches done {sorted(done)}, failed "
                 f"{sorted(failed, key=str)}")
        for i, y in done.items():
            x = data[i]
            ck.check(np.allclose(y, np.sqrt(x * 2.0 + 1.0) - x, rtol=1e-12),
                     f"map round {r}: batch {i} values differ")
    _sync_clean(ck, "after the map rounds")
    alive(ck)


def scenarios(long):
    k = 4 if long else 1
    out = []
    for dev in ("cpu", "opencl"):
        out.append({"name": f"storm_{dev}", "func": "storm",
                    "params": {"rounds": 40 * k, "nodes": 24, "nfaults": 3,
                               "device": dev}, "timeout": 300})
        out.append({"name": f"graph_storm_{dev}", "func": "graph_storm",
                    "params": {"rounds": 12 * k, "nodes": 20, "nfaults": 3,
                               "device": dev, "runs": 3}, "timeout": 300})
    out.append({"name": "threaded_storm", "func": "threaded_storm",
                "params": {"threads": 8 if long else 4,
                           "rounds": 15 * k, "nodes": 16}, "timeout": 300})
    out.append({"name": "map_storm", "func": "map_storm",
                "params": {"rounds": 10 * k}, "timeout": 300})
    return out
