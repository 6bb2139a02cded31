import { describe, expect, test } from 'vitest';
import { detach, noGrad } from '../src/autograd/tape.js';
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
