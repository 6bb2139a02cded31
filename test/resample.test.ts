import { describe, expect, test } from 'vitest';
import { Tensor } from '../src/engine/tensor.js';
import { composeAfterUpsampling, filterAxis, gaussianFilter, gaussianRadius, lanczosUpFilter, type Filter1d } from '../src/kernels/resample.js';
import { filterAxisReference, reflectIndex } from '../src/kernels/resample.ref.js';
import { expectClose, randomHost } from './helpers/check.js';
import { useTestEngine } from './helpers/gpu.js';

const engine = useTestEngine();

describe('separable filters match the float64 reference', () => {
  const filters: Filter1d[] = [
    gaussianFilter(0.5),
    gaussianFilter(4), // radius 16: 33 taps
    gaussianFilter(20), // radius 80: far wider than the planes, so reflection wraps periodically
    lanczosUpFilter(7),
    lanczosUpFilter(2),
    lanczosUpFilter(1),
  ];
  const shapes = [[21, 35], [3, 5], [1, 7], [70, 14]];
  for (const f of filters) {
    test(f.name, async () => {
      engine().poisonNewTensors = true;
      for (const axis of ['x', 'y'] as const) {
        for (const [h, w] of shapes) {
          const x = randomHost([h, w], 'uniform');
          const out = filterAxis(Tensor.fromArray(Float32Array.from(x.data), [h, w]), axis, f);
          await expectClose(out, filterAxisReference(x, axis, f), 2e-6);
        }
      }
    });
  }

  test('a Gaussian after Lanczos upsampling is one polyphase filter', async () => {
    for (const [sigma, factor] of [[4, 7], [0.5, 7], [0.5, 2], [2, 3], [4, 1]]) {
      const fine = gaussianFilter(sigma);
      const up = lanczosUpFilter(factor);
      const both = composeAfterUpsampling(fine, up);
      for (const [h, w] of [[13, 9], [2, 3], [1, 1]]) {
        const x = randomHost([h, w], 'uniform');
        for (const axis of ['x', 'y'] as const) {
          const twoSteps = filterAxisReference(filterAxisReference(x, axis, up), axis, fine);
          await expectClose(filterAxis(Tensor.fromArray(Float32Array.from(x.data), [h, w]), axis, both), twoSteps, 2e-6);
        }
      }
    }
  });

  test('filter shapes', () => {
    expect(gaussianRadius(0.5)).toBe(2);
    expect(gaussianRadius(4)).toBe(16);
    expect(gaussianRadius(2)).toBe(8);
    const g = gaussianFilter(0.5);
    expect(g.taps).toBe(5);
    expect(g.weights.reduce((a, b) => a + b)).toBeCloseTo(1, 14);
    expect(g.weights[2] / g.weights[1]).toBeCloseTo(Math.exp(2), 12);
    const l = lanczosUpFilter(7);
    for (let p = 0; p < 7; p++) expect(l.weights.subarray(p * l.taps, (p + 1) * l.taps).reduce((a, b) => a + b)).toBeCloseTo(1, 14);
    // Phase 3 of 7 sits exactly on the source pixel: weight 1 there, 0 elsewhere.
    expect([...l.weights.subarray(3 * l.taps, 4 * l.taps)].map((v) => Math.abs(Math.round(v * 1e12) / 1e12))).toEqual([0, 0, 0, 1, 0, 0, 0]);
  });

  test('reflect is half-sample symmetric and periodic', () => {
    expect([-4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7].map((j) => reflectIndex(j, 4))).toEqual([3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0]);
    expect([-3, -2, -1, 0, 1, 2, 3].map((j) => reflectIndex(j, 1))).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect([9, 10, 11, 12].map((j) => reflectIndex(j, 3))).toEqual([2, 1, 0, 0]);
  });
});
