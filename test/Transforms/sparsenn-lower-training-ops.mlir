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

// Gumbel pruner over 1x16 groups (FIG. 7d): r = |w - mu| in f64, zero-padded
// to 3x32 for the reduction only, R = max over each group; the Gumbel
// statistics of R (two reductions over the 3x2 groups); each coefficient
// compares its group's R with tau (nearest-neighbour expansion).
// CHECK:       #[[GGROUP:.+]] = affine_map<(d0, d1) -> (d0, d1 floordiv 16)>
// CHECK-LABEL: func.func @gumbel_groups
// CHECK:         %[[C:.+]] = linalg.generic {{.*}} ins(%arg0 : tensor<3x20xf32>) outs(%{{.+}} : tensor<3x20xf64>)
// CHECK:         tensor.pad %[[C]] low[0, 0] high[0, 12]
// CHECK:         tensor.expand_shape {{.*}} into tensor<3x1x2x16xf64>
// CHECK:         %[[R:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction", "parallel", "reduction"]{{.*}} outs(%{{.+}} : tensor<3x2xf64>)
// CHECK:           arith.maximumf
// CHECK-COUNT-2: ins(%[[R]] : tensor<3x2xf64>) outs(%{{.+}} : tensor<f64>)
// CHECK:         math.log
// CHECK:         math.log
// CHECK:         linalg.generic {indexing_maps = [#{{.+}}, #[[GGROUP]], #{{.+}}, #{{.+}}], iterator_types = ["parallel", "parallel"]} ins(%arg0, %[[R]] : tensor<3x20xf32>, tensor<3x2xf64>)
// CHECK:           arith.cmpf ogt
// CHECK-NOT:     sparsenn.prune
func.func @gumbel_groups(%w: tensor<3x20xf32>, %s: tensor<f32>) -> (tensor<3x20xf32>, tensor<3x20xi1>) {
  %p, %m = sparsenn.prune <gumbel> %w, %s {granularity = #sparsenn.granularity<group>, group_shape = array<i64: 1, 16>} : tensor<3x20xf32>, tensor<f32> -> tensor<3x20xf32>, tensor<3x20xi1>
  return %p, %m : tensor<3x20xf32>, tensor<3x20xi1>
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

// -----

// Quantile pruner with a learned sparsity (FIG. 7a), elements: prune
// k = round_half_even(s^phi * N) coefficients, no sort. The k-th smallest
// |w| by bisection over the 31 magnitude bits of the f32 pattern (sign bit
// cleared; one counting reduction per bit), the ties at it split by a
// bisection over the 5 bits of the flat index (32 elements) unless they are
// all pruned; one element-wise generic makes both results.
// CHECK-LABEL: func.func @quantile
// CHECK:         math.roundeven
// CHECK:         %[[K:.+]] = arith.fptosi %{{.+}} : f64 to i64
// CHECK:         arith.constant 31 : index
// CHECK:         %[[T:.+]]:2 = scf.for
// CHECK:           linalg.generic {{.*}}iterator_types = ["reduction", "reduction"]{{.*}} ins(%arg0 : tensor<4x8xf32>) outs(%{{.+}} : tensor<i64>)
// CHECK:             arith.bitcast %{{.+}} : f32 to i32
// CHECK:             arith.andi %{{.+}}, %{{.+}} : i32
// CHECK:             arith.cmpi slt
// CHECK:           arith.cmpi slt, %{{.+}}, %[[K]] : i64
// CHECK:           scf.yield
// CHECK:         arith.cmpi sle, %{{.+}}, %[[T]]#0 : i64
// CHECK:         %[[J:.+]] = scf.if
// CHECK:         } else {
// CHECK:           arith.subi %[[K]], %[[T]]#1 : i64
// CHECK:           arith.constant 5 : index
// CHECK:           scf.for
// CHECK:             linalg.index 0
// CHECK:             linalg.index 1
// CHECK:         %[[R:.+]]:2 = linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]{{.*}} ins(%arg0, %arg0 : tensor<4x8xf32>, tensor<4x8xf32>)
// CHECK:           arith.cmpi sle, %{{.+}}, %[[J]] : i64
// CHECK:           linalg.yield %{{.+}}, %{{.+}} : f32, i1
// CHECK:         return %[[R]]#0, %[[R]]#1
// CHECK-NOT:     sparsenn.prune
func.func @quantile(%w: tensor<4x8xf32>, %s: tensor<f32>) -> (tensor<4x8xf32>, tensor<4x8xi1>) {
  %p, %m = sparsenn.prune <quantile> %w, %s : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>, tensor<4x8xi1>
  return %p, %m : tensor<4x8xf32>, tensor<4x8xi1>
}

// -----

// Quantile pruner over 1x16 groups with mean saliency (FIG. 7b): the weights
// are zero-padded to 3x32 for the reduction only, viewed as [3, 1, 2, 16]
// and reduced in f64 (divided by the full group size 16); the bisection runs
// over the 63 magnitude bits of the f64 saliency of the 3x2 groups; the mask
// reads each coefficient's group (nearest-neighbour expansion).
// CHECK:       #[[GROUP:.+]] = affine_map<(d0, d1) -> (d0, d1 floordiv 16)>
// CHECK-LABEL: func.func @quantile_groups
// CHECK:         tensor.pad %arg0 low[0, 0] high[0, 12]
// CHECK:         tensor.expand_shape %{{.+}} {{\[\[}}0, 1], [2, 3]] output_shape [3, 1, 2, 16]
// CHECK:         linalg.generic {{.*}}iterator_types = ["parallel", "reduction", "parallel", "reduction"]{{.*}} outs(%{{.+}} : tensor<3x2xf64>)
// CHECK:           math.absf %{{.+}} : f64
// CHECK:         arith.constant 1.600000e+01 : f64
// CHECK:         arith.constant 6.000000e+00 : f64
// CHECK:         arith.constant 63 : index
// CHECK:         scf.for
// CHECK:           arith.bitcast %{{.+}} : f64 to i64
// CHECK:         linalg.generic {indexing_maps = [#{{.+}}, #[[GROUP]], #{{.+}}, #{{.+}}], iterator_types = ["parallel", "parallel"]} ins(%arg0, %{{.+}} : tensor<3x20xf32>, tensor<3x2xf64>)
// CHECK-NOT:     sparsenn.prune
func.func @quantile_groups(%w: tensor<3x20xf32>, %s: tensor<f32>) -> (tensor<3x20xf32>, tensor<3x20xi1>) {
  %p, %m = sparsenn.prune <quantile> %w, %s {granularity = #sparsenn.granularity<group>, group_shape = array<i64: 1, 16>, reduction = #sparsenn.reduction<mean>} : tensor<3x20xf32>, tensor<f32> -> tensor<3x20xf32>, tensor<3x20xi1>
  return %p, %m : tensor<3x20xf32>, tensor<3x20xi1>
}

// -----

// batch_norm, training: per-channel mean and population variance of the
// batch in f64 (two reductions over every axis but 1), 1/sqrt(var + eps),
// then y = (x - m) * r * gamma + beta in one generic.
// CHECK-LABEL: func.func @batch_norm_training
// CHECK: linalg.generic {{.*}}iterator_types = ["reduction", "parallel", "reduction", "reduction"]} ins(%arg0 : tensor<2x3x4x4xf32>) outs(%{{.*}} : tensor<3xf64>)
// CHECK: linalg.generic {{.*}}iterator_types = ["reduction", "parallel", "reduction", "reduction"]} ins(%arg0, %{{.*}} : tensor<2x3x4x4xf32>, tensor<3xf64>) outs(%{{.*}} : tensor<3xf64>)
// CHECK: math.sqrt
// CHECK: linalg.generic {{.*}}ins(%arg0, %{{.*}}, %{{.*}}, %arg1, %arg2 : tensor<2x3x4x4xf32>, tensor<3xf64>, tensor<3xf64>, tensor<3xf32>, tensor<3xf32>) outs(%{{.*}} : tensor<2x3x4x4xf32>)
// CHECK-NOT: sparsenn.batch_norm
func.func @batch_norm_training(%x: tensor<2x3x4x4xf32>, %g: tensor<3xf32>, %b: tensor<3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>) -> tensor<2x3x4x4xf32> {
  %y = sparsenn.batch_norm %x, %g, %b, %m, %v {training} : tensor<2x3x4x4xf32>, tensor<3xf32>
  return %y : tensor<2x3x4x4xf32>
}

// -----

// Inference: the running statistics.
// CHECK-LABEL: func.func @batch_norm_inference
// CHECK: %[[R:.*]] = linalg.generic {{.*}}ins(%arg4 : tensor<3xf32>) outs(%{{.*}} : tensor<3xf64>)
// CHECK: math.sqrt
// CHECK: linalg.generic {{.*}}ins(%arg0, %arg3, %[[R]], %arg1, %arg2 : tensor<5x3xf32>, tensor<3xf32>, tensor<3xf64>, tensor<3xf32>, tensor<3xf32>) outs(%{{.*}} : tensor<5x3xf32>)
func.func @batch_norm_inference(%x: tensor<5x3xf32>, %g: tensor<3xf32>, %b: tensor<3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>) -> tensor<5x3xf32> {
  %y = sparsenn.batch_norm %x, %g, %b, %m, %v : tensor<5x3xf32>, tensor<3xf32>
  return %y : tensor<5x3xf32>
}
