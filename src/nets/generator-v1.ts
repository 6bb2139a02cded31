// The v1 generator (REFERENCE §3): encoder blocks to0…to4 on the 6-channel input, local features from the
// extractor through feature_conv, four decoder tunnels with skip connections, tanh exit; plus the auxiliary
// "guide" decoder on tunnel4's output, which only training uses.
import type { Tensor } from '../engine/tensor.js';
import type { Generator } from '../kernels/random.js';
import { add, concat, mul, sigmoid, slice, sub, tanh } from '../ops/index.js';
import { checkImage, encoderBlock, guideDecoder, tunnel, type TunnelConfig } from './blocks.js';
import { FeatureConv } from './extractor.js';
import { Conv2d, Sequential } from './layers.js';
import { Module, type StateDict } from './module.js';

export interface GeneratorV1Config {
  /** Line art, distance field, hint RGB·mask, mask (REFERENCE §2). */
  inputChannels: number;
  /** Widths of to0…to4. */
  encoderWidths: readonly [number, number, number, number, number];
  /** Channels of the extractor's features, kept by feature_conv. */
  featureChannels: number;
  /** tunnel4, tunnel3, tunnel2, tunnel1. */
  tunnels: readonly [TunnelConfig, TunnelConfig, TunnelConfig, TunnelConfig];
  /**
   * 'on' (the project's models, not the published ones): the exit has a fourth channel, a gate through which the
   * hint colour the input carries is passed straight to the image where the gate and the hint's confidence allow
   * (see GeneratorV1.synthesize). Absent or 'off': the published three-channel exit.
   */
  hintGate?: HintGate;
}

export type HintGate = 'off' | 'on';

export interface GeneratorV1Sizes {
  /** ngf: to1's width; to0 has width/2, to2…to4 2, 4, 8×, tunnels 8, 4, 2, 1× (published 64). */
  width?: number;
  /** The extractor's output channels (published 512). */
  featureChannels?: number;
  /** Block dilations per tunnel, tunnel4 first; their lengths are the block counts (published 20/8/8/5). */
  dilations?: readonly [readonly number[], readonly number[], readonly number[], readonly number[]];
  /** Cardinality per tunnel, tunnel4 first (published 32/32/32/16). */
  cardinality?: readonly [number, number, number, number];
  /** The hint gate on the exit (GeneratorV1Config.hintGate; published: off). */
  hintGate?: HintGate;
}

const DILATED = [1, 1, 2, 2, 4, 4, 2, 1];

/** A v1 configuration from a base width and block layout; with no arguments, the published one. */
export function generatorV1Config({
  width = 64,
  featureChannels = 512,
  dilations = [new Array<number>(20).fill(1), DILATED, DILATED, [1, 2, 4, 2, 1]],
  cardinality = [32, 32, 32, 16],
  hintGate = 'off',
}: GeneratorV1Sizes = {}): GeneratorV1Config {
  const tunnelAt = (i: number): TunnelConfig => ({ width: (8 * width) / 2 ** i, cardinality: cardinality[i], dilations: dilations[i] });
  return {
    inputChannels: 6,
    encoderWidths: [width / 2, width, 2 * width, 4 * width, 8 * width],
    featureChannels,
    tunnels: [tunnelAt(0), tunnelAt(1), tunnelAt(2), tunnelAt(3)],
    ...(hintGate === 'on' ? { hintGate } : {}),
  };
}

/** The published configuration (code's block counts 20/8/8/5; 31,808,154 parameters). */
export const GENERATOR_V1: GeneratorV1Config = generatorV1Config();

/**
 * Bias of the gate channel that graftHintGate adds: sigmoid(4) ≈ 0.98, so the grafted model passes the hint fill
 * almost unchanged where its confidence is 1 and stays the old model where no hint reaches (confidence 0).
 */
export const GRAFTED_GATE_BIAS = 4;

/**
 * An ungated generator's state dict with the hint gate added: the exit gains a fourth channel with zero
 * weights and bias GRAFTED_GATE_BIAS; every other tensor is the same object. Training from it (`npm run train
 * -- --from CKPT --generator-hint-gate on`) starts from a model that already colours without hints and follows
 * the hint fill wherever it is confident, instead of learning both from scratch.
 */
export function graftHintGate(state: StateDict): StateDict {
  const weight = state.get('exit.weight');
  const bias = state.get('exit.bias');
  if (!weight || !bias || weight.shape.length !== 4 || weight.shape[0] !== 3 || bias.shape.join() !== '3') {
    const shape = weight ? `[${weight.shape.join(', ')}]` : 'missing';
    throw new Error(`graftHintGate takes an ungated generator (exit.weight [3, C, 3, 3]); its exit.weight is ${shape}.`);
  }
  const [, c, kh, kw] = weight.shape;
  const gateWeight = new Float32Array(4 * c * kh * kw);
  gateWeight.set(weight.data); // output channel is the outer dimension: the gate's row stays zero
  const out = new Map(state);
  out.set('exit.weight', { shape: [4, c, kh, kw], data: gateWeight });
  out.set('exit.bias', { shape: [4], data: Float32Array.from([...bias.data, GRAFTED_GATE_BIAS]) });
  return out;
}

export interface GeneratorOutput {
  /** RGB in [-1, 1] at the input's resolution. */
  image: Tensor;
  /** The auxiliary decoder's RGB in [-1, 1], in training mode only. */
  guide: Tensor | null;
  /** With the hint gate: the network's own RGB in [-1, 1] before the gate mixes in the hint (the image without hints). */
  painted?: Tensor;
  /** With the hint gate: its logit [N, 1, H, W], whose sigmoid is how far the network trusts the hint fill at a pixel. */
  gate?: Tensor;
}

export class GeneratorV1 extends Module {
  readonly featureConv: FeatureConv;
  readonly encoderBlocks: Sequential[];
  readonly guideDecoder: Sequential;
  /** tunnel4, tunnel3, tunnel2, tunnel1. */
  readonly tunnels: Sequential[];
  readonly exit: Conv2d;

  constructor(readonly config: GeneratorV1Config = GENERATOR_V1, { rng }: { rng?: Generator } = {}) {
    super();
    const { inputChannels, encoderWidths: e, featureChannels, tunnels: t } = config;
    // Registration order is the published state-dict order.
    this.featureConv = this.registerModule('feature_conv', new FeatureConv(featureChannels, featureChannels, rng));
    this.encoderBlocks = e.map((width, i) => this.registerModule(`to${i}`, encoderBlock(i === 0 ? inputChannels : e[i - 1], width, i === 0 ? 1 : 2, rng)));
    this.guideDecoder = this.registerModule('deconv_for_decoder', guideDecoder(t[0].width / 2, [2, 2, 2], rng));
    // Each tunnel reads the previous tunnel's output (width/2) beside an encoder skip at the same resolution.
    const inputs = [e[4] + featureChannels, t[0].width / 2 + e[3], t[1].width / 2 + e[2], t[2].width / 2 + e[1]];
    this.tunnels = t.map((tc, i) => this.registerModule(`tunnel${4 - i}`, tunnel(inputs[i], tc, rng)));
    const exitChannels = config.hintGate === 'on' ? 4 : 3;
    this.exit = this.registerModule('exit', new Conv2d(t[3].width / 2 + e[0], exitChannels, 3, { padding: 1, init: 'xavier', rng }));
  }

  /** feature_conv on the extractor's output [N, featureChannels, H/8, W/8] → [N, featureChannels, H/16, W/16]. */
  localFeatures(features: Tensor): Tensor {
    checkImage('GeneratorV1', 'the extractor features', features, this.config.featureChannels, 2);
    return this.featureConv.forward(features);
  }

  /** The generator on its input [N, 6, H, W] (H, W multiples of 16) and the extractor's features at H/8. */
  forward(input: Tensor, features: Tensor): GeneratorOutput {
    checkImage('GeneratorV1', 'the input', input, this.config.inputChannels, 16);
    return this.synthesize(input, this.localFeatures(features));
  }

  /** Everything after feature_conv, given its output `local` [N, featureChannels, H/16, W/16]. */
  synthesize(input: Tensor, local: Tensor): GeneratorOutput {
    checkImage('GeneratorV1', 'the input', input, this.config.inputChannels, 16);
    const [n, , h, w] = input.shape;
    if (local.shape.join() !== [n, this.config.featureChannels, h / 16, w / 16].join()) {
      throw new Error(
        `GeneratorV1: local features must be [${n}, ${this.config.featureChannels}, ${h / 16}, ${w / 16}] for an input of ${h}×${w}, got [${local.shape.join(', ')}].`,
      );
    }
    const skips: Tensor[] = [];
    let x = input;
    for (const block of this.encoderBlocks) skips.push((x = block.forward(x)));
    const [t4, t3, t2, t1] = this.tunnels;
    const deepest = t4.forward(concat([skips[4], local], 1));
    let y = t3.forward(concat([deepest, skips[3]], 1));
    y = t2.forward(concat([y, skips[2]], 1));
    y = t1.forward(concat([y, skips[1]], 1));
    const exit = this.exit.forward(concat([y, skips[0]], 1));
    const guide = this.training ? this.guideDecoder.forward(deepest) : null;
    if (this.config.hintGate !== 'on') return { image: tanh(exit), guide };
    // The gated exit: image = painted + a·(hint − painted), a = sigmoid(gate)·confidence, where the input's hint
    // channels carry a colour in [−1, 1] (2…4) and its confidence in [0, 1] (5; 0 where no hint reaches). Where
    // the network trusts the hint fill it passes it through exactly; where it does not (paper the fill leaked
    // into, shading) or there is no hint, the image is its own.
    const painted = tanh(slice(exit, [0, 0, 0, 0], [n, 3, h, w]));
    const gate = slice(exit, [0, 3, 0, 0], [n, 1, h, w]);
    const a = mul(sigmoid(gate), slice(input, [0, 5, 0, 0], [n, 1, h, w]));
    const hint = slice(input, [0, 2, 0, 0], [n, 3, h, w]);
    return { image: add(painted, mul(a, sub(hint, painted))), guide, painted, gate };
  }
}
