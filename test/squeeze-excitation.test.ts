import { describe, expect, test } from 'vitest';
import { gradcheck } from '../src/ops/gradcheck.js';
import type { HostTensor } from '../src/kernels/host.js';
import * as T from '../src/ops/index.js';
import { expectClose, randomHost } from './helpers/check.js';
import { useTestEngine } from './helpers/gpu.js';
import { normalized, normalizedWeight, powerIteration } from './helpers/spectral-norm.ref.js';

const engine = useTestEngine();
const up = (h: HostTensor) => T.tensor(h.data, h.shape);

/** Float64 SE block: y = x · sigmoid(W₂ relu(W₁ mean_hw(x) + b₁) + b₂), weights in conv layout [out, in, 1, 1]. */
function squeezeExcitationReference(x: HostTensor, w1: HostTensor, b1: HostTensor, w2: HostTensor, b2: HostTensor): HostTensor {
  const [n, channels, h, w] = x.shape;
  const hidden = w1.shape[0];
  const pixels = h * w;
  const data = new Float64Array(x.data.length);
  for (let b = 0; b < n; b++) {
    const pooled = Float64Array.from({ length: channels }, (_, c) => {
      let s = 0;
      for (let p = 0; p < pixels; p++) s += x.data[(b * channels + c) * pixels + p];
      return s / pixels;
    });
    const squeezed = Float64Array.from({ length: hidden }, (_, r) =>
      Math.max(0, pooled.reduce((s, e, c) => s + w1.data[r * channels + c] * e, b1.data[r])),
    );
    for (let c = 0; c < channels; c++) {
      const gate = 1 / (1 + Math.exp(-squeezed.reduce((s, e, r) => s + w2.data[c * hidden + r] * e, b2.data[c])));
      for (let p = 0; p < pixels; p++) data[(b * channels + c) * pixels + p] = x.data[(b * channels + c) * pixels + p] * gate;
    }
  }
  return { shape: [...x.shape], data };
}

/** x, conv1.weight, conv1.bias, conv2.weight, conv2.bias for x [N, C, H, W] and C/ratio hidden channels. */
function seInputs([n, channels, h, w]: number[], hidden: number): HostTensor[] {
  return [randomHost([n, channels, h, w]), randomHost([hidden, channels, 1, 1]), randomHost([hidden]), randomHost([channels, hidden, 1, 1]), randomHost([channels])];
}

const seOnGpu = (x: T.Tensor, w1: T.Tensor, b1: T.Tensor, w2: T.Tensor, b2: T.Tensor) =>
  T.squeezeExcitation(x, { conv1: { weight: w1, bias: b1 }, conv2: { weight: w2, bias: b2 } });

describe('squeezeExcitation', () => {
  // Ratio 16 as in REFERENCE §3 (64 → 4, 32 → 2, and the generator's 512 → 32), batch > 1, odd H and W.
  const cases: [number[], number][] = [
    [[2, 64, 5, 7], 4],
    [[3, 32, 7, 3], 2],
    [[2, 512, 3, 5], 32],
    [[2, 16, 1, 1], 1],
  ];
  for (const [shape, hidden] of cases) {
    test(`x [${shape}], ${shape[1]} → ${hidden} → ${shape[1]} matches the float64 reference`, async () => {
      engine().poisonNewTensors = true;
      const inputs = seInputs(shape, hidden);
      const [x, w1, b1, w2, b2] = inputs.map(up);
      await expectClose(seOnGpu(x, w1, b1, w2, b2), squeezeExcitationReference(...(inputs as [HostTensor, HostTensor, HostTensor, HostTensor, HostTensor])), 1e-6);
    });
  }

  test('gradients w.r.t. x and all four parameters (gradcheck)', async () => {
    for (const [shape, hidden] of [[[2, 64, 5, 7], 4], [[3, 32, 3, 5], 2]] as const) {
      const { forwardError, gradErrors } = await gradcheck({
        inputs: seInputs([...shape], hidden),
        gpu: seOnGpu,
        reference: squeezeExcitationReference,
      });
      expect(forwardError).toBeLessThan(1e-6);
      expect(gradErrors).toHaveLength(5);
      for (const error of gradErrors) expect(error).toBeLessThan(1e-4);
    }
  });

  test('with spectrally normalised weights, as in the discriminator (training, gradcheck)', async () => {
    // The discriminator's SE passes spectralNormWeight(weight_bar, …) as each conv weight; the gradient reaches
    // weight_bar through σ. u, v are constants of the gradient, so the reference iterates once from the inputs.
    const [x, w1, b1, w2, b2] = seInputs([2, 32, 5, 3], 2);
    const u1 = normalized(randomHost([2]).data).map(Math.fround);
    const u2 = normalized(randomHost([32]).data).map(Math.fround);
    const state = (u: Float64Array, rest: number) => ({ u: T.tensor(u, [u.length]), v: T.zeros([rest]) });
    const rounded = (h: HostTensor): HostTensor => ({ shape: h.shape, data: h.data.map(Math.fround) });
    const sn1 = powerIteration(rounded(w1), u1);
    const sn2 = powerIteration(rounded(w2), u2);
    const { forwardError, gradErrors } = await gradcheck({
      inputs: [x, w1, b1, w2, b2],
      gpu: (x, w1, b1, w2, b2) =>
        seOnGpu(x, T.spectralNormWeight(w1, state(u1, 32), true), b1, T.spectralNormWeight(w2, state(u2, 2), true), b2),
      reference: (x, w1, b1, w2, b2) =>
        squeezeExcitationReference(x, normalizedWeight(w1, sn1.u, sn1.v), b1, normalizedWeight(w2, sn2.u, sn2.v), b2),
    });
    expect(forwardError).toBeLessThan(1e-6);
    for (const error of gradErrors) expect(error).toBeLessThan(1e-4);
  });

  test('errors', () => {
    const [x, w1, b1, w2, b2] = seInputs([2, 32, 3, 3], 2).map(up);
    const se = (x: T.Tensor, w1: T.Tensor, b1: T.Tensor, w2: T.Tensor, b2: T.Tensor) => () => seOnGpu(x, w1, b1, w2, b2);
    expect(se(T.zeros([2, 32, 9]), w1, b1, w2, b2)).toThrow(/rank 4, got \[2, 32, 9\]/);
    expect(se(x, T.zeros([2, 16, 1, 1]), b1, w2, b2)).toThrow(/conv1\.weight must be \[2, 32, 1, 1\], got \[2, 16, 1, 1\]/);
    expect(se(x, T.zeros([2, 32]), b1, w2, b2)).toThrow(/conv1\.weight must be \[2, 32, 1, 1\]/);
    expect(se(x, T.zeros([2, 32, 3, 3]), b1, w2, b2)).toThrow(/conv1\.weight must be \[2, 32, 1, 1\]/);
    expect(se(x, T.zeros([0, 32, 1, 1]), b1, w2, b2)).toThrow(/conv1\.weight must be \[C\/ratio, 32, 1, 1\]/);
    expect(se(x, w1, T.zeros([3]), w2, b2)).toThrow(/conv1\.bias must be \[2\], got \[3\]/);
    expect(se(x, w1, b1, T.zeros([32, 4, 1, 1]), b2)).toThrow(/conv2\.weight must be \[32, 2, 1, 1\]/);
    expect(se(x, w1, b1, w2, T.zeros([1, 32]))).toThrow(/conv2\.bias must be \[32\], got \[1, 32\]/);
  });
});
