import { describe, expect, test } from 'vitest';
import { gradcheck } from '../src/ops/gradcheck.js';
import type { HostTensor } from '../src/kernels/host.js';
import * as T from '../src/ops/index.js';
import { linear } from '../src/ops/linear.js';
import { expectClose, randomHost } from './helpers/check.js';
import { useTestEngine } from './helpers/gpu.js';

const engine = useTestEngine();
const up = (h: HostTensor) => T.tensor(h.data, h.shape);

/** Float64 x·Wᵀ + b over the leading dims of x. */
function linearReference(x: HostTensor, weight: HostTensor, bias: HostTensor | null = null): HostTensor {
  const [outFeatures, inFeatures] = weight.shape;
  const rows = x.data.length / inFeatures;
  const data = new Float64Array(rows * outFeatures);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outFeatures; o++) {
      let s = bias ? bias.data[o] : 0;
      for (let k = 0; k < inFeatures; k++) s += x.data[r * inFeatures + k] * weight.data[o * inFeatures + k];
      data[r * outFeatures + o] = s;
    }
  }
  return { shape: [...x.shape.slice(0, -1), outFeatures], data };
}

describe('linear', () => {
  // [x shape, out features, with bias]: one row, a vector input, leading batch dims, vec4-friendly and odd sizes.
  const cases: [number[], number, boolean][] = [
    [[1, 1], 1, true],
    [[6], 4, true],
    [[5, 7], 3, true],
    [[2, 4, 6], 9, false],
    [[64, 100], 132, true],
    [[3, 2, 17], 33, true],
  ];
  for (const [xShape, out, withBias] of cases) {
    test(`x [${xShape}] → ${out} features${withBias ? ' + bias' : ''}`, async () => {
      engine().poisonNewTensors = true;
      const x = randomHost(xShape);
      const weight = randomHost([out, xShape.at(-1)!]);
      const bias = withBias ? randomHost([out]) : null;
      const y = linear(up(x), up(weight), bias && up(bias));
      await expectClose(y, linearReference(x, weight, bias), 1e-6 * Math.sqrt(xShape.at(-1)!) + 1e-6);
    });
  }

  test('gradients w.r.t. input, weight and bias', async () => {
    for (const [xShape, out] of [[[5, 7], 3], [[2, 3, 6], 4], [[8], 5]] as const) {
      const { forwardError, gradErrors } = await gradcheck({
        inputs: [randomHost(xShape), randomHost([out, xShape.at(-1)!]), randomHost([out])],
        gpu: linear,
        reference: linearReference,
      });
      expect(forwardError).toBeLessThan(1e-5);
      for (const e of gradErrors) expect(e).toBeLessThan(1e-4);
    }
    const { gradErrors } = await gradcheck({
      inputs: [randomHost([4, 6]), randomHost([3, 6])],
      gpu: (x, w) => linear(x, w),
      reference: (x, w) => linearReference(x, w),
    });
    for (const e of gradErrors) expect(e).toBeLessThan(1e-4);
  });

  test('the weight is read in place: a 2-D input without bias is one matmul dispatch', async () => {
    engine().poisonNewTensors = false;
    const x = up(randomHost([16, 12]));
    const weight = up(randomHost([20, 12]));
    const before = engine().counters.dispatches;
    const y = linear(x, weight);
    expect(engine().counters.dispatches - before).toBe(1);
    expect([...y.shape]).toEqual([16, 20]);
  });

  test('a non-contiguous input gives the same result', async () => {
    const xt = randomHost([7, 5]);
    const weight = randomHost([3, 7]);
    const x = T.transpose(up(xt)); // [5, 7] view
    const xValues = { shape: [5, 7], data: Float64Array.from(await x.data()) };
    await expectClose(linear(x, up(weight)), linearReference(xValues, weight), 1e-5);
  });

  test('shape errors', () => {
    expect(() => linear(T.zeros([2, 5]), T.zeros([3, 4]))).toThrow(/must end in 4 features/);
    expect(() => linear(T.zeros([2, 4]), T.zeros([4]))).toThrow(/weight must be \[out, in\]/);
    expect(() => linear(T.zeros([2, 4]), T.zeros([3, 4]), T.zeros([4]))).toThrow(/bias must be \[3\]/);
  });
});
