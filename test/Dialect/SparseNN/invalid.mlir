// RUN: sparse-opt %s -split-input-file -verify-diagnostics

func.func @linear_weight_rank(%x: tensor<4x8xf32>, %w: tensor<8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{expects weight of rank 2 ([out, in]), got rank 1}}
  %y = sparsenn.linear %x, %w : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

func.func @linear_features(%x: tensor<4x9xf32>, %w: tensor<16x8xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{input features 9 do not match weight [out, in] [16, 8]}}
  %y = sparsenn.linear %x, %w : tensor<4x9xf32>, tensor<16x8xf32> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

func.func @linear_bias(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>, %b: tensor<15xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{bias of shape [15] does not match 16 output features}}
  %y = sparsenn.linear %x, %w, %b : tensor<4x8xf32>, tensor<16x8xf32>, tensor<15xf32> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

func.func @linear_result(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>) -> tensor<4x15xf32> {
  // expected-error @+1 {{result shape [4, 15] does not match expected [4, 16]}}
  %y = sparsenn.linear %x, %w : tensor<4x8xf32>, tensor<16x8xf32> -> tensor<4x15xf32>
  return %y : tensor<4x15xf32>
}

// -----

func.func @linear_element_types(%x: tensor<4x8xf32>, %w: tensor<16x8xf16>) -> tensor<4x16xf32> {
  // expected-error @+1 {{weight element type 'f16' does not match input element type 'f32'}}
  %y = sparsenn.linear %x, %w : tensor<4x8xf32>, tensor<16x8xf16> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

func.func @linear_bias_type(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>, %b: tensor<16xf16>) -> tensor<4x16xf32> {
  // expected-error @+1 {{bias element type does not match input element type 'f32'}}
  %y = sparsenn.linear %x, %w, %b : tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf16> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

func.func @linear_result_type(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>) -> tensor<4x16xf16> {
  // expected-error @+1 {{result element type does not match input element type 'f32'}}
  %y = sparsenn.linear %x, %w : tensor<4x8xf32>, tensor<16x8xf32> -> tensor<4x16xf16>
  return %y : tensor<4x16xf16>
}

// -----

func.func @linear_fan_in(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{fan_in 9 exceeds the 8 coefficients of one output unit}}
  %y = sparsenn.linear %x, %w {sparsity = #sparsenn.sparsity<density = 0.5, fan_in = 9>} : tensor<4x8xf32>, tensor<16x8xf32> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

func.func @linear_input_rank(%x: tensor<f32>, %w: tensor<16x8xf32>) -> tensor<16xf32> {
  // expected-error @+1 {{expects input of rank >= 1}}
  %y = sparsenn.linear %x, %w : tensor<f32>, tensor<16x8xf32> -> tensor<16xf32>
  return %y : tensor<16xf32>
}

// -----

func.func @sparsity_density(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{density must be in [0, 1], got 1.5}}
  %y = sparsenn.linear %x, %w {sparsity = #sparsenn.sparsity<density = 1.5>} : tensor<4x8xf32>, tensor<16x8xf32> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

func.func @sparsity_negative_density(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{density must be in [0, 1], got -5.000000e-01}}
  %y = sparsenn.linear %x, %w {sparsity = #sparsenn.sparsity<density = -0.5>} : tensor<4x8xf32>, tensor<16x8xf32> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

func.func @sparsity_fan_in(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{fan_in must be non-negative, got -1}}
  %y = sparsenn.linear %x, %w {sparsity = #sparsenn.sparsity<density = 0.5, fan_in = -1>} : tensor<4x8xf32>, tensor<16x8xf32> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

func.func @linear_int_input(%x: tensor<4x8xi32>, %w: tensor<16x8xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{operand #0 must be ranked tensor of floating-point values}}
  %y = sparsenn.linear %x, %w : tensor<4x8xi32>, tensor<16x8xf32> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

func.func @conv_strides(%x: tensor<1x4x8x8xf32>, %w: tensor<8x4x3x3xf32>) -> tensor<1x8x6x6xf32> {
  // expected-error @+1 {{strides must be two positive integers}}
  %y = sparsenn.conv2d %x, %w {strides = array<i64: 0, 1>} : tensor<1x4x8x8xf32>, tensor<8x4x3x3xf32> -> tensor<1x8x6x6xf32>
  return %y : tensor<1x8x6x6xf32>
}

// -----

func.func @conv_dilations(%x: tensor<1x4x8x8xf32>, %w: tensor<8x4x3x3xf32>) -> tensor<1x8x6x6xf32> {
  // expected-error @+1 {{dilations must be two positive integers}}
  %y = sparsenn.conv2d %x, %w {dilations = array<i64: 1>} : tensor<1x4x8x8xf32>, tensor<8x4x3x3xf32> -> tensor<1x8x6x6xf32>
  return %y : tensor<1x8x6x6xf32>
}

// -----

func.func @conv_padding(%x: tensor<1x4x8x8xf32>, %w: tensor<8x4x3x3xf32>) -> tensor<1x8x6x6xf32> {
  // expected-error @+1 {{padding must be four non-negative integers [top, bottom, left, right]}}
  %y = sparsenn.conv2d %x, %w {padding = array<i64: 1, 1>} : tensor<1x4x8x8xf32>, tensor<8x4x3x3xf32> -> tensor<1x8x6x6xf32>
  return %y : tensor<1x8x6x6xf32>
}

// -----

func.func @conv_groups(%x: tensor<1x4x8x8xf32>, %w: tensor<8x4x3x3xf32>) -> tensor<1x8x6x6xf32> {
  // expected-error @+1 {{groups must be positive, got 0}}
  %y = sparsenn.conv2d %x, %w {groups = 0} : tensor<1x4x8x8xf32>, tensor<8x4x3x3xf32> -> tensor<1x8x6x6xf32>
  return %y : tensor<1x8x6x6xf32>
}

// -----

func.func @conv_weight_rank(%x: tensor<1x4x8x8xf32>, %w: tensor<8x36xf32>) -> tensor<1x8x6x6xf32> {
  // expected-error @+1 {{expects weight of rank 4 ([C_out, C_in/groups, kH, kW]), got rank 2}}
  %y = sparsenn.conv2d %x, %w : tensor<1x4x8x8xf32>, tensor<8x36xf32> -> tensor<1x8x6x6xf32>
  return %y : tensor<1x8x6x6xf32>
}

// -----

func.func @conv_input_rank(%x: tensor<4x8x8xf32>, %w: tensor<8x4x3x3xf32>) -> tensor<1x8x6x6xf32> {
  // expected-error @+1 {{operand #0 must be ranked tensor of floating-point values, but got 'tensor<4x8x8xf32>'}}
  %y = sparsenn.conv2d %x, %w : tensor<4x8x8xf32>, tensor<8x4x3x3xf32> -> tensor<1x8x6x6xf32>
  return %y : tensor<1x8x6x6xf32>
}

// -----

func.func @conv_group_channels(%x: tensor<1x5x8x8xf32>, %w: tensor<8x2x3x3xf32>) -> tensor<1x8x6x6xf32> {
  // expected-error @+1 {{input channels 5 are not divisible by groups 2}}
  %y = sparsenn.conv2d %x, %w {groups = 2} : tensor<1x5x8x8xf32>, tensor<8x2x3x3xf32> -> tensor<1x8x6x6xf32>
  return %y : tensor<1x8x6x6xf32>
}

// -----

func.func @conv_group_filters(%x: tensor<1x4x8x8xf32>, %w: tensor<7x2x3x3xf32>) -> tensor<1x7x6x6xf32> {
  // expected-error @+1 {{output channels 7 are not divisible by groups 2}}
  %y = sparsenn.conv2d %x, %w {groups = 2} : tensor<1x4x8x8xf32>, tensor<7x2x3x3xf32> -> tensor<1x7x6x6xf32>
  return %y : tensor<1x7x6x6xf32>
}

// -----

func.func @conv_channels(%x: tensor<1x4x8x8xf32>, %w: tensor<8x3x3x3xf32>) -> tensor<1x8x6x6xf32> {
  // expected-error @+1 {{weight shape [8, 3, 3, 3] expects 3 input channels with groups = 1, input has 4}}
  %y = sparsenn.conv2d %x, %w : tensor<1x4x8x8xf32>, tensor<8x3x3x3xf32> -> tensor<1x8x6x6xf32>
  return %y : tensor<1x8x6x6xf32>
}

// -----

func.func @conv_bias(%x: tensor<1x4x8x8xf32>, %w: tensor<8x4x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x8x6x6xf32> {
  // expected-error @+1 {{bias does not match 8 output channels}}
  %y = sparsenn.conv2d %x, %w, %b : tensor<1x4x8x8xf32>, tensor<8x4x3x3xf32>, tensor<4xf32> -> tensor<1x8x6x6xf32>
  return %y : tensor<1x8x6x6xf32>
}

// -----

func.func @conv_kernel_too_big(%x: tensor<1x4x2x2xf32>, %w: tensor<8x4x3x3xf32>) -> tensor<1x8x1x1xf32> {
  // expected-error @+1 {{kernel [8, 4, 3, 3] does not fit the padded input [1, 4, 2, 2]}}
  %y = sparsenn.conv2d %x, %w : tensor<1x4x2x2xf32>, tensor<8x4x3x3xf32> -> tensor<1x8x1x1xf32>
  return %y : tensor<1x8x1x1xf32>
}

// -----

func.func @conv_result(%x: tensor<1x4x8x8xf32>, %w: tensor<8x4x3x3xf32>) -> tensor<1x8x8x8xf32> {
  // expected-error @+1 {{result shape [1, 8, 8, 8] does not match expected [1, 8, 6, 6]}}
  %y = sparsenn.conv2d %x, %w : tensor<1x4x8x8xf32>, tensor<8x4x3x3xf32> -> tensor<1x8x8x8xf32>
  return %y : tensor<1x8x8x8xf32>
}

// -----

func.func @conv_fan_in(%x: tensor<1x4x8x8xf32>, %w: tensor<8x4x3x3xf32>) -> tensor<1x8x6x6xf32> {
  // expected-error @+1 {{fan_in 37 exceeds the 36 coefficients of one output unit}}
  %y = sparsenn.conv2d %x, %w {sparsity = #sparsenn.sparsity<density = 0.5, fan_in = 37>} : tensor<1x4x8x8xf32>, tensor<8x4x3x3xf32> -> tensor<1x8x6x6xf32>
  return %y : tensor<1x8x6x6xf32>
}

// -----

func.func @conv_weight_type(%x: tensor<1x4x8x8xf32>, %w: tensor<8x4x3x3xf16>) -> tensor<1x8x6x6xf32> {
  // expected-error @+1 {{weight element type 'f16' does not match input element type 'f32'}}
  %y = sparsenn.conv2d %x, %w : tensor<1x4x8x8xf32>, tensor<8x4x3x3xf16> -> tensor<1x8x6x6xf32>
  return %y : tensor<1x8x6x6xf32>
}

// -----

func.func @kw_result(%x: tensor<2x64xf32>) -> tensor<2x32xf32> {
  // expected-error @+1 {{result type 'tensor<2x32xf32>' must match input type 'tensor<2x64xf32>'}}
  %y = sparsenn.kwinners <global> %x k = 4 : tensor<2x64xf32> -> tensor<2x32xf32>
  return %y : tensor<2x32xf32>
}

// -----

func.func @kw_rank(%x: tensor<2x4x16xf32>) -> tensor<2x4x16xf32> {
  // expected-error @+1 {{expects input [B, F] or [B, C, H, W], got rank 3}}
  %y = sparsenn.kwinners <global> %x k = 4 : tensor<2x4x16xf32> -> tensor<2x4x16xf32>
  return %y : tensor<2x4x16xf32>
}

// -----

func.func @kw_dynamic(%x: tensor<2x?xf32>) -> tensor<2x?xf32> {
  // expected-error @+1 {{non-batch dimensions must be static}}
  %y = sparsenn.kwinners <global> %x k = 4 : tensor<2x?xf32> -> tensor<2x?xf32>
  return %y : tensor<2x?xf32>
}

// -----

func.func @kw_local_rank(%x: tensor<2x64xf32>) -> tensor<2x64xf32> {
  // expected-error @+1 {{mode 'local' needs a [B, C, H, W] input}}
  %y = sparsenn.kwinners <local> %x k = 4 : tensor<2x64xf32> -> tensor<2x64xf32>
  return %y : tensor<2x64xf32>
}

// -----

func.func @kw_channel_rank(%x: tensor<2x64xf32>) -> tensor<2x64xf32> {
  // expected-error @+1 {{mode 'channel' needs a [B, C, H, W] input}}
  %y = sparsenn.kwinners <channel> %x k = 4 : tensor<2x64xf32> -> tensor<2x64xf32>
  return %y : tensor<2x64xf32>
}

// -----

func.func @kw_group_missing(%x: tensor<2x64xf32>) -> tensor<2x64xf32> {
  // expected-error @+1 {{mode 'group' needs group_size}}
  %y = sparsenn.kwinners <group> %x k = 4 : tensor<2x64xf32> -> tensor<2x64xf32>
  return %y : tensor<2x64xf32>
}

// -----

func.func @kw_group_divides(%x: tensor<2x64xf32>) -> tensor<2x64xf32> {
  // expected-error @+1 {{group_size 24 does not divide the 64 elements of a sample}}
  %y = sparsenn.kwinners <group> %x k = 4 group_size = 24 : tensor<2x64xf32> -> tensor<2x64xf32>
  return %y : tensor<2x64xf32>
}

// -----

func.func @kw_group_size_mode(%x: tensor<2x64xf32>) -> tensor<2x64xf32> {
  // expected-error @+1 {{group_size is only meaningful in mode 'group'}}
  %y = sparsenn.kwinners <global> %x k = 4 group_size = 16 : tensor<2x64xf32> -> tensor<2x64xf32>
  return %y : tensor<2x64xf32>
}

// -----

func.func @kw_k_and_density(%x: tensor<2x64xf32>) -> tensor<2x64xf32> {
  // expected-error @+1 {{expects exactly one of k and density}}
  %y = sparsenn.kwinners <global> %x k = 4 density = 0.1 : tensor<2x64xf32> -> tensor<2x64xf32>
  return %y : tensor<2x64xf32>
}

// -----

func.func @kw_no_k(%x: tensor<2x64xf32>) -> tensor<2x64xf32> {
  // expected-error @+1 {{expects exactly one of k and density}}
  %y = sparsenn.kwinners <global> %x : tensor<2x64xf32> -> tensor<2x64xf32>
  return %y : tensor<2x64xf32>
}

// -----

func.func @kw_density(%x: tensor<2x64xf32>) -> tensor<2x64xf32> {
  // expected-error @+1 {{density must be in (0, 1], got 1.5}}
  %y = sparsenn.kwinners <global> %x density = 1.5 : tensor<2x64xf32> -> tensor<2x64xf32>
  return %y : tensor<2x64xf32>
}

// -----

func.func @kw_k_large(%x: tensor<2x8x4x4xf32>) -> tensor<2x8x4x4xf32> {
  // expected-error @+1 {{k = 9 is out of range [1, 8] for mode 'local'}}
  %y = sparsenn.kwinners <local> %x k = 9 : tensor<2x8x4x4xf32> -> tensor<2x8x4x4xf32>
  return %y : tensor<2x8x4x4xf32>
}

// -----

func.func @kw_k_zero(%x: tensor<2x64xf32>) -> tensor<2x64xf32> {
  // expected-error @+1 {{k = 0 is out of range [1, 64] for mode 'global'}}
  %y = sparsenn.kwinners <global> %x k = 0 : tensor<2x64xf32> -> tensor<2x64xf32>
  return %y : tensor<2x64xf32>
}

// -----

func.func @kw_density_rounds_to_zero(%x: tensor<2x64xf32>) -> tensor<2x64xf32> {
  // expected-error @+1 {{k = 0 is out of range [1, 64] for mode 'global'}}
  %y = sparsenn.kwinners <global> %x density = 0.001 : tensor<2x64xf32> -> tensor<2x64xf32>
  return %y : tensor<2x64xf32>
}

// -----

func.func @kw_negative_boost(%x: tensor<2x64xf32>, %d: tensor<64xf32>) -> tensor<2x64xf32> {
  // expected-error @+1 {{boost strength must be finite and non-negative}}
  %y = sparsenn.kwinners <global> %x duty_cycle %d k = 4 boost = -1.0 : tensor<2x64xf32>, tensor<64xf32> -> tensor<2x64xf32>
  return %y : tensor<2x64xf32>
}

// -----

func.func @kw_boost_needs_duty(%x: tensor<2x64xf32>) -> tensor<2x64xf32> {
  // expected-error @+1 {{boosting (boost > 0) needs a duty_cycle operand}}
  %y = sparsenn.kwinners <global> %x k = 4 boost = 1.0 : tensor<2x64xf32> -> tensor<2x64xf32>
  return %y : tensor<2x64xf32>
}

// -----

func.func @kw_duty_shape(%x: tensor<2x8x4x4xf32>, %d: tensor<128xf32>) -> tensor<2x8x4x4xf32> {
  // expected-error @+1 {{duty_cycle must have shape [8] (per channel), got [128]}}
  %y = sparsenn.kwinners <global> %x duty_cycle %d k = 4 boost = 1.0 : tensor<2x8x4x4xf32>, tensor<128xf32> -> tensor<2x8x4x4xf32>
  return %y : tensor<2x8x4x4xf32>
}

// -----

func.func @kw_duty_type(%x: tensor<2x64xf32>, %d: tensor<64xf16>) -> tensor<2x64xf32> {
  // expected-error @+1 {{duty_cycle element type must match the input}}
  %y = sparsenn.kwinners <global> %x duty_cycle %d k = 4 boost = 1.0 : tensor<2x64xf32>, tensor<64xf16> -> tensor<2x64xf32>
  return %y : tensor<2x64xf32>
}

// -----

func.func @kw_bad_mode(%x: tensor<2x64xf32>) -> tensor<2x64xf32> {
  // expected-error @+2 {{expected ::mlir::sparsenn::KWinnersMode to be one of: global, group, local, channel}}
  // expected-error @+1 {{failed to parse SparseNN_KWinnersModeAttr parameter 'value'}}
  %y = sparsenn.kwinners <everywhere> %x k = 4 : tensor<2x64xf32> -> tensor<2x64xf32>
  return %y : tensor<2x64xf32>
}

// -----

func.func @duty_both_forms(%d: tensor<64xf32>, %y: tensor<8x64xf32>) -> tensor<64xf32> {
  // expected-error @+1 {{expects exactly one of alpha (eq. 1) and period (nupic.torch form)}}
  %d1 = sparsenn.duty_cycle_update %d, %y alpha = 0.1 period = 10 : tensor<64xf32>, tensor<8x64xf32> -> tensor<64xf32>
  return %d1 : tensor<64xf32>
}

// -----

func.func @duty_alpha(%d: tensor<64xf32>, %y: tensor<8x64xf32>) -> tensor<64xf32> {
  // expected-error @+1 {{alpha must be in (0, 1], got 2}}
  %d1 = sparsenn.duty_cycle_update %d, %y alpha = 2.0 : tensor<64xf32>, tensor<8x64xf32> -> tensor<64xf32>
  return %d1 : tensor<64xf32>
}

// -----

func.func @duty_alpha_seen(%d: tensor<64xf32>, %y: tensor<8x64xf32>, %n: tensor<i64>) -> tensor<64xf32> {
  // expected-error @+1 {{the fixed-alpha form takes no seen counter}}
  %d1, %n1 = sparsenn.duty_cycle_update %d, %y seen %n alpha = 0.1 : tensor<64xf32>, tensor<8x64xf32>, tensor<i64> -> tensor<64xf32>, tensor<i64>
  return %d1 : tensor<64xf32>
}

// -----

func.func @duty_period(%d: tensor<64xf32>, %y: tensor<8x64xf32>, %n: tensor<i64>) -> tensor<64xf32> {
  // expected-error @+1 {{period must be positive, got 0}}
  %d1, %n1 = sparsenn.duty_cycle_update %d, %y seen %n period = 0 : tensor<64xf32>, tensor<8x64xf32>, tensor<i64> -> tensor<64xf32>, tensor<i64>
  return %d1 : tensor<64xf32>
}

// -----

func.func @duty_period_seen(%d: tensor<64xf32>, %y: tensor<8x64xf32>) -> tensor<64xf32> {
  // expected-error @+1 {{the period form needs the seen counter operand and returns its update}}
  %d1 = sparsenn.duty_cycle_update %d, %y period = 100 : tensor<64xf32>, tensor<8x64xf32> -> tensor<64xf32>
  return %d1 : tensor<64xf32>
}

// -----

func.func @duty_shape(%d: tensor<64xf32>, %y: tensor<8x16x2x2xf32>) -> tensor<64xf32> {
  // expected-error @+1 {{duty_cycle must have shape [16] (per channel), got [64]}}
  %d1 = sparsenn.duty_cycle_update %d, %y alpha = 0.1 : tensor<64xf32>, tensor<8x16x2x2xf32> -> tensor<64xf32>
  return %d1 : tensor<64xf32>
}

// -----

func.func @duty_rank(%d: tensor<4xf32>, %y: tensor<8x4x2xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{expects activations [B, F] or [B, C, H, W], got rank 3}}
  %d1 = sparsenn.duty_cycle_update %d, %y alpha = 0.1 : tensor<4xf32>, tensor<8x4x2xf32> -> tensor<4xf32>
  return %d1 : tensor<4xf32>
}

// -----

func.func @duty_result(%d: tensor<64xf32>, %y: tensor<8x64xf32>) -> tensor<32xf32> {
  // expected-error @+1 {{new duty cycle type must match the duty_cycle operand}}
  %d1 = sparsenn.duty_cycle_update %d, %y alpha = 0.1 : tensor<64xf32>, tensor<8x64xf32> -> tensor<32xf32>
  return %d1 : tensor<32xf32>
}

// -----

func.func @duty_type(%d: tensor<64xf16>, %y: tensor<8x64xf32>) -> tensor<64xf16> {
  // expected-error @+1 {{duty_cycle element type must match the activations}}
  %d1 = sparsenn.duty_cycle_update %d, %y alpha = 0.1 : tensor<64xf16>, tensor<8x64xf32> -> tensor<64xf16>
  return %d1 : tensor<64xf16>
}

// -----

func.func @prune_pruned_type(%w: tensor<8x16xf32>, %s: tensor<f32>) -> tensor<8x8xf32> {
  // expected-error @+1 {{pruned result type must match the weights}}
  %p, %m = sparsenn.prune <quantile> %w, %s : tensor<8x16xf32>, tensor<f32> -> tensor<8x8xf32>, tensor<8x16xi1>
  return %p : tensor<8x8xf32>
}

// -----

func.func @prune_mask_shape(%w: tensor<8x16xf32>, %s: tensor<f32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{mask shape [8, 8] must match the weights [8, 16]}}
  %p, %m = sparsenn.prune <quantile> %w, %s : tensor<8x16xf32>, tensor<f32> -> tensor<8x16xf32>, tensor<8x8xi1>
  return %p : tensor<8x16xf32>
}

// -----

func.func @prune_group_missing(%w: tensor<8x16xf32>, %s: tensor<f32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{granularity 'group' needs group_shape}}
  %p, %m = sparsenn.prune <quantile> %w, %s {granularity = #sparsenn.granularity<group>} : tensor<8x16xf32>, tensor<f32> -> tensor<8x16xf32>, tensor<8x16xi1>
  return %p : tensor<8x16xf32>
}

// -----

func.func @prune_group_rank(%w: tensor<8x16xf32>, %s: tensor<f32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{group_shape has 1 entries, the weights have rank 2}}
  %p, %m = sparsenn.prune <quantile> %w, %s {granularity = #sparsenn.granularity<group>, group_shape = array<i64: 16>} : tensor<8x16xf32>, tensor<f32> -> tensor<8x16xf32>, tensor<8x16xi1>
  return %p : tensor<8x16xf32>
}

// -----


func.func @prune_group_zero(%w: tensor<8x16xf32>, %s: tensor<f32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{group_shape [0, 16] must have positive entries}}
  %p, %m = sparsenn.prune <quantile> %w, %s {granularity = #sparsenn.granularity<group>, group_shape = array<i64: 0, 16>} : tensor<8x16xf32>, tensor<f32> -> tensor<8x16xf32>, tensor<8x16xi1>
  return %p : tensor<8x16xf32>
}

// -----

func.func @prune_group_shape_unused(%w: tensor<8x16xf32>, %s: tensor<f32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{group_shape is only meaningful with granularity 'group'}}
  %p, %m = sparsenn.prune <quantile> %w, %s {group_shape = array<i64: 1, 16>} : tensor<8x16xf32>, tensor<f32> -> tensor<8x16xf32>, tensor<8x16xi1>
  return %p : tensor<8x16xf32>
}

// -----

func.func @prune_channel_rank(%w: tensor<16xf32>, %s: tensor<f32>) -> tensor<16xf32> {
  // expected-error @+1 {{channel and filter granularity need weights of rank >= 2}}
  %p, %m = sparsenn.prune <quantile> %w, %s {granularity = #sparsenn.granularity<output_filter>} : tensor<16xf32>, tensor<f32> -> tensor<16xf32>, tensor<16xi1>
  return %p : tensor<16xf32>
}

// -----

func.func @prune_gaussian_groups(%w: tensor<8x16xf32>, %s: tensor<f32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{the gaussian pruner (FIG. 7c) works on elements only}}
  %p, %m = sparsenn.prune <gaussian> %w, %s {granularity = #sparsenn.granularity<input_channel>} : tensor<8x16xf32>, tensor<f32> -> tensor<8x16xf32>, tensor<8x16xi1>
  return %p : tensor<8x16xf32>
}

// -----

func.func @prune_gumbel_dynamic(%w: tensor<?x16xf32>, %s: tensor<f32>) -> tensor<?x16xf32> {
  // expected-error @+1 {{the gumbel pruner needs static weight shapes}}
  %p, %m = sparsenn.prune <gumbel> %w, %s : tensor<?x16xf32>, tensor<f32> -> tensor<?x16xf32>, tensor<?x16xi1>
  return %p : tensor<?x16xf32>
}

// -----

func.func @prune_sparsity_rank(%w: tensor<8x16xf32>, %s: tensor<1xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{operand #1 must be 0D tensor of floating-point values}}
  %p, %m = sparsenn.prune <quantile> %w, %s : tensor<8x16xf32>, tensor<1xf32> -> tensor<8x16xf32>, tensor<8x16xi1>
  return %p : tensor<8x16xf32>
}

// -----

func.func @prune_bad_method(%w: tensor<8x16xf32>, %s: tensor<f32>) -> tensor<8x16xf32> {
  // expected-error @+2 {{expected ::mlir::sparsenn::PruneMethod to be one of: quantile, gaussian, gumbel}}
  // expected-error @+1 {{failed to parse SparseNN_PruneMethodAttr parameter 'value'}}
  %p, %m = sparsenn.prune <median> %w, %s : tensor<8x16xf32>, tensor<f32> -> tensor<8x16xf32>, tensor<8x16xi1>
  return %p : tensor<8x16xf32>
}

// -----

func.func @mask_shape(%w: tensor<8x16xf32>, %m: tensor<8x8xi1>) -> tensor<8x16xf32> {
  // expected-error @+1 {{mask shape [8, 8] must match the weights [8, 16]}}
  %p = sparsenn.apply_mask %w, %m : tensor<8x16xf32>, tensor<8x8xi1>
  return %p : tensor<8x16xf32>
}

// -----

func.func @loss_counts(%ce: tensor<f32>, %s: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{has 1 sparsity parameters but 2 counts}}
  %l = sparsenn.sparsity_loss %ce, %s {alpha = 0.5 : f64, counts = array<i64: 10, 20>} : tensor<f32>, tensor<f32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

func.func @loss_empty(%ce: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{needs at least one sparsity parameter}}
  %l = "sparsenn.sparsity_loss"(%ce) <{alpha = 0.5 : f64, counts = array<i64>}> : (tensor<f32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

func.func @loss_count_positive(%ce: tensor<f32>, %s: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{coefficient counts must be positive}}
  %l = sparsenn.sparsity_loss %ce, %s {alpha = 0.5 : f64, counts = array<i64: 0>} : tensor<f32>, tensor<f32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

func.func @loss_alpha(%ce: tensor<f32>, %s: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{alpha must be in [0, 1], got 1.5}}
  %l = sparsenn.sparsity_loss %ce, %s {alpha = 1.5 : f64, counts = array<i64: 10>} : tensor<f32>, tensor<f32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

func.func @loss_theta(%ce: tensor<f32>, %s: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{theta must be in (0, 1], got 0}}
  %l = sparsenn.sparsity_loss %ce, %s {alpha = 0.5 : f64, theta = 0.0 : f64, counts = array<i64: 10>} : tensor<f32>, tensor<f32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

func.func @quant_shape(%w: tensor<8x16xf32>, %s: tensor<8xf32>) -> tensor<8x8xi8> {
  // expected-error @+1 {{result shape [8, 8] must match the input [8, 16]}}
  %q = sparsenn.quantize %w, %s : tensor<8x16xf32>, tensor<8xf32> -> tensor<8x8xi8>
  return %q : tensor<8x8xi8>
}

// -----

func.func @quant_axis(%w: tensor<8x16xf32>, %s: tensor<8xf32>) -> tensor<8x16xi8> {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %q = sparsenn.quantize %w, %s {axis = 2} : tensor<8x16xf32>, tensor<8xf32> -> tensor<8x16xi8>
  return %q : tensor<8x16xi8>
}

// -----

func.func @quant_scales(%w: tensor<8x16xf32>, %s: tensor<16xf32>) -> tensor<8x16xi8> {
  // expected-error @+1 {{expects 8 scales (dimension 0), got 16}}
  %q = sparsenn.quantize %w, %s : tensor<8x16xf32>, tensor<16xf32> -> tensor<8x16xi8>
  return %q : tensor<8x16xi8>
}

// -----

func.func @quant_bits(%w: tensor<8x16xf32>, %s: tensor<8xf32>) -> tensor<8x16xi32> {
  // expected-error @+1 {{result #0 must be ranked tensor of 8-bit signless integer or 16-bit signless integer values}}
  %q = sparsenn.quantize %w, %s : tensor<8x16xf32>, tensor<8xf32> -> tensor<8x16xi32>
  return %q : tensor<8x16xi32>
}

// -----

func.func @dequant_scales(%q: tensor<8x16xi8>, %s: tensor<16xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{expects 8 scales (dimension 0), got 16}}
  %w = sparsenn.dequantize %q, %s : tensor<8x16xi8>, tensor<16xf32> -> tensor<8x16xf32>
  return %w : tensor<8x16xf32>
}

// -----

func.func @compressed_size() -> !sparsenn.spgc8<4x16xi8> {
  // Eight all-zero subsets take exactly 3 header bytes, not 4.
  // expected-error @+1 {{data has 4 bytes but the SPGC8 stream of '!sparsenn.spgc8<4x16xi8>' encoded by its headers has 3}}
  %c = sparsenn.compressed_constant dense<0> : tensor<4xi8>, scales dense<1.0> : tensor<4xf32> : !sparsenn.spgc8<4x16xi8>
  return %c : !sparsenn.spgc8<4x16xi8>
}

// -----

func.func @compressed_truncated() -> !sparsenn.spgc8<4x16xi8> {
  // expected-error @+1 {{data is not a valid SPGC8 stream for '!sparsenn.spgc8<4x16xi8>'}}
  %c = sparsenn.compressed_constant dense<0> : tensor<2xi8>, scales dense<1.0> : tensor<4xf32> : !sparsenn.spgc8<4x16xi8>
  return %c : !sparsenn.spgc8<4x16xi8>
}

// -----

func.func @compressed_body_missing() -> !sparsenn.spgc8<1x16xi8> {
  // Header code 7 (b = 8) for subset 0 needs 8 body bytes that are absent.
  // expected-error @+1 {{data has 1 bytes but the SPGC8 stream of '!sparsenn.spgc8<1x16xi8>' encoded by its headers has 9}}
  %c = sparsenn.compressed_constant dense<7> : tensor<1xi8>, scales dense<1.0> : tensor<1xf32> : !sparsenn.spgc8<1x16xi8>
  return %c : !sparsenn.spgc8<1x16xi8>
}

// -----

func.func @compressed_scales() -> !sparsenn.spgc8<4x16xi8> {
  // expected-error @+1 {{expects 4 scales (one per output channel), got 3}}
  %c = sparsenn.compressed_constant dense<0> : tensor<3xi8>, scales dense<1.0> : tensor<3xf32> : !sparsenn.spgc8<4x16xi8>
  return %c : !sparsenn.spgc8<4x16xi8>
}

// -----

func.func @compressed_data_type() -> !sparsenn.spgc8<4x16xi8> {
  // expected-error @+1 {{data must be a 1-D tensor of i8 (the raw stream bytes)}}
  %c = sparsenn.compressed_constant dense<0> : tensor<3xi32>, scales dense<1.0> : tensor<4xf32> : !sparsenn.spgc8<4x16xi8>
  return %c : !sparsenn.spgc8<4x16xi8>
}

// -----

func.func @compressed_scales_type() -> !sparsenn.spgc8<4x16xi8> {
  // expected-error @+1 {{scales must be a 1-D tensor of f32}}
  %c = sparsenn.compressed_constant dense<0> : tensor<3xi8>, scales dense<1> : tensor<4xi32> : !sparsenn.spgc8<4x16xi8>
  return %c : !sparsenn.spgc8<4x16xi8>
}

// -----

func.func @decompress_shape(%c: !sparsenn.spgc8<4x16xi8>) -> tensor<4x8xf32> {
  // expected-error @+1 {{result shape [4, 8] must match the logical shape [4, 16]}}
  %w = sparsenn.decompress %c : !sparsenn.spgc8<4x16xi8> -> tensor<4x8xf32>
  return %w : tensor<4x8xf32>
}

// -----

func.func @decompress_bits(%c: !sparsenn.spgc8<4x16xi8>) -> tensor<4x16xi16> {
  // expected-error @+1 {{integer result must have the stream's 8-bit coefficients, got 'i16'}}
  %w = sparsenn.decompress %c : !sparsenn.spgc8<4x16xi8> -> tensor<4x16xi16>
  return %w : tensor<4x16xi16>
}

// -----

func.func @linear_compressed_shape(%x: tensor<2x16xf32>, %c: !sparsenn.spgc8<4x16x1x1xi8>) -> tensor<2x4xf32> {
  // expected-error @+1 {{expects weight of rank 2 ([out, in]), got rank 4}}
  %y = sparsenn.linear %x, %c : tensor<2x16xf32>, !sparsenn.spgc8<4x16x1x1xi8> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// expected-error @+1 {{SPGC8 weights must have rank 1, 2 ([out, in]) or 4 ([C_out, C_in, kH, kW]), got rank 3}}
func.func private @type_rank(!sparsenn.spgc8<4x16x3xi8>)

// -----

// expected-error @+1 {{SPGC8 coefficients must be i8 or i16, got 'i32'}}
func.func private @type_bits(!sparsenn.spgc8<4x16xi32>)

// -----

// expected-error @+1 {{SPGC8 coefficients must be i8 or i16, got 'f32'}}
func.func private @type_float(!sparsenn.spgc8<4x16xf32>)

// -----

// expected-error @+1 {{expected 'adjacent' or 'interleaved', got 'diagonal'}}
func.func private @type_layout(!sparsenn.spgc8<4x16xi8, diagonal>)

// -----

// expected-error @+1 {{SPGC8 weights need static positive dimensions}}
func.func private @type_zero(!sparsenn.spgc8<0x16xi8>)

// -----

// expected-error @+1 {{expected static shape}}
func.func private @type_dynamic(!sparsenn.spgc8<?x16xi8>)

// -----

func.func @conv_grad_strides(%dy: tensor<1x2x4x4xf32>, %w: tensor<2x3x3x3xf32>) -> tensor<1x3x6x6xf32> {
  // expected-error @+1 {{strides must be two positive integers}}
  %dx = sparsenn.conv2d_backward_input %dy, %w {strides = array<i64: 0, 1>} : tensor<1x2x4x4xf32>, tensor<2x3x3x3xf32> -> tensor<1x3x6x6xf32>
  return %dx : tensor<1x3x6x6xf32>
}

// -----

func.func @conv_grad_dilations(%dy: tensor<1x2x4x4xf32>, %w: tensor<2x3x3x3xf32>) -> tensor<1x3x6x6xf32> {
  // expected-error @+1 {{dilations must be two positive integers}}
  %dx = sparsenn.conv2d_backward_input %dy, %w {dilations = array<i64: 1>} : tensor<1x2x4x4xf32>, tensor<2x3x3x3xf32> -> tensor<1x3x6x6xf32>
  return %dx : tensor<1x3x6x6xf32>
}

// -----

func.func @conv_grad_padding(%x: tensor<1x3x6x6xf32>, %dy: tensor<1x2x4x4xf32>) -> tensor<2x3x3x3xf32> {
  // expected-error @+1 {{padding must be four non-negative integers [top, bottom, left, right]}}
  %dw = sparsenn.conv2d_backward_weight %x, %dy {padding = array<i64: 0, 0, -1, 0>} : tensor<1x3x6x6xf32>, tensor<1x2x4x4xf32> -> tensor<2x3x3x3xf32>
  return %dw : tensor<2x3x3x3xf32>
}

// -----

func.func @conv_grad_batch(%dy: tensor<2x2x4x4xf32>, %w: tensor<2x3x3x3xf32>) -> tensor<1x3x6x6xf32> {
  // expected-error @+1 {{batch 2 of the output gradient does not match the input's 1}}
  %dx = sparsenn.conv2d_backward_input %dy, %w : tensor<2x2x4x4xf32>, tensor<2x3x3x3xf32> -> tensor<1x3x6x6xf32>
  return %dx : tensor<1x3x6x6xf32>
}

// -----

func.func @conv_grad_in_channels(%dy: tensor<1x2x4x4xf32>, %w: tensor<2x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{weights [2, 3, 3, 3] do not match 4 input channels (groups 1)}}
  %dx = sparsenn.conv2d_backward_input %dy, %w : tensor<1x2x4x4xf32>, tensor<2x3x3x3xf32> -> tensor<1x4x6x6xf32>
  return %dx : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_grad_out_channels(%x: tensor<1x3x6x6xf32>, %dy: tensor<1x5x4x4xf32>) -> tensor<2x3x3x3xf32> {
  // expected-error @+1 {{weights [2, 3, 3, 3] do not match 5 output-gradient channels}}
  %dw = sparsenn.conv2d_backward_weight %x, %dy : tensor<1x3x6x6xf32>, tensor<1x5x4x4xf32> -> tensor<2x3x3x3xf32>
  return %dw : tensor<2x3x3x3xf32>
}

// -----

func.func @conv_grad_spatial(%x: tensor<1x3x6x6xf32>, %dy: tensor<1x2x5x4xf32>) -> tensor<2x3x3x3xf32> {
  // expected-error @+1 {{output gradient [1, 2, 5, 4] is not the convolution output of input [1, 3, 6, 6] and weights [2, 3, 3, 3]}}
  %dw = sparsenn.conv2d_backward_weight %x, %dy : tensor<1x3x6x6xf32>, tensor<1x2x5x4xf32> -> tensor<2x3x3x3xf32>
  return %dw : tensor<2x3x3x3xf32>
}

// -----

func.func @conv_grad_input_types(%dy: tensor<1x2x4x4xf16>, %w: tensor<2x3x3x3xf32>) -> tensor<1x3x6x6xf32> {
  // expected-error @+1 {{expects one element type for the output gradient, weights and result}}
  %dx = sparsenn.conv2d_backward_input %dy, %w : tensor<1x2x4x4xf16>, tensor<2x3x3x3xf32> -> tensor<1x3x6x6xf32>
  return %dx : tensor<1x3x6x6xf32>
}

// -----

func.func @conv_grad_weight_types(%x: tensor<1x3x6x6xf32>, %dy: tensor<1x2x4x4xf32>) -> tensor<2x3x3x3xf16> {
  // expected-error @+1 {{expects one element type for the input, output gradient and result}}
  %dw = sparsenn.conv2d_backward_weight %x, %dy : tensor<1x3x6x6xf32>, tensor<1x2x4x4xf32> -> tensor<2x3x3x3xf16>
  return %dw : tensor<2x3x3x3xf16>
}

// -----

func.func @conv_grad_mask(%x: tensor<1x3x6x6xf32>, %dy: tensor<1x2x4x4xf32>, %m: tensor<2x3x3x2xf32>) -> tensor<2x3x3x3xf32> {
  // expected-error @+1 {{mask [2, 3, 3, 2] does not match the result [2, 3, 3, 3]}}
  %dw = sparsenn.conv2d_backward_weight %x, %dy mask %m : tensor<1x3x6x6xf32>, tensor<1x2x4x4xf32>, tensor<2x3x3x2xf32> -> tensor<2x3x3x3xf32>
  return %dw : tensor<2x3x3x3xf32>
}

// -----

func.func @batch_norm_rank(%x: tensor<2x3x4xf32>, %g: tensor<3xf32>) -> tensor<2x3x4xf32> {
  // expected-error @+1 {{expects a [N, C] or [N, C, H, W] input, got rank 3}}
  %y = sparsenn.batch_norm %x, %g, %g, %g, %g : tensor<2x3x4xf32>, tensor<3xf32>
  return %y : tensor<2x3x4xf32>
}

// -----

func.func @batch_norm_channels(%x: tensor<2x4xf32>, %g: tensor<3xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{parameters of 3 channels for an input of 4}}
  %y = sparsenn.batch_norm %x, %g, %g, %g, %g : tensor<2x4xf32>, tensor<3xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @batch_norm_type(%x: tensor<2x3xf16>, %g: tensor<3xf32>) -> tensor<2x3xf16> {
  // expected-error @+1 {{expects the parameters in the input's element type}}
  %y = sparsenn.batch_norm %x, %g, %g, %g, %g : tensor<2x3xf16>, tensor<3xf32>
  return %y : tensor<2x3xf16>
}

// -----

func.func @batch_norm_epsilon(%x: tensor<2x3xf32>, %g: tensor<3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{epsilon must be positive}}
  %y = sparsenn.batch_norm %x, %g, %g, %g, %g {epsilon = 0.0} : tensor<2x3xf32>, tensor<3xf32>
  return %y : tensor<2x3xf32>
}

// -----

func.func @batch_norm_momentum(%x: tensor<2x3xf32>, %g: tensor<3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{momentum must be in [0, 1], got 1.5}}
  %y = sparsenn.batch_norm %x, %g, %g, %g, %g {momentum = 1.5} : tensor<2x3xf32>, tensor<3xf32>
  return %y : tensor<2x3xf32>
}

// -----

func.func @batch_norm_param_types(%x: tensor<2x3xf32>, %g: tensor<3xf32>, %b: tensor<4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{all of {gamma, beta, running_mean, running_var} have same type}}
  %y = "sparsenn.batch_norm"(%x, %g, %b, %g, %g) : (tensor<2x3xf32>, tensor<3xf32>, tensor<4xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
