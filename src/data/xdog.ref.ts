// Float64 reference of XDoG, written from REFERENCE §2 without the engine's code: scipy-style Gaussian filtering
// (axis 0 then axis 1, mode "reflect", truncate 4), numpy's histogram, skimage's threshold_otsu (cumulative
// sums over bin centres), and the multi-scale Lanczos up / area down. Slow and literal; tests only.
import type { Plane } from './plane.js';
import { UNIFORM_RANGE, type XdogParams } from './xdog.js';

export interface XdogReference {
  /** W·H values: 1 white, 0 ink; grey-level at mult > 1. */
  sketch: Float64Array;
  /** Otsu's threshold on the normalised scale (NaN for a uniform image). */
  threshold: number;
}

function mirror(j: number, n: number): number {
  const period = 2 * n;
  let k = ((j % period) + period) % period;
  return k >= n ? period - 1 - k : k;
}

/** Correlates each line along `axis` (0: down columns, 1: along rows) with weights[p][t] at source q − lobes + t. */
function polyphase(src: Float64Array, h: number, w: number, axis: 0 | 1, weights: number[][], offset: number): { data: Float64Array; h: number; w: number } {
  const phases = weights.length;
  const [oh, ow] = axis === 0 ? [h * phases, w] : [h, w * phases];
  const out = new Float64Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const i = axis === 0 ? y : x;
      const q = Math.floor(i / phases);
      const wts = weights[i % phases];
      let s = 0;
      for (let t = 0; t < wts.length; t++) {
        const j = mirror(q + offset + t, axis === 0 ? h : w);
        s += wts[t] * src[axis === 0 ? j * w + x : y * w + j];
      }
      out[y * ow + x] = s;
    }
  }
  return { data: out, h: oh, w: ow };
}

function gaussian(src: Float64Array, h: number, w: number, sigma: number): Float64Array {
  const r = Math.trunc(4 * sigma + 0.5);
  const phi = Array.from({ length: 2 * r + 1 }, (_, t) => Math.exp((-0.5 / (sigma * sigma)) * (t - r) ** 2));
  const sum = phi.reduce((a, b) => a + b, 0);
  const weights = [phi.map((v) => v / sum)];
  const a = polyphase(src, h, w, 0, weights, -r);
  return polyphase(a.data, h, w, 1, weights, -r).data;
}

function lanczosUp(src: Float64Array, h: number, w: number, mult: number, lobes: number): Float64Array {
  const L = (x: number) => (x === 0 ? 1 : Math.abs(x) < lobes ? (Math.sin(Math.PI * x) * Math.sin((Math.PI * x) / lobes)) / ((Math.PI * x) ** 2 / lobes) : 0);
  const weights: number[][] = [];
  for (let p = 0; p < mult; p++) {
    const centre = (p + 0.5) / mult - 0.5;
    const row = Array.from({ length: 2 * lobes + 1 }, (_, t) => L(t - lobes - centre));
    const sum = row.reduce((a, b) => a + b, 0);
    weights.push(row.map((v) => v / sum));
  }
  const a = polyphase(src, h, w, 1, weights, -lobes);
  return polyphase(a.data, a.h, a.w, 0, weights, -lobes).data;
}

/** XDoG of an RGB or grey plane at integer `mult`, everything in float64. */
export function xdogReference(image: Plane, params: XdogParams, mult = 1, lobes = 3): XdogReference {
  const { width: W, height: H, channels: C, data } = image;
  let grey: Float64Array = new Float64Array(W * H);
  for (let i = 0; i < W * H; i++) {
    grey[i] = C === 1 ? data[i] : 0.2125 * data[C * i] + 0.7154 * data[C * i + 1] + 0.0721 * data[C * i + 2];
  }
  if (mult > 1) grey = lanczosUp(grey, H, W, mult, lobes);
  const [h, w] = [H * mult, W * mult];
  const g1 = gaussian(grey, h, w, params.sigma);
  const g2 = gaussian(grey, h, w, params.sigma * params.k);
  const e = new Float64Array(h * w);
  for (let i = 0; i < e.length; i++) {
    const d = g1[i] - params.gamma * g2[i];
    e[i] = d < params.epsilon ? 1 : 1 + Math.tanh(params.phi * d);
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of e) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const sketch = new Float64Array(W * H);
  if (hi - lo <= UNIFORM_RANGE) return { sketch: sketch.fill(1), threshold: NaN };
  for (let i = 0; i < e.length; i++) e[i] = (e[i] - lo) / (hi - lo);

  // numpy.histogram(e, bins=256, range=(0, 1)): edges i/256, the last bin closed.
  const counts = new Float64Array(256);
  for (const v of e) counts[Math.min(Math.floor(v * 256), 255)]++;
  const centres = Array.from({ length: 256 }, (_, i) => (i / 256 + (i + 1) / 256) / 2);
  // skimage.filters.threshold_otsu from the histogram.
  const weight1: number[] = [];
  const weight2: number[] = new Array(256);
  const mean1: number[] = [];
  const mean2: number[] = new Array(256);
  for (let i = 0, cw = 0, cm = 0; i < 256; i++) {
    cw += counts[i];
    cm += counts[i] * centres[i];
    weight1.push(cw);
    mean1.push(cm / cw);
  }
  for (let i = 255, cw = 0, cm = 0; i >= 0; i--) {
    cw += counts[i];
    cm += counts[i] * centres[i];
    weight2[i] = cw;
    mean2[i] = cm / cw;
  }
  let best = -Infinity;
  let idx = 0;
  for (let i = 0; i < 255; i++) {
    const v = weight1[i] * weight2[i + 1] * (mean1[i] - mean2[i + 1]) ** 2;
    if (v > best) {
      best = v;
      idx = i;
    }
  }
  const threshold = centres[idx];
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let white = 0;
      for (let dy = 0; dy < mult; dy++) for (let dx = 0; dx < mult; dx++) white += e[(y * mult + dy) * w + x * mult + dx] >= threshold ? 1 : 0;
      sketch[y * W + x] = white / (mult * mult);
    }
  }
  return { sketch, threshold };
}
