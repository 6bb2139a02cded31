import { describe, expect, test } from 'vitest';
import { engine, keep, tidy } from '../src/engine/engine.js';
import * as T from '../src/ops/index.js';
import { useTestEngine } from './helpers/gpu.js';

useTestEngine();

describe('memory', () => {
  test('1,000 training-like iterations (forward, backward, update) do not grow live memory', async () => {
    const e = engine();
    let w = keep(T.randNormal([16, 8], 0, 0.3, { requiresGrad: true }));
    const x = keep(T.randUniform([4, 6, 16], -1, 1));
    const target = keep(T.randUniform([4, 6, 8], -1, 1));
    const loss = async () => (await tidy(() => T.mean(T.pow(T.sub(T.leakyRelu(T.matmul(x, w), 0.2), target), 2))).data())[0];
    const initialLoss = await loss();
    const step = () => {
      tidy(() => {
        const h = T.leakyRelu(T.matmul(x, w), 0.2);
        const loss = T.add(T.mean(T.pow(T.sub(h, target), 2)), T.mul(T.sum(T.abs(w)), 1e-3));
        T.backward(loss);
      });
      // The update replaces the parameter: the old one and its gradient must be released.
      const next = keep(tidy(() => T.noGrad(() => T.sub(w, T.mul(w.grad!, 0.05)))));
      next.requiresGrad = true;
      w.grad!.dispose();
      w.dispose();
      w = next;
    };
    for (let i = 0; i < 10; i++) step();
    await e.sync();
    const before = e.memory();
    for (let i = 0; i < 1000; i++) step();
    await e.sync();
    const after = e.memory();
    expect(after.liveTensors).toBe(before.liveTensors);
    expect(after.liveBytes).toBe(before.liveBytes);
    // Recycled buffers are reused rather than piling up in the pool.
    expect(after.pooledBytes).toBeLessThanOrEqual(before.pooledBytes + 64 * 1024);
    // And the loop still computes: the loss went down.
    expect(await loss()).toBeLessThan(initialLoss);
    w.dispose();
    x.dispose();
    target.dispose();
  });
});
