"""The two workloads of the multi-GPU benchmark, as NumPy inputs and a
check of the results (shared by every competitor)."""
import numpy as np


class Products:
    """count independent n x n float32 products C_j = A_j @ B_j."""

    name = "products"

    def __init__(self, n, count, seed=0):
        rng = np.random.default_rng(seed)
        self.n, self.count = n, count
        # Two distinct operands, used in turn: inputs are copied to the
        # devices once each, and the check needs only two NumPy products.
        self.a = [rng.standard_normal((n, n), np.float32) for _ in range(2)]
        self.b = [rng.standard_normal((n, n), np.float32) for _ in range(2)]
        self.want = [self.a[i] @ self.b[i] for i in range(2)]
        self.label = f"{count} x SGEMM {n}"
        self.flops = 2.0 * n ** 3 * count

    def check(self, results):
        """results: the host copies of C_0 and C_1."""
        return all(np.allclose(got, want, rtol=1e-3, atol=1e-2)
                   for got, want in zip(results, self.want))


class Elementwise:
    """steps times z = z * a + b over n float32 elements, then one wait.

    a and b are filled with A and B on the devices (no host copy of 4 GiB
    arrays to make or move); z starts at 0, so every element of the result
    is the same number, which check() computes in float32 as the devices
    do."""

    name = "elementwise"
    A, B = 1.25, 0.125

    def __init__(self, n, steps):
        self.n, self.steps = n, steps
        self.label = f"{steps} x (z = z * a + b), {n} float32"
        self.bytes = 2 * steps * 3 * 4.0 * n  # two kernels, 3 arrays each

    def want(self):
        z = np.float32(0)
        for _ in range(self.steps):
            z = z * np.float32(self.A) + np.float32(self.B)
        return z

    def check(self, head, tail):
        """head, tail: the first and last elements of z, a few thousand."""
        return bool(np.all(head == self.want()) and
                    np.all(tail == self.want()))
