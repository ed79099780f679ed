#!/usr/bin/python3
"""Training-step throughput: the compiled step (sparsenn-generate-train-step +
sparse-compile, called as python/sparsenn/train.py calls it) against PyTorch
1.13 on the same model, batch, initial values and thread count, measured in
one run (issue 6: training-step throughput >= PyTorch CPU, stretch 2x).

PyTorch runs the same network as the compiled step: conv2d / max-pool /
linear from torch.nn.functional, k-winners as nupic.torch does it (topk of
the boosted values exp(beta*(k/n - d)) * x, scatter, gradient through the
winners, duty cycles by eq. 1 in place), fixed fan-in weights with their
gradient masked, batch norms (F.batch_norm in training mode, running
statistics updated), the Gaussian pruner's straight-through relaxation
(python/sparsenn/pruning.py soft_prune_mask, in float32), the sparsity loss
of eq. 13/15 and torch.optim.SGD with momentum (v = mu*v + g; w -= lr*v, the
compiled update). The first step's loss of both sides is printed as a check
that they compute the same thing. Inputs are random images and labels (the
speed of either side does not depend on the data).

usage: /usr/bin/python3 benchmarks/training/torch_step.py [--variant all]
       [--model table1] [--activation relu] [--no-batch-norm] [--batch 64] [--steps 20]
       [--warmup 3] [--threads 1] [--tools DIR]
"""
import argparse
import math
import os
import sys
import tempfile
import time

ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                             formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--variant", choices=("all", "dense", "sparse", "learned"), default="all")
ap.add_argument("--model", choices=("table1", "small"), default="table1")
ap.add_argument("--activation", choices=("relu", "kwinners"), default="relu",
                help="activation of the learned variant (as sparsenn.train's option)")
ap.add_argument("--no-batch-norm", dest="batch_norm", action="store_false",
                help="the networks without their batch norms (as sparsenn.train's option)")
ap.add_argument("--batch", type=int, default=64)
ap.add_argument("--steps", type=int, default=20, help="timed steps per side (median)")
ap.add_argument("--warmup", type=int, default=3, help="untimed steps per side first")
ap.add_argument("--threads", type=int, default=1,
                help="threads of both sides (compiled: SPARSENN_NUM_THREADS)")
ap.add_argument("--tools", metavar="DIR", help="directory of sparse-opt and sparse-compile")
args = ap.parse_args()
if min(args.batch, args.steps, args.threads) < 1 or args.warmup < 0:
    ap.error("--batch, --steps and --threads must be >= 1, --warmup >= 0")

# OpenBLAS ignores torch.set_num_threads: pin it before numpy/torch load it.
# The compiled step's runtime kernels take theirs from SPARSENN_NUM_THREADS
# (else they use every core).
os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
os.environ["OMP_NUM_THREADS"] = str(args.threads)
os.environ["SPARSENN_NUM_THREADS"] = str(args.threads)
# OpenBLAS 0.3.21 falls back to its Prescott (SSE3) kernels on CPUs it does
# not know (e.g. Xeon model 207), ~4x slower sgemm: name the AVX-512 or AVX2
# kernels unless OPENBLAS_CORETYPE is set.
with open("/proc/cpuinfo") as f:
    flags = {w for line in f if line.startswith("flags") for w in line.split(":", 1)[1].split()}
if "avx512f" in flags or "avx2" in flags:
    os.environ.setdefault("OPENBLAS_CORETYPE", "SkylakeX" if "avx512f" in flags else "Haswell")

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "python"))
from sparsenn import train as T  # noqa: E402

F = torch.nn.functional


def gaussian_ste(w, s, temperature):
    """sparsenn.prune <gaussian> with the straight-through gradient of its
    sigmoid relaxation (pruning.prune_ste, in float32)."""
    eps = torch.finfo(w.dtype).eps
    s_phi = torch.sigmoid(s).clamp(eps, 1 - eps)
    mu, psi = w.mean(), w.std(unbiased=False)
    t = psi * math.sqrt(2.0) * torch.erfinv(s_phi)
    d = (w - mu).abs()
    hard = (d > t).to(w.dtype)
    soft = torch.sigmoid((d - t) / (temperature * psi.detach()))
    return w * (hard + (soft - soft.detach()))


def kwinners(x, duty, k, beta, duty_alpha):
    """Global k-winners with boosting, relu, duty cycles by eq. 1 / eq. 3."""
    b = x.shape[0]
    n = x[0].numel()
    boost = torch.exp(beta * (k / n - duty)).reshape((1, -1) + (1,) * (x.dim() - 2))
    ranking = (x.detach() * boost).reshape(b, -1)
    idx = torch.topk(ranking, k, dim=1, sorted=False).indices
    mask = torch.zeros_like(ranking, dtype=torch.bool).scatter_(1, idx, True)
    y = x * (mask.reshape(x.shape) & (x > 0))
    with torch.no_grad():
        dims = [0] + list(range(2, x.dim()))
        duty.mul_(1 - duty_alpha).add_(duty_alpha * (y != 0).to(x.dtype).mean(dim=dims))
    return y


class TorchStep:
    """The PyTorch training step of a driver network, from the trainer's
    initial values."""

    def __init__(self, trainer, layers, opts):
        self.layers, self.opts = layers, opts
        self.t = {i: torch.tensor(trainer.values[i], requires_grad=trainer.args[i].trainable)
                  for i in range(1, len(trainer.args))}
        self.arg = {(a.layer, a.role): i for i, a in enumerate(trainer.args)}
        for i, a in enumerate(trainer.args):
            if a.role == "weight" and layers[a.layer].fan_in is not None:
                mask = torch.from_numpy(trainer.values[i] != 0).float()
                self.t[i].register_hook(lambda g, m=mask: g * m)
        # (s_j, |w_j|) of every pruned layer, for the sparsity loss (eq. 14).
        self.sparsity = [(self.t[i], trainer.values[self.arg[(a.layer, "weight")]].size)
                         for i, a in enumerate(trainer.args) if a.role == "sparsity"]
        self.opt = torch.optim.SGD([self.t[i] for i in trainer.trainable], lr=opts.lr,
                                   momentum=opts.momentum)

    def forward(self, x):
        for li, layer in enumerate(self.layers):
            p = lambda role: self.t[self.arg[(li, role)]]  # noqa: E731
            if isinstance(layer, T.WEIGHT_LAYERS):
                w = p("weight")
                if layer.prune:
                    w = gaussian_ste(w, p("sparsity"), self.opts.temperature)
                x = (F.conv2d if isinstance(layer, T.Conv) else F.linear)(x, w, p("bias"))
            elif isinstance(layer, T.MaxPool):
                x = F.max_pool2d(x, layer.size)
            elif isinstance(layer, T.ReLU):
                x = F.relu(x)
            elif isinstance(layer, T.KWinners):
                x = kwinners(x, p("duty"), T.kwinners_k(layer, x[0].numel()), layer.boost,
                             self.opts.duty_alpha)
            elif isinstance(layer, T.BatchNorm):
                affine = (p("gamma"), p("beta")) if layer.affine else (None, None)
                x = F.batch_norm(x, p("running_mean"), p("running_var"), *affine,
                                 training=True, momentum=layer.momentum, eps=layer.epsilon)
            elif isinstance(layer, T.Flatten):
                x = x.reshape(x.shape[0], -1)
        return x

    def __call__(self, x, labels):
        self.opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(self.forward(x), labels)
        if self.sparsity:
            # eq. 13 (eq. 15 with theta), on the batch-mean cross-entropy.
            total = sum(n for _, n in self.sparsity)
            c = sum(torch.sigmoid(s) * n for s, n in self.sparsity) / total
            c = c / self.opts.theta if self.opts.theta else c
            a = self.opts.alpha
            loss = loss * (1 - a * torch.log(1 - c)) - (1 - a) * torch.log(c)
        loss.backward()
        self.opt.step()
        return float(loss)


def timed(fn, warmup, steps):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        fn()
        times.append(1e3 * (time.perf_counter() - t))
    return float(np.median(times))


def main():
    torch.set_num_threads(args.threads)
    variants = ("dense", "sparse", "learned") if args.variant == "all" else (args.variant,)
    opts = argparse.Namespace(lr=0.01, momentum=0.9, duty_alpha=min(1.0, args.batch / 1000),
                              alpha=0.3, theta=0.0, temperature=0.1)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.batch, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, size=args.batch)
    targets = T.one_hot(labels, 10)
    xt, lt = torch.from_numpy(x), torch.from_numpy(labels)
    print(f"{args.model} CNN, batch {args.batch}; threads: compiled {args.threads} "
          f"(SPARSENN_NUM_THREADS), PyTorch {torch.__version__} {args.threads} "
          f"(OPENBLAS_NUM_THREADS={args.threads}, OPENBLAS_CORETYPE="
          f"{os.environ.get('OPENBLAS_CORETYPE', '(unset)')}); medians of {args.steps} steps after "
          f"{args.warmup}")
    print("speed-up = PyTorch ms / compiled ms (> 1: the compiled step is faster)")
    print(f"{'variant':17} {'compiled':>12} {'PyTorch':>12} {'speed-up':>9}   "
          "first-step loss compiled / PyTorch")
    with tempfile.TemporaryDirectory() as tmp:
        for variant in variants:
            layers = T.seed000_cnn(variant, activation=args.activation,
                                   batch_norm=args.batch_norm, **T.MODELS[args.model])
            trainer = T.Trainer(layers, os.path.join(tmp, variant), batch=args.batch,
                                eval_batch=1, lr=opts.lr, momentum=opts.momentum,
                                duty_alpha=opts.duty_alpha, alpha=opts.alpha,
                                theta=opts.theta, temperature=opts.temperature,
                                tools_dir=args.tools)
            # The runtime linked into the step library says what it uses.
            threads = trainer._step.library.sparsenn_get_num_threads()
            if threads != args.threads:
                sys.exit(f"torch_step: the compiled step runs on {threads} threads, "
                         f"expected {args.threads}")
            reference = TorchStep(trainer, layers, opts)
            loss_ours, loss_torch = trainer.step(x, targets), reference(xt, lt)
            ours = timed(lambda: trainer.step(x, targets), args.warmup, args.steps)
            theirs = timed(lambda: reference(xt, lt), args.warmup, args.steps)
            label = f"{variant} ({args.activation})" if variant == "learned" else variant
            print(f"{label:17} {ours:9.1f} ms {theirs:9.1f} ms {theirs / ours:8.2f}x   "
                  f"{loss_ours:.5f} / {loss_torch:.5f}", flush=True)


if __name__ == "__main__":
    try:
        main()
    except T.DriverError as e:
        sys.exit(f"torch_step: error: {e}")
