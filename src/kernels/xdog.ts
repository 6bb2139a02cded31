// XDoG after the horizontal filtering (shaders/xdog.wgsl): the vertical filters fused with the energy, the
// histogram of the normalised energy, and threshold + area averaging. Raw kernels; src/data/xdog.ts puts them
// together.
import shader from '../../shaders/xdog.wgsl';
import { engine } from '../engine/engine.js';
import { Tensor } from '../engine/tensor.js';
import { fillInto } from './elementwise.js';
import { RUN, type Filter1d } from './resample.js';
import { grid1d, shaderSource, uniformStruct } from './uniforms.js';

const WG = 64;
const PER = 1024;

export interface EnergyParams {
  gamma: number;
  epsilon: number;
  phi: number;
}

interface Uniforms {
  count?: number;
  width: number;
  inH?: number;
  qBegin?: number;
  qEnd?: number;
  phases?: number;
  narrow?: Filter1d;
  wide?: Filter1d;
  outW?: number;
  outOffset?: number;
  energy?: EnergyParams;
  lo?: number;
  hi?: number;
  threshold?: number;
}

const Params = uniformStruct('XdogParams', {
  /** histogram, threshold_area: elements of E / output pixels. */
  count: 'u32',
  /** Row length of h1, h2 and E. */
  width: 'u32',
  /** dog_energy: rows of h1/h2. */
  in_h: 'u32',
  /** dog_energy: rows [q_begin, q_end) of h1/h2 produce E (the strip's core). */
  q_begin: 'u32',
  q_end: 'u32',
  /** dog_energy: P (= mult); threshold_area: block size. */
  phases: 'u32',
  /** dog_energy: the narrow filter, weights[0 … P·taps1). */
  taps1: 'u32',
  offset1: 'i32',
  /** dog_energy: the wide filter, weights[P·taps1 …). */
  taps2: 'u32',
  offset2: 'i32',
  /** threshold_area: output row length. */
  out_w: 'u32',
  /** threshold_area: first output element written. */
  out_offset: 'u32',
  gamma: 'f32',
  epsilon: 'f32',
  phi: 'f32',
  /** Min of E. */
  lo: 'f32',
  /** Max of E (> lo). */
  hi: 'f32',
  /** Otsu's threshold on the normalised scale. */
  threshold: 'f32',
});

/** One struct serves the three entry points; each sets what it reads, the rest is zero. */
function uniforms(u: Uniforms): Uint32Array {
  return Params.pack({
    count: u.count ?? 0, width: u.width, in_h: u.inH ?? 0, q_begin: u.qBegin ?? 0, q_end: u.qEnd ?? 0, phases: u.phases ?? 1,
    taps1: u.narrow?.taps ?? 0, offset1: u.narrow?.offset ?? 0, taps2: u.wide?.taps ?? 0, offset2: u.wide?.offset ?? 0,
    out_w: u.outW ?? 0, out_offset: u.outOffset ?? 0,
    gamma: u.energy?.gamma ?? 0, epsilon: u.energy?.epsilon ?? 0, phi: u.energy?.phi ?? 0,
    lo: u.lo ?? 0, hi: u.hi ?? 1, threshold: u.threshold ?? 0,
  });
}

const source = shaderSource(shader, Params);
const kernel = (entry: string) => ({ family: 'xdog', source, entry });

/**
 * Filters the columns of h1 with `narrow` and of h2 with `wide` (polyphase filters with the same phase count,
 * reflect borders over all rows of h1/h2) and keeps output rows from source rows [qBegin, qEnd): D = g1 − γ·g2,
 * E = D < ε ? 1 : 1 + tanh(φ·D). Returns E ([(qEnd − qBegin)·phases, width]) and per-invocation (min, max)
 * pairs of E.
 */
export function xdogEnergy(h1: Tensor, h2: Tensor, narrow: Filter1d, wide: Filter1d, params: EnergyParams, qBegin: number, qEnd: number): { energy: Tensor; minmax: Tensor } {
  const [inH, width] = h1.shape;
  if (h2.shape.join() !== h1.shape.join()) throw new Error('xdogEnergy: h1 and h2 differ in shape.');
  if (narrow.phases !== wide.phases) throw new Error('xdogEnergy: the two filters differ in phases.');
  const phases = narrow.phases;
  const items = Math.ceil((qEnd - qBegin) / RUN) * width;
  const energy = Tensor.empty([(qEnd - qBegin) * phases, width]);
  const minmax = Tensor.empty([2 * items]);
  const weights = Tensor.fromArray(Float32Array.from([...narrow.weights, ...wide.weights]), [narrow.weights.length + wide.weights.length]);
  engine().dispatch(kernel('dog_energy'), uniforms({ width, inH, qBegin, qEnd, phases, narrow, wide, energy: params }),
    [h1.storage.buffer, h2.storage.buffer, weights.storage.buffer, energy.storage.buffer, minmax.storage.buffer], grid1d(items, WG));
  weights.dispose();
  return { energy, minmax };
}

/** Adds the 256-bin histogram of (E − lo)/(hi − lo) into `counts` (256 u32 in a float tensor's buffer). */
export function xdogHistogram(energy: Tensor, lo: number, hi: number, counts: Tensor): void {
  engine().dispatch(kernel('histogram'), uniforms({ count: energy.size, width: energy.shape[1], lo, hi }),
    [energy.storage.buffer, counts.storage.buffer], grid1d(Math.ceil(energy.size / PER), WG));
}

/** A zeroed histogram for xdogHistogram; read it with `new Uint32Array((await t.data()).buffer)`. */
export function emptyHistogram(): Tensor {
  const t = Tensor.empty([256]);
  fillInto(t, 0); // +0.0 has the bits of u32 0
  return t;
}

/**
 * Writes into `out` from element `outOffset` on: for each pixel of E's rows and columns ÷ mult, the fraction
 * of its mult×mult block whose normalised E is ≥ threshold.
 */
export function xdogThresholdArea(energy: Tensor, lo: number, hi: number, threshold: number, mult: number, out: Tensor, outOffset: number): void {
  const [h, w] = energy.shape;
  const outW = w / mult;
  const count = (h / mult) * outW;
  engine().dispatch(kernel('threshold_area'), uniforms({ count, width: w, phases: mult, outW, outOffset, lo, hi, threshold }),
    [energy.storage.buffer, out.storage.buffer], grid1d(count, WG));
}
