// RUN: sparse-opt %s -split-input-file --sparsenn-place-gpu-buffers | FileCheck %s

// Arguments a kernel reads are copied to the device at entry; constants
// become the runtime's cached device copy (looked up first); allocations
// become gpu.alloc; a device result comes back in a new host buffer; device
// buffers are freed after their last use.
// CHECK: func.func private @sparsenn_gpu_constant_f32(memref<?xf32>, i64) -> memref<?xf32> attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @place
// CHECK-SAME: (%[[ARG:.*]]: memref<4x8xf32>)
// CHECK: %[[G:.*]] = memref.get_global @weights : memref<4x8xf32>
// CHECK: %[[FLAT:.*]] = memref.collapse_shape %[[G]] {{\[}}[0, 1]] : memref<4x8xf32> into memref<32xf32>
// CHECK: %[[DYN:.*]] = memref.cast %[[FLAT]] : memref<32xf32> to memref<?xf32>
// CHECK: %[[DEV:.*]] = call @sparsenn_gpu_constant_f32(%[[DYN]], %{{.*}}) : (memref<?xf32>, i64) -> memref<?xf32>
// CHECK: %[[DEVS:.*]] = memref.cast %[[DEV]] : memref<?xf32> to memref<32xf32>
// CHECK: %[[DEVW:.*]] = memref.expand_shape %[[DEVS]] {{\[}}[0, 1]] output_shape [4, 8]
// CHECK: %[[DARG:.*]] = gpu.alloc () : memref<4x8xf32>
// CHECK: gpu.memcpy %[[DARG]], %[[ARG]]
// CHECK: %[[OUT:.*]] = gpu.alloc () : memref<4x8xf32>
// CHECK: gpu.launch
// CHECK:   memref.load %[[DARG]]
// CHECK:   memref.load %[[DEVW]]
// CHECK:   memref.store {{.*}}, %[[OUT]]
// CHECK: gpu.terminator
// CHECK: gpu.dealloc %[[DARG]]
// CHECK: %[[HOST:.*]] = memref.alloc() : memref<4x8xf32>
// CHECK: gpu.memcpy %[[HOST]], %[[OUT]]
// CHECK: gpu.dealloc %[[OUT]]
// CHECK: return %[[HOST]]
memref.global "private" constant @weights : memref<4x8xf32> = dense<1.0>
func.func @place(%x: memref<4x8xf32>) -> memref<4x8xf32> {
  %w = memref.get_global @weights : memref<4x8xf32>
  %out = memref.alloc() : memref<4x8xf32>
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c4, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c8, %sy = %c1, %sz = %c1) {
    %a = memref.load %x[%bx, %tx] : memref<4x8xf32>
    %b = memref.load %w[%bx, %tx] : memref<4x8xf32>
    %s = arith.addf %a, %b : f32
    memref.store %s, %out[%bx, %tx] : memref<4x8xf32>
    gpu.terminator
  }
  return %out : memref<4x8xf32>
}

// -----

// Host loops left over become single-thread kernels; a contiguous copy
// becomes gpu.memcpy, a strided one a copy kernel.
// CHECK-LABEL: func.func @leftovers
// CHECK: gpu.launch
// CHECK: gpu.memcpy
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[ONE:.*]], {{.*}}) threads({{.*}}) in ({{.*}} = %[[ONE2:.*]], {{.*}})
// CHECK:   scf.for
// CHECK:     memref.load
// CHECK: gpu.launch
// CHECK:   arith.remui
// CHECK:   memref.load {{.*}} : memref<2x2xf32, strided<[4, 1], offset: 1>>
// CHECK-NOT: memref.copy
// CHECK: return
func.func @leftovers(%x: memref<4x4xf32>) -> (memref<4x4xf32>, memref<2x2xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    gpu.terminator
  }
  %acc = memref.alloc() : memref<4x4xf32>
  memref.copy %x, %acc : memref<4x4xf32> to memref<4x4xf32>
  scf.for %i = %c0 to %c4 step %c1 {
    %v = memref.load %acc[%i, %c0] : memref<4x4xf32>
    %w = arith.addf %v, %v : f32
    memref.store %w, %acc[%i, %c1] : memref<4x4xf32>
  }
  %part = memref.alloc() : memref<2x2xf32>
  %view = memref.subview %acc[0, 1] [2, 2] [1, 1] : memref<4x4xf32> to memref<2x2xf32, strided<[4, 1], offset: 1>>
  memref.copy %view, %part : memref<2x2xf32, strided<[4, 1], offset: 1>> to memref<2x2xf32>
  return %acc, %part : memref<4x4xf32>, memref<2x2xf32>
}

// -----

// Functions without kernels stay on the CPU.
// CHECK-LABEL: func.func @cpu_only
// CHECK-NOT: gpu.
// CHECK: memref.copy
func.func @cpu_only(%x: memref<4xf32>) -> memref<4xf32> {
  %a = memref.alloc() : memref<4xf32>
  memref.copy %x, %a : memref<4xf32> to memref<4xf32>
  return %a : memref<4xf32>
}

// -----

// An argument written in place by a kernel and returned: the result is read
// back from its device copy.
// CHECK-LABEL: func.func @in_place
// CHECK-SAME: (%[[ARG:.*]]: memref<4xf32>)
// CHECK: %[[DEV:.*]] = gpu.alloc () : memref<4xf32>
// CHECK: gpu.memcpy %[[DEV]], %[[ARG]]
// CHECK: gpu.launch
// CHECK:   memref.store {{.*}}, %[[DEV]]
// CHECK: %[[HOST:.*]] = memref.alloc() : memref<4xf32>
// CHECK: gpu.memcpy %[[HOST]], %[[DEV]]
// CHECK: gpu.dealloc %[[DEV]]
// CHECK: return %[[HOST]]
func.func @in_place(%x: memref<4xf32>) -> memref<4xf32> {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %f = arith.constant 2.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1) {
    memref.store %f, %x[%tx] : memref<4xf32>
    gpu.terminator
  }
  return %x : memref<4xf32>
}
