// RUN: sparse-opt %s --sparsenn-lower-training-ops --split-input-file | FileCheck %s

// Gaussian pruner with a learned sparsity (FIG. 7c, eq. 3-4): the mean and
// the variance are reductions in f64, the threshold uses erfinv of the
// sigmoid-normalised parameter, one element-wise generic makes both results.
// CHECK-LABEL: func.func @gaussian
// CHECK:         tensor.extract %arg1[] : tensor<f32>
// CHECK:         math.exp
// CHECK-COUNT-2: iterator_types = ["reduction", "reduction"]
// CHECK:         math.log
// CHECK:         %[[R:.+]]:2 = linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]{{.*}} ins(%arg0 : tensor<4x8xf32>)
// CHECK:           arith.cmpf ogt
// CHECK:           linalg.yield %{{.+}}, %{{.+}} : f32, i1
// CHECK:         return %[[R]]#0, %[[R]]#1
// CHECK-NOT:     sparsenn.prune
func.func @gaussian(%w: tensor<4x8xf32>, %s: tensor<f32>) -> (tensor<4x8xf32>, tensor<4x8xi1>) {
  %p, %m = sparsenn.prune <gaussian> %w, %s : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>, tensor<4x8xi1>
  return %p, %m : tensor<4x8xf32>, tensor<4x8xi1>
}

// -----

// Gumbel pruner, element granularity (FIG. 7d): four reductions (statistics
// of w, then of |w - mu|), log(log(1/s)).
// CHECK-LABEL: func.func @gumbel
// CHECK-COUNT-4: iterator_types = ["reduction", "reduction", "reduction", "reduction"]
// CHECK:         math.log
// CHECK:         math.log
// CHECK:         linalg.generic
// CHECK-NOT:     sparsenn.prune
func.func @gumbel(%w: tensor<2x3x3x3xf32>, %s: tensor<f32>) -> (tensor<2x3x3x3xf32>, tensor<2x3x3x3xi1>) {
  %p, %m = sparsenn.prune <gumbel> %w, %s {normalization = #sparsenn.normalization<none>} : tensor<2x3x3x3xf32>, tensor<f32> -> tensor<2x3x3x3xf32>, tensor<2x3x3x3xi1>
  return %p, %m : tensor<2x3x3x3xf32>, tensor<2x3x3x3xi1>
}

// -----

// Sparsity loss (eq. 13, 15 with theta): scalars in f64, then a·L_ce + b on
// the cross-entropy's elements.
// CHECK-LABEL: func.func @loss
// CHECK:         arith.constant 1.000000e+02 : f64
// CHECK:         arith.constant 3.000000e+02 : f64
// CHECK:         arith.constant 4.000000e+02 : f64
// CHECK:         arith.constant 9.000000e-01 : f64
// CHECK:         linalg.generic {{.*}}ins(%arg0 : tensor<4xf32>)
// CHECK:           arith.truncf
// CHECK-NOT:     sparsenn.sparsity_loss
func.func @loss(%ce: tensor<4xf32>, %s0: tensor<f32>, %s1: tensor<f32>) -> tensor<4xf32> {
  %l = sparsenn.sparsity_loss %ce, %s0, %s1 {alpha = 0.3 : f64, theta = 0.9 : f64, counts = array<i64: 100, 300>} : tensor<4xf32>, tensor<f32>, tensor<f32> -> tensor<4xf32>
  return %l : tensor<4xf32>
}
