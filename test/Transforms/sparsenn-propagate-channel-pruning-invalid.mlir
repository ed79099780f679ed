// RUN: sparse-opt %s -split-input-file -verify-diagnostics --sparsenn-propagate-channel-pruning
// RUN: not sparse-opt %s -split-input-file --sparsenn-propagate-channel-pruning=report=/nonexistent/dir/r.txt 2>&1 | FileCheck %s --check-prefix=FILE

// Every refusal leaves the IR as it was and says where the analysis stopped.
// FILE: cannot open report file '/nonexistent/dir/r.txt'

// A zero filter whose channel leaves the function: the caller sees it.
func.func @return_boundary(%x: tensor<1x1x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %w = arith.constant dense<[[[[1.0]]], [[[0.0]]]]> : tensor<2x1x1x1xf32>
  %c = sparsenn.conv2d %x, %w : tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32> -> tensor<1x2x2x2xf32>
  // expected-remark @+1 {{channel pruning stops at 'func.return': function boundary; 1 removable channel(s) kept}}
  return %c : tensor<1x2x2x2xf32>
}

// -----

func.func private @sink(tensor<1x2x2x2xf32>) -> tensor<1x1x2x2xf32>

func.func @call_boundary(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %w = arith.constant dense<[[[[1.0]]], [[[0.0]]]]> : tensor<2x1x1x1xf32>
  %c = sparsenn.conv2d %x, %w : tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32> -> tensor<1x2x2x2xf32>
  // expected-remark @+1 {{channel pruning stops at 'func.call': function boundary; 1 removable channel(s) kept}}
  %y = func.call @sink(%c) : (tensor<1x2x2x2xf32>) -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// -----

// An op the analysis does not model (here math.exp) is a boundary too, seen
// from both sides.
func.func @unknown_op(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %w = arith.constant dense<[[[[1.0]]], [[[0.0]]]]> : tensor<2x1x1x1xf32>
  %c = sparsenn.conv2d %x, %w : tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32> -> tensor<1x2x2x2xf32>
  // expected-remark @+1 {{channel pruning stops at 'math.exp': not understood by the analysis; 1 removable channel(s) kept}}
  %e = math.exp %c : tensor<1x2x2x2xf32>
  %w2 = arith.constant dense<[[[[1.0]], [[0.0]]]]> : tensor<1x2x1x1xf32>
  // expected-remark @+1 {{1 unused input channel(s) kept: the input comes from 'math.exp', which channel pruning does not follow}}
  %y = sparsenn.conv2d %e, %w2 : tensor<1x2x2x2xf32>, tensor<1x2x1x1xf32> -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// -----

// Residual add with a branch from outside (a function argument): the zero
// channel 1 of %c would have to go from %r too.
func.func @residual_argument(%x: tensor<1x1x2x2xf32>, %r: tensor<1x2x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %w = arith.constant dense<[[[[1.0]]], [[[0.0]]]]> : tensor<2x1x1x1xf32>
  %c = sparsenn.conv2d %x, %w : tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32> -> tensor<1x2x2x2xf32>
  // expected-remark @+1 {{channel pruning stops at 'arith.addf': an operand is neither a tracked channel value nor a constant (e.g. a function argument); 1 removable channel(s) kept}}
  %s = arith.addf %c, %r : tensor<1x2x2x2xf32>
  %w2 = arith.constant dense<[[[[1.0]], [[0.0]]]]> : tensor<1x2x1x1xf32>
  // expected-remark @+1 {{1 unused input channel(s) kept: the input comes from 'arith.addf', which channel pruning does not follow}}
  %y = sparsenn.conv2d %s, %w2 : tensor<1x2x2x2xf32>, tensor<1x2x1x1xf32> -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// -----

// Filter 1 is zero with bias 3: the channel is the constant 3, but the
// consumer pads with zeros, so its contribution differs at the border and
// cannot be folded into a bias: the channel stays.
func.func @padded_constant(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %w = arith.constant dense<[[[[1.0]]], [[[0.0]]]]> : tensor<2x1x1x1xf32>
  %b = arith.constant dense<[0.0, 3.0]> : tensor<2xf32>
  %c = sparsenn.conv2d %x, %w, %b : tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>, tensor<2xf32> -> tensor<1x2x2x2xf32>
  %w2 = arith.constant dense<1.0> : tensor<1x2x3x3xf32>
  // expected-remark @+1 {{channel 1 of the input is the constant 3.000000e+00 but the layer pads with zeros: its contribution depends on the position, channel kept}}
  %y = sparsenn.conv2d %c, %w2 {padding = array<i64: 1, 1, 1, 1>} : tensor<1x2x2x2xf32>, tensor<1x2x3x3xf32> -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// -----

// k-winners <global> without relu: a removed zero channel could win (when
// fewer than k values are positive) and change which negative values win.
func.func @kwinners_global_no_relu(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %w = arith.constant dense<[[[[1.0]]], [[[0.0]]]]> : tensor<2x1x1x1xf32>
  %c = sparsenn.conv2d %x, %w : tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32> -> tensor<1x2x2x2xf32>
  // expected-remark @+1 {{channel pruning stops at 'sparsenn.kwinners': k-winners <global> without relu: a removed channel could change the winners; 1 removable channel(s) kept}}
  %k = sparsenn.kwinners <global> %c k = 2 : tensor<1x2x2x2xf32> -> tensor<1x2x2x2xf32>
  %w2 = arith.constant dense<1.0> : tensor<1x2x1x1xf32>
  %y = sparsenn.conv2d %k, %w2 : tensor<1x2x2x2xf32>, tensor<1x2x1x1xf32> -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// -----

// Groups of 2 elements split the 2x2 channels: removing a channel would
// shift the group boundaries.
func.func @kwinners_group(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %w = arith.constant dense<[[[[1.0]]], [[[0.0]]]]> : tensor<2x1x1x1xf32>
  %c = sparsenn.conv2d %x, %w : tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32> -> tensor<1x2x2x2xf32>
  // expected-remark @+1 {{channel pruning stops at 'sparsenn.kwinners': k-winners <group> whose groups split channels: removing a channel would shift the group boundaries; 1 removable channel(s) kept}}
  %k = sparsenn.kwinners <group> %c k = 1 group_size = 2 relu : tensor<1x2x2x2xf32> -> tensor<1x2x2x2xf32>
  %w2 = arith.constant dense<1.0> : tensor<1x2x1x1xf32>
  %y = sparsenn.conv2d %k, %w2 : tensor<1x2x2x2xf32>, tensor<1x2x1x1xf32> -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// -----

// The duty cycle is state passed in by the caller: shrinking it would change
// the function's signature.
func.func @kwinners_duty_argument(%x: tensor<1x1x2x2xf32>, %d: tensor<2xf32>) -> tensor<1x1x2x2xf32> {
  %w = arith.constant dense<[[[[1.0]]], [[[0.0]]]]> : tensor<2x1x1x1xf32>
  %c = sparsenn.conv2d %x, %w : tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32> -> tensor<1x2x2x2xf32>
  // expected-remark @+1 {{channel pruning stops at 'sparsenn.kwinners': k-winners duty cycle is not a constant (shrinking state would change the function signature); 1 removable channel(s) kept}}
  %k = sparsenn.kwinners <channel> %c duty_cycle %d k = 1 boost = 1.0 : tensor<1x2x2x2xf32>, tensor<2xf32> -> tensor<1x2x2x2xf32>
  %w2 = arith.constant dense<1.0> : tensor<1x2x1x1xf32>
  %y = sparsenn.conv2d %k, %w2 : tensor<1x2x2x2xf32>, tensor<1x2x1x1xf32> -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// -----

// Grouped (not depthwise) convolution: input channel j of each group is tied
// to channel j of the others. Channel 1 is unused by group 0 but its partner,
// channel 3, is used by group 1: both stay (a used channel is no refusal, so
// there is no remark).
func.func @grouped_conv(%x: tensor<1x1x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %w = arith.constant dense<[[[[1.0]]], [[[1.0]]], [[[1.0]]], [[[1.0]]]]> : tensor<4x1x1x1xf32>
  %c = sparsenn.conv2d %x, %w : tensor<1x1x2x2xf32>, tensor<4x1x1x1xf32> -> tensor<1x4x2x2xf32>
  %w2 = arith.constant dense<[[[[1.0]], [[0.0]]], [[[1.0]], [[1.0]]]]> : tensor<2x2x1x1xf32>
  %y = sparsenn.conv2d %c, %w2 {groups = 2 : i64} : tensor<1x4x2x2xf32>, tensor<2x2x1x1xf32> -> tensor<1x2x2x2xf32>
  return %y : tensor<1x2x2x2xf32>
}

// -----

// A consumer whose weights are not constants reads every channel.
func.func @weights_not_constant(%x: tensor<1x1x2x2xf32>, %w2: tensor<1x2x1x1xf32>) -> tensor<1x1x2x2xf32> {
  %w = arith.constant dense<[[[[1.0]]], [[[0.0]]]]> : tensor<2x1x1x1xf32>
  %c = sparsenn.conv2d %x, %w : tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32> -> tensor<1x2x2x2xf32>
  // expected-remark @+1 {{channel pruning stops at 'sparsenn.conv2d': weights are not a float constant; 1 removable channel(s) kept}}
  %y = sparsenn.conv2d %c, %w2 : tensor<1x2x2x2xf32>, tensor<1x2x1x1xf32> -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// -----

// The first layer reads a function argument: its unused input channel stays.
func.func @argument_input(%x: tensor<1x2x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %w = arith.constant dense<[[[[1.0]], [[0.0]]]]> : tensor<1x2x1x1xf32>
  // expected-remark @+1 {{1 unused input channel(s) kept: the input comes from a function argument, which channel pruning does not follow}}
  %y = sparsenn.conv2d %x, %w : tensor<1x2x2x2xf32>, tensor<1x2x1x1xf32> -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// -----

// Compressed weights are not sliced: channel pruning runs before
// --sparsenn-compress-weights.
func.func @compressed(%x: tensor<1x16xf32>) -> tensor<1x2xf32> {
  %c = sparsenn.compressed_constant dense<[0, 0]> : tensor<2xi8>, scales dense<1.0> : tensor<2xf32> : !sparsenn.spgc8<2x16xi8>
  // expected-remark @+1 {{weights are SPGC8-compressed: channel pruning leaves this layer alone (run it before --sparsenn-compress-weights)}}
  %y = sparsenn.linear %x, %c : tensor<1x16xf32>, !sparsenn.spgc8<2x16xi8> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
