// RUN: %my-compiler %s --sparsenn-generate-train-step="function=net lr=0.5 momentum=0.9" | FileCheck %s

// The generated SGD step (US 2025/0252312 A1 [0053]-[0067]) differentiates
// through the host's ops: their adjoints come from the host's
// DifferentiableOpInterface models.

// CHECK-LABEL: func.func @net_train_step(
// CHECK-SAME: %[[X:.*]]: tensor<2x4xf32>, %[[W1:.*]]: tensor<3x4xf32>, %[[B1:.*]]: tensor<3xf32>, %[[W2:.*]]: tensor<2x3xf32>, %[[T:.*]]: tensor<2x2xf32>
// The forward pass, cloned.
// CHECK: %[[H:.*]] = host.dense %[[X]], %[[W1]], %[[B1]]
// CHECK: %[[A:.*]] = host.leaky_relu %[[H]] alpha 2.000000e-01
// CHECK: sparsenn.linear %[[A]], %[[W2]]
// The leaky relu's adjoint: dY where x > 0, 0.2·dY elsewhere.
// CHECK: arith.constant 2.000000e-01 : f32
// CHECK: arith.cmpf ogt
// CHECK: arith.select
// host.dense's adjoint: dX = dZ·W1 and dW1 = dZᵀ·X as linalg.matmuls (dZ
// read through a transposing map, no transpose written out), which lower to
// the runtime's GEMM; db1 = Σ_b dZ.
// CHECK: linalg.matmul ins(%{{.*}}, %[[W1]] : tensor<2x3xf32>, tensor<3x4xf32>) outs(%{{.*}} : tensor<2x4xf32>)
// CHECK: linalg.matmul indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}] ins(%{{.*}}, %[[X]] : tensor<2x3xf32>, tensor<2x4xf32>) outs(%{{.*}} : tensor<3x4xf32>)
// CHECK: return
func.func @net(%x: tensor<2x4xf32>,
               %w1: tensor<3x4xf32> {sparsenn.trainable},
               %b1: tensor<3xf32> {sparsenn.trainable},
               %w2: tensor<2x3xf32> {sparsenn.trainable}) -> tensor<2x2xf32> {
  %h = host.dense %x, %w1, %b1 : tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32> -> tensor<2x3xf32>
  %a = host.leaky_relu %h alpha 0.2 : tensor<2x3xf32>
  %y = sparsenn.linear %a, %w2 : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}
