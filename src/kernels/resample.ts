// Separable 1-D filters of one-channel planes (shaders/resample.wgsl): the polyphase filter description, the
// filters the data pipeline uses (Gaussian blur, Lanczos upsampling), and one launch per pass. Raw kernels on
// [height, width] tensors; no autograd.
import shader from '../../shaders/resample.wgsl';
import { engine } from '../engine/engine.js';
import { Tensor } from '../engine/tensor.js';
import { grid1d, shaderSource, uniformStruct } from './uniforms.js';

/**
 * A polyphase 1-D filter: output i = q·phases + p reads the source at reflect(q + offset + t) for t < taps
 * with weights[p·taps + t]. `outputLength(n)` is the output size for a source of n samples.
 */
export interface Filter1d {
  name: string;
  taps: number;
  phases: number;
  offset: number;
  weights: Float64Array;
  outputLength(n: number): number;
}

/** Radius of the reference code's Gaussian (scipy's truncate 4): floor(4σ + 0.5). */
export function gaussianRadius(sigma: number): number {
  return Math.floor(4 * sigma + 0.5);
}

/** Gaussian blur with normalised weights over radius floor(4σ + 0.5), REFERENCE §2. */
export function gaussianFilter(sigma: number): Filter1d {
  if (!(sigma > 0 && Number.isFinite(sigma))) throw new Error(`The Gaussian's σ must be a positive number, got ${sigma}.`);
  const r = gaussianRadius(sigma);
  const w = Float64Array.from({ length: 2 * r + 1 }, (_, t) => Math.exp((-0.5 * (t - r) ** 2) / (sigma * sigma)));
  return { name: `gaussian σ${sigma}`, taps: 2 * r + 1, phases: 1, offset: -r, weights: normalise(w, 1), outputLength: (n) => n };
}

/** Lanczos kernel with `lobes` lobes: sinc(x)·sinc(x / lobes) on |x| < lobes. */
function lanczos(x: number, lobes: number): number {
  if (x === 0) return 1;
  if (Math.abs(x) >= lobes) return 0;
  const px = Math.PI * x;
  return (lobes * Math.sin(px) * Math.sin(px / lobes)) / (px * px);
}

/**
 * Upsampling by an integer `factor` with a Lanczos kernel (3 lobes by default, as sharp's lanczos3). Output
 * pixel i has its centre at (i + ½)/factor − ½ in source pixels; each phase's weights are normalised to sum 1.
 */
export function lanczosUpFilter(factor: number, lobes = 3): Filter1d {
  if (!Number.isInteger(factor) || factor < 1) throw new Error(`The upsampling factor must be an integer ≥ 1, got ${factor}.`);
  const taps = 2 * lobes + 1; // source positions q − lobes … q + lobes cover every phase's support
  const w = new Float64Array(factor * taps);
  for (let p = 0; p < factor; p++) {
    const centre = (p + 0.5) / factor - 0.5; // relative to q, in (−½, ½)
    for (let t = 0; t < taps; t++) w[p * taps + t] = lanczos(t - lobes - centre, lobes);
  }
  return { name: `lanczos${lobes} ×${factor}`, taps, phases: factor, offset: -lobes, weights: normalise(w, factor), outputLength: (n) => n * factor };
}

/**
 * `fine` (a one-phase filter on the upsampled grid) applied after the upsampler `up`, as one polyphase filter
 * on the source grid: output i = q·P + p is Σ_j fine_j · up(i + offset + j), and each up(k) is a weighted sum
 * of source samples, so the pair collapses into P phases of source taps. Exact (up to rounding) at the borders
 * too: the half-sample reflection of the upsampled signal is the upsampling of the reflected source, because
 * output centres (k + ½)/P − ½ mirror about the same edge as the source samples.
 */
export function composeAfterUpsampling(fine: Filter1d, up: Filter1d): Filter1d {
  if (fine.phases !== 1) throw new Error(`composeAfterUpsampling: ${fine.name} must have one phase.`);
  const P = up.phases;
  const reach = (p: number, j: number) => Math.floor((p + fine.offset + j) / P) + up.offset; // first source tap
  let lo = Infinity;
  let hi = -Infinity;
  for (let p = 0; p < P; p++) {
    lo = Math.min(lo, reach(p, 0));
    hi = Math.max(hi, reach(p, fine.taps - 1) + up.taps - 1);
  }
  const taps = hi - lo + 1;
  const w = new Float64Array(P * taps);
  for (let p = 0; p < P; p++) {
    for (let j = 0; j < fine.taps; j++) {
      const phase = (((p + fine.offset + j) % P) + P) % P;
      const first = reach(p, j) - lo;
      for (let t = 0; t < up.taps; t++) w[p * taps + first + t] += fine.weights[j] * up.weights[phase * up.taps + t];
    }
  }
  return { name: `${fine.name} after ${up.name}`, taps, phases: P, offset: lo, weights: w, outputLength: up.outputLength };
}

function normalise(w: Float64Array, phases: number): Float64Array {
  const taps = w.length / phases;
  for (let p = 0; p < phases; p++) {
    let sum = 0;
    for (let t = 0; t < taps; t++) sum += w[p * taps + t];
    for (let t = 0; t < taps; t++) w[p * taps + t] /= sum;
  }
  return w;
}

const WG = 64;
/** Source positions per invocation of the window filters (RUN of shaders/lib/window-filter.wgsl; xdog's too). */
export const RUN = 16;

const Params = uniformStruct('ResampleParams', {
  in_w: 'u32',
  in_h: 'u32',
  out_w: 'u32',
  out_h: 'u32',
  /** T */
  taps: 'u32',
  /** P */
  phases: 'u32',
  /** O */
  offset: 'i32',
  /** Source positions q along the axis: ⌈output length / P⌉. */
  positions: 'u32',
  /** Lines across the axis (height for AXIS 0, width for AXIS 1). */
  lines: 'u32',
});
const source = shaderSource(shader, Params);

/** Filters a [height, width] tensor along x (each row) or along y (each column). */
export function filterAxis(x: Tensor, axis: 'x' | 'y', filter: Filter1d): Tensor {
  x.assertAlive();
  if (x.rank !== 2 || !x.isContiguous || x.offset !== 0) {
    throw new Error(`filterAxis expects a contiguous [height, width] tensor, got [${x.shape.join(', ')}].`);
  }
  const [h, w] = x.shape;
  const outLength = filter.outputLength(axis === 'x' ? w : h);
  const [oh, ow] = axis === 'x' ? [h, outLength] : [outLength, w];
  const positions = Math.ceil(outLength / filter.phases);
  const lines = axis === 'x' ? h : w;
  const out = Tensor.empty([oh, ow]);
  const weights = Tensor.fromArray(Float32Array.from(filter.weights), [filter.weights.length]);
  const uniforms = Params.pack({ in_w: w, in_h: h, out_w: ow, out_h: oh, taps: filter.taps, phases: filter.phases, offset: filter.offset, positions, lines });
  const kernel = { family: 'resample', source, entry: 'filter_axis', constants: { AXIS: axis === 'x' ? 0 : 1 } };
  engine().dispatch(kernel, uniforms, [x.storage.buffer, weights.storage.buffer, out.storage.buffer], grid1d(Math.ceil(positions / RUN) * lines, WG));
  weights.dispose();
  return out;
}
