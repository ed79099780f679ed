// RUN: sparse-opt %s -split-input-file --sparsenn-generate-train-step="lr=0.1" | FileCheck %s --check-prefixes=CHECK,DENSE

// A fixed fan-in convolution (a `sparsity` fact, seed 000 [0057]) trains on
// the sparse-tap kernel: the cloned forward conv and the dX correlation with
// the flipped, transposed filters (padding KH-1-pad) are marked
// `#sparsenn.kernel<ell>`; dW is a conv2d_backward_weight masked by the
// weights themselves (only the non-zero taps' gradient), and the update keeps
// the zeros (a select on w != 0).
// CHECK-LABEL: func.func @forward_train_step
// CHECK: sparsenn.conv2d %{{.*}}, %{{.*}} {kernel = #sparsenn.kernel<ell>, padding = array<i64: 1, 1, 1, 1>, sparsity = #sparsenn.sparsity<density = 2.000000e-01>} : tensor<2x3x6x6xf32>, tensor<4x3x3x3xf32> -> tensor<2x4x6x6xf32>
// CHECK: sparsenn.conv2d_backward_weight %{{.*}}, %{{.*}} mask %{{.*}} {padding = array<i64: 1, 1, 1, 1>} : tensor<2x3x6x6xf32>, tensor<2x4x6x6xf32>, tensor<4x3x3x3xf32> -> tensor<4x3x3x3xf32>
// CHECK: %[[FLIP:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<4x3x3x3xf32>) outs(%{{.*}} : tensor<3x4x3x3xf32>)
// CHECK: sparsenn.conv2d %{{.*}}, %[[FLIP]] {kernel = #sparsenn.kernel<ell>, padding = array<i64: 1, 1, 1, 1>} : tensor<2x4x6x6xf32>, tensor<3x4x3x3xf32> -> tensor<2x3x6x6xf32>
// CHECK: arith.cmpf une
// CHECK: arith.select
func.func @forward(%x: tensor<2x3x6x6xf32>, %w0: tensor<3x3x1x1xf32> {sparsenn.trainable},
                   %w: tensor<4x3x3x3xf32> {sparsenn.trainable},
                   %w2: tensor<5x144xf32> {sparsenn.trainable}) -> tensor<2x5xf32> {
  %h = sparsenn.conv2d %x, %w0 : tensor<2x3x6x6xf32>, tensor<3x3x1x1xf32> -> tensor<2x3x6x6xf32>
  %c = sparsenn.conv2d %h, %w {padding = array<i64: 1, 1, 1, 1>, sparsity = #sparsenn.sparsity<density = 0.2>}
      : tensor<2x3x6x6xf32>, tensor<4x3x3x3xf32> -> tensor<2x4x6x6xf32>
  %f = tensor.collapse_shape %c [[0], [1, 2, 3]] : tensor<2x4x6x6xf32> into tensor<2x144xf32>
  %y = sparsenn.linear %f, %w2 : tensor<2x144xf32>, tensor<5x144xf32> -> tensor<2x5xf32>
  return %y : tensor<2x5xf32>
}

// -----

// Denser sparse-tap filters (a learnable prune's output, or a density above
// 0.2) keep the sparse-tap forward but take the GEMM + col2im kernel for dX
// (conv2d_backward_input); their dW is not masked (the prune's mask moves).
// DENSE-LABEL: func.func @forward_train_step
// DENSE: %[[P:.*]], %{{.*}} = sparsenn.prune <gaussian>
// DENSE: sparsenn.conv2d %{{.*}}, %[[P]] {kernel = #sparsenn.kernel<ell>}
// DENSE-NOT: sparsenn.conv2d %
// DENSE: sparsenn.conv2d_backward_weight %{{.*}}, %{{.*}} : tensor<2x3x6x6xf32>, tensor<2x4x4x4xf32> -> tensor<4x3x3x3xf32>
// DENSE: sparsenn.conv2d_backward_input %{{.*}}, %[[P]] : tensor<2x4x4x4xf32>, tensor<4x3x3x3xf32> -> tensor<2x3x6x6xf32>
func.func @forward(%x: tensor<2x3x6x6xf32>, %w0: tensor<3x3x1x1xf32> {sparsenn.trainable},
                   %w: tensor<4x3x3x3xf32> {sparsenn.trainable}, %s: tensor<f32> {sparsenn.trainable},
                   %w2: tensor<5x64xf32> {sparsenn.trainable}) -> tensor<2x5xf32> {
  %h = sparsenn.conv2d %x, %w0 : tensor<2x3x6x6xf32>, tensor<3x3x1x1xf32> -> tensor<2x3x6x6xf32>
  %p, %m = sparsenn.prune <gaussian> %w, %s : tensor<4x3x3x3xf32>, tensor<f32> -> tensor<4x3x3x3xf32>, tensor<4x3x3x3xi1>
  %c = sparsenn.conv2d %h, %p : tensor<2x3x6x6xf32>, tensor<4x3x3x3xf32> -> tensor<2x4x4x4xf32>
  %f = tensor.collapse_shape %c [[0], [1, 2, 3]] : tensor<2x4x4x4xf32> into tensor<2x64xf32>
  %y = sparsenn.linear %f, %w2 : tensor<2x64xf32>, tensor<5x64xf32> -> tensor<2x5xf32>
  return %y : tensor<2x5xf32>
}
