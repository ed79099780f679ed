// RUN: sparse-opt %s --sparsenn-select-kernels | FileCheck %s
// RUN: sparse-opt %s --sparsenn-select-kernels=force=ell | FileCheck %s --check-prefix=FORCE
// RUN: not sparse-opt %s --sparsenn-select-kernels=force=csr 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: sparsenn-select-kernels: force must be auto, dense, ell, block16 or sparse_sparse, got 'csr'

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
