// The quality measures of `npm run eval` (browser-neutral, CPU): colour difference CIEDE2000 on CIELAB from
// sRGB, PSNR, Hasler–Süsstrunk colourfulness (src/colorize/colourfulness.ts), the drawing mask (the original's
// non-white pixels), the pixels of the hints and of discs around them, and two paint-bucket baselines multiplied by
// the input: "flat fill" (each pixel the colour of its nearest hint) and "region fill" (of its nearest hint along
// a path that pays for crossing lines: src/data/hint-spread.ts, the input the `spread` models refine).
//
// CIEDE2000 follows Sharma, Wu & Dalal (2005), "The CIEDE2000 color-difference formula: implementation notes,
// supplementary test data, and mathematical observations", with kL = kC = kH = 1; test/eval-metrics.test.ts
// checks it on their 34 published pairs. sRGB → XYZ (D65) → CIELAB with the D65 white of IEC 61966-2-1.
//
// API
//   srgbToLab(r, g, b) → [L, a, b];  ciede2000(lab1, lab2) → ΔE00
//   deltaEMap(a, b) → ΔE00 per pixel of two RGB planes;  meanOver(values, mask?) → mean (NaN when empty)
//   psnr(a, b) → dB on [0, 1];  drawingMask(original);  discMask(size, centres, radius)
//   flatFill(size, hints, input) → RGB plane;  regionFill(size, hints, input, lineArt) → RGB plane
//   inkBrightness(page, output) → mean output luma on the page's line pixels
import { createPlane, LUMA, toGrey, type Plane } from '../data/plane.js';
import type { Size } from '../data/resize.js';
import { spreadHints } from '../data/hint-spread.js';
import { hintSet, PAPER_LEVEL, placeHints } from '../data/hints.js';

export type Lab = [number, number, number];

const linear = (c: number) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
/** D65 reference white (X, Y, Z) with Y = 1. */
const WHITE = [0.95047, 1, 1.08883] as const;
const labF = (t: number) => (t > (6 / 29) ** 3 ? Math.cbrt(t) : t / (3 * (6 / 29) ** 2) + 4 / 29);

/** sRGB in [0, 1] → CIELAB (D65). */
export function srgbToLab(r: number, g: number, b: number): Lab {
  const [lr, lg, lb] = [linear(r), linear(g), linear(b)];
  const x = 0.4124564 * lr + 0.3575761 * lg + 0.1804375 * lb;
  const y = 0.2126729 * lr + 0.7151522 * lg + 0.072175 * lb;
  const z = 0.0193339 * lr + 0.119192 * lg + 0.9503041 * lb;
  const [fx, fy, fz] = [labF(x / WHITE[0]), labF(y / WHITE[1]), labF(z / WHITE[2])];
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

const DEG = Math.PI / 180;
const POW25_7 = 25 ** 7;

/** Hue angle in degrees, [0, 360); 0 for a = b = 0. */
function hue(b: number, a: number): number {
  if (a === 0 && b === 0) return 0;
  const h = Math.atan2(b, a) / DEG;
  return h < 0 ? h + 360 : h;
}

/** CIEDE2000 colour difference (kL = kC = kH = 1). */
export function ciede2000([l1, a1, b1]: Lab, [l2, a2, b2]: Lab): number {
  const cBar = (Math.hypot(a1, b1) + Math.hypot(a2, b2)) / 2;
  const c7 = cBar ** 7;
  const g = 0.5 * (1 - Math.sqrt(c7 / (c7 + POW25_7)));
  const [ap1, ap2] = [(1 + g) * a1, (1 + g) * a2];
  const [cp1, cp2] = [Math.hypot(ap1, b1), Math.hypot(ap2, b2)];
  const [hp1, hp2] = [hue(b1, ap1), hue(b2, ap2)];
  const dL = l2 - l1;
  const dC = cp2 - cp1;
  let dh = 0;
  if (cp1 * cp2 !== 0) {
    dh = hp2 - hp1;
    if (dh > 180) dh -= 360;
    else if (dh < -180) dh += 360;
  }
  const dH = 2 * Math.sqrt(cp1 * cp2) * Math.sin((dh / 2) * DEG);
  const lBar = (l1 + l2) / 2;
  const cpBar = (cp1 + cp2) / 2;
  let hBar = hp1 + hp2;
  if (cp1 * cp2 !== 0) {
    if (Math.abs(hp1 - hp2) <= 180) hBar = (hp1 + hp2) / 2;
    else hBar = hp1 + hp2 < 360 ? (hp1 + hp2 + 360) / 2 : (hp1 + hp2 - 360) / 2;
  }
  const t = 1 - 0.17 * Math.cos((hBar - 30) * DEG) + 0.24 * Math.cos(2 * hBar * DEG) + 0.32 * Math.cos((3 * hBar + 6) * DEG) - 0.2 * Math.cos((4 * hBar - 63) * DEG);
  const dTheta = 30 * Math.exp(-(((hBar - 275) / 25) ** 2));
  const cp7 = cpBar ** 7;
  const rC = 2 * Math.sqrt(cp7 / (cp7 + POW25_7));
  const sL = 1 + (0.015 * (lBar - 50) ** 2) / Math.sqrt(20 + (lBar - 50) ** 2);
  const sC = 1 + 0.045 * cpBar;
  const sH = 1 + 0.015 * cpBar * t;
  const rT = -Math.sin(2 * dTheta * DEG) * rC;
  const [x, y, z] = [dL / sL, dC / sC, dH / sH];
  return Math.sqrt(x * x + y * y + z * z + rT * y * z);
}

function checkSame(a: Plane, b: Plane, what: string): void {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`${what}: the planes are ${a.width}×${a.height} and ${b.width}×${b.height}.`);
}

/** An RGB plane (a grey one counts as R = G = B) as its 3 channels of pixel i. */
function rgbAt(p: Plane, i: number): [number, number, number] {
  if (p.channels === 1) return [p.data[i], p.data[i], p.data[i]];
  const c = p.channels;
  return [p.data[c * i], p.data[c * i + 1], p.data[c * i + 2]];
}

/** ΔE00 per pixel between two RGB (or grey) planes of one size. */
export function deltaEMap(a: Plane, b: Plane): Float32Array {
  checkSame(a, b, 'deltaEMap');
  const n = a.width * a.height;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = ciede2000(srgbToLab(...rgbAt(a, i)), srgbToLab(...rgbAt(b, i)));
  return out;
}

/** The mean of `values` where `mask` is set (all of them without a mask); NaN when none is. */
export function meanOver(values: ArrayLike<number>, mask?: ArrayLike<number>): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    if (mask && !mask[i]) continue;
    sum += values[i];
    n++;
  }
  return n ? sum / n : NaN;
}

/** PSNR in dB of two RGB (or grey) planes in [0, 1], over every channel of every pixel (peak 1); Infinity when equal. */
export function psnr(a: Plane, b: Plane): number {
  checkSame(a, b, 'psnr');
  const n = a.width * a.height;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const [x, y] = [rgbAt(a, i), rgbAt(b, i)];
    for (let c = 0; c < 3; c++) sq += (x[c] - y[c]) ** 2;
  }
  const mse = sq / (3 * n);
  return mse === 0 ? Infinity : -10 * Math.log10(mse);
}

/** The drawing: pixels of the original that are not white paper (some channel below PAPER_LEVEL). */
export function drawingMask(original: Plane): Uint8Array {
  const n = original.width * original.height;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.min(...rgbAt(original, i)) < PAPER_LEVEL ? 1 : 0;
  return out;
}

/** Pixels within `radius` (Euclidean, pixel centres) of any centre (y·width + x). */
export function discMask(size: Size, centres: readonly number[], radius: number): Uint8Array {
  const { width: w, height: h } = size;
  const out = new Uint8Array(w * h);
  const r = Math.floor(radius);
  for (const centre of centres) {
    const [cx, cy] = [centre % w, Math.floor(centre / w)];
    for (let y = Math.max(0, cy - r); y <= Math.min(h - 1, cy + r); y++) {
      for (let x = Math.max(0, cx - r); x <= Math.min(w - 1, cx + r); x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= radius * radius) out[y * w + x] = 1;
    }
  }
  return out;
}

/** One hint in pixel coordinates of the evaluated image. */
export interface PixelHint {
  x: number;
  y: number;
  rgb: [number, number, number];
}

/**
 * The paint-bucket baseline: every pixel takes the colour of its nearest hint (Euclidean; the first hint on a
 * tie), multiplied by the input's luma (its line art). Without hints: the input itself as RGB.
 */
export function flatFill(size: Size, hints: readonly PixelHint[], input: Plane): Plane {
  const { width: w, height: h } = size;
  if (input.width !== w || input.height !== h) throw new Error(`flatFill: the input is ${input.width}×${input.height}, not ${w}×${h}.`);
  const grey = toGrey(input.channels === 4 ? rgbOnly(input) : input);
  const out = new Float32Array(3 * w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      let colour: readonly number[] = [1, 1, 1];
      let best = Infinity;
      for (const hint of hints) {
        const d = (hint.x - x) ** 2 + (hint.y - y) ** 2;
        if (d < best) [best, colour] = [d, hint.rgb];
      }
      for (let c = 0; c < 3; c++) out[3 * i + c] = colour[c] * grey.data[i];
    }
  }
  return createPlane(w, h, 3, out);
}

/**
 * The region-aware paint bucket: every pixel takes the colour of the hint nearest along `lineArt` (1 channel, 1 =
 * paper; spreadHints' path cost), multiplied by the input's luma. Without hints: the input itself as RGB.
 */
export function regionFill(size: Size, hints: readonly PixelHint[], input: Plane, lineArt: Plane): Plane {
  if (!hints.length) return flatFill(size, hints, input);
  const spread = spreadHints(placeHints(hintSet(size, hints), size, size), lineArt);
  const grey = toGrey(input.channels === 4 ? rgbOnly(input) : input);
  const out = new Float32Array(3 * size.width * size.height);
  for (let i = 0; i < size.width * size.height; i++) {
    for (let c = 0; c < 3; c++) out[3 * i + c] = ((spread.data[4 * i + c] + 1) / 2) * grey.data[i];
  }
  return createPlane(size.width, size.height, 3, out);
}

/** The bins of `reachBins`, by how surely the hints reach a drawing pixel (the regions encoding's confidence c). */
export const REACH_BINS = ['ink', 'c ≥ 0.9', '0.5 ≤ c < 0.9', '0.1 ≤ c < 0.5', 'c < 0.1'] as const;
const REACH_LIMITS = [0.9, 0.5, 0.1, 0];

/**
 * Each pixel's REACH_BINS index for K hints over `lineArt` (1 channel, 1 = paper): ink where the line art is below
 * one half, else by the confidence with which the `regions` encoding (src/data/hint-spread.ts) reaches it: ~1
 * across the region a hint lies in, decaying slowly along it and steeply past each line.
 */
export function reachBins(size: Size, hints: readonly PixelHint[], lineArt: Plane): Uint8Array {
  const n = size.width * size.height;
  if (lineArt.channels !== 1 || lineArt.width * lineArt.height !== n) throw new Error('reachBins: the line art must be one channel of the image size.');
  const confidence = spreadHints(placeHints(hintSet(size, hints), size, size), lineArt, 'regions');
  const bins = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = confidence.data[4 * i + 3];
    bins[i] = lineArt.data[i] < 0.5 ? 0 : 1 + REACH_LIMITS.findIndex((limit) => c >= limit);
  }
  return bins;
}

function rgbOnly(p: Plane): Plane {
  const n = p.width * p.height;
  const out = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) out.set(rgbAt(p, i), 3 * i);
  return createPlane(p.width, p.height, 3, out);
}

/** Luma below which a page pixel counts as a line pixel (64/255). */
export const LINE_LUMA = 64 / 255;

/** Mean luma (8-bit units) of `output` over the page's line pixels (page luma below LINE_LUMA); NaN without any. */
export function inkBrightness(page: Plane, output: Plane): { page: number; output: number; pixels: number } {
  checkSame(page, output, 'inkBrightness');
  const grey = toGrey(page.channels === 4 ? rgbOnly(page) : page);
  let [sumPage, sumOut, n] = [0, 0, 0];
  for (let i = 0; i < grey.data.length; i++) {
    if (grey.data[i] >= LINE_LUMA) continue;
    const [r, g, b] = rgbAt(output, i);
    sumPage += grey.data[i];
    sumOut += LUMA[0] * r + LUMA[1] * g + LUMA[2] * b;
    n++;
  }
  return { page: (255 * sumPage) / n, output: (255 * sumOut) / n, pixels: n };
}
