// RUN: sparse-opt %s --split-input-file -verify-diagnostics --sparsenn-generate-train-step
// RUN: not sparse-opt %s --split-input-file --sparsenn-generate-train-step=function=missing 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: sparsenn-generate-train-step: no function 'missing'

// expected-error @+1 {{train-step generation expects one block and one result (the logits)}}
func.func @forward(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  return %x, %x : tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// expected-error @+1 {{the logits must be a static [B, C] float tensor}}
func.func @forward(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  return %x : tensor<2x3x4xf32>
}

// -----

// expected-error @+1 {{no argument is marked 'sparsenn.trainable'}}
func.func @forward(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  return %x : tensor<2x3xf32>
}

// -----

func.func @forward(%x: tensor<2x4xf32>, %w: tensor<4x4xf32> {sparsenn.trainable}) -> tensor<2x4xf32> {
  %h = sparsenn.linear %x, %w : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<2x4xf32>
  %c = sparsenn.compressed_constant dense<[-57, 113, 28, 0, 15, 15, 15, 15, 15, 15, 15, 0, 15, 15, 15, 15, 15, 15, 15, 0, 15, 15, 15, 15, 15, 15, 15, 0, 15, 15, 15, 15, 15, 15, 15]> : tensor<35xi8>, scales dense<0.00393700786> : tensor<4xf32> : !sparsenn.spgc8<4x4xi8>
  // expected-error @+1 {{train-step generation: 'sparsenn.linear' needs a [B, in] input and float weights}}
  %y = sparsenn.linear %h, %c : tensor<2x4xf32>, !sparsenn.spgc8<4x4xi8> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @forward(%x: tensor<2x3xf32>, %w: tensor<4x3xf32> {sparsenn.trainable}) -> tensor<2x4xf32> {
  %h = sparsenn.linear %x, %w : tensor<2x3xf32>, tensor<4x3xf32> -> tensor<2x4xf32>
  // expected-error @+1 {{train-step generation: no backward rule for 'math.tanh'}}
  %t = math.tanh %h : tensor<2x4xf32>
  return %t : tensor<2x4xf32>
}

// -----

func.func @forward(%x: tensor<1x2x6x6xf32>, %w: tensor<2x1x3x3xf32> {sparsenn.trainable}) -> tensor<1x8xf32> {
  // expected-error @+1 {{train-step generation: 'sparsenn.conv2d' backward needs float weights and groups 1}}
  %c = sparsenn.conv2d %x, %w {strides = array<i64: 2, 2>, groups = 2} : tensor<1x2x6x6xf32>, tensor<2x1x3x3xf32> -> tensor<1x2x2x2xf32>
  %f = tensor.collapse_shape %c [[0], [1, 2, 3]] : tensor<1x2x2x2xf32> into tensor<1x8xf32>
  return %f : tensor<1x8xf32>
}

// -----

func.func @forward(%x: tensor<1x1x5x5xf32>, %w: tensor<2x1x1x1xf32> {sparsenn.trainable}) -> tensor<1x32xf32> {
  %ninf = arith.constant -3.40282347E+38 : f32
  %c = sparsenn.conv2d %x, %w : tensor<1x1x5x5xf32>, tensor<2x1x1x1xf32> -> tensor<1x2x5x5xf32>
  %win = tensor.empty() : tensor<2x2xf32>
  %pe = tensor.empty() : tensor<1x2x4x4xf32>
  %pf = linalg.fill ins(%ninf : f32) outs(%pe : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  // expected-error @+1 {{train-step generation: max-pooling backward needs non-overlapping windows (kernel = stride) that tile the input}}
  %p = linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%c, %win : tensor<1x2x5x5xf32>, tensor<2x2xf32>) outs(%pf : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %f = tensor.collapse_shape %p [[0], [1, 2, 3]] : tensor<1x2x4x4xf32> into tensor<1x32xf32>
  return %f : tensor<1x32xf32>
}

// -----

// The sparsity loss and the update of s run in the logits' type.
func.func @forward(%x: tensor<2x3xf32>, %w: tensor<4x3xf32> {sparsenn.trainable},
                   %s: tensor<f16> {sparsenn.trainable}) -> tensor<2x4xf32> {
  // expected-error @+1 {{a trainable sparsity parameter must have the element type of its weights and of the logits}}
  %p, %m = sparsenn.prune <gaussian> %w, %s : tensor<4x3xf32>, tensor<f16> -> tensor<4x3xf32>, tensor<4x3xi1>
  %y = sparsenn.linear %x, %p : tensor<2x3xf32>, tensor<4x3xf32> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @forward(%x: tensor<1x3xf32>, %w: tensor<3x3xf32> {sparsenn.trainable}, %g: tensor<3xf32>, %b: tensor<3xf32>,
                   %m: tensor<3xf32> {sparsenn.running_stat}, %v: tensor<3xf32> {sparsenn.running_stat}) -> tensor<1x3xf32> {
  %h = sparsenn.linear %x, %w : tensor<1x3xf32>, tensor<3x3xf32> -> tensor<1x3xf32>
  // expected-error @+1 {{train-step generation: a training batch_norm needs more than one value per channel for its running variance}}
  %n = sparsenn.batch_norm %h, %g, %b, %m, %v {training} : tensor<1x3xf32>, tensor<3xf32>
  return %n : tensor<1x3xf32>
}
