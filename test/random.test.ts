import { describe, expect, test } from 'vitest';
import { Generator, manualSeed, normalReference, uniformReference } from '../src/kernels/random.js';
import * as T from '../src/ops/index.js';
import { useTestEngine } from './helpers/gpu.js';

useTestEngine();

describe('seeded random fills', () => {
  test('uniform matches the CPU mirror to the last bit of the affine map and stays in range', async () => {
    const g = new Generator(42);
    const key = new Generator(42).nextKey();
    const u = await T.randUniform([1000, 3], -2, 5, { generator: g }).data();
    const ref = uniformReference(3000, key, -2, 5);
    // The random bits are identical; the device may fuse low + (high − low)·u into one FMA, so allow an ulp.
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(u[i] - ref[i]));
    expect(worst).toBeLessThanOrEqual(2 ** -21);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...u)).toBeLessThan(5);
  });

  test('normal matches the CPU mirror and has the asked moments', async () => {
    const g = new Generator(7);
    const key = new Generator(7).nextKey();
    const n = 200_000;
    const v = await T.randNormal([n], 3, 0.5, { generator: g }).data();
    const ref = normalReference(n, key, 3, 0.5);
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(v[i] - ref[i]));
    expect(worst).toBeLessThan(1e-4);
    const mean = v.reduce((s, x) => s + x, 0) / n;
    const variance = v.reduce((s, x) => s + (x - mean) ** 2, 0) / n;
    expect(Math.abs(mean - 3)).toBeLessThan(0.01);
    expect(Math.abs(Math.sqrt(variance) - 0.5)).toBeLessThan(0.01);
  });

  test('same seed, same sequence; successive fills differ', async () => {
    manualSeed(123);
    const a1 = await T.randNormal([64]).data();
    const a2 = await T.randNormal([64]).data();
    manualSeed(123);
    expect(await T.randNormal([64]).data()).toEqual(a1);
    expect(await T.randNormal([64]).data()).toEqual(a2);
    expect(a1).not.toEqual(a2);
    manualSeed(124);
    expect(await T.randNormal([64]).data()).not.toEqual(a1);
  });

  test('uniform histogram is flat', async () => {
    const v = await T.randUniform([100_000], 0, 1, { generator: new Generator(9) }).data();
    const bins = new Array(10).fill(0);
    for (const x of v) bins[Math.floor(x * 10)]++;
    for (const b of bins) expect(Math.abs(b - 10_000)).toBeLessThan(500);
  });
});
