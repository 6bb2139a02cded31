// Weight initialisers, drawn from the engine's seeded generator (src/kernels/random.ts) so a run is reproducible.
// Fans follow PyTorch's torch.nn.init._calculate_fan_in_and_fan_out for every layer kind:
//   fan_in = shape[1]·receptive field, fan_out = shape[0]·receptive field, receptive field = Π shape[2:].
// For ConvTranspose2d, whose weight is [Cin, Cout/groups, kh, kw], PyTorch applies the same formula to that
// weight, so its "fan_in" is Cout/groups·kh·kw; passing the transposed weight's own shape replicates it.
import type { Shape } from '../engine/shape.js';
import { randUniform, type RandomOptions, type Tensor } from '../ops/index.js';

export interface Fans {
  fanIn: number;
  fanOut: number;
}

export function fans(weightShape: Shape): Fans {
  if (weightShape.length < 2) {
    throw new Error(`Fans need a weight of rank ≥ 2 ([out, in, ...kernel]), got [${weightShape.join(', ')}].`);
  }
  const receptiveField = weightShape.slice(2).reduce((k, n) => k * n, 1);
  return { fanIn: weightShape[1] * receptiveField, fanOut: weightShape[0] * receptiveField };
}

/** U(−bound, bound); a zero bound (no inputs, so no elements either) gives zeros. */
function symmetricUniform(shape: Shape, bound: number, options?: RandomOptions): Tensor {
  return randUniform(shape, -bound, bound, options);
}

/** Glorot & Bengio's uniform init (torch.nn.init.xavier_uniform_): bound = gain·sqrt(6/(fan_in + fan_out)). */
export function xavierUniform(shape: Shape, gain = 1, options?: RandomOptions): Tensor {
  const { fanIn, fanOut } = fans(shape);
  return symmetricUniform(shape, fanIn + fanOut > 0 ? gain * Math.sqrt(6 / (fanIn + fanOut)) : 0, options);
}

/**
 * The default weight init of PyTorch's Linear, Conv2d and ConvTranspose2d (reset_parameters):
 * kaiming_uniform_(a = √5), whose gain sqrt(2/(1 + a²)) = sqrt(1/3) makes bound = sqrt(3)·gain/sqrt(fan_in)
 * = 1/sqrt(fan_in).
 */
export function defaultWeightInit(shape: Shape, options?: RandomOptions): Tensor {
  const { fanIn } = fans(shape);
  return symmetricUniform(shape, fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0, options);
}

/**
 * The default bias init of those layers: U(±1/sqrt(fan_in)) with fan_in of their weight (so for
 * ConvTranspose2d again weightShape[1]·kh·kw). `length` is the layer's output count: weightShape[0] for
 * Linear and Conv2d, weightShape[1]·groups for ConvTranspose2d.
 */
export function defaultBiasInit(length: number, weightShape: Shape, options?: RandomOptions): Tensor {
  if (!Number.isInteger(length) || length < 0) throw new Error(`Bias length must be an integer ≥ 0, got ${length}.`);
  const { fanIn } = fans(weightShape);
  return symmetricUniform([length], fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0, options);
}
