import { describe, expect, test } from 'vitest';
import { createPlane } from '../src/data/plane.js';
import { seededRng } from '../src/data/random.js';
import { histogramBin, otsuBin, otsuThreshold, XDOG_PRESETS, xdog, xdogParams } from '../src/data/xdog.js';
import { xdogReference } from '../src/data/xdog.ref.js';
import { useTestEngine } from './helpers/gpu.js';
import { syntheticPage } from './helpers/pages.js';

const engine = useTestEngine();

/** Between-class variance of splitting after bin i, straight from the definition. */
function bruteForceOtsu(counts: number[]): number {
  let best = -1;
  let bestIndex = -1;
  const centre = (i: number) => (2 * i + 1) / 512;
  for (let i = 0; i < 255; i++) {
    let [w0, s0, w1, s1] = [0, 0, 0, 0];
    for (let j = 0; j <= i; j++) [w0, s0] = [w0 + counts[j], s0 + counts[j] * centre(j)];
    for (let j = i + 1; j < 256; j++) [w1, s1] = [w1 + counts[j], s1 + counts[j] * centre(j)];
    if (w0 === 0 || w1 === 0) continue;
    const v = w0 * w1 * (s0 / w0 - s1 / w1) ** 2;
    if (v > best * (1 + 1e-12)) [best, bestIndex] = [v, i];
  }
  return bestIndex;
}

describe('Otsu', () => {
  test('matches a brute-force search over every split', () => {
    const rng = seededRng(7);
    for (let trial = 0; trial < 300; trial++) {
      const kind = trial % 3;
      const counts = Array.from({ length: 256 }, (_, i) => {
        if (kind === 0) return rng.int(1000);
        if (kind === 1) return rng.next() < 0.1 ? rng.int(50) : 0; // sparse
        // bimodal: two bumps
        const a = Math.exp(-(((i - 60 - trial % 40) / 15) ** 2));
        const b = Math.exp(-(((i - 190) / 25) ** 2));
        return Math.round(1000 * a + 600 * b + rng.int(5));
      });
      counts[0] ||= 1; // a min-max normalised image fills the first and the last bin
      counts[255] ||= 1;
      expect(otsuBin(counts)).toBe(bruteForceOtsu(counts));
    }
  });

  test('bins and threshold scale', () => {
    expect([0, 1 / 256 - 1e-12, 1 / 256, 0.5, 1 - 1e-12, 1].map(histogramBin)).toEqual([0, 0, 1, 128, 255, 255]);
    const counts = new Array(256).fill(0);
    counts[0] = 10;
    counts[255] = 10;
    expect(otsuBin(counts)).toBe(0);
    expect(otsuThreshold(counts)).toBe(1 / 512);
  });
});

describe('XDoG', () => {
  const sizes: [number, number, number][] = [[96, 128, 1], [77, 53, 2], [160, 64, 3]];
  for (const preset of ['code', 'paper'] as const) {
    for (const [w, h, seed] of sizes) {
      test(`mult 1 matches the float64 reference: ${preset}, ${w}×${h}`, async () => {
        const page = syntheticPage(w, h, seed);
        const ours = await xdog(page, { preset });
        const ref = xdogReference(page, XDOG_PRESETS[preset]);
        expect([ours.width, ours.height, ours.channels]).toEqual([w, h, 1]);
        let equal = 0;
        let ink = 0;
        for (let i = 0; i < ref.sketch.length; i++) {
          expect(ours.data[i] === 0 || ours.data[i] === 1).toBe(true);
          if (ours.data[i] === ref.sketch[i]) equal++;
          if (ref.sketch[i] === 0) ink++;
        }
        expect(equal / ref.sketch.length).toBeGreaterThanOrEqual(0.995);
        // A meaningful image: some ink, mostly paper.
        expect(ink / ref.sketch.length).toBeGreaterThan(0.01);
        expect(ink / ref.sketch.length).toBeLessThan(0.6);
      });
    }
  }

  test('multi-scale: grey-level line art close to the reference', async () => {
    for (const mult of [2, 3]) {
      const page = syntheticPage(70, 50, 4 + mult);
      const ours = await xdog(page, { mult });
      const ref = xdogReference(page, XDOG_PRESETS.code, mult);
      let diff = 0;
      const levels = new Set<number>();
      for (let i = 0; i < ref.sketch.length; i++) {
        diff += Math.abs(ours.data[i] - ref.sketch[i]);
        levels.add(Math.round(ours.data[i] * mult * mult));
      }
      expect(diff / ref.sketch.length).toBeLessThan(0.005);
      expect(levels.size).toBeGreaterThan(mult); // anti-aliased: intermediate levels occur
    }
  });

  test('strips give the same sketch as one pass', async () => {
    for (const [mult, preset] of [[1, 'code'], [3, 'code'], [2, 'paper']] as const) {
      const page = syntheticPage(40, 90, 11);
      const whole = await xdog(page, { mult, preset });
      // A few rows per strip: many strips, each with its halo.
      const striped = await xdog(page, { mult, preset, maxStripElements: 40 * mult * mult * 7 });
      expect([...striped.data]).toEqual([...whole.data]);
    }
  });

  test('uniform and tiny images', async () => {
    const blank = createPlane(20, 10, 3, new Float32Array(600).fill(0.8));
    expect([...(await xdog(blank)).data].every((v) => v === 1)).toBe(true);
    for (const [w, h] of [[1, 1], [3, 2], [2, 40]]) {
      const page = syntheticPage(w, h, 3);
      const ours = await xdog(page, { mult: 2 });
      expect(ours.data.every((v) => v >= 0 && v <= 1)).toBe(true);
      const ref = xdogReference(page, XDOG_PRESETS.code, 2);
      let diff = 0;
      for (let i = 0; i < ref.sketch.length; i++) diff += Math.abs(ours.data[i] - ref.sketch[i]);
      expect(diff / ref.sketch.length).toBeLessThan(0.05);
    }
    expect(engine().memory().liveTensors).toBe(0);
  });

  test('options are checked', async () => {
    const page = syntheticPage(8, 8);
    await expect(xdog(page, { mult: 0 })).rejects.toThrow(/mult must be an integer/);
    await expect(xdog(page, { mult: 2.5 })).rejects.toThrow(/mult must be an integer/);
    expect(() => xdogParams({ preset: 'nope' as never })).toThrow(/Unknown XDoG preset "nope"/);
    expect(() => xdogParams({ params: { sigma: -1 } })).toThrow(/σ > 0/);
    expect(xdogParams({ preset: 'paper' })).toEqual({ sigma: 0.5, k: 4, phi: 90, gamma: 0.95, epsilon: 0 });
  });
});
