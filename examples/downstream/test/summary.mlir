// RUN: %my-compiler %s --sparsenn-print-summary -o /dev/null | FileCheck %s
// RUN: %my-compiler %s --sparsenn-prune-weights=sparsity=0.5 | FileCheck %s --check-prefix=PRUNE

// The summary and weight pruning read host.dense through LayerOpInterface.
// CHECK-LABEL: sparsenn summary of @net
// CHECK-NEXT: #  layer
// CHECK-NEXT: 0  dense     3x4                      15    0.667  2..3
// CHECK-NEXT: 1  linear    2x3                       6    1.000  3 (fixed)
// CHECK-NEXT: total: 21 parameters

// Half of each layer's weights (the smallest magnitudes) become zero.
// PRUNE: host.dense %{{.*}}, %{{.*}}, %{{.*}} {sparsity = #sparsenn.sparsity<density = 5.000000e-01
// PRUNE: sparsenn.linear {{.*}}sparsity = #sparsenn.sparsity<density = 5.000000e-01
func.func @net(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w1 = arith.constant dense<[[1.0, 0.0, 2.0, 3.0], [0.0, 3.0, 0.0, 4.0], [5.0, 6.0, 7.0, 0.0]]> : tensor<3x4xf32>
  %b1 = arith.constant dense<0.1> : tensor<3xf32>
  %h = host.dense %x, %w1, %b1 : tensor<1x4xf32>, tensor<3x4xf32>, tensor<3xf32> -> tensor<1x3xf32>
  %a = host.leaky_relu %h alpha 0.1 : tensor<1x3xf32>
  %w2 = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %y = sparsenn.linear %a, %w2 : tensor<1x3xf32>, tensor<2x3xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
