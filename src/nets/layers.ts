// Layers with PyTorch's parameter names and layouts, so the published checkpoints load unchanged
// (names and shapes: ../shared/reference/state-dicts.txt). Convolutions take the activation that follows them
// as an epilogue of the same kernel; Sequential finds those pairs, so a [Conv2d, LeakyReLU] pair costs one
// pass over the output while its state-dict indices stay those of PyTorch (`to0.0.weight`, `to0.2.weight`).
import { isGradEnabled } from '../autograd/tape.js';
import { tidy } from '../engine/engine.js';
import type { Tensor } from '../engine/tensor.js';
import type { Epilogue } from '../kernels/conv.js';
import type { Generator } from '../kernels/random.js';
import {
  add, batchNormInference, conv2d, convTranspose2d, div, full, leakyRelu, linear, maxPool2d, mul, neg, pixelShuffle, relu,
  reshape, spectralNormState, spectralNormWeight, sqrt, squeezeExcitation, sub, tanh, zeros,
} from '../ops/index.js';
import { defaultBiasInit, defaultWeightInit, xavierUniform } from './init.js';
import { Module } from './module.js';

export type { Epilogue };

/** How a conv weight is first drawn: PyTorch's reset_parameters, or Xavier-uniform (REFERENCE §6). */
export type WeightInit = 'default' | 'xavier';

/** A module with one input and one output. */
export abstract class Layer extends Module {
  abstract forward(x: Tensor): Tensor;
}

/** A layer whose kernel can apply the activation that follows it (see Sequential). */
export abstract class ConvLayer extends Layer {
  abstract override forward(x: Tensor, epilogue?: Epilogue): Tensor;
}

export interface ConvConfig {
  stride?: number;
  padding?: number;
  dilation?: number;
  groups?: number;
  /** Default true. */
  bias?: boolean;
  /** Default 'default'. */
  init?: WeightInit;
  /** The random stream the initial weights come from (default: the engine's default generator). */
  rng?: Generator;
}

/** The weight and bias a convolution uses in this forward (what the squeeze-excitation op consumes). */
export interface ConvWeights {
  kernelWeight(): Tensor;
  readonly bias: Tensor | null;
}

function checkChannels(layer: string, inChannels: number, outChannels: number, groups: number): void {
  const ok = [inChannels, outChannels, groups].every((n) => Number.isInteger(n) && n >= 1);
  if (!ok || inChannels % groups || outChannels % groups) {
    throw new Error(`${layer}: groups (${groups}) must divide both the input (${inChannels}) and output (${outChannels}) channels, all integers ≥ 1.`);
  }
}

function initialWeight(shape: number[], config: ConvConfig): Tensor {
  const options = { generator: config.rng };
  return config.init === 'xavier' ? xavierUniform(shape, 1, options) : defaultWeightInit(shape, options);
}

const geometryOf = (c: ConvConfig) => ({ stride: c.stride ?? 1, padding: c.padding ?? 0, dilation: c.dilation ?? 1, groups: c.groups ?? 1 });

/** nn.Conv2d: weight [out, in/groups, k, k], bias [out]. */
export class Conv2d extends ConvLayer implements ConvWeights {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly geometry: ReturnType<typeof geometryOf>;

  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number, config: ConvConfig = {}) {
    super();
    this.geometry = geometryOf(config);
    checkChannels('Conv2d', inChannels, outChannels, this.geometry.groups);
    const shape = [outChannels, inChannels / this.geometry.groups, kernelSize, kernelSize];
    this.weight = this.registerParameter('weight', initialWeight(shape, config));
    this.bias = config.bias === false ? null : this.registerParameter('bias', defaultBiasInit(outChannels, shape, { generator: config.rng }));
  }

  kernelWeight(): Tensor {
    return this.weight;
  }

  forward(x: Tensor, epilogue?: Epilogue): Tensor {
    return conv2d(x, this.weight, this.bias, { ...this.geometry, ...epilogue });
  }
}

/** nn.ConvTranspose2d: weight [in, out/groups, k, k], bias [out]. */
export class ConvTranspose2d extends ConvLayer {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  private readonly geometry: ReturnType<typeof geometryOf>;
  private readonly outputPadding: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    config: ConvConfig & { outputPadding?: number } = {},
  ) {
    super();
    if (config.init === 'xavier') throw new Error('ConvTranspose2d keeps PyTorch\'s default init (the recipe applies Xavier to Conv2d only, REFERENCE §6).');
    this.geometry = geometryOf(config);
    checkChannels('ConvTranspose2d', inChannels, outChannels, this.geometry.groups);
    const shape = [inChannels, outChannels / this.geometry.groups, kernelSize, kernelSize];
    this.outputPadding = config.outputPadding ?? 0;
    this.weight = this.registerParameter('weight', defaultWeightInit(shape, { generator: config.rng }));
    this.bias = config.bias === false ? null : this.registerParameter('bias', defaultBiasInit(outChannels, shape, { generator: config.rng }));
  }

  forward(x: Tensor, epilogue?: Epilogue): Tensor {
    return convTranspose2d(x, this.weight, this.bias, { ...this.geometry, outputPadding: this.outputPadding, ...epilogue });
  }
}

/**
 * The conv inside the published discriminator's spectral-norm wrapper, which deleted the conv's `weight` and
 * registered `weight_u`, `weight_v`, `weight_bar` after `bias` — the order its checkpoint lists them in.
 * W = W̄/σ with one power iteration per forward (REFERENCE §4, src/ops/spectral-norm.ts).
 */
export class SpectralConv2d extends Module implements ConvWeights {
  readonly bias: Tensor | null;
  readonly weightU: Tensor;
  readonly weightV: Tensor;
  readonly weightBar: Tensor;
  private readonly geometry: ReturnType<typeof geometryOf>;

  constructor(inChannels: number, outChannels: number, kernelSize: number, config: ConvConfig = {}) {
    super();
    this.geometry = geometryOf(config);
    checkChannels('SpectralNorm(Conv2d)', inChannels, outChannels, this.geometry.groups);
    const shape = [outChannels, inChannels / this.geometry.groups, kernelSize, kernelSize];
    this.bias = config.bias === false ? null : this.registerParameter('bias', defaultBiasInit(outChannels, shape, { generator: config.rng }));
    const state = spectralNormState(shape, config.rng);
    this.weightU = this.registerBuffer('weight_u', state.u);
    this.weightV = this.registerBuffer('weight_v', state.v);
    this.weightBar = this.registerParameter('weight_bar', initialWeight(shape, config));
  }

  /**
   * W̄/σ after one power iteration. The published wrapper iterates in every forward, eval included, and so does
   * this one: the discriminator only ever runs as its training recipe runs it.
   */
  kernelWeight(): Tensor {
    return spectralNormWeight(this.weightBar, { u: this.weightU, v: this.weightV }, true);
  }

  forward(x: Tensor, epilogue?: Epilogue): Tensor {
    return conv2d(x, this.kernelWeight(), this.bias, { ...this.geometry, ...epilogue });
  }
}

/** SpectralNorm(nn.Conv2d(...)) as the published discriminator builds it: names `<layer>.module.weight_bar` etc. */
export class SpectralNorm extends ConvLayer implements ConvWeights {
  readonly module: SpectralConv2d;

  constructor(inChannels: number, outChannels: number, kernelSize: number, config: ConvConfig = {}) {
    super();
    this.module = this.registerModule('module', new SpectralConv2d(inChannels, outChannels, kernelSize, config));
  }

  get bias(): Tensor | null {
    return this.module.bias;
  }

  kernelWeight(): Tensor {
    return this.module.kernelWeight();
  }

  forward(x: Tensor, epilogue?: Epilogue): Tensor {
    return this.module.forward(x, epilogue);
  }
}

/** nn.Linear: weight [out, in], bias [out], PyTorch's default init. */
export class Linear extends Layer {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, { bias = true, rng }: { bias?: boolean; rng?: Generator } = {}) {
    super();
    const shape = [outFeatures, inFeatures];
    this.weight = this.registerParameter('weight', defaultWeightInit(shape, { generator: rng }));
    this.bias = bias ? this.registerParameter('bias', defaultBiasInit(outFeatures, shape, { generator: rng })) : null;
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

/**
 * nn.BatchNorm2d with frozen statistics: it normalises with running_mean/running_var in train and eval mode
 * alike. Every batch norm here belongs to a pretrained network that is never trained with batch statistics
 * (the v1 extractor, FFDNet, the v2 encoder). `num_batches_tracked` (an int64 counter in PyTorch) is kept as
 * float so checkpoints round-trip.
 */
export class BatchNorm2d extends Layer {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;

  constructor(readonly channels: number, readonly eps = 1e-5) {
    super();
    this.weight = this.registerParameter('weight', full([channels], 1));
    this.bias = this.registerParameter('bias', zeros([channels]));
    this.runningMean = this.registerBuffer('running_mean', zeros([channels]));
    this.runningVar = this.registerBuffer('running_var', full([channels], 1));
    this.registerBuffer('num_batches_tracked', zeros([]));
  }

  forward(x: Tensor): Tensor {
    return batchNormInference(x, this.runningMean, this.runningVar, this.weight, this.bias, this.eps);
  }

  /**
   * bn(conv(x)) as one convolution, its activation in the epilogue: W' = W·s, b' = (b − mean)·s + β with
   * s = γ/√(var + eps). The fold costs a pass over the C-element statistics and the weight instead of two
   * passes over the activation, and stays differentiable.
   */
  afterConv(conv: Conv2d, x: Tensor, epilogue?: Epilogue): Tensor {
    if (conv.outChannels !== this.channels) {
      throw new Error(`BatchNorm2d(${this.channels}) cannot follow a conv with ${conv.outChannels} output channels.`);
    }
    const scale = div(this.weight, sqrt(add(this.runningVar, this.eps)));
    const weight = mul(conv.weight, reshape(scale, [this.channels, 1, 1, 1]));
    const centred = conv.bias ? sub(conv.bias, this.runningMean) : neg(this.runningMean);
    return conv2d(x, weight, add(mul(centred, scale), this.bias), { ...conv.geometry, ...epilogue });
  }
}

/** A parameter-free activation; `epilogue` is how a preceding conv applies it in its own kernel. */
export abstract class Activation extends Layer {
  abstract readonly epilogue: Epilogue | null;
}

export class ReLU extends Activation {
  readonly epilogue: Epilogue = { activation: 'relu', slope: 0 };
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

export class LeakyReLU extends Activation {
  readonly epilogue: Epilogue;
  constructor(readonly slope = 0.2) {
    super();
    this.epilogue = { activation: 'leakyRelu', slope };
  }
  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.slope);
  }
}

export class Tanh extends Activation {
  readonly epilogue = null;
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

export class PixelShuffle extends Layer {
  constructor(readonly factor: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    return pixelShuffle(x, this.factor);
  }
}

export class MaxPool2d extends Layer {
  constructor(readonly kernel: number, readonly stride = kernel, readonly padding = 0) {
    super();
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernel, this.stride, this.padding);
  }
}

/** nn.Sequential: children named "0", "1", …; parameter-free layers hold their indices as in PyTorch. */
export class Sequential extends Layer {
  readonly layers: readonly Layer[];

  constructor(...layers: Layer[]) {
    super();
    this.layers = layers;
    layers.forEach((layer, i) => this.registerModule(String(i), layer));
  }

  /**
   * Runs the layers in order, fusing what PyTorch runs as separate passes: a conv takes the activation after
   * it (also across a pixel shuffle, a pure permutation that commutes with it) and a frozen batch norm after it.
   */
  forward(x: Tensor): Tensor {
    // In inference nothing holds on to intermediates, so each is freed as soon as the next exists: the peak is
    // one layer's working set instead of every activation of the network. With gradients the tape needs them.
    const lean = !isGradEnabled();
    let y = x;
    for (let i = 0; i < this.layers.length; ) {
      const input = y;
      const [out, used] = lean ? tidy(() => this.step(i, input)) : this.step(i, input);
      if (lean && input !== x) input.dispose();
      y = out;
      i += used;
    }
    return y;
  }

  /** Runs layer i (with what it fuses); returns the output and how many layers it consumed. */
  private step(i: number, y: Tensor): [Tensor, number] {
    const layers = this.layers;
    const epilogueAt = (j: number) => (layers[j] instanceof Activation ? (layers[j] as Activation).epilogue ?? undefined : undefined);
    const layer = layers[i];
    const next = layers[i + 1];
    if (layer instanceof Conv2d && next instanceof BatchNorm2d) {
      const epilogue = epilogueAt(i + 2);
      return [next.afterConv(layer, y, epilogue), epilogue ? 3 : 2];
    }
    if (layer instanceof ConvLayer && epilogueAt(i + 1)) return [layer.forward(y, epilogueAt(i + 1)), 2];
    if (layer instanceof ConvLayer && next instanceof PixelShuffle && epilogueAt(i + 2)) {
      return [next.forward(layer.forward(y, epilogueAt(i + 2))), 3];
    }
    return [layer.forward(y), 1];
  }
}

/** The SE block's squeeze ratio, REFERENCE §3. */
const SE_RATIO = 16;

/**
 * Squeeze-excitation with the published names `conv1` (C → C/16) and `conv2` (C/16 → C), both 1×1 with bias;
 * spectrally normalised in the discriminator (`selayer.conv1.module.weight_bar`, …).
 */
export class SqueezeExcitation extends Layer {
  readonly conv1: Conv2d | SpectralNorm;
  readonly conv2: Conv2d | SpectralNorm;

  constructor(readonly channels: number, { spectral = false, init, rng }: { spectral?: boolean; init?: WeightInit; rng?: Generator } = {}) {
    super();
    const hidden = Math.floor(channels / SE_RATIO);
    if (hidden < 1) throw new Error(`SqueezeExcitation needs at least ${SE_RATIO} channels (ratio ${SE_RATIO}), got ${channels}.`);
    const Conv = spectral ? SpectralNorm : Conv2d;
    this.conv1 = this.registerModule('conv1', new Conv(channels, hidden, 1, { init, rng }));
    this.conv2 = this.registerModule('conv2', new Conv(hidden, channels, 1, { init, rng }));
  }

  forward(x: Tensor): Tensor {
    const part = (c: ConvWeights) => ({ weight: c.kernelWeight(), bias: c.bias! });
    return squeezeExcitation(x, { conv1: part(this.conv1), conv2: part(this.conv2) });
  }
}
