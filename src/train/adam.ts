// Adam (Kingma & Ba; PyTorch's torch.optim.Adam semantics, no weight decay) with one fused kernel launch per
// parameter tensor (shaders/adam.wgsl). Moments live on the GPU as kept tensors, one pair per parameter;
// like PyTorch, each parameter counts its own steps, so one that had no gradient in some step gets the bias
// correction of the updates it actually received.
//
// A step has a host half and a GPU half so that the GPU half can be recorded once and replayed
// (src/engine/recording.ts): prepare() uploads each parameter's step size for its next update (they change
// every step), update() dispatches the kernels, which read them from that buffer — and, given loss terms,
// leave everything untouched when one of them is NaN or ±Inf — and settle() counts the steps once the
// host knows whether the update was applied. step() does all three.
import shader from '../../shaders/adam.wgsl';
import { engine, keep } from '../engine/engine.js';
import { Tensor } from '../engine/tensor.js';
import { contiguousCopy, fill } from '../kernels/elementwise.js';
import { grid1d, shaderSource, sizeClass, uniformStruct } from '../kernels/uniforms.js';

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
const Params = uniformStruct('AdamParams', {
  /** Elements of the parameter. */
  count: 'u32',
  /** First element of the parameter and of the gradient in their buffers (views may start late). */
  param_offset: 'u32',
  grad_offset: 'u32',
  /** This parameter's [step_size, bc2_sqrt] in `schedule`. */
  schedule_offset: 'u32',
  check_offset: 'u32',
  check_count: 'u32',
  beta1: 'f32',
  one_minus_beta1: 'f32',
  beta2: 'f32',
  one_minus_beta2: 'f32',
  eps: 'f32',
});
const kernel = { family: 'adam', source: shaderSource(shader, Params), entry: 'adam_step' };

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
  /** Per parameter [step_size, bc2_sqrt] of its next update, written by prepare(). */
  private readonly schedule: Tensor;

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
    this.schedule = keep(fill([Math.max(2 * params.length, 1)], 0));
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
    this.prepare();
    this.settle(this.update(), true);
  }

  /** The host half before an update: creates missing moments and uploads every parameter's next step size. */
  prepare(): void {
    const { lr, betas: [beta1, beta2] } = this.hyper;
    const rows = new Float32Array(this.schedule.size);
    this.params.forEach((param, i) => {
      const state = (this.moments[i] ??= { step: 0, expAvg: keep(fill(param.shape, 0)), expAvgSq: keep(fill(param.shape, 0)) });
      // Bias corrections in float64 on the host, as PyTorch computes them in Python floats.
      const t = state.step + 1;
      rows[2 * i] = lr / (1 - beta1 ** t);
      rows[2 * i + 1] = Math.sqrt(1 - beta2 ** t);
    });
    engine().upload(this.schedule.storage.buffer, rows, this.schedule.offset * 4);
  }

  /**
   * The GPU half: one kernel per parameter with a gradient, with the step sizes of the last prepare(). With
   * `unlessNonFinite` (loss terms, a contiguous vector), the kernels change nothing when any of its values is
   * NaN or ±Inf: the skip is decided on the GPU, so a recorded update needs no readback before it. Returns the
   * indices of the parameters it updates, for settle() — kept with a recording, whose replays update the same.
   */
  update(unlessNonFinite?: Tensor): readonly number[] {
    const { betas: [beta1, beta2], eps } = this.hyper;
    const check = unlessNonFinite ?? null;
    if (check && (!check.isContiguous || check.size === 0 || check.size > 64)) {
      throw new Error(`Adam.update: the finiteness check takes a contiguous tensor of 1–64 values, got [${check.shape.join(', ')}].`);
    }
    const updated: number[] = [];
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
      const state = this.moments[i];
      if (!state) throw new Error('Adam.update: call prepare() first (it creates the moments and uploads the step sizes).');
      updated.push(i);
      if (param.size === 0) return;
      const uniforms = Params.pack({
        count: param.size,
        param_offset: param.offset,
        grad_offset: grad.offset,
        schedule_offset: 2 * i + this.schedule.offset,
        check_offset: check?.offset ?? 0,
        check_count: check?.size ?? 0,
        beta1,
        one_minus_beta1: 1 - beta1,
        beta2,
        one_minus_beta2: 1 - beta2,
        eps,
      });
      const buffers = [param.storage.buffer, grad.storage.buffer, state.expAvg.storage.buffer, state.expAvgSq.storage.buffer, this.schedule.storage.buffer, (check ?? this.schedule).storage.buffer];
      // Reads parameter, gradient and both moments, writes three of them back.
      engine().dispatch(kernel, uniforms, buffers, grid1d(param.size, WG), { flops: 12 * param.size, bytes: 28 * param.size, shape: sizeClass(param.size) });
    });
    return updated;
  }

  /** The host half after an update ran: an applied one counts a step for each of the parameters update() returned. */
  settle(updated: readonly number[], applied: boolean): void {
    if (applied) for (const i of updated) this.moments[i]!.step++;
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
    return { ...this.hyper, params: this.moments.map((s) => (s && s.step > 0 ? { ...s } : null)) };
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

  /** Frees the moments and step sizes (the parameters and their gradients are the caller's). */
  dispose(): void {
    this.disposeMoments();
    this.schedule.dispose();
  }

  private disposeMoments(): void {
    this.moments.forEach((s, i) => {
      s?.expAvg.dispose();
      s?.expAvgSq.dispose();
      this.moments[i] = null;
    });
  }
}
