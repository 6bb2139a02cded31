// Squeeze-and-excitation (Hu et al. 2018), REFERENCE §3: per-channel gates from the global average,
// y = x · sigmoid(conv2(relu(conv1(avgpool(x))))), with 1×1 convs C → C/ratio → C (ratio 16 everywhere).
//
// The weights keep PyTorch's conv layout so checkpoints load unchanged. Their names in the published state
// dicts (../shared/reference/state-dicts.txt):
//   generator v1 and extractor:  …selayer.conv1.{weight [C/16, C, 1, 1], bias [C/16]}, …selayer.conv2.{weight [C, C/16, 1, 1], bias [C]}
//   discriminator v1:            …selayer.conv{1,2}.module.{weight_bar, weight_u, weight_v, bias}, spectrally normalised
// The discriminator passes spectralNormWeight(weight_bar, …) as `weight` (src/ops/spectral-norm.ts): the weights
// are ordinary inputs, so any transform of them composes with this function and its gradient.
import type { Tensor } from '../engine/tensor.js';
import { mul, relu, sigmoid } from './elementwise.js';
import { linear } from './linear.js';
import { mean } from './reduce.js';
import { reshape } from './shape.js';

export interface Conv1x1Parameters {
  /** [out, in, 1, 1]. */
  weight: Tensor;
  /** [out]. */
  bias: Tensor;
}

export interface SqueezeExcitationParameters {
  /** The squeeze: C → C/ratio. */
  conv1: Conv1x1Parameters;
  /** The excitation: C/ratio → C. */
  conv2: Conv1x1Parameters;
}

/** Checks a 1×1 conv's shapes and returns its weight [out, in, 1, 1] as the [out, in] matrix of a linear layer (a view). */
function asLinearWeight(name: string, { weight, bias }: Conv1x1Parameters, out: number, inFeatures: number): Tensor {
  const expected = [out, inFeatures, 1, 1];
  if (weight.shape.join() !== expected.join()) {
    throw new Error(`squeezeExcitation: ${name}.weight must be [${expected.join(', ')}], got [${weight.shape.join(', ')}].`);
  }
  if (bias.shape.join() !== String(out)) {
    throw new Error(`squeezeExcitation: ${name}.bias must be [${out}], got [${bias.shape.join(', ')}].`);
  }
  return reshape(weight, [out, inFeatures]);
}

/** SE block on x [N, C, H, W]; differentiable w.r.t. x and all four parameters. */
export function squeezeExcitation(x: Tensor, { conv1, conv2 }: SqueezeExcitationParameters): Tensor {
  if (x.rank !== 4) throw new Error(`squeezeExcitation expects an NCHW tensor of rank 4, got [${x.shape.join(', ')}].`);
  const [n, channels] = x.shape;
  const hidden = conv1.weight.shape[0] ?? 0;
  if (hidden < 1) throw new Error(`squeezeExcitation: conv1.weight must be [C/ratio, ${channels}, 1, 1], got [${conv1.weight.shape.join(', ')}].`);
  const w1 = asLinearWeight('conv1', conv1, hidden, channels);
  const w2 = asLinearWeight('conv2', conv2, channels, hidden);
  // On the pooled [N, C] a 1×1 conv is exactly a linear layer (the same sum over C per output); linear reads
  // the weight as a transposed view, one small GEMM, instead of conv2d's im2col indexing over 1×1 images.
  const pooled = mean(x, [2, 3]);
  const gates = sigmoid(linear(relu(linear(pooled, w1, conv1.bias)), w2, conv2.bias));
  return mul(x, reshape(gates, [n, channels, 1, 1]));
}
