import { describe, expect, test } from 'vitest';
import { detach, noGrad } from '../src/autograd/tape.js';
import { engine, tidy } from '../src/engine/engine.js';
import { l1Loss } from '../src/train/losses.js';
import * as T from '../src/ops/index.js';
import { useTestEngine } from './helpers/gpu.js';

useTestEngine();
const values = async (t: T.Tensor) => [...(await t.data())].map((v) => +v.toFixed(5));

describe('autograd', () => {
  test('a diamond graph sums both paths', async () => {
    const x = T.tensor([1, 2, 3], [3], { requiresGrad: true });
    const y = T.mul(x, x); // dy/dx = 2x
    const z = T.sum(T.add(y, T.mul(x, 3))); // d/dx = 2x + 3
    T.backward(z);
    expect(await values(x.grad!)).toEqual([5, 7, 9]);
  });

  test('the same tensor used twice in one op', async () => {
    const x = T.tensor([2, -1], [2], { requiresGrad: true });
    T.backward(T.sum(T.add(x, x)));
    expect(await values(x.grad!)).toEqual([2, 2]);
  });

  test('gradients accumulate across backward calls until cleared', async () => {
    const x = T.tensor([1, 2], [2], { requiresGrad: true });
    T.backward(T.sum(T.mul(x, x)));
    T.backward(T.sum(T.mul(x, 10)));
    expect(await values(x.grad!)).toEqual([12, 14]);
    x.grad!.dispose();
    x.grad = null;
    T.backward(T.sum(x));
    expect(await values(x.grad!)).toEqual([1, 1]);
  });

  test('noGrad and detach cut the graph', async () => {
    const x = T.tensor([1, 2], [2], { requiresGrad: true });
    const frozen = noGrad(() => T.mul(x, 2));
    expect(frozen.requiresGrad).toBe(false);
    const d = detach(x);
    expect(d.requiresGrad).toBe(false);
    const y = T.sum(T.add(T.mul(x, d), frozen)); // d/dx = d = x (detached)
    T.backward(y);
    expect(await values(x.grad!)).toEqual([1, 2]);
  });

  test('only leaves with requiresGrad get .grad; clear errors otherwise', () => {
    const a = T.tensor([1, 2], [2], { requiresGrad: true });
    const b = T.tensor([3, 4], [2]);
    T.backward(T.sum(T.mul(a, b)));
    expect(a.grad).not.toBeNull();
    expect(b.grad).toBeNull();
    expect(() => T.backward(T.sum(b))).toThrow(/does not require grad/);
    expect(() => T.backward(T.mul(a, 2))).toThrow(/not a scalar/);
  });

  test('an explicit upstream gradient for a non-scalar output', async () => {
    const x = T.tensor([1, 2, 3], [3], { requiresGrad: true });
    T.backward(T.mul(x, x), T.tensor([1, 0, -1]));
    expect(await values(x.grad!)).toEqual([2, 0, -6]);
  });
});

describe('autograd never loses a gradient silently', () => {
  test('backward on a loss returned from tidy() throws (its graph was freed) and leaks nothing', async () => {
    const x = T.tensor([1, -2, 3], [3], { requiresGrad: true });
    const t = T.tensor([0, 0, 0], [3]);
    const loss = tidy(() => l1Loss(x, t));
    const live = engine().memory().liveTensors;
    expect(() => T.backward(loss)).toThrow(/was disposed .* Call backward\(\) inside the tidy\(\)/);
    expect(engine().memory().liveTensors).toBe(live);
    expect(x.grad).toBeNull();
    loss.dispose();
  });

  test('backward inside the tidy that computes the loss reaches the parameters', async () => {
    const x = T.tensor([1, -2, 3], [3], { requiresGrad: true });
    const t = T.tensor([0, 0, 0], [3]);
    tidy(() => T.backward(l1Loss(x, t)));
    expect(await values(x.grad!)).toEqual([0.33333, -0.33333, 0.33333]);
  });

  test('a disposed intermediate anywhere in the graph is refused before any work', () => {
    const x = T.tensor([1, 2], [2], { requiresGrad: true });
    const y = T.mul(x, x);
    const z = T.sum(T.exp(y));
    y.dispose();
    const dispatches = engine().counters.dispatches;
    expect(() => T.backward(z)).toThrow(/disposed/);
    expect(engine().counters.dispatches).toBe(dispatches);
  });

  test('rules compute no gradient for an input that needs none', () => {
    const x = T.tensor([1, 2, 3, 4], [2, 2], { requiresGrad: true });
    const count = (b: T.Tensor) => {
      const loss = T.sum(T.mul(x, b));
      const before = engine().counters.dispatches;
      T.backward(loss);
      return engine().counters.dispatches - before;
    };
    const constant = count(T.tensor([5, 6, 7, 8], [2, 2]));
    const trainable = count(T.tensor([5, 6, 7, 8], [2, 2], { requiresGrad: true }));
    expect(constant).toBeLessThan(trainable);
  });

  test('minimum and maximum split the gradient on ties, as PyTorch does', async () => {
    for (const op of [T.minimum, T.maximum]) {
      const a = T.tensor([1, 2, 3], [3], { requiresGrad: true });
      const b = T.tensor([1, 5, 0], [3], { requiresGrad: true });
      T.backward(T.sum(op(a, b)));
      const [ga, gb] = [await values(a.grad!), await values(b.grad!)];
      expect(ga[0]).toBe(0.5);
      expect(gb[0]).toBe(0.5);
      expect(ga.map((v, i) => v + gb[i])).toEqual([1, 1, 1]);
    }
  });

  test('ops declared not differentiable give outputs outside the graph', () => {
    const x = T.tensor([1, -2], [2], { requiresGrad: true });
    expect(T.sign(x).requiresGrad).toBe(false);
    expect(T.gt(x, 0).requiresGrad).toBe(false);
    expect(T.exp(x).requiresGrad).toBe(true);
  });
});
