// Float64 reference of spectral normalisation (src/ops/spectral-norm.ts): W̄ as the matrix [out, rest],
// u [out], v [rest]; shared by the spectral-norm and squeeze-excitation tests.
import type { HostTensor } from '../../src/kernels/host.js';

/** x / max(‖x‖₂, 1e-12). */
export function normalized(x: Float64Array): Float64Array {
  const norm = Math.sqrt(x.reduce((s, e) => s + e * e, 0));
  return x.map((e) => e / Math.max(norm, 1e-12));
}

/** W̄v. */
function times(w: HostTensor, v: Float64Array): Float64Array {
  const out = w.shape[0];
  const rest = v.length;
  return Float64Array.from({ length: out }, (_, o) => v.reduce((s, e, k) => s + w.data[o * rest + k] * e, 0));
}

/** W̄ᵀu. */
function transposeTimes(w: HostTensor, u: Float64Array): Float64Array {
  const rest = w.data.length / u.length;
  return Float64Array.from({ length: rest }, (_, k) => u.reduce((s, e, o) => s + w.data[o * rest + k] * e, 0));
}

/** One power iteration from u, as torch.nn.utils.spectral_norm runs before each training forward. */
export function powerIteration(w: HostTensor, u: Float64Array): { u: Float64Array; v: Float64Array } {
  const v = normalized(transposeTimes(w, u));
  return { u: normalized(times(w, v)), v };
}

/** σ = uᵀW̄v. */
export const sigmaOf = (w: HostTensor, u: Float64Array, v: Float64Array) => times(w, v).reduce((s, e, o) => s + u[o] * e, 0);

/** W̄ / (uᵀW̄v) for fixed u, v. */
export function normalizedWeight(w: HostTensor, u: Float64Array, v: Float64Array): HostTensor {
  const sigma = sigmaOf(w, u, v);
  return { shape: [...w.shape], data: w.data.map((e) => e / sigma) };
}
