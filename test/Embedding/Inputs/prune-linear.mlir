// Input of the embedding.downstream test (test/Embedding/embedding.sh):
//   my-compiler prune-linear.mlir --sparsenn-prune-weights=sparsity=0.5
// The installed pass, run by a compiler built against the installed tree,
// prunes the 4 smallest of the 8 weights (seed 003 FIG. 7a).
// CHECK-LABEL: func.func @layer
// CHECK: %[[W:.*]] = arith.constant dense<{{\[}}[0.000000e+00, -5.000000e-01, 3.000000e-01, 0.000000e+00], [0.000000e+00, 2.000000e-01, -8.000000e-01, 0.000000e+00]]>
// CHECK-NOT: arith.constant
// CHECK: sparsenn.linear %{{.*}}, %[[W]] {sparsity = #sparsenn.sparsity<density = 5.000000e-01, fan_in = 2>}
//
// The same through --sparsenn-sparsify=sparsity=0.5 (the one-flag pipeline,
// registered by the same entry point), which also picks a kernel.
// SPARSIFY-LABEL: func.func @layer
// SPARSIFY: sparsenn.linear {{.*}}kernel = #sparsenn.kernel<
func.func @layer(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[0.1, -0.5, 0.3, 0.0], [0.2, 0.2, -0.8, 0.05]]> : tensor<2x4xf32>
  %y = sparsenn.linear %x, %w : tensor<1x4xf32>, tensor<2x4xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
