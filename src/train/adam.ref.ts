// Float64 reference of the Adam update (shaders/adam.wgsl), following PyTorch's torch.optim.Adam.
import type { AdamHyperparameters } from './adam.js';

export interface AdamReferenceMoments {
  step: number;
  expAvg: Float64Array;
  expAvgSq: Float64Array;
}

/** One update of one parameter; returns the new parameter and moments (the inputs are left as they are). */
export function adamStepReference(
  param: ArrayLike<number>,
  grad: ArrayLike<number>,
  moments: AdamReferenceMoments | null,
  { lr, betas: [beta1, beta2], eps }: AdamHyperparameters,
): { param: Float64Array; moments: AdamReferenceMoments } {
  const n = param.length;
  const step = (moments?.step ?? 0) + 1;
  const expAvg = new Float64Array(n);
  const expAvgSq = new Float64Array(n);
  const updated = new Float64Array(n);
  const biasCorrection1 = 1 - beta1 ** step;
  const biasCorrection2 = 1 - beta2 ** step;
  for (let i = 0; i < n; i++) {
    const g = grad[i];
    expAvg[i] = beta1 * (moments?.expAvg[i] ?? 0) + (1 - beta1) * g;
    expAvgSq[i] = beta2 * (moments?.expAvgSq[i] ?? 0) + (1 - beta2) * g * g;
    const corrected = expAvg[i] / biasCorrection1;
    updated[i] = param[i] - (lr * corrected) / (Math.sqrt(expAvgSq[i] / biasCorrection2) + eps);
  }
  return { param: updated, moments: { step, expAvg, expAvgSq } };
}
