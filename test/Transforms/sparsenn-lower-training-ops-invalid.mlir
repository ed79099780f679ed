// RUN: sparse-opt %s --sparsenn-lower-training-ops --split-input-file -verify-diagnostics

func.func @quantile(%w: tensor<4x8xf32>, %s: tensor<f32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{quantile pruning (FIG. 7a/7b) with a learned sparsity is not lowered: it ranks the coefficients; use the direct update of [0214] and evaluate the mask with a constant s (--sparsenn-prune-weights)}}
  %p, %m = sparsenn.prune <quantile> %w, %s : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>, tensor<4x8xi1>
  return %p : tensor<4x8xf32>
}

// -----

func.func @gumbel_groups(%w: tensor<4x16xf32>, %s: tensor<f32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{gumbel pruning over groups is not lowered (element granularity only)}}
  %p, %m = sparsenn.prune <gumbel> %w, %s {granularity = #sparsenn.granularity<group>, group_shape = array<i64: 1, 16>} : tensor<4x16xf32>, tensor<f32> -> tensor<4x16xf32>, tensor<4x16xi1>
  return %p : tensor<4x16xf32>
}

// -----

func.func @dynamic(%w: tensor<?x8xf32>, %s: tensor<f32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{needs statically shaped weights}}
  %p, %m = sparsenn.prune <gaussian> %w, %s : tensor<?x8xf32>, tensor<f32> -> tensor<?x8xf32>, tensor<?x8xi1>
  return %p : tensor<?x8xf32>
}
