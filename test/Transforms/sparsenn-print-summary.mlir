// RUN: sparse-opt %s --sparsenn-print-summary -o /dev/null | FileCheck %s
// RUN: sparse-opt %s --sparsenn-print-summary=output=%t.txt | FileCheck %s --check-prefix=IR
// RUN: FileCheck %s < %t.txt

// The IR passes through unchanged.
// IR: func.func @mlp

// CHECK-LABEL: sparsenn summary of @mlp
// CHECK: #  layer     weights              params  density  fan-in
// Fixed fan-in: every row has exactly 2 non-zeros out of 4.
// CHECK-NEXT: 0  linear    3x4                      15    0.500  2 (fixed)               12            6
// CHECK-NEXT: 1  kwinners  1x3              mode=global k=1/3 (0.333) boost=0.00
// Rows with 1 and 2 non-zeros: a fan-in range. No bias.
// CHECK-NEXT: 2  linear    2x3                       6    0.500  1..2                     6            3
// CHECK-NEXT: total: 21 parameters, 12 non-zero (density 0.571); 18 MACs/sample dense, 9 sparse (2.00x fewer)
func.func @mlp(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w1 = arith.constant dense<[[1.0, 0.0, 2.0, 0.0], [0.0, 3.0, 0.0, 4.0], [5.0, 6.0, 0.0, 0.0]]> : tensor<3x4xf32>
  %b1 = arith.constant dense<0.1> : tensor<3xf32>
  %w2 = arith.constant dense<[[1.0, 0.0, 0.0], [0.0, 2.0, 3.0]]> : tensor<2x3xf32>
  %h = sparsenn.linear %x, %w1, %b1 : tensor<1x4xf32>, tensor<3x4xf32>, tensor<3xf32> -> tensor<1x3xf32>
  %k = sparsenn.kwinners <global> %h k = 1 : tensor<1x3xf32> -> tensor<1x3xf32>
  %y = sparsenn.linear %k, %w2 : tensor<1x3xf32>, tensor<2x3xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// CHECK-LABEL: sparsenn summary of @cnn
// Weights that are arguments: the declared sparsity is reported (marked *).
// CHECK: 0  conv2d    4x2x3x3                  76   0.250*  4*                    2592          648
// CHECK: 1  kwinners  1x4x6x6          mode=channel k=9/36 (0.250) boost=1.50
// CHECK: 2  prune     4x2x3x3          method=gumbel granularity=group
func.func @cnn(%x: tensor<1x2x8x8xf32>, %w: tensor<4x2x3x3xf32>, %b: tensor<4xf32>, %d: tensor<4xf32>, %s: tensor<f32>)
    -> (tensor<1x4x6x6xf32>, tensor<4x2x3x3xf32>) {
  %y = sparsenn.conv2d %x, %w, %b {sparsity = #sparsenn.sparsity<density = 0.25, fan_in = 4>}
      : tensor<1x2x8x8xf32>, tensor<4x2x3x3xf32>, tensor<4xf32> -> tensor<1x4x6x6xf32>
  %k = sparsenn.kwinners <channel> %y duty_cycle %d density = 0.25 boost = 1.5 : tensor<1x4x6x6xf32>, tensor<4xf32> -> tensor<1x4x6x6xf32>
  %p, %m = sparsenn.prune <gumbel> %w, %s {granularity = #sparsenn.granularity<group>, group_shape = array<i64: 1, 2, 1, 1>}
      : tensor<4x2x3x3xf32>, tensor<f32> -> tensor<4x2x3x3xf32>, tensor<4x2x3x3xi1>
  return %k, %p : tensor<1x4x6x6xf32>, tensor<4x2x3x3xf32>
}
