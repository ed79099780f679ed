// RUN: sparse-opt %s -split-input-file --convert-sparsenn-to-gpu | FileCheck %s

// ELL (fixed fan-in 2): values and 16-bit columns packed at compile time,
// one warp per (output row, sample): 4 warps per block, grid (ceil(3/4), 2).
// CHECK-LABEL: func.func @ell
// CHECK-DAG: %[[OUT:.*]] = memref.alloc() : memref<2x3xf32>
// CHECK-DAG: arith.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 0.000000e+00, 4.000000e+00, 5.000000e+00]> : tensor<6xf32>
// CHECK-DAG: arith.constant dense<[0, 3, 1, 0, 2, 3]> : tensor<6xi16>
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %{{.*}}, {{.*}} = %{{.*}}, {{.*}}) threads({{.*}}) in ({{.*}} = %{{.*}}, {{.*}}) module(@sparsenn_kernels) function(@sparsenn_ell_linear)
// CHECK:   scf.for
// CHECK:     memref.load {{.*}} : memref<6xf32>
// CHECK:     memref.load {{.*}} : memref<6xi16>
// CHECK:     arith.extui {{.*}} : i16 to i32
// CHECK:     arith.mulf {{.*}} fastmath<contract>
// CHECK:   gpu.shuffle xor
// CHECK-COUNT-4: gpu.shuffle xor
// CHECK:   memref.store
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
func.func @ell(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %w = arith.constant dense<[[1.0, 0.0, 0.0, 2.0], [0.0, 3.0, 0.0, 0.0], [0.0, 0.0, 4.0, 5.0]]> : tensor<3x4xf32>
  %y = sparsenn.linear %x, %w {kernel = #sparsenn.kernel<ell>} : tensor<2x4xf32>, tensor<3x4xf32> -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// Block16: row pointers, block columns and 16 values per kept block.
// CHECK-LABEL: func.func @block16
// CHECK-DAG: arith.constant dense<[0, 1, 1]> : tensor<3xi32>
// CHECK-DAG: arith.constant dense<16> : tensor<1xi32>
// CHECK: gpu.launch {{.*}} function(@sparsenn_block16_linear)
// CHECK:   scf.for
// CHECK:     memref.load {{.*}} : memref<1xi32>
// CHECK:     memref.load {{.*}} : memref<16xf32>
// CHECK:   gpu.shuffle xor
func.func @block16(%x: tensor<1x32xf32>, %b: tensor<2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<2x32xf32>
  %y = sparsenn.linear %x, %w, %b {kernel = #sparsenn.kernel<block16>} : tensor<1x32xf32>, tensor<2x32xf32>, tensor<2xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// Sparse-sparse: a bias initialisation kernel, then one warp per input that
// skips zeros and scatters its CSC column with atomic adds.
// CHECK-LABEL: func.func @sparse_sparse
// CHECK: gpu.launch {{.*}} function(@sparsenn_sparse_sparse_init)
// CHECK: gpu.launch {{.*}} function(@sparsenn_sparse_sparse_linear)
// CHECK:   arith.cmpf une
// CHECK:   scf.if
// CHECK:     scf.for
// CHECK:       memref.atomic_rmw addf
func.func @sparse_sparse(%x: tensor<3x4xf32>, %b: tensor<2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[1.0, 0.0, 0.0, 2.0], [0.0, 3.0, 0.0, 0.0]]> : tensor<2x4xf32>
  %y = sparsenn.linear %x, %w, %b {kernel = #sparsenn.kernel<sparse_sparse>} : tensor<3x4xf32>, tensor<2x4xf32>, tensor<2xf32> -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// Layers without a GPU kernel (dense weights, non-constant weights) lose
// `kernel` and stay for convert-sparsenn-to-linalg.
// CHECK-LABEL: func.func @dense_fallback
// CHECK-NOT: gpu.launch
// CHECK: sparsenn.linear %{{.*}}, %{{.*}} : tensor<1x4xf32>
// CHECK-NOT: kernel
// CHECK: sparsenn.conv2d %{{.*}}, %{{.*}} : tensor<1x1x4x4xf32>
// CHECK-NOT: kernel
// CHECK: sparsenn.conv2d %{{.*}}, %{{.*}} : tensor<1x1x4x4xf32>
// CHECK-NOT: kernel
func.func @dense_fallback(%x: tensor<1x4xf32>, %w: tensor<2x4xf32>, %i: tensor<1x1x4x4xf32>, %g: tensor<1x1x1x1xf32>) -> (tensor<1x2xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) {
  %y = sparsenn.linear %x, %w {kernel = #sparsenn.kernel<ell>} : tensor<1x4xf32>, tensor<2x4xf32> -> tensor<1x2xf32>
  %f = arith.constant dense<1.0> : tensor<1x1x1x1xf32>
  %c = sparsenn.conv2d %i, %f {kernel = #sparsenn.kernel<dense>} : tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32> -> tensor<1x1x4x4xf32>
  %d = sparsenn.conv2d %i, %g {kernel = #sparsenn.kernel<ell>} : tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32> -> tensor<1x1x4x4xf32>
  return %y, %c, %d : tensor<1x2xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>
}

// -----

// conv2d with sparse taps: tap pointers, tap indices (c * kH + r) * kW + s
// and values packed at compile time; one thread per output element,
// 256 per block (2 * 3 * 4 * 4 = 96 outputs: one block).
// CHECK-LABEL: func.func @conv_taps
// CHECK-DAG: arith.constant dense<[0, 2, 2, 3]> : tensor<4xi32>
// CHECK-DAG: arith.constant dense<[0, 8, 4]> : tensor<3xi32>
// CHECK-DAG: arith.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[ONE:.*]], {{.*}}) threads({{.*}}) in ({{.*}} = %[[T:.*]], {{.*}}) module(@sparsenn_kernels) function(@sparsenn_conv2d_taps)
// CHECK:   scf.for
// CHECK:     arith.cmpi sge
// CHECK:     arith.cmpi slt
// CHECK:     arith.mulf
func.func @conv_taps(%x: tensor<2x1x4x4xf32>) -> tensor<2x3x4x4xf32> {
  %w = arith.constant dense<[[[[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 2.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 0.0]]]]> : tensor<3x1x3x3xf32>
  %y = sparsenn.conv2d %x, %w {padding = array<i64: 1, 1, 1, 1>, kernel = #sparsenn.kernel<ell>} : tensor<2x1x4x4xf32>, tensor<3x1x3x3xf32> -> tensor<2x3x4x4xf32>
  return %y : tensor<2x3x4x4xf32>
}

// -----

// k-winners: one block per domain (global: one per sample), shared
// histogram, tie counts and select state; 4 radix passes; boost factors
// computed in the kernel with a polynomial exp (no libdevice call).
// CHECK-LABEL: func.func @kwinners_global
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[B:.*]], {{.*}}) threads({{.*}}) in ({{.*}} = %[[T:.*]], {{.*}}) module(@sparsenn_kernels) function(@sparsenn_kwinners) workgroup({{.*}} : memref<256xi32, #gpu.address_space<workgroup>>, {{.*}} : memref<256xi32, #gpu.address_space<workgroup>>, {{.*}} : memref<4xi32, #gpu.address_space<workgroup>>)
// CHECK-NOT: math.
// CHECK-COUNT-4: memref.atomic_rmw addi
// CHECK-NOT: math.
// CHECK: gpu.terminator
func.func @kwinners_global(%x: tensor<8x64xf32>, %d: tensor<64xf32>) -> tensor<8x64xf32> {
  %y = sparsenn.kwinners <global> %x duty_cycle %d k = 8 boost = 1.5 break_ties : tensor<8x64xf32>, tensor<64xf32> -> tensor<8x64xf32>
  return %y : tensor<8x64xf32>
}

// -----

// Local mode on NCHW: one block per (sample, position), stride H*W.
// CHECK-LABEL: func.func @kwinners_local
// CHECK: arith.constant 32 : index
// CHECK: gpu.launch {{.*}} function(@sparsenn_kwinners)
// CHECK-NOT: scf.for {{.*}} iter_args({{.*}}) -> (i32) {
// CHECK: gpu.terminator
func.func @kwinners_local(%x: tensor<2x8x4x4xf32>) -> tensor<2x8x4x4xf32> {
  %y = sparsenn.kwinners <local> %x k = 2 relu : tensor<2x8x4x4xf32> -> tensor<2x8x4x4xf32>
  return %y : tensor<2x8x4x4xf32>
}

// -----

// A k-winners that keeps everything folds away.
// CHECK-LABEL: func.func @kwinners_all
// CHECK-NEXT: return %arg0
func.func @kwinners_all(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %y = sparsenn.kwinners <global> %x k = 8 : tensor<2x8xf32> -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// SPGC8: the raw stream stays compressed (27 bytes: 3 of headers, then the
// bodies), decoded per warp in the kernel: per-row body offsets and the
// header code → body width table are computed at compile time; lanes take
// subsets, a warp prefix sum (shuffle up) of the widths locates the bodies,
// bit-planes are gathered and the sign unfolded.
// CHECK-LABEL: func.func @spgc8
// CHECK-DAG: arith.constant dense<[63, 0, 28, 0, 0, 0, 0, 0, 0, 0, 1, -128, 0, -128, -128, -128, -128, -128, -128, 0, 9, 8, 9, 8, 9, 8, 8]> : tensor<27xi8>
// CHECK-DAG: arith.constant dense<[3, 19, 27]> : tensor<3xi32>
// CHECK-DAG: arith.constant dense<[0, 1, 2, 3, 4, 5, 6, 8, 0, 0, 0, 0, 0, 0, 0, 0]> : tensor<16xi32>
// CHECK-DAG: arith.constant dense<[0.0157480314, 0.0236220472]> : tensor<2xf32>
// CHECK: gpu.launch {{.*}} function(@sparsenn_spgc8_linear)
// CHECK:   scf.for
// CHECK:     memref.load {{.*}} : memref<27xi8>
// CHECK:     gpu.shuffle up
// CHECK:     gpu.shuffle idx
// CHECK:     scf.for {{.*}} -> (i32, i32, i32, i32, i32, i32, i32, i32)
// CHECK:     arith.sitofp
// CHECK:   gpu.shuffle xor
func.func @spgc8(%x: tensor<2x20xf32>) -> tensor<2x2xf32> {
  %w = sparsenn.compressed_constant dense<[63, 0, 28, 0, 0, 0, 0, 0, 0, 0, 1, -128, 0, -128, -128, -128, -128, -128, -128, 0, 9, 8, 9, 8, 9, 8, 8]> : tensor<27xi8>, scales dense<[0.0157480314, 0.0236220472]> : tensor<2xf32> : !sparsenn.spgc8<2x20xi8>
  %y = sparsenn.linear %x, %w {kernel = #sparsenn.kernel<spgc8>} : tensor<2x20xf32>, !sparsenn.spgc8<2x20xi8> -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}
