// RUN: sparse-opt %s --sparsenn-sparsify | FileCheck %s --check-prefix=DEFAULT
// RUN: sparse-opt %s --sparsenn-sparsify="sparsity=0.5" 2>/dev/null | FileCheck %s --check-prefix=HALF
// RUN: sparse-opt %s --sparsenn-sparsify="layer-sparsity=-1,0.75 compress=true" 2>/dev/null | FileCheck %s --check-prefix=LAYER
// RUN: sparse-opt %s --sparsenn-sparsify="sparsity=0.5 import=false" | FileCheck %s --check-prefix=NOIMPORT
// RUN: sparse-opt %s --sparsenn-sparsify-to-llvm="sparsity=0.5" 2>/dev/null | FileCheck %s --check-prefix=LLVM
// RUN: not sparse-opt %s --sparsenn-sparsify="method=median" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not sparse-opt %s --sparsenn-sparsify="layer-sparsity=0.5" 2>&1 | FileCheck %s --check-prefix=COUNT

// linalg in the form upstream's tosa-to-linalg-named emits for a TOSA conv
// (NHWC, FHWC filter, bias broadcast into the init) followed by relu and a
// matmul classifier on the flattened NHWC data.
#bias = affine_map<(d0, d1, d2, d3) -> (d3)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @net(%x: tensor<1x4x4x2xf32>) -> tensor<1x3xf32> {
  %zero = arith.constant 0.0 : f32
  %f = arith.constant dense<[[[[1.0, -2.0]]], [[[0.5, 0.25]]], [[[-3.0, 4.0]]], [[[0.125, -0.5]]]]> : tensor<4x1x1x2xf32>
  %b = arith.constant dense<[0.0, 0.0, 0.0, 0.0]> : tensor<4xf32>
  %e = tensor.empty() : tensor<1x4x4x4xf32>
  %init = linalg.generic {indexing_maps = [#bias, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%b : tensor<4xf32>) outs(%e : tensor<1x4x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x4x4x4xf32>
  %c = linalg.conv_2d_nhwc_fhwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %f : tensor<1x4x4x2xf32>, tensor<4x1x1x2xf32>) outs(%init : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c : tensor<1x4x4x4xf32>) outs(%e : tensor<1x4x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x4x4x4xf32>
  %flat = tensor.collapse_shape %r [[0], [1, 2, 3]] : tensor<1x4x4x4xf32> into tensor<1x64xf32>
  %w = arith.constant dense<0.5> : tensor<64x3xf32>
  %e2 = tensor.empty() : tensor<1x3xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e2 : tensor<1x3xf32>) -> tensor<1x3xf32>
  %y = linalg.matmul ins(%flat, %w : tensor<1x64xf32>, tensor<64x3xf32>) outs(%z : tensor<1x3xf32>) -> tensor<1x3xf32>
  return %y : tensor<1x3xf32>
}

// Default options: layers raised and kernels chosen, values untouched.
// DEFAULT:     sparsenn.conv2d {{.*}}kernel = #sparsenn.kernel<dense>{{.*}} : tensor<1x2x4x4xf32>, tensor<4x2x1x1xf32>, tensor<4xf32> -> tensor<1x4x4x4xf32>
// DEFAULT:     tensor.collapse_shape {{.*}} {{\[\[}}0], [1, 2, 3]] : tensor<1x4x4x4xf32> into tensor<1x64xf32>
// DEFAULT:     sparsenn.linear {{.*}} : tensor<1x64xf32>, tensor<3x64xf32> -> tensor<1x3xf32>

// Half the weights go: filters 1 and 3 have the smallest magnitudes and go
// whole, so channel propagation removes their channels from the conv, the
// relu and the classifier's columns (through the flatten).
// HALF:        sparsenn.conv2d {{.*}} : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, tensor<2xf32> -> tensor<1x2x4x4xf32>
// HALF:        tensor.collapse_shape {{.*}} into tensor<1x32xf32>
// HALF:        sparsenn.linear {{.*}}kernel = #sparsenn.kernel<block16>{{.*}} : tensor<1x32xf32>, tensor<3x32xf32> -> tensor<1x3xf32>

// Per-layer: the conv is not pruned itself, the classifier is pruned to
// 25 % (which leaves some conv channels unread, so they go), and every
// layer's weights are SPGC8-compressed.
// LAYER:       sparsenn.compressed_constant
// LAYER:       sparsenn.conv2d {{.*}}!sparsenn.spgc8<{{[1-4]}}x2x1x1xi8>
// LAYER:       sparsenn.compressed_constant
// LAYER:       sparsenn.linear {{.*}}kernel = #sparsenn.kernel<{{.*}}!sparsenn.spgc8<3x{{[0-9]+}}xi8>

// import=false: the linalg stays, nothing to prune.
// NOIMPORT-NOT: sparsenn.
// NOIMPORT:    linalg.conv_2d_nhwc_fhwc
// NOIMPORT:    linalg.matmul

// LLVM:        llvm.func @net
// LLVM-NOT:    sparsenn.

// BAD:         for the --method option: Cannot find option named 'median'!
// COUNT:       layer-sparsity has 1 entries, the module has 2
