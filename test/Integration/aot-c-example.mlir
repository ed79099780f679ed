// AOT: sparse-compile makes a shared library from examples/aot/mlp.mlir; the
// C program examples/aot/run_mlp.c is built against it with the system C
// compiler and runs without the compiler present.
// RUN: rm -rf %t && mkdir -p %t
// RUN: sparse-compile %sparsenn_src_root/examples/aot/mlp.mlir -o %t/libmlp.so
// RUN: cc -Wall -Werror -I%sparsenn_src_root/runtime/include %sparsenn_src_root/examples/aot/run_mlp.c -L%t -lmlp -Wl,-rpath,%t -o %t/run_mlp
// RUN: %t/run_mlp | FileCheck %s
// RUN: not sparse-compile %t/none.mlir -o %t/x.so 2>&1 | FileCheck %s --check-prefix=NOFILE
// RUN: not sparse-compile %s -o %t/y.so 2>&1 | FileCheck %s --check-prefix=NOFUNC

// h = x W1ᵀ + b1 = [[7.5, 21.5, 18], [3.5, -11, -1]]; one winner per row;
// y = k W2ᵀ.
// CHECK: 0 10.75
// CHECK-NEXT: 3.5 1.75
// NOFILE: sparse-compile: error: {{.*}}none.mlir{{.*}}No such file or directory
// NOFUNC: sparse-compile: error: '{{.*}}aot-c-example.mlir' has no public function to export
