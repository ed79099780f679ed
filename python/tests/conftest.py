"""Shared pytest setup for python/tests.

Puts ``python/`` on ``sys.path`` (so PYTHONPATH is optional) and, when
PyTorch is available, pins it to one thread and a fixed seed so the runs are
deterministic and fast. PyTorch stays optional here: the SPGC8 reference tests
need numpy only, and the torch-based test modules skip themselves without it.
"""

import pathlib
import sys

import pytest

PYTHON_DIR = pathlib.Path(__file__).resolve().parents[1]
if str(PYTHON_DIR) not in sys.path:
    sys.path.insert(0, str(PYTHON_DIR))

try:
    import torch
except ImportError:  # pragma: no cover - depends on the interpreter
    torch = None


@pytest.fixture(autouse=True)
def _deterministic_torch():
    if torch is not None:
        torch.set_num_threads(1)
        torch.manual_seed(0)
    yield
