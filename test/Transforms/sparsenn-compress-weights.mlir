// RUN: sparse-opt %s -split-input-file --sparsenn-compress-weights | FileCheck %s
// RUN: sparse-opt %s -split-input-file --sparsenn-compress-weights=decompress -canonicalize | FileCheck %s --check-prefix=ROUNDTRIP
// RUN: sparse-opt %s -split-input-file --sparsenn-compress-weights="bits=16 interleave" | FileCheck %s --check-prefix=D16
// RUN: sparse-opt %s -split-input-file --sparsenn-compress-weights=report=- -o /dev/null | FileCheck %s --check-prefix=REPORT
// RUN: not sparse-opt %s --sparsenn-compress-weights=bits=12 2>&1 | FileCheck %s --check-prefix=BITS
// RUN: not sparse-opt %s --sparsenn-compress-weights=report=/nonexistent/dir/r.txt 2>&1 | FileCheck %s --check-prefix=FILE

// Row 0 quantises to (127, 0, ..., 0, -127) with scale 0.5/127; row 1 is zero
// (scale 0). Folded: 254 and 253 need 8 bits: header codes (7, 7, 0, 0), 3
// bits each, LSB first = bytes 63, 0. Subset 0 body: bit p of 254 for value
// 0 -> planes (0, 1, 1, 1, 1, 1, 1, 1); subset 1: 253 at value 7 -> planes
// (0x80, 0, 0x80 x 6). 18 bytes instead of 32 raw int8.
// CHECK-LABEL: func.func @linear
// CHECK: %[[C:.*]] = sparsenn.compressed_constant dense<[63, 0, 0, 1, 1, 1, 1, 1, 1, 1, -128, 0, -128, -128, -128, -128, -128, -128]> : tensor<18xi8>, scales dense<[0.00393700786, 0.000000e+00]> : tensor<2xf32> : !sparsenn.spgc8<2x16xi8>
// CHECK-NOT: arith.constant
// CHECK: sparsenn.linear %{{.*}}, %[[C]] : tensor<1x16xf32>, !sparsenn.spgc8<2x16xi8> -> tensor<1x2xf32>
// Decompressing folds back to the quantised weights (exact here).
// ROUNDTRIP-LABEL: func.func @linear
// ROUNDTRIP: arith.constant dense<{{\[}}[5.000000e-01, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, -5.000000e-01], [0.000000e+00
// ROUNDTRIP-NOT: sparsenn.decompress
// D = 16: row 0 quantises to (32767, 0, ..., -32767); folded 65534 and 65533
// need 16 bits: 4-bit header codes (15, 15, 0, 0) = bytes 0xFF, 0x00.
// Interleaved subsets are the even then the odd positions: value 0 is
// position 0 of subset 0, value 15 position 7 of subset 1.
// D16-LABEL: func.func @linear
// D16: sparsenn.compressed_constant dense<[-1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -128, 0, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128]> : tensor<34xi8>, scales dense<[1.52592547E-5, 0.000000e+00]> : tensor<2xf32> : !sparsenn.spgc8<2x16xi16, interleaved>
// REPORT: SPGC8 compression, D = 8, adjacent
// REPORT: sparsenn.linear  2x16 128 32 18 1.78x
// BITS: bits must be 8 or 16, got 12
// FILE: cannot open report
func.func @linear(%x: tensor<1x16xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.5],
                             [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<2x16xf32>
  %y = sparsenn.linear %x, %w : tensor<1x16xf32>, tensor<2x16xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// Conv weights: vectors of C_in = 2 at each (o, kh, kw), padded to 16.
// Quantisation is per output channel: filter 0 max 2 -> (64, 127, -127, 32)
// after rounding half away from zero.
// CHECK-LABEL: func.func @conv
// CHECK: sparsenn.compressed_constant {{.*}} : !sparsenn.spgc8<2x2x1x2xi8>
// CHECK: sparsenn.conv2d %{{.*}}, %{{.*}} : tensor<1x2x3x3xf32>, !sparsenn.spgc8<2x2x1x2xi8> -> tensor<1x2x3x2xf32>
// ROUNDTRIP-LABEL: func.func @conv
// ROUNDTRIP: arith.constant dense<{{\[}}{{\[}}{{\[}}[1.00787401, 2.000000e+00]], {{\[}}[-2.000000e+00, 5.039370e-01]]]
// REPORT: sparsenn.conv2d  2x2x1x2 32 8
func.func @conv(%x: tensor<1x2x3x3xf32>) -> tensor<1x2x3x2xf32> {
  %w = arith.constant dense<[[[[1.0, 2.0]], [[-2.0, 0.5]]], [[[0.0, 0.0]], [[0.0, 1.0]]]]> : tensor<2x2x1x2xf32>
  %y = sparsenn.conv2d %x, %w : tensor<1x2x3x3xf32>, tensor<2x2x1x2xf32> -> tensor<1x2x3x2xf32>
  return %y : tensor<1x2x3x2xf32>
}

// -----

// Weights that are not constants stay as they are.
// CHECK-LABEL: func.func @argument
// CHECK-NOT: sparsenn.compressed_constant
func.func @argument(%x: tensor<1x16xf32>, %w: tensor<2x16xf32>) -> tensor<1x2xf32> {
  %y = sparsenn.linear %x, %w : tensor<1x16xf32>, tensor<2x16xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
