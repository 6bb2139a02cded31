// Gradient checking against a float64 reference: the GPU's backward pass gives ⟨∇L, v⟩ for random directions
// v, and central finite differences of the float64 reference forward give the same number independently.
// L = ⟨w, f(x)⟩ with random weights w, so every output element's gradient path is exercised.
import { backward } from '../autograd/tape.js';
import { tensor } from './create.js';
import { sizeOf } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';
import type { HostTensor } from '../kernels/host.js';

export interface GradCheck {
  /** Float64 values of the inputs (the GPU sees them rounded to float32). */
  inputs: HostTensor[];
  /** The differentiable GPU implementation. */
  gpu: (...xs: Tensor[]) => Tensor;
  /** The float64 reference forward. */
  reference: (...xs: HostTensor[]) => HostTensor;
  /** Inputs to differentiate (default: all). */
  wrt?: number[];
  directions?: number;
  eps?: number;
  seed?: number;
}

export interface GradCheckResult {
  /** ‖f_gpu − f_ref‖ / ‖f_ref‖. */
  forwardError: number;
  /** Per checked input: the worst relative error of a directional derivative. */
  gradErrors: number[];
}

/** A small deterministic PRNG for test data (not the GPU generator). */
export function hostRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

export function hostNormal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
}

export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs expected ${expected.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = actual[i] - expected[i];
    num += Number.isNaN(d) ? Infinity : d * d;
    den += expected[i] * expected[i];
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export async function gradcheck(check: GradCheck): Promise<GradCheckResult> {
  const rand = hostRandom(check.seed ?? 12345);
  const eps = check.eps ?? 1e-6;
  const wrt = check.wrt ?? check.inputs.map((_, i) => i);
  // The reference sees exactly the float32 values the GPU sees.
  const inputs = check.inputs.map((h) => ({ shape: h.shape, data: h.data.map(Math.fround) }));
  const xs = inputs.map((h, i) => tensor(h.data, h.shape, { requiresGrad: wrt.includes(i) }));
  const y = check.gpu(...xs);
  const ref = check.reference(...inputs);
  const forwardError = relativeError(await y.data(), ref.data);
  const w = Float64Array.from({ length: sizeOf(ref.shape) }, () => hostNormal(rand));
  const upstream = tensor(w, y.shape);
  backward(y, upstream);
  const loss = (inputs: HostTensor[]) => dot(w, check.reference(...inputs).data);

  const gradErrors: number[] = [];
  for (const i of wrt) {
    const g = xs[i].grad;
    if (!g) throw new Error(`gradcheck: input ${i} got no gradient`);
    const analyticGrad = await g.data();
    let worst = 0;
    for (let k = 0; k < (check.directions ?? 3); k++) {
      const v = Float64Array.from({ length: analyticGrad.length }, () => hostNormal(rand));
      const shifted = (sign: number) =>
        inputs.map((h, j) => (j === i ? { shape: h.shape, data: h.data.map((x, e) => x + sign * eps * v[e]) } : h));
      const numeric = (loss(shifted(1)) - loss(shifted(-1))) / (2 * eps);
      const analytic = dot(analyticGrad, v);
      // Scale: |numeric| or the typical size of ⟨g, v⟩ for a random v, whichever is larger.
      const typical = Math.sqrt(dot(analyticGrad, analyticGrad) * dot(v, v) / Math.max(v.length, 1));
      worst = Math.max(worst, Math.abs(analytic - numeric) / Math.max(Math.abs(numeric), typical, 1e-12));
    }
    gradErrors.push(worst);
  }
  for (const t of [...xs, y, upstream]) t.dispose();
  return { forwardError, gradErrors };
}
