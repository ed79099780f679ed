// RUN: sparse-opt %s -split-input-file --convert-sparsenn-to-linalg | FileCheck %s
// RUN: sparse-opt %s -split-input-file --convert-sparsenn-to-linalg=runtime-weight-kernels=false | FileCheck %s --check-prefix=LOOPS

// Weights that are function arguments (a training step's weights) go to the
// runtime's dense kernel as they are: format 0 (dense), no packed indices.
// CHECK: func.func private @sparsenn_rt_linear_f32(memref<?xf32>, memref<?xf32>, memref<?xf32>, memref<?xf32>, memref<?xi32>, memref<?xi32>, memref<?xi16>, i64, i64, i64, i64, i64) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @linear
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x8xf32>, %[[W:.*]]: tensor<4x8xf32>, %[[B:.*]]: tensor<4xf32>)
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i64
// CHECK-DAG: %[[ROWS:.*]] = arith.constant 6 : i64
// CHECK-DAG: %[[IN:.*]] = arith.constant 8 : i64
// CHECK-DAG: %[[OUT:.*]] = arith.constant 4 : i64
// CHECK-DAG: %[[Y:.*]] = memref.alloc() : memref<2x3x4xf32>
// CHECK-DAG: bufferization.to_buffer %[[W]] read_only : tensor<4x8xf32> to memref<4x8xf32>
// CHECK: call @sparsenn_rt_linear_f32(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[ZERO]], %[[ROWS]], %[[IN]], %[[OUT]], %{{.*}})
// CHECK: bufferization.to_tensor %[[Y]] restrict writable
// LOOPS-LABEL: func.func @linear
// LOOPS-NOT: call
// LOOPS: linalg.generic
func.func @linear(%x: tensor<2x3x8xf32>, %w: tensor<4x8xf32>, %b: tensor<4xf32>) -> tensor<2x3x4xf32> {
  %y = sparsenn.linear %x, %w, %b : tensor<2x3x8xf32>, tensor<4x8xf32>, tensor<4xf32> -> tensor<2x3x4xf32>
  return %y : tensor<2x3x4xf32>
}

// -----

// The same for conv2d: the dense direct engine reads [C_out, C_in/g, kH, kW]
// (format 0).
// CHECK-LABEL: func.func @conv
// CHECK: bufferization.to_buffer %{{.*}} read_only : tensor<6x2x3x3xf32> to memref<6x2x3x3xf32>
// CHECK: %[[ZERO:.*]] = arith.constant 0 : i64
// CHECK: call @sparsenn_rt_conv2d_runtime_weights_f32(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[ZERO]],
// LOOPS-LABEL: func.func @conv
// LOOPS-NOT: call
// LOOPS: linalg.generic
func.func @conv(%x: tensor<1x4x7x7xf32>, %w: tensor<6x2x3x3xf32>) -> tensor<1x6x4x3xf32> {
  %y = sparsenn.conv2d %x, %w {groups = 2, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 0, 2>, dilations = array<i64: 1, 2>}
      : tensor<1x4x7x7xf32>, tensor<6x2x3x3xf32> -> tensor<1x6x4x3xf32>
  return %y : tensor<1x6x4x3xf32>
}

// -----

// Sparse taps on run-time weights (a sparse layer that trains): the runtime
// packs the non-zero taps at each call (format 1).
// CHECK: func.func private @sparsenn_rt_conv2d_runtime_weights_f32(memref<?xf32>, memref<?xf32>, memref<?xf32>, memref<?xf32>, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @sparse_taps
// CHECK: %[[ONE:.*]] = arith.constant 1 : i64
// CHECK-NEXT: %[[N:.*]] = arith.constant 2 : i64
// CHECK: call @sparsenn_rt_conv2d_runtime_weights_f32(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[ONE]], %[[N]],
// LOOPS-LABEL: func.func @sparse_taps
// LOOPS-NOT: call
// LOOPS: linalg.generic
func.func @sparse_taps(%x: tensor<2x3x6x6xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<2x4x4x4xf32> {
  %y = sparsenn.conv2d %x, %w {kernel = #sparsenn.kernel<ell>} : tensor<2x3x6x6xf32>, tensor<4x3x3x3xf32> -> tensor<2x4x4x4xf32>
  return %y : tensor<2x4x4x4xf32>
}

// -----

// f64 layers, and layers whose chosen kernel needs packed constant weights,
// stay in loops.
// CHECK-LABEL: func.func @f64
// CHECK-NOT: call
// CHECK: linalg.generic
func.func @f64(%x: tensor<2x8xf64>, %w: tensor<4x8xf64>) -> tensor<2x4xf64> {
  %y = sparsenn.linear %x, %w : tensor<2x8xf64>, tensor<4x8xf64> -> tensor<2x4xf64>
  return %y : tensor<2x4xf64>
}
