// RUN: sparse-opt %s -split-input-file --sparsenn-prune-weights="spgc8-aligned sparsity=0.5" | FileCheck %s
// Pruning then compression: each pruned 1x16 group is two all-zero subsets
// (3-bit headers, no body); decompressing gives the pruned, quantised weights.
// RUN: sparse-opt %s -split-input-file --sparsenn-prune-weights="spgc8-aligned sparsity=0.5" --sparsenn-compress-weights=decompress -canonicalize | FileCheck %s --check-prefix=PIPE
// RUN: sparse-opt %s -split-input-file --sparsenn-prune-weights="spgc8-aligned sparsity=0.5" --sparsenn-compress-weights=report=- -o /dev/null | FileCheck %s --check-prefix=REPORT
// Linear: 8 subsets (3 bytes of headers); kept: row 0's remainder group (4
// values 127 -> b = 8: 8 bytes) and row 1's full group (16 values 127: 2
// subsets of 8 bytes): 3 + 8 + 16 = 27 bytes.
// REPORT: sparsenn.linear  2x20 160 40 27 1.48x
// PIPE-LABEL: func.func @linear
// PIPE: arith.constant dense<{{\[}}[0.000000e+00, {{.*}}, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00], [5.000000e-01, {{.*}}, 5.000000e-01, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00]]>
// PIPE-NOT: sparsenn.decompress
// PIPE-LABEL: func.func @conv
// PIPE: arith.constant dense<{{\[}}{{\[}}{{\[}}[0.992125988, 0.000000e+00]], {{\[}}[2.00787401, 0.000000e+00]], {{\[}}[3.000000e+00, 0.000000e+00]]], {{\[}}{{\[}}[0.000000e+00, 5.000000e+00]], {{\[}}[0.000000e+00, 4.01574802]], {{\[}}[0.000000e+00, 2.99212599]]]]>

// The SPGC8-aligned preset: 1x16 groups along the input-channel axis. Rows
// of 20 have a full group and a remainder group of 4 (zero-padded for the
// reduction). Group maxima: (0.01, 1.0; 0.5, 0.02): the two smallest go, each
// pruned group of 16 is two all-zero SPGC8 subsets.
// CHECK-LABEL: func.func @linear
// CHECK: arith.constant dense<{{\[}}[0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00], [5.000000e-01, 5.000000e-01, 5.000000e-01, 5.000000e-01, 5.000000e-01, 5.000000e-01, 5.000000e-01, 5.000000e-01, 5.000000e-01, 5.000000e-01, 5.000000e-01, 5.000000e-01, 5.000000e-01, 5.000000e-01, 5.000000e-01, 5.000000e-01, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00]]>
// CHECK: sparsity = #sparsenn.sparsity<density = 5.000000e-01>
func.func @linear(%x: tensor<1x20xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 1.0, 1.0, 1.0, 1.0],
                             [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.02, 0.02, 0.02, 0.02]]> : tensor<2x20xf32>
  %y = sparsenn.linear %x, %w : tensor<1x20xf32>, tensor<2x20xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// Conv weights [2, 3, 1, 2]: groups are the 3 input channels at each
// (o, kh, kw) (1x16x1x1, remainder-padded). Maxima: o0: (3, 0.1), o1: (0.2,
// 5): the two smallest, (o0, kw1) and (o1, kw0), go.
// CHECK-LABEL: func.func @conv
// CHECK: arith.constant dense<{{\[}}{{\[}}{{\[}}[1.000000e+00, 0.000000e+00]], {{\[}}[2.000000e+00, 0.000000e+00]], {{\[}}[3.000000e+00, 0.000000e+00]]], {{\[}}{{\[}}[0.000000e+00, 5.000000e+00]], {{\[}}[0.000000e+00, 4.000000e+00]], {{\[}}[0.000000e+00, 3.000000e+00]]]]>
func.func @conv(%x: tensor<1x3x4x4xf32>) -> tensor<1x2x4x3xf32> {
  %w = arith.constant dense<[[[[1.0, 0.1]], [[2.0, 0.05]], [[3.0, 0.1]]], [[[0.2, 5.0]], [[0.1, 4.0]], [[0.2, 3.0]]]]> : tensor<2x3x1x2xf32>
  %y = sparsenn.conv2d %x, %w : tensor<1x3x4x4xf32>, tensor<2x3x1x2xf32> -> tensor<1x2x4x3xf32>
  return %y : tensor<1x2x4x3xf32>
}
