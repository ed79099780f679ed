// RUN: sparse-opt %s -split-input-file --convert-sparsenn-to-linalg -cse | FileCheck %s
// RUN: sparse-opt %s -split-input-file --convert-sparsenn-to-linalg="runtime-weight-kernels=false gemm-kernels=false" | FileCheck %s --check-prefix=LOOPS

// The conv2d gradients become the runtime's kernels: geometry n, c_in, h, w,
// c_out, kh, kw, strides, padding, dilations; the weight gradient's mask is
// an empty buffer when absent.
// CHECK-LABEL: func.func @input_grad
// CHECK: call @sparsenn_rt_conv2d_backward_input_f32(
// LOOPS-LABEL: func.func @input_grad
// LOOPS-NOT: call
// LOOPS: linalg.fill
// One contraction over the output channels per tap, into a strided window.
// LOOPS: tensor.extract_slice %{{.*}}[0, 0, 0, 0] [2, 3, 4, 4] [1, 1, 2, 2]
// LOOPS: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]
// LOOPS: tensor.insert_slice %{{.*}}[0, 0, 0, 0] [2, 3, 4, 4] [1, 1, 2, 2]
// LOOPS-COUNT-8: tensor.insert_slice
// The padding cropped.
// LOOPS: tensor.extract_slice %{{.*}}[0, 0, 1, 1] [2, 3, 8, 8] [1, 1, 1, 1]
func.func @input_grad(%dy: tensor<2x4x4x4xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<2x3x8x8xf32> {
  %dx = sparsenn.conv2d_backward_input %dy, %w {padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
      : tensor<2x4x4x4xf32>, tensor<4x3x3x3xf32> -> tensor<2x3x8x8xf32>
  return %dx : tensor<2x3x8x8xf32>
}

// -----

// CHECK: func.func private @sparsenn_rt_conv2d_backward_weight_f32(memref<?xf32>, memref<?xf32>, memref<?xf32>, memref<?xf32>, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @weight_grad
// CHECK: %[[EMPTY:.*]] = memref.cast %{{.*}} : memref<0xf32> to memref<?xf32>
// CHECK: call @sparsenn_rt_conv2d_backward_weight_f32(%{{.*}}, %{{.*}}, %{{.*}}, %[[EMPTY]],
// CHECK: call @sparsenn_rt_conv2d_backward_weight_f32(
// LOOPS-LABEL: func.func @weight_grad
// LOOPS: tensor.pad
// LOOPS: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]
// LOOPS: linalg.generic
// The mask: zero where it is zero.
// LOOPS: arith.cmpf une
// LOOPS: arith.select
func.func @weight_grad(%x: tensor<2x3x8x8xf32>, %dy: tensor<2x4x8x8xf32>, %m: tensor<4x3x3x3xf32>)
    -> (tensor<4x3x3x3xf32>, tensor<4x3x3x3xf32>) {
  %dw = sparsenn.conv2d_backward_weight %x, %dy {padding = array<i64: 1, 1, 1, 1>}
      : tensor<2x3x8x8xf32>, tensor<2x4x8x8xf32> -> tensor<4x3x3x3xf32>
  %dm = sparsenn.conv2d_backward_weight %x, %dy mask %m {padding = array<i64: 1, 1, 1, 1>}
      : tensor<2x3x8x8xf32>, tensor<2x4x8x8xf32>, tensor<4x3x3x3xf32> -> tensor<4x3x3x3xf32>
  return %dw, %dm : tensor<4x3x3x3xf32>, tensor<4x3x3x3xf32>
}

// -----

// f64 gradients stay linalg (the runtime kernels are f32).
// CHECK-LABEL: func.func @f64_grad
// CHECK-NOT: call
// CHECK: linalg.generic
func.func @f64_grad(%x: tensor<1x1x4x4xf64>, %dy: tensor<1x2x2x2xf64>) -> tensor<2x1x3x3xf64> {
  %dw = sparsenn.conv2d_backward_weight %x, %dy : tensor<1x1x4x4xf64>, tensor<1x2x2x2xf64> -> tensor<2x1x3x3xf64>
  return %dw : tensor<2x1x3x3xf64>
}

// -----

#a = affine_map<(i, j, k) -> (i, k)>
#at = affine_map<(i, j, k) -> (k, i)>
#b = affine_map<(i, j, k) -> (k, j)>
#bt = affine_map<(i, j, k) -> (j, k)>
#c = affine_map<(i, j, k) -> (i, j)>
// linalg.matmul with plain or transposed operand maps: the runtime's GEMM
// (trans_a, trans_b, m, n, k, accumulate); a zero-filled init is not read,
// any other init is copied into the result and accumulated onto.
// CHECK-LABEL: func.func @matmuls
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : i64
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : i64
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : i64
// CHECK-DAG: %[[C5:.*]] = arith.constant 5 : i64
// CHECK-DAG: %[[C6:.*]] = arith.constant 6 : i64
// CHECK: call @sparsenn_rt_gemm_f32(%{{.*}}, %{{.*}}, %{{.*}}, %[[C1]], %[[C0]], %[[C4]], %[[C5]], %[[C6]], %[[C0]])
// CHECK: call @sparsenn_rt_gemm_f32(%{{.*}}, %{{.*}}, %{{.*}}, %[[C0]], %[[C1]], %[[C4]], %[[C5]], %[[C6]], %[[C0]])
// CHECK: memref.copy
// CHECK: call @sparsenn_rt_gemm_f32(%{{.*}}, %{{.*}}, %{{.*}}, %[[C0]], %[[C0]], %[[C4]], %[[C5]], %[[C6]], %[[C1]])
// A broadcast map is not a GEMM the runtime takes: it stays linalg.
// CHECK: linalg.matmul
// LOOPS-LABEL: func.func @matmuls
// LOOPS-NOT: call
// LOOPS-COUNT-4: linalg.matmul
func.func @matmuls(%at: tensor<6x4xf32>, %b: tensor<6x5xf32>, %a: tensor<4x6xf32>, %bt: tensor<5x6xf32>,
                   %init: tensor<4x5xf32>, %v: tensor<6xf32>)
    -> (tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>) {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x5xf32>
  %zero = linalg.fill ins(%z : f32) outs(%e : tensor<4x5xf32>) -> tensor<4x5xf32>
  %0 = linalg.matmul indexing_maps = [#at, #b, #c] ins(%at, %b : tensor<6x4xf32>, tensor<6x5xf32>) outs(%zero : tensor<4x5xf32>) -> tensor<4x5xf32>
  %1 = linalg.matmul indexing_maps = [#a, #bt, #c] ins(%a, %bt : tensor<4x6xf32>, tensor<5x6xf32>) outs(%zero : tensor<4x5xf32>) -> tensor<4x5xf32>
  %2 = linalg.matmul ins(%a, %b : tensor<4x6xf32>, tensor<6x5xf32>) outs(%init : tensor<4x5xf32>) -> tensor<4x5xf32>
  %3 = linalg.matmul indexing_maps = [#a, affine_map<(i, j, k) -> (k)>, #c] ins(%a, %v : tensor<4x6xf32>, tensor<6xf32>) outs(%zero : tensor<4x5xf32>) -> tensor<4x5xf32>
  return %0, %1, %2, %3 : tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>
}
