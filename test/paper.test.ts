import { describe, expect, test } from 'vitest';
import { itemFiles, type Manifest } from '../src/data/dataset.js';
import { distanceField } from '../src/data/distance.js';
import { TrainingLoader } from '../src/data/loader.js';
import { overlayPaper } from '../src/data/paper.js';
import { createPlane, planeFromChw, type Plane } from '../src/data/plane.js';
import { seededRng } from '../src/data/random.js';

/** A fully coloured crop (no white paper anywhere) and a line art without ink. */
function colouredSample(side: number) {
  const colour = createPlane(side, side, 3, Float32Array.from({ length: 3 * side * side }, (_, i) => [0.8, 0.4, 0.2][i % 3]));
  const sketch = createPlane(side, side, 1, new Float32Array(side * side).fill(1));
  return { colour, sketch };
}

/** Pixels of `plane` (one channel) equal to `value` that are enclosed: no 4-connected path of them reaches the border. */
function enclosed(plane: Plane, value: number): number {
  const { width: w, height: h, data } = plane;
  const reached = new Uint8Array(w * h);
  const stack: number[] = [];
  for (let p = 0; p < w * h; p++) {
    const [x, y] = [p % w, Math.floor(p / w)];
    if ((x === 0 || y === 0 || x === w - 1 || y === h - 1) && data[p] === value) {
      reached[p] = 1;
      stack.push(p);
    }
  }
  while (stack.length) {
    const p = stack.pop()!;
    const [x, y] = [p % w, Math.floor(p / w)];
    for (const [nx, ny] of [[x - 1, y], [x + 1, y], [x, y - 1], [x, y + 1]]) {
      const q = ny * w + nx;
      if (nx >= 0 && ny >= 0 && nx < w && ny < h && !reached[q] && data[q] === value) {
        reached[q] = 1;
        stack.push(q);
      }
    }
  }
  let count = 0;
  for (let p = 0; p < w * h; p++) if (data[p] === value && !reached[p]) count++;
  return count;
}

describe('paper overlay', () => {
  test('draws black ink and white paper into colour and line art alike, leaves the rest and its inputs alone', () => {
    const side = 64;
    const sample = colouredSample(side);
    const before = { colour: sample.colour.data.slice(), sketch: sample.sketch.data.slice() };
    let changedTotal = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const out = overlayPaper(sample, seededRng(seed));
      expect(out).toEqual(overlayPaper(sample, seededRng(seed)));
      let changed = 0;
      for (let p = 0; p < side * side; p++) {
        const rgb = Array.from(out.colour.data.subarray(3 * p, 3 * p + 3));
        if (rgb[0] === Math.fround(0.8) && rgb[1] === Math.fround(0.4) && rgb[2] === Math.fround(0.2)) {
          expect(out.sketch.data[p]).toBe(1);
          continue;
        }
        changed++;
        // Paper is white in both, ink black in both.
        const v = out.sketch.data[p];
        expect(v === 0 || v === 1).toBe(true);
        expect(rgb).toEqual([v, v, v]);
      }
      expect(changed).toBeGreaterThan(0);
      changedTotal += changed;
    }
    expect(changedTotal).toBeLessThan(20 * side * side);
    expect(sample.colour.data).toEqual(before.colour);
    expect(sample.sketch.data).toEqual(before.sketch);
  });

  test('balloons enclose white paper in ink and letter it; gutters cross the crop', () => {
    const side = 64;
    let enclosedPaper = 0;
    let letteredBalloons = 0;
    let fullRows = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const { sketch } = overlayPaper(colouredSample(side), seededRng(seed));
      // The crop had no ink: paper now enclosed by ink is a balloon's inside (or a gutter's band cut by another).
      const inside = enclosed(sketch, 1);
      enclosedPaper += inside;
      // Lettering: ink pixels that are themselves enclosed by paper (no ink path to the border).
      if (inside > 0 && enclosed(sketch, 0) > 0) letteredBalloons++;
      for (let y = 0; y < side; y++) if (sketch.data.subarray(y * side, (y + 1) * side).every((v) => v === 0)) fullRows++;
    }
    expect(enclosedPaper).toBeGreaterThan(1000);
    expect(letteredBalloons).toBeGreaterThan(5);
    expect(fullRows).toBeGreaterThan(0);
  });

  test('border lines of gutters have white paper on both sides in some crops, the panel side included', () => {
    const side = 64;
    let framed = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const { colour } = overlayPaper(colouredSample(side), seededRng(seed));
      const row = (y: number) => colour.data.subarray(3 * y * side, 3 * (y + 1) * side);
      const col = (x: number) => Float32Array.from({ length: 3 * side }, (_, i) => colour.data[3 * (Math.floor(i / 3) * side + x) + (i % 3)]);
      const all = (v: Float32Array, value: number) => v.every((c) => c === value);
      for (let k = 1; k < side - 1; k++) {
        if (all(row(k), 0) && all(row(k - 1), 1) && all(row(k + 1), 1)) framed++;
        if (all(col(k), 0) && all(col(k - 1), 1) && all(col(k + 1), 1)) framed++;
      }
    }
    expect(framed).toBeGreaterThan(3);
  });

  test('rejects a line art that does not match the crop', () => {
    const { colour } = colouredSample(32);
    expect(() => overlayPaper({ colour, sketch: createPlane(16, 16, 1) }, seededRng(1))).toThrow(/same side/);
  });

  test('the loader lays paper over the share asked for, with the distance field of the new line art; share 0 keeps the stream', async () => {
    const S = 32;
    const files = new Map<string, Plane>();
    const items = Array.from({ length: 8 }, (_, k) => {
      const f = itemFiles(`item${k}`, [1]);
      files.set(f.colour, colouredSample(S).colour);
      files.set(f.sketches[1], createPlane(S, S, 3, new Float32Array(3 * S * S).fill(1)));
      files.set(f.fields[1], createPlane(S, S, 3, new Float32Array(3 * S * S).fill(0.5)));
      return { ...f, source: `p${k}.png`, width: S, height: S };
    });
    const manifest: Manifest = { version: 1, size: S, mults: [1], preset: 'code', items, failed: [] };
    const read = async (path: string) => files.get(path)!;
    const options = { manifest, read, batchSize: 8, seed: 9 };
    const [plain, none, all] = await Promise.all([
      new TrainingLoader(options).batchAt(0),
      new TrainingLoader({ ...options, paperOverlay: 0 }).batchAt(0),
      new TrainingLoader({ ...options, paperOverlay: 1 }).batchAt(0),
    ]);
    expect(none).toEqual(plain);
    const n = S * S;
    for (let k = 0; k < 8; k++) {
      const sketch = planeFromChw(all.input.slice(6 * k * n, (6 * k + 1) * n), S, S, 1);
      const field = all.input.slice((6 * k + 1) * n, (6 * k + 2) * n);
      expect(sketch.data.some((v) => v === 0)).toBe(true);
      expect(field).toEqual(distanceField(sketch).data);
      // Wherever the line art is ink, the target is black.
      for (let p = 0; p < n; p++) if (sketch.data[p] === 0) for (let c = 0; c < 3; c++) expect(all.target[(3 * k + c) * n + p]).toBe(-1);
    }
  });
});
