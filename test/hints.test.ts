import { describe, expect, test } from 'vitest';
import {
  colouredRegions, dotOffsets, drawHintMode, hintList, hintsFromRgba, parseColour, parseHintJson, placeHints, sampleDots, sampleTrainingHints, sparseMask, SPARSE_SIGMA, truncatedNormal,
} from '../src/data/hints.js';
import { createPlane, planeToChw } from '../src/data/plane.js';
import { seededRng } from '../src/data/random.js';
import { syntheticPage } from './helpers/pages.js';

describe('training hint sampler', () => {
  test('modes: full 1 %, sparse 49.5 %, empty 49.5 %', () => {
    const rng = seededRng(3);
    const counts = { full: 0, sparse: 0, empty: 0 };
    const draws = 200_000;
    for (let i = 0; i < draws; i++) counts[drawHintMode(rng)]++;
    // Within 5 standard deviations of the binomial.
    for (const [mode, p] of [['full', 0.01], ['sparse', 0.495], ['empty', 0.495]] as const) {
      expect(Math.abs(counts[mode] / draws - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / draws));
    }
  });

  test('the truncated normal threshold and the sparse density', () => {
    const rng = seededRng(11);
    const n = 100_000;
    let mean = 0;
    for (let i = 0; i < n; i++) {
      const t = truncatedNormal(rng, 1, SPARSE_SIGMA);
      expect(t <= 1 && t >= 0).toBe(true);
      mean += (1 - t) / n;
    }
    const expected = SPARSE_SIGMA * Math.sqrt(2 / Math.PI); // E[1 − t] of the half-normal: ≈ 0.04 %
    expect(Math.abs(mean / expected - 1)).toBeLessThan(0.02);
    // Pixel density of the sparse mode over many draws.
    let density = 0;
    const draws = 300;
    for (let i = 0; i < draws; i++) density += sparseMask({ width: 128, height: 128 }, rng).reduce((a, b) => a + b, 0) / (128 * 128 * draws);
    expect(Math.abs(density / expected - 1)).toBeLessThan(0.15);
  });

  test('hint planes: RGB in [−1, 1] times the mask, then the mask; seeded', () => {
    const colour = syntheticPage(32, 24, 2);
    const seen = new Set<string>();
    const rng = seededRng(5);
    for (let i = 0; i < 400 && seen.size < 3; i++) {
      const { hint, mode } = sampleTrainingHints(colour, rng);
      seen.add(mode);
      expect([hint.width, hint.height, hint.channels]).toEqual([32, 24, 4]);
      let wrong = 0;
      for (let p = 0; p < 32 * 24; p++) {
        const m = hint.data[4 * p + 3];
        if ((mode === 'full' && m !== 1) || (mode === 'empty' && m !== 0) || (m !== 0 && m !== 1)) wrong++;
        for (let c = 0; c < 3; c++) if (Math.abs(hint.data[4 * p + c] - (m ? colour.data[3 * p + c] * 2 - 1 : 0)) > 1e-6) wrong++;
      }
      expect(wrong).toBe(0);
    }
    expect(seen.size).toBe(3);
    const a = sampleTrainingHints(colour, seededRng(99));
    const b = sampleTrainingHints(colour, seededRng(99));
    expect(a.mode).toBe(b.mode);
    expect([...a.hint.data]).toEqual([...b.hint.data]);
  });
});

describe('user hints', () => {
  const json = (o: unknown) => JSON.stringify(o);

  test('JSON hints scaled from page pixels to the model canvas', () => {
    const set = parseHintJson(json({ width: 1000, height: 1500, hints: [
      { x: 0, y: 0, color: '#ff0000' },
      { x: 999, y: 1499, color: '#00ff80' },
      { x: 500.5, y: 750, color: '0000FF' },
    ] }), 'page.json');
    const hint = placeHints(set, { width: 1000, height: 1500 }, { width: 512, height: 768 }, { width: 512, height: 768 });
    const at = (x: number, y: number) => [...hint.data.subarray(4 * (y * 512 + x), 4 * (y * 512 + x) + 4)];
    expect(at(0, 0)).toEqual([1, -1, -1, 1]);
    expect(at(511, 767).map((v) => Math.round(v * 1000) / 1000)).toEqual([-1, 1, 0.004, 1]);
    expect(at(256, 384)).toEqual([-1, -1, 1, 1]);
    expect(hint.data.filter((_, i) => i % 4 === 3).reduce((a, b) => a + b)).toBe(3);
    // NCHW: the mask is the fourth channel plane.
    const chw = planeToChw(hint);
    expect(chw.length).toBe(4 * 512 * 768);
    expect(chw[3 * 512 * 768]).toBe(1);
    expect(chw[0]).toBe(1);
  });

  test('hints landing on one model pixel are averaged; canvas padding stays empty', () => {
    const set = parseHintJson(json({ width: 4, height: 4, hints: [{ x: 0, y: 0, color: '#ffffff' }, { x: 1, y: 1, color: '#000000' }] }));
    const hint = placeHints(set, { width: 4, height: 4 }, { width: 2, height: 2 }, { width: 32, height: 32 });
    expect([hint.width, hint.height]).toEqual([32, 32]);
    expect([...hint.data.subarray(0, 4)]).toEqual([0, 0, 0, 1]);
    expect(hint.data.filter((_, i) => i % 4 === 3).reduce((a, b) => a + b)).toBe(1);
  });

  test('PNG alpha marks hint pixels', () => {
    const rgba = Uint8Array.from([
      255, 0, 0, 255, 0, 0, 0, 0, 0, 0, 255, 127,
      0, 255, 0, 128, 0, 0, 0, 0, 255, 255, 255, 255,
    ]);
    const set = hintsFromRgba(rgba, { width: 3, height: 2 });
    expect(hintList(set).map((h) => [h.x, h.y])).toEqual([[0, 0], [0, 1], [2, 1]]);
    expect([set.x, set.y, set.rgb].map((a) => a.constructor)).toEqual([Float64Array, Float64Array, Float32Array]);
    const hint = placeHints(set, { width: 3, height: 2 }, { width: 3, height: 2 });
    expect([...hint.data.subarray(0, 4)]).toEqual([1, -1, -1, 1]);
    expect(() => hintsFromRgba(new Uint8Array(18), { width: 3, height: 2 })).toThrow(/4 channels \(RGBA\)/);
  });

  test('clear errors', () => {
    const bad: [string, RegExp][] = [
      ['{', /page\.json: not valid JSON/],
      [json([1, 2]), /expected \{"width": W/],
      [json({ width: 0, height: 5, hints: [] }), /"width" must be a positive integer/],
      [json({ width: 10, height: 5 }), /"hints" must be an array/],
      [json({ width: 10, height: 5, hints: [{ x: 10, y: 0, color: '#000000' }] }), /hint 0: x = 10 is outside the 10×5 page \(0 ≤ x < 10\)/],
      [json({ width: 10, height: 5, hints: [{ x: 1, y: 0, color: '#000000' }, { x: 1, y: -1, color: '#000000' }] }), /hint 1: y = -1 is outside/],
      [json({ width: 10, height: 5, hints: [{ x: 1, y: '2', color: '#000000' }] }), /hint 0: "y" must be a number/],
      [json({ width: 10, height: 5, hints: [{ x: 1, y: 2, color: 'red' }] }), /hint 0: "red" is not a colour; write it as "#rrggbb"/],
      [json({ width: 10, height: 5, hints: [{ x: 1, y: 2, color: '#12345' }] }), /not a colour/],
      [json({ width: 10, height: 5, hints: [null] }), /hint 0 must be an object/],
    ];
    for (const [text, pattern] of bad) expect(() => parseHintJson(text, 'page.json')).toThrow(pattern);
    const set = parseHintJson(json({ width: 10, height: 5, hints: [] }));
    expect(() => placeHints(set, { width: 20, height: 10 }, { width: 512, height: 256 })).toThrow(/made for a 10×5 page, but this page is 20×10/);
    expect(parseColour('#FF8000')).toEqual([1, 128 / 255, 0]);
  });
});

describe('dense dot hints (the regime a small model learns to obey)', () => {
  // White paper, a black frame, and two flat regions: red on the left half, blue on the right half.
  function regions(w = 48, h = 32) {
    const data = new Float32Array(3 * w * h).fill(1);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = 3 * (y * w + x);
        if (x < 2 || y < 2 || x >= w - 2 || y >= h - 2) data.set([0.02, 0.02, 0.02], i);
        else if (y >= 8 && y < h - 8) data.set(x < w / 2 ? [0.9, 0.2, 0.1] : [0.2, 0.3, 0.8], i);
      }
    }
    return createPlane(w, h, 3, data);
  }

  test('coloured regions exclude ink and paper', () => {
    const plane = regions();
    const mask = colouredRegions(plane);
    expect(mask[0]).toBe(0); // ink
    expect(mask[5 * 48 + 10]).toBe(0); // paper
    expect(mask[12 * 48 + 10]).toBe(1);
    expect(mask.reduce((a, b) => a + b, 0)).toBe(44 * 16);
  });

  test('counts, sizes, colours from the ground truth inside its regions, seeded', () => {
    const plane = regions();
    const region = colouredRegions(plane);
    for (const size of [1, 3, 5, 9]) {
      const { colour, mask, dots } = sampleDots(plane, 30, [size, size], seededRng(size));
      expect(dots.length).toBe(30);
      for (const d of dots) {
        expect(region[d.index]).toBe(1);
        expect([1, size]).toContain(d.size);
      }
      // Most dots fit in 16-pixel-tall regions even at size 9.
      expect(dots.filter((d) => d.size === size).length).toBeGreaterThan(20);
      // Every hint pixel is in a coloured region and carries exactly its ground-truth colour (flat regions).
      for (let i = 0; i < mask.length; i++) {
        if (!mask[i]) continue;
        expect(region[i]).toBe(1);
        for (let c = 0; c < 3; c++) expect(colour.data[3 * i + c]).toBeCloseTo(plane.data[3 * i + c], 6);
      }
      // The union of the dots' discs is the mask.
      const expected = new Uint8Array(mask.length);
      for (const d of dots) for (const [dx, dy] of d.size === 1 ? [[0, 0]] : dotOffsets(d.size)) expected[d.index + dy * 48 + dx] = 1;
      expect([...mask]).toEqual([...expected]);
    }
    const a = sampleDots(plane, 50, [1, 9], seededRng(7));
    const b = sampleDots(plane, 50, [1, 9], seededRng(7));
    expect(a.dots).toEqual(b.dots);
    expect(new Set(a.dots.map((d) => d.size)).size).toBeGreaterThan(4);
    expect(sampleDots(createPlane(8, 8, 3, new Float32Array(192).fill(1)), 10, [1, 9], seededRng(1)).dots).toEqual([]);
  });

  test('the regime: dense share and counts; denseShare 0 is the published stream', () => {
    const plane = regions();
    const regime = { denseShare: 0.4, denseCount: [20, 150] as [number, number], dotSize: [1, 9] as [number, number] };
    const rng = seededRng(12);
    let dense = 0;
    const draws = 500;
    for (let i = 0; i < draws; i++) {
      const { hint, mode } = sampleTrainingHints(plane, rng, regime);
      if (mode !== 'dense') continue;
      dense++;
      let pixels = 0;
      for (let p = 0; p < 48 * 32; p++) pixels += hint.data[4 * p + 3];
      expect(pixels).toBeGreaterThan(0);
    }
    expect(Math.abs(dense / draws - 0.4)).toBeLessThan(5 * Math.sqrt((0.4 * 0.6) / draws));
    const published = sampleTrainingHints(plane, seededRng(4));
    const zero = sampleTrainingHints(plane, seededRng(4), { ...regime, denseShare: 0 });
    expect(zero.mode).toBe(published.mode);
    expect([...zero.hint.data]).toEqual([...published.hint.data]);
    // The dot count is uniform in [min, max]: with a min = max regime, exactly that many dots (size-1 dots on a fresh canvas).
    const one = sampleTrainingHints(plane, seededRng(5), { denseShare: 1, denseCount: [17, 17], dotSize: [1, 1] });
    let pixels = 0;
    for (let p = 0; p < 48 * 32; p++) pixels += one.hint.data[4 * p + 3];
    expect(pixels).toBeLessThanOrEqual(17);
    expect(pixels).toBeGreaterThan(12); // repeats are rare on 704 candidates
  });
});
