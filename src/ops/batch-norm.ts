// Batch normalisation with frozen statistics (inference mode, as in the pretrained SE-ResNeXt encoder):
// y = (x − mean) / √(var + eps) · γ + β per channel, i.e. one per-channel affine map y = x·scale + shift.
import type { Tensor } from '../engine/tensor.js';
import { add, div, mul, sqrt, sub } from './elementwise.js';
import { reshape } from './shape.js';

/** A per-channel parameter shaped [1, C, 1, …] so that it broadcasts over [N, C, …]. */
function perChannel(t: Tensor, rank: number): Tensor {
  return reshape(t, [1, t.size, ...new Array<number>(rank - 2).fill(1)]);
}

/**
 * torch.nn.functional.batch_norm(x, runningMean, runningVar, weight, bias, training=False, eps) over x of shape
 * [N, C, …]. Differentiable w.r.t. x and all four parameters (built from elementwise ops).
 */
export function batchNormInference(x: Tensor, runningMean: Tensor, runningVar: Tensor, weight: Tensor, bias: Tensor, eps = 1e-5): Tensor {
  if (x.rank < 2) throw new Error(`batchNormInference expects [N, C, …] (rank ≥ 2), got [${x.shape.join(', ')}].`);
  const channels = x.shape[1];
  const params = { runningMean, runningVar, weight, bias };
  for (const [name, t] of Object.entries(params)) {
    if (t.rank !== 1 || t.size !== channels) {
      throw new Error(`batchNormInference: ${name} must have shape [${channels}] (the channels of x [${x.shape.join(', ')}]), got [${t.shape.join(', ')}].`);
    }
  }
  // The affine coefficients are computed on the C-element parameters, so x is touched by two passes only.
  const scale = div(weight, sqrt(add(runningVar, eps)));
  const shift = sub(bias, mul(runningMean, scale));
  return add(mul(x, perChannel(scale, x.rank)), perChannel(shift, x.rank));
}

export interface FoldedConv {
  /** [Cout, Cin/groups, kh, kw], row-major, like the conv weight given. */
  weight: Float32Array;
  /** [Cout]. */
  bias: Float32Array;
}

/**
 * Folds an inference-mode batch norm that follows a conv into the conv's weights, so that
 * conv(x, W', b') = bn(conv(x, W, b)): W'[o] = W[o]·s[o] and b'[o] = (b[o] − mean[o])·s[o] + β[o], with
 * s = γ / √(var + eps). `convWeight` has the conv2d layout [Cout, Cin/groups, kh, kw] (Cout = mean.length);
 * a conv without bias passes null. Computed on the host in float64 and rounded once to float32.
 */
export function foldBatchNorm(
  convWeight: ArrayLike<number>, convBias: ArrayLike<number> | null,
  mean: ArrayLike<number>, variance: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>, eps = 1e-5,
): FoldedConv {
  const channels = mean.length;
  const params = { variance, gamma, beta, ...(convBias ? { convBias } : {}) };
  for (const [name, values] of Object.entries(params)) {
    if (values.length !== channels) {
      throw new Error(`foldBatchNorm: ${name} has ${values.length} values but mean has ${channels} (one per output channel).`);
    }
  }
  if (channels === 0 || convWeight.length % channels) {
    throw new Error(`foldBatchNorm: a conv weight of ${convWeight.length} values does not split into ${channels} output channels (layout [Cout, Cin/groups, kh, kw]).`);
  }
  const perOutput = convWeight.length / channels;
  const weight = new Float32Array(convWeight.length);
  const bias = new Float32Array(channels);
  for (let o = 0; o < channels; o++) {
    const scale = gamma[o] / Math.sqrt(variance[o] + eps);
    for (let k = o * perOutput; k < (o + 1) * perOutput; k++) weight[k] = convWeight[k] * scale;
    bias[o] = ((convBias ? convBias[o] : 0) - mean[o]) * scale + beta[o];
  }
  return { weight, bias };
}
