// sparse-run: every bad input is one clear line and exit status 1.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python -c "import numpy as np; np.save('%t/ok.npy', np.ones((2, 4), np.float32)); np.save('%t/shape.npy', np.ones((3, 4), np.float32)); np.save('%t/dtype.npy', np.ones((2, 4), np.float64)); open('%t/bad.npy', 'wb').write(b'not a npy file')"
// RUN: sparse-run %s --entry main --input %t/ok.npy --output-dir %t/out --repeat 3 | FileCheck %s --check-prefix=OK
// RUN: %python -c "import numpy as np; y = np.load('%t/out/result0.npy'); assert y.shape == (2, 3) and y.dtype == np.float32 and (y == 4.0).all(), y"
// RUN: sparse-run %s --entry main --input %t/ok.npy --output-dir %t/out2 --repeat 2 --threads=3 | FileCheck %s --check-prefix=THREADS
// RUN: not sparse-run %s --entry main --input %t/ok.npy --threads 5000 2>&1 | FileCheck %s --check-prefix=BADTHREADS
// RUN: sparse-run %s --entry main --input %t/ok.npy --output-dir %t/out3 --threads 1
// RUN: %python -c "import numpy as np; assert (np.load('%t/out3/result0.npy') == np.load('%t/out2/result0.npy')).all()"
// RUN: not sparse-run %s --entry main --input %t/shape.npy 2>&1 | FileCheck %s --check-prefix=SHAPE
// RUN: not sparse-run %s --entry main --input %t/dtype.npy 2>&1 | FileCheck %s --check-prefix=DTYPE
// RUN: not sparse-run %s --entry main --input %t/bad.npy 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not sparse-run %s --entry main --input %t/missing.npy 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not sparse-run %s --entry main 2>&1 | FileCheck %s --check-prefix=COUNT
// RUN: not sparse-run %s --entry nope --input %t/ok.npy 2>&1 | FileCheck %s --check-prefix=ENTRY
// RUN: not sparse-run %t/none.mlir --entry main 2>&1 | FileCheck %s --check-prefix=FILE
// RUN: echo "func.func @main(" > %t/broken.mlir
// RUN: not sparse-run %t/broken.mlir --entry main 2>&1 | FileCheck %s --check-prefix=PARSE

// OK: sparse-run: @main: median {{.*}} ms, min {{.*}} ms over 3 runs
// THREADS: sparse-run: @main: median {{.*}} over 2 runs (3 threads, kernels {{[A-Z0-9_]+}})
// BADTHREADS: sparse-run: error: --threads must be between 1 and 1024 (0: the default), got '5000'
// SHAPE: sparse-run: error: '{{.*}}shape.npy' has shape (3, 4), argument #0 of @main needs (2, 4)
// DTYPE: sparse-run: error: '{{.*}}dtype.npy' has dtype float64, argument #0 of @main needs float32
// BAD: sparse-run: error: {{.*}}bad.npy
// MISSING: sparse-run: error: {{.*}}missing.npy
// COUNT: sparse-run: error: @main takes 1 arguments, 0 --input given
// ENTRY: sparse-run: error: no function @nope with a body
// FILE: sparse-run: error: cannot open input file {{.*}}none.mlir{{.*}}: No such file or directory
// PARSE: sparse-run: error: {{.*}}broken.mlir:1:17: expected non-function type

func.func @main(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %w = arith.constant dense<1.0> : tensor<3x4xf32>
  %y = sparsenn.linear %x, %w : tensor<2x4xf32>, tensor<3x4xf32> -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
