// AOT for the GPU: sparse-compile --gpu makes a shared library with the PTX
// (sm_90) and the CUDA launch runtime inside; the C program
// examples/aot/run_mlp_gpu.c is built against it with the system C compiler.
// With the driver library made unfindable it must say so cleanly (exit 77,
// the library's load-time error printed once); on a machine with a GPU the
// result is that of the CPU library (test/GPU, ctest gpu.exec).
// RUN: rm -rf %t && mkdir -p %t
// RUN: sparse-compile --gpu %sparsenn_src_root/examples/aot/mlp.mlir -o %t/libmlp_gpu.so
// RUN: cc -Wall -Werror -I%sparsenn_src_root/runtime/include %sparsenn_src_root/examples/aot/run_mlp_gpu.c -L%t -lmlp_gpu -Wl,-rpath,%t -o %t/run_mlp_gpu
// RUN: env SPARSENN_LIBCUDA=/nonexistent/libcuda.so.1 not %t/run_mlp_gpu > %t/out 2> %t/err
// RUN: FileCheck %s --check-prefix=STDOUT < %t/out
// RUN: FileCheck %s --check-prefix=STDERR < %t/err
// RUN: nm -D --defined-only %t/libmlp_gpu.so | FileCheck %s --check-prefix=SYMS
// RUN: not sparse-compile --gpu --gpu-options='format=nonsense' %sparsenn_src_root/examples/aot/mlp.mlir -o %t/bad.so 2>&1 | FileCheck %s --check-prefix=BADFMT

// STDOUT: no usable GPU: libcuda not found: cannot load '/nonexistent/libcuda.so.1'
// STDERR: sparsenn-gpu: error: libcuda not found
// STDERR-NOT: sparsenn-gpu: error
// SYMS-DAG: T _mlir_ciface_mlp
// SYMS-DAG: T mgpuLaunchKernel
// SYMS-DAG: T mgpuModuleLoadJIT
// SYMS-DAG: T sparsenn_gpu_available
// SYMS-DAG: T sparsenn_gpu_last_error
// BADFMT: sparse-compile: error
