// RUN: sparse-opt %s -split-input-file -verify-diagnostics --sparsenn-place-gpu-buffers

// A scalar read on the host of a buffer that a kernel writes.
func.func @host_read(%x: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %a = memref.alloc() : memref<4xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<4xf32>
    memref.store %v, %a[%tx] : memref<4xf32>
    gpu.terminator
  }
  // expected-error @below {{'memref.load' would read or write GPU memory on the host}}
  %s = memref.load %a[%c0] : memref<4xf32>
  return %s : f32
}

// -----

// expected-error @below {{functions with GPU kernels must be a single block}}
func.func @blocks(%x: memref<4xf32>, %b: i1) {
  %c1 = arith.constant 1 : index
  cf.cond_br %b, ^bb1, ^bb2
^bb1:
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    gpu.terminator
  }
  cf.br ^bb2
^bb2:
  return
}

// -----

func.func private @make() -> memref<4xf32>
func.func @unknown() {
  %c1 = arith.constant 1 : index
  %c0 = arith.constant 0 : index
  %m = call @make() : () -> memref<4xf32>
  // expected-error @below {{a GPU kernel uses a buffer that is not an argument, an allocation or a constant of the function}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %v = memref.load %m[%c0] : memref<4xf32>
    gpu.terminator
  }
  return
}

// -----

// expected-error @below {{a GPU kernel reads an argument of type 'memref<4xf32, strided<[2]>>': only static identity-layout buffers can be placed on the GPU}}
func.func @strided_arg(%x: memref<4xf32, strided<[2]>>) {
  %c1 = arith.constant 1 : index
  %c0 = arith.constant 0 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%c0] : memref<4xf32, strided<[2]>>
    gpu.terminator
  }
  return
}

// -----

func.func @dynamic_copy(%x: memref<?xf32, strided<[1], offset: ?>>, %y: memref<?xf32, strided<[1], offset: ?>>) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    gpu.terminator
  }
  // expected-error @below {{memref.copy with dynamic shapes is not supported on the GPU}}
  memref.copy %x, %y : memref<?xf32, strided<[1], offset: ?>> to memref<?xf32, strided<[1], offset: ?>>
  return
}

// -----

memref.global "private" constant @nibbles : memref<4xi4> = dense<1>
func.func @use_nibbles() {
  %c1 = arith.constant 1 : index
  %c0 = arith.constant 0 : index
  // expected-error @below {{constants of type 'memref<4xi4>' cannot be placed on the GPU}}
  %g = memref.get_global @nibbles : memref<4xi4>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %v = memref.load %g[%c0] : memref<4xi4>
    gpu.terminator
  }
  return
}

// -----

func.func @space() {
  %c1 = arith.constant 1 : index
  %c0 = arith.constant 0 : index
  // expected-error @below {{allocation in memory space 1 : i64 cannot be placed on the GPU}}
  %a = memref.alloc() : memref<4xf32, 1>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %v = memref.load %a[%c0] : memref<4xf32, 1>
    gpu.terminator
  }
  return
}

// -----

func.func @strided_result() -> memref<2xf32, strided<[2]>> {
  %c1 = arith.constant 1 : index
  %c0 = arith.constant 0 : index
  %f = arith.constant 1.0 : f32
  %a = memref.alloc() : memref<4xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %f, %a[%c0] : memref<4xf32>
    gpu.terminator
  }
  %v = memref.subview %a[0] [2] [2] : memref<4xf32> to memref<2xf32, strided<[2]>>
  // expected-error @below {{a GPU result of type 'memref<2xf32, strided<[2]>>' must have a static identity layout}}
  return %v : memref<2xf32, strided<[2]>>
}
