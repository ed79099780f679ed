// RUN: sparse-opt %s -split-input-file -verify-diagnostics --convert-sparsenn-to-gpu
// RUN: not sparse-opt %s --convert-sparsenn-to-gpu=warps-per-block=0 2>&1 | FileCheck %s --check-prefix=WARPS
// RUN: not sparse-opt %s --convert-sparsenn-to-gpu=kwinners-threads=100 2>&1 | FileCheck %s --check-prefix=THREADS

// WARPS: warps-per-block must be in [1, 32], got 0
// THREADS: kwinners-threads must be 0 (automatic) or a multiple of 32 in [32, 1024], got 100

func.func @f16(%x: tensor<2x8xf16>) -> tensor<2x8xf16> {
  // expected-error @below {{k-winners on the GPU needs f32 data, got 'f16'}}
  %y = sparsenn.kwinners <global> %x k = 2 : tensor<2x8xf16> -> tensor<2x8xf16>
  return %y : tensor<2x8xf16>
}

// -----

func.func @dynamic(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @below {{k-winners on the GPU needs static shapes, got 'tensor<?x8xf32>'}}
  %y = sparsenn.kwinners <global> %x k = 2 : tensor<?x8xf32> -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}
