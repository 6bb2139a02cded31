// Adam (Kingma & Ba; PyTorch's torch.optim.Adam semantics, no weight decay) with one fused kernel launch per
// parameter tensor (shaders/adam.wgsl). Moments live on the GPU as kept tensors, one pair per parameter,
// created at its first update; like PyTorch, each parameter counts its own steps, so one that had no gradient
// in some step gets the bias correction of the updates it actually received.
import source from '../../shaders/adam.wgsl';
import { engine, keep } from '../engine/engine.js';
import { Tensor } from '../engine/tensor.js';
import { contiguousCopy, fill } from '../kernels/elementwise.js';
import { grid1d, UniformWriter } from '../kernels/uniforms.js';

export interface AdamHyperparameters {
  lr: number;
  /** Decay rates of the first and second moment (PyTorch's default (0.9, 0.999); the GAN uses (0.5, 0.9)). */
  betas: readonly [number, number];
  eps: number;
}

export type AdamOptions = Pick<AdamHyperparameters, 'lr'> & Partial<AdamHyperparameters>;

/** The optimizer state of one parameter, as in PyTorch's state_dict: step count and both moments. */
export interface AdamParamState {
  step: number;
  expAvg: Tensor;
  expAvgSq: Tensor;
}

/** Hyperparameters and per-parameter state (PyTorch's param_groups and state, for one group). */
export interface AdamState extends AdamHyperparameters {
  /** One entry per parameter, in constructor order; null for a parameter that has not been updated yet. */
  params: (AdamParamState | null)[];
}

const WG = 256;
const kernel = { family: 'adam', source, entry: 'adam_step' };

const paramName = (t: Tensor, i: number) => `parameter ${i} [${t.shape.join(', ')}]`;

function checkHyperparameters({ lr, betas, eps }: AdamHyperparameters): void {
  if (!(lr >= 0) || !Number.isFinite(lr)) throw new Error(`Adam: lr must be a finite number ≥ 0, got ${lr}.`);
  betas.forEach((beta, i) => {
    if (!(beta >= 0 && beta < 1)) throw new Error(`Adam: betas[${i}] must be in [0, 1), got ${beta}.`);
  });
  if (!(eps >= 0)) throw new Error(`Adam: eps must be ≥ 0, got ${eps}.`);
}

export class Adam {
  private hyper: AdamHyperparameters;
  private readonly moments: (AdamParamState | null)[];

  constructor(
    readonly params: readonly Tensor[],
    { lr, betas = [0.9, 0.999], eps = 1e-8 }: AdamOptions,
  ) {
    this.hyper = { lr, betas: [betas[0], betas[1]], eps };
    checkHyperparameters(this.hyper);
    if (new Set(params).size !== params.length) throw new Error('Adam: a parameter appears more than once in the list.');
    params.forEach((param, i) => {
      param.assertAlive();
      if (!param.requiresGrad || param.node) {
        throw new Error(`Adam: ${paramName(param, i)} is not a leaf with requiresGrad; create parameters with { requiresGrad: true }.`);
      }
      // The kernel walks the parameter as one run of elements; a strided view would need a scatter.
      if (!param.isContiguous) {
        throw new Error(`Adam: ${paramName(param, i)} is a non-contiguous view (strides [${param.strides.join(', ')}]); optimise a contiguous tensor instead.`);
      }
    });
    this.moments = params.map(() => null);
  }

  get lr(): number {
    return this.hyper.lr;
  }

  /** Changes the learning rate from the next step on (schedules: G 1e-4 → 1e-5 at epoch 10, REFERENCE §6). */
  set lr(lr: number) {
    const next = { ...this.hyper, lr };
    checkHyperparameters(next);
    this.hyper = next;
  }

  get betas(): readonly [number, number] {
    return this.hyper.betas;
  }

  get eps(): number {
    return this.hyper.eps;
  }

  /** Updates every parameter that has a gradient, in place in its GPU buffer; parameters without one are skipped. */
  step(): void {
    const { lr, betas: [beta1, beta2], eps } = this.hyper;
    this.params.forEach((param, i) => {
      const grad = param.grad;
      if (!grad) return;
      param.assertAlive();
      grad.assertAlive();
      if (grad.shape.join() !== param.shape.join()) {
        throw new Error(`Adam: the gradient of ${paramName(param, i)} has shape [${grad.shape.join(', ')}].`);
      }
      if (!grad.isContiguous || grad.storage === param.storage) {
        throw new Error(`Adam: the gradient of ${paramName(param, i)} must be a contiguous tensor with its own buffer.`);
      }
      const state = (this.moments[i] ??= { step: 0, expAvg: keep(fill(param.shape, 0)), expAvgSq: keep(fill(param.shape, 0)) });
      state.step++;
      if (param.size === 0) return;
      // Bias corrections in float64 on the host, as PyTorch computes them in Python floats.
      const stepSize = lr / (1 - beta1 ** state.step);
      const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** state.step);
      const uniforms = new UniformWriter()
        .u32(param.size)
        .u32(param.offset)
        .u32(grad.offset)
        .u32(0)
        .f32(beta1)
        .f32(1 - beta1)
        .f32(beta2)
        .f32(1 - beta2)
        .f32(eps)
        .f32(stepSize)
        .f32(biasCorrection2Sqrt)
        .done();
      const buffers = [param.storage.buffer, grad.storage.buffer, state.expAvg.storage.buffer, state.expAvgSq.storage.buffer];
      engine().dispatch(kernel, uniforms, buffers, grid1d(param.size, WG));
    });
  }

  /** Drops every parameter's gradient (PyTorch's default set_to_none), freeing its buffer. */
  zeroGrad(): void {
    for (const param of this.params) {
      param.grad?.dispose();
      param.grad = null;
    }
  }

  /**
   * The state for a checkpoint. The tensors are the optimizer's own moment buffers, not copies: read them
   * (data()) before the next step() changes them, and do not dispose them.
   */
  state(): AdamState {
    return { ...this.hyper, params: this.moments.map((s) => s && { ...s }) };
  }

  /**
   * Restores hyperparameters and moments from state() or a checkpoint. The moments are copied, so the caller
   * keeps its tensors.
   */
  loadState(state: AdamState): void {
    const hyper: AdamHyperparameters = { lr: state.lr, betas: [state.betas[0], state.betas[1]], eps: state.eps };
    checkHyperparameters(hyper);
    if (state.params.length !== this.params.length) {
      throw new Error(`Adam.loadState: the state has ${state.params.length} parameters, this optimizer ${this.params.length}.`);
    }
    state.params.forEach((s, i) => {
      if (!s) return;
      const param = this.params[i];
      for (const [name, moment] of [['expAvg', s.expAvg], ['expAvgSq', s.expAvgSq]] as const) {
        if (moment.shape.join() !== param.shape.join()) {
          throw new Error(`Adam.loadState: ${name} of ${paramName(param, i)} has shape [${moment.shape.join(', ')}].`);
        }
      }
      if (!Number.isInteger(s.step) || s.step < 1) throw new Error(`Adam.loadState: step of ${paramName(param, i)} must be an integer ≥ 1, got ${s.step}.`);
    });
    // Copy everything before freeing the old moments: the state may be this optimizer's own.
    const loaded = state.params.map((s) => s && { step: s.step, expAvg: keep(contiguousCopy(s.expAvg)), expAvgSq: keep(contiguousCopy(s.expAvgSq)) });
    this.disposeMoments();
    loaded.forEach((s, i) => (this.moments[i] = s));
    this.hyper = hyper;
  }

  /** Frees the moments (the parameters and their gradients are the caller's). */
  dispose(): void {
    this.disposeMoments();
  }

  private disposeMoments(): void {
    this.moments.forEach((s, i) => {
      s?.expAvg.dispose();
      s?.expAvgSq.dispose();
      this.moments[i] = null;
    });
  }
}
