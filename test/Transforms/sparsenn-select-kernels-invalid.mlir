// RUN: sparse-opt %s --sparsenn-select-kernels -verify-diagnostics

// The stream has the right length for spgc8<1x15xi8> (the verifier checks
// only that), but the padding value 15 decodes to -1 (header code 1 for
// subset 1, plane byte 0x80): compressed weights that do not decode are an
// error, not a silent fallback.
func.func @bad_padding(%x: tensor<1x15xf32>) -> tensor<1x1xf32> {
  %c = sparsenn.compressed_constant dense<[8, -128]> : tensor<2xi8>, scales dense<1.0> : tensor<1xf32> : !sparsenn.spgc8<1x15xi8>
  // expected-error @+1 {{compressed weights do not decode (corrupt SPGC8 stream)}}
  %y = sparsenn.linear %x, %c : tensor<1x15xf32>, !sparsenn.spgc8<1x15xi8> -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}
