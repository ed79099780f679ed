// RUN: sparse-opt %s | FileCheck %s
// Round trip through the custom form, and through the generic form.
// RUN: sparse-opt %s | sparse-opt | FileCheck %s
// RUN: sparse-opt %s --mlir-print-op-generic | sparse-opt | FileCheck %s

// CHECK-LABEL: func.func @linear
func.func @linear(%x: tensor<4x80xf32>, %w: tensor<32x80xf32>, %b: tensor<32xf32>,
                  %x3: tensor<2x3x80xf32>) -> (tensor<4x32xf32>, tensor<2x3x32xf32>) {
  // CHECK: sparsenn.linear %{{.*}}, %{{.*}}, %{{.*}} {kernel = #sparsenn.kernel<ell>, sparsity = #sparsenn.sparsity<density = 1.000000e-01, fan_in = 8>} : tensor<4x80xf32>, tensor<32x80xf32>, tensor<32xf32> -> tensor<4x32xf32>
  %y = sparsenn.linear %x, %w, %b {sparsity = #sparsenn.sparsity<density = 1.000000e-01, fan_in = 8>, kernel = #sparsenn.kernel<ell>}
      : tensor<4x80xf32>, tensor<32x80xf32>, tensor<32xf32> -> tensor<4x32xf32>
  // CHECK: sparsenn.linear %{{.*}}, %{{.*}} : tensor<2x3x80xf32>, tensor<32x80xf32> -> tensor<2x3x32xf32>
  %z = sparsenn.linear %x3, %w : tensor<2x3x80xf32>, tensor<32x80xf32> -> tensor<2x3x32xf32>
  return %y, %z : tensor<4x32xf32>, tensor<2x3x32xf32>
}

// CHECK-LABEL: func.func @linear_dynamic_batch
func.func @linear_dynamic_batch(%x: tensor<?x80xf32>, %w: tensor<32x80xf32>) -> tensor<?x32xf32> {
  // CHECK: sparsenn.linear %{{.*}}, %{{.*}} : tensor<?x80xf32>, tensor<32x80xf32> -> tensor<?x32xf32>
  %y = sparsenn.linear %x, %w : tensor<?x80xf32>, tensor<32x80xf32> -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// CHECK-LABEL: func.func @conv2d
func.func @conv2d(%x: tensor<1x4x10x10xf32>, %w: tensor<8x2x3x3xf32>, %b: tensor<8xf32>) -> (tensor<1x8x5x5xf32>, tensor<1x8x8x8xf32>) {
  // CHECK: sparsenn.conv2d %{{.*}}, %{{.*}}, %{{.*}} {groups = 2 : i64, padding = array<i64: 1, 1, 1, 1>, sparsity = #sparsenn.sparsity<density = 5.000000e-01, fan_in = 9>, strides = array<i64: 2, 2>} : tensor<1x4x10x10xf32>, tensor<8x2x3x3xf32>, tensor<8xf32> -> tensor<1x8x5x5xf32>
  %y = sparsenn.conv2d %x, %w, %b {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, groups = 2, sparsity = #sparsenn.sparsity<density = 5.000000e-01, fan_in = 9>}
      : tensor<1x4x10x10xf32>, tensor<8x2x3x3xf32>, tensor<8xf32> -> tensor<1x8x5x5xf32>
  // Default strides, padding, dilations and groups are elided.
  // CHECK: sparsenn.conv2d %{{.*}}, %{{.*}} {groups = 2 : i64} : tensor<1x4x10x10xf32>, tensor<8x2x3x3xf32> -> tensor<1x8x8x8xf32>
  %z = sparsenn.conv2d %x, %w {groups = 2} : tensor<1x4x10x10xf32>, tensor<8x2x3x3xf32> -> tensor<1x8x8x8xf32>
  return %y, %z : tensor<1x8x5x5xf32>, tensor<1x8x8x8xf32>
}

// CHECK-LABEL: func.func @conv2d_dilated
func.func @conv2d_dilated(%x: tensor<2x3x9x9xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<2x4x5x5xf32> {
  // CHECK: sparsenn.conv2d %{{.*}}, %{{.*}} {dilations = array<i64: 2, 2>}
  %y = sparsenn.conv2d %x, %w {dilations = array<i64: 2, 2>} : tensor<2x3x9x9xf32>, tensor<4x3x3x3xf32> -> tensor<2x4x5x5xf32>
  return %y : tensor<2x4x5x5xf32>
}

// CHECK-LABEL: func.func @kwinners
func.func @kwinners(%x: tensor<2x64xf32>, %d: tensor<64xf32>, %x4: tensor<2x8x4x4xf32>, %d4: tensor<8xf32>)
    -> (tensor<2x64xf32>, tensor<2x64xf32>, tensor<2x8x4x4xf32>, tensor<2x8x4x4xf32>, tensor<2x8x4x4xf32>) {
  // CHECK: sparsenn.kwinners <global> %{{.*}} duty_cycle %{{.*}} k = 8 boost = 1.500000e+00 break_ties : tensor<2x64xf32>, tensor<64xf32> -> tensor<2x64xf32>
  %a = sparsenn.kwinners <global> %x duty_cycle %d k = 8 boost = 1.5 break_ties
      : tensor<2x64xf32>, tensor<64xf32> -> tensor<2x64xf32>
  // CHECK: sparsenn.kwinners <group> %{{.*}} density = 2.500000e-01 group_size = 16 relu : tensor<2x64xf32> -> tensor<2x64xf32>
  %b = sparsenn.kwinners <group> %x density = 0.25 group_size = 16 relu : tensor<2x64xf32> -> tensor<2x64xf32>
  // CHECK: sparsenn.kwinners <local> %{{.*}} duty_cycle %{{.*}} k = 2 boost = 1.000000e+00 : tensor<2x8x4x4xf32>, tensor<8xf32> -> tensor<2x8x4x4xf32>
  %c = sparsenn.kwinners <local> %x4 duty_cycle %d4 k = 2 boost = 1.0 : tensor<2x8x4x4xf32>, tensor<8xf32> -> tensor<2x8x4x4xf32>
  // CHECK: sparsenn.kwinners <channel> %{{.*}} k = 3 : tensor<2x8x4x4xf32> -> tensor<2x8x4x4xf32>
  %e = sparsenn.kwinners <channel> %x4 k = 3 : tensor<2x8x4x4xf32> -> tensor<2x8x4x4xf32>
  // CHECK: sparsenn.kwinners <global> %{{.*}} k = 12 : tensor<2x8x4x4xf32> -> tensor<2x8x4x4xf32>
  %f = sparsenn.kwinners <global> %x4 k = 12 : tensor<2x8x4x4xf32> -> tensor<2x8x4x4xf32>
  return %a, %b, %c, %e, %f : tensor<2x64xf32>, tensor<2x64xf32>, tensor<2x8x4x4xf32>, tensor<2x8x4x4xf32>, tensor<2x8x4x4xf32>
}

// CHECK-LABEL: func.func @threshold
func.func @threshold(%x: tensor<2x64xf32>) -> tensor<2x64xf32> {
  // CHECK: sparsenn.threshold %{{.*}} above 5.000000e-01 : tensor<2x64xf32>
  %y = sparsenn.threshold %x above 0.5 : tensor<2x64xf32>
  return %y : tensor<2x64xf32>
}

// CHECK-LABEL: func.func @duty_cycles
func.func @duty_cycles(%d: tensor<64xf32>, %y: tensor<8x64xf32>, %n: tensor<i64>,
                       %d4: tensor<16xf32>, %y4: tensor<8x16x4x4xf32>)
    -> (tensor<64xf32>, tensor<16xf32>, tensor<i64>) {
  // CHECK: sparsenn.duty_cycle_update %{{.*}}, %{{.*}} alpha = 1.000000e-02 : tensor<64xf32>, tensor<8x64xf32> -> tensor<64xf32>
  %d1 = sparsenn.duty_cycle_update %d, %y alpha = 0.01 : tensor<64xf32>, tensor<8x64xf32> -> tensor<64xf32>
  // CHECK: sparsenn.duty_cycle_update %{{.*}}, %{{.*}} seen %{{.*}} period = 1000 : tensor<16xf32>, tensor<8x16x4x4xf32>, tensor<i64> -> tensor<16xf32>, tensor<i64>
  %d2, %n2 = sparsenn.duty_cycle_update %d4, %y4 seen %n period = 1000
      : tensor<16xf32>, tensor<8x16x4x4xf32>, tensor<i64> -> tensor<16xf32>, tensor<i64>
  return %d1, %d2, %n2 : tensor<64xf32>, tensor<16xf32>, tensor<i64>
}

// CHECK-LABEL: func.func @prune
func.func @prune(%w: tensor<32x64xf32>, %s: tensor<f32>, %c: tensor<8x4x3x3xf32>)
    -> (tensor<32x64xf32>, tensor<32x64xi1>, tensor<32x64xf32>, tensor<8x4x3x3xf32>, tensor<8x4x3x3xf32>) {
  // CHECK: sparsenn.prune <quantile> %{{.*}}, %{{.*}} : tensor<32x64xf32>, tensor<f32> -> tensor<32x64xf32>, tensor<32x64xi1>
  %p, %m = sparsenn.prune <quantile> %w, %s : tensor<32x64xf32>, tensor<f32> -> tensor<32x64xf32>, tensor<32x64xi1>
  // CHECK: sparsenn.prune <gaussian> %{{.*}}, %{{.*}} {normalization = #sparsenn.normalization<hard_sigmoid>}
  %g, %gm = sparsenn.prune <gaussian> %w, %s {normalization = #sparsenn.normalization<hard_sigmoid>} : tensor<32x64xf32>, tensor<f32> -> tensor<32x64xf32>, tensor<32x64xi1>
  // CHECK: sparsenn.prune <gumbel> %{{.*}}, %{{.*}} {granularity = #sparsenn.granularity<group>, group_shape = array<i64: 1, 16, 1, 1>, reduction = #sparsenn.reduction<mean>}
  %u, %um = sparsenn.prune <gumbel> %c, %s {granularity = #sparsenn.granularity<group>, group_shape = array<i64: 1, 16, 1, 1>, reduction = #sparsenn.reduction<mean>}
      : tensor<8x4x3x3xf32>, tensor<f32> -> tensor<8x4x3x3xf32>, tensor<8x4x3x3xi1>
  // CHECK: sparsenn.prune <quantile> %{{.*}}, %{{.*}} {granularity = #sparsenn.granularity<input_channel>, normalization = #sparsenn.normalization<none>}
  %q, %qm = sparsenn.prune <quantile> %c, %s {granularity = #sparsenn.granularity<input_channel>, normalization = #sparsenn.normalization<none>}
      : tensor<8x4x3x3xf32>, tensor<f32> -> tensor<8x4x3x3xf32>, tensor<8x4x3x3xi1>
  return %p, %m, %g, %u, %q : tensor<32x64xf32>, tensor<32x64xi1>, tensor<32x64xf32>, tensor<8x4x3x3xf32>, tensor<8x4x3x3xf32>
}

// CHECK-LABEL: func.func @masks_and_loss
func.func @masks_and_loss(%w: tensor<32x64xf32>, %m: tensor<32x64xi1>, %ce: tensor<f32>,
                          %s0: tensor<f32>, %s1: tensor<f32>, %ceb: tensor<8xf32>)
    -> (tensor<32x64xf32>, tensor<f32>, tensor<8xf32>) {
  // CHECK: sparsenn.apply_mask %{{.*}}, %{{.*}} : tensor<32x64xf32>, tensor<32x64xi1>
  %a = sparsenn.apply_mask %w, %m : tensor<32x64xf32>, tensor<32x64xi1>
  // CHECK: sparsenn.sparsity_loss %{{.*}}, %{{.*}}, %{{.*}} {alpha = 5.000000e-01 : f64, counts = array<i64: 1600, 51200>} : tensor<f32>, tensor<f32>, tensor<f32> -> tensor<f32>
  %l = sparsenn.sparsity_loss %ce, %s0, %s1 {alpha = 0.5 : f64, counts = array<i64: 1600, 51200>}
      : tensor<f32>, tensor<f32>, tensor<f32> -> tensor<f32>
  // CHECK: sparsenn.sparsity_loss %{{.*}}, %{{.*}} {alpha = 2.500000e-01 : f64, counts = array<i64: 2048>, theta = 9.000000e-01 : f64} : tensor<8xf32>, tensor<f32> -> tensor<8xf32>
  %lb = sparsenn.sparsity_loss %ceb, %s0 {alpha = 0.25 : f64, theta = 0.9 : f64, counts = array<i64: 2048>}
      : tensor<8xf32>, tensor<f32> -> tensor<8xf32>
  return %a, %l, %lb : tensor<32x64xf32>, tensor<f32>, tensor<8xf32>
}

// CHECK-LABEL: func.func @quant
func.func @quant(%w: tensor<32x64xf32>, %s: tensor<32xf32>, %s64: tensor<64xf32>) -> (tensor<32x64xf32>, tensor<32x64xi16>) {
  // CHECK: sparsenn.quantize %{{.*}}, %{{.*}} : tensor<32x64xf32>, tensor<32xf32> -> tensor<32x64xi8>
  %q = sparsenn.quantize %w, %s : tensor<32x64xf32>, tensor<32xf32> -> tensor<32x64xi8>
  // CHECK: sparsenn.dequantize %{{.*}}, %{{.*}} : tensor<32x64xi8>, tensor<32xf32> -> tensor<32x64xf32>
  %d = sparsenn.dequantize %q, %s : tensor<32x64xi8>, tensor<32xf32> -> tensor<32x64xf32>
  // CHECK: sparsenn.quantize %{{.*}}, %{{.*}} {axis = 1 : i64} : tensor<32x64xf32>, tensor<64xf32> -> tensor<32x64xi16>
  %q16 = sparsenn.quantize %w, %s64 {axis = 1} : tensor<32x64xf32>, tensor<64xf32> -> tensor<32x64xi16>
  return %d, %q16 : tensor<32x64xf32>, tensor<32x64xi16>
}

// Eight zero subsets of a 4x16 i8 weight: 8 header codes of 3 bits (all 0)
// in 3 bytes and no bodies.
// CHECK-LABEL: func.func @compressed
func.func @compressed(%x: tensor<2x16xf32>) -> (tensor<4x16xf32>, tensor<2x4xf32>) {
  // CHECK: sparsenn.compressed_constant dense<0> : tensor<3xi8>, scales dense<1.000000e+00> : tensor<4xf32> : !sparsenn.spgc8<4x16xi8>
  %c = sparsenn.compressed_constant dense<0> : tensor<3xi8>, scales dense<1.0> : tensor<4xf32> : !sparsenn.spgc8<4x16xi8>
  // CHECK: sparsenn.decompress %{{.*}} : !sparsenn.spgc8<4x16xi8> -> tensor<4x16xf32>
  %w = sparsenn.decompress %c : !sparsenn.spgc8<4x16xi8> -> tensor<4x16xf32>
  // Layers accept compressed weights directly.
  // CHECK: sparsenn.linear %{{.*}}, %{{.*}} : tensor<2x16xf32>, !sparsenn.spgc8<4x16xi8> -> tensor<2x4xf32>
  %y = sparsenn.linear %x, %c : tensor<2x16xf32>, !sparsenn.spgc8<4x16xi8> -> tensor<2x4xf32>
  return %w, %y : tensor<4x16xf32>, tensor<2x4xf32>
}

// CHECK-LABEL: func.func @types
// CHECK-SAME: !sparsenn.spgc8<32x16x3x3xi16, interleaved>
// CHECK-SAME: !sparsenn.spgc8<100xi8>
func.func @types(%a: !sparsenn.spgc8<32x16x3x3xi16, interleaved>, %b: !sparsenn.spgc8<100xi8, adjacent>) {
  return
}

// The conv2d gradient ops of the training step.
// CHECK-LABEL: func.func @conv_gradients
// CHECK: sparsenn.conv2d_backward_input %{{.*}}, %{{.*}} {padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<2x4x4x4xf32>, tensor<4x3x3x3xf32> -> tensor<2x3x8x8xf32>
// CHECK: sparsenn.conv2d_backward_weight %{{.*}}, %{{.*}} {padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<2x3x8x8xf32>, tensor<2x4x4x4xf32> -> tensor<4x3x3x3xf32>
// CHECK: sparsenn.conv2d_backward_weight %{{.*}}, %{{.*}} mask %{{.*}} {dilations = array<i64: 2, 2>} : tensor<2x3x8x8xf32>, tensor<2x4x4x4xf32>, tensor<4x3x3x3xf32> -> tensor<4x3x3x3xf32>
func.func @conv_gradients(%x: tensor<2x3x8x8xf32>, %dy: tensor<2x4x4x4xf32>, %w: tensor<4x3x3x3xf32>)
    -> (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4x3x3x3xf32>) {
  %dx = sparsenn.conv2d_backward_input %dy, %w {padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
      : tensor<2x4x4x4xf32>, tensor<4x3x3x3xf32> -> tensor<2x3x8x8xf32>
  %dw = sparsenn.conv2d_backward_weight %x, %dy {padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
      : tensor<2x3x8x8xf32>, tensor<2x4x4x4xf32> -> tensor<4x3x3x3xf32>
  %dm = sparsenn.conv2d_backward_weight %x, %dy mask %w {dilations = array<i64: 2, 2>}
      : tensor<2x3x8x8xf32>, tensor<2x4x4x4xf32>, tensor<4x3x3x3xf32> -> tensor<4x3x3x3xf32>
  return %dx, %dw, %dm : tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4x3x3x3xf32>
}

// Batch normalisation, training (batch statistics) and inference forms.
// CHECK-LABEL: func.func @batch_norm
// CHECK: sparsenn.batch_norm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 1.000000e-03 : f64, momentum = 2.000000e-01 : f64, training} : tensor<2x3x4x4xf32>, tensor<3xf32>
// CHECK: sparsenn.batch_norm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<5x3xf32>, tensor<3xf32>
func.func @batch_norm(%x: tensor<2x3x4x4xf32>, %h: tensor<5x3xf32>, %g: tensor<3xf32>, %b: tensor<3xf32>,
                      %m: tensor<3xf32>, %v: tensor<3xf32>) -> (tensor<2x3x4x4xf32>, tensor<5x3xf32>) {
  %y = sparsenn.batch_norm %x, %g, %b, %m, %v {epsilon = 1.0e-3, momentum = 0.2, training} : tensor<2x3x4x4xf32>, tensor<3xf32>
  %z = sparsenn.batch_norm %h, %g, %b, %m, %v : tensor<5x3xf32>, tensor<3xf32>
  return %y, %z : tensor<2x3x4x4xf32>, tensor<5x3xf32>
}
