"""The workload of bench/fusion, written once for cambrian graph values,
NumPy and CuPy arrays: GELU in its tanh form, 9 element-wise operations
over float32.

    gelu(x) = 0.5 x (1 + tanh(0.7978845608 (x + 0.044715 x^3)))
"""

OPS = 9


def gelu(x, tanh):
    return 0.5 * x * (1.0 + tanh(0.7978845608 * (x + 0.044715 * x * x * x)))
