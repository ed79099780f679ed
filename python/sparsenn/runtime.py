"""Calling libraries made by ``sparse-compile`` from Python.

A compiled library exports ``_mlir_ciface_<name>`` for every public function
of its module (``runtime/include/sparsenn/Runtime/Model.h``): tensors go in
and come out as memref descriptors; results are malloc'ed by the library and
owned by the caller. :class:`CompiledFunction` calls one such function on
float32 numpy arrays and returns numpy arrays that own the results (freed
with the array). :func:`find_tools` and :func:`run_tool` locate and run
``sparse-opt`` / ``sparse-compile``. ``sparsenn.compile`` builds on these.

numpy only (no PyTorch).
"""

import ctypes
import os
import shutil
import subprocess

import numpy as np

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

__all__ = ["DriverError", "find_tools", "run_tool", "keep_freed_memory", "CompiledFunction",
           "set_num_threads", "get_num_threads"]


class DriverError(Exception):
    """A problem the user can fix (missing tool, a tool that failed, a bad
    argument); command-line front ends print it as one line and exit with
    status 1."""


# ---------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------


def find_tools(tools_dir=None):
    """``(sparse-opt, sparse-compile)`` in ``tools_dir``, else next to
    ``$SPARSE_OPT`` (how ctest points the tests at its build), else in
    ``$SPARSENN_TOOLS``, else in the repository's ``build/bin``, else on
    ``PATH`` (an installed tree)."""
    if tools_dir is None:
        if os.environ.get("SPARSE_OPT"):
            tools_dir = os.path.dirname(os.path.abspath(os.environ["SPARSE_OPT"]))
        elif os.environ.get("SPARSENN_TOOLS"):
            tools_dir = os.environ["SPARSENN_TOOLS"]
        else:
            tools_dir = os.path.join(REPO_ROOT, "build", "bin")
            if not os.access(os.path.join(tools_dir, "sparse-opt"), os.X_OK):
                found = shutil.which("sparse-opt")
                if found:
                    tools_dir = os.path.dirname(found)
    tools = tuple(os.path.join(tools_dir, t) for t in ("sparse-opt", "sparse-compile"))
    for t in tools:
        if not os.access(t, os.X_OK):
            raise DriverError(f"{t} not found: build the project (scripts/setup.sh) or pass "
                              "--tools DIR")
    return tools


def run_tool(cmd):
    """Runs a tool; its stderr becomes a DriverError when it fails."""
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise DriverError(f"{os.path.basename(cmd[0])} failed ({' '.join(cmd)}):\n"
                          f"{proc.stderr.strip()}")
    return proc


# ---------------------------------------------------------------------------
# Calling compiled functions (runtime/include/sparsenn/Runtime/Model.h)
# ---------------------------------------------------------------------------

_DESCRIPTORS = {}
_libc = ctypes.CDLL(None)
_libc.free.argtypes = [ctypes.c_void_p]
_libc.free.restype = None
# What memref.get_global puts in `allocated`: a returned constant, not ours to free.
_GLOBAL_SENTINEL = 0xDEADBEEF


def keep_freed_memory():
    """Compiled functions malloc their temporaries at every call and free them
    on return. By default glibc gives freed memory at the top of the heap
    back to the OS and serves large blocks by mmap, so that every step can
    fault all its temporaries' pages in again: the small CNN's step took
    55 ms instead of 5 ms in a process that had allocated little before.
    Keep freed memory in the process and serve everything from the heap."""
    if hasattr(_libc, "mallopt"):  # glibc
        m_trim_threshold, m_mmap_max = -1, -4
        _libc.mallopt(m_trim_threshold, 1 << 30)
        _libc.mallopt(m_mmap_max, 0)


def _descriptor(rank):
    """The ctypes struct of a rank-``rank`` f32 memref descriptor."""
    if rank not in _DESCRIPTORS:
        fields = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
                  ("offset", ctypes.c_int64)]
        if rank:
            fields += [("sizes", ctypes.c_int64 * rank), ("strides", ctypes.c_int64 * rank)]
        _DESCRIPTORS[rank] = type(f"MemRef{rank}D", (ctypes.Structure,), {"_fields_": fields})
    return _DESCRIPTORS[rank]


def _c_strides(shape):
    strides, s = [], 1
    for d in reversed(shape):
        strides.append(s)
        s *= d
    return tuple(reversed(strides))


class _Memory:
    """float32 memory at an address, for ``np.asarray``. With ``allocated``
    it owns a result buffer malloc'd by the model: the numpy array made from
    it keeps it alive (it is the array's ``base``) and it is freed with the
    array, so results go into the next step without a copy and nothing
    leaks over thousands of steps."""

    def __init__(self, data, shape, allocated=None):
        self._allocated = allocated
        self.__array_interface__ = {"data": (data, False), "shape": shape,
                                    "typestr": "<f4", "version": 3}

    def __del__(self, free=_libc.free):
        if self._allocated is not None:
            free(self._allocated)


class CompiledFunction:
    """``_mlir_ciface_<name>`` of a library made by ``sparse-compile``, called
    on C-contiguous float32 arrays of the declared shapes; returns the results
    as float32 numpy arrays (rank 0 as 0-d arrays) that own their memory."""

    def __init__(self, library, name, arg_shapes, result_shapes):
        self.library = ctypes.CDLL(os.path.abspath(library))
        try:
            self._fn = getattr(self.library, "_mlir_ciface_" + name)
        except AttributeError:
            raise DriverError(f"{library} exports no _mlir_ciface_{name}") from None
        self._fn.restype = None
        self.name = name
        self.arg_shapes = [tuple(s) for s in arg_shapes]
        self.result_shapes = [tuple(s) for s in result_shapes]
        # One result: a pointer to its descriptor; several: to a struct of them.
        self._results = type(f"{name}_results", (ctypes.Structure,), {"_fields_": [
            (f"r{i}", _descriptor(len(s))) for i, s in enumerate(self.result_shapes)]})

    def __call__(self, *arrays):
        if len(arrays) != len(self.arg_shapes):
            raise ValueError(f"{self.name}: {len(arrays)} arguments, expected "
                             f"{len(self.arg_shapes)}")
        descs = []
        for i, (a, shape) in enumerate(zip(arrays, self.arg_shapes)):
            if a.dtype != np.float32 or a.shape != shape or not a.flags.c_contiguous:
                raise ValueError(f"{self.name}: argument {i} must be a C-contiguous float32 "
                                 f"array of shape {shape}, got {a.dtype} {a.shape}")
            d = _descriptor(len(shape))()
            d.allocated = d.aligned = a.ctypes.data
            if shape:
                d.sizes[:] = shape
                d.strides[:] = _c_strides(shape)
            descs.append(d)
        results = self._results()
        self._fn(ctypes.byref(results), *(ctypes.byref(d) for d in descs))
        inputs = {a.ctypes.data for a in arrays}
        taken = {}
        return [self._take(getattr(results, f"r{i}"), shape, inputs, taken)
                for i, shape in enumerate(self.result_shapes)]

    def _take(self, desc, shape, inputs, taken):
        if shape and (tuple(desc.sizes) != shape or tuple(desc.strides) != _c_strides(shape)):
            raise DriverError(f"{self.name} returned sizes {tuple(desc.sizes)} strides "
                              f"{tuple(desc.strides)}, expected a C-order {shape}")
        data, allocated = desc.aligned + 4 * desc.offset, desc.allocated
        if allocated in taken:  # the same buffer returned twice: free it once
            first, first_data = taken[allocated]
            if first_data == data and first.shape == shape:
                return first
            # Another view of it: a copy, taken while the owner is alive.
            return np.asarray(_Memory(data, shape)).copy()
        if allocated in inputs or allocated == _GLOBAL_SENTINEL:
            # An argument or a constant came back: not ours to free; a copy
            # keeps the caller's arrays independent.
            out = np.asarray(_Memory(data, shape)).copy()
        else:
            out = np.asarray(_Memory(data, shape, allocated))
        taken[allocated] = (out, data)
        return out


def _library_call(library, name, *args):
    fn = getattr(library.library if isinstance(library, CompiledFunction) else library, name)
    fn.restype = ctypes.c_int
    return fn(*args)


def set_num_threads(function, threads):
    """Sets the kernel threads of the library behind ``function`` (a
    :class:`CompiledFunction`); 0 restores the default (SPARSENN_NUM_THREADS,
    else the number of cores). Returns the previous setting."""
    return _library_call(function, "sparsenn_set_num_threads", ctypes.c_int(int(threads)))


def get_num_threads(function):
    """The kernel threads of the library behind ``function``."""
    return _library_call(function, "sparsenn_get_num_threads")
