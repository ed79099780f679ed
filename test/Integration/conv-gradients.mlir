// The conv2d gradient ops and the transposed matmuls of the training step,
// run by sparse-run on the runtime kernels and, lowered with
// runtime-weight-kernels=false gemm-kernels=false, on linalg loops, against
// PyTorch autograd in float64 (tolerance 1e-4 relative to the largest
// gradient): stride 2 with asymmetric padding, dilation 2, a mask.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python -c "import numpy as np; r = np.random.default_rng(4); \
// RUN:   [np.save('%t/%%s.npy' %% n, r.standard_normal(s).astype(np.float32)) for n, s in \
// RUN:    (('x', (2, 3, 9, 8)), ('w', (4, 3, 3, 3)), ('dy', (2, 4, 4, 4)), ('dy2', (2, 4, 5, 4)), ('a', (6, 7)), ('b', (6, 5)))]; \
// RUN:   np.save('%t/m.npy', (r.random((4, 3, 3, 3)) < 0.3).astype(np.float32))"
// RUN: sparse-run %s --entry grads --input %t/x.npy --input %t/w.npy --input %t/dy.npy --input %t/dy2.npy --input %t/m.npy --input %t/a.npy --input %t/b.npy --output-dir %t/rt
// RUN: sparse-opt %s --convert-sparsenn-to-linalg="runtime-weight-kernels=false gemm-kernels=false" -o %t/loops.mlir
// RUN: sparse-run %t/loops.mlir --entry grads --input %t/x.npy --input %t/w.npy --input %t/dy.npy --input %t/dy2.npy --input %t/m.npy --input %t/a.npy --input %t/b.npy --output-dir %t/loops
// RUN: %python %S/Inputs/check_conv_gradients.py %t

func.func @grads(%x: tensor<2x3x9x8xf32>, %w: tensor<4x3x3x3xf32>, %dy: tensor<2x4x4x4xf32>,
                 %dy2: tensor<2x4x5x4xf32>, %m: tensor<4x3x3x3xf32>, %a: tensor<6x7xf32>, %b: tensor<6x5xf32>)
    -> (tensor<2x3x9x8xf32>, tensor<4x3x3x3xf32>, tensor<4x3x3x3xf32>, tensor<2x3x9x8xf32>,
        tensor<4x3x3x3xf32>, tensor<7x5xf32>) {
  // Stride 2, padding [1, 0, 1, 1]: OH = (9 + 1 - 3) / 2 + 1 = 4, OW = (8 + 2 - 3) / 2 + 1 = 4.
  %dx = sparsenn.conv2d_backward_input %dy, %w {strides = array<i64: 2, 2>, padding = array<i64: 1, 0, 1, 1>}
      : tensor<2x4x4x4xf32>, tensor<4x3x3x3xf32> -> tensor<2x3x9x8xf32>
  %dw = sparsenn.conv2d_backward_weight %x, %dy {strides = array<i64: 2, 2>, padding = array<i64: 1, 0, 1, 1>}
      : tensor<2x3x9x8xf32>, tensor<2x4x4x4xf32> -> tensor<4x3x3x3xf32>
  // Stride 1, padding 0, a mask: the runtime's flat masked path.
  %dm = sparsenn.conv2d_backward_weight %x, %dy2 mask %m {dilations = array<i64: 2, 2>}
      : tensor<2x3x9x8xf32>, tensor<2x4x5x4xf32>, tensor<4x3x3x3xf32> -> tensor<4x3x3x3xf32>
  %dx2 = sparsenn.conv2d_backward_input %dy2, %w {dilations = array<i64: 2, 2>}
      : tensor<2x4x5x4xf32>, tensor<4x3x3x3xf32> -> tensor<2x3x9x8xf32>
  %dm1 = sparsenn.conv2d_backward_weight %x, %dy mask %m {strides = array<i64: 2, 2>, padding = array<i64: 1, 0, 1, 1>}
      : tensor<2x3x9x8xf32>, tensor<2x4x4x4xf32>, tensor<4x3x3x3xf32> -> tensor<4x3x3x3xf32>
  // aᵀ·b as the adjoint builds it.
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<7x5xf32>
  %zero = linalg.fill ins(%z : f32) outs(%e : tensor<7x5xf32>) -> tensor<7x5xf32>
  %atb = linalg.matmul indexing_maps = [affine_map<(i, j, k) -> (k, i)>, affine_map<(i, j, k) -> (k, j)>, affine_map<(i, j, k) -> (i, j)>]
      ins(%a, %b : tensor<6x7xf32>, tensor<6x5xf32>) outs(%zero : tensor<7x5xf32>) -> tensor<7x5xf32>
  return %dx, %dw, %dm, %dx2, %dm1, %atb : tensor<2x3x9x8xf32>, tensor<4x3x3x3xf32>, tensor<4x3x3x3xf32>,
      tensor<2x3x9x8xf32>, tensor<4x3x3x3xf32>, tensor<7x5xf32>
}
