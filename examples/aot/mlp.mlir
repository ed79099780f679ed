// A tiny sparse MLP for the AOT example: linear 4 -> 3 (fixed fan-in 2),
// k-winners keeping the largest value of each row, linear 3 -> 2.
func.func @mlp(%x: tensor<2x4xf32>) -> tensor<2x2xf32> {
  %w1 = arith.constant dense<[[1.0, 0.0, 2.0, 0.0], [0.0, 3.0, 0.0, 4.0], [5.0, 6.0, 0.0, 0.0]]> : tensor<3x4xf32>
  %b1 = arith.constant dense<[0.5, -0.5, 1.0]> : tensor<3xf32>
  %w2 = arith.constant dense<[[1.0, 0.0, -1.0], [0.5, 0.5, 0.5]]> : tensor<2x3xf32>
  %h = sparsenn.linear %x, %w1, %b1 : tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32> -> tensor<2x3xf32>
  %k = sparsenn.kwinners <global> %h k = 1 break_ties : tensor<2x3xf32> -> tensor<2x3xf32>
  %y = sparsenn.linear %k, %w2 : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}
