// RUN: sparse-opt %s --sparsenn-import --split-input-file | FileCheck %s

// nn.Linear + ReLU in the form torch-mlir's linalg-on-tensors backend emits
// (weight transposed by a linalg.generic, zero-filled matmul, bias added by a
// broadcasting generic, relu as cmpf ugt + select).
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#tr2 = affine_map<(d0, d1) -> (d1, d0)>
#row = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @torch_linear_relu
// CHECK-DAG:     %[[W:.+]] = arith.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00], [5.000000e+00, 6.000000e+00]]> : tensor<3x2xf32>
// CHECK-DAG:     %[[B:.+]] = arith.constant dense<[1.000000e-01, 2.000000e-01, 3.000000e-01]> : tensor<3xf32>
// CHECK:         %[[Y:.+]] = sparsenn.linear %arg0, %[[W]], %[[B]] : tensor<4x2xf32>, tensor<3x2xf32>, tensor<3xf32> -> tensor<4x3xf32>
// CHECK:         linalg.generic
// CHECK-SAME:      ins(%[[Y]]
// CHECK:           arith.maximumf
// CHECK-NOT:       arith.select
// CHECK-NOT:     linalg.matmul
func.func @torch_linear_relu(%x: tensor<4x2xf32>) -> tensor<4x3xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>
  %b = arith.constant dense<[0.1, 0.2, 0.3]> : tensor<3xf32>
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<2x3xf32>
  %wt = linalg.generic {indexing_maps = [#tr2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%w : tensor<3x2xf32>) outs(%e0 : tensor<2x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x3xf32>
  %e1 = tensor.empty() : tensor<4x3xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x3xf32>) -> tensor<4x3xf32>
  %mm = linalg.matmul ins(%x, %wt : tensor<4x2xf32>, tensor<2x3xf32>) outs(%z : tensor<4x3xf32>) -> tensor<4x3xf32>
  %add = linalg.generic {indexing_maps = [#id2, #row, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %b : tensor<4x3xf32>, tensor<3xf32>) outs(%e1 : tensor<4x3xf32>) {
  ^bb0(%a: f32, %c: f32, %out: f32):
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  } -> tensor<4x3xf32>
  %relu = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%add : tensor<4x3xf32>) outs(%e1 : tensor<4x3xf32>) {
  ^bb0(%a: f32, %out: f32):
    %cmp = arith.cmpf ugt, %a, %zero : f32
    %sel = arith.select %cmp, %a, %zero : f32
    linalg.yield %sel : f32
  } -> tensor<4x3xf32>
  return %relu : tensor<4x3xf32>
}

// -----

// linalg.matmul with transposing indexing maps (the former matmul_transpose_b)
// and the bias broadcast into the init.
// CHECK-LABEL: func.func @matmul_transpose_b_bias_init
// CHECK:         %[[Y:.+]] = sparsenn.linear %arg0, %{{.+}}, %arg1 : tensor<4x8xf32>, tensor<3x8xf32>, tensor<3xf32> -> tensor<4x3xf32>
// CHECK-NEXT:    return %[[Y]]
func.func @matmul_transpose_b_bias_init(%x: tensor<4x8xf32>, %b: tensor<3xf32>) -> tensor<4x3xf32> {
  %w = arith.constant dense<0.5> : tensor<3x8xf32>
  %e = tensor.empty() : tensor<4x3xf32>
  %init = linalg.broadcast ins(%b : tensor<3xf32>) outs(%e : tensor<4x3xf32>) dimensions = [0]
  %mm = linalg.matmul
      indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>,
                       affine_map<(d0, d1, d2) -> (d1, d2)>,
                       affine_map<(d0, d1, d2) -> (d0, d1)>]
      ins(%x, %w : tensor<4x8xf32>, tensor<3x8xf32>) outs(%init : tensor<4x3xf32>) -> tensor<4x3xf32>
  return %mm : tensor<4x3xf32>
}

// -----

// batch_matmul whose constant weights repeat one matrix: a linear layer on
// rank-3 input. A per-feature arith.addf constant becomes the bias.
// CHECK-LABEL: func.func @batch_matmul_shared
// CHECK:         %[[Y:.+]] = sparsenn.linear %arg0, %{{.+}}, %{{.+}} : tensor<2x5x4xf32>, tensor<3x4xf32>, tensor<3xf32> -> tensor<2x5x3xf32>
// CHECK-NEXT:    return %[[Y]]
func.func @batch_matmul_shared(%x: tensor<2x5x4xf32>) -> tensor<2x5x3xf32> {
  %w = arith.constant dense<1.5> : tensor<2x4x3xf32>
  %bias = arith.constant dense<[[[1.0, 2.0, 3.0]]]> : tensor<1x1x3xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x5x3xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x5x3xf32>) -> tensor<2x5x3xf32>
  %mm = linalg.batch_matmul ins(%x, %w : tensor<2x5x4xf32>, tensor<2x4x3xf32>) outs(%z : tensor<2x5x3xf32>) -> tensor<2x5x3xf32>
  %bb = arith.constant dense<[[[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]]> : tensor<2x5x3xf32>
  %y = arith.addf %mm, %bb : tensor<2x5x3xf32>
  return %y : tensor<2x5x3xf32>
}

// -----

// Different weights per batch: not a layer, left alone.
// CHECK-LABEL: func.func @batch_matmul_distinct
// CHECK-NOT:     sparsenn.linear
// CHECK:         linalg.batch_matmul
func.func @batch_matmul_distinct(%x: tensor<2x5x2xf32>) -> tensor<2x5x1xf32> {
  %w = arith.constant dense<[[[1.0], [2.0]], [[3.0], [4.0]]]> : tensor<2x2x1xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x5x1xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x5x1xf32>) -> tensor<2x5x1xf32>
  %mm = linalg.batch_matmul ins(%x, %w : tensor<2x5x2xf32>, tensor<2x2x1xf32>) outs(%z : tensor<2x5x1xf32>) -> tensor<2x5x1xf32>
  return %mm : tensor<2x5x1xf32>
}

// -----

// Unrecognised: both operands variable, the constant on the left, integer
// matmul, grouped conv. All stay as they are. A padding value that is not
// zero stays a tensor.pad in front of the raised conv.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT:     sparsenn.linear
// CHECK-COUNT-3: linalg.matmul
// CHECK:         %[[P:.+]] = tensor.pad
// CHECK:         sparsenn.conv2d %[[P]], %{{.+}} : tensor<1x2x7x7xf32>
// CHECK:         linalg.conv_2d_ngchw_fgchw
func.func @left_alone(%x: tensor<4x8xf32>, %w: tensor<8x3xf32>, %i: tensor<4x8xi32>, %img: tensor<1x2x5x5xf32>, %g: tensor<1x2x2x5x5xf32>)
    -> (tensor<4x3xf32>, tensor<3x8xf32>, tensor<4x3xi32>, tensor<1x3x5x5xf32>, tensor<1x2x2x3x3xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x3xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<4x3xf32>) -> tensor<4x3xf32>
  %a = linalg.matmul ins(%x, %w : tensor<4x8xf32>, tensor<8x3xf32>) outs(%z : tensor<4x3xf32>) -> tensor<4x3xf32>
  %c = arith.constant dense<1.0> : tensor<3x4xf32>
  %e2 = tensor.empty() : tensor<3x8xf32>
  %z2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<3x8xf32>) -> tensor<3x8xf32>
  %b = linalg.matmul ins(%c, %x : tensor<3x4xf32>, tensor<4x8xf32>) outs(%z2 : tensor<3x8xf32>) -> tensor<3x8xf32>
  %ci = arith.constant dense<1> : tensor<8x3xi32>
  %zi = arith.constant dense<0> : tensor<4x3xi32>
  %d = linalg.matmul ins(%i, %ci : tensor<4x8xi32>, tensor<8x3xi32>) outs(%zi : tensor<4x3xi32>) -> tensor<4x3xi32>
  %one = arith.constant 1.0 : f32
  %p = tensor.pad %img low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i0: index, %i1: index, %i2: index, %i3: index):
    tensor.yield %one : f32
  } : tensor<1x2x5x5xf32> to tensor<1x2x7x7xf32>
  %f = arith.constant dense<1.0> : tensor<3x2x3x3xf32>
  %e3 = tensor.empty() : tensor<1x3x5x5xf32>
  %z3 = linalg.fill ins(%zero : f32) outs(%e3 : tensor<1x3x5x5xf32>) -> tensor<1x3x5x5xf32>
  %conv = linalg.conv_2d_nchw_fchw ins(%p, %f : tensor<1x2x7x7xf32>, tensor<3x2x3x3xf32>) outs(%z3 : tensor<1x3x5x5xf32>) -> tensor<1x3x5x5xf32>
  %gf = arith.constant dense<1.0> : tensor<2x2x2x3x3xf32>
  %e4 = tensor.empty() : tensor<1x2x2x3x3xf32>
  %z4 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<1x2x2x3x3xf32>) -> tensor<1x2x2x3x3xf32>
  %gc = linalg.conv_2d_ngchw_fgchw ins(%g, %gf : tensor<1x2x2x5x5xf32>, tensor<2x2x2x3x3xf32>) outs(%z4 : tensor<1x2x2x3x3xf32>) -> tensor<1x2x2x3x3xf32>
  return %a, %b, %d, %conv, %gc : tensor<4x3xf32>, tensor<3x8xf32>, tensor<4x3xi32>, tensor<1x3x5x5xf32>, tensor<1x2x2x3x3xf32>
}

// -----

// NCHW conv (torch-mlir form: zero tensor.pad, bias broadcast into the
// init by a linalg.generic), stride 2.
#bias4 = affine_map<(d0, d1, d2, d3) -> (d1)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @conv_nchw
// CHECK:         %[[Y:.+]] = sparsenn.conv2d %arg0, %{{.+}}, %{{.+}} {padding = array<i64: 1, 1, 2, 2>, strides = array<i64: 2, 2>} : tensor<1x2x6x6xf32>, tensor<3x2x3x3xf32>, tensor<3xf32> -> tensor<1x3x3x4xf32>
// CHECK-NEXT:    return %[[Y]]
func.func @conv_nchw(%x: tensor<1x2x6x6xf32>) -> tensor<1x3x3x4xf32> {
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1, 2] high[0, 0, 1, 2] {
  ^bb0(%i0: index, %i1: index, %i2: index, %i3: index):
    tensor.yield %zero : f32
  } : tensor<1x2x6x6xf32> to tensor<1x2x8x10xf32>
  %f = arith.constant dense<0.25> : tensor<3x2x3x3xf32>
  %b = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %e = tensor.empty() : tensor<1x3x3x4xf32>
  %init = linalg.generic {indexing_maps = [#bias4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%b : tensor<3xf32>) outs(%e : tensor<1x3x3x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x3x3x4xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
      ins(%p, %f : tensor<1x2x8x10xf32>, tensor<3x2x3x3xf32>) outs(%init : tensor<1x3x3x4xf32>) -> tensor<1x3x3x4xf32>
  return %y : tensor<1x3x3x4xf32>
}

// -----

// NHWC / HWCF filter: permuted to OIHW at compile time.
// CHECK-LABEL: func.func @conv_nhwc_hwcf
// CHECK-DAG:     %[[W:.+]] = arith.constant dense<{{\[\[\[\[}}1.000000e+00]], {{\[\[}}3.000000e+00]]], {{\[\[\[}}2.000000e+00]], {{\[\[}}4.000000e+00]]]]> : tensor<2x2x1x1xf32>
// CHECK:         %[[T:.+]] = linalg.transpose ins(%arg0 : tensor<1x4x4x2xf32>) outs(%{{.+}} : tensor<1x2x4x4xf32>) permutation = [0, 3, 1, 2]
// CHECK:         %[[Y:.+]] = sparsenn.conv2d %[[T]], %[[W]] : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32> -> tensor<1x2x4x4xf32>
// CHECK:         linalg.transpose ins(%[[Y]] : tensor<1x2x4x4xf32>) outs(%{{.+}} : tensor<1x4x4x2xf32>) permutation = [0, 2, 3, 1]
func.func @conv_nhwc_hwcf(%x: tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32> {
  %zero = arith.constant 0.0 : f32
  %f = arith.constant dense<[[[[1.0, 2.0], [3.0, 4.0]]]]> : tensor<1x1x2x2xf32>
  %e = tensor.empty() : tensor<1x4x4x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32>
  %y = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %f : tensor<1x4x4x2xf32>, tensor<1x1x2x2xf32>) outs(%z : tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32>
  return %y : tensor<1x4x4x2xf32>
}

// -----

// Depthwise NCHW: one filter per channel, groups = C.
// CHECK-LABEL: func.func @depthwise_nchw
// CHECK:         sparsenn.conv2d %arg0, %{{.+}} {dilations = array<i64: 2, 2>, groups = 3 : i64} : tensor<1x3x7x7xf32>, tensor<3x1x3x3xf32> -> tensor<1x3x3x3xf32>
func.func @depthwise_nchw(%x: tensor<1x3x7x7xf32>) -> tensor<1x3x3x3xf32> {
  %zero = arith.constant 0.0 : f32
  %f = arith.constant dense<0.5> : tensor<3x3x3xf32>
  %e = tensor.empty() : tensor<1x3x3x3xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x3x3x3xf32>) -> tensor<1x3x3x3xf32>
  %y = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<2> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %f : tensor<1x3x7x7xf32>, tensor<3x3x3xf32>) outs(%z : tensor<1x3x3x3xf32>) -> tensor<1x3x3x3xf32>
  return %y : tensor<1x3x3x3xf32>
}

// -----

// A chain of NHWC layers runs in NCHW: one transpose in, one out. The
// relu, padding and max pooling in between move with the data.
#m4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @nhwc_chain
// CHECK-COUNT-1: linalg.transpose
// CHECK:         sparsenn.conv2d
// CHECK:         linalg.generic
// CHECK:         linalg.pooling_nchw_max
// CHECK:         sparsenn.conv2d %{{.+}} {groups = 4 : i64, padding = array<i64: 1, 1, 1, 1>}
// CHECK-COUNT-1: linalg.transpose
// CHECK-NOT:     linalg.transpose
// CHECK:         return
func.func @nhwc_chain(%x: tensor<1x8x8x3xf32>) -> tensor<1x4x4x4xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant -3.40282347E+38 : f32
  %f = arith.constant dense<0.1> : tensor<4x3x3x3xf32>
  %e = tensor.empty() : tensor<1x6x6x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x6x6x4xf32>) -> tensor<1x6x6x4xf32>
  %c = linalg.conv_2d_nhwc_fhwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %f : tensor<1x8x8x3xf32>, tensor<4x3x3x3xf32>) outs(%z : tensor<1x6x6x4xf32>) -> tensor<1x6x6x4xf32>
  %r = linalg.generic {indexing_maps = [#m4, #m4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c : tensor<1x6x6x4xf32>) outs(%e : tensor<1x6x6x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x6x6x4xf32>
  %win = tensor.empty() : tensor<2x2xf32>
  %pe = tensor.empty() : tensor<1x3x3x4xf32>
  %pf = linalg.fill ins(%ninf : f32) outs(%pe : tensor<1x3x3x4xf32>) -> tensor<1x3x3x4xf32>
  %p = linalg.pooling_nhwc_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
      ins(%r, %win : tensor<1x6x6x4xf32>, tensor<2x2xf32>) outs(%pf : tensor<1x3x3x4xf32>) -> tensor<1x3x3x4xf32>
  %pad = tensor.pad %p low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%i0: index, %i1: index, %i2: index, %i3: index):
    tensor.yield %zero : f32
  } : tensor<1x3x3x4xf32> to tensor<1x5x5x4xf32>
  %df = arith.constant dense<0.2> : tensor<3x3x4xf32>
  %de = tensor.empty() : tensor<1x3x3x4xf32>
  %dz = linalg.fill ins(%zero : f32) outs(%de : tensor<1x3x3x4xf32>) -> tensor<1x3x3x4xf32>
  %d = linalg.depthwise_conv_2d_nhwc_hwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%pad, %df : tensor<1x5x5x4xf32>, tensor<3x3x4xf32>) outs(%dz : tensor<1x3x3x4xf32>) -> tensor<1x3x3x4xf32>
  %o = tensor.expand_shape %d [[0], [1], [2, 3], [4]] output_shape [1, 3, 3, 1, 4] : tensor<1x3x3x4xf32> into tensor<1x3x3x1x4xf32>
  %oc = tensor.collapse_shape %o [[0], [1], [2, 3], [4]] : tensor<1x3x3x1x4xf32> into tensor<1x3x3x4xf32>
  %out = tensor.pad %oc low[0, 0, 0, 0] high[0, 1, 1, 0] {
  ^bb0(%i0: index, %i1: index, %i2: index, %i3: index):
    tensor.yield %zero : f32
  } : tensor<1x3x3x4xf32> to tensor<1x4x4x4xf32>
  return %out : tensor<1x4x4x4xf32>
}
