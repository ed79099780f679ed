#!/usr/bin/python3
"""Regenerates the committed seed corpus of the SPGC8 fuzz targets.

    /usr/bin/python3 test/fuzz/make_corpus.py build/bin/spgc8

raw/: byte 0 = flags (bit 0: D = 16, bit 1: interleave, bit 2: unsigned),
bytes 1-2 = n (little-endian), then a raw stream from the numpy reference.
container/: byte 0 = mode (bit 0: fuzzer recomputes the CRC), then a
container written by the spgc8 tool.
"""

import importlib.util
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
spec = importlib.util.spec_from_file_location(
    "spgc8_ref", ROOT / "python" / "sparsenn" / "spgc8_ref.py")
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)


def main():
    tool = sys.argv[1]
    rng = np.random.default_rng(0)
    raw = HERE / "corpus" / "raw"
    box = HERE / "corpus" / "container"
    raw.mkdir(parents=True, exist_ok=True)
    box.mkdir(parents=True, exist_ok=True)
    for i, (bits, il, us, n) in enumerate(
            [(8, 0, 0, 40), (8, 1, 0, 77), (16, 0, 0, 33), (16, 1, 1, 64),
             (8, 0, 1, 130), (8, 1, 1, 5)]):
        hi = 1 << (bits if us else bits - 1)
        v = rng.integers(0 if us else -hi, hi, n)
        v[rng.random(n) < 0.6] = 0
        stream = ref.encode_raw(v, bits, bool(il), bool(us))
        flags = (bits == 16) | (il << 1) | (us << 2)
        (raw / ("seed%d" % i)).write_bytes(
            bytes([flags, n & 0xFF, n >> 8]) + stream)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        cases = [(np.int8, (3, 20), []), (np.int16, (2, 17, 2, 1), ["--bits", "16"]),
                 (np.float32, (4, 16), ["--interleave"]), (np.int8, (21,), [])]
        for i, (dtype, shape, flags) in enumerate(cases):
            if dtype == np.float32:
                w = rng.standard_normal(shape).astype(np.float32)
            else:
                info = np.iinfo(dtype)
                w = rng.integers(info.min // 4, info.max // 4, shape).astype(dtype)
            w[rng.random(shape) < 0.5] = 0
            np.save(tmp / "w.npy", w)
            subprocess.run([tool, "encode", tmp / "w.npy", tmp / "w.c"] + flags,
                           check=True)
            data = (tmp / "w.c").read_bytes()
            for mode in (0, 1):
                (box / ("seed%d_%d" % (i, mode))).write_bytes(bytes([mode]) + data)


if __name__ == "__main__":
    main()
