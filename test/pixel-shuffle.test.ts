import { describe, expect, test } from 'vitest';
import { gradcheck } from '../src/ops/gradcheck.js';
import type { HostTensor } from '../src/kernels/host.js';
import * as T from '../src/ops/index.js';
import { expectClose, randomHost } from './helpers/check.js';
import { useTestEngine } from './helpers/gpu.js';

const engine = useTestEngine();

/** PyTorch's definition, written out: input channel c·r² + i·r + j lands in output channel c at (r·y + i, r·x + j). */
function pixelShuffleReference(x: HostTensor, r: number): HostTensor {
  const [n, channels, h, w] = x.shape;
  const c = channels / (r * r);
  const out = new Float64Array(x.data.length);
  for (let b = 0; b < n; b++) {
    for (let k = 0; k < c; k++) {
      for (let i = 0; i < r; i++) {
        for (let j = 0; j < r; j++) {
          for (let y = 0; y < h; y++) {
            for (let xx = 0; xx < w; xx++) {
              const from = ((b * channels + k * r * r + i * r + j) * h + y) * w + xx;
              const to = ((b * c + k) * h * r + r * y + i) * w * r + r * xx + j;
              out[to] = x.data[from];
            }
          }
        }
      }
    }
  }
  return { shape: [n, c, h * r, w * r], data: out };
}

/** The inverse map, written out independently of the one above. */
function pixelUnshuffleReference(x: HostTensor, r: number): HostTensor {
  const [n, c, height, width] = x.shape;
  const [h, w] = [height / r, width / r];
  const out = new Float64Array(x.data.length);
  for (let b = 0; b < n; b++) {
    for (let k = 0; k < c; k++) {
      for (let y = 0; y < height; y++) {
        for (let xx = 0; xx < width; xx++) {
          const channel = k * r * r + (y % r) * r + (xx % r);
          out[((b * c * r * r + channel) * h + Math.floor(y / r)) * w + Math.floor(xx / r)] = x.data[((b * c + k) * height + y) * width + xx];
        }
      }
    }
  }
  return { shape: [n, c * r * r, h, w], data: out };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

const cases: [shape: number[], r: number][] = [
  [[2, 12, 5, 7], 2],
  [[3, 18, 3, 4], 3],
  [[1, 4, 1, 1], 2],
  [[2, 3, 5, 3], 1],
  [[2, 64, 9, 11], 4],
];

describe('pixelShuffle / pixelUnshuffle', () => {
  for (const [shape, r] of cases) {
    test(`[${shape}] r=${r} matches the float64 reference both ways`, async () => {
      engine().poisonNewTensors = true;
      const x = randomHost(shape);
      const shuffled = T.pixelShuffle(T.tensor(x.data, x.shape), r);
      await expectClose(shuffled, pixelShuffleReference(x, r), 1e-7);

      const [n, c, h, w] = shape;
      const big = randomHost([n, c / (r * r), h * r, w * r]);
      await expectClose(T.pixelUnshuffle(T.tensor(big.data, big.shape), r), pixelUnshuffleReference(big, r), 1e-7);
      // The two are inverse permutations: exact round trip.
      expect([...(await T.pixelUnshuffle(shuffled, r).data())]).toEqual([...Float32Array.from(x.data)]);
    });
  }

  test('non-contiguous input (channels-last permuted to NCHW)', async () => {
    const nhwc = randomHost([2, 5, 3, 8]);
    const t = T.permute(T.tensor(nhwc.data, nhwc.shape), [0, 3, 1, 2]);
    const x: HostTensor = { shape: [...t.shape], data: Float64Array.from(await t.data()) };
    await expectClose(T.pixelShuffle(t, 2), pixelShuffleReference(x, 2), 1e-7);
  });

  test('gradients (gradcheck) and the adjoint identity ⟨f(x), y⟩ = ⟨x, fᵀ(y)⟩', async () => {
    for (const [shape, r] of cases.slice(0, 2)) {
      const x = randomHost(shape);
      const shuffle = await gradcheck({ inputs: [x], gpu: (t) => T.pixelShuffle(t, r), reference: (h) => pixelShuffleReference(h, r) });
      expect(shuffle.gradErrors[0]).toBeLessThan(1e-4);
      const [n, c, h, w] = shape;
      const big = randomHost([n, c / (r * r), h * r, w * r]);
      const unshuffle = await gradcheck({ inputs: [big], gpu: (t) => T.pixelUnshuffle(t, r), reference: (h) => pixelUnshuffleReference(h, r) });
      expect(unshuffle.gradErrors[0]).toBeLessThan(1e-4);

      for (const [op, input] of [[T.pixelShuffle, x], [T.pixelUnshuffle, big]] as const) {
        const t = T.tensor(input.data, input.shape, { requiresGrad: true });
        const out = op(t, r);
        const y = randomHost(out.shape);
        T.backward(out, T.tensor(y.data, y.shape));
        const lhs = dot(await out.data(), y.data);
        const rhs = dot(input.data.map(Math.fround), await t.grad!.data());
        expect(Math.abs(lhs - rhs) / Math.sqrt(dot(y.data, y.data) * dot(input.data, input.data))).toBeLessThan(1e-6);
      }
    }
  });

  test('errors', () => {
    expect(() => T.pixelShuffle(T.zeros([2, 6, 3, 3]), 2)).toThrow(/not divisible by r² = 4/);
    expect(() => T.pixelShuffle(T.zeros([8, 3, 3]), 2)).toThrow(/rank 4/);
    expect(() => T.pixelShuffle(T.zeros([1, 4, 3, 3]), 0)).toThrow(/integer ≥ 1/);
    expect(() => T.pixelUnshuffle(T.zeros([1, 2, 6, 5]), 2)).toThrow(/6×5 .* not divisible by r = 2/);
    expect(() => T.pixelUnshuffle(T.zeros([2, 6, 6]), 2)).toThrow(/rank 4/);
  });
});
