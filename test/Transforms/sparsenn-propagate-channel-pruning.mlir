// RUN: sparse-opt %s -split-input-file --sparsenn-propagate-channel-pruning | FileCheck %s
// RUN: sparse-opt %s -split-input-file --sparsenn-propagate-channel-pruning=report=- -o /dev/null | FileCheck %s --check-prefix=REPORT
// RUN: sparse-opt %s -split-input-file --sparsenn-propagate-channel-pruning=verbose -o /dev/null 2>&1 | FileCheck %s --check-prefix=VERBOSE

// Report of the first case: conv 3 -> 2 filters (params 3·1 + 3 -> 2 + 2,
// MACs 48 -> 32 on 4x4), conv coefficient channels 3 -> 2 (MACs 96 -> 64).
// REPORT: channel pruning (seed 003 [0176]-[0193])
// REPORT-NEXT: layer | in channels | out channels | params | MACs
// REPORT-NEXT: sparsenn.conv2d at {{[0-9]+}}:{{[0-9]+}} | 1 -> 1 | 3 -> 2 | 6 -> 4 | 48 -> 32
// REPORT-NEXT: sparsenn.conv2d at {{[0-9]+}}:{{[0-9]+}} | 3 -> 2 | 2 -> 2 | 6 -> 4 | 96 -> 64
// REPORT-NEXT: total params 12 -> 8, MACs 144 -> 96
// VERBOSE: remark: removed 0 input channel(s) and 1 output filter(s)
// VERBOSE: remark: removed 1 input channel(s) and 0 output filter(s)

// Seed 003 FIG. 11a: filter 1 of the first layer is zero with a zero bias,
// so data channel 1 is zero everywhere (also after relu); it disappears from
// the first layer's filters and bias, the relu constant and the second
// layer's coefficient channels.
// CHECK-LABEL: func.func @conv_zero_filter
// CHECK: %[[W1:.*]] = arith.constant dense<{{\[}}{{\[}}{{\[}}[1.000000e+00]]], {{\[}}{{\[}}[2.000000e+00]]]]> : tensor<2x1x1x1xf32>
// CHECK: %[[B1:.*]] = arith.constant dense<[5.000000e-01, -1.000000e+00]> : tensor<2xf32>
// CHECK: %[[C1:.*]] = sparsenn.conv2d %{{.*}}, %[[W1]], %[[B1]] : tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>, tensor<2xf32> -> tensor<1x2x4x4xf32>
// CHECK: %[[Z:.*]] = arith.constant dense<0.000000e+00> : tensor<1x2x4x4xf32>
// CHECK: %[[R:.*]] = arith.maximumf %[[C1]], %[[Z]] : tensor<1x2x4x4xf32>
// CHECK: %[[W2:.*]] = arith.constant dense<{{\[}}{{\[}}{{\[}}[1.000000e+00]], {{\[}}[3.000000e+00]]], {{\[}}{{\[}}[4.000000e+00]], {{\[}}[6.000000e+00]]]]> : tensor<2x2x1x1xf32>
// CHECK: sparsenn.conv2d %[[R]], %[[W2]] : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32> -> tensor<1x2x4x4xf32>
func.func @conv_zero_filter(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w1 = arith.constant dense<[[[[1.0]]], [[[0.0]]], [[[2.0]]]]> : tensor<3x1x1x1xf32>
  %b1 = arith.constant dense<[0.5, 0.0, -1.0]> : tensor<3xf32>
  %c1 = sparsenn.conv2d %x, %w1, %b1 : tensor<1x1x4x4xf32>, tensor<3x1x1x1xf32>, tensor<3xf32> -> tensor<1x3x4x4xf32>
  %zero = arith.constant dense<0.0> : tensor<1x3x4x4xf32>
  %r = arith.maximumf %c1, %zero : tensor<1x3x4x4xf32>
  %w2 = arith.constant dense<[[[[1.0]], [[2.0]], [[3.0]]], [[[4.0]], [[5.0]], [[6.0]]]]> : tensor<2x3x1x1xf32>
  %c2 = sparsenn.conv2d %r, %w2 : tensor<1x3x4x4xf32>, tensor<2x3x1x1xf32> -> tensor<1x2x4x4xf32>
  return %c2 : tensor<1x2x4x4xf32>
}

// -----

// Seed 003 [0182]-[0186]: coefficient channel 0 of the second layer is zero
// (the target coefficient channel), so filter 0 of the first layer, which
// produces target data channel 0, goes; its value does not matter.
// CHECK-LABEL: func.func @conv_dead_channel
// CHECK: arith.constant dense<2.000000e+00> : tensor<1x1x1x2xf32>
// CHECK: arith.constant dense<3.000000e+00> : tensor<1xf32>
// CHECK: sparsenn.conv2d {{.*}} {padding = array<i64: 0, 0, 1, 0>} : tensor<1x1x2x2xf32>, tensor<1x1x1x2xf32>, tensor<1xf32> -> tensor<1x1x2x2xf32>
// CHECK: arith.constant dense<5.000000e+00> : tensor<1x1x1x1xf32>
// CHECK: sparsenn.conv2d {{.*}} : tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32> -> tensor<1x1x2x2xf32>
func.func @conv_dead_channel(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %w1 = arith.constant dense<[[[[1.0, 1.0]]], [[[2.0, 2.0]]]]> : tensor<2x1x1x2xf32>
  %b1 = arith.constant dense<[7.0, 3.0]> : tensor<2xf32>
  %c1 = sparsenn.conv2d %x, %w1, %b1 {padding = array<i64: 0, 0, 1, 0>} : tensor<1x1x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32> -> tensor<1x2x2x2xf32>
  %w2 = arith.constant dense<[[[[0.0]], [[5.0]]]]> : tensor<1x2x1x1xf32>
  %c2 = sparsenn.conv2d %c1, %w2 : tensor<1x2x2x2xf32>, tensor<1x2x1x1xf32> -> tensor<1x1x2x2xf32>
  return %c2 : tensor<1x1x2x2xf32>
}

// -----

// FIG. 11b, fully connected: unit 1 of the first layer has a zero filter but
// bias 3, which relu passes: the constant 3 is folded into the second
// layer's bias (3·W[:, 1] = (3·2, 3·4) = (6, 12)); unit 2 is
// unused (zero column). The second layer had no bias: one is created.
// CHECK-LABEL: func.func @mlp_fold_bias
// CHECK: %[[W1:.*]] = arith.constant dense<{{\[}}[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]]> : tensor<1x4xf32>
// CHECK: %[[B1:.*]] = arith.constant dense<0.000000e+00> : tensor<1xf32>
// CHECK: %[[H:.*]] = sparsenn.linear %{{.*}}, %[[W1]], %[[B1]] : tensor<2x4xf32>, tensor<1x4xf32>, tensor<1xf32> -> tensor<2x1xf32>
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x1xf32>
// CHECK: %[[R:.*]] = linalg.generic {{.*}} ins(%[[H]] : tensor<2x1xf32>) outs(%[[E]] : tensor<2x1xf32>)
// CHECK: %[[W2:.*]] = arith.constant dense<{{\[}}[1.000000e+00], [3.000000e+00]]> : tensor<2x1xf32>
// CHECK: %[[B2:.*]] = arith.constant dense<[6.000000e+00, 1.200000e+01]> : tensor<2xf32>
// CHECK: sparsenn.linear %[[R]], %[[W2]], %[[B2]] : tensor<2x1xf32>, tensor<2x1xf32>, tensor<2xf32> -> tensor<2x2xf32>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @mlp_fold_bias(%x: tensor<2x4xf32>) -> tensor<2x2xf32> {
  %w1 = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0], [5.0, 6.0, 7.0, 8.0]]> : tensor<3x4xf32>
  %b1 = arith.constant dense<[0.0, 3.0, 1.0]> : tensor<3xf32>
  %h = sparsenn.linear %x, %w1, %b1 : tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32> -> tensor<2x3xf32>
  %e = tensor.empty() : tensor<2x3xf32>
  %r = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%h : tensor<2x3xf32>) outs(%e : tensor<2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %z = arith.constant 0.0 : f32
    %m = arith.maximumf %a, %z : f32
    linalg.yield %m : f32
  } -> tensor<2x3xf32>
  %w2 = arith.constant dense<[[1.0, 2.0, 0.0], [3.0, 4.0, 0.0]]> : tensor<2x3xf32>
  %y = sparsenn.linear %r, %w2 : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

// -----

// Flatten into a linear layer: channel c of [1, 2, 2, 2] is the block of
// columns [4c, 4c + 4) of the [1, 8] input; block 1 (columns 4-7) is zero,
// so filter 1 of the convolution goes with it.
// CHECK-LABEL: func.func @conv_flatten_linear
// CHECK: %[[C:.*]] = sparsenn.conv2d {{.*}} -> tensor<1x1x2x2xf32>
// CHECK: %[[F:.*]] = tensor.collapse_shape %[[C]] {{\[}}[0], [1, 2, 3]] : tensor<1x1x2x2xf32> into tensor<1x4xf32>
// CHECK: %[[W:.*]] = arith.constant dense<{{\[}}[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]]> : tensor<1x4xf32>
// CHECK: sparsenn.linear %[[F]], %[[W]] : tensor<1x4xf32>, tensor<1x4xf32> -> tensor<1x1xf32>
func.func @conv_flatten_linear(%x: tensor<1x1x2x2xf32>) -> tensor<1x1xf32> {
  %w1 = arith.constant dense<[[[[1.0]]], [[[2.0]]]]> : tensor<2x1x1x1xf32>
  %c1 = sparsenn.conv2d %x, %w1 : tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32> -> tensor<1x2x2x2xf32>
  %f = tensor.collapse_shape %c1 [[0], [1, 2, 3]] : tensor<1x2x2x2xf32> into tensor<1x8xf32>
  %w2 = arith.constant dense<[[1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<1x8xf32>
  %y = sparsenn.linear %f, %w2 : tensor<1x8xf32>, tensor<1x8xf32> -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

// Max pooling (init rebuilt with the smaller shape) and a global k-winners
// with relu: the removed channel is zero before the k-winners, zeros never
// win with relu, so the same winners remain; k stays the count of winners of
// the original domain (density 0.25 of 3·2·2 = 12 -> k = 3) and is written
// explicitly, clamped to the new domain size 2·2·2 = 8.
// CHECK-LABEL: func.func @pool_kwinners
// CHECK: %[[C:.*]] = sparsenn.conv2d {{.*}} -> tensor<1x2x4x4xf32>
// CHECK: %[[E:.*]] = tensor.empty() : tensor<1x2x2x2xf32>
// CHECK: %[[I:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[E]] : tensor<1x2x2x2xf32>)
// CHECK: %[[P:.*]] = linalg.pooling_nchw_max {{.*}} ins(%[[C]], %{{.*}} : tensor<1x2x4x4xf32>, tensor<2x2xf32>) outs(%[[I]] : tensor<1x2x2x2xf32>)
// CHECK: %[[K:.*]] = sparsenn.kwinners <global> %[[P]] k = 3 relu : tensor<1x2x2x2xf32> -> tensor<1x2x2x2xf32>
// CHECK: sparsenn.conv2d %[[K]], {{.*}} : tensor<1x2x2x2xf32>, tensor<1x2x1x1xf32> -> tensor<1x1x2x2xf32>
func.func @pool_kwinners(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32> {
  %w1 = arith.constant dense<[[[[1.0]]], [[[0.0]]], [[[-1.0]]]]> : tensor<3x1x1x1xf32>
  %c1 = sparsenn.conv2d %x, %w1 : tensor<1x1x4x4xf32>, tensor<3x1x1x1xf32> -> tensor<1x3x4x4xf32>
  %ninf = arith.constant -3.40282347E+38 : f32
  %win = tensor.empty() : tensor<2x2xf32>
  %e = tensor.empty() : tensor<1x3x2x2xf32>
  %f = linalg.fill ins(%ninf : f32) outs(%e : tensor<1x3x2x2xf32>) -> tensor<1x3x2x2xf32>
  %p = linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
      ins(%c1, %win : tensor<1x3x4x4xf32>, tensor<2x2xf32>) outs(%f : tensor<1x3x2x2xf32>) -> tensor<1x3x2x2xf32>
  %k = sparsenn.kwinners <global> %p density = 0.25 relu : tensor<1x3x2x2xf32> -> tensor<1x3x2x2xf32>
  %w2 = arith.constant dense<[[[[1.0]], [[1.0]], [[1.0]]]]> : tensor<1x3x1x1xf32>
  %c2 = sparsenn.conv2d %k, %w2 : tensor<1x3x2x2xf32>, tensor<1x3x1x1xf32> -> tensor<1x1x2x2xf32>
  return %c2 : tensor<1x1x2x2xf32>
}

// -----

// Residual block: channel 1 of the sum is unused by the consumer and by the
// inner convolution, so it goes on both branches at once (one dependency
// group): filter 1 of both convolutions, coefficient channel 1 of the inner
// one and channel 1 of the per-channel scale.
// CHECK-LABEL: func.func @residual
// CHECK: %[[A:.*]] = sparsenn.conv2d {{.*}} -> tensor<1x1x2x2xf32>
// CHECK: %[[B:.*]] = sparsenn.conv2d %[[A]], {{.*}} : tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>, tensor<1xf32> -> tensor<1x1x2x2xf32>
// CHECK: %[[S:.*]] = arith.addf %[[A]], %[[B]] : tensor<1x1x2x2xf32>
// CHECK: %[[M:.*]] = arith.mulf %[[S]], %{{.*}} : tensor<1x1x2x2xf32>
// CHECK: sparsenn.conv2d %[[M]], {{.*}} : tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32> -> tensor<1x1x2x2xf32>
func.func @residual(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %w1 = arith.constant dense<[[[[1.0]]], [[[2.0]]]]> : tensor<2x1x1x1xf32>
  %a = sparsenn.conv2d %x, %w1 : tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32> -> tensor<1x2x2x2xf32>
  %w2 = arith.constant dense<[[[[1.0]], [[0.0]]], [[[1.0]], [[0.0]]]]> : tensor<2x2x1x1xf32>
  %b2 = arith.constant dense<[0.5, 0.5]> : tensor<2xf32>
  %b = sparsenn.conv2d %a, %w2, %b2 : tensor<1x2x2x2xf32>, tensor<2x2x1x1xf32>, tensor<2xf32> -> tensor<1x2x2x2xf32>
  %s = arith.addf %a, %b : tensor<1x2x2x2xf32>
  %scale = arith.constant dense<[[[[2.0, 2.0], [2.0, 2.0]], [[3.0, 3.0], [3.0, 3.0]]]]> : tensor<1x2x2x2xf32>
  %m = arith.mulf %s, %scale : tensor<1x2x2x2xf32>
  %w3 = arith.constant dense<[[[[1.0]], [[0.0]]]]> : tensor<1x2x1x1xf32>
  %y = sparsenn.conv2d %m, %w3 : tensor<1x2x2x2xf32>, tensor<1x2x1x1xf32> -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// -----

// Concat (index remapping): the consumer ignores channel 2 of the
// concatenation, which is channel 0 of the second operand.
// CHECK-LABEL: func.func @concat
// CHECK: %[[A:.*]] = sparsenn.conv2d {{.*}} -> tensor<1x2x2x2xf32>
// CHECK: %[[B:.*]] = sparsenn.conv2d %{{.*}}, %{{.*}} : tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32> -> tensor<1x1x2x2xf32>
// CHECK: %[[C:.*]] = tensor.concat dim(1) %[[A]], %[[B]] : (tensor<1x2x2x2xf32>, tensor<1x1x2x2xf32>) -> tensor<1x3x2x2xf32>
// CHECK: sparsenn.conv2d %[[C]], %{{.*}} : tensor<1x3x2x2xf32>, tensor<1x3x1x1xf32> -> tensor<1x1x2x2xf32>
func.func @concat(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %w1 = arith.constant dense<[[[[1.0]]], [[[2.0]]]]> : tensor<2x1x1x1xf32>
  %a = sparsenn.conv2d %x, %w1 : tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32> -> tensor<1x2x2x2xf32>
  %w2 = arith.constant dense<[[[[3.0]]], [[[4.0]]]]> : tensor<2x1x1x1xf32>
  %b = sparsenn.conv2d %x, %w2 : tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32> -> tensor<1x2x2x2xf32>
  %c = tensor.concat dim(1) %a, %b : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x4x2x2xf32>
  %w3 = arith.constant dense<[[[[1.0]], [[1.0]], [[0.0]], [[1.0]]]]> : tensor<1x4x1x1xf32>
  %y = sparsenn.conv2d %c, %w3 : tensor<1x4x2x2xf32>, tensor<1x4x1x1xf32> -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// -----

// Depthwise convolution (groups = C, tied channels): channel 1 is unused by
// the last layer, so it goes from the first layer, from the depthwise filters
// and bias (groups 3 -> 2) and from the last layer. A batch-norm-style
// per-channel affine (linalg.generic with broadcast [C] constants) follows.
// CHECK-LABEL: func.func @depthwise_affine
// CHECK: %[[A:.*]] = sparsenn.conv2d {{.*}} -> tensor<1x2x2x2xf32>
// CHECK: %[[DW:.*]] = arith.constant dense<{{\[}}{{\[}}{{\[}}[1.000000e+00, 1.000000e+00]]], {{\[}}{{\[}}[3.000000e+00, 3.000000e+00]]]]> : tensor<2x1x1x2xf32>
// CHECK: %[[DB:.*]] = arith.constant dense<[1.000000e-01, 3.000000e-01]> : tensor<2xf32>
// CHECK: %[[D:.*]] = sparsenn.conv2d %[[A]], %[[DW]], %[[DB]] {groups = 2 : i64, padding = array<i64: 0, 0, 0, 1>} : tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32> -> tensor<1x2x2x2xf32>
// CHECK: %[[G:.*]] = arith.constant dense<[2.000000e+00, 4.000000e+00]> : tensor<2xf32>
// CHECK: %[[BETA:.*]] = arith.constant dense<[5.000000e+00, 7.000000e+00]> : tensor<2xf32>
// CHECK: %[[N:.*]] = linalg.generic {{.*}} ins(%[[D]], %[[G]], %[[BETA]] : tensor<1x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>) outs(%{{.*}} : tensor<1x2x2x2xf32>)
// CHECK: sparsenn.conv2d %[[N]], %{{.*}} : tensor<1x2x2x2xf32>, tensor<1x2x1x1xf32> -> tensor<1x1x2x2xf32>
#id4 = affine_map<(n, c, h, w) -> (n, c, h, w)>
#ch = affine_map<(n, c, h, w) -> (c)>
func.func @depthwise_affine(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %w1 = arith.constant dense<[[[[1.0]]], [[[2.0]]], [[[3.0]]]]> : tensor<3x1x1x1xf32>
  %a = sparsenn.conv2d %x, %w1 : tensor<1x1x2x2xf32>, tensor<3x1x1x1xf32> -> tensor<1x3x2x2xf32>
  %dw = arith.constant dense<[[[[1.0, 1.0]]], [[[2.0, 2.0]]], [[[3.0, 3.0]]]]> : tensor<3x1x1x2xf32>
  %db = arith.constant dense<[0.1, 0.2, 0.3]> : tensor<3xf32>
  %d = sparsenn.conv2d %a, %dw, %db {groups = 3 : i64, padding = array<i64: 0, 0, 0, 1>} : tensor<1x3x2x2xf32>, tensor<3x1x1x2xf32>, tensor<3xf32> -> tensor<1x3x2x2xf32>
  %gamma = arith.constant dense<[2.0, 3.0, 4.0]> : tensor<3xf32>
  %beta = arith.constant dense<[5.0, 6.0, 7.0]> : tensor<3xf32>
  %e = tensor.empty() : tensor<1x3x2x2xf32>
  %n = linalg.generic {indexing_maps = [#id4, #ch, #ch, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%d, %gamma, %beta : tensor<1x3x2x2xf32>, tensor<3xf32>, tensor<3xf32>) outs(%e : tensor<1x3x2x2xf32>) {
  ^bb0(%v: f32, %g: f32, %b: f32, %o: f32):
    %0 = arith.mulf %v, %g : f32
    %1 = arith.addf %0, %b : f32
    linalg.yield %1 : f32
  } -> tensor<1x3x2x2xf32>
  %w3 = arith.constant dense<[[[[1.0]], [[0.0]], [[1.0]]]]> : tensor<1x3x1x1xf32>
  %y = sparsenn.conv2d %n, %w3 : tensor<1x3x2x2xf32>, tensor<1x3x1x1xf32> -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// -----

// k-winners <channel> (domain H·W, k unchanged) with a constant duty cycle,
// which is sliced with the channel. Filter 0 is zero with bias 2: the
// constant 2 goes through tensor.pad with pad value 2 (still uniform) and is
// folded into the linear layer's bias: 4 + 2·(1 + 1 + 1 + 1) = 12.
// CHECK-LABEL: func.func @kwinners_channel_fold
// CHECK: %[[C:.*]] = sparsenn.conv2d {{.*}} -> tensor<1x1x1x1xf32>
// CHECK: %[[P:.*]] = tensor.pad %[[C]] low[0, 0, 0, 0] high[0, 0, 1, 1]
// CHECK: } : tensor<1x1x1x1xf32> to tensor<1x1x2x2xf32>
// CHECK: %[[DUTY:.*]] = arith.constant dense<5.000000e-01> : tensor<1xf32>
// CHECK: %[[K:.*]] = sparsenn.kwinners <channel> %[[P]] duty_cycle %[[DUTY]] k = 1 boost = 1.000000e+00 : tensor<1x1x2x2xf32>, tensor<1xf32> -> tensor<1x1x2x2xf32>
// CHECK: %[[F:.*]] = tensor.collapse_shape %[[K]] {{.*}} into tensor<1x4xf32>
// CHECK: %[[W:.*]] = arith.constant dense<{{\[}}[5.000000e+00, 6.000000e+00, 7.000000e+00, 8.000000e+00]]> : tensor<1x4xf32>
// CHECK: %[[B:.*]] = arith.constant dense<1.200000e+01> : tensor<1xf32>
// CHECK: sparsenn.linear %[[F]], %[[W]], %[[B]] : tensor<1x4xf32>, tensor<1x4xf32>, tensor<1xf32> -> tensor<1x1xf32>
func.func @kwinners_channel_fold(%x: tensor<1x1x1x1xf32>) -> tensor<1x1xf32> {
  %w1 = arith.constant dense<[[[[0.0]]], [[[1.0]]]]> : tensor<2x1x1x1xf32>
  %b1 = arith.constant dense<[2.0, 0.0]> : tensor<2xf32>
  %c = sparsenn.conv2d %x, %w1, %b1 : tensor<1x1x1x1xf32>, tensor<2x1x1x1xf32>, tensor<2xf32> -> tensor<1x2x1x1xf32>
  %pv = arith.constant 2.0 : f32
  %p = tensor.pad %c low[0, 0, 0, 0] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %pv : f32
  } : tensor<1x2x1x1xf32> to tensor<1x2x2x2xf32>
  %duty = arith.constant dense<[0.25, 0.5]> : tensor<2xf32>
  %kw = sparsenn.kwinners <channel> %p duty_cycle %duty k = 1 boost = 1.0 : tensor<1x2x2x2xf32>, tensor<2xf32> -> tensor<1x2x2x2xf32>
  %f = tensor.collapse_shape %kw [[0], [1, 2, 3]] : tensor<1x2x2x2xf32> into tensor<1x8xf32>
  %w2 = arith.constant dense<[[1.0, 1.0, 1.0, 1.0, 5.0, 6.0, 7.0, 8.0]]> : tensor<1x8xf32>
  %b2 = arith.constant dense<[4.0]> : tensor<1xf32>
  %y = sparsenn.linear %f, %w2, %b2 : tensor<1x8xf32>, tensor<1x8xf32>, tensor<1xf32> -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

// k-winners <global> with relu and a constant duty cycle: filter 1 is zero
// with bias -0.5 (never wins, never moves the k-th value: removed, the
// duty cycle with it); filter 2 is zero with bias 0.5, a constant that can
// win: kept. k = round(0.5 · 3·2·2) = 6 stays 6.
// CHECK-LABEL: func.func @kwinners_global_constants
// CHECK: %[[B:.*]] = arith.constant dense<[0.000000e+00, 5.000000e-01]> : tensor<2xf32>
// CHECK: %[[C:.*]] = sparsenn.conv2d %{{.*}}, %{{.*}}, %[[B]] : tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>, tensor<2xf32> -> tensor<1x2x2x2xf32>
// CHECK: %[[D:.*]] = arith.constant dense<[1.000000e-01, 3.000000e-01]> : tensor<2xf32>
// CHECK: %[[K:.*]] = sparsenn.kwinners <global> %[[C]] duty_cycle %[[D]] k = 6 boost = 2.000000e+00 break_ties relu : tensor<1x2x2x2xf32>, tensor<2xf32> -> tensor<1x2x2x2xf32>
// CHECK: sparsenn.conv2d %[[K]], %{{.*}} : tensor<1x2x2x2xf32>, tensor<1x2x1x1xf32> -> tensor<1x1x2x2xf32>
func.func @kwinners_global_constants(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %w1 = arith.constant dense<[[[[1.0]]], [[[0.0]]], [[[0.0]]]]> : tensor<3x1x1x1xf32>
  %b1 = arith.constant dense<[0.0, -0.5, 0.5]> : tensor<3xf32>
  %c = sparsenn.conv2d %x, %w1, %b1 : tensor<1x1x2x2xf32>, tensor<3x1x1x1xf32>, tensor<3xf32> -> tensor<1x3x2x2xf32>
  %d = arith.constant dense<[0.1, 0.2, 0.3]> : tensor<3xf32>
  %k = sparsenn.kwinners <global> %c duty_cycle %d density = 0.5 boost = 2.0 break_ties relu : tensor<1x3x2x2xf32>, tensor<3xf32> -> tensor<1x3x2x2xf32>
  %w2 = arith.constant dense<1.0> : tensor<1x3x1x1xf32>
  %y = sparsenn.conv2d %k, %w2 : tensor<1x3x2x2xf32>, tensor<1x3x1x1xf32> -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// -----

// Grouped convolution (groups = 2, not depthwise): channel j of each group is
// tied to channel j of the other. Local channel 1 is unused in both groups, so
// channels 1 and 3 go, with the filters producing them; each group keeps one
// input channel.
// CHECK-LABEL: func.func @grouped_conv_tied
// CHECK:         %[[W1:.+]] = arith.constant dense<{{\[\[\[\[}}1.000000e+00]]], {{\[\[\[}}3.000000e+00]]]]> : tensor<2x1x1x1xf32>
// CHECK:         %[[C:.+]] = sparsenn.conv2d %arg0, %[[W1]] : tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32> -> tensor<1x2x2x2xf32>
// CHECK:         %[[W2:.+]] = arith.constant dense<{{\[\[\[\[}}1.000000e+00]]], {{\[\[\[}}5.000000e+00]]]]> : tensor<2x1x1x1xf32>
// CHECK:         sparsenn.conv2d %[[C]], %[[W2]] {groups = 2 : i64} : tensor<1x2x2x2xf32>, tensor<2x1x1x1xf32> -> tensor<1x2x2x2xf32>
func.func @grouped_conv_tied(%x: tensor<1x1x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %w = arith.constant dense<[[[[1.0]]], [[[2.0]]], [[[3.0]]], [[[4.0]]]]> : tensor<4x1x1x1xf32>
  %c = sparsenn.conv2d %x, %w : tensor<1x1x2x2xf32>, tensor<4x1x1x1xf32> -> tensor<1x4x2x2xf32>
  %w2 = arith.constant dense<[[[[1.0]], [[0.0]]], [[[5.0]], [[0.0]]]]> : tensor<2x2x1x1xf32>
  %y = sparsenn.conv2d %c, %w2 {groups = 2 : i64} : tensor<1x4x2x2xf32>, tensor<2x2x1x1xf32> -> tensor<1x2x2x2xf32>
  return %y : tensor<1x2x2x2xf32>
}

// -----

// A grouped convolution's own zero filters: filter 1 of each group is zero
// (zero bias), so output channels 1 and 3 are zero and the consumer's
// columns for them go, with the filters.
// CHECK-LABEL: func.func @grouped_conv_zero_filters
// CHECK:         sparsenn.conv2d %arg0, %{{.+}} {groups = 2 : i64} : tensor<1x2x2x2xf32>, tensor<2x1x1x1xf32> -> tensor<1x2x2x2xf32>
// CHECK:         sparsenn.linear %{{.+}}, %{{.+}} : tensor<1x8xf32>, tensor<3x8xf32> -> tensor<1x3xf32>
func.func @grouped_conv_zero_filters(%x: tensor<1x2x2x2xf32>) -> tensor<1x3xf32> {
  %w = arith.constant dense<[[[[1.0]]], [[[0.0]]], [[[3.0]]], [[[0.0]]]]> : tensor<4x1x1x1xf32>
  %c = sparsenn.conv2d %x, %w {groups = 2 : i64} : tensor<1x2x2x2xf32>, tensor<4x1x1x1xf32> -> tensor<1x4x2x2xf32>
  %f = tensor.collapse_shape %c [[0], [1, 2, 3]] : tensor<1x4x2x2xf32> into tensor<1x16xf32>
  %w2 = arith.constant dense<0.5> : tensor<3x16xf32>
  %y = sparsenn.linear %f, %w2 : tensor<1x16xf32>, tensor<3x16xf32> -> tensor<1x3xf32>
  return %y : tensor<1x3xf32>
}

// -----

// k-winners <group> over groups of 2 features (relu): feature j of each group
// is tied to feature j of the other. Feature 1 of both groups is a zero
// filter's output (constant 0, never a winner): features 1 and 3 go, the
// groups become 1 wide and k stays 1.
// CHECK-LABEL: func.func @kwinners_group_tied
// CHECK:         sparsenn.linear %arg0, %{{.+}} : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x2xf32>
// CHECK:         sparsenn.kwinners <group> %{{.+}} k = 1 group_size = 1 relu : tensor<2x2xf32> -> tensor<2x2xf32>
// CHECK:         sparsenn.linear %{{.+}}, %{{.+}} : tensor<2x2xf32>, tensor<5x2xf32> -> tensor<2x5xf32>
func.func @kwinners_group_tied(%x: tensor<2x3xf32>) -> tensor<2x5xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [4.0, 5.0, 6.0], [0.0, 0.0, 0.0]]> : tensor<4x3xf32>
  %h = sparsenn.linear %x, %w : tensor<2x3xf32>, tensor<4x3xf32> -> tensor<2x4xf32>
  %k = sparsenn.kwinners <group> %h density = 0.5 group_size = 2 relu : tensor<2x4xf32> -> tensor<2x4xf32>
  %w2 = arith.constant dense<0.5> : tensor<5x4xf32>
  %y = sparsenn.linear %k, %w2 : tensor<2x4xf32>, tensor<5x4xf32> -> tensor<2x5xf32>
  return %y : tensor<2x5xf32>
}

// -----

// Groups of whole channels (group_size = H·W, one channel a group): a zero
// channel is a whole group and goes alone; group_size and k stay.
// CHECK-LABEL: func.func @kwinners_group_whole_channels
// CHECK:         sparsenn.kwinners <group> %{{.+}} k = 1 group_size = 4 relu : tensor<1x2x2x2xf32> -> tensor<1x2x2x2xf32>
func.func @kwinners_group_whole_channels(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %w = arith.constant dense<[[[[1.0]]], [[[0.0]]], [[[2.0]]]]> : tensor<3x1x1x1xf32>
  %c = sparsenn.conv2d %x, %w : tensor<1x1x2x2xf32>, tensor<3x1x1x1xf32> -> tensor<1x3x2x2xf32>
  %k = sparsenn.kwinners <group> %c k = 1 group_size = 4 relu : tensor<1x3x2x2xf32> -> tensor<1x3x2x2xf32>
  %w2 = arith.constant dense<1.0> : tensor<1x3x1x1xf32>
  %y = sparsenn.conv2d %k, %w2 : tensor<1x3x2x2xf32>, tensor<1x3x1x1xf32> -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}
