// RUN: sparse-opt %s --split-input-file -verify-diagnostics --sparsenn-generate-train-step
// RUN: not sparse-opt %s --split-input-file --sparsenn-generate-train-step=function=missing 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: sparsenn-generate-train-step: no function 'missing'

// expected-error @+1 {{train-step generation expects one block and one result (the logits)}}
func.func @forward(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  return %x, %x : tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// expected-error @+1 {{the logits must be a static [B, C] float tensor}}
func.func @forward(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  return %x : tensor<2x3x4xf32>
}

// -----

// expected-error @+1 {{no argument is marked 'sparsenn.trainable'}}
func.func @forward(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  return %x : tensor<2x3xf32>
}

// -----

func.func @forward(%x: tensor<2x4xf32>, %w: tensor<4x4xf32> {sparsenn.trainable}) -> tensor<2x4xf32> {
  %h = sparsenn.linear %x, %w : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<2x4xf32>
  %c = sparsenn.compressed_constant dense<[-57, 113, 28, 0, 15, 15, 15, 15, 15, 15, 15, 0, 15, 15, 15, 15, 15, 15, 15, 0, 15, 15, 15, 15, 15, 15, 15, 0, 15, 15, 15, 15, 15, 15, 15]> : tensor<35xi8>, scales dense<0.00393700786> : tensor<4xf32> : !sparsenn.spgc8<4x4xi8>
  // expected-error @+1 {{train-step generation: 'sparsenn.linear' needs a [B, in] input and float weights}}
  %y = sparsenn.linear %h, %c : tensor<2x4xf32>, !sparsenn.spgc8<4x4xi8> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @forward(%x: tensor<2x3xf32>, %w: tensor<4x3xf32> {sparsenn.trainable}) -> tensor<2x4xf32> {
  %h = sparsenn.linear %x, %w : tensor<2x3xf32>, tensor<4x3xf32> -> tensor<2x4xf32>
  // expected-error @+1 {{train-step generation: no backward rule for 'math.tanh'}}
  %t = math.tanh %h : tensor<2x4xf32>
  return %t : tensor<2x4xf32>
}
