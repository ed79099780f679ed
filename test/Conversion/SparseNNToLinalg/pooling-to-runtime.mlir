// RUN: sparse-opt %s -split-input-file --convert-sparsenn-to-linalg -cse | FileCheck %s
// RUN: sparse-opt %s -split-input-file --convert-sparsenn-to-linalg=pooling-kernels=false | FileCheck %s --check-prefix=OFF

// The ResNet stem's max pool: the tensor.pad by -inf folds into the call
// (pads 1, 1, 1, 1 and the pad value), the init is the filled constant.
// CHECK: func.func private @sparsenn_rt_pool2d_f32(memref<?xf32>, memref<?xf32>, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, f32, f32)
// CHECK-LABEL: func.func @maxpool_stem
// CHECK-DAG: %[[NINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-DAG: %[[X:.*]] = bufferization.to_buffer %arg0
// CHECK: %[[XF:.*]] = memref.cast
// CHECK: call @sparsenn_rt_pool2d_f32(%[[XF]], %{{.*}}, %c0_i64, %c1_i64, %c8_i64, %c12_i64, %c12_i64, %c3_i64, %c3_i64, %c2_i64, %c2_i64, %c1_i64, %c1_i64, %c1_i64, %c1_i64, %c1_i64, %c1_i64, %[[NINF]], %[[NINF]])
// CHECK-NOT: linalg.pooling_nchw_max
// CHECK: bufferization.to_tensor
// OFF-LABEL: func.func @maxpool_stem
// OFF: tensor.pad
// OFF: linalg.pooling_nchw_max
func.func @maxpool_stem(%x: tensor<1x8x12x12xf32>) -> tensor<1x8x6x6xf32> {
  %ninf = arith.constant 0xFF800000 : f32
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %ninf : f32
  } : tensor<1x8x12x12xf32> to tensor<1x8x14x14xf32>
  %win = tensor.empty() : tensor<3x3xf32>
  %e = tensor.empty() : tensor<1x8x6x6xf32>
  %init = linalg.fill ins(%ninf : f32) outs(%e : tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>
  %y = linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%p, %win : tensor<1x8x14x14xf32>, tensor<3x3xf32>) outs(%init : tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>
  return %y : tensor<1x8x6x6xf32>
}

// -----

// Global average pooling: a sum over the whole plane (mode 1), no padding.
// CHECK-LABEL: func.func @global_sum
// CHECK: call @sparsenn_rt_pool2d_f32(%{{.*}}, %{{.*}}, %c1_i64, %c2_i64, %c16_i64, %c7_i64, %c7_i64, %c7_i64, %c7_i64, %c1_i64, %c1_i64, %c0_i64, %c0_i64, %c0_i64, %c0_i64, %c1_i64, %c1_i64, %cst{{.*}}, %cst{{.*}})
// CHECK-NOT: linalg.pooling_nchw_sum
// OFF-LABEL: func.func @global_sum
// OFF: linalg.pooling_nchw_sum
func.func @global_sum(%x: tensor<2x16x7x7xf32>) -> tensor<2x16x1x1xf32> {
  %zero = arith.constant 0.0 : f32
  %win = tensor.empty() : tensor<7x7xf32>
  %e = tensor.empty() : tensor<2x16x1x1xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<2x16x1x1xf32>) -> tensor<2x16x1x1xf32>
  %y = linalg.pooling_nchw_sum {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%x, %win : tensor<2x16x7x7xf32>, tensor<7x7xf32>) outs(%init : tensor<2x16x1x1xf32>) -> tensor<2x16x1x1xf32>
  return %y : tensor<2x16x1x1xf32>
}

// -----

// A pad on the channel axis does not fold: the pad stays, the pooling still
// becomes a call on the padded tensor (no pads of its own).
// CHECK-LABEL: func.func @channel_pad_stays
// CHECK: tensor.pad
// CHECK: call @sparsenn_rt_pool2d_f32(%{{.*}}, %{{.*}}, %c0_i64, %c1_i64, %c4_i64, %c4_i64, %c4_i64, %c2_i64, %c2_i64, %c2_i64, %c2_i64, %c0_i64, %c0_i64, %c0_i64, %c0_i64, %c1_i64, %c1_i64,
func.func @channel_pad_stays(%x: tensor<1x3x4x4xf32>) -> tensor<1x4x2x2xf32> {
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 1, 0, 0] high[0, 0, 0, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x3x4x4xf32> to tensor<1x4x4x4xf32>
  %win = tensor.empty() : tensor<2x2xf32>
  %e = tensor.empty() : tensor<1x4x2x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %y = linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%p, %win : tensor<1x4x4x4xf32>, tensor<2x2xf32>) outs(%init : tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  return %y : tensor<1x4x2x2xf32>
}

// -----

// Not lowered (left to linalg loops): an init that is not a filled constant,
// dynamic shapes, f64.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: call @sparsenn_rt_pool2d_f32
// CHECK: linalg.pooling_nchw_max
// CHECK: linalg.pooling_nchw_sum
// CHECK: linalg.pooling_nchw_max
func.func @left_alone(%x: tensor<1x2x4x4xf32>, %init: tensor<1x2x2x2xf32>,
                      %d: tensor<1x2x?x4xf32>, %dinit: tensor<1x2x?x2xf32>,
                      %x64: tensor<1x2x4x4xf64>) -> (tensor<1x2x2x2xf32>, tensor<1x2x?x2xf32>, tensor<1x2x2x2xf64>) {
  %win = tensor.empty() : tensor<2x2xf32>
  %y = linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%x, %win : tensor<1x2x4x4xf32>, tensor<2x2xf32>) outs(%init : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %zero = arith.constant 0.0 : f32
  %dfill = linalg.fill ins(%zero : f32) outs(%dinit : tensor<1x2x?x2xf32>) -> tensor<1x2x?x2xf32>
  %dy = linalg.pooling_nchw_sum {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%d, %win : tensor<1x2x?x4xf32>, tensor<2x2xf32>) outs(%dfill : tensor<1x2x?x2xf32>) -> tensor<1x2x?x2xf32>
  %z64 = arith.constant 0.0 : f64
  %e64 = tensor.empty() : tensor<1x2x2x2xf64>
  %f64 = linalg.fill ins(%z64 : f64) outs(%e64 : tensor<1x2x2x2xf64>) -> tensor<1x2x2x2xf64>
  %win64 = tensor.empty() : tensor<2x2xf64>
  %y64 = linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%x64, %win64 : tensor<1x2x4x4xf64>, tensor<2x2xf64>) outs(%f64 : tensor<1x2x2x2xf64>) -> tensor<1x2x2x2xf64>
  return %y, %dy, %y64 : tensor<1x2x2x2xf32>, tensor<1x2x?x2xf32>, tensor<1x2x2x2xf64>
}
