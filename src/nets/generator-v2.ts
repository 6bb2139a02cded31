// The v2 generator (REFERENCE §9), inference only: 5 input channels (grey page, hint RGB·mask, mask), no
// XDoG or distance field; an SE-ResNeXt encoder (layer1…layer3, no max pooling) on the grey channel inside the
// generator supplies skips at H/2 (stem 64, layer1 256), H/4 (layer2 512) and H/8 (layer3 1024). The
// checkpoint also stores `to4`, `tunnel1` and the auxiliary decoder, which its forward never runs: they are
// built so the file loads strictly, and left unused here too.
import type { Tensor } from '../engine/tensor.js';
import type { Generator } from '../kernels/random.js';
import { concat, slice, tanh } from '../ops/index.js';
import { checkImage, encoderBlock, guideDecoder, tunnel, type TunnelConfig } from './blocks.js';
import { SEResNeXt, type SEResNeXtConfig } from './extractor.js';
import { Conv2d, LeakyReLU, Sequential } from './layers.js';
import { Module } from './module.js';
import type { GeneratorOutput } from './generator-v1.js';

export interface GeneratorV2Config {
  inputChannels: number;
  encoder: SEResNeXtConfig;
  /** Widths of to0…to4 (published 32, 64, 92, 128, 256). */
  encoderWidths: readonly [number, number, number, number, number];
  /** tunnel4, tunnel3, tunnel2, tunnel1 (published widths 512, 256, 128, 64). */
  tunnels: readonly [TunnelConfig, TunnelConfig, TunnelConfig, TunnelConfig];
}

const DILATED = [1, 1, 2, 2, 4, 4, 2, 1];

/** The published configuration (32,140,402 parameters). */
export const GENERATOR_V2: GeneratorV2Config = {
  inputChannels: 5,
  encoder: { inputChannels: 1, width: 64, cardinality: 32, stages: [3, 4, 6], maxPool: false },
  encoderWidths: [32, 64, 92, 128, 256],
  tunnels: [
    { width: 512, cardinality: 32, dilations: new Array<number>(20).fill(1) },
    { width: 256, cardinality: 32, dilations: DILATED },
    { width: 128, cardinality: 32, dilations: DILATED },
    { width: 64, cardinality: 16, dilations: [1, 2, 4, 2, 1] },
  ],
};

export class GeneratorV2 extends Module {
  readonly encoder: SEResNeXt;
  readonly encoderBlocks: Sequential[];
  readonly tunnels: Sequential[];
  readonly exit: Sequential;

  constructor(readonly config: GeneratorV2Config = GENERATOR_V2, { rng }: { rng?: Generator } = {}) {
    super();
    const { inputChannels, encoder, encoderWidths: e, tunnels: t } = config;
    if (encoder.stages.length !== 3 || encoder.maxPool) {
      throw new Error('GeneratorV2: the encoder must have three stages and no max pooling (skips at H/2, H/2, H/4, H/8).');
    }
    // Registration order is the published state-dict order.
    this.encoder = this.registerModule('encoder', new SEResNeXt({ ...encoder, rng }));
    this.encoderBlocks = e.map((width, i) => this.registerModule(`to${i}`, encoderBlock(i === 0 ? inputChannels : e[i - 1], width, i === 0 ? 1 : 2, rng)));
    this.registerModule('deconv_for_decoder', guideDecoder(t[0].width / 2, [2, 2, 1], rng));
    const w = encoder.width;
    // tunnel4: layer3 + to3 at H/8; tunnel3: + layer2 at H/4; tunnel2: + layer1 and the stem at H/2.
    const inputs = [16 * w + e[3], t[0].width / 2 + 8 * w, t[1].width / 2 + 4 * w + w, t[2].width / 2 + e[0]];
    this.tunnels = t.map((tc, i) => this.registerModule(`tunnel${4 - i}`, tunnel(inputs[i], tc, rng)));
    const exitIn = t[2].width / 2 + e[0];
    this.exit = this.registerModule(
      'exit',
      new Sequential(
        new Conv2d(exitIn, e[0], 3, { padding: 1, init: 'xavier', rng }),
        new LeakyReLU(0.2),
        new Conv2d(e[0], 3, 1, { init: 'xavier', rng }),
      ),
    );
  }

  /** The encoder's skips [stem, layer1, layer2, layer3] from the grey page [N, 1, H, W]; they depend on it alone. */
  encode(grey: Tensor): Tensor[] {
    checkImage('GeneratorV2', 'the grey page', grey, 1, 8);
    return this.encoder.features(grey);
  }

  /** RGB in [-1, 1] from the input [N, 5, H, W] (H, W multiples of 8). */
  forward(input: Tensor): GeneratorOutput {
    checkImage('GeneratorV2', 'the input', input, this.config.inputChannels, 8);
    const [n, , h, w] = input.shape;
    return this.synthesize(input, this.encode(slice(input, [0, 0, 0, 0], [n, 1, h, w])));
  }

  /** Everything after the encoder, given encode()'s skips for the input's grey channel. */
  synthesize(input: Tensor, encoded: readonly Tensor[]): GeneratorOutput {
    checkImage('GeneratorV2', 'the input', input, this.config.inputChannels, 8);
    const [stem, layer1, layer2, layer3] = encoded;
    const [n, , h, w] = input.shape;
    if (encoded.length !== 4 || layer3.shape.join() !== [n, this.encoder.outChannels, h / 8, w / 8].join()) {
      throw new Error(`GeneratorV2: the encoded skips do not belong to an input of [${input.shape.join(', ')}]; pass encode() of its grey channel.`);
    }
    const x0 = this.encoderBlocks[0].forward(input);
    const x3 = this.encoderBlocks[3].forward(this.encoderBlocks[2].forward(this.encoderBlocks[1].forward(x0)));
    const [t4, t3, t2] = this.tunnels;
    let y = t4.forward(concat([layer3, x3], 1));
    y = t3.forward(concat([y, layer2], 1));
    y = t2.forward(concat([y, layer1, stem], 1));
    return { image: tanh(this.exit.forward(concat([y, x0], 1))), guide: null };
  }
}
