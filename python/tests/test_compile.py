"""``sparsenn.compile``: one call from a torch module or an ONNX model to a
compiled CPU callable (issue 15 item 5), against PyTorch.

Tolerances: dense compiled outputs within 1e-5 of PyTorch relative to the
largest |output| (float32 kernels with another summation order); a pruned
model is compared with the same model whose weights the pruner zeroed,
re-run in PyTorch (the compiled weights are read back from the IR)."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import sparsenn
from sparsenn import runtime

try:
    runtime.find_tools()
except runtime.DriverError as e:
    pytest.skip(str(e), allow_module_level=True)

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def small_cnn():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.BatchNorm2d(16), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2), torch.nn.Conv2d(16, 32, 3, stride=2), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(32, 10)).eval()


def rel_err(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.abs(a - b).max() / np.abs(b).max())


def test_torch_module_dense_matches_pytorch(tmp_path):
    model, x = small_cnn(), torch.randn(2, 3, 32, 32)
    lines = []
    fast = sparsenn.compile(model, x, output_dir=tmp_path / "m", progress=lines.append)
    assert len(lines) == 3 and "sparse-compile" in lines[-1]
    y = fast(x)
    assert isinstance(y, torch.Tensor) and y.shape == (2, 10)
    assert rel_err(y, model(x).detach()) <= 1e-5
    # numpy in, numpy out.
    yn = fast(x.numpy())
    assert isinstance(yn, np.ndarray) and rel_err(yn, y.numpy()) == 0.0
    assert fast.input_shapes == [(2, 3, 32, 32)] and fast.output_shapes == [(2, 10)]
    assert [k for _, k in fast.kernels] == ["dense", "dense", "dense"]
    assert "sparsenn summary of @forward" in fast.summary


def test_save_load_and_threads(tmp_path):
    model, x = small_cnn(), torch.randn(2, 3, 32, 32)
    fast = sparsenn.compile(model, x)
    saved = fast.save(tmp_path / "saved")
    loaded = sparsenn.load(saved)
    assert rel_err(loaded(x), fast(x)) == 0.0
    old = loaded.threads
    loaded.threads = 1
    assert loaded.threads == 1
    y1 = loaded(x)
    loaded.threads = 3
    assert rel_err(loaded(x), y1) == 0.0  # bit-identical for any thread count
    loaded.threads = old


def test_sparsity_prunes_and_picks_sparse_kernels():
    model, x = small_cnn(), torch.randn(2, 3, 32, 32)
    fast = sparsenn.compile(model, x, sparsity=0.9)
    assert [k for _, k in fast.kernels] == ["ell", "ell", "ell"]
    ratio = float(fast.summary.split("sparse (")[1].split("x fewer")[0])
    assert ratio >= 8.0, fast.summary
    # Channel pruning removes what pruning left unused without changing the
    # outputs (EP 21216321.6 [0185]): the same pruned network with and
    # without it.
    kept = sparsenn.compile(model, x, sparsity=0.9, propagate_channels=False)
    assert rel_err(fast(x), kept(x)) <= 1e-5
    # Every layer at the target density (the bias is not pruned).
    assert kept.summary.count(" 0.100 ") == 3, kept.summary


def test_onnx_front_end(tmp_path):
    model, x = small_cnn(), torch.randn(1, 3, 32, 32)
    path = tmp_path / "m.onnx"
    torch.onnx.export(model, x, str(path), opset_version=13)
    fast = sparsenn.compile(str(path))
    assert rel_err(fast(x.numpy()), model(x).detach().numpy()) <= 1e-5


def test_errors_name_the_problem():
    model = small_cnn()
    with pytest.raises(sparsenn.compile.DriverError, match="needs example_inputs"):
        sparsenn.compile(model)
    with pytest.raises(sparsenn.compile.DriverError, match="sparsity must be in"):
        sparsenn.compile(model, torch.randn(1, 3, 8, 8), sparsity=1.5)
    with pytest.raises(sparsenn.compile.DriverError, match="granularity must be"):
        sparsenn.compile(model, torch.randn(1, 3, 8, 8), granularity="row")
    with pytest.raises(sparsenn.compile.DriverError, match="no such ONNX file"):
        sparsenn.compile("/nonexistent/model.onnx")
    with pytest.raises(sparsenn.compile.DriverError, match="not a compiled sparsenn model"):
        sparsenn.load("/nonexistent")
    fast = sparsenn.compile(model, torch.randn(1, 3, 8, 8))
    with pytest.raises(ValueError, match="shape"):
        fast(torch.randn(2, 3, 8, 8))


def test_command_line(tmp_path):
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    model, x = small_cnn(), torch.randn(1, 3, 16, 16)
    path = tmp_path / "m.onnx"
    torch.onnx.export(model, x, str(path), opset_version=13)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "sparsenn.compile", str(path), "-o", str(out),
                           "--sparsity", "0.5"], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "sparsenn summary" in proc.stdout and "CompiledModel" in proc.stdout
    assert sparsenn.load(out)(x.numpy()).shape == (1, 10)
    bad = subprocess.run([sys.executable, "-m", "sparsenn.compile", "nope:nothing", "-o",
                          str(out)], capture_output=True, text=True, env=env)
    assert bad.returncode == 1 and "needs --input-shape" in bad.stderr
