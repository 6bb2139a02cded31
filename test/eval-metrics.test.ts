// The measures of `npm run eval` (src/eval/metrics.ts): CIEDE2000 on Sharma, Wu & Dalal's 34 published test
// pairs, CIELAB of known colours, PSNR, colourfulness on simple images, the masks and the flat-fill baseline. CPU only.
import { describe, expect, test } from 'vitest';
import { colourfulness } from '../src/colorize/colourfulness.js';
import { createPlane } from '../src/data/plane.js';
import { ciede2000, deltaEMap, discMask, drawingMask, flatFill, inkBrightness, meanOver, psnr, REACH_BINS, reachBins, regionFill, srgbToLab, type Lab } from '../src/eval/metrics.js';

// Sharma, Wu & Dalal (2005), Table 1: L1 a1 b1, L2 a2 b2, ΔE00.
const SHARMA: [number, number, number, number, number, number, number][] = [
  [50.0, 2.6772, -79.7751, 50.0, 0.0, -82.7485, 2.0425],
  [50.0, 3.1571, -77.2803, 50.0, 0.0, -82.7485, 2.8615],
  [50.0, 2.8361, -74.02, 50.0, 0.0, -82.7485, 3.4412],
  [50.0, -1.3802, -84.2814, 50.0, 0.0, -82.7485, 1.0],
  [50.0, -1.1848, -84.8006, 50.0, 0.0, -82.7485, 1.0],
  [50.0, -0.9009, -85.5211, 50.0, 0.0, -82.7485, 1.0],
  [50.0, 0.0, 0.0, 50.0, -1.0, 2.0, 2.3669],
  [50.0, -1.0, 2.0, 50.0, 0.0, 0.0, 2.3669],
  [50.0, 2.49, -0.001, 50.0, -2.49, 0.0009, 7.1792],
  [50.0, 2.49, -0.001, 50.0, -2.49, 0.001, 7.1792],
  [50.0, 2.49, -0.001, 50.0, -2.49, 0.0011, 7.2195],
  [50.0, 2.49, -0.001, 50.0, -2.49, 0.0012, 7.2195],
  [50.0, -0.001, 2.49, 50.0, 0.0009, -2.49, 4.8045],
  [50.0, -0.001, 2.49, 50.0, 0.001, -2.49, 4.8045],
  [50.0, -0.001, 2.49, 50.0, 0.0011, -2.49, 4.7461],
  [50.0, 2.5, 0.0, 50.0, 0.0, -2.5, 4.3065],
  [50.0, 2.5, 0.0, 73.0, 25.0, -18.0, 27.1492],
  [50.0, 2.5, 0.0, 61.0, -5.0, 29.0, 22.8977],
  [50.0, 2.5, 0.0, 56.0, -27.0, -3.0, 31.903],
  [50.0, 2.5, 0.0, 58.0, 24.0, 15.0, 19.4535],
  [50.0, 2.5, 0.0, 50.0, 3.1736, 0.5854, 1.0],
  [50.0, 2.5, 0.0, 50.0, 3.2972, 0.0, 1.0],
  [50.0, 2.5, 0.0, 50.0, 1.8634, 0.5757, 1.0],
  [50.0, 2.5, 0.0, 50.0, 3.2592, 0.335, 1.0],
  [60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644],
  [63.0109, -31.0961, -5.8663, 62.8187, -29.7946, -4.0864, 1.263],
  [61.2901, 3.7196, -5.3901, 61.4292, 2.248, -4.962, 1.8731],
  [35.0831, -44.1164, 3.7933, 35.0232, -40.0716, 1.5901, 1.8645],
  [22.7233, 20.0904, -46.694, 23.0331, 14.973, -42.5619, 2.0373],
  [36.4612, 47.858, 18.3852, 36.2715, 50.5065, 21.2231, 1.4146],
  [90.8027, -2.0831, 1.441, 91.1528, -1.6435, 0.0447, 1.4441],
  [90.9257, -0.5406, -0.9208, 88.6381, -0.8985, -0.7239, 1.5381],
  [6.7747, -0.2908, -2.4247, 5.8714, -0.0985, -2.2286, 0.6377],
  [2.0776, 0.0795, -1.135, 0.9033, -0.0636, -0.5514, 0.9082],
];

const rgbPlane = (w: number, h: number, f: (x: number, y: number) => number[]) =>
  createPlane(w, h, 3, Float32Array.from({ length: w * h * 3 }, (_, k) => f(Math.floor(k / 3) % w, Math.floor(k / 3 / w))[k % 3]));

describe('eval metrics', () => {
  test('CIEDE2000 matches Sharma, Wu & Dalal\'s 34 test pairs to 4 decimals, both ways round', () => {
    expect(SHARMA.length).toBe(34);
    for (const [i, [l1, a1, b1, l2, a2, b2, expected]] of SHARMA.entries()) {
      const [p, q]: Lab[] = [[l1, a1, b1], [l2, a2, b2]];
      expect(Math.abs(ciede2000(p, q) - expected), `pair ${i + 1}`).toBeLessThan(5e-5);
      expect(Math.abs(ciede2000(q, p) - expected), `pair ${i + 1} swapped`).toBeLessThan(5e-5);
      expect(ciede2000(p, p)).toBe(0);
    }
  });

  test('CIELAB of white, black and the sRGB primaries', () => {
    const close = (got: number[], want: number[], tol: number) => got.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThan(tol));
    close(srgbToLab(1, 1, 1), [100, 0, 0], 1e-3);
    close(srgbToLab(0, 0, 0), [0, 0, 0], 1e-9);
    close(srgbToLab(1, 0, 0), [53.24, 80.09, 67.2], 0.02);
    close(srgbToLab(0, 1, 0), [87.73, -86.18, 83.18], 0.02);
    close(srgbToLab(0, 0, 1), [32.3, 79.19, -107.86], 0.02);
  });

  test('PSNR, ΔE maps and masks', () => {
    const a = rgbPlane(4, 4, () => [0.5, 0.5, 0.5]);
    const b = rgbPlane(4, 4, () => [0.6, 0.5, 0.4]);
    expect(psnr(a, a)).toBe(Infinity);
    expect(psnr(a, b)).toBeCloseTo(-10 * Math.log10((2 * 0.01) / 3), 4);
    const grey = createPlane(4, 4, 1, new Float32Array(16).fill(0.5));
    expect(psnr(grey, a)).toBe(Infinity); // a grey plane counts as R = G = B
    expect(meanOver(deltaEMap(a, a))).toBe(0);
    expect(meanOver([1, 2, 3, 4], [0, 1, 1, 0])).toBe(2.5);
    expect(meanOver([1, 2], [0, 0])).toBeNaN();
    const drawing = drawingMask(rgbPlane(3, 1, (x) => [[1, 1, 1], [0.95, 0.95, 0.5], [0, 0, 0]][x]));
    expect([...drawing]).toEqual([0, 1, 1]);
    const disc = discMask({ width: 11, height: 11 }, [5 * 11 + 5], 2);
    expect(disc.reduce((s, v) => s + v, 0)).toBe(13); // the pixels within distance 2 of the centre
    expect(discMask({ width: 5, height: 5 }, [0], 5).reduce((s, v) => s + v, 0)).toBe(24); // clipped to the image: all but (4, 4)
  });

  test('colourfulness: 0 for grey, Hasler–Süsstrunk\'s formula for two flat colours', () => {
    expect(colourfulness(rgbPlane(8, 8, () => [0.3, 0.3, 0.3]))).toBe(0);
    // Half red, half blue: rg = 255 | 0, yb = 127.5 | −255.
    const m = colourfulness(rgbPlane(8, 8, (x) => (x < 4 ? [1, 0, 0] : [0, 0, 1])));
    expect(m).toBeCloseTo(Math.hypot(127.5, 191.25) + 0.3 * Math.hypot(127.5, 63.75), 6);
    // One flat colour: no spread, only the mean term.
    expect(colourfulness(rgbPlane(8, 8, () => [1, 0, 0]))).toBeCloseTo(0.3 * Math.hypot(255, 127.5), 6);
  });

  test('flat fill × line art: the nearest hint\'s colour times the input; the input itself without hints', () => {
    // A line down the middle column (0), white elsewhere; a red hint on the left, a blue one on the right.
    const input = createPlane(7, 3, 1, Float32Array.from({ length: 21 }, (_, i) => (i % 7 === 3 ? 0 : 1)));
    const out = flatFill({ width: 7, height: 3 }, [{ x: 0, y: 1, rgb: [1, 0, 0] }, { x: 6, y: 1, rgb: [0, 0, 1] }], input);
    expect([...out.data.subarray(0, 3)]).toEqual([1, 0, 0]);
    expect([...out.data.subarray(3 * 3, 3 * 3 + 3)]).toEqual([0, 0, 0]); // the line stays black
    expect([...out.data.subarray(3 * 5, 3 * 5 + 3)]).toEqual([0, 0, 1]);
    const bare = flatFill({ width: 7, height: 3 }, [], input);
    for (let i = 0; i < 21; i++) expect([...bare.data.subarray(3 * i, 3 * i + 3)]).toEqual([input.data[i], input.data[i], input.data[i]]);
  });

  test('region fill × line art: the colour of the hint nearest along the lines; the input itself without hints', () => {
    // A line down column 5; the red hint far on the left, the blue one just across the line.
    const size = { width: 9, height: 3 };
    const input = createPlane(9, 3, 1, Float32Array.from({ length: 27 }, (_, i) => (i % 9 === 5 ? 0 : 1)));
    const hints = [{ x: 0, y: 1, rgb: [1, 0, 0] as [number, number, number] }, { x: 6, y: 1, rgb: [0, 0, 1] as [number, number, number] }];
    const rgb = (p: { data: Float32Array }, x: number, y: number) => [...p.data.subarray(3 * (9 * y + x), 3 * (9 * y + x) + 3)];
    const out = regionFill(size, hints, input, input);
    expect(rgb(out, 4, 1)).toEqual([1, 0, 0]); // 4 px from red, 2 from blue across the line: red
    expect(rgb(flatFill(size, hints, input), 4, 1)).toEqual([0, 0, 1]);
    expect(rgb(out, 5, 1)).toEqual([0, 0, 0]); // the line stays black
    expect(rgb(out, 7, 2)).toEqual([0, 0, 1]);
    expect(regionFill(size, [], input, input).data).toEqual(flatFill(size, [], input).data);
  });

  test('reach bins: ink, then the regions confidence: slow decay inside the hint\'s region, steep past each line', () => {
    // One hint at the left end of a 140-px strip with full lines down columns 100 and 120.
    const size = { width: 140, height: 3 };
    const lineArt = createPlane(140, 3, 1, Float32Array.from({ length: 420 }, (_, i) => (i % 140 === 100 || i % 140 === 120 ? 0 : 1)));
    const bins = reachBins(size, [{ x: 0, y: 1, rgb: [1, 0, 0] }], lineArt);
    const at = (x: number) => REACH_BINS[bins[140 + x]];
    // Inside the region c = exp(−0.1·d / 24): ≥ 0.9 up to 25 px, then down to ~0.66 at the line.
    expect([0, 25, 26, 99].map(at)).toEqual(['c ≥ 0.9', 'c ≥ 0.9', '0.5 ≤ c < 0.9', '0.5 ≤ c < 0.9']);
    expect([100, 120].map(at)).toEqual(['ink', 'ink']);
    // A full ink pixel costs 40: past one line c ≈ 0.12, past two ≈ 0.02.
    expect([101, 119].map(at)).toEqual(['0.1 ≤ c < 0.5', '0.1 ≤ c < 0.5']);
    expect([121, 139].map(at)).toEqual(['c < 0.1', 'c < 0.1']);
    expect(() => reachBins(size, [], createPlane(10, 3, 1))).toThrow(/one channel of the image size/);
  });

  test('ink brightness: mean output luma over the page\'s line pixels', () => {
    const page = createPlane(4, 1, 1, Float32Array.from([0, 0.1, 0.5, 1]));
    const out = rgbPlane(4, 1, (x) => (x < 2 ? [0.2, 0.2, 0.2] : [1, 1, 1]));
    const ink = inkBrightness(page, out);
    expect(ink.pixels).toBe(2);
    expect(ink.page).toBeCloseTo(12.75, 4);
    expect(ink.output).toBeCloseTo(51, 4);
  });
});
