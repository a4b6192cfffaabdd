"""k-means where the data lives: points and centroids stay on one OpenCL
device for every iteration (compute follows data); only the final result
comes back. Checked against a NumPy reference.

    python examples/kmeans.py [device]      # default: the first OpenCL device
"""

import sys

import numpy as np

import cambrian as cb

SOURCE = """
// One work-item per point: the nearest centroid.
__kernel void assign(__global const float *pts, __global const float *cent,
                     __global int *label, const int d, const int k) {
  const int i = get_global_id(0);
  float best = INFINITY;
  int arg = 0;
  for (int c = 0; c < k; c++) {
    float s = 0.0f;
    for (int j = 0; j < d; j++) {
      const float t = pts[i * d + j] - cent[c * d + j];
      s += t * t;
    }
    if (s < best) { best = s; arg = c; }
  }
  label[i] = arg;
}

// One work-item per centroid coordinate: the mean of its points (the
// centroid stays where it was when no point chose it).
__kernel void update(__global const float *pts, __global const int *label,
                     __global float *cent, const int n, const int d) {
  const int c = get_global_id(0), j = get_global_id(1);
  float s = 0.0f;
  int m = 0;
  for (int i = 0; i < n; i++)
    if (label[i] == c) { s += pts[i * d + j]; m++; }
  CB_ASSERT(m <= n);
  if (m > 0) cent[c * d + j] = s / (float)m;
}
"""


def numpy_kmeans(points, centroids, iters):
    cent = centroids.copy()
    for _ in range(iters):
        dist = ((points[:, None, :] - cent[None, :, :]) ** 2).sum(axis=2)
        label = dist.argmin(axis=1).astype(np.int32)
        for c in range(len(cent)):
            mine = points[label == c]
            if len(mine):
                cent[c] = mine.mean(axis=0, dtype=np.float32)
    return label, cent


def main():
    device = sys.argv[1] if len(sys.argv) > 1 else "opencl"
    dev = [d for d in cb.devices(device) if d.backend == "opencl"][0]
    rng = np.random.default_rng(7)
    n, d, k, iters = 20000, 4, 6, 8
    blobs = rng.normal(size=(k, d)).astype(np.float32) * 6
    points = (blobs[rng.integers(0, k, n)] +
              rng.normal(size=(n, d)).astype(np.float32))
    start = points[rng.choice(n, k, replace=False)].copy()

    prog = cb.Kernel(SOURCE, "assign")
    upd = cb.Kernel(SOURCE, "update")
    pts = cb.asarray(points, device=dev)           # moved once
    cent = cb.asarray(start, copy=True, device=dev)
    label = cb.empty(n, dtype=cb.int32, device=dev)
    for _ in range(iters):                         # all queued at once
        prog(n, pts, cent, cb.Out(label), np.int32(d), np.int32(k))
        upd((k, d), pts, label, cb.InOut(cent), np.int32(n), np.int32(d))

    got_label, got_cent = label.numpy(), cent.numpy()
    ref_label, ref_cent = numpy_kmeans(points, start, iters)
    same = (got_label == ref_label).mean()
    err = np.abs(got_cent - ref_cent).max()
    print(f"k-means of {n} points in {d}-D, k={k}, {iters} iterations on "
          f"{dev.filter_string}: {same:.2%} of the labels equal NumPy's, "
          f"centroids within {err:.2e}")
    assert same > 0.999 and err < 1e-3


if __name__ == "__main__":
    main()
