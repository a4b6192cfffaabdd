"""NumPy on the calling thread: the baseline of the ratios. Views are
views (no copy); take, masks and sort run as NumPy runs them."""
import numpy as np

NAME = "numpy"
VARIANTS = ["np"]


def available():
    return True, ""


def setup(data, variant):
    return dict(data)


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
        return s["flat"][s["idx"]]
    if op == "mask":
        return s["flat"][s["flat"] > 0.5]
    if op == "sort":
        return np.sort(s["flat"])
    if op == "sum middle axis, keepdims":
        return np.sum(s["cube"], axis=1, keepdims=True)
    if op == "concat":
        return np.concatenate([x, y])
    raise ValueError(op)


def run(s, op):
    s["r"] = compute(s, op)


def result(s, op):
    return np.asarray(compute(s, op))


def teardown(s):
    s.clear()
