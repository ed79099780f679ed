"""Parameters of sparsenn-finalize-training-batch-norm.mlir (arg<i>.npy and
x.npy), or with --check RESULT, the check of the finalised network's output
against PyTorch's inference-mode batch norms."""
import sys

import numpy as np

d = sys.argv[1]
r = np.random.default_rng(7)
p = {1: r.uniform(0.5, 1.5, 1), 2: r.normal(0, 0.1, 1), 3: r.normal(0, 0.2, 1),
     4: r.uniform(0.5, 2.0, 1), 5: r.normal(0, 0.5, (2, 1, 3, 3)),
     6: r.uniform(0.5, 1.5, 2), 7: r.normal(0, 0.1, 2), 8: r.normal(0, 0.2, 2),
     9: r.uniform(0.5, 2.0, 2)}
p = {i: v.astype(np.float32) for i, v in p.items()}
p[5][0, 0, 1, 1] = 0.0
x = r.normal(size=(2, 1, 5, 5)).astype(np.float32)
if len(sys.argv) == 2:
    for i, v in p.items():
        np.save(f"{d}/arg{i}.npy", v)
    np.save(f"{d}/x.npy", x)
    sys.exit(0)
import torch  # noqa: E402

F = torch.nn.functional
t = {i: torch.from_numpy(v).double() for i, v in p.items()}
n0 = F.batch_norm(torch.from_numpy(x).double(), t[3], t[4], t[1], t[2], training=False, eps=1e-3)
c = F.conv2d(n0, t[5])
want = F.batch_norm(c, t[8], t[9], t[6], t[7], training=False, eps=1e-3).numpy()
got = np.load(sys.argv[3])
err = np.abs(got - want).max() / np.abs(want).max()
assert got.shape == want.shape and err <= 1e-5, f"relative error {err:.3g}"
print("finalised batch norm matches PyTorch inference")
