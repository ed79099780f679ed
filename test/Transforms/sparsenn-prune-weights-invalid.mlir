// RUN: sparse-opt %s -split-input-file -verify-diagnostics --sparsenn-prune-weights="sparsity=0.5 verbose"
// RUN: not sparse-opt %s --sparsenn-prune-weights="method=median" 2>&1 | FileCheck %s --check-prefix=METHOD
// RUN: not sparse-opt %s --sparsenn-prune-weights="granularity=row" 2>&1 | FileCheck %s --check-prefix=GRAN
// RUN: not sparse-opt %s --sparsenn-prune-weights="reduction=min" 2>&1 | FileCheck %s --check-prefix=RED
// RUN: not sparse-opt %s --sparsenn-prune-weights="sparsity=1.5" 2>&1 | FileCheck %s --check-prefix=RANGE
// RUN: not sparse-opt %s --sparsenn-prune-weights="granularity=group" 2>&1 | FileCheck %s --check-prefix=NOSHAPE
// RUN: not sparse-opt %s --sparsenn-prune-weights="method=gaussian granularity=input_channel" 2>&1 | FileCheck %s --check-prefix=GAUSS
// RUN: not sparse-opt %s --sparsenn-prune-weights="granularity=group group-shape=0,2" 2>&1 | FileCheck %s --check-prefix=POS
// RUN: not sparse-opt %s -split-input-file --sparsenn-prune-weights="sparsity=0.5 granularity=group group-shape=1,1,2" 2>&1 | FileCheck %s --check-prefix=RANK

// RUN: not sparse-opt %s -split-input-file --sparsenn-prune-weights="layer-sparsity=0.5,0.5" 2>&1 | FileCheck %s --check-prefix=LAYERS

// LAYERS: layer-sparsity has 2 entries, the module has 1 sparsenn.linear / sparsenn.conv2d layers
// Enum options: the option parser names the option and the bad value
// (--help lists the values).
// METHOD: for the --method option: Cannot find option named 'median'!
// GRAN: for the --granularity option: Cannot find option named 'row'!
// RED: for the --reduction option: Cannot find option named 'min'!
// RANGE: sparsity must be in [0, 1], got 1.5
// NOSHAPE: granularity=group needs group-shape (or spgc8-aligned)
// GAUSS: the gaussian pruner (FIG. 7c) works on elements only
// POS: group-shape entries must be positive
// RANK: group-shape has 3 entries, the weights have rank 2

func.func @not_constant(%x: tensor<1x2xf32>, %w: tensor<1x2xf32>) -> tensor<1x1xf32> {
  // expected-remark @+1 {{weights are not a float constant: not pruned}}
  %y = sparsenn.linear %x, %w : tensor<1x2xf32>, tensor<1x2xf32> -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @bad_target(%x: tensor<1x2xf32>) -> tensor<1x1xf32> {
  %w = arith.constant dense<[[1.0, 2.0]]> : tensor<1x2xf32>
  // expected-error @+1 {{sparsenn.target_sparsity must be in [0, 1], got 2}}
  %y = sparsenn.linear %x, %w {sparsenn.target_sparsity = 2.0 : f64} : tensor<1x2xf32>, tensor<1x2xf32> -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @remark(%x: tensor<1x2xf32>) -> tensor<1x1xf32> {
  %w = arith.constant dense<[[1.0, 2.0]]> : tensor<1x2xf32>
  // expected-remark @+1 {{pruned 1 non-zero weights; density now 5.000000e-01}}
  %y = sparsenn.linear %x, %w : tensor<1x2xf32>, tensor<1x2xf32> -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}
