"""cambrian on its CPU workers (device "cpu").

The inputs are wrapped once (zero-copy). Each repetition submits the
operation and waits for its result: each tile's task reads a strided
operand or a broadcast row in place, through its strides; take and
masks wait and index on the host; sort runs on the host; concat copies
each tile of the result from the tiles of x or y its rows hold.
"""
import cambrian as cb

NAME = "cambrian cpu"
VARIANTS = ["r = op(...); r.wait()"]
DEVICE = "cpu"


def available():
    return True, ""


def setup(data, variant):
    cb.shutdown()
    cb.init()
    dev = cb.get_device(DEVICE)
    s = {name: cb.asarray(v, device=dev) for name, v in data.items()}
    for a in s.values():
        a.wait()
    return s


def compute(s, op):
    x, y = s["x"], s["y"]
    if op == "add contiguous, half":
        return s["xh"] + s["yh"]
    if op == "add contiguous":
        return x + y
    if op == "add strided":
        return x[:, ::2] + y[:, ::2]
    if op == "add strided rows":
        return x[:, :512] + y[:, :512]
    if op == "add broadcast":
        return x + s["row"]
    if op == "take":
        return cb.take(s["flat"], s["idx"])
    if op == "mask":
        return s["flat"][s["flat"] > 0.5]
    if op == "sort":
        return cb.sort(s["flat"])
    if op == "sum middle axis, keepdims":
        return cb.sum(s["cube"], axis=1, keepdims=True)
    if op == "concat":
        return cb.concat([x, y])
    raise ValueError(op)


def run(s, op):
    compute(s, op).wait()


def result(s, op):
    return compute(s, op).numpy()


def teardown(s):
    s.clear()
    cb.shutdown()
