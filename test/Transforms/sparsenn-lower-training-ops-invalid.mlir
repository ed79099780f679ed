// RUN: sparse-opt %s --sparsenn-lower-training-ops --split-input-file -verify-diagnostics

func.func @quantile_f8(%w: tensor<4x8xf8E4M3FN>, %s: tensor<f32>) -> tensor<4x8xf8E4M3FN> {
  // expected-error @+1 {{quantile pruning with a run-time sparsity needs f16, bf16, f32 or f64 weights (it ranks their IEEE bit patterns)}}
  %p, %m = sparsenn.prune <quantile> %w, %s : tensor<4x8xf8E4M3FN>, tensor<f32> -> tensor<4x8xf8E4M3FN>, tensor<4x8xi1>
  return %p : tensor<4x8xf8E4M3FN>
}

// -----

func.func @dynamic(%w: tensor<?x8xf32>, %s: tensor<f32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{needs statically shaped weights}}
  %p, %m = sparsenn.prune <gaussian> %w, %s : tensor<?x8xf32>, tensor<f32> -> tensor<?x8xf32>, tensor<?x8xi1>
  return %p : tensor<?x8xf32>
}
