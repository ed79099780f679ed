"""Cross-checks the C++ `spgc8` tool against the numpy reference encoder.

The reference (python/sparsenn/spgc8_ref.py) is written independently from
docs/spgc8.md (section 1); the raw streams must be byte-identical. Also checks
decode round trips, the container path and the tool's error reporting (one
line starting with "spgc8: error: ", non-zero exit).

The binary is $SPGC8_BIN or build/bin/spgc8; the tests are skipped if
neither exists. Run with Debian's python: /usr/bin/python3 -m pytest.
"""

import importlib.util
import os
import pathlib
import subprocess

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _load_reference():
    # Loaded by path so that the test does not depend on the package's
    # __init__ (which may import torch).
    path = ROOT / "python" / "sparsenn" / "spgc8_ref.py"
    spec = importlib.util.spec_from_file_location("spgc8_ref", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


ref = _load_reference()


def _binary():
    env = os.environ.get("SPGC8_BIN")
    if env:
        return env
    return str(ROOT / "build" / "bin" / "spgc8")


SPGC8 = _binary()
pytestmark = pytest.mark.skipif(
    not os.path.exists(SPGC8), reason="spgc8 binary not built (%s)" % SPGC8
)


def run(*args):
    return subprocess.run(
        [SPGC8] + [str(a) for a in args], capture_output=True, text=True
    )


def check_ok(*args):
    r = run(*args)
    assert r.returncode == 0, r.stderr
    return r


def check_error(*args):
    r = run(*args)
    assert r.returncode != 0
    lines = r.stderr.strip("\n").split("\n")
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("spgc8: error: "), r.stderr
    return lines[0]


def random_vector(rng, n, bits, unsigned):
    """Runs of 8 sharing a magnitude class, so every body width occurs."""
    v = np.zeros(n, dtype=np.int64)
    for start in range(0, n, 8):
        w = 0 if rng.random() < 0.25 else int(rng.integers(0, bits + 1))
        end = min(n, start + 8)
        if w == 0:
            continue
        if unsigned:
            v[start:end] = rng.integers(0, 1 << w, end - start)
        else:
            lim = 1 << (w - 1)
            v[start:end] = rng.integers(-lim, lim, end - start)
    return v


def test_reference_seed_example():
    u = ref.fold([-16, -2, -1, -3, -2, 2, -3, 3])
    assert list(u) == [31, 3, 1, 5, 3, 4, 5, 6]
    assert ref.subset_cost_bits(u, 8) == 43
    assert ref.subset_cost_bits(np.zeros(8, dtype=np.int64), 8) == 3
    stream = ref.encode_raw([-16, -2, -1, -3, -2, 2, -3, 3] + [0] * 8, 8)
    assert stream == bytes([0x05, 0x5F, 0x93, 0xE9, 0x01, 0x01])


@pytest.mark.parametrize("bits", [8, 16])
@pytest.mark.parametrize("interleave", [False, True])
@pytest.mark.parametrize("unsigned", [False, True])
def test_raw_stream_is_bit_exact(tmp_path, bits, interleave, unsigned):
    rng = np.random.default_rng(bits * 4 + interleave * 2 + unsigned)
    for n in [0, 1, 7, 8, 9, 15, 16, 17, 31, 64, 100, 257, 1000]:
        v = random_vector(rng, n, bits, unsigned)
        if unsigned:
            dtype = np.uint8 if bits == 8 else np.uint16
        else:
            dtype = np.int8 if bits == 8 else np.int16
        src = tmp_path / ("v%d.npy" % n)
        np.save(src, v.astype(dtype))
        out = tmp_path / ("v%d.bin" % n)
        flags = ["--bits", bits] + (["--interleave"] if interleave else [])
        flags += ["--unsigned"] if unsigned else []
        check_ok("encode", "--raw", src, out, *flags)
        expected = ref.encode_raw(v, bits, interleave, unsigned)
        assert out.read_bytes() == expected, "n=%d" % n
        back, used = ref.decode_raw(expected, n, bits, interleave, unsigned)
        assert used == len(expected)
        assert np.array_equal(back, v)
        dec = tmp_path / ("d%d.npy" % n)
        check_ok("decode", "--raw", out, dec, "--count", n, *flags)
        got = np.load(dec)
        assert got.shape == (n,)
        assert np.array_equal(got.astype(np.int64), v)


def test_int16_input_with_8_bit_coefficients(tmp_path):
    v = np.array([-128, 127, 0, 5, -7, 3, 2, 1, 9], dtype=np.int16)
    src = tmp_path / "v.npy"
    np.save(src, v)
    out = tmp_path / "v.bin"
    check_ok("encode", "--raw", src, out)
    assert out.read_bytes() == ref.encode_raw(v, 8)
    np.save(src, np.array([128], dtype=np.int16))
    assert "--bits 16" in check_error("encode", "--raw", src, out)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.float32])
@pytest.mark.parametrize("shape", [(37,), (5, 40), (6, 20, 3, 3), (3, 0)])
def test_container_round_trip(tmp_path, dtype, shape):
    rng = np.random.default_rng(1)
    if dtype == np.float32:
        w = rng.standard_normal(shape).astype(np.float32)
        w[rng.random(shape) < 0.7] = 0
    else:
        info = np.iinfo(dtype)
        w = rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)
        w[rng.random(shape) < 0.7] = 0
    bits = 16 if dtype == np.int16 else 8
    src = tmp_path / "w.npy"
    np.save(src, w)
    box = tmp_path / "w.spgc8"
    check_ok("encode", src, box, "--bits", bits, "--interleave")
    out = tmp_path / "o.npy"
    check_ok("decode", box, out)
    got = np.load(out)
    assert got.shape == w.shape
    if dtype == np.float32:
        assert got.dtype == np.float32
        # Symmetric per-output-channel quantisation: error <= scale / 2.
        flat = w.reshape(shape[0], -1) if w.ndim > 1 else w.reshape(1, -1)
        scale = np.abs(flat).max(axis=1, initial=0) / 127.0
        err = np.abs(got.reshape(flat.shape) - flat)
        assert np.all(err <= scale[:, None] * 0.5 + 1e-6)
        check_ok("decode", box, out, "--int")
        assert np.load(out).dtype == np.int8
    else:
        assert got.dtype == dtype
        assert np.array_equal(got, w)
    r = check_ok("stat", box, "--rows")
    assert "ratio vs raw" in r.stdout


def test_error_messages_are_one_line(tmp_path):
    good = tmp_path / "g.npy"
    np.save(good, np.arange(20, dtype=np.int8))
    box = tmp_path / "g.spgc8"
    check_ok("encode", good, box)
    check_error()
    check_error("frobnicate")
    check_error("encode", good)
    check_error("encode", good, box, "--bits", "12")
    check_error("encode", tmp_path / "missing.npy", box)
    check_error("decode", box, tmp_path / "no" / "dir.npy")
    fortran = tmp_path / "f.npy"
    np.save(fortran, np.asfortranarray(np.ones((3, 4), dtype=np.int8)))
    assert "Fortran" in check_error("encode", fortran, box.with_suffix(".x"))
    big = tmp_path / "b.npy"
    np.save(big, np.ones(4, dtype=">i2"))
    check_error("encode", big, box.with_suffix(".y"))
    f64 = tmp_path / "d.npy"
    np.save(f64, np.ones(4, dtype=np.float64))
    check_error("encode", f64, box.with_suffix(".z"))
    trunc = tmp_path / "t.npy"
    trunc.write_bytes(good.read_bytes()[:-3])
    assert "truncated" in check_error("encode", trunc, box.with_suffix(".t"))
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a container at all")
    check_error("decode", junk, tmp_path / "o.npy")
    check_error("stat", junk)
    data = bytearray(box.read_bytes())
    data[-8] ^= 0x40
    bad = tmp_path / "bad.spgc8"
    bad.write_bytes(bytes(data))
    assert "checksum" in check_error("decode", bad, tmp_path / "o.npy")
    for cut in [0, 3, 10, 63, 70, len(data) - 1]:
        bad.write_bytes(bytes(box.read_bytes()[:cut]))
        check_error("decode", bad, tmp_path / "o.npy")
    raw = tmp_path / "r.bin"
    check_ok("encode", "--raw", good, raw)
    check_error("decode", "--raw", raw, tmp_path / "o.npy")  # no --count
    check_error("decode", "--raw", raw, tmp_path / "o.npy", "--count", "x")
    check_error("decode", "--raw", raw, tmp_path / "o.npy", "--count", 5)
    check_error("decode", "--raw", raw, tmp_path / "o.npy", "--count", 10**6)
    raw.write_bytes(raw.read_bytes()[:-1])
    assert "truncated" in check_error(
        "decode", "--raw", raw, tmp_path / "o.npy", "--count", 20
    )
