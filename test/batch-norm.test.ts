import { describe, expect, test } from 'vitest';
import { gradcheck, relativeError } from '../src/ops/gradcheck.js';
import { host, type HostTensor } from '../src/kernels/host.js';
import * as T from '../src/ops/index.js';
import { expectClose, randomHost } from './helpers/check.js';
import { useTestEngine } from './helpers/gpu.js';

const engine = useTestEngine();

/** (x − mean) / √(var + eps) · γ + β along axis 1, as PyTorch's eval-mode BatchNorm writes it. */
function batchNormReference(x: HostTensor, mean: HostTensor, variance: HostTensor, gamma: HostTensor, beta: HostTensor, eps = 1e-5): HostTensor {
  const channels = x.shape[1];
  const inner = x.shape.slice(2).reduce((a, b) => a * b, 1);
  const data = x.data.map((v, i) => {
    const c = Math.floor(i / inner) % channels;
    return ((v - mean.data[c]) / Math.sqrt(variance.data[c] + eps)) * gamma.data[c] + beta.data[c];
  });
  return { shape: [...x.shape], data };
}

/** A direct float64 conv2d (NCHW, weight [Cout, Cin/groups, kh, kw], zero padding). */
function convReference(x: HostTensor, w: HostTensor, bias: ArrayLike<number> | null, stride: number, padding: number, groups: number): HostTensor {
  const [n, cin, h, wd] = x.shape;
  const [cout, cinPerGroup, kh, kw] = w.shape;
  const coutPerGroup = cout / groups;
  const oh = Math.floor((h + 2 * padding - kh) / stride) + 1;
  const ow = Math.floor((wd + 2 * padding - kw) / stride) + 1;
  const out = new Float64Array(n * cout * oh * ow);
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < cout; o++) {
      const firstInput = Math.floor(o / coutPerGroup) * cinPerGroup;
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let s = bias ? bias[o] : 0;
          for (let ci = 0; ci < cinPerGroup; ci++) {
            for (let ky = 0; ky < kh; ky++) {
              for (let kx = 0; kx < kw; kx++) {
                const y = oy * stride - padding + ky;
                const xx = ox * stride - padding + kx;
                if (y < 0 || y >= h || xx < 0 || xx >= wd) continue;
                s += x.data[((b * cin + firstInput + ci) * h + y) * wd + xx] * w.data[((o * cinPerGroup + ci) * kh + ky) * kw + kx];
              }
            }
          }
          out[((b * cout + o) * oh + oy) * ow + ox] = s;
        }
      }
    }
  }
  return { shape: [n, cout, oh, ow], data: out };
}

/** Running statistics and affine parameters for `channels` channels (variances positive). */
function bnParameters(channels: number): [HostTensor, HostTensor, HostTensor, HostTensor] {
  return [randomHost([channels]), randomHost([channels], 'positive'), randomHost([channels]), randomHost([channels])];
}

const toGpu = (h: HostTensor) => T.tensor(h.data, h.shape);

/** batchNormInference on the GPU for host values. */
function batchNormOnGpu(x: HostTensor, [mean, variance, gamma, beta]: HostTensor[], eps?: number): T.Tensor {
  return T.batchNormInference(toGpu(x), toGpu(mean), toGpu(variance), toGpu(gamma), toGpu(beta), eps);
}

describe('batchNormInference', () => {
  for (const shape of [[2, 3, 5, 7], [4, 5], [3, 2, 3, 4, 5], [1, 1, 1, 1]]) {
    test(`[${shape}] matches the float64 reference`, async () => {
      engine().poisonNewTensors = true;
      const x = randomHost(shape);
      const params = bnParameters(shape[1]);
      await expectClose(batchNormOnGpu(x, params), batchNormReference(x, ...params), 1e-6);
      await expectClose(batchNormOnGpu(x, params, 0.1), batchNormReference(x, ...params, 0.1), 1e-6);
    });
  }

  test('gradients w.r.t. x and every parameter (gradcheck)', async () => {
    const x = randomHost([2, 3, 4, 5]);
    const { gradErrors } = await gradcheck({
      inputs: [x, ...bnParameters(3)],
      gpu: (...t) => T.batchNormInference(t[0], t[1], t[2], t[3], t[4]),
      reference: (...h) => batchNormReference(h[0], h[1], h[2], h[3], h[4]),
    });
    for (const error of gradErrors) expect(error).toBeLessThan(1e-4);
  });

  test('errors', () => {
    const [mean, variance, gamma, beta] = bnParameters(3).map(toGpu);
    expect(() => T.batchNormInference(T.zeros([6]), mean, variance, gamma, beta)).toThrow(/rank ≥ 2/);
    expect(() => T.batchNormInference(T.zeros([2, 4, 3, 3]), mean, variance, gamma, beta)).toThrow(/runningMean must have shape \[4\]/);
    expect(() => T.batchNormInference(T.zeros([2, 3, 3, 3]), mean, T.zeros([1, 3]), gamma, beta)).toThrow(/runningVar must have shape \[3\]/);
    expect(() => T.batchNormInference(T.zeros([2, 3, 3, 3]), mean, variance, gamma, T.zeros([2]))).toThrow(/bias must have shape \[3\]/);
  });
});

describe('foldBatchNorm', () => {
  const cases: [label: string, xShape: number[], wShape: number[], withBias: boolean, stride: number, padding: number, groups: number][] = [
    ['3×3 conv with bias', [2, 3, 7, 6], [4, 3, 3, 3], true, 1, 1, 1],
    ['strided 3×3 conv without bias', [2, 4, 9, 8], [5, 4, 3, 3], false, 2, 1, 1],
    ['grouped 3×3 conv (ResNeXt)', [1, 8, 5, 5], [6, 4, 3, 3], false, 1, 1, 2],
    ['1×1 conv', [3, 5, 4, 3], [7, 5, 1, 1], true, 1, 0, 1],
  ];
  function foldAndCheck(w: HostTensor, b: ArrayLike<number> | null, [mean, variance, gamma, beta]: HostTensor[]): T.FoldedConv {
    const folded = T.foldBatchNorm(Float32Array.from(w.data), b && Float32Array.from(b), mean.data, variance.data, gamma.data, beta.data);
    expect(folded.weight).toBeInstanceOf(Float32Array);
    expect(folded.weight.length).toBe(w.data.length);
    expect(folded.bias.length).toBe(w.shape[0]);
    return folded;
  }

  for (const [label, xShape, wShape, withBias, stride, padding, groups] of cases) {
    test(`${label}: conv(x, W′, b′) = bn(conv(x, W, b))`, async () => {
      engine().poisonNewTensors = true;
      const x = randomHost(xShape);
      // The conv's own parameters are float32, as they come from a checkpoint.
      const w = randomHost(wShape);
      w.data = w.data.map(Math.fround);
      const b = withBias ? randomHost([wShape[0]]).data.map(Math.fround) : null;
      const bn = bnParameters(wShape[0]);
      const folded = foldAndCheck(w, b, bn);
      const convOut = convReference(x, w, b, stride, padding, groups);
      const unfused = batchNormReference(convOut, ...bn);
      const fused = convReference(x, host(wShape, folded.weight), folded.bias, stride, padding, groups);
      expect(relativeError(fused.data, unfused.data)).toBeLessThan(1e-6); // W′, b′ are float32: one rounding each

      // The GPU batch norm after the unfused conv agrees with the fused conv too.
      await expectClose(batchNormOnGpu(convOut, bn), fused, 1e-6);
    });
  }

  test('errors', () => {
    const [mean, variance, gamma, beta] = bnParameters(4).map((h) => h.data);
    const w = new Float32Array(4 * 3 * 3 * 3);
    expect(() => T.foldBatchNorm(w, null, mean, variance.subarray(1), gamma, beta)).toThrow(/variance has 3 values but mean has 4/);
    expect(() => T.foldBatchNorm(w, new Float32Array(5), mean, variance, gamma, beta)).toThrow(/convBias has 5 values/);
    expect(() => T.foldBatchNorm(w.subarray(1), null, mean, variance, gamma, beta)).toThrow(/107 values does not split into 4 output channels/);
    expect(() => T.foldBatchNorm(w, null, [], [], [], [])).toThrow(/does not split into 0/);
  });
});
