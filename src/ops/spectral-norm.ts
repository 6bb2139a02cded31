// Spectral normalisation (Miyato et al. 2018) of the discriminator's weights, REFERENCE §4: W = W̄ / σ with
// σ ≈ the largest singular value of W̄ viewed as a matrix [out, in·kh·kw/groups], estimated by one power
// iteration per training forward, as torch.nn.utils.spectral_norm does (n_power_iterations = 1, eps = 1e-12).
// The published discriminator's wrapper (keys `module.weight_bar/_u/_v`) normalises by ‖x‖ + eps instead of
// max(‖x‖, eps): in float32 the two agree for every vector whose norm exceeds ~2e-5, i.e. always but for a
// zero weight. It also iterates in eval mode; a module that mimics it passes training = true there too.
import { noGrad } from '../autograd/tape.js';
import { tidy } from '../engine/engine.js';
import type { Shape } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';
import { contiguousCopy } from '../kernels/elementwise.js';
import { normalizeInto } from '../kernels/normalize.js';
import { defaultGenerator, normalFill, type Generator } from '../kernels/random.js';
import { zeros } from './create.js';
import { div } from './elementwise.js';
import { matmul } from './matmul.js';
import { reshape } from './shape.js';

/** The stored estimates of the leading singular vectors (buffers, not trained): u [out], v [in·kh·kw/groups]. */
export interface SpectralNormState {
  u: Tensor;
  v: Tensor;
}

const EPS = 1e-12;

/** The matrix shape [out, rest] spectral norm sees for a weight [out, ...]. */
function matrixShape(weightShape: Shape, caller: string): [number, number] {
  if (weightShape.length < 2 || weightShape.some((n) => n === 0)) {
    throw new Error(`${caller}: the weight must be non-empty with rank ≥ 2 ([out, in] or [out, in/groups, kh, kw]), got [${weightShape.join(', ')}].`);
  }
  const [out, ...rest] = weightShape;
  return [out, rest.reduce((k, n) => k * n, 1)];
}

/**
 * Initial u, v as PyTorch draws them: normal(0, 1), then normalised. They are state, not parameters: keep()
 * them alongside the module's weights and save them in checkpoints (`weight_u`, `weight_v`).
 */
export function spectralNormState(weightShape: Shape, generator: Generator = defaultGenerator): SpectralNormState {
  const [out, rest] = matrixShape(weightShape, 'spectralNormState');
  const draw = (n: number) => {
    const state = zeros([n]);
    normalizeInto(normalFill([n], 0, 1, generator), state, EPS);
    return state;
  };
  return noGrad(() => tidy(() => ({ u: draw(out), v: draw(rest) })));
}

/**
 * The spectrally normalised weight W̄ / σ, σ = uᵀ W̄ v, differentiable w.r.t. W̄ through σ (u, v are constants).
 * In training, one power iteration first updates the state in place: v ← normalize(W̄ᵀu), u ← normalize(W̄v);
 * in eval the stored u, v are used as they are.
 */
export function spectralNormWeight(weightBar: Tensor, state: SpectralNormState, training: boolean): Tensor {
  const [out, rest] = matrixShape(weightBar.shape, 'spectralNormWeight');
  for (const [name, t, n] of [['u', state.u, out], ['v', state.v, rest]] as const) {
    t.assertAlive();
    if (t.rank !== 1 || t.size !== n) {
      throw new Error(`spectralNormWeight: ${name} must have shape [${n}] for weight_bar [${weightBar.shape.join(', ')}], got [${t.shape.join(', ')}]; create the state with spectralNormState(weightShape).`);
    }
  }
  const matrix = reshape(weightBar, [out, rest]);
  // The graph holds its own copies of u and v, never the state buffers: D runs on real and fake images before
  // one backward, and the second forward's update must not change the first forward's gradient.
  const v = training ? updated(state.v, () => matmul(reshape(state.u, [1, out]), matrix)) : contiguousCopy(state.v);
  // W̄v is needed twice: for the new u, and (with its gradient u vᵀ) for σ = uᵀ(W̄v), as PyTorch computes it.
  const product = matmul(matrix, reshape(v, [rest, 1]));
  const u = training ? updated(state.u, () => product) : contiguousCopy(state.u);
  const sigma = matmul(reshape(u, [1, out]), product);
  return div(weightBar, reshape(sigma, []));
}

/** normalize(direction()) as a vector, also written into the stored one; its temporaries die here. */
function updated(stored: Tensor, direction: () => Tensor): Tensor {
  return noGrad(() => tidy(() => normalizeInto(reshape(direction(), stored.shape), stored, EPS)));
}
