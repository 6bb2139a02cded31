import { describe, expect, test } from 'vitest';
import { itemFiles, type Manifest } from '../src/data/dataset.js';
import { encodeHints, REGION_PAPER_COST, SPREAD_INK_COST, SPREAD_REACH, spreadHints } from '../src/data/hint-spread.js';
import { hintPlane } from '../src/data/hints.js';
import { TrainingLoader } from '../src/data/loader.js';
import { createPlane, planeFromChw, type Plane } from '../src/data/plane.js';
import { seededRng } from '../src/data/random.js';

/** Dot hints: `dots` as [x, y, r, g, b] on a w×h canvas. */
function dotsOn(w: number, h: number, dots: number[][]): Plane {
  const colour = createPlane(w, h, 3);
  const mask = new Uint8Array(w * h);
  for (const [x, y, r, g, b] of dots) {
    mask[y * w + x] = 1;
    colour.data.set([r, g, b], 3 * (y * w + x));
  }
  return hintPlane(colour, mask);
}

/**
 * The float64 reference: every source's own geodesic distance by Bellman–Ford relaxation to a fixed point (no
 * heap, no shared frontier), on the same 8-connected grid and step cost as spreadHints: it starts behind the
 * darkest ink of its 3×3 neighbourhood and never enters another source's pixel.
 */
function referenceDistances(lineArt: Plane, source: number, others: readonly number[], paper = 1): Float64Array {
  const { width: w, height: h } = lineArt;
  const d = new Float64Array(w * h).fill(Infinity);
  let darkest = 1;
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      const [x, y] = [(source % w) + dx, Math.floor(source / w) + dy];
      if (x >= 0 && y >= 0 && x < w && y < h) darkest = Math.min(darkest, lineArt.data[y * w + x]);
    }
  }
  d[source] = SPREAD_INK_COST * (1 - darkest);
  const cost = (q: number) => (others.includes(q) ? Infinity : paper + SPREAD_INK_COST * Math.min(1, Math.max(0, 1 - lineArt.data[q])));
  for (let changed = true; changed; ) {
    changed = false;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = y * w + x;
        if (d[p] === Infinity) continue;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const [qx, qy] = [x + dx, y + dy];
            if ((!dx && !dy) || qx < 0 || qy < 0 || qx >= w || qy >= h) continue;
            const q = qy * w + qx;
            const dq = d[p] + Math.hypot(dx, dy) * cost(q);
            if (dq < d[q] - 1e-12) {
              d[q] = dq;
              changed = true;
            }
          }
        }
      }
    }
  }
  return d;
}

describe('spreadHints', () => {
  test.each([['spread', 1], ['regions', REGION_PAPER_COST]] as const)('%s: matches a per-source Bellman–Ford reference on random line art and hints', (input, paper) => {
    const rng = seededRng(Date.now() % 1e9);
    for (let round = 0; round < 4; round++) {
      const [w, h] = [9 + rng.int(8), 7 + rng.int(8)];
      const lineArt = createPlane(w, h, 1, Float32Array.from({ length: w * h }, () => (rng.next() < 0.3 ? rng.next() : 1)));
      const count = 1 + rng.int(4);
      const dots = Array.from({ length: count }, () => [rng.int(w), rng.int(h), rng.next(), rng.next(), rng.next()]);
      const hint = dotsOn(w, h, dots);
      const out = spreadHints(hint, lineArt, input);
      const sources = [...new Set(dots.map(([x, y]) => y * w + x))];
      const distances = sources.map((s) => referenceDistances(lineArt, s, sources.filter((o) => o !== s), paper));
      for (let i = 0; i < w * h; i++) {
        if (sources.includes(i)) {
          // A hint pixel: its own colour (the last dot drawn there) at confidence 1.
          expect([...out.data.subarray(4 * i, 4 * i + 4)]).toEqual([...hint.data.subarray(4 * i, 4 * i + 3), 1]);
          continue;
        }
        const best = Math.min(...distances.map((d) => d[i]));
        expect(out.data[4 * i + 3]).toBeCloseTo(Math.exp(-best / SPREAD_REACH), 6);
        // The colour is that of a source at the smallest distance (any of them on a tie).
        const rgb = [...out.data.subarray(4 * i, 4 * i + 3)];
        const matches = sources.filter((s, k) => distances[k][i] <= best + 1e-9 && [0, 1, 2].every((c) => Math.abs(hint.data[4 * s + c] - rgb[c]) < 1e-6));
        expect(matches.length, `pixel ${i}`).toBeGreaterThan(0);
      }
    }
  });

  test('a line keeps a region to its own hint, even when another hint is nearer across the line', () => {
    const [w, h] = [20, 9];
    const ink = new Float32Array(w * h).fill(1);
    for (let y = 0; y < h; y++) ink[y * w + 10] = 0; // a full-height line at x = 10
    const lineArt = createPlane(w, h, 1, ink);
    const out = spreadHints(dotsOn(w, h, [[1, 4, 1, 0, 0], [11, 4, 0, 0, 1]]), lineArt);
    const rgbAt = (x: number, y: number) => [...out.data.subarray(4 * (y * w + x), 4 * (y * w + x) + 3)];
    expect(rgbAt(9, 4)).toEqual([1, -1, -1]); // 8 px from red, 2 from blue across the line: red
    expect(rgbAt(12, 0)).toEqual([-1, -1, 1]);
    // Confidence falls with the path; crossing the line costs far more than open paper.
    const conf = (x: number, y: number) => out.data[4 * (y * w + x) + 3];
    expect(conf(1, 4)).toBe(1);
    expect(conf(5, 4)).toBeCloseTo(Math.exp(-4 / SPREAD_REACH), 6);
    expect(conf(9, 4)).toBeLessThan(conf(5, 4));
    // Without the line the nearer hint wins.
    const open = spreadHints(dotsOn(w, h, [[1, 4, 1, 0, 0], [11, 4, 0, 0, 1]]), createPlane(w, h, 1, new Float32Array(w * h).fill(1)));
    expect([...open.data.subarray(4 * (4 * w + 9), 4 * (4 * w + 9) + 3)]).toEqual([-1, -1, 1]);
  });

  test('a hint on a line reaches both sides only weakly, and a hint inside a region wins it', () => {
    const [w, h] = [20, 9];
    const ink = new Float32Array(w * h).fill(1);
    for (let y = 0; y < h; y++) ink[y * w + 10] = 0;
    const lineArt = createPlane(w, h, 1, ink);
    const conf = (p: Plane, x: number, y: number) => p.data[4 * (y * w + x) + 3];
    const rgbAt = (p: Plane, x: number, y: number) => [...p.data.subarray(4 * (y * w + x), 4 * (y * w + x) + 3)];
    // A red dot beside the line (its 3×3 neighbourhood holds ink) starts a full ink step behind.
    const alone = spreadHints(dotsOn(w, h, [[9, 4, 1, 0, 0]]), lineArt, 'regions');
    expect(conf(alone, 9, 4)).toBe(1);
    expect(conf(alone, 5, 4)).toBeCloseTo(Math.exp(-(SPREAD_INK_COST + REGION_PAPER_COST * 4) / SPREAD_REACH), 6);
    expect(conf(alone, 5, 4)).toBeLessThan(0.2);
    expect(conf(alone, 15, 4)).toBeLessThan(conf(alone, 5, 4));
    // A blue dot inside the left region, farther away than the red one, takes it at full confidence.
    const both = spreadHints(dotsOn(w, h, [[9, 4, 1, 0, 0], [2, 4, 0, 0, 1]]), lineArt, 'regions');
    expect(rgbAt(both, 7, 4)).toEqual([-1, -1, 1]);
    expect(conf(both, 7, 4)).toBeGreaterThan(0.9);
    expect(rgbAt(both, 9, 4)).toEqual([1, -1, -1]); // the red dot keeps its own pixel
  });

  test('regions: a confidence that stays near 1 inside a region and falls past its line', () => {
    const [w, h] = [20, 9];
    const ink = new Float32Array(w * h).fill(1);
    for (let y = 0; y < h; y++) ink[y * w + 10] = 0;
    const lineArt = createPlane(w, h, 1, ink);
    const dots = dotsOn(w, h, [[1, 4, 1, 0, 0]]);
    const [spread, regions] = [spreadHints(dots, lineArt), spreadHints(dots, lineArt, 'regions')];
    const conf = (p: Plane, x: number, y: number) => p.data[4 * (y * w + x) + 3];
    expect(conf(regions, 1, 4)).toBe(1);
    expect(conf(regions, 9, 4)).toBeCloseTo(Math.exp((-REGION_PAPER_COST * 8) / SPREAD_REACH), 6);
    // Straight across the 1-px line: 11 steps of paper, one of them into ink (cost 1 + SPREAD_INK_COST).
    expect(conf(spread, 12, 4)).toBeCloseTo(Math.exp(-(11 + SPREAD_INK_COST) / SPREAD_REACH), 6);
    expect(conf(regions, 12, 4)).toBeCloseTo(Math.exp(-(SPREAD_INK_COST + REGION_PAPER_COST * 11) / SPREAD_REACH), 6);
    expect(conf(regions, 12, 4)).toBeLessThan(0.2);
    // On open paper the regions confidence is the spread one to the power REGION_PAPER_COST, at random hints.
    const rng = seededRng(Date.now() % 1e9);
    const paper = createPlane(w, h, 1, new Float32Array(w * h).fill(1));
    const random = dotsOn(w, h, Array.from({ length: 3 }, () => [rng.int(w), rng.int(h), rng.next(), rng.next(), rng.next()]));
    const [a, b] = [spreadHints(random, paper), encodeHints(random, paper, 'regions')];
    for (let i = 0; i < w * h; i++) expect(b.data[4 * i + 3]).toBeCloseTo(a.data[4 * i + 3] ** REGION_PAPER_COST, 6);
  });

  test('regions: a large region goes to its own far hint, not to a nearer one across a line', () => {
    // A 70-px-wide region left of a line at x = 70, a small one right of it; red far left, blue just past the line.
    const [w, h] = [80, 5];
    const ink = new Float32Array(w * h).fill(1);
    for (let y = 0; y < h; y++) ink[y * w + 70] = 0;
    const lineArt = createPlane(w, h, 1, ink);
    const dots = dotsOn(w, h, [[0, 2, 1, 0, 0], [74, 2, 0, 0, 1]]);
    const rgbAt = (p: Plane, x: number) => [...p.data.subarray(4 * (2 * w + x), 4 * (2 * w + x) + 3)];
    // Pixel 65: 65 px of paper from red; 8 px and the line (41) from blue, which the spread cost prefers.
    expect(rgbAt(spreadHints(dots, lineArt, 'spread'), 65)).toEqual([-1, -1, 1]);
    expect(rgbAt(spreadHints(dots, lineArt, 'regions'), 65)).toEqual([1, -1, -1]);
  });

  test('hint pixels keep their colour at confidence 1; no hints give the published zeros', () => {
    const lineArt = createPlane(6, 5, 1, new Float32Array(30).fill(1));
    const out = spreadHints(dotsOn(6, 5, [[2, 3, 0.25, 0.5, 0.75]]), lineArt);
    expect([...out.data.subarray(4 * 20, 4 * 21)]).toEqual([-0.5, 0, 0.5, 1]);
    const none = spreadHints(createPlane(6, 5, 4), lineArt);
    expect(none.data.every((v) => v === 0)).toBe(true);
    expect(encodeHints(none, lineArt, 'dots')).toBe(none);
  });

  test('refuses planes that do not match', () => {
    expect(() => spreadHints(createPlane(4, 4, 3), createPlane(4, 4, 1))).toThrow(/4-channel/);
    expect(() => spreadHints(createPlane(4, 4, 4), createPlane(4, 5, 1))).toThrow(/4×5×1, expected 4×4×1/);
  });

  test('the training loader encodes its hints over each sample\'s sketch with hintInput spread', async () => {
    const S = 16;
    const files = new Map<string, Plane>();
    const items = Array.from({ length: 4 }, (_, k) => {
      const f = itemFiles(`item${k}`, [1]);
      // Every pixel coloured, so the full and sparse draws can hint anywhere; a vertical line in the sketch.
      files.set(f.colour, createPlane(S, S, 3, Float32Array.from({ length: 3 * S * S }, (_, i) => 0.3 + 0.4 * ((i % 3) / 2))));
      files.set(f.sketches[1], createPlane(S, S, 3, Float32Array.from({ length: 3 * S * S }, (_, i) => (Math.floor(i / 3) % S === 8 ? 0 : 1))));
      files.set(f.fields[1], createPlane(S, S, 3));
      return { ...f, source: `p${k}.png`, width: S, height: S };
    });
    const manifest: Manifest = { version: 1, size: S, mults: [1], preset: 'code', items, failed: [] };
    const read = async (path: string) => files.get(path)!;
    const regime = { denseShare: 1, denseCount: [3, 3] as [number, number], dotSize: [1, 1] as [number, number] };
    const options = { manifest, read, batchSize: 4, seed: 5, flip: false, regime };
    const [dots, spread] = await Promise.all([new TrainingLoader(options).batchAt(0), new TrainingLoader({ ...options, hintInput: 'spread' }).batchAt(0)]);
    const n = S * S;
    for (let k = 0; k < 4; k++) {
      const chw = (b: typeof dots, c0: number, c: number) => b.input.slice((6 * k + c0) * n, (6 * k + c0 + c) * n);
      const hint = planeFromChw(chw(dots, 2, 4), S, S, 4);
      const sketch = planeFromChw(chw(dots, 0, 1), S, S, 1);
      expect(chw(spread, 0, 2)).toEqual(chw(dots, 0, 2));
      expect(planeFromChw(chw(spread, 2, 4), S, S, 4).data).toEqual(spreadHints(hint, sketch).data);
    }
  });
});
