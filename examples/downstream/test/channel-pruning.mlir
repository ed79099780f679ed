// RUN: %my-compiler %s --sparsenn-propagate-channel-pruning | FileCheck %s
// RUN: %my-compiler %s --sparsenn-propagate-channel-pruning=verbose=true -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK

// Channel pruning (EP 21216321.6 [0176]-[0193]) through the host's own
// layer (host.dense, LayerOpInterface) and activation (host.leaky_relu,
// ChannelPropagationOpInterface). Filter 1 of the first layer is all zero
// with bias 0.25, so its channel is the constant 0.25 everywhere; the
// leaky relu keeps it 0.25; the consumer folds 0.25 times its column 1 into
// a new bias ([1, 2, 3] * 0.25). Filter 2 is read by no one (column 2 of
// the consumer is zero): it goes too.

// CHECK-LABEL: func.func @net
// CHECK-DAG: %[[W1:.*]] = arith.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]]> : tensor<1x4xf32>
// CHECK-DAG: %[[B1:.*]] = arith.constant dense<5.000000e-01> : tensor<1xf32>
// CHECK: %[[H:.*]] = host.dense %{{.*}}, %[[W1]], %[[B1]] : tensor<2x4xf32>, tensor<1x4xf32>, tensor<1xf32> -> tensor<2x1xf32>
// CHECK: %[[A:.*]] = host.leaky_relu %[[H]] alpha 1.000000e-01 : tensor<2x1xf32>
// CHECK-DAG: %[[W2:.*]] = arith.constant dense<{{\[\[}}1.000000e+00], [2.000000e+00], [3.000000e+00]]> : tensor<3x1xf32>
// CHECK-DAG: %[[B2:.*]] = arith.constant dense<[2.500000e-01, 5.000000e-01, 7.500000e-01]> : tensor<3xf32>
// CHECK: sparsenn.linear %[[A]], %[[W2]], %[[B2]] : tensor<2x1xf32>, tensor<3x1xf32>, tensor<3xf32> -> tensor<2x3xf32>

// REMARK: remark: removed 0 input channel(s) and 2 output filter(s)
// REMARK: remark: removed 2 input channel(s) and 0 output filter(s), constants folded into the bias
func.func @net(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %w1 = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0], [5.0, 6.0, 7.0, 8.0]]> : tensor<3x4xf32>
  %b1 = arith.constant dense<[0.5, 0.25, -0.5]> : tensor<3xf32>
  %h = host.dense %x, %w1, %b1 : tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32> -> tensor<2x3xf32>
  %a = host.leaky_relu %h alpha 0.1 : tensor<2x3xf32>
  %w2 = arith.constant dense<[[1.0, 1.0, 0.0], [2.0, 2.0, 0.0], [3.0, 3.0, 0.0]]> : tensor<3x3xf32>
  %y = sparsenn.linear %a, %w2 : tensor<2x3xf32>, tensor<3x3xf32> -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
