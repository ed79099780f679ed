// RUN: sparse-opt %s --sparsenn-generate-train-step="lr=0.5 momentum=0.9" | FileCheck %s

// The step takes forward's arguments, the targets and one momentum per
// trainable argument; it returns the loss, the new weights, the new momenta
// and the new duty cycles. The forward pass is cloned, the loss is a mean
// softmax cross-entropy, the backward pass contracts over the batch.
// CHECK-LABEL: func.func @forward(
// CHECK-LABEL: func.func @forward_train_step(
// CHECK-SAME:    %[[X:.+]]: tensor<2x3xf32>, %[[W:.+]]: tensor<4x3xf32>, %[[D:.+]]: tensor<4xf32>, %[[Y:.+]]: tensor<2x4xf32>, %[[V:.+]]: tensor<4x3xf32>)
// CHECK-SAME:    -> (tensor<f32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<4xf32>)
// CHECK:         %[[H:.+]] = sparsenn.linear %[[X]], %[[W]] {sparsity = #sparsenn.sparsity<density = 5.000000e-01>}
// CHECK:         %[[K:.+]] = sparsenn.kwinners <global> %[[H]] duty_cycle %[[D]]
// CHECK:         math.exp
// CHECK:         math.log
// CHECK:         arith.cmpf une
// CHECK:         %[[ND:.+]] = sparsenn.duty_cycle_update %[[D]], %[[K]] alpha = 1.000000e-03
// CHECK:         return %{{.+}}, %{{.+}}, %{{.+}}, %[[ND]] : tensor<f32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<4xf32>
func.func @forward(%x: tensor<2x3xf32>, %w: tensor<4x3xf32> {sparsenn.trainable}, %d: tensor<4xf32> {sparsenn.duty_cycle}) -> tensor<2x4xf32> {
  %h = sparsenn.linear %x, %w {sparsity = #sparsenn.sparsity<density = 0.5>} : tensor<2x3xf32>, tensor<4x3xf32> -> tensor<2x4xf32>
  %k = sparsenn.kwinners <global> %h duty_cycle %d k = 2 boost = 1.0 relu : tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xf32>
  return %k : tensor<2x4xf32>
}

// Quantile pruner with a learnable s: the weights get the gradient where the
// mask keeps them; s only through the sparsity loss (alpha given), whose
// factor scales the logits' gradient.
// RUN: sparse-opt %s --sparsenn-generate-train-step="function=pruned alpha=0.5 theta=0.9" | FileCheck %s --check-prefix=PRUNE
// PRUNE-LABEL: func.func @pruned_train_step(
// PRUNE:         %[[P:.+]], %[[M:.+]] = sparsenn.prune <quantile>
// PRUNE:         arith.constant 9.000000e-01 : f64
// PRUNE:         math.log
// PRUNE:         tensor.from_elements
// PRUNE:         linalg.generic {{.*}}ins(%{{.+}}, %[[M]] : tensor<4x3xf32>, tensor<4x3xi1>)
// PRUNE:           arith.select
func.func @pruned(%x: tensor<2x3xf32>, %w: tensor<4x3xf32> {sparsenn.trainable}, %s: tensor<f32> {sparsenn.trainable}) -> tensor<2x4xf32> {
  %p, %m = sparsenn.prune <quantile> %w, %s : tensor<4x3xf32>, tensor<f32> -> tensor<4x3xf32>, tensor<4x3xi1>
  %h = sparsenn.linear %x, %p : tensor<2x3xf32>, tensor<4x3xf32> -> tensor<2x4xf32>
  return %h : tensor<2x4xf32>
}

// Gumbel pruner with a learnable s (FIG. 7d, eq. 7-10): the statistics of
// r = |w - mu| (mean, population std), tau = m - beta*(gamma +
// log(log(1/s^phi))); the weights get the straight-through gradient plus the
// relaxation's term: sigma' of the relaxation once per weight (the one
// math.exp per weight), both sums over it in one generic, then one generic on
// the incoming gradient, w, the mask and sigma'; s the gradient through tau,
// then SGD.
// RUN: sparse-opt %s --sparsenn-generate-train-step="function=gumbel lr=1.0 momentum=0.0" | FileCheck %s --check-prefix=GUMBEL
// GUMBEL-LABEL: func.func @gumbel_train_step(
// GUMBEL-SAME:    -> (tensor<f32>, tensor<4x3xf32>, tensor<f32>, tensor<4x3xf32>, tensor<f32>)
// GUMBEL:         %[[P:.+]], %[[M:.+]] = sparsenn.prune <gumbel>
// GUMBEL:         math.absf
// GUMBEL:         math.sqrt
// GUMBEL:         %[[L:.+]] = math.log
// GUMBEL:         math.log %[[L]] : f64
// GUMBEL:         %[[SIG:.+]] = linalg.generic {{.*}}ins(%arg1 : tensor<4x3xf32>)
// GUMBEL:           math.exp
// GUMBEL:         linalg.generic {{.*}}iterator_types = ["reduction", "reduction"]} ins(%{{.+}}, %arg1, %[[SIG]] : tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>) outs(%{{.+}}, %{{.+}} : tensor<f64>, tensor<f64>)
// GUMBEL-NOT:       math.exp
// GUMBEL:         linalg.generic {{.*}}ins(%{{.+}}, %arg1, %[[M]], %[[SIG]] : tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xi1>, tensor<4x3xf32>)
// GUMBEL:           arith.select
// GUMBEL:         %[[DS:.+]] = tensor.from_elements %{{.+}} : tensor<f32>
// GUMBEL:         linalg.generic {{.*}}ins(%arg5, %[[DS]], %arg2 : tensor<f32>, tensor<f32>, tensor<f32>)
// GUMBEL:         return
func.func @gumbel(%x: tensor<2x3xf32>, %w: tensor<4x3xf32> {sparsenn.trainable}, %s: tensor<f32> {sparsenn.trainable}) -> tensor<2x4xf32> {
  %p, %m = sparsenn.prune <gumbel> %w, %s : tensor<4x3xf32>, tensor<f32> -> tensor<4x3xf32>, tensor<4x3xi1>
  %h = sparsenn.linear %x, %p : tensor<2x3xf32>, tensor<4x3xf32> -> tensor<2x4xf32>
  return %h : tensor<2x4xf32>
}

// Gumbel pruner over 1x16 groups (zero-padded 4x20 -> 4x32): R = max of
// |w - mu| per group; the incoming gradient times w summed per group
// (G_g), dL/dR per group, shared among each group's maxima (the ties
// counted per group), then to w through |w - mu| and mu; s through tau.
// RUN: sparse-opt %s --sparsenn-generate-train-step="function=gumbel_groups lr=1.0 momentum=0.0" | FileCheck %s --check-prefix=GGROUPS
// GGROUPS:       #[[TOGROUP:.+]] = affine_map<(d0, d1) -> (d0, d1 floordiv 16)>
// GGROUPS-LABEL: func.func @gumbel_groups_train_step(
// GGROUPS:         %[[P:.+]], %[[M:.+]] = sparsenn.prune <gumbel>
// GGROUPS:         %[[C:.+]] = linalg.generic {{.*}} ins(%arg1 : tensor<4x20xf32>) outs(%{{.+}} : tensor<4x20xf64>)
// GGROUPS:         tensor.pad %[[C]] low[0, 0] high[0, 12]
// GGROUPS:         %[[R:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction", "parallel", "reduction"]{{.*}} outs(%{{.+}} : tensor<4x2xf64>)
// GGROUPS:         %[[GW:.+]] = linalg.generic {{.*}} ins(%{{.+}}, %arg1 : tensor<4x20xf32>, tensor<4x20xf32>) outs(%{{.+}} : tensor<4x20xf64>)
// GGROUPS:         tensor.pad %[[GW]] low[0, 0] high[0, 12]
// GGROUPS:         %[[HIT:.+]] = linalg.generic {indexing_maps = [#{{.+}}, #[[TOGROUP]], #{{.+}}]{{.*}} ins(%[[C]], %[[R]] : tensor<4x20xf64>, tensor<4x2xf64>)
// GGROUPS:           arith.cmpf oeq
// GGROUPS:         tensor.pad %[[HIT]] low[0, 0] high[0, 12]
// GGROUPS:         linalg.generic {indexing_maps = [#{{.+}}, #[[TOGROUP]], #[[TOGROUP]], #{{.+}}]{{.*}} ins(%[[HIT]], %{{.+}}, %{{.+}} : tensor<4x20xf64>, tensor<4x2xf64>, tensor<4x2xf64>)
// GGROUPS:         linalg.generic {{.*}}ins(%{{.+}}, %{{.+}}, %[[M]] : tensor<4x20xf32>, tensor<4x20xf64>, tensor<4x20xi1>)
// GGROUPS:         tensor.from_elements %{{.+}} : tensor<f32>
// GGROUPS:         return
func.func @gumbel_groups(%x: tensor<2x20xf32>, %w: tensor<4x20xf32> {sparsenn.trainable}, %s: tensor<f32> {sparsenn.trainable}) -> tensor<2x4xf32> {
  %p, %m = sparsenn.prune <gumbel> %w, %s {granularity = #sparsenn.granularity<group>, group_shape = array<i64: 1, 16>} : tensor<4x20xf32>, tensor<f32> -> tensor<4x20xf32>, tensor<4x20xi1>
  %h = sparsenn.linear %x, %p : tensor<2x20xf32>, tensor<4x20xf32> -> tensor<2x4xf32>
  return %h : tensor<2x4xf32>
}

// A training-mode batch_norm: gamma and beta get gradients (two per-channel
// sums of the incoming gradient), its running statistics (arguments marked
// sparsenn.running_stat) come back last, updated with the batch's mean and
// unbiased variance (momentum 0.2: 0.8 * m + 0.2 * mean; M = 4 values per
// channel: 0.8 * v + 0.2 * 4/3 * var).
// RUN: sparse-opt %s --sparsenn-generate-train-step="function=bn lr=1.0 momentum=0.0" | FileCheck %s --check-prefix=BN
// BN-LABEL: func.func @bn_train_step(
// BN-SAME:    -> (tensor<f32>, tensor<3x2xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3x2xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
// BN:         sparsenn.batch_norm %{{.*}}, %arg2, %arg3, %arg4, %arg5 {momentum = 2.000000e-01 : f64, training}
// BN:         arith.constant 2.000000e-01 : f64
// BN:         arith.constant 8.000000e-01 : f64
// BN:         arith.constant 0.26666666666666666 : f64
// BN:         arith.constant 8.000000e-01 : f64
// BN:         return
func.func @bn(%x: tensor<4x2xf32>, %w: tensor<3x2xf32> {sparsenn.trainable}, %g: tensor<3xf32> {sparsenn.trainable},
              %b: tensor<3xf32> {sparsenn.trainable}, %m: tensor<3xf32> {sparsenn.running_stat},
              %v: tensor<3xf32> {sparsenn.running_stat}) -> tensor<4x3xf32> {
  %h = sparsenn.linear %x, %w : tensor<4x2xf32>, tensor<3x2xf32> -> tensor<4x3xf32>
  %n = sparsenn.batch_norm %h, %g, %b, %m, %v {momentum = 0.2, training} : tensor<4x3xf32>, tensor<3xf32>
  return %n : tensor<4x3xf32>
}
