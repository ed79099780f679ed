// sparse-run on plain upstream IR: integer, boolean, empty and rank-0
// tensors, several results, no result, an argument returned as is, and
// element-wise arith on tensors.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python -c "import numpy as np; np.save('%t/i64.npy', np.array([1, 2, 3], np.int64)); np.save('%t/b.npy', np.array([1, 0, 1, 0], bool)); np.save('%t/z.npy', np.zeros((0, 3), np.float32)); np.save('%t/f2.npy', np.array([1, -2], np.float32))"
// RUN: sparse-run %s --entry ident --input %t/i64.npy --output-dir %t/ident
// RUN: sparse-run %s --entry negate --input %t/b.npy --output-dir %t/negate
// RUN: sparse-run %s --entry empty --input %t/z.npy --output-dir %t/empty
// RUN: sparse-run %s --entry none --input %t/f2.npy --output-dir %t/none
// RUN: sparse-run %s --entry two --input %t/f2.npy --output-dir %t/two
// RUN: %python -c "import numpy as np, os; d = '%t'; \
// RUN:   assert np.load(d + '/ident/result0.npy').tolist() == [1, 2, 3]; \
// RUN:   assert np.load(d + '/negate/result0.npy').tolist() == [False, True, False, True]; \
// RUN:   assert np.load(d + '/empty/result0.npy').shape == (0, 3); \
// RUN:   assert not os.path.exists(d + '/none/result0.npy'); \
// RUN:   assert np.load(d + '/two/result0.npy').tolist() == [1.0, 0.0]; \
// RUN:   assert float(np.load(d + '/two/result1.npy')) == 5.0"

func.func @ident(%a: tensor<3xi64>) -> tensor<3xi64> { return %a : tensor<3xi64> }
func.func @negate(%a: tensor<4xi1>) -> tensor<4xi1> {
  %t = arith.constant dense<true> : tensor<4xi1>
  %r = arith.xori %a, %t : tensor<4xi1>
  return %r : tensor<4xi1>
}
func.func @empty(%a: tensor<0x3xf32>) -> tensor<0x3xf32> { return %a : tensor<0x3xf32> }
func.func @none(%a: tensor<2xf32>) { return }
// relu as arith.maximumf, and a rank-0 constant result.
func.func @two(%a: tensor<2xf32>) -> (tensor<2xf32>, tensor<f32>) {
  %z = arith.constant dense<0.0> : tensor<2xf32>
  %r = arith.maximumf %a, %z : tensor<2xf32>
  %c = arith.constant dense<5.0> : tensor<f32>
  return %r, %c : tensor<2xf32>, tensor<f32>
}
