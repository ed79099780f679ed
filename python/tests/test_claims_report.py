"""benchmarks/training/claims.py's report (issue 17 item 3): from finished
runs' summaries, the mean +- sample std over seeds per variant, the sweep
table and the two plots. Fake summaries with known numbers; the runs
themselves are the training driver's (test_training_driver.py)."""

import importlib.util
import json
import os
import sys
from types import SimpleNamespace

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
spec = importlib.util.spec_from_file_location(
    "claims", os.path.join(ROOT, "benchmarks", "training", "claims.py"))
claims = importlib.util.module_from_spec(spec)
spec.loader.exec_module(claims)


def summary(accuracy, sparsity, noise_acc, alpha=0.3):
    levels = [0.0, 0.25, 0.5]
    noise = {k: {"levels": levels, "accuracy": [accuracy, noise_acc, noise_acc / 2],
                 "noise_score": int(1000 * 1.5 * noise_acc),
                 "noise_accuracy": 0.75 * noise_acc} for k in ("gaussian", "salt")}
    return {"options": {"epochs": 15, "batch": 64, "lr": 0.01, "lr_gamma": 0.9,
                        "momentum": 0.9, "boost": 1.5, "boost_strength_factor": 0.9,
                        "k_inference_factor": 1.5, "batch_norm": True, "alpha": alpha,
                        "theta": 0.0},
            "train_images": 4000, "test_images": 1000, "machine": {"cpu": "test"},
            "final": {"model_test_accuracy": accuracy, "weight_sparsity": sparsity},
            "noise": noise}


def test_report(tmp_path, capsys):
    args = SimpleNamespace(out=str(tmp_path), seeds=[0, 1], variants=["dense", "learned"],
                           sweep="alpha=0.5", plots_dir=None)
    grouped = SimpleNamespace(seeds=[0], variants=[], sweep="pruner=gumbel,group_shape=1:16")
    assert claims.run_matrix(grouped) == [("learned-prunergumbel-group_shape1x16-s0", [
        "--variant", "learned", "--seed", "0", "--pruner", "gumbel", "--group-shape", "1,16"])]
    fake = {"dense-s0": summary(0.90, 0.0, 0.60), "dense-s1": summary(0.92, 0.0, 0.64),
            "learned-s0": summary(0.89, 0.88, 0.62),
            "learned-alpha0.5-s0": summary(0.88, 0.80, 0.61, alpha=0.5)}
    assert [n for n, _ in claims.run_matrix(args)] == [
        "dense-s0", "dense-s1", "learned-s0", "learned-s1", "learned-alpha0.5-s0"]
    assert claims.run_matrix(args)[-1][1] == ["--variant", "learned", "--seed", "0",
                                              "--alpha", "0.5"]
    for name, s in fake.items():
        os.makedirs(tmp_path / name)
        (tmp_path / name / "summary.json").write_text(json.dumps(s))
    results = claims.load(args)
    assert sorted(results) == sorted(fake)
    claims.report(args, results)
    text = (tmp_path / "claims.md").read_text()
    # dense: accuracies 90 and 92 -> 91.00 +- 1.41 (sample std), n = 2.
    assert "| dense | 91.00 ± 1.41 (n=2) | 0.00 ± 0.00 (n=2) |" in text
    assert "| learned | 89.00 ± 0.00 (n=1) | 88.00 ± 0.00 (n=1) |" in text
    assert "| learned-alpha0.5-s0 | 0.5 | 0.0 | gaussian (-) | 88.00 | 80.00 | - |" in text
    pytest.importorskip("matplotlib")
    for png in ("claims_noise.png", "claims_learned_sparsity.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_variant(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["claims.py", "--variants", "huge"])
    with pytest.raises(SystemExit):
        claims.parse_args()
