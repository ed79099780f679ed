// RUN: sparse-opt %s -split-input-file --sparsenn-prune-weights --sparsenn-propagate-channel-pruning | FileCheck %s
// RUN: sparse-opt %s -split-input-file --sparsenn-propagate-channel-pruning -verify-diagnostics -o /dev/null

// Channels forced by sparsenn.prune with input_channel granularity (seed 003
// [0183]: the target coefficient channel is the least salient one, found by
// the FIG. 7b pruner on whole channels). --sparsenn-prune-weights evaluates
// the prune op to constants first; then the pruned channel (max |w| = 0.1,
// the least salient of the three) is removed from both layers.
// CHECK-LABEL: func.func @prune_input_channel
// CHECK: %[[W1:.*]] = arith.constant dense<{{\[}}{{\[}}{{\[}}[1.000000e+00]]], {{\[}}{{\[}}[3.000000e+00]]]]> : tensor<2x1x1x1xf32>
// CHECK: %[[C:.*]] = sparsenn.conv2d %{{.*}}, %[[W1]] : tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32> -> tensor<1x2x2x2xf32>
// CHECK: %[[W2:.*]] = arith.constant dense<{{\[}}{{\[}}{{\[}}[1.000000e+00]], {{\[}}[2.000000e+00]]]]> : tensor<1x2x1x1xf32>
// CHECK: sparsenn.conv2d %[[C]], %[[W2]] : tensor<1x2x2x2xf32>, tensor<1x2x1x1xf32> -> tensor<1x1x2x2xf32>
func.func @prune_input_channel(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %w1 = arith.constant dense<[[[[1.0]]], [[[2.0]]], [[[3.0]]]]> : tensor<3x1x1x1xf32>
  %c = sparsenn.conv2d %x, %w1 : tensor<1x1x2x2xf32>, tensor<3x1x1x1xf32> -> tensor<1x3x2x2xf32>
  %w2 = arith.constant dense<[[[[1.0]], [[0.1]], [[2.0]]]]> : tensor<1x3x1x1xf32>
  %s = arith.constant dense<0.34> : tensor<f32>
  %p, %m = sparsenn.prune <quantile> %w2, %s {granularity = #sparsenn.granularity<input_channel>, normalization = #sparsenn.normalization<none>}
      : tensor<1x3x1x1xf32>, tensor<f32> -> tensor<1x3x1x1xf32>, tensor<1x3x1x1xi1>
  // Without --sparsenn-prune-weights the weights are not constants yet.
  // expected-remark @+1 {{weights come from a 'sparsenn.prune' that is not evaluated: run --sparsenn-prune-weights first so that its channel mask becomes removable channels}}
  %y = sparsenn.conv2d %c, %p : tensor<1x3x2x2xf32>, tensor<1x3x1x1xf32> -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}
