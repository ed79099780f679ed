// RUN: sparse-opt %s -split-input-file --convert-sparsenn-to-linalg=runtime-weight-kernels=false -verify-diagnostics | FileCheck %s

// CHECK-DAG: #[[BIAS:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[Y:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @linear
// CHECK-SAME: (%[[IN:.*]]: tensor<2x3x8xf32>, %[[WT:.*]]: tensor<4x8xf32>, %[[B:.*]]: tensor<4xf32>)
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %[[IN]] {{\[\[}}0, 1], [2]] : tensor<2x3x8xf32> into tensor<6x8xf32>
// CHECK: %[[INIT:.*]] = linalg.generic {indexing_maps = [#[[BIAS]], {{.*}}]{{.*}} ins(%[[B]] : tensor<4xf32>)
// CHECK: %[[R:.*]] = linalg.generic {indexing_maps = [#[[X]], #[[W]], #[[Y]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[FLAT]], %[[WT]] : tensor<6x8xf32>, tensor<4x8xf32>) outs(%[[INIT]] : tensor<6x4xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: tensor.expand_shape %[[R]] {{\[\[}}0, 1], [2]] output_shape [2, 3, 4] : tensor<6x4xf32> into tensor<2x3x4xf32>
func.func @linear(%x: tensor<2x3x8xf32>, %w: tensor<4x8xf32>, %b: tensor<4xf32>) -> tensor<2x3x4xf32> {
  %y = sparsenn.linear %x, %w, %b : tensor<2x3x8xf32>, tensor<4x8xf32>, tensor<4xf32> -> tensor<2x3x4xf32>
  return %y : tensor<2x3x4xf32>
}

// -----

// Groups and padding: the input is padded, weights and output are viewed as
// [G, Cout/G, ...] and the input channel is g * (Cin/G) + c.
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1 * 2 + d5, d3 * 2 + d6, d4 * 2 + d7 * 2)>
// CHECK-LABEL: func.func @conv
// CHECK: tensor.pad %{{.*}} low[0, 0, 1, 0] high[0, 0, 1, 2]
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1], [2], [3], [4]] output_shape [2, 3, 2, 3, 3] : tensor<6x2x3x3xf32> into tensor<2x3x2x3x3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[IN]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0], [1, 2], [3], [4]] : tensor<1x2x3x4x3xf32> into tensor<1x6x4x3xf32>
func.func @conv(%x: tensor<1x4x7x7xf32>, %w: tensor<6x2x3x3xf32>) -> tensor<1x6x4x3xf32> {
  %y = sparsenn.conv2d %x, %w {groups = 2, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 0, 2>, dilations = array<i64: 1, 2>}
      : tensor<1x4x7x7xf32>, tensor<6x2x3x3xf32> -> tensor<1x6x4x3xf32>
  return %y : tensor<1x6x4x3xf32>
}

// -----

// k-winners calls the runtime's selection kernel on flat buffers:
// [batch, channels, spatial] = [2, 8, 16], mode local = 2, k = 3.
// CHECK: func.func private @sparsenn_rt_kwinners_f32(memref<?xf32>, memref<?xf32>, memref<?xf32>, i64, i64, i64, i64, i64, i64, f32, i64, i64) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @kwinners
// CHECK: %[[OUT:.*]] = memref.alloc() : memref<2x8x4x4xf32>
// CHECK: bufferization.to_buffer %{{.*}} read_only
// CHECK-DAG: %[[B:.*]] = arith.constant 2 : i64
// CHECK-DAG: %[[C:.*]] = arith.constant 8 : i64
// CHECK-DAG: %[[S:.*]] = arith.constant 16 : i64
// CHECK-DAG: %[[BETA:.*]] = arith.constant 1.500000e+00 : f32
// CHECK: call @sparsenn_rt_kwinners_f32(%{{.*}}, %{{.*}}, %{{.*}}, %[[B]], %[[C]], %[[S]], %{{.*}}, %{{.*}}, %{{.*}}, %[[BETA]], %{{.*}}, %{{.*}})
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
func.func @kwinners(%x: tensor<2x8x4x4xf32>, %d: tensor<8xf32>) -> tensor<2x8x4x4xf32> {
  %y = sparsenn.kwinners <local> %x duty_cycle %d k = 3 boost = 1.5 break_ties : tensor<2x8x4x4xf32>, tensor<8xf32> -> tensor<2x8x4x4xf32>
  return %y : tensor<2x8x4x4xf32>
}

// -----

// CHECK-LABEL: func.func @elementwise
// CHECK: arith.cmpf ogt
// CHECK: arith.select
// CHECK: math.round
// CHECK: arith.fptosi %{{.*}} : f32 to i8
// CHECK: arith.sitofp %{{.*}} : i8 to f32
func.func @elementwise(%x: tensor<4x8xf32>, %m: tensor<4x8xi1>, %s: tensor<4xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %t = sparsenn.threshold %x above 0.5 : tensor<4x8xf32>
  %a = sparsenn.apply_mask %x, %m : tensor<4x8xf32>, tensor<4x8xi1>
  %q = sparsenn.quantize %x, %s : tensor<4x8xf32>, tensor<4xf32> -> tensor<4x8xi8>
  %d = sparsenn.dequantize %q, %s : tensor<4x8xi8>, tensor<4xf32> -> tensor<4x8xf32>
  return %t, %a, %d : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// Compressed weights are decoded at compile time.
// CHECK-LABEL: func.func @compressed
// CHECK-NOT: sparsenn.
// CHECK: arith.constant dense<{{\[}}[5.000000e-01, 0.000000e+00
func.func @compressed(%x: tensor<1x16xf32>) -> tensor<1x2xf32> {
  %c = sparsenn.compressed_constant dense<[10, 0, 0, 1, -128]> : tensor<5xi8>, scales dense<[0.5, 2.0]> : tensor<2xf32> : !sparsenn.spgc8<2x16xi8>
  %y = sparsenn.linear %x, %c : tensor<1x16xf32>, !sparsenn.spgc8<2x16xi8> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @training_op(%w: tensor<4x8xf32>, %s: tensor<f32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'sparsenn.prune' is a training op: run --sparsenn-prune-weights to evaluate constant prunes, or the training lowering}}
  %p, %m = sparsenn.prune <quantile> %w, %s : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>, tensor<4x8xi1>
  return %p : tensor<4x8xf32>
}

// -----

func.func @dynamic(%x: tensor<?x8xf32>, %w: tensor<4x8xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{failed to legalize operation 'sparsenn.linear' that was explicitly marked illegal}}
  %y = sparsenn.linear %x, %w : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// A selected kernel: the weights are packed at compile time (ELL: 2 non-zeros
// per row -> values [[1, 2], [3, 4]] and 16-bit columns [[0, 2], [1, 3]]) and
// the runtime is called; format ell = 1, batch 1, in 4, out 2, k 2.
// CHECK: func.func private @sparsenn_rt_linear_f32(memref<?xf32>, memref<?xf32>, memref<?xf32>, memref<?xf32>, memref<?xi32>, memref<?xi32>, memref<?xi16>, i64, i64, i64, i64, i64) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @ell
// CHECK-DAG: arith.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]> : tensor<4xf32>
// CHECK-DAG: arith.constant dense<[0, 2, 1, 3]> : tensor<4xi16>
// CHECK: call @sparsenn_rt_linear_f32(
func.func @ell(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 0.0, 2.0, 0.0], [0.0, 3.0, 0.0, 4.0]]> : tensor<2x4xf32>
  %y = sparsenn.linear %x, %w {kernel = #sparsenn.kernel<ell>} : tensor<1x4xf32>, tensor<2x4xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// Sparse taps of a conv: filter 0 has taps at index 0 and 3, filter 1 at 1.
// CHECK: func.func private @sparsenn_rt_conv2d_f32(
// CHECK-LABEL: func.func @conv_taps
// CHECK-DAG: arith.constant dense<[0, 2, 3]> : tensor<3xi32>
// CHECK-DAG: arith.constant dense<[0, 3, 1]> : tensor<3xi32>
// CHECK: call @sparsenn_rt_conv2d_f32(
func.func @conv_taps(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x3x3xf32> {
  %w = arith.constant dense<[[[[1.0, 0.0], [0.0, 2.0]]], [[[0.0, 3.0], [0.0, 0.0]]]]> : tensor<2x1x2x2xf32>
  %y = sparsenn.conv2d %x, %w {kernel = #sparsenn.kernel<ell>} : tensor<1x1x4x4xf32>, tensor<2x1x2x2xf32> -> tensor<1x2x3x3xf32>
  return %y : tensor<1x2x3x3xf32>
}

// -----

func.func @batch_norm_not_lowered(%x: tensor<2x3xf32>, %g: tensor<3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'sparsenn.batch_norm' is lowered by --sparsenn-lower-training-ops (static shapes only)}}
  %y = sparsenn.batch_norm %x, %g, %g, %g, %g : tensor<2x3xf32>, tensor<3xf32>
  return %y : tensor<2x3xf32>
}
