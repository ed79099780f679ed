// RUN: sparse-opt %s -split-input-file --convert-sparsenn-to-linalg | FileCheck %s

// Linear layers on SPGC8-compressed weights. The stream below is W [2, 16]
// with D = 8: header codes (2, 1, 0, 0) in bytes 10, 0; bodies 0, 1 (subset
// 0: value 0 = 1) and -128 (subset 1: value 7 = -1); row 1 is all zero. So
// q = [[1, 0, ..., 0, -1], [0, ...]] and W = q * [0.5, 2.0].

// `spgc8`: the stream and scales are passed as they are, with the per-row
// body index built at compile time (row 0's bodies: 3 bytes, row 1: none),
// then batch 8 (two leading dimensions), in 16, out 2, D 8, adjacent groups.
// CHECK: func.func private @sparsenn_rt_linear_spgc8_f32(memref<?xf32>, memref<?xf32>, memref<?xf32>, memref<?xi8>, memref<?xf32>, memref<?xi32>, i64, i64, i64, i64, i64) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @fused
// CHECK-NOT: sparsenn.
// CHECK-DAG: %[[STREAM:.*]] = arith.constant dense<[10, 0, 0, 1, -128]> : tensor<5xi8>
// CHECK-DAG: %[[SCALES:.*]] = arith.constant dense<[5.000000e-01, 2.000000e+00]> : tensor<2xf32>
// CHECK-DAG: %[[INDEX:.*]] = arith.constant dense<[0, 3, 3]> : tensor<3xi32>
// CHECK-DAG: %[[BATCH:.*]] = arith.constant 8 : i64
// CHECK-DAG: %[[IN:.*]] = arith.constant 16 : i64
// CHECK-DAG: %[[OUT:.*]] = arith.constant 2 : i64
// CHECK-DAG: %[[IL:.*]] = arith.constant 0 : i64
// CHECK: call @sparsenn_rt_linear_spgc8_f32(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[BATCH]], %[[IN]], %[[OUT]], %{{.*}}, %[[IL]])
func.func @fused(%x: tensor<2x4x16xf32>, %b: tensor<2xf32>) -> tensor<2x4x2xf32> {
  %c = sparsenn.compressed_constant dense<[10, 0, 0, 1, -128]> : tensor<5xi8>, scales dense<[0.5, 2.0]> : tensor<2xf32> : !sparsenn.spgc8<2x16xi8>
  %y = sparsenn.linear %x, %c, %b {kernel = #sparsenn.kernel<spgc8>} : tensor<2x4x16xf32>, !sparsenn.spgc8<2x16xi8>, tensor<2xf32> -> tensor<2x4x2xf32>
  return %y : tensor<2x4x2xf32>
}

// -----

// Interleaved groups are flagged to the kernel (D = 8, interleave 1).
// CHECK-LABEL: func.func @interleaved
// CHECK: %[[D:.*]] = arith.constant 8 : i64
// CHECK-NEXT: %[[IL:.*]] = arith.constant 1 : i64
// CHECK-NEXT: call @sparsenn_rt_linear_spgc8_f32({{.*}}, %[[D]], %[[IL]])
func.func @interleaved(%x: tensor<1x16xf32>) -> tensor<1x2xf32> {
  %c = sparsenn.compressed_constant dense<[10, 0, 0, 1, -128]> : tensor<5xi8>, scales dense<[0.5, 2.0]> : tensor<2xf32> : !sparsenn.spgc8<2x16xi8, interleaved>
  %y = sparsenn.linear %x, %c {kernel = #sparsenn.kernel<spgc8>} : tensor<1x16xf32>, !sparsenn.spgc8<2x16xi8, interleaved> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// Any other kernel: decoded at load (compile) time, dequantised and packed
// (ELL: values [0.5, -0.5] at columns [0, 15]; row 1 is padding).
// CHECK-LABEL: func.func @decoded
// CHECK-NOT: sparsenn_rt_linear_spgc8_f32
// CHECK-DAG: arith.constant dense<[5.000000e-01, -5.000000e-01, 0.000000e+00, 0.000000e+00]> : tensor<4xf32>
// CHECK-DAG: arith.constant dense<[0, 15, 0, 0]> : tensor<4xi16>
// CHECK: call @sparsenn_rt_linear_f32(
func.func @decoded(%x: tensor<1x16xf32>) -> tensor<1x2xf32> {
  %c = sparsenn.compressed_constant dense<[10, 0, 0, 1, -128]> : tensor<5xi8>, scales dense<[0.5, 2.0]> : tensor<2xf32> : !sparsenn.spgc8<2x16xi8>
  %y = sparsenn.linear %x, %c {kernel = #sparsenn.kernel<ell>} : tensor<1x16xf32>, !sparsenn.spgc8<2x16xi8> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// `spgc8` on weights that are not compressed has nothing to run on: the
// generic lowering.
// CHECK-LABEL: func.func @not_compressed
// CHECK-NOT: call
// CHECK: linalg.generic
func.func @not_compressed(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 0.0, 2.0, 0.0], [0.0, 3.0, 0.0, 4.0]]> : tensor<2x4xf32>
  %y = sparsenn.linear %x, %w {kernel = #sparsenn.kernel<spgc8>} : tensor<1x4xf32>, tensor<2x4xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
