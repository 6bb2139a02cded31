// Float64 references of src/train/losses.ts, written straight from the formulas (element loops, no ops).
import type { HostTensor } from '../kernels/host.js';

const scalarResult = (value: number): HostTensor => ({ shape: [], data: Float64Array.of(value) });

function meanOf(n: number, term: (i: number) => number): number {
  let total = 0;
  for (let i = 0; i < n; i++) total += term(i);
  return total / n;
}

export function l1LossReference(a: HostTensor, b: HostTensor): HostTensor {
  return scalarResult(meanOf(a.data.length, (i) => Math.abs(a.data[i] - b.data[i])));
}

export function mseLossReference(a: HostTensor, b: HostTensor): HostTensor {
  return scalarResult(meanOf(a.data.length, (i) => (a.data[i] - b.data[i]) ** 2));
}

export function bceWithLogitsReference(logits: HostTensor, target: number): HostTensor {
  return scalarResult(
    meanOf(logits.data.length, (i) => {
      const x = logits.data[i];
      return Math.max(x, 0) - x * target + Math.log1p(Math.exp(-Math.abs(x)));
    }),
  );
}

/** REFERENCE §6: a ground-truth pixel is white when all three channels exceed this (in [−1, 1]). */
const WHITE_THRESHOLD = 0.85;

export function whitePenaltyReference(output: HostTensor, target: HostTensor): HostTensor {
  const [batch, channels, height, width] = output.shape;
  const plane = height * width;
  let total = 0;
  for (let n = 0; n < batch; n++) {
    let numerator = 0;
    let maskedElements = 0;
    for (let p = 0; p < plane; p++) {
      const at = (c: number) => (n * channels + c) * plane + p;
      let allWhite = true;
      for (let c = 0; c < channels; c++) allWhite &&= target.data[at(c)] > WHITE_THRESHOLD;
      const m = allWhite ? 0 : 1;
      let brightness = 0;
      for (let c = 0; c < channels; c++) brightness += (m * (output.data[at(c)] + 1)) / 2;
      numerator += brightness ** 2;
      maskedElements += channels * m;
    }
    total += numerator / (maskedElements + 1);
  }
  return scalarResult(total / batch);
}

export function hintL1Reference(output: HostTensor, target: HostTensor, weight: HostTensor): HostTensor {
  const [batch, channels, height, width] = output.shape;
  const plane = height * width;
  let total = 0;
  for (let n = 0; n < batch; n++) {
    let numerator = 0;
    let weights = 0;
    for (let p = 0; p < plane; p++) {
      const w = weight.data[n * plane + p];
      weights += w;
      for (let c = 0; c < channels; c++) numerator += w * Math.abs(output.data[(n * channels + c) * plane + p] - target.data[(n * channels + c) * plane + p]);
    }
    total += numerator / (channels * weights + 1);
  }
  return scalarResult(total / batch);
}

/**
 * gateBce in float64: per batch item Σ_p c·(softplus(x) − x·t) / (Σ_p c + 1), t = 1 where the mean |hint − target|
 * over the channels is below `tolerance`; averaged over the batch.
 */
export function gateBceReference(logits: HostTensor, hint: HostTensor, target: HostTensor, confidence: HostTensor, tolerance: number): HostTensor {
  const [batch, channels, height, width] = target.shape;
  const plane = height * width;
  let total = 0;
  for (let n = 0; n < batch; n++) {
    let numerator = 0;
    let weights = 0;
    for (let p = 0; p < plane; p++) {
      let difference = 0;
      for (let c = 0; c < channels; c++) difference += Math.abs(hint.data[(n * channels + c) * plane + p] - target.data[(n * channels + c) * plane + p]);
      const t = difference < channels * tolerance ? 1 : 0;
      const x = logits.data[n * plane + p];
      const w = confidence.data[n * plane + p];
      weights += w;
      numerator += w * (Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))) - x * t);
    }
    total += numerator / (weights + 1);
  }
  return scalarResult(total / batch);
}
