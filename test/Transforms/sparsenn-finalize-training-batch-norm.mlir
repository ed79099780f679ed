// Finalisation of batch normalisation: the running statistics become
// constants, every batch_norm takes the inference form, and one after a
// layer with constant weights folds into its weights and bias (the zero
// weight stays zero); the result, run by sparse-run, matches PyTorch's
// inference (F.batch_norm with training=False) within 1e-5.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/batch_norm_params.py %t
// RUN: sparse-opt %s --sparsenn-finalize-training="params=%t" | FileCheck %s
// RUN: sparse-opt %s --sparsenn-finalize-training="params=%t" -o %t/final.mlir
// RUN: sparse-run %t/final.mlir --entry forward --input %t/x.npy --output-dir %t/out
// RUN: %python %S/Inputs/batch_norm_params.py %t --check %t/out/result0.npy

// CHECK-LABEL: func.func @forward(%arg0: tensor<2x1x5x5xf32>) -> tensor<2x2x3x3xf32>
// The input's batch norm has no layer before it: inference form.
// CHECK:         %[[N:.+]] = sparsenn.batch_norm %arg0, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} {epsilon = 1.000000e-03 : f64} : tensor<2x1x5x5xf32>, tensor<1xf32>
// The conv's batch norm is folded: scaled weights (w[0, 0, 1, 1] = 0 stays
// 0) and a bias.
// CHECK:         %[[C:.+]] = sparsenn.conv2d %[[N]], %{{.+}}, %{{.+}} : tensor<2x1x5x5xf32>, tensor<2x1x3x3xf32>, tensor<2xf32> -> tensor<2x2x3x3xf32>
// CHECK-NOT:     sparsenn.batch_norm
// CHECK:         return %[[C]]
// CHECK-NOT:     train_step
func.func @forward(%x: tensor<2x1x5x5xf32>,
                   %g0: tensor<1xf32> {sparsenn.trainable}, %b0: tensor<1xf32> {sparsenn.trainable},
                   %m0: tensor<1xf32> {sparsenn.running_stat}, %v0: tensor<1xf32> {sparsenn.running_stat},
                   %w: tensor<2x1x3x3xf32> {sparsenn.trainable},
                   %g1: tensor<2xf32> {sparsenn.trainable}, %b1: tensor<2xf32> {sparsenn.trainable},
                   %m1: tensor<2xf32> {sparsenn.running_stat}, %v1: tensor<2xf32> {sparsenn.running_stat}) -> tensor<2x2x3x3xf32> {
  %n0 = sparsenn.batch_norm %x, %g0, %b0, %m0, %v0 {epsilon = 1.0e-3, training} : tensor<2x1x5x5xf32>, tensor<1xf32>
  %c = sparsenn.conv2d %n0, %w : tensor<2x1x5x5xf32>, tensor<2x1x3x3xf32> -> tensor<2x2x3x3xf32>
  %n1 = sparsenn.batch_norm %c, %g1, %b1, %m1, %v1 {epsilon = 1.0e-3, training} : tensor<2x2x3x3xf32>, tensor<2xf32>
  return %n1 : tensor<2x2x3x3xf32>
}

func.func @forward_train_step() {
  return
}
