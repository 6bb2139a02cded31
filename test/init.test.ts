import { describe, expect, test } from 'vitest';
import { Generator, uniformReference } from '../src/kernels/random.js';
import { defaultBiasInit, defaultWeightInit, fans, xavierUniform } from '../src/nets/init.js';
import type { Tensor } from '../src/ops/index.js';
import { useTestEngine } from './helpers/gpu.js';

useTestEngine();

/** Checks a U(−bound, bound) sample: range, that it reaches both ends, mean and variance (bound²/3). */
async function expectUniform(t: Tensor, bound: number): Promise<void> {
  const v = await t.data();
  const n = v.length;
  let lo = Infinity;
  let hi = -Infinity;
  let total = 0;
  for (const x of v) {
    lo = Math.min(lo, x);
    hi = Math.max(hi, x);
    total += x;
  }
  const mean = total / n;
  const variance = v.reduce((s, x) => s + (x - mean) ** 2, 0) / n;
  expect(lo).toBeGreaterThanOrEqual(-bound);
  expect(hi).toBeLessThan(bound);
  // With n ≥ 4096 samples both ends are reached to within 0.5 % of the range.
  expect(lo).toBeLessThan(-0.99 * bound);
  expect(hi).toBeGreaterThan(0.99 * bound);
  const std = bound / Math.sqrt(3);
  expect(Math.abs(mean)).toBeLessThan((5 * std) / Math.sqrt(n));
  expect(Math.abs(variance / std ** 2 - 1)).toBeLessThan(0.05);
}

describe('fans (PyTorch _calculate_fan_in_and_fan_out)', () => {
  test('linear, conv and transposed conv weights', () => {
    expect(fans([10, 300])).toEqual({ fanIn: 300, fanOut: 10 });
    expect(fans([64, 6, 3, 3])).toEqual({ fanIn: 54, fanOut: 576 });
    // ConvTranspose2d(64 → 32, 4×4): weight [64, 32, 4, 4]; PyTorch's "fan_in" is 32·16.
    expect(fans([64, 32, 4, 4])).toEqual({ fanIn: 512, fanOut: 1024 });
    expect(() => fans([5])).toThrow(/rank ≥ 2/);
  });
});

describe('initialisers', () => {
  test('xavierUniform: bound gain·sqrt(6/(fan_in + fan_out)), the generator’s exact numbers', async () => {
    const shape = [128, 64, 3, 3];
    const bound = Math.sqrt(6 / (64 * 9 + 128 * 9));
    const generator = new Generator(2020);
    const key = new Generator(2020).nextKey();
    const w = xavierUniform(shape, 1, { generator });
    await expectUniform(w, bound);
    const ref = uniformReference(w.size, key, -bound, bound);
    const values = await w.data();
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(values[i] - ref[i]));
    // Same random bits; the device may fuse low + (high − low)·u into one FMA.
    expect(worst).toBeLessThanOrEqual(2 * bound * 2 ** -23);
    await expectUniform(xavierUniform([300, 200], 2, { generator }), 2 * Math.sqrt(6 / 500));
  });

  test('PyTorch default weight init: bound 1/sqrt(fan_in) (kaiming_uniform, a = √5)', async () => {
    await expectUniform(defaultWeightInit([64, 300]), 1 / Math.sqrt(300));
    await expectUniform(defaultWeightInit([32, 16, 3, 3]), 1 / 12);
    // Transposed conv: fan_in from weight.shape[1]·kh·kw = 32·16, not the input channels 64·16.
    await expectUniform(defaultWeightInit([64, 32, 4, 4]), 1 / Math.sqrt(512));
  });

  test('PyTorch default bias init: U(±1/sqrt(fan_in)) of the weight', async () => {
    const bias = defaultBiasInit(5000, [5000, 75]);
    expect([...bias.shape]).toEqual([5000]);
    await expectUniform(bias, 1 / Math.sqrt(75));
    await expectUniform(defaultBiasInit(8192, [64, 8192 / 64, 2, 2]), 1 / Math.sqrt(512));
    expect(() => defaultBiasInit(-1, [3, 3])).toThrow(/integer ≥ 0/);
  });

  test('same seed, same weights; successive draws differ; requiresGrad passes through', async () => {
    const draw = (generator: Generator) => xavierUniform([16, 8, 3, 3], 1, { generator, requiresGrad: true });
    const a = new Generator(7);
    const b = new Generator(7);
    const first = draw(a);
    expect(first.requiresGrad).toBe(true);
    const firstValues = await first.data();
    expect(await draw(b).data()).toEqual(firstValues);
    expect(await draw(a).data()).not.toEqual(firstValues);
    expect(await draw(new Generator(8)).data()).not.toEqual(firstValues);
  });
});
