// XDoG line art as the reference code computes it (REFERENCE §2), on the engine:
//   grey → [Lanczos ×mult] → g1 = gauss(σ), g2 = gauss(kσ) → D = g1 − γ·g2 → E = D < ε ? 1 : 1 + tanh(φ·D)
//   → min-max normalise → Otsu threshold t over 256 bins → E ≥ t → [area average ÷mult].
// At mult 1 the sketch is binary; at mult > 1 the area averaging makes it grey-level (anti-aliased).
//
// Lanczos upsampling and Gaussian are both separable and linear, so each Gaussian is composed with the
// upsampling into one polyphase filter per axis (composeAfterUpsampling): the rows are filtered at the original
// height (shaders/resample.wgsl), the columns in one pass fused with D and E (shaders/xdog.wgsl), and the
// upsampled image itself is never stored. Histogram and threshold run in shaders/xdog.wgsl; the host finishes
// the min/max and computes Otsu's threshold from the 256 counts. Images whose upsampled size exceeds one
// storage binding are processed in horizontal strips with enough halo rows that every kept row equals the
// whole-image computation; the global min/max and histogram then take three passes over the strips (E is
// recomputed rather than kept).
import { engine } from '../engine/engine.js';
import { Tensor } from '../engine/tensor.js';
import { composeAfterUpsampling, filterAxis, gaussianFilter, lanczosUpFilter, type Filter1d } from '../kernels/resample.js';
import { emptyHistogram, xdogEnergy, xdogHistogram, xdogThresholdArea } from '../kernels/xdog.js';
import { createPlane, toGrey, type Plane } from './plane.js';

export interface XdogParams {
  /** σ of the narrow Gaussian, in (upsampled) pixels. */
  sigma: number;
  /** Ratio of the wide Gaussian's σ to the narrow one's. */
  k: number;
  /** Steepness of the tanh ramp. */
  phi: number;
  /** Weight of the wide Gaussian in D = g1 − γ·g2 (the paper's τ). */
  gamma: number;
  /** Below this D, E = 1 (the paper's ε). */
  epsilon: number;
}

/** `code`: the reference code's numbers (the default, the published weights were trained with them); `paper`: the paper's text. */
export const XDOG_PRESETS = {
  code: { sigma: 0.5, k: 8, phi: 89.25, gamma: 0.95, epsilon: -0.1 },
  paper: { sigma: 0.5, k: 4, phi: 90, gamma: 0.95, epsilon: 0 },
} as const satisfies Record<string, XdogParams>;

export type XdogPreset = keyof typeof XDOG_PRESETS;

/**
 * E's range at or below which an image counts as uniform and gets an all-white sketch. A uniform image's E is
 * constant up to rounding (~1e-15 in float64, ~1e-7 in float32); min-max normalising that noise would draw
 * random lines (and divide by zero when it is exactly constant).
 */
export const UNIFORM_RANGE = 1e-5;

/** Lobes of the Lanczos kernel of the multi-scale upsampling (sharp's lanczos3). */
const LANCZOS_LOBES = 3;

export interface XdogOptions {
  preset?: XdogPreset;
  /** Overrides of single parameters of the preset. */
  params?: Partial<XdogParams>;
  /** Integer upsampling factor of the multi-scale XDoG (1: none). Inference uses 7. */
  mult?: number;
  /** Most elements of one upsampled strip (defaults to what one storage binding of the device holds). */
  maxStripElements?: number;
}

export function xdogParams(options: Pick<XdogOptions, 'preset' | 'params'> = {}): XdogParams {
  const preset = options.preset ?? 'code';
  if (!(preset in XDOG_PRESETS)) throw new Error(`Unknown XDoG preset "${preset}"; use one of ${Object.keys(XDOG_PRESETS).join(', ')}.`);
  const p = { ...XDOG_PRESETS[preset], ...options.params };
  for (const [name, v] of Object.entries(p)) if (!Number.isFinite(v)) throw new Error(`XDoG parameter ${name} must be a finite number, got ${v}.`);
  if (!(p.sigma > 0) || !(p.k > 0)) throw new Error(`XDoG needs σ > 0 and k > 0, got σ ${p.sigma}, k ${p.k}.`);
  return p;
}

/** Histogram bin of a normalised value v ∈ [0, 1], as numpy's histogram over range (0, 1) with 256 bins. */
export function histogramBin(v: number): number {
  return Math.min(Math.floor(v * 256), 255);
}

/**
 * Otsu's threshold of a 256-bin histogram over [0, 1], as skimage's threshold_otsu on a float image computes it:
 * bin i covers [i/256, (i+1)/256) (the last bin includes 1), the candidate thresholds are the bin centres
 * (2i+1)/512, and the chosen one maximises the between-class variance w₁(i)·w₂(i+1)·(μ₁(i) − μ₂(i+1))², where
 * class 1 is bins ≤ i and class 2 bins > i; the first maximum wins. Returns the threshold on the [0, 1] scale;
 * pixels with normalised E ≥ it are white.
 */
export function otsuThreshold(counts: ArrayLike<number>): number {
  return (2 * otsuBin(counts) + 1) / 512;
}

/** The bin index i of Otsu's threshold (see otsuThreshold); empty classes never win. */
export function otsuBin(counts: ArrayLike<number>): number {
  const n = counts.length;
  const centre = (i: number) => (2 * i + 1) / (2 * n);
  const w1 = new Float64Array(n);
  const m1 = new Float64Array(n);
  let w = 0;
  let m = 0;
  for (let i = 0; i < n; i++) {
    w += counts[i];
    m += counts[i] * centre(i);
    w1[i] = w;
    m1[i] = m;
  }
  let best = -1;
  let bestIndex = 0;
  for (let i = 0; i < n - 1; i++) {
    const wa = w1[i];
    const wb = w - w1[i];
    if (wa === 0 || wb === 0) continue;
    const v = wa * wb * (m1[i] / wa - (m - m1[i]) / wb) ** 2;
    if (v > best) {
      best = v;
      bestIndex = i;
    }
  }
  return bestIndex;
}

interface Strip {
  /** Input rows [from, to) uploaded for this strip (core plus halo). */
  from: number;
  to: number;
  /** Output rows [core0, core1) this strip produces. */
  core0: number;
  core1: number;
}

/** Horizontal strips whose upsampled core fits `maxElements`, each with `halo` extra input rows per side. */
function strips(width: number, height: number, mult: number, halo: number, maxElements: number): Strip[] {
  const rows = Math.floor(maxElements / (width * mult * mult));
  if (rows >= height) return [{ from: 0, to: height, core0: 0, core1: height }];
  if (rows < 1) {
    throw new Error(`A ${width}-pixel-wide image at mult ${mult} is too wide for this device's storage buffers; use a smaller mult or downscale it.`);
  }
  const out: Strip[] = [];
  for (let core0 = 0; core0 < height; core0 += rows) {
    const core1 = Math.min(height, core0 + rows);
    out.push({ from: Math.max(0, core0 - halo), to: Math.min(height, core1 + halo), core0, core1 });
  }
  return out;
}

/**
 * XDoG line art of an RGB or grey plane: a one-channel plane of the same size, 1 = white, 0 = ink; binary at
 * mult 1, grey-level at mult > 1. A uniform image (see UNIFORM_RANGE) has no lines: the result is all white.
 */
export async function xdog(image: Plane, options: XdogOptions = {}): Promise<Plane> {
  const p = xdogParams(options);
  const mult = options.mult ?? 1;
  if (!Number.isInteger(mult) || mult < 1 || mult > 16) throw new Error(`mult must be an integer from 1 to 16, got ${mult}.`);
  const grey = toGrey(image);
  const { width, height } = grey;
  const e = engine();
  // Row and column filters: each Gaussian composed with the Lanczos upsampling, so the upsampled image is
  // never stored and the horizontal passes run at the original height.
  const up = lanczosUpFilter(mult, LANCZOS_LOBES);
  const atScale = (f: Filter1d) => (mult > 1 ? composeAfterUpsampling(f, up) : f);
  const narrow = atScale(gaussianFilter(p.sigma));
  const wide = atScale(gaussianFilter(p.k * p.sigma));
  // Source rows a kept row depends on: the composed filters' reach (strips are cut on source rows).
  const halo = Math.max(-narrow.offset, -wide.offset, narrow.taps + narrow.offset - 1, wide.taps + wide.offset - 1);
  const maxElements = options.maxStripElements ?? Math.floor(e.gpu.limits.maxStorageBufferBindingSize / 4);
  const plan = strips(width, height, mult, halo, maxElements);

  const energyOf = (s: Strip) => {
    const rows = Tensor.fromArray(grey.data.subarray(s.from * width, s.to * width), [s.to - s.from, width]);
    const h1 = filterAxis(rows, 'x', narrow);
    const h2 = filterAxis(rows, 'x', wide);
    rows.dispose();
    const result = xdogEnergy(h1, h2, narrow, wide, p, s.core0 - s.from, s.core1 - s.from);
    h1.dispose();
    h2.dispose();
    return result;
  };
  const kept = plan.length === 1 ? energyOf(plan[0]) : null;
  try {
    let lo = Infinity;
    let hi = -Infinity;
    for (const s of plan) {
      const { energy, minmax } = kept ?? energyOf(s);
      const pairs = await minmax.data();
      for (let i = 0; i < pairs.length; i += 2) {
        lo = Math.min(lo, pairs[i]);
        hi = Math.max(hi, pairs[i + 1]);
      }
      if (!kept) [energy, minmax].forEach((t) => t.dispose());
    }
    if (!(hi - lo > UNIFORM_RANGE)) return createPlane(width, height, 1, new Float32Array(width * height).fill(1));

    const counts = emptyHistogram();
    for (const s of plan) {
      const { energy, minmax } = kept ?? energyOf(s);
      xdogHistogram(energy, lo, hi, counts);
      if (!kept) [energy, minmax].forEach((t) => t.dispose());
    }
    const threshold = otsuThreshold(new Uint32Array((await counts.data()).buffer));
    counts.dispose();

    const out = Tensor.empty([height, width]);
    for (const s of plan) {
      const { energy, minmax } = kept ?? energyOf(s);
      xdogThresholdArea(energy, lo, hi, threshold, mult, out, s.core0 * width);
      if (!kept) [energy, minmax].forEach((t) => t.dispose());
    }
    const sketch = createPlane(width, height, 1, await out.data());
    out.dispose();
    return sketch;
  } finally {
    kept?.energy.dispose();
    kept?.minmax.dispose();
  }
}


