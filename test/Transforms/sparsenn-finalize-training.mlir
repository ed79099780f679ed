// RUN: rm -rf %t && mkdir -p %t
// RUN: %python -c "import numpy as np; np.save('%t/arg1.npy', np.array([[0.1, -2.0, 0.3, 4.0], [0.5, 0.6, -0.7, 8.0]], np.float32)); np.save('%t/arg2.npy', np.array(0.0, np.float32)); np.save('%t/arg3.npy', np.array([0.25, 0.5], np.float32))"
// RUN: sparse-opt %s --sparsenn-finalize-training="params=%t" | FileCheck %s
// RUN: %python -c "import numpy as np; np.save('%t/arg1.npy', np.zeros((3, 4), np.float32))"
// RUN: not sparse-opt %s --sparsenn-finalize-training="params=%t" 2>&1 | FileCheck %s --check-prefix=SHAPE
// RUN: %python -c "import numpy as np; np.save('%t/arg1.npy', np.zeros((2, 4), np.float32))" && rm %t/arg3.npy
// RUN: not sparse-opt %s --sparsenn-finalize-training="params=%t" 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not sparse-opt %s --sparsenn-finalize-training="function=nope" 2>&1 | FileCheck %s --check-prefix=NOFUNC

// The trained weights, sparsity parameter and duty cycles become constants
// and leave the signature; the quantile prune with the learned s (sigmoid(0)
// = 0.5: the 4 smallest of 8 go) is evaluated into constant pruned weights;
// the training step is dropped.
// CHECK-LABEL: func.func @forward(%arg0: tensor<1x4xf32>) -> tensor<1x2xf32>
// CHECK-DAG:     %[[W:.+]] = arith.constant dense<{{\[\[}}0.000000e+00, -2.000000e+00, 0.000000e+00, 4.000000e+00], [0.000000e+00, 0.000000e+00, -0.699999988, 8.000000e+00]]> : tensor<2x4xf32>
// CHECK-DAG:     %[[D:.+]] = arith.constant dense<[2.500000e-01, 5.000000e-01]> : tensor<2xf32>
// CHECK:         %[[H:.+]] = sparsenn.linear %arg0, %[[W]]
// CHECK:         sparsenn.kwinners <global> %[[H]] duty_cycle %[[D]]
// CHECK-NOT:     sparsenn.prune
// CHECK-NOT:     train_step
// SHAPE: sparsenn-finalize-training: '{{.*}}arg1.npy' holds float32 of shape (3, 4), argument #1 is 'tensor<2x4xf32>'
// MISSING: sparsenn-finalize-training: argument #3:
// NOFUNC: sparsenn-finalize-training: no function 'nope'
func.func @forward(%x: tensor<1x4xf32>, %w: tensor<2x4xf32> {sparsenn.trainable}, %s: tensor<f32> {sparsenn.trainable}, %d: tensor<2xf32> {sparsenn.duty_cycle}) -> tensor<1x2xf32> {
  %p, %m = sparsenn.prune <quantile> %w, %s : tensor<2x4xf32>, tensor<f32> -> tensor<2x4xf32>, tensor<2x4xi1>
  %h = sparsenn.linear %x, %p : tensor<1x4xf32>, tensor<2x4xf32> -> tensor<1x2xf32>
  %k = sparsenn.kwinners <global> %h duty_cycle %d k = 1 boost = 1.0 relu : tensor<1x2xf32>, tensor<2xf32> -> tensor<1x2xf32>
  return %k : tensor<1x2xf32>
}

func.func @forward_train_step() {
  return
}
