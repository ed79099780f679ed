#!/usr/bin/env bash
# The embedding.downstream test: what a compiler that embeds sparsenn does.
#  1. cmake --install the build tree into a scratch prefix and run the
#     installed sparse-opt and sparse-compile;
#  2. configure examples/downstream against it (find_package(SparseNN), which
#     finds MLIR by itself) and build my-compiler;
#  3. run my-compiler's sparsenn-prune-weights on a file and FileCheck it;
#  4. run the example's own lit tests (examples/downstream/test): sparsenn's
#     passes through the host's ops and the interface models it attaches.
# Registered by test/Embedding/CMakeLists.txt with
#   CMAKE NINJA BUILD_DIR EXAMPLE_DIR WORK_DIR CXX BUILD_TYPE FILECHECK INPUT LIT
set -euo pipefail
if [ $# -ne 10 ]; then
  echo "usage: $0 CMAKE NINJA BUILD_DIR EXAMPLE_DIR WORK_DIR CXX BUILD_TYPE FILECHECK INPUT LIT" >&2
  exit 2
fi
cmake=$1 ninja=$2 build_dir=$3 example_dir=$4 work=$5 cxx=$6 build_type=$7
filecheck=$8 input=$9 lit=${10}

prefix=$work/prefix
rm -rf "$work"
mkdir -p "$work"

# Runs a step quietly, with its output on failure.
step() {
  local name=$1
  shift
  echo "embedding: $name"
  if ! "$@" >"$work/$name.log" 2>&1; then
    cat "$work/$name.log"
    echo "embedding: '$name' failed" >&2
    exit 1
  fi
}

step install "$cmake" --install "$build_dir" --prefix "$prefix"

for f in lib/cmake/sparsenn/SparseNNConfig.cmake \
         lib/cmake/sparsenn/SparseNNConfigVersion.cmake \
         lib/cmake/sparsenn/SparseNNTargets.cmake \
         include/sparsenn/InitAll.h \
         include/sparsenn/Dialect/SparseNN/IR/SparseNNOps.h.inc \
         include/sparsenn/Runtime/SPGC8.h \
         lib/libSparseNNRegistration.a lib/libSparseNNRuntime.a \
         bin/sparse-opt bin/sparse-run bin/sparse-compile bin/spgc8; do
  if [ ! -e "$prefix/$f" ]; then
    echo "embedding: not installed: $f" >&2
    exit 1
  fi
done

# The installed tools run from the prefix (rpath to libMLIR.so; sparse-compile
# links the installed runtime).
step installed-sparse-opt "$prefix/bin/sparse-opt" "$input" \
  --sparsenn-prune-weights=sparsity=0.5 -o "$work/pruned.mlir"
"$filecheck" "$input" <"$work/pruned.mlir"
step installed-sparse-compile "$prefix/bin/sparse-compile" "$input" \
  -o "$work/liblayer.so"

# No MLIR_DIR: SparseNNConfig.cmake must find the MLIR it was built with.
step configure "$cmake" -G Ninja -S "$example_dir" -B "$work/build" \
  -DCMAKE_MAKE_PROGRAM="$ninja" \
  -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_BUILD_TYPE="$build_type" \
  -DSparseNN_DIR="$prefix/lib/cmake/sparsenn"
step build "$cmake" --build "$work/build"

echo "embedding: my-compiler --sparsenn-prune-weights=sparsity=0.5 | FileCheck"
"$work/build/bin/my-compiler" "$input" --sparsenn-prune-weights=sparsity=0.5 |
  "$filecheck" "$input"
# The one-flag pipeline, registered by the same entry point.
echo "embedding: my-compiler --sparsenn-sparsify=sparsity=0.5 | FileCheck"
"$work/build/bin/my-compiler" "$input" --sparsenn-sparsify=sparsity=0.5 |
  "$filecheck" "$input" --check-prefix=SPARSIFY
# The host's ops through sparsenn's interfaces (channel pruning, train-step
# generation, the summary, pruning).
echo "embedding: lit examples/downstream/test"
mkdir -p "$work/lit"
"$lit" -sv --param my_compiler="$work/build/bin/my-compiler" \
  --param llvm_tools="$(dirname "$filecheck")" --param work_dir="$work/lit" \
  "$example_dir/test"
echo "embedding: ok"
