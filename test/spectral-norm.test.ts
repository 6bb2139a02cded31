import { describe, expect, test } from 'vitest';
import { gradcheck, relativeError } from '../src/ops/gradcheck.js';
import { keep, tidy } from '../src/engine/engine.js';
import type { HostTensor } from '../src/kernels/host.js';
import { normalizeInto } from '../src/kernels/normalize.js';
import { Generator, normalReference } from '../src/kernels/random.js';
import * as T from '../src/ops/index.js';
import { expectClose, randomHost } from './helpers/check.js';
import { useTestEngine } from './helpers/gpu.js';
import { normalized, normalizedWeight, powerIteration, sigmaOf } from './helpers/spectral-norm.ref.js';

const engine = useTestEngine();
const up = (h: HostTensor) => T.tensor(h.data, h.shape);
const f32 = (h: HostTensor): HostTensor => ({ shape: [...h.shape], data: h.data.map(Math.fround) });

function randomUnit(n: number): Float64Array {
  return normalized(randomHost([n]).data).map(Math.fround);
}

function gpuState(u: Float64Array, v: Float64Array): T.SpectralNormState {
  return { u: T.tensor(u, [u.length]), v: T.tensor(v, [v.length]) };
}

const restOf = (shape: number[]) => shape.slice(1).reduce((k, n) => k * n, 1);

// Linear [out, in]; conv [out, in, kh, kw]; grouped conv [out, in/groups, kh, kw]; the discriminator's SE 1×1s.
const weightShapes = [[5, 7], [8, 3, 3, 3], [32, 4, 4, 4], [4, 64, 1, 1], [64, 4, 1, 1], [1, 9]];

describe('spectralNormWeight', () => {
  for (const shape of weightShapes) {
    test(`[${shape}] training: one power iteration, W̄/σ and the updated state match float64`, async () => {
      engine().poisonNewTensors = true;
      const w = f32(randomHost(shape));
      const u0 = randomUnit(shape[0]);
      const v0 = randomUnit(restOf(shape));
      const state = gpuState(u0, v0);
      const weight = T.spectralNormWeight(up(w), state, true);
      const { u, v } = powerIteration(w, u0);
      await expectClose(weight, normalizedWeight(w, u, v), 1e-5);
      await expectClose(state.u, { shape: [u.length], data: u }, 1e-5);
      await expectClose(state.v, { shape: [v.length], data: v }, 1e-5);
    });
  }

  test('eval uses the stored u, v and leaves them unchanged', async () => {
    const shape = [6, 2, 3, 3];
    const w = f32(randomHost(shape));
    const u0 = randomUnit(6);
    const v0 = randomUnit(18);
    const state = gpuState(u0, v0);
    await expectClose(T.spectralNormWeight(up(w), state, false), normalizedWeight(w, u0, v0), 1e-5);
    expect(await state.u.data()).toEqual(Float32Array.from(u0));
    expect(await state.v.data()).toEqual(Float32Array.from(v0));
  });

  for (const training of [true, false]) {
    test(`gradient w.r.t. W̄ through σ (${training ? 'training' : 'eval'}, gradcheck)`, async () => {
      for (const shape of [[6, 2, 3, 3], [5, 7], [4, 16, 1, 1]]) {
        const w = f32(randomHost(shape));
        const u0 = randomUnit(shape[0]);
        const v0 = randomUnit(restOf(shape));
        // u, v are constants of the gradient: the reference perturbs W̄ only in σ = uᵀW̄v, with the u, v this
        // forward uses (after the iteration from the unperturbed W̄ in training), and never updates a state.
        const { u, v } = training ? powerIteration(w, u0) : { u: u0, v: v0 };
        const { forwardError, gradErrors } = await gradcheck({
          inputs: [w],
          gpu: (weightBar) => T.spectralNormWeight(weightBar, gpuState(u0, v0), training),
          reference: (weightBar) => normalizedWeight(weightBar, u, v),
        });
        expect(forwardError).toBeLessThan(1e-5);
        expect(gradErrors[0]).toBeLessThan(1e-4);
      }
    });
  }

  test('two forwards before one backward: each keeps the u, v it used', async () => {
    // The discriminator step: D(real) and D(fake) both update the state, then one backward through both.
    const shape = [6, 10];
    const w = f32(randomHost(shape));
    const [r1, r2] = [f32(randomHost(shape)), f32(randomHost(shape))];
    const u0 = randomUnit(6);
    const state = gpuState(u0, randomUnit(10));
    const weightBar = T.tensor(w.data, shape, { requiresGrad: true });
    const loss = T.add(
      T.sum(T.mul(T.spectralNormWeight(weightBar, state, true), up(r1))),
      T.sum(T.mul(T.spectralNormWeight(weightBar, state, true), up(r2))),
    );
    T.backward(loss);
    // d⟨R, W̄/σ⟩/dW̄ = R/σ − ⟨R, W̄⟩/σ² · u vᵀ, with each forward's own σ, u, v.
    const first = powerIteration(w, u0);
    const second = powerIteration(w, first.u);
    const expected = new Float64Array(w.data.length);
    for (const [r, { u, v }] of [[r1, first], [r2, second]] as const) {
      const sigma = sigmaOf(w, u, v);
      const inner = r.data.reduce((s, e, i) => s + e * w.data[i], 0);
      expected.forEach((_, i) => (expected[i] += r.data[i] / sigma - (inner / sigma ** 2) * u[Math.floor(i / 10)] * v[i % 10]));
    }
    await expectClose(weightBar.grad!, { shape, data: expected }, 1e-5);
  });

  test('repeated training forwards drive σ to the largest singular value', async () => {
    const shape = [8, 4, 2, 2];
    const w = f32(randomHost(shape));
    // The float64 reference: power iteration run to convergence.
    let estimate = powerIteration(w, randomUnit(8));
    for (let i = 0; i < 5000; i++) estimate = powerIteration(w, estimate.u);
    const { u, v } = estimate;
    const largestSingularValue = sigmaOf(w, u, v);

    const weightBar = keep(up(w));
    const state = T.spectralNormState(shape, new Generator(3));
    let weight: T.Tensor | null = null;
    for (let i = 0; i < 200; i++) {
      weight?.dispose();
      weight = keep(tidy(() => T.noGrad(() => T.spectralNormWeight(weightBar, state, true))));
    }
    // W = W̄/σ elementwise, so σ is the least-squares ratio ⟨W̄, W̄⟩ / ⟨W̄, W⟩.
    const values = await weight!.data();
    const sigma = w.data.reduce((s, e) => s + e * e, 0) / w.data.reduce((s, e, i) => s + e * values[i], 0);
    expect(Math.abs(sigma - largestSingularValue) / largestSingularValue).toBeLessThan(1e-5);
    // And u, v are the leading singular vectors (up to sign).
    const uGpu = await state.u.data();
    const alignment = Math.abs(uGpu.reduce((s, e, i) => s + e * u[i], 0));
    expect(alignment).toBeGreaterThan(1 - 1e-5);
  });

  test('a training forward inside tidy leaves only its result', async () => {
    const weightBar = keep(up(randomHost([16, 8, 3, 3])));
    const state = T.spectralNormState(weightBar.shape);
    keep(state.u);
    keep(state.v);
    const before = engine().memory().liveTensors;
    const weight = tidy(() => T.spectralNormWeight(weightBar, state, true));
    expect(engine().memory().liveTensors).toBe(before + 1);
    weight.dispose();
  });

  test('errors', () => {
    const state = gpuState(randomUnit(4), randomUnit(12));
    expect(() => T.spectralNormWeight(T.zeros([12]), state, true)).toThrow(/rank ≥ 2/);
    expect(() => T.spectralNormWeight(T.zeros([4, 0]), state, true)).toThrow(/non-empty/);
    expect(() => T.spectralNormWeight(T.zeros([5, 3, 2, 2]), state, true)).toThrow(/u must have shape \[5\]/);
    expect(() => T.spectralNormWeight(T.zeros([4, 3, 2, 1]), state, true)).toThrow(/v must have shape \[6\]/);
    expect(() => T.spectralNormState([7])).toThrow(/spectralNormState: .*rank ≥ 2/);
  });
});

describe('spectralNormState', () => {
  test('unit vectors drawn normal(0, 1) from the generator, like PyTorch', async () => {
    const keys = new Generator(11);
    const state = T.spectralNormState([6, 3, 3, 3], new Generator(11));
    expect([...state.u.shape]).toEqual([6]);
    expect([...state.v.shape]).toEqual([27]);
    const u = normalized(normalReference(6, keys.nextKey()));
    const v = normalized(normalReference(27, keys.nextKey()));
    expect(relativeError(await state.u.data(), u)).toBeLessThan(1e-5);
    expect(relativeError(await state.v.data(), v)).toBeLessThan(1e-5);
  });
});

describe('normalizeInto: one launch for x / max(‖x‖₂, eps), written twice', () => {
  test('matches float64 for short and long vectors, views that start late, and a zero vector', async () => {
    engine().poisonNewTensors = true;
    for (const n of [1, 5, 64, 65, 4608, 10000]) {
      const x = randomHost([n + 3]);
      const base = up(x);
      const view = T.slice(base, [3], [n]); // starts 3 elements into its buffer
      const storedBase = T.zeros([n + 2]);
      const stored = T.slice(storedBase, [2], [n]);
      const out = normalizeInto(view, stored, 1e-12);
      const expected: HostTensor = { shape: [n], data: normalized(Float64Array.from(x.data.subarray(3), Math.fround)) };
      await expectClose(out, expected, 1e-6);
      await expectClose(stored, expected, 1e-6);
      // The two elements before the stored view are untouched.
      expect([...(await storedBase.data()).subarray(0, 2)]).toEqual([0, 0]);
      for (const t of [base, view, storedBase, stored, out]) t.dispose();
    }
    const zero = T.zeros([7]);
    const stored = T.zeros([7]);
    expect([...(await normalizeInto(zero, stored, 1e-12).data())]).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(() => normalizeInto(zero, T.zeros([6]), 1e-12)).toThrow(/stored must be a contiguous tensor of 7 elements/);
  });
});
