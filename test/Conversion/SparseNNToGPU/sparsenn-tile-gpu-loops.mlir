// RUN: sparse-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(sparsenn-tile-gpu-loops{block-size=128}))' | FileCheck %s
// RUN: not sparse-opt %s --pass-pipeline='builtin.module(func.func(sparsenn-tile-gpu-loops{block-size=0}))' 2>&1 | FileCheck %s --check-prefix=SIZE

// SIZE: block-size must be in [1, 1024], got 0

// A 2-D host loop becomes one collapsed loop of tiles of 128 with a guarded
// intra-tile loop (what gpu-map-parallel-loops maps to blocks × threads).
// CHECK-LABEL: func.func @nest
// CHECK: scf.parallel (%[[T:.*]]) = (%{{.*}}) to (%{{.*}}) step (%[[S:.*]]) {
// CHECK:   scf.parallel (%[[I:.*]]) = (%{{.*}}) to (%{{.*}}) step (%{{.*}}) {
// CHECK:     scf.if
// CHECK:       memref.store
// CHECK-NOT: scf.parallel
func.func @nest(%m: memref<6x50xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c6 = arith.constant 6 : index
  %c50 = arith.constant 50 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c6, %c50) step (%c1, %c1) {
    memref.store %f, %m[%i, %j] : memref<6x50xf32>
  }
  return
}

// -----

// Loops inside kernels and loops with results are left alone.
// CHECK-LABEL: func.func @untouched
// CHECK: scf.parallel (%{{.*}}) = (%{{.*}}) to (%{{.*}}) step (%{{.*}}) init
// CHECK-NOT: scf.parallel
func.func @untouched(%m: memref<8xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %z = arith.constant 0.0 : f32
  %s = scf.parallel (%i) = (%c0) to (%c8) step (%c1) init (%z) -> f32 {
    %v = memref.load %m[%i] : memref<8xf32>
    scf.reduce(%v : f32) {
    ^bb0(%a: f32, %b: f32):
      %r = arith.addf %a, %b : f32
      scf.reduce.return %r : f32
    }
  }
  return %s : f32
}
