// RUN: sparse-opt %s -split-input-file --sparsenn-prune-weights | FileCheck %s
// RUN: sparse-opt %s -split-input-file --sparsenn-prune-weights="granularity=group group-shape=1,3" | FileCheck %s --check-prefix=GROUP
// RUN: sparse-opt %s -split-input-file --sparsenn-prune-weights="granularity=group group-shape=1,3 reduction=mean" | FileCheck %s --check-prefix=GROUP
// RUN: sparse-opt %s -split-input-file --sparsenn-prune-weights="granularity=input_channel" | FileCheck %s --check-prefix=INCH
// RUN: sparse-opt %s -split-input-file --sparsenn-prune-weights="granularity=output_filter" | FileCheck %s --check-prefix=FILTER

// FIG. 7a, quantile on elements: s = 0.5 of N = 8 prunes exactly 4, the
// smallest |w| (0.0, 0.05, 0.1, then 0.2 at flat index 4: a tie with index 5
// goes to the lower index). Every row keeps 2: a fixed fan-in.
// CHECK-LABEL: func.func @quantile
// CHECK: %[[W:.*]] = arith.constant dense<{{\[}}[0.000000e+00, -5.000000e-01, 3.000000e-01, 0.000000e+00], [0.000000e+00, 2.000000e-01, -8.000000e-01, 0.000000e+00]]>
// CHECK-NOT: arith.constant
// CHECK: sparsenn.linear %{{.*}}, %[[W]] {sparsity = #sparsenn.sparsity<density = 5.000000e-01, fan_in = 2>}
// FIG. 7b, groups of 1x3 (the second group of a row is a zero-padded
// remainder): saliencies max = (0.5, 0.0; 0.8, 0.05), mean = (0.3, 0.0;
// 0.4, 0.0167): the same two groups go.
// GROUP-LABEL: func.func @quantile
// GROUP: arith.constant dense<{{\[}}[1.000000e-01, -5.000000e-01, 3.000000e-01, 0.000000e+00], [2.000000e-01, 2.000000e-01, -8.000000e-01, 0.000000e+00]]>
// GROUP: sparsenn.linear {{.*}} {sparsity = #sparsenn.sparsity<density = 7.500000e-01, fan_in = 3>}
// Input channels (columns) by max |w|: 0.2, 0.5, 0.8, 0.05: the last two
// smallest go.
// INCH-LABEL: func.func @quantile
// INCH: arith.constant dense<{{\[}}[0.000000e+00, -5.000000e-01, 3.000000e-01, 0.000000e+00], [0.000000e+00, 2.000000e-01, -8.000000e-01, 0.000000e+00]]>
// Output filters (rows) by max |w|: 0.5 and 0.8: row 0 goes.
// FILTER-LABEL: func.func @quantile
// FILTER: arith.constant dense<{{\[}}[0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00], [2.000000e-01, 2.000000e-01, -8.000000e-01, 5.000000e-02]]>
// FILTER: {sparsity = #sparsenn.sparsity<density = 5.000000e-01>}
func.func @quantile(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[0.1, -0.5, 0.3, 0.0], [0.2, 0.2, -0.8, 0.05]]> : tensor<2x4xf32>
  %y = sparsenn.linear %x, %w {sparsenn.target_sparsity = 0.5 : f64} : tensor<1x4xf32>, tensor<2x4xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// Layers without a target sparsity (and no `sparsity` option) stay as they
// are; weights that are not constants are left alone.
// CHECK-LABEL: func.func @untouched
// CHECK: arith.constant dense<{{\[}}[1.000000e-01, -5.000000e-01]]>
// CHECK-NOT: sparsenn.sparsity
func.func @untouched(%x: tensor<1x2xf32>, %w2: tensor<1x2xf32>) -> (tensor<1x1xf32>, tensor<1x1xf32>) {
  %w = arith.constant dense<[[0.1, -0.5]]> : tensor<1x2xf32>
  %y = sparsenn.linear %x, %w : tensor<1x2xf32>, tensor<1x2xf32> -> tensor<1x1xf32>
  %z = sparsenn.linear %x, %w2 : tensor<1x2xf32>, tensor<1x2xf32> -> tensor<1x1xf32>
  return %y, %z : tensor<1x1xf32>, tensor<1x1xf32>
}

// -----

// A constant sparsenn.prune is evaluated with its own settings. sigmoid(0)
// = 0.5 of 8 coefficients: the four smallest |w| go.
// CHECK-LABEL: func.func @prune_op
// CHECK-DAG: %[[P:.*]] = arith.constant dense<{{\[}}[0.000000e+00, 0.000000e+00, 3.000000e+00, 4.000000e+00, 0.000000e+00, 0.000000e+00, -7.000000e+00, 8.000000e+00]]> : tensor<1x8xf32>
// CHECK-DAG: %[[M:.*]] = arith.constant dense<{{\[}}[false, false, true, true, false, false, true, true]]> : tensor<1x8xi1>
// CHECK-NOT: sparsenn.prune
// CHECK: return %[[P]], %[[M]]
func.func @prune_op() -> (tensor<1x8xf32>, tensor<1x8xi1>) {
  %w = arith.constant dense<[[1.0, -2.0, 3.0, 4.0, 0.5, 2.0, -7.0, 8.0]]> : tensor<1x8xf32>
  %s = arith.constant dense<0.0> : tensor<f32>
  %p, %m = sparsenn.prune <quantile> %w, %s : tensor<1x8xf32>, tensor<f32> -> tensor<1x8xf32>, tensor<1x8xi1>
  return %p, %m : tensor<1x8xf32>, tensor<1x8xi1>
}

// -----

// FIG. 7c: w = (-2, -1, 1, 2), mu = 0, psi = sqrt(2.5); s = 0.5 gives
// tau - mu = psi·sqrt(2)·erfinv(0.5) = 1.0665: |w| > 1.0665 stays.
// CHECK-LABEL: func.func @gaussian
// CHECK: arith.constant dense<{{\[}}[-2.000000e+00, 0.000000e+00, 0.000000e+00, 2.000000e+00]]>
// CHECK: arith.constant dense<{{\[}}[true, false, false, true]]>
func.func @gaussian() -> (tensor<1x4xf32>, tensor<1x4xi1>) {
  %w = arith.constant dense<[[-2.0, -1.0, 1.0, 2.0]]> : tensor<1x4xf32>
  %s = arith.constant dense<0.5> : tensor<f32>
  %p, %m = sparsenn.prune <gaussian> %w, %s {normalization = #sparsenn.normalization<none>} : tensor<1x4xf32>, tensor<f32> -> tensor<1x4xf32>, tensor<1x4xi1>
  return %p, %m : tensor<1x4xf32>, tensor<1x4xi1>
}

// -----

// FIG. 7d, eq. 7-10 on elements: |w - 3.5| = (3.5, 2.5, 1.5, 0.5, 0.5, 1.5,
// 2.5, 3.5): mean 2, std 1.118, beta = 0.8717, phi = 1.4968; s = 0.5 gives
// tau = phi - beta·log(log 2) = 1.8163.
// CHECK-LABEL: func.func @gumbel
// CHECK: arith.constant dense<{{\[}}[0.000000e+00, 1.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 6.000000e+00, 7.000000e+00]]>
func.func @gumbel() -> tensor<1x8xf32> {
  %w = arith.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]]> : tensor<1x8xf32>
  %s = arith.constant dense<0.5> : tensor<f32>
  %p, %m = sparsenn.prune <gumbel> %w, %s {normalization = #sparsenn.normalization<none>} : tensor<1x8xf32>, tensor<f32> -> tensor<1x8xf32>, tensor<1x8xi1>
  return %p : tensor<1x8xf32>
}

// -----

// Gumbel on max-pooled 1x2 groups: reductions of |w - 3.5| = (3.5, 1.5, 1.5,
// 3.5), mean 2.5, std 1, beta = 0.7797, phi = 2.0500, tau(0.5) = 2.3358.
// CHECK-LABEL: func.func @gumbel_groups
// CHECK: arith.constant dense<{{\[}}[true, true, false, false, false, false, true, true]]>
func.func @gumbel_groups() -> tensor<1x8xi1> {
  %w = arith.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]]> : tensor<1x8xf32>
  %s = arith.constant dense<0.5> : tensor<f32>
  %p, %m = sparsenn.prune <gumbel> %w, %s {normalization = #sparsenn.normalization<none>, granularity = #sparsenn.granularity<group>, group_shape = array<i64: 1, 2>} : tensor<1x8xf32>, tensor<f32> -> tensor<1x8xf32>, tensor<1x8xi1>
  return %m : tensor<1x8xi1>
}
