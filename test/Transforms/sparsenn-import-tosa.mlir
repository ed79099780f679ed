// RUN: sparse-opt %s --sparsenn-import --split-input-file | FileCheck %s
// RUN: sparse-opt %s --sparsenn-import=verbose --split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK

// A small TOSA CNN in the form TOSA front ends emit (NHWC, OHWI weights,
// zero points as operands, clamp for relu, reshape + matmul for the
// classifier). It becomes an NCHW sparsenn network with one transpose at the
// input; the flatten of NHWC data is absorbed into the linear weights.
// CHECK-LABEL: func.func @tosa_cnn
// CHECK-NOT:     tosa.conv2d
// CHECK:         linalg.transpose ins(%arg0 : tensor<1x8x8x3xf32>) {{.*}} permutation = [0, 3, 1, 2]
// CHECK:         %[[C:.+]] = sparsenn.conv2d %{{.+}}, %{{.+}}, %{{.+}} {padding = array<i64: 1, 1, 1, 1>} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32> -> tensor<1x4x8x8xf32>
// CHECK:         %[[R:.+]] = arith.maximumf %[[C]], %{{.+}} : tensor<1x4x8x8xf32>
// CHECK:         %[[P:.+]] = linalg.pooling_nchw_max {{.*}} ins(%[[R]],
// CHECK:         %[[D:.+]] = sparsenn.conv2d %[[P]], %{{.+}} {groups = 4 : i64, padding = array<i64: 1, 1, 1, 1>} : tensor<1x4x4x4xf32>, tensor<4x1x3x3xf32> -> tensor<1x4x4x4xf32>
// CHECK:         %[[F:.+]] = tensor.collapse_shape %[[D]] {{\[\[}}0], [1, 2, 3]] : tensor<1x4x4x4xf32> into tensor<1x64xf32>
// CHECK:         %[[L:.+]] = sparsenn.linear %[[F]], %{{.+}} : tensor<1x64xf32>, tensor<10x64xf32> -> tensor<1x10xf32>
// CHECK:         return %[[L]]
// REMARK-COUNT-3: remark: sparsenn-import: raised to sparsenn.
func.func @tosa_cnn(%x: tensor<1x8x8x3xf32>) -> tensor<1x10xf32> {
  %w1 = "tosa.const"() {values = dense<0.5> : tensor<4x3x3x3xf32>} : () -> tensor<4x3x3x3xf32>
  %b1 = "tosa.const"() {values = dense<[0.1, 0.2, 0.3, 0.4]> : tensor<4xf32>} : () -> tensor<4xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %x, %w1, %b1, %zp, %zp {acc_type = f32, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x8x8x3xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x8x8x4xf32>
  %r = tosa.clamp %c {min_val = 0.0 : f32, max_val = 3.4028235e38 : f32} : (tensor<1x8x8x4xf32>) -> tensor<1x8x8x4xf32>
  %p = tosa.max_pool2d %r {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>} : (tensor<1x8x8x4xf32>) -> tensor<1x4x4x4xf32>
  %wd = "tosa.const"() {values = dense<0.25> : tensor<3x3x4x1xf32>} : () -> tensor<3x3x4x1xf32>
  %bd = "tosa.const"() {values = dense<0.0> : tensor<4xf32>} : () -> tensor<4xf32>
  %d = tosa.depthwise_conv2d %p, %wd, %bd, %zp, %zp {acc_type = f32, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x4x4x4xf32>, tensor<3x3x4x1xf32>, tensor<4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x4xf32>
  %s = tosa.const_shape {values = dense<[1, 1, 64]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %f = tosa.reshape %d, %s : (tensor<1x4x4x4xf32>, !tosa.shape<3>) -> tensor<1x1x64xf32>
  %wm = "tosa.const"() {values = dense<0.01> : tensor<1x64x10xf32>} : () -> tensor<1x64x10xf32>
  %m = tosa.matmul %f, %wm, %zp, %zp : (tensor<1x1x64xf32>, tensor<1x64x10xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x10xf32>
  %s2 = tosa.const_shape {values = dense<[1, 10]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %o = tosa.reshape %m, %s2 : (tensor<1x1x10xf32>, !tosa.shape<2>) -> tensor<1x10xf32>
  return %o : tensor<1x10xf32>
}

// -----

// Depthwise with a channel multiplier M = 2: output channel c·M + m.
// CHECK-LABEL: func.func @tosa_depthwise_multiplier
// CHECK:         %[[W:.+]] = arith.constant dense<{{\[\[\[\[}}1.000000e+00]]], {{\[\[\[}}2.000000e+00]]], {{\[\[\[}}3.000000e+00]]], {{\[\[\[}}4.000000e+00]]]]> : tensor<4x1x1x1xf32>
// CHECK:         sparsenn.conv2d %{{.+}}, %[[W]] {groups = 2 : i64} : tensor<1x2x3x3xf32>, tensor<4x1x1x1xf32> -> tensor<1x4x3x3xf32>
func.func @tosa_depthwise_multiplier(%x: tensor<1x3x3x2xf32>) -> tensor<1x3x3x4xf32> {
  %w = "tosa.const"() {values = dense<[[[[1.0, 2.0], [3.0, 4.0]]]]> : tensor<1x1x2x2xf32>} : () -> tensor<1x1x2x2xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<4xf32>} : () -> tensor<4xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %d = tosa.depthwise_conv2d %x, %w, %b, %zp, %zp {acc_type = f32, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x3x3x2xf32>, tensor<1x1x2x2xf32>, tensor<4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x3x3x4xf32>
  return %d : tensor<1x3x3x4xf32>
}

// -----

// Left alone: clamp to [0, 6] (relu6 is not relu), a matmul with variable
// weights, and an integer (quantised) conv.
// CHECK-LABEL: func.func @tosa_left_alone
// CHECK-NOT:     sparsenn.
// CHECK:         tosa.clamp
// CHECK:         tosa.matmul
// CHECK:         tosa.conv2d
// CHECK-NOT:     sparsenn.
func.func @tosa_left_alone(%x: tensor<1x4x4xf32>, %y: tensor<1x4x4xf32>, %q: tensor<1x4x4x2xi8>) -> (tensor<1x4x4xf32>, tensor<1x4x4xf32>, tensor<1x4x4x2xi32>) {
  %c = tosa.clamp %x {min_val = 0.0 : f32, max_val = 6.0 : f32} : (tensor<1x4x4xf32>) -> tensor<1x4x4xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %m = tosa.matmul %x, %y, %zp, %zp : (tensor<1x4x4xf32>, tensor<1x4x4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4xf32>
  %w = "tosa.const"() {values = dense<1> : tensor<2x1x1x2xi8>} : () -> tensor<2x1x1x2xi8>
  %b = "tosa.const"() {values = dense<0> : tensor<2xi32>} : () -> tensor<2xi32>
  %zpi = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %qc = tosa.conv2d %q, %w, %b, %zpi, %zpi {acc_type = i32, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x4x4x2xi8>, tensor<2x1x1x2xi8>, tensor<2xi32>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x4x4x2xi32>
  return %c, %m, %qc : tensor<1x4x4xf32>, tensor<1x4x4xf32>, tensor<1x4x4x2xi32>
}
