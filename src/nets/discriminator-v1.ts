// The v1 discriminator (REFERENCE §4): unconditional, on the colour image alone; every conv spectrally
// normalised (the SE convs too), Xavier-uniform on weight_bar; global average pool and Linear(8·width → 1).
import type { Tensor } from '../engine/tensor.js';
import type { Generator } from '../kernels/random.js';
import { adaptiveAvgPool1x1, reshape } from '../ops/index.js';
import { checkImage, ResNeXtBottleneck } from './blocks.js';
import { Layer, LeakyReLU, Linear, Sequential, SpectralNorm } from './layers.js';
import { Module } from './module.js';

export interface DiscriminatorV1Config {
  /** ndf (published 64): stages at width, 2·, 4·, 8·width. */
  width: number;
  /** Of every block (published 8). */
  cardinality: number;
}

export const DISCRIMINATOR_V1: DiscriminatorV1Config = { width: 64, cardinality: 8 };

export class DiscriminatorV1 extends Module {
  readonly feed: Sequential;
  readonly out: Linear;

  constructor(readonly config: DiscriminatorV1Config = DISCRIMINATOR_V1, { rng }: { rng?: Generator } = {}) {
    super();
    const { width, cardinality } = config;
    const sn = (cin: number, cout: number, kernel: number, stride: number, padding: number, bias: boolean) =>
      new SpectralNorm(cin, cout, kernel, { stride, padding, bias, init: 'xavier', rng });
    const block = (channels: number, stride: 1 | 2) => new ResNeXtBottleneck(channels, { cardinality, stride, spectral: true, init: 'xavier', rng });
    const lrelu = () => new LeakyReLU(0.2);
    const layers: Layer[] = [sn(3, width, 3, 1, 1, true), lrelu(), sn(width, width, 3, 2, 0, true), lrelu()];
    // Indices 4…15: per stage two blocks (the second strided) and a 1×1 widening conv + LReLU. The last of these
    // has padding 1, as published: a 1×1 conv without bias then frames the map with one pixel of zeros.
    for (const [i, c] of [width, 2 * width, 4 * width].entries()) {
      layers.push(block(c, 1), block(c, 2), sn(c, 2 * c, 1, 1, i === 2 ? 1 : 0, false), lrelu());
    }
    layers.push(block(8 * width, 1), block(8 * width, 2), block(8 * width, 1), block(8 * width, 1));
    this.feed = this.registerModule('feed', new Sequential(...layers));
    this.out = this.registerModule('out', new Linear(8 * width, 1, { rng }));
  }

  /** One logit per image of `color` [N, 3, H, W] in [-1, 1]. Runs one power iteration per spectral norm. */
  forward(color: Tensor): Tensor {
    checkImage('DiscriminatorV1', 'the colour image', color, 3, 1);
    const pooled = adaptiveAvgPool1x1(this.feed.forward(color));
    return this.out.forward(reshape(pooled, [color.shape[0], pooled.shape[1]]));
  }
}
