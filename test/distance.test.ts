import { describe, expect, test } from 'vitest';
import { distanceField, signedDistance, squaredDistanceTransform } from '../src/data/distance.js';
import { createPlane } from '../src/data/plane.js';
import { seededRng } from '../src/data/random.js';

function bruteForceSquared(site: Uint8Array, w: number, h: number): Float64Array {
  const out = new Float64Array(w * h).fill(Infinity);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let sy = 0; sy < h; sy++) {
        for (let sx = 0; sx < w; sx++) {
          if (site[sy * w + sx]) out[y * w + x] = Math.min(out[y * w + x], (x - sx) ** 2 + (y - sy) ** 2);
        }
      }
    }
  }
  return out;
}

function sketchOf(ink: Uint8Array, w: number, h: number, rng = seededRng(5)) {
  // Ink pixels get assorted grey levels below 1 (anti-aliased line art), paper is exactly 1.
  return createPlane(w, h, 1, Float32Array.from(ink, (v) => (v ? rng.next() * 0.999 : 1)));
}

describe('distance field', () => {
  test('the transform is exact against brute force on random masks', () => {
    const rng = seededRng(42);
    for (let trial = 0; trial < 60; trial++) {
      const [w, h] = [1 + rng.int(40), 1 + rng.int(40)];
      const density = [0.001, 0.02, 0.2, 0.5, 0.95][trial % 5];
      const site = Uint8Array.from({ length: w * h }, () => (rng.next() < density ? 1 : 0));
      const ours = squaredDistanceTransform(site, w, h);
      const brute = bruteForceSquared(site, w, h);
      for (let i = 0; i < ours.length; i++) expect(ours[i]).toBe(brute[i]);
    }
  });

  test('signed distance and normalisation against brute force (1e-9)', () => {
    const rng = seededRng(9);
    for (let trial = 0; trial < 40; trial++) {
      const [w, h] = [2 + rng.int(30), 2 + rng.int(30)];
      const ink = Uint8Array.from({ length: w * h }, () => (rng.next() < 0.15 ? 1 : 0));
      ink[rng.int(w * h)] = 1;
      const paper = ink.map((v) => 1 - v);
      if (!paper.some((v) => v)) paper[0] = 1, ink[0] = 0;
      const toInk = bruteForceSquared(ink, w, h);
      const toPaper = bruteForceSquared(paper, w, h);
      const want = Array.from(ink, (v, i) => (v ? -Math.sqrt(toPaper[i]) : Math.sqrt(toInk[i])));
      const sketch = sketchOf(ink, w, h);
      const sdf = signedDistance(sketch);
      want.forEach((v, i) => expect(Math.abs(sdf[i] - v)).toBeLessThan(1e-9));
      const lo = Math.min(...want);
      const hi = Math.max(...want);
      const field = distanceField(sketch);
      want.forEach((v, i) => expect(Math.abs(field.data[i] - (v - lo) / (hi - lo))).toBeLessThan(1e-6)); // float32 storage
      expect(Math.min(...field.data)).toBe(0);
      expect(Math.max(...field.data)).toBe(1);
    }
  });

  test('ink is where the sketch is below 1, and signs follow REFERENCE §2', () => {
    // One ink column in a 5-wide row: distances 2 1 0 1 2 outside; the ink pixel is 1 from paper.
    const sdf = signedDistance(createPlane(5, 1, 1, Float32Array.from([1, 1, 0.99, 1, 1])));
    expect([...sdf]).toEqual([2, 1, -1, 1, 2]);
    expect([...distanceField(createPlane(5, 1, 1, Float32Array.from([1, 1, 0, 1, 1]))).data]).toEqual([1, 2 / 3, 0, 2 / 3, 1].map(Math.fround));
  });

  test('no ink, all ink and single pixels are defined (no NaN or Infinity)', () => {
    for (const [w, h, v] of [[7, 4, 1], [7, 4, 0], [7, 4, 0.5], [1, 1, 1], [1, 1, 0], [1, 9, 1]]) {
      const field = distanceField(createPlane(w, h, 1, new Float32Array(w * h).fill(v)));
      expect(field.data.every((x) => x === (v === 1 ? 1 : 0))).toBe(true);
    }
    expect(() => signedDistance(createPlane(2, 2, 3))).toThrow(/one-channel/);
  });

  test('a full 512×768 page gives a finite field in [0, 1] (its speed is measured by `npm run bench -- data`)', () => {
    const rng = seededRng(1);
    const ink = Uint8Array.from({ length: 512 * 768 }, () => (rng.next() < 0.1 ? 1 : 0));
    const field = distanceField(sketchOf(ink, 512, 768));
    expect(field.data.every((v) => Number.isFinite(v) && v >= 0 && v <= 1)).toBe(true);
    expect(field.data.reduce((a, b) => Math.min(a, b))).toBe(0);
    expect(field.data.reduce((a, b) => Math.max(a, b))).toBe(1);
  });
});
