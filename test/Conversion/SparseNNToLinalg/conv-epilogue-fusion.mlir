// RUN: sparse-opt %s -split-input-file --convert-sparsenn-to-linalg -cse | FileCheck %s
// RUN: sparse-opt %s -split-input-file --convert-sparsenn-to-linalg=fuse-epilogues=false | FileCheck %s --check-prefix=OFF

// A conv2d lowered to a runtime kernel takes the ReLU (linalg.generic
// max(x, 0)) that is its only user into the call.
#map = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK: func.func private @sparsenn_rt_conv2d_fused_f32(memref<?xf32>, memref<?xf32>, memref<?xf32>, memref<?xf32>, memref<?xi32>, memref<?xi32>, memref<?xf32>, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64)
// CHECK-LABEL: func.func @conv_relu
// No bias and no residual: two empty buffers of the ABI.
// CHECK-COUNT-2: memref.alloca() : memref<0xf32>
// CHECK: call @sparsenn_rt_conv2d_fused_f32({{(%[a-z0-9_]+, )(%[a-z0-9_]+, )(%[a-z0-9_]+, )(%[a-z0-9_]+, )(%[a-z0-9_]+, )(%[a-z0-9_]+, )}}%[[NONE:[a-z0-9_]+]], %c1_i64, %c1_i64, %c1_i64, %c2_i64, %c6_i64, %c6_i64, %c4_i64, %c3_i64, %c3_i64,
// CHECK-NOT: linalg.generic
// CHECK-NOT: maximumf
// CHECK: return
// OFF-LABEL: func.func @conv_relu
// OFF: call @sparsenn_rt_conv2d_f32(
// OFF: linalg.generic
// OFF: arith.maximumf
func.func @conv_relu(%x: tensor<1x2x6x6xf32>) -> tensor<1x4x6x6xf32> {
  %w = arith.constant dense<[[[[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 2.0]], [[0.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 0.0]]],
                             [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 0.0]]],
                             [[[0.5, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]],
                             [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 4.0]]]]> : tensor<4x2x3x3xf32>
  %zero = arith.constant 0.0 : f32
  %c = sparsenn.conv2d %x, %w {kernel = #sparsenn.kernel<ell>, padding = array<i64: 1, 1, 1, 1>} : tensor<1x2x6x6xf32>, tensor<4x2x3x3xf32> -> tensor<1x4x6x6xf32>
  %e = tensor.empty() : tensor<1x4x6x6xf32>
  %r = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c : tensor<1x4x6x6xf32>) outs(%e : tensor<1x4x6x6xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x4x6x6xf32>
  return %r : tensor<1x4x6x6xf32>
}

// -----

// A residual add (the other operand may be defined after the conv) and the
// ReLU on its result: one call, emitted where the ReLU was, with the
// residual's buffer; format dense = 0, relu = 1.
// CHECK-LABEL: func.func @conv_add_relu
// CHECK: call @sparsenn_rt_conv2d_runtime_weights_f32(
// CHECK: %[[A:.*]] = bufferization.to_tensor
// CHECK: %[[RES:.*]] = bufferization.to_buffer %[[A]] read_only
// CHECK: memref.collapse_shape %[[RES]]
// CHECK: %[[RESFLAT:.*]] = memref.cast
// CHECK: call @sparsenn_rt_conv2d_fused_f32({{(%[a-z0-9_]+, )(%[a-z0-9_]+, )(%[a-z0-9_]+, )(%[a-z0-9_]+, )(%[a-z0-9_]+, )(%[a-z0-9_]+, )}}%[[RESFLAT]], %c0_i64, %c1_i64,
// CHECK-NOT: arith.addf
// CHECK-NOT: linalg.generic
// OFF-LABEL: func.func @conv_add_relu
// OFF: arith.addf
func.func @conv_add_relu(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = arith.constant dense<0.5> : tensor<2x2x1x1xf32>
  %zero = arith.constant dense<0.0> : tensor<1x2x4x4xf32>
  %c = sparsenn.conv2d %x, %w {kernel = #sparsenn.kernel<dense>} : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32> -> tensor<1x2x4x4xf32>
  // The residual: a conv without a selected kernel (the run-time weight
  // entry), defined after %c.
  %a = sparsenn.conv2d %x, %w : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32> -> tensor<1x2x4x4xf32>
  %s = arith.addf %c, %a : tensor<1x2x4x4xf32>
  %r = arith.maximumf %s, %zero : tensor<1x2x4x4xf32>
  return %r : tensor<1x2x4x4xf32>
}

// -----

// Not fused: the conv has a second user, the ReLU keeps its own op; an add
// alone is fused without ReLU (relu = 0).
// CHECK-LABEL: func.func @not_fused
// CHECK: call @sparsenn_rt_conv2d_f32(
// CHECK: arith.maximumf
// CHECK-LABEL: func.func @add_only
// CHECK: call @sparsenn_rt_conv2d_fused_f32({{(%[a-z0-9_]+, )(%[a-z0-9_]+, )(%[a-z0-9_]+, )(%[a-z0-9_]+, )(%[a-z0-9_]+, )(%[a-z0-9_]+, )(%[a-z0-9_]+, )}}%c0_i64, %c0_i64,
// CHECK-NOT: arith.addf
func.func @not_fused(%x: tensor<1x2x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %w = arith.constant dense<0.5> : tensor<2x2x1x1xf32>
  %zero = arith.constant dense<0.0> : tensor<1x2x4x4xf32>
  %c = sparsenn.conv2d %x, %w {kernel = #sparsenn.kernel<dense>} : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32> -> tensor<1x2x4x4xf32>
  %r = arith.maximumf %c, %zero : tensor<1x2x4x4xf32>
  return %r, %c : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}
func.func @add_only(%x: tensor<1x2x4x4xf32>, %res: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = arith.constant dense<0.5> : tensor<2x2x1x1xf32>
  %c = sparsenn.conv2d %x, %w {kernel = #sparsenn.kernel<dense>} : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32> -> tensor<1x2x4x4xf32>
  %s = arith.addf %res, %c : tensor<1x2x4x4xf32>
  return %s : tensor<1x2x4x4xf32>
}

// -----

// max with a non-zero constant is not a ReLU.
// CHECK-LABEL: func.func @not_relu
// CHECK: call @sparsenn_rt_conv2d_f32(
// CHECK: arith.maximumf
func.func @not_relu(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = arith.constant dense<0.5> : tensor<2x2x1x1xf32>
  %one = arith.constant dense<1.0> : tensor<1x2x4x4xf32>
  %c = sparsenn.conv2d %x, %w {kernel = #sparsenn.kernel<dense>} : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32> -> tensor<1x2x4x4xf32>
  %r = arith.maximumf %c, %one : tensor<1x2x4x4xf32>
  return %r : tensor<1x2x4x4xf32>
}
