"""Independent pure-numpy reference of the SPGC8 raw stream (docs/spgc8.md §1).

Written directly from that specification (EP 21216321.6 [0104]-[0109]) and
deliberately simple: it shares no code with the C++ runtime and is used to
cross-check the ``spgc8`` tool bit for bit
(python/tests/test_spgc8_reference.py).

Stream layout for a flat vector of S subsets (zero-padded to a multiple of 8,
or of 16 when interleaved):

* the S header codes, h bits each (h = 3 for D = 8, 4 for D = 16), packed
  LSB-first: code k occupies stream bits [h*k, h*k + h), stream bit j is bit
  j % 8 of byte j // 8;
* then the bodies of subsets 0..S-1, b bytes each: plane p holds bit p of the
  8 (folded) values, value i in bit i; plane 0 first.

D = 8 codes name b in {0, 1, 2, 3, 4, 5, 6, 8}; D = 16 codes name
b in {0, ..., 14, 16}.
"""

import numpy as np

__all__ = [
    "fold",
    "unfold",
    "body_bits_for_code",
    "code_for_values",
    "subset_cost_bits",
    "encode_raw",
    "decode_raw",
]


def fold(c):
    """Sign folding: u = 2c for c >= 0, u = -2c - 1 for c < 0."""
    c = np.asarray(c, dtype=np.int64)
    return np.where(c >= 0, 2 * c, -2 * c - 1)


def unfold(u):
    u = np.asarray(u, dtype=np.int64)
    return np.where(u % 2 == 0, u // 2, -(u + 1) // 2)


def _header_bits(bits):
    if bits == 8:
        return 3
    if bits == 16:
        return 4
    raise ValueError("bits must be 8 or 16")


def body_bits_for_code(code, bits):
    top = (1 << _header_bits(bits)) - 1
    return bits if code == top else code


def code_for_values(u, bits):
    """Header code of a subset of 8 folded (or unsigned) values."""
    top = (1 << _header_bits(bits)) - 1
    m = int(np.max(u)) if len(u) else 0
    needed = m.bit_length()
    if needed > bits:
        raise ValueError("value does not fit %d bits" % bits)
    return min(needed, top)


def subset_cost_bits(u, bits):
    return _header_bits(bits) + 8 * body_bits_for_code(code_for_values(u, bits), bits)


def _to_unsigned(values, bits, unsigned):
    v = np.asarray(values, dtype=np.int64).ravel()
    if unsigned:
        if np.any(v < 0) or np.any(v >= (1 << bits)):
            raise ValueError("unsigned values must be in [0, 2^D)")
        return v
    lim = 1 << (bits - 1)
    if np.any(v < -lim) or np.any(v >= lim):
        raise ValueError("signed values must be in [-2^(D-1), 2^(D-1))")
    return fold(v)


def _subsets(u, interleave):
    """Splits padded folded values into subsets of 8 (natural order in)."""
    unit = 16 if interleave else 8
    n = len(u)
    padded = np.zeros(((n + unit - 1) // unit) * unit, dtype=np.int64)
    padded[:n] = u
    if not interleave:
        return padded.reshape(-1, 8)
    groups = padded.reshape(-1, 16)
    out = np.empty((2 * len(groups), 8), dtype=np.int64)
    out[0::2] = groups[:, 0::2]  # V0, V2, ..., V14
    out[1::2] = groups[:, 1::2]  # V1, V3, ..., V15
    return out


def encode_raw(values, bits=8, interleave=False, unsigned=False):
    """Encodes a flat integer vector to the raw stream; returns bytes."""
    h = _header_bits(bits)
    subsets = _subsets(_to_unsigned(values, bits, unsigned), interleave)
    s = len(subsets)
    header = np.zeros((h * s + 7) // 8, dtype=np.uint8)
    bodies = []
    for k, sub in enumerate(subsets):
        code = code_for_values(sub, bits)
        for j in range(h):
            if (code >> j) & 1:
                bit = h * k + j
                header[bit // 8] |= np.uint8(1 << (bit % 8))
        for p in range(body_bits_for_code(code, bits)):
            plane = 0
            for i in range(8):
                plane |= ((int(sub[i]) >> p) & 1) << i
            bodies.append(plane)
    return header.tobytes() + bytes(bodies)


def decode_raw(stream, count, bits=8, interleave=False, unsigned=False):
    """Decodes `count` values; returns (values as int64 array, bytes used)."""
    h = _header_bits(bits)
    data = np.frombuffer(bytes(stream), dtype=np.uint8)
    unit = 16 if interleave else 8
    s = ((count + unit - 1) // unit) * unit // 8
    hbytes = (h * s + 7) // 8
    if len(data) < hbytes:
        raise ValueError("truncated headers")
    pos = hbytes
    subsets = np.zeros((s, 8), dtype=np.int64)
    for k in range(s):
        code = 0
        for j in range(h):
            bit = h * k + j
            code |= ((int(data[bit // 8]) >> (bit % 8)) & 1) << j
        b = body_bits_for_code(code, bits)
        if pos + b > len(data):
            raise ValueError("truncated body")
        for p in range(b):
            plane = int(data[pos + p])
            for i in range(8):
                subsets[k, i] |= ((plane >> i) & 1) << p
        pos += b
    if interleave:
        natural = np.empty(s * 8, dtype=np.int64)
        g = natural.reshape(-1, 16)
        g[:, 0::2] = subsets[0::2]
        g[:, 1::2] = subsets[1::2]
    else:
        natural = subsets.ravel()
    if np.any(natural[count:] != 0):
        raise ValueError("non-zero padding")
    natural = natural[:count]
    return (natural if unsigned else unfold(natural)), pos
