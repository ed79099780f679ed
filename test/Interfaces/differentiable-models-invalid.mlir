// RUN: sparse-opt %s --sparsenn-generate-train-step -split-input-file -verify-diagnostics

// DifferentiableOpInterface models of upstream ops
// (lib/Interfaces/ExternalModels/DifferentiableImpl.cpp) refuse the forms
// they do not differentiate, naming the op: max(x, c) with c not zero is
// not a relu.
func.func @forward(%x: tensor<2x4xf32>, %w: tensor<3x4xf32> {sparsenn.trainable}) -> tensor<2x3xf32> {
  %h = sparsenn.linear %x, %w : tensor<2x4xf32>, tensor<3x4xf32> -> tensor<2x3xf32>
  %c = arith.constant dense<1.0> : tensor<2x3xf32>
  // expected-error @+1 {{train-step generation: no backward rule for 'arith.maximumf'}}
  %r = arith.maximumf %h, %c : tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

// A linalg.generic that is not a relu.
func.func @forward(%x: tensor<2x4xf32>, %w: tensor<3x4xf32> {sparsenn.trainable}) -> tensor<2x3xf32> {
  %h = sparsenn.linear %x, %w : tensor<2x4xf32>, tensor<3x4xf32> -> tensor<2x3xf32>
  %e = tensor.empty() : tensor<2x3xf32>
  // expected-error @+1 {{train-step generation: no backward rule for 'linalg.generic'}}
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%h : tensor<2x3xf32>) outs(%e : tensor<2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %t = arith.mulf %a, %a : f32
    linalg.yield %t : f32
  } -> tensor<2x3xf32>
  return %g : tensor<2x3xf32>
}
