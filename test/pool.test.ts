import { describe, expect, test } from 'vitest';
import { gradcheck } from '../src/ops/gradcheck.js';
import type { HostTensor } from '../src/kernels/host.js';
import { poolGeometry, type PoolSize } from '../src/kernels/pool.js';
import { avgPool2dReference, maxPool2dBackwardReference, maxPool2dReference } from '../src/kernels/pool.ref.js';
import { reduceReference } from '../src/kernels/reduce.ref.js';
import * as T from '../src/ops/index.js';
import { expectClose, randomHost } from './helpers/check.js';
import { useTestEngine } from './helpers/gpu.js';

const engine = useTestEngine();

type Case = [shape: number[], kernel: PoolSize, stride: PoolSize, padding: PoolSize];
const cases: Case[] = [
  [[2, 3, 7, 9], 2, 2, 0], // the discriminator shortcut, odd H/W (last row/column dropped)
  [[1, 2, 8, 8], 2, 2, 0],
  [[2, 3, 9, 7], 3, 2, 1], // the SE-ResNeXt stem
  [[3, 2, 10, 11], [3, 2], [1, 2], [1, 0]],
  [[2, 1, 5, 6], 5, 1, 2],
  [[1, 4, 6, 7], 3, 3, 0],
  [[2, 2, 5, 5], 1, 2, 0], // stride > kernel: some inputs belong to no window
  [[2, 3, 9, 12], 2, 2, 0], // rows of a multiple of 4 pixels: the vec4 kernels, odd H
  [[2, 16, 67, 68], 2, 2, 0],
  [[2, 16, 67, 65], 2, 2, 0],
];

const label = ([shape, k, s, p]: Case) => `[${shape}] k${k} s${s} p${p}`;

/** A GPU tensor's values (any view) as a float64 host tensor. */
async function toHost(t: T.Tensor): Promise<HostTensor> {
  return { shape: [...t.shape], data: Float64Array.from(await t.data()) };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

describe('avgPool2d / maxPool2d forward match the float64 reference', () => {
  for (const c of cases) {
    test(label(c), async () => {
      engine().poisonNewTensors = true;
      const [shape, k, s, p] = c;
      const x = randomHost(shape);
      const g = poolGeometry('test', shape, k, s, p);
      const t = T.tensor(x.data, x.shape);
      await expectClose(T.avgPool2d(t, k, s, p), avgPool2dReference(x, g), 1e-6);
      await expectClose(T.maxPool2d(t, k, s, p), maxPool2dReference(x, g), 1e-7);
    });
  }

  test('output sizes follow PyTorch floor mode', () => {
    const out = (shape: number[], k: number, s: number, p: number) => poolGeometry('test', shape, k, s, p).output;
    expect(out([1, 64, 112, 112], 3, 2, 1)).toEqual([1, 64, 56, 56]);
    expect(out([1, 1, 7, 7], 2, 2, 0)).toEqual([1, 1, 3, 3]);
    expect(out([1, 1, 5, 5], 3, 2, 1)).toEqual([1, 1, 3, 3]);
    expect(out([1, 1, 2, 3], 2, 1, 1)).toEqual([1, 1, 3, 4]);
    expect(T.avgPool2d(T.zeros([2, 3, 9, 5]), 2).shape).toEqual([2, 3, 4, 2]); // stride defaults to the kernel
  });

  test('strided input views (channels-last permuted to NCHW, a slice)', async () => {
    const nhwc = randomHost([2, 7, 6, 3]);
    const t = T.permute(T.tensor(nhwc.data, nhwc.shape), [0, 3, 1, 2]);
    const x = await toHost(t);
    const g = poolGeometry('test', x.shape, 3, 2, 1);
    await expectClose(T.avgPool2d(t, 3, 2, 1), avgPool2dReference(x, g), 1e-6);
    await expectClose(T.maxPool2d(t, 3, 2, 1), maxPool2dReference(x, g), 1e-7);

    const inner = T.slice(t, [1, 1, 1, 2], [1, 2, 5, 4]);
    const xs = await toHost(inner);
    const gs = poolGeometry('test', xs.shape, 2, 2, 0);
    await expectClose(T.avgPool2d(inner, 2), avgPool2dReference(xs, gs), 1e-6);
    await expectClose(T.maxPool2d(inner, 2), maxPool2dReference(xs, gs), 1e-7);
  });

  test('k2 s2 on an unaligned contiguous view takes the general kernel', async () => {
    const flat = randomHost([1 + 2 * 3 * 6 * 8]);
    const t = T.reshape(T.slice(T.tensor(flat.data, flat.shape), [1]), [2, 3, 6, 8]); // offset 1
    const x = await toHost(t);
    await expectClose(T.avgPool2d(t, 2), avgPool2dReference(x, poolGeometry('test', x.shape, 2, 2, 0)), 1e-6);
  });

  test('launches beyond 65,535 workgroups fold into a 2-D grid', async () => {
    // 4097² inputs > 65,535 × 256 invocations in the max's gather (all entries share its index arithmetic).
    // All inputs tie, so each window's gradient goes to its top-left input; the last row and column are dropped.
    const x = T.zeros([1, 1, 4097, 4097], { requiresGrad: true });
    T.backward(T.maxPool2d(x, 2), T.ones([1, 1, 2048, 2048]));
    const isWinner = (y: number, x: number) => y % 2 === 0 && x % 2 === 0 && y < 4096 && x < 4096;
    const dx = await x.grad!.data();
    expect(dx.every((v, i) => v === (isWinner(Math.floor(i / 4097), i % 4097) ? 1 : 0))).toBe(true);
  });
});

describe('pooling gradients', () => {
  for (const c of cases.slice(0, 6)) {
    test(`gradcheck ${label(c)}`, async () => {
      const [shape, k, s, p] = c;
      const x = randomHost(shape);
      const g = poolGeometry('test', shape, k, s, p);
      const avg = await gradcheck({ inputs: [x], gpu: (t) => T.avgPool2d(t, k, s, p), reference: (h) => avgPool2dReference(h, g) });
      expect(avg.gradErrors[0]).toBeLessThan(1e-4);
      const max = await gradcheck({ inputs: [x], gpu: (t) => T.maxPool2d(t, k, s, p), reference: (h) => maxPool2dReference(h, g) });
      expect(max.gradErrors[0]).toBeLessThan(1e-4);
    });
  }

  test('avgPool2d backward is the adjoint: ⟨pool(x), y⟩ = ⟨x, poolᵀ(y)⟩', async () => {
    engine().poisonNewTensors = true;
    for (const [shape, k, s, p] of cases) {
      const x = randomHost(shape);
      const t = T.tensor(x.data, x.shape, { requiresGrad: true });
      const pooled = T.avgPool2d(t, k, s, p);
      const y = randomHost(pooled.shape);
      T.backward(pooled, T.tensor(y.data, y.shape));
      const lhs = dot(await pooled.data(), y.data);
      const rhs = dot(x.data.map(Math.fround), await t.grad!.data());
      expect(Math.abs(lhs - rhs) / Math.sqrt(dot(y.data, y.data) * dot(x.data, x.data))).toBeLessThan(1e-6);
    }
  });

  test('maxPool2d routes each window to its first maximum in scan order (ties, −∞, overlapping windows)', async () => {
    engine().poisonNewTensors = true;
    for (const [shape, k, s, p] of [[[2, 3, 9, 8], 3, 2, 1], [[1, 2, 6, 7], 3, 1, 1], [[2, 2, 6, 6], 2, 2, 0]] as Case[]) {
      // Values from {0, 1, 2} (and some −∞) make most windows tie; an all-(−∞) window still picks its first input.
      const x = randomHost(shape, 'uniform');
      x.data = x.data.map((v) => (v < -0.8 ? -Infinity : Math.floor(1.5 * (v + 1))));
      const g = poolGeometry('test', shape, k, s, p);
      const t = T.tensor(x.data, x.shape, { requiresGrad: true });
      const pooled = T.maxPool2d(t, k, s, p);
      expect([...(await pooled.data())]).toEqual([...maxPool2dReference(x, g).data]); // exact; −∞ defeats relative error
      const upstream = randomHost(pooled.shape);
      T.backward(pooled, T.tensor(upstream.data, upstream.shape));
      await expectClose(t.grad!, maxPool2dBackwardReference(x, upstream, g), 1e-6);
    }
  });

  test('non-contiguous upstream gradients', async () => {
    const x = randomHost([2, 3, 7, 8]);
    const g = poolGeometry('test', x.shape, 3, 2, 1);
    const [n, c, oh, ow] = g.output;
    const upstreamNhwc = randomHost([n, oh, ow, c]);
    const upstream = T.permute(T.tensor(upstreamNhwc.data, upstreamNhwc.shape), [0, 3, 1, 2]);
    const upstreamHost = await toHost(upstream);

    const tMax = T.tensor(x.data, x.shape, { requiresGrad: true });
    T.backward(T.maxPool2d(tMax, 3, 2, 1), upstream);
    await expectClose(tMax.grad!, maxPool2dBackwardReference(x, upstreamHost, g), 1e-6);

    // The average's gradient, checked as the adjoint of its (already tested) forward.
    const tAvg = T.tensor(x.data, x.shape, { requiresGrad: true });
    T.backward(T.avgPool2d(tAvg, 3, 2, 1), upstream);
    const lhs = dot(avgPool2dReference({ shape: x.shape, data: x.data.map(Math.fround) }, g).data, upstreamHost.data);
    expect(Math.abs(lhs - dot(x.data.map(Math.fround), await tAvg.grad!.data())) / Math.abs(lhs)).toBeLessThan(1e-5);
  });
});

describe('adaptiveAvgPool1x1', () => {
  test('is the mean over H and W, kept as [N, C, 1, 1]', async () => {
    engine().poisonNewTensors = true;
    const x = randomHost([3, 5, 7, 9]);
    const y = T.adaptiveAvgPool1x1(T.tensor(x.data, x.shape));
    await expectClose(y, reduceReference('sum', x, [2, 3], true, 1 / 63), 1e-6);
    const { gradErrors } = await gradcheck({
      inputs: [randomHost([2, 3, 5, 4])],
      gpu: (t) => T.adaptiveAvgPool1x1(t),
      reference: (h) => reduceReference('sum', h, [2, 3], true, 1 / 20),
    });
    expect(gradErrors[0]).toBeLessThan(1e-4);
  });
});

describe('errors', () => {
  test('bad shapes and windows', () => {
    expect(() => T.avgPool2d(T.zeros([3, 8, 8]), 2)).toThrow(/rank 4/);
    expect(() => T.maxPool2d(T.zeros([1, 1, 4, 4]), 3, 2, 2)).toThrow(/at most half/);
    expect(() => T.maxPool2d(T.zeros([1, 1, 2, 8]), 5, 1, 1)).toThrow(/larger than the padded input 4×10/);
    expect(() => T.avgPool2d(T.zeros([1, 1, 4, 4]), 2, 0)).toThrow(/integers ≥ 1/);
    expect(() => T.avgPool2d(T.zeros([1, 1, 4, 4]), 1.5)).toThrow(/integers ≥ 1/);
    expect(() => T.avgPool2d(T.zeros([1, 1, 0, 4]), 1)).toThrow(/no pixels/);
    expect(() => T.adaptiveAvgPool1x1(T.zeros([2, 3]))).toThrow(/rank 4/);
  });
});
