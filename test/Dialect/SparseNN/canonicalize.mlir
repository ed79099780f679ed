// RUN: sparse-opt %s -canonicalize -split-input-file | FileCheck %s

// k >= n with no boosting and no relu: every value wins, k-winners is the
// identity.
// CHECK-LABEL: func.func @kwinners_all_win
// CHECK-SAME: (%[[X:.*]]: tensor<2x8x4x4xf32>
// CHECK-NOT: sparsenn.kwinners
// CHECK: return %[[X]]
func.func @kwinners_all_win(%x: tensor<2x8x4x4xf32>) -> tensor<2x8x4x4xf32> {
  %y = sparsenn.kwinners <local> %x k = 8 : tensor<2x8x4x4xf32> -> tensor<2x8x4x4xf32>
  return %y : tensor<2x8x4x4xf32>
}

// -----

// density 1.0 of a group of 16 is k = 16 = n.
// CHECK-LABEL: func.func @kwinners_full_density
// CHECK-NOT: sparsenn.kwinners
func.func @kwinners_full_density(%x: tensor<2x64xf32>) -> tensor<2x64xf32> {
  %y = sparsenn.kwinners <group> %x density = 1.0 group_size = 16 break_ties : tensor<2x64xf32> -> tensor<2x64xf32>
  return %y : tensor<2x64xf32>
}

// -----

// With relu, k >= n still zeroes negative values: no fold.
// CHECK-LABEL: func.func @kwinners_relu_kept
// CHECK: sparsenn.kwinners
func.func @kwinners_relu_kept(%x: tensor<2x64xf32>) -> tensor<2x64xf32> {
  %y = sparsenn.kwinners <global> %x k = 64 relu : tensor<2x64xf32> -> tensor<2x64xf32>
  return %y : tensor<2x64xf32>
}

// -----

// With boosting the fold does not apply (kept conservative).
// CHECK-LABEL: func.func @kwinners_boost_kept
// CHECK: sparsenn.kwinners
func.func @kwinners_boost_kept(%x: tensor<2x64xf32>, %d: tensor<64xf32>) -> tensor<2x64xf32> {
  %y = sparsenn.kwinners <global> %x duty_cycle %d k = 64 boost = 1.0 : tensor<2x64xf32>, tensor<64xf32> -> tensor<2x64xf32>
  return %y : tensor<2x64xf32>
}

// -----

// k < n: no fold.
// CHECK-LABEL: func.func @kwinners_kept
// CHECK: sparsenn.kwinners <global> %{{.*}} k = 63
func.func @kwinners_kept(%x: tensor<2x64xf32>) -> tensor<2x64xf32> {
  %y = sparsenn.kwinners <global> %x k = 63 : tensor<2x64xf32> -> tensor<2x64xf32>
  return %y : tensor<2x64xf32>
}

// -----

// Sparsity 0 (normalisation none): nothing is pruned, the mask is all true.
// CHECK-LABEL: func.func @prune_zero
// CHECK-SAME: (%[[W:.*]]: tensor<8x16xf32>)
// CHECK: %[[M:.*]] = arith.constant dense<true> : tensor<8x16xi1>
// CHECK-NOT: sparsenn.prune
// CHECK: return %[[W]], %[[M]]
func.func @prune_zero(%w: tensor<8x16xf32>) -> (tensor<8x16xf32>, tensor<8x16xi1>) {
  %s = arith.constant dense<0.0> : tensor<f32>
  %p, %m = sparsenn.prune <quantile> %w, %s {normalization = #sparsenn.normalization<none>} : tensor<8x16xf32>, tensor<f32> -> tensor<8x16xf32>, tensor<8x16xi1>
  return %p, %m : tensor<8x16xf32>, tensor<8x16xi1>
}

// -----

// hard_sigmoid(-3) = 0: the Gumbel threshold is -inf and every group stays.
// CHECK-LABEL: func.func @prune_zero_gumbel
// CHECK-NOT: sparsenn.prune
func.func @prune_zero_gumbel(%w: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %s = arith.constant dense<-3.0> : tensor<f32>
  %p, %m = sparsenn.prune <gumbel> %w, %s {normalization = #sparsenn.normalization<hard_sigmoid>, granularity = #sparsenn.granularity<group>, group_shape = array<i64: 1, 16>} : tensor<8x16xf32>, tensor<f32> -> tensor<8x16xf32>, tensor<8x16xi1>
  return %p : tensor<8x16xf32>
}

// -----

// sigmoid(0) = 0.5: half is pruned, no fold. Gaussian never folds.
// CHECK-LABEL: func.func @prune_kept
// CHECK: sparsenn.prune <quantile>
// CHECK: sparsenn.prune <gaussian>
func.func @prune_kept(%w: tensor<8x16xf32>) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %s = arith.constant dense<0.0> : tensor<f32>
  %p, %m = sparsenn.prune <quantile> %w, %s : tensor<8x16xf32>, tensor<f32> -> tensor<8x16xf32>, tensor<8x16xi1>
  %g, %gm = sparsenn.prune <gaussian> %w, %s {normalization = #sparsenn.normalization<none>} : tensor<8x16xf32>, tensor<f32> -> tensor<8x16xf32>, tensor<8x16xi1>
  return %p, %g : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// CHECK-LABEL: func.func @apply_mask_folds
// CHECK-SAME: (%[[W:.*]]: tensor<4x4xf32>)
// CHECK-DAG: %[[Z:.*]] = arith.constant dense<0.000000e+00> : tensor<4x4xf32>
// CHECK: return %[[W]], %[[Z]]
func.func @apply_mask_folds(%w: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  %t = arith.constant dense<true> : tensor<4x4xi1>
  %f = arith.constant dense<false> : tensor<4x4xi1>
  %a = sparsenn.apply_mask %w, %t : tensor<4x4xf32>, tensor<4x4xi1>
  %b = sparsenn.apply_mask %w, %f : tensor<4x4xf32>, tensor<4x4xi1>
  return %a, %b : tensor<4x4xf32>, tensor<4x4xf32>
}

// -----

// Decompress of a constant folds to a dense constant. The stream holds one
// 2x16 i8 weight, adjacent layout: row 0 = (1, 0, ..., 0, -1 at 15), row 1 =
// all zero. Folded values: 1 -> u = 2 (b = 2), -1 -> u = 1 (b = 1).
// Headers (3 bits each, LSB first): codes 2, 1, 0, 0 -> byte0 = 0b00_001_010
// = 10, byte1 = 0. Bodies: subset 0 planes (bit0 of u: none -> 0; bit1 of u:
// value 0 -> 0x01), subset 1 plane 0 (value 7 has u = 1 -> 0x80 = -128).
// CHECK-LABEL: func.func @decompress_folds
// CHECK-NOT: sparsenn.decompress
// CHECK: arith.constant dense<{{\[}}[5.000000e-01, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, -5.000000e-01], [0.000000e+00, {{.*}}]]> : tensor<2x16xf32>
// CHECK: arith.constant dense<{{\[}}[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]> : tensor<2x16xi8>
func.func @decompress_folds() -> (tensor<2x16xf32>, tensor<2x16xi8>) {
  %c = sparsenn.compressed_constant dense<[10, 0, 0, 1, -128]> : tensor<5xi8>, scales dense<[0.5, 2.0]> : tensor<2xf32> : !sparsenn.spgc8<2x16xi8>
  %w = sparsenn.decompress %c : !sparsenn.spgc8<2x16xi8> -> tensor<2x16xf32>
  %q = sparsenn.decompress %c : !sparsenn.spgc8<2x16xi8> -> tensor<2x16xi8>
  return %w, %q : tensor<2x16xf32>, tensor<2x16xi8>
}
