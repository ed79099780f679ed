// RUN: sparse-opt %s --sparsenn-select-kernels | FileCheck %s
// RUN: sparse-opt %s --sparsenn-select-kernels=force=ell | FileCheck %s --check-prefix=FORCE
// RUN: sparse-opt %s --sparsenn-select-kernels=spgc8-min-batch=8 | FileCheck %s --check-prefix=MIN8
// RUN: sparse-opt %s --sparsenn-select-kernels=force=spgc8 | FileCheck %s --check-prefix=FUSED
// RUN: not sparse-opt %s --sparsenn-select-kernels=force=csr 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: for the --force option: Cannot find option named 'csr'!

// CHECK-LABEL: func.func @choices
func.func @choices(%x: tensor<1x32xf32>, %wa: tensor<2x32xf32>) -> (tensor<1x2xf32>, tensor<1x2xf32>, tensor<1x2xf32>, tensor<1x2xf32>, tensor<1x2xf32>) {
  // Density 1.0 > 0.5: dense.
  %dense = arith.constant dense<1.0> : tensor<2x32xf32>
  // 2 of 64 non-zero, scattered over blocks: ell.
  %scattered = arith.constant dense<[[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                                     [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0]]> : tensor<2x32xf32>
  // One full 1x16 block of 64 coefficients: density 0.25, blocks full: block16.
  %blocked = arith.constant dense<[[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                                   [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<2x32xf32>
  // CHECK: sparsenn.linear {{.*}} {kernel = #sparsenn.kernel<dense>}
  // FORCE: sparsenn.linear {{.*}} {kernel = #sparsenn.kernel<ell>}
  %a = sparsenn.linear %x, %dense : tensor<1x32xf32>, tensor<2x32xf32> -> tensor<1x2xf32>
  // CHECK: sparsenn.linear {{.*}} {kernel = #sparsenn.kernel<ell>}
  %b = sparsenn.linear %x, %scattered : tensor<1x32xf32>, tensor<2x32xf32> -> tensor<1x2xf32>
  // CHECK: sparsenn.linear {{.*}} {kernel = #sparsenn.kernel<block16>}
  %c = sparsenn.linear %x, %blocked : tensor<1x32xf32>, tensor<2x32xf32> -> tensor<1x2xf32>
  // Input from k-winners at density 3/32 <= 0.2 and sparse weights:
  // sparse_sparse.
  // CHECK: sparsenn.kwinners
  // CHECK: sparsenn.linear {{.*}} {kernel = #sparsenn.kernel<sparse_sparse>}
  %k = sparsenn.kwinners <global> %x k = 3 : tensor<1x32xf32> -> tensor<1x32xf32>
  %d = sparsenn.linear %k, %scattered : tensor<1x32xf32>, tensor<2x32xf32> -> tensor<1x2xf32>
  // Weights that are not constants: no kernel attribute.
  // CHECK: sparsenn.linear %{{.*}}, %{{.*}} : tensor<1x32xf32>, tensor<2x32xf32> -> tensor<1x2xf32>
  %e = sparsenn.linear %x, %wa : tensor<1x32xf32>, tensor<2x32xf32> -> tensor<1x2xf32>
  return %a, %b, %c, %d, %e : tensor<1x2xf32>, tensor<1x2xf32>, tensor<1x2xf32>, tensor<1x2xf32>, tensor<1x2xf32>
}

// A format already chosen stays (without force).
// CHECK-LABEL: func.func @kept
// CHECK: {kernel = #sparsenn.kernel<block16>}
func.func @kept(%x: tensor<1x32xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<1.0> : tensor<2x32xf32>
  %y = sparsenn.linear %x, %w {kernel = #sparsenn.kernel<block16>} : tensor<1x32xf32>, tensor<2x32xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// Compressed weights are measured decoded. %c8: W [2, 16] at D = 8 with
// q = [[1, 0, ..., 0, -1], 0] (2 non-zeros in one 1x16 block: ell once
// decoded); %c16: the same shape at D = 16 with q[0, 0] = -1 (ell too).
// By default they are decoded at load into that format; the fused SPGC8
// kernel is chosen for D = 8, a decoded format of block16 or ell and at
// least spgc8-min-batch samples (default 32, 8 for the MIN8 run);
// docs/performance.md has the measurements behind the default.
// CHECK-LABEL: func.func @compressed
// CHECK: sparsenn.linear {{.*}} {kernel = #sparsenn.kernel<spgc8>} : tensor<64x16xf32>, !sparsenn.spgc8<2x16xi8>
// CHECK: sparsenn.linear {{.*}} {kernel = #sparsenn.kernel<ell>} : tensor<8x16xf32>, !sparsenn.spgc8<2x16xi8>
// CHECK: sparsenn.linear {{.*}} {kernel = #sparsenn.kernel<ell>} : tensor<1x16xf32>, !sparsenn.spgc8<2x16xi8>
// CHECK: sparsenn.linear {{.*}} {kernel = #sparsenn.kernel<ell>} : tensor<64x16xf32>, !sparsenn.spgc8<2x16xi16>
// CHECK: sparsenn.linear {{.*}} {kernel = #sparsenn.kernel<block16>} : tensor<64x16xf32>, tensor<2x16xf32>
// MIN8-LABEL: func.func @compressed
// MIN8: sparsenn.linear {{.*}} {kernel = #sparsenn.kernel<spgc8>} : tensor<64x16xf32>, !sparsenn.spgc8<2x16xi8>
// MIN8: sparsenn.linear {{.*}} {kernel = #sparsenn.kernel<spgc8>} : tensor<8x16xf32>, !sparsenn.spgc8<2x16xi8>
// MIN8: sparsenn.linear {{.*}} {kernel = #sparsenn.kernel<ell>} : tensor<1x16xf32>, !sparsenn.spgc8<2x16xi8>
// force=spgc8: every compressed layer; the others as in auto.
// FUSED-LABEL: func.func @compressed
// FUSED: sparsenn.linear {{.*}} {kernel = #sparsenn.kernel<spgc8>} : tensor<64x16xf32>, !sparsenn.spgc8<2x16xi8>
// FUSED: sparsenn.linear {{.*}} {kernel = #sparsenn.kernel<spgc8>} : tensor<8x16xf32>, !sparsenn.spgc8<2x16xi8>
// FUSED: sparsenn.linear {{.*}} {kernel = #sparsenn.kernel<spgc8>} : tensor<1x16xf32>, !sparsenn.spgc8<2x16xi8>
// FUSED: sparsenn.linear {{.*}} {kernel = #sparsenn.kernel<spgc8>} : tensor<64x16xf32>, !sparsenn.spgc8<2x16xi16>
// FUSED: sparsenn.linear {{.*}} {kernel = #sparsenn.kernel<block16>} : tensor<64x16xf32>, tensor<2x16xf32>
func.func @compressed(%x64: tensor<64x16xf32>, %x8: tensor<8x16xf32>, %x1: tensor<1x16xf32>) -> (tensor<64x2xf32>, tensor<8x2xf32>, tensor<1x2xf32>, tensor<64x2xf32>, tensor<64x2xf32>) {
  %c8 = sparsenn.compressed_constant dense<[10, 0, 0, 1, -128]> : tensor<5xi8>, scales dense<[0.5, 2.0]> : tensor<2xf32> : !sparsenn.spgc8<2x16xi8>
  %c16 = sparsenn.compressed_constant dense<[1, 0, 1]> : tensor<3xi8>, scales dense<[0.5, 2.0]> : tensor<2xf32> : !sparsenn.spgc8<2x16xi16>
  %w = arith.constant dense<[[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
                             [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<2x16xf32>
  %a = sparsenn.linear %x64, %c8 : tensor<64x16xf32>, !sparsenn.spgc8<2x16xi8> -> tensor<64x2xf32>
  %b = sparsenn.linear %x8, %c8 : tensor<8x16xf32>, !sparsenn.spgc8<2x16xi8> -> tensor<8x2xf32>
  %c = sparsenn.linear %x1, %c8 : tensor<1x16xf32>, !sparsenn.spgc8<2x16xi8> -> tensor<1x2xf32>
  %d = sparsenn.linear %x64, %c16 : tensor<64x16xf32>, !sparsenn.spgc8<2x16xi16> -> tensor<64x2xf32>
  %e = sparsenn.linear %x64, %w : tensor<64x16xf32>, tensor<2x16xf32> -> tensor<64x2xf32>
  return %a, %b, %c, %d, %e : tensor<64x2xf32>, tensor<8x2xf32>, tensor<1x2xf32>, tensor<64x2xf32>, tensor<64x2xf32>
}
