import { describe, expect, test } from 'vitest';
import { createPlane, type Plane } from '../src/data/plane.js';
import { seededRng } from '../src/data/random.js';
import { crop, padToMultiple, resizeArea, resizePad, unpad, workingSize } from '../src/data/resize.js';

function randomPlane(w: number, h: number, c: number, seed = 1): Plane {
  const rng = seededRng(seed);
  return createPlane(w, h, c, Float32Array.from({ length: w * h * c }, () => rng.next()));
}

const at = (p: Plane, x: number, y: number, c = 0) => p.data[(y * p.width + x) * p.channels + c];

/** Area resampling by its definition: the integral of the piecewise-constant image over the output footprint. */
function areaBrute(p: Plane, w: number, h: number): Float64Array {
  const out = new Float64Array(w * h * p.channels);
  const sx = p.width / w;
  const sy = p.height / h;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let iy = 0; iy < p.height; iy++) {
        const oy = Math.max(0, Math.min(iy + 1, (y + 1) * sy) - Math.max(iy, y * sy));
        if (oy <= 0) continue;
        for (let ix = 0; ix < p.width; ix++) {
          const ox = Math.max(0, Math.min(ix + 1, (x + 1) * sx) - Math.max(ix, x * sx));
          for (let c = 0; c < p.channels; c++) out[(y * w + x) * p.channels + c] += (ox * oy * at(p, ix, iy, c)) / (sx * sy);
        }
      }
    }
  }
  return out;
}

describe('area resampling', () => {
  test('matches the footprint integral, up and down, any factor', () => {
    const src = randomPlane(13, 9, 3);
    for (const [w, h] of [[5, 4], [13, 9], [26, 18], [7, 20], [1, 1], [40, 3]]) {
      const ours = resizeArea(src, w, h);
      const brute = areaBrute(src, w, h);
      expect([ours.width, ours.height, ours.channels]).toEqual([w, h, 3]);
      brute.forEach((v, i) => expect(Math.abs(ours.data[i] - v)).toBeLessThan(1e-6));
    }
  });

  test('integer factors average whole blocks exactly', () => {
    const src = createPlane(6, 4, 1, Float32Array.from({ length: 24 }, (_, i) => i));
    const half = resizeArea(src, 3, 2);
    expect([...half.data]).toEqual([3.5, 5.5, 7.5, 15.5, 17.5, 19.5]);
    const constant = resizeArea(createPlane(700, 1000, 1, new Float32Array(700000).fill(0.3)), 512, 732);
    expect(constant.data.every((v) => Math.abs(v - 0.3) < 1e-6)).toBe(true);
  });
});

describe('resize_pad', () => {
  test('working sizes: portrait and square by width, landscape by height, ceil', () => {
    expect(workingSize({ width: 1000, height: 1500 })).toEqual({ width: 512, height: 768 });
    expect(workingSize({ width: 700, height: 1000 })).toEqual({ width: 512, height: 732 }); // 731.43 → 732
    expect(workingSize({ width: 300, height: 300 })).toEqual({ width: 512, height: 512 });
    expect(workingSize({ width: 1500, height: 1001 })).toEqual({ width: 768, height: 512 }); // 767.23 → 768
    expect(workingSize({ width: 2000, height: 1000 }, 256)).toEqual({ width: 512, height: 256 });
  });

  test('padding to a multiple of 32 with each row and column maximum', () => {
    const src = randomPlane(40, 35, 3, 4);
    const padded = padToMultiple(src);
    expect([padded.width, padded.height]).toEqual([64, 64]);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 35; y++) {
        let rowMax = -Infinity;
        for (let x = 0; x < 40; x++) {
          expect(at(padded, x, y, c)).toBe(at(src, x, y, c));
          rowMax = Math.max(rowMax, at(src, x, y, c));
        }
        for (let x = 40; x < 64; x++) expect(at(padded, x, y, c)).toBe(rowMax);
      }
      let all = -Infinity;
      for (let x = 0; x < 40; x++) {
        let colMax = -Infinity;
        for (let y = 0; y < 35; y++) colMax = Math.max(colMax, at(src, x, y, c));
        all = Math.max(all, colMax);
        for (let y = 35; y < 64; y++) expect(at(padded, x, y, c)).toBe(colMax);
      }
      for (let y = 35; y < 64; y++) for (let x = 40; x < 64; x++) expect(at(padded, x, y, c)).toBe(all);
    }
    expect(padToMultiple(randomPlane(64, 32, 1))).toEqual(randomPlane(64, 32, 1));
  });

  test('resizePad and unpad: sizes, placement and round trip', () => {
    const page = randomPlane(700, 1000, 3, 8);
    const { plane, placement } = resizePad(page);
    expect([plane.width, plane.height]).toEqual([512, 736]);
    expect(placement).toEqual({ page: { width: 700, height: 1000 }, content: { width: 512, height: 732 }, canvas: { width: 512, height: 736 } });
    const back = unpad(plane, placement);
    expect([back.width, back.height, back.channels]).toEqual([700, 1000, 3]);
    // A smooth page survives the round trip closely.
    const smooth = createPlane(700, 1000, 1, Float32Array.from({ length: 700000 }, (_, i) => 0.5 + 0.4 * Math.sin((i % 700) / 50) * Math.cos(Math.floor(i / 700) / 70)));
    const r = resizePad(smooth);
    const round = unpad(r.plane, r.placement);
    let err = 0;
    for (let i = 0; i < round.data.length; i++) err = Math.max(err, Math.abs(round.data[i] - smooth.data[i]));
    expect(err).toBeLessThan(0.02);
    expect(() => unpad(crop(plane, 500, 700), placement)).toThrow(/Expected a 512×736 output/);
    const landscape = resizePad(randomPlane(1500, 1001, 1));
    expect([landscape.plane.width, landscape.plane.height]).toEqual([768, 512]);
  });

  test('crop', () => {
    const src = randomPlane(5, 4, 2);
    const c = crop(src, 3, 2);
    expect([c.width, c.height]).toEqual([3, 2]);
    expect(at(c, 2, 1, 1)).toBe(at(src, 2, 1, 1));
    expect(() => crop(src, 6, 1)).toThrow(/Cannot crop/);
  });
});
