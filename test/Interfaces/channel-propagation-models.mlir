// RUN: sparse-opt %s --sparsenn-propagate-channel-pruning -verify-diagnostics | FileCheck %s

// ChannelPropagationOpInterface models of upstream ops
// (lib/Interfaces/ExternalModels/ChannelPropagationImpl.cpp). In each
// function filter 1 of the first layer is all zero, so channel 1 is its bias
// everywhere; the models carry that constant to the consumer, which folds it
// into its bias (EP 21216321.6 [0185]) or drops the channel.

// arith.subf with a constant (the generic element-wise model): 2 - 0.5.
// CHECK-LABEL: func.func @sub_const
// CHECK: sparsenn.linear %{{.*}} : tensor<1x4xf32>, tensor<2x4xf32>, tensor<2xf32> -> tensor<1x2xf32>
// CHECK: arith.subf %{{.*}} : tensor<1x2xf32>
// CHECK: %[[B:.*]] = arith.constant dense<1.500000e+00> : tensor<2xf32>
// CHECK: sparsenn.linear %{{.*}}, %{{.*}}, %[[B]] : tensor<1x2xf32>, tensor<2x2xf32>, tensor<2xf32>
func.func @sub_const(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w1 = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0], [5.0, 6.0, 7.0, 8.0]]> : tensor<3x4xf32>
  %b1 = arith.constant dense<[0.0, 2.0, 0.0]> : tensor<3xf32>
  %h = sparsenn.linear %x, %w1, %b1 : tensor<1x4xf32>, tensor<3x4xf32>, tensor<3xf32> -> tensor<1x3xf32>
  %c = arith.constant dense<0.5> : tensor<1x3xf32>
  %s = arith.subf %h, %c : tensor<1x3xf32>
  %w2 = arith.constant dense<[[1.0, 1.0, 1.0], [2.0, 1.0, 2.0]]> : tensor<2x3xf32>
  %y = sparsenn.linear %s, %w2 : tensor<1x3xf32>, tensor<2x3xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// An element-wise linalg.generic: its body is folded op by op through the
// arith models: max(2 - 1, 0) * 3.
// CHECK-LABEL: func.func @generic_body
// CHECK: linalg.generic
// CHECK: } -> tensor<1x2xf32>
// CHECK: %[[B:.*]] = arith.constant dense<3.000000e+00> : tensor<2xf32>
// CHECK: sparsenn.linear %{{.*}}, %{{.*}}, %[[B]] : tensor<1x2xf32>, tensor<2x2xf32>, tensor<2xf32>
func.func @generic_body(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w1 = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0], [5.0, 6.0, 7.0, 8.0]]> : tensor<3x4xf32>
  %b1 = arith.constant dense<[0.0, 2.0, 0.0]> : tensor<3xf32>
  %h = sparsenn.linear %x, %w1, %b1 : tensor<1x4xf32>, tensor<3x4xf32>, tensor<3xf32> -> tensor<1x3xf32>
  %e = tensor.empty() : tensor<1x3xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%h : tensor<1x3xf32>) outs(%e : tensor<1x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %one = arith.constant 1.0 : f32
    %zero = arith.constant 0.0 : f32
    %three = arith.constant 3.0 : f32
    %d = arith.subf %a, %one : f32
    %r = arith.maximumf %d, %zero : f32
    %m = arith.mulf %r, %three : f32
    linalg.yield %m : f32
  } -> tensor<1x3xf32>
  %w2 = arith.constant dense<[[1.0, 1.0, 1.0], [2.0, 1.0, 2.0]]> : tensor<2x3xf32>
  %y = sparsenn.linear %g, %w2 : tensor<1x3xf32>, tensor<2x3xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// arith.mulf: a zero channel times anything is zero, so the channel goes
// from both producers (tied through the product) and from the consumer,
// with nothing to fold.
// CHECK-LABEL: func.func @mul_zero
// CHECK: sparsenn.linear %{{.*}} : tensor<1x4xf32>, tensor<2x4xf32> -> tensor<1x2xf32>
// CHECK: sparsenn.linear %{{.*}} : tensor<1x4xf32>, tensor<2x4xf32> -> tensor<1x2xf32>
// CHECK: arith.mulf %{{.*}} : tensor<1x2xf32>
// CHECK: sparsenn.linear %{{.*}} : tensor<1x2xf32>, tensor<2x2xf32> -> tensor<1x2xf32>
func.func @mul_zero(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w1 = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0], [5.0, 6.0, 7.0, 8.0]]> : tensor<3x4xf32>
  %w3 = arith.constant dense<[[1.0, 1.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0], [5.0, 1.0, 7.0, 8.0]]> : tensor<3x4xf32>
  %h = sparsenn.linear %x, %w1 : tensor<1x4xf32>, tensor<3x4xf32> -> tensor<1x3xf32>
  %k = sparsenn.linear %x, %w3 : tensor<1x4xf32>, tensor<3x4xf32> -> tensor<1x3xf32>
  %p = arith.mulf %h, %k : tensor<1x3xf32>
  %w2 = arith.constant dense<[[1.0, 1.0, 1.0], [2.0, 1.0, 2.0]]> : tensor<2x3xf32>
  %y = sparsenn.linear %p, %w2 : tensor<1x3xf32>, tensor<2x3xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// An op without a model is a boundary, named in a remark.
// CHECK-LABEL: func.func @no_model
// CHECK: sparsenn.linear %{{.*}} : tensor<1x4xf32>, tensor<3x4xf32> -> tensor<1x3xf32>
func.func @no_model(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w1 = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0], [5.0, 6.0, 7.0, 8.0]]> : tensor<3x4xf32>
  %h = sparsenn.linear %x, %w1 : tensor<1x4xf32>, tensor<3x4xf32> -> tensor<1x3xf32>
  // expected-remark @+1 {{channel pruning stops at 'tensor.extract_slice': not understood by the analysis; 1 removable channel(s) kept}}
  %e = tensor.extract_slice %h[0, 0] [1, 2] [1, 1] : tensor<1x3xf32> to tensor<1x2xf32>
  return %e : tensor<1x2xf32>
}

// tensor.expand_shape adding unit axes after the channel axis (the gate of
// a squeeze-and-excitation block): the zero filter's channel, constant 2,
// is followed to the 1x1 convolution, which folds 2 · w2[:, 1] into its
// bias; the static output shape follows.
// CHECK-LABEL: func.func @expand_unit_axes
// CHECK: sparsenn.linear %{{.*}} : tensor<1x4xf32>, tensor<2x4xf32>, tensor<2xf32> -> tensor<1x2xf32>
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2, 3]] output_shape [1, 2, 1, 1] : tensor<1x2xf32> into tensor<1x2x1x1xf32>
// CHECK: %[[B:.*]] = arith.constant dense<[2.000000e+00, 4.000000e+00]> : tensor<2xf32>
// CHECK: sparsenn.conv2d %{{.*}}, %{{.*}}, %[[B]] : tensor<1x2x1x1xf32>, tensor<2x2x1x1xf32>, tensor<2xf32> -> tensor<1x2x1x1xf32>
func.func @expand_unit_axes(%x: tensor<1x4xf32>) -> tensor<1x2x1x1xf32> {
  %w1 = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0], [5.0, 6.0, 7.0, 8.0]]> : tensor<3x4xf32>
  %b1 = arith.constant dense<[0.0, 2.0, 0.0]> : tensor<3xf32>
  %h = sparsenn.linear %x, %w1, %b1 : tensor<1x4xf32>, tensor<3x4xf32>, tensor<3xf32> -> tensor<1x3xf32>
  %e = tensor.expand_shape %h [[0], [1, 2, 3]] output_shape [1, 3, 1, 1] : tensor<1x3xf32> into tensor<1x3x1x1xf32>
  %w2 = arith.constant dense<[[[[1.0]], [[1.0]], [[1.0]]], [[[2.0]], [[2.0]], [[2.0]]]]> : tensor<2x3x1x1xf32>
  %y = sparsenn.conv2d %e, %w2 : tensor<1x3x1x1xf32>, tensor<2x3x1x1xf32> -> tensor<1x2x1x1xf32>
  return %y : tensor<1x2x1x1xf32>
}

// The unflatten [B, C*H*W] -> [B, C, H, W] after a flatten: each channel's
// block of H*W columns becomes its plane again.
// CHECK-LABEL: func.func @unflatten
// CHECK: sparsenn.conv2d %{{.*}} : tensor<1x4x2x2xf32>, tensor<2x4x1x1xf32> -> tensor<1x2x2x2xf32>
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0], [1, 2, 3]] : tensor<1x2x2x2xf32> into tensor<1x8xf32>
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2, 3]] output_shape [1, 2, 2, 2] : tensor<1x8xf32> into tensor<1x2x2x2xf32>
// CHECK: sparsenn.conv2d %{{.*}} : tensor<1x2x2x2xf32>, tensor<2x2x1x1xf32> -> tensor<1x2x2x2xf32>
func.func @unflatten(%x: tensor<1x4x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %w = arith.constant dense<[[[[1.0]], [[2.0]], [[3.0]], [[4.0]]], [[[0.0]], [[0.0]], [[0.0]], [[0.0]]], [[[5.0]], [[6.0]], [[7.0]], [[8.0]]]]> : tensor<3x4x1x1xf32>
  %h = sparsenn.conv2d %x, %w : tensor<1x4x2x2xf32>, tensor<3x4x1x1xf32> -> tensor<1x3x2x2xf32>
  %f = tensor.collapse_shape %h [[0], [1, 2, 3]] : tensor<1x3x2x2xf32> into tensor<1x12xf32>
  %u = tensor.expand_shape %f [[0], [1, 2, 3]] output_shape [1, 3, 2, 2] : tensor<1x12xf32> into tensor<1x3x2x2xf32>
  %w2 = arith.constant dense<[[[[1.0]], [[0.0]], [[2.0]]], [[[3.0]], [[0.0]], [[4.0]]]]> : tensor<2x3x1x1xf32>
  %y = sparsenn.conv2d %u, %w2 : tensor<1x3x2x2xf32>, tensor<2x3x1x1xf32> -> tensor<1x2x2x2xf32>
  return %y : tensor<1x2x2x2xf32>
}

// An expand_shape that splits the channel axis is a boundary.
// CHECK-LABEL: func.func @expand_split_channels
// CHECK: sparsenn.linear %{{.*}} : tensor<1x4xf32>, tensor<4x4xf32> -> tensor<1x4xf32>
func.func @expand_split_channels(%x: tensor<1x4xf32>) -> tensor<1x2x2xf32> {
  %w1 = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0], [5.0, 6.0, 7.0, 8.0], [1.0, 1.0, 1.0, 1.0]]> : tensor<4x4xf32>
  %h = sparsenn.linear %x, %w1 : tensor<1x4xf32>, tensor<4x4xf32> -> tensor<1x4xf32>
  // expected-remark @+1 {{channel pruning stops at 'tensor.expand_shape': reshape that splits the channel axis; 1 removable channel(s) kept}}
  %e = tensor.expand_shape %h [[0], [1, 2]] output_shape [1, 2, 2] : tensor<1x4xf32> into tensor<1x2x2xf32>
  return %e : tensor<1x2x2xf32>
}

// linalg.transpose moves the channel axis (NCHW -> NHWC here): the zero
// filter's channel is followed to axis 3, where the linear layer over the
// last axis reads it with zero coefficients; the filter, the transposed
// channel (init rebuilt) and the column go.
// CHECK-LABEL: func.func @transpose
// CHECK: sparsenn.conv2d %{{.*}} : tensor<1x4x3x3xf32>, tensor<2x4x1x1xf32> -> tensor<1x2x3x3xf32>
// CHECK: %[[E:.*]] = tensor.empty() : tensor<1x3x3x2xf32>
// CHECK: linalg.transpose ins(%{{.*}} : tensor<1x2x3x3xf32>) outs(%[[E]] : tensor<1x3x3x2xf32>) permutation = [0, 2, 3, 1]
// CHECK: sparsenn.linear %{{.*}} : tensor<1x3x3x2xf32>, tensor<2x2xf32> -> tensor<1x3x3x2xf32>
func.func @transpose(%x: tensor<1x4x3x3xf32>) -> tensor<1x3x3x2xf32> {
  %w = arith.constant dense<[[[[1.0]], [[2.0]], [[3.0]], [[4.0]]], [[[0.0]], [[0.0]], [[0.0]], [[0.0]]], [[[5.0]], [[6.0]], [[7.0]], [[8.0]]]]> : tensor<3x4x1x1xf32>
  %h = sparsenn.conv2d %x, %w : tensor<1x4x3x3xf32>, tensor<3x4x1x1xf32> -> tensor<1x3x3x3xf32>
  %e = tensor.empty() : tensor<1x3x3x3xf32>
  %t = linalg.transpose ins(%h : tensor<1x3x3x3xf32>) outs(%e : tensor<1x3x3x3xf32>) permutation = [0, 2, 3, 1]
  %w2 = arith.constant dense<[[1.0, 0.0, 2.0], [3.0, 0.0, 4.0]]> : tensor<2x3xf32>
  %y = sparsenn.linear %t, %w2 : tensor<1x3x3x3xf32>, tensor<2x3xf32> -> tensor<1x3x3x2xf32>
  return %y : tensor<1x3x3x2xf32>
}
