import { describe, expect, test } from 'vitest';
import { relativeError } from '../src/ops/gradcheck.js';
import { keep } from '../src/engine/engine.js';
import type { HostTensor } from '../src/kernels/host.js';
import * as T from '../src/ops/index.js';
import { Adam, type AdamHyperparameters } from '../src/train/adam.js';
import { adamStepReference, type AdamReferenceMoments } from '../src/train/adam.ref.js';
import { randomHost } from './helpers/check.js';
import { useTestEngine } from './helpers/gpu.js';

const engine = useTestEngine();

const parameter = (h: HostTensor) => keep(T.tensor(h.data, h.shape, { requiresGrad: true }));
const f32 = (h: HostTensor) => Float64Array.from(h.data, Math.fround);

/** Gives p exactly the gradient `values`, the way backward() leaves it (a kept contiguous tensor). */
function setGrad(p: T.Tensor, values: ArrayLike<number>): void {
  p.grad?.dispose();
  p.grad = keep(T.tensor(values, p.shape));
}

/** Σ_i Σ p_i·w_i, whose gradient w.r.t. p_i is exactly w_i. */
function weightedSum(params: T.Tensor[], weights: Float64Array[]): T.Tensor {
  return params.map((p, i) => T.sum(T.mul(p, T.tensor(weights[i], p.shape)))).reduce((a, b) => T.add(a, b));
}

describe('Adam against a float64 PyTorch-semantics reference', () => {
  for (const hyper of [
    { lr: 0.05, betas: [0.5, 0.9], eps: 1e-8 },
    { lr: 0.01, betas: [0.9, 0.999], eps: 1e-6 },
  ] satisfies AdamHyperparameters[]) {
    test(`several steps, lr ${hyper.lr}, betas (${hyper.betas}); a parameter without a gradient is skipped`, async () => {
      engine().poisonNewTensors = true;
      const shapes = [[7, 13], [3, 5, 2, 2], [1], [1031]];
      const initial = shapes.map((s) => randomHost(s));
      const params = initial.map(parameter);
      const optimizer = new Adam(params, hyper);
      const expected: Float64Array[] = initial.map(f32);
      const moments: (AdamReferenceMoments | null)[] = shapes.map(() => null);
      for (let step = 0; step < 6; step++) {
        // Gradients through backward(): d/dp Σ p·w = w. Parameter 2 gets one only on even steps.
        const weights = shapes.map((s) => f32(randomHost(s)));
        const used = params.map((_, i) => i !== 2 || step % 2 === 0);
        optimizer.zeroGrad();
        T.backward(weightedSum(params.filter((_, i) => used[i]), weights.filter((_, i) => used[i])));
        optimizer.step();
        params.forEach((_, i) => {
          if (!used[i]) return;
          const next = adamStepReference(expected[i], weights[i], moments[i], hyper);
          expected[i] = next.param;
          moments[i] = next.moments;
        });
        expect(params[2].grad === null).toBe(!used[2]);
      }
      const state = optimizer.state();
      for (const [i, p] of params.entries()) {
        const values = await p.data();
        expect(relativeError(values, expected[i]), `parameter ${i}`).toBeLessThan(1e-6);
        // The displacement isolates the update from the parameter's own size: a wrong step shows here first.
        const moved = values.map((v, k) => v - Math.fround(initial[i].data[k]));
        const expectedMove = expected[i].map((v, k) => v - Math.fround(initial[i].data[k]));
        expect(relativeError(moved, expectedMove), `displacement of parameter ${i}`).toBeLessThan(1e-4);
        expect(state.params[i]!.step).toBe(moments[i]!.step);
        expect(relativeError(await state.params[i]!.expAvg.data(), moments[i]!.expAvg)).toBeLessThan(1e-6);
        expect(relativeError(await state.params[i]!.expAvgSq.data(), moments[i]!.expAvgSq)).toBeLessThan(1e-6);
      }
      expect(state.params[2]!.step).toBe(3);
      optimizer.dispose();
    });
  }
});

describe('Adam reproduces PyTorch on cases worked by hand', () => {
  test('constant gradient: every step moves by lr (torch.optim.Adam gives 0.9, 0.8, 0.7)', async () => {
    const p = parameter({ shape: [1], data: Float64Array.of(1) });
    const optimizer = new Adam([p], { lr: 0.1 });
    const seen: number[] = [];
    for (let t = 1; t <= 3; t++) {
      setGrad(p, [0.5]);
      optimizer.step();
      seen.push((await p.data())[0]);
    }
    // m̂_t = 0.5 and v̂_t = 0.25 exactly for a constant gradient, so each step is lr·0.5/(0.5 + 1e-8).
    seen.forEach((v, t) => expect(v).toBeCloseTo(1 - 0.1 * (t + 1), 6));
  });

  test('betas (0.5, 0.9), gradients 2, −1, 3', async () => {
    const p = parameter({ shape: [1], data: Float64Array.of(1) });
    const optimizer = new Adam([p], { lr: 0.01, betas: [0.5, 0.9], eps: 1e-8 });
    const after: number[] = [];
    for (const g of [2, -1, 3]) {
      setGrad(p, [g]);
      optimizer.step();
      after.push((await p.data())[0]);
    }
    // t=1: m = 0.5·2 = 1, v = 0.1·4 = 0.4; m̂ = 1/0.5 = 2, v̂ = 0.4/0.1 = 4: p = 1 − 0.01·2/(2 + 1e-8).
    const p1 = 1 - (0.01 * 2) / (2 + 1e-8);
    // t=2: m = 0.5·1 + 0.5·(−1) = 0: no move (v = 0.9·0.4 + 0.1·1 = 0.46).
    const p2 = p1;
    // t=3: m = 0.5·0 + 0.5·3 = 1.5, v = 0.9·0.46 + 0.1·9 = 1.314; m̂ = 1.5/0.875, v̂ = 1.314/0.271.
    const p3 = p2 - (0.01 * (1.5 / 0.875)) / (Math.sqrt(1.314 / 0.271) + 1e-8);
    expect(p3).toBeCloseTo(0.98221479, 8);
    [p1, p2, p3].forEach((expected, i) => expect(after[i]).toBeCloseTo(expected, 6));
  });
});

describe('Adam bookkeeping', () => {
  test('state() / loadState() resume training exactly, and copies are independent', async () => {
    const initial = [randomHost([4, 3]), randomHost([5])];
    const params = initial.map(parameter);
    const grads = Array.from({ length: 5 }, () => initial.map((h) => f32(randomHost(h.shape))));
    const first = new Adam(params, { lr: 0.02, betas: [0.5, 0.9] });
    for (let s = 0; s < 3; s++) {
      params.forEach((p, i) => setGrad(p, grads[s][i]));
      first.step();
    }
    const resumedParams = await Promise.all(params.map(async (p) => parameter({ shape: [...p.shape], data: Float64Array.from(await p.data()) })));
    const resumed = new Adam(resumedParams, { lr: 1 });
    resumed.loadState(first.state());
    expect([resumed.lr, resumed.betas, resumed.eps]).toEqual([0.02, [0.5, 0.9], 1e-8]);
    expect(resumed.state().params.map((s) => s?.step)).toEqual([3, 3]);
    for (let s = 3; s < 5; s++) {
      params.forEach((p, i) => setGrad(p, grads[s][i]));
      resumedParams.forEach((p, i) => setGrad(p, grads[s][i]));
      first.step();
      resumed.step();
    }
    for (const [i, p] of params.entries()) expect(await resumedParams[i].data()).toEqual(await p.data());
    // Loading its own state is safe (copies are made before the old moments are freed).
    first.loadState(first.state());
    first.step();
  });

  test('lr is settable; steps create no tensors after the first; zeroGrad drops gradients', async () => {
    const p = parameter(randomHost([64, 3]));
    const optimizer = new Adam([p], { lr: 1e-3 });
    setGrad(p, f32(randomHost([64, 3])));
    optimizer.step();
    const live = engine().memory().liveTensors;
    optimizer.lr = 0;
    const before = await p.data();
    for (let i = 0; i < 5; i++) optimizer.step();
    expect(engine().memory().liveTensors).toBe(live);
    expect(await p.data()).toEqual(before);
    optimizer.zeroGrad();
    expect(p.grad).toBeNull();
    expect(() => (optimizer.lr = -1)).toThrow(/lr must be a finite number ≥ 0/);
  });

  test('clear errors for parameters, gradients and states it cannot use', () => {
    const base = keep(T.zeros([4, 6]));
    const strided = base.view([6, 4], [1, 6]);
    strided.requiresGrad = true;
    expect(() => new Adam([strided], { lr: 1 })).toThrow(/non-contiguous view/);
    expect(() => new Adam([T.zeros([2])], { lr: 1 })).toThrow(/not a leaf with requiresGrad/);
    const p = parameter(randomHost([2, 3]));
    expect(() => new Adam([p, p], { lr: 1 })).toThrow(/more than once/);
    expect(() => new Adam([p], { lr: 1, betas: [1, 0.9] })).toThrow(/betas\[0\] must be in \[0, 1\)/);
    const optimizer = new Adam([p], { lr: 1 });
    setGrad(p, [1, 2, 3, 4, 5, 6]);
    p.grad = keep(T.zeros([3, 2]));
    expect(() => optimizer.step()).toThrow(/gradient of parameter 0 \[2, 3\] has shape \[3, 2\]/);
    const hyper = { lr: 1, betas: [0.9, 0.999], eps: 1e-8 } as const;
    expect(() => optimizer.loadState({ ...hyper, params: [] })).toThrow(/state has 0 parameters, this optimizer 1/);
    const wrong = { step: 1, expAvg: T.zeros([6]), expAvgSq: T.zeros([2, 3]) };
    expect(() => optimizer.loadState({ ...hyper, params: [wrong] })).toThrow(/expAvg of parameter 0 \[2, 3\] has shape \[6\]/);
    expect(() => optimizer.loadState({ ...hyper, eps: -1, params: [null] })).toThrow(/eps must be ≥ 0/);
  });
});
