// RUN: sparse-opt %s --sparsenn-generate-train-step=function=net | FileCheck %s

// DifferentiableOpInterface models of upstream ops: a residual arith.addf
// sends dY to both operands (the two branches' gradients are summed at x's
// producer), relu as arith.maximumf with zero gates dY by x > 0, and the
// flatten's adjoint is the inverse reshape.
// CHECK-LABEL: func.func @net_train_step
// The flatten's adjoint.
// CHECK: %[[DS:.*]] = tensor.expand_shape %{{.*}} {{\[\[}}0], [1, 2, 3]] output_shape [2, 3, 1, 1] : tensor<2x3xf32> into tensor<2x3x1x1xf32>
// The relu gate on the residual's first branch.
// CHECK: arith.cmpf ogt
// CHECK: arith.select
// CHECK: } -> tensor<2x3x1x1xf32>
// The residual's two gradients meet at the convolution's output.
// CHECK: arith.addf %[[DS]], %{{.*}} : tensor<2x3x1x1xf32>
func.func @net(%x: tensor<2x4x1x1xf32>, %w: tensor<3x4x1x1xf32> {sparsenn.trainable},
               %w2: tensor<2x3xf32> {sparsenn.trainable}) -> tensor<2x2xf32> {
  %h = sparsenn.conv2d %x, %w : tensor<2x4x1x1xf32>, tensor<3x4x1x1xf32> -> tensor<2x3x1x1xf32>
  %zero = arith.constant dense<0.0> : tensor<2x3x1x1xf32>
  %r = arith.maximumf %h, %zero : tensor<2x3x1x1xf32>
  %s = arith.addf %r, %h : tensor<2x3x1x1xf32>
  %f = tensor.collapse_shape %s [[0], [1, 2, 3]] : tensor<2x3x1x1xf32> into tensor<2x3xf32>
  %y = sparsenn.linear %f, %w2 : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}
