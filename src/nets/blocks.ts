// The building blocks the v1/v2 generators and the v1 discriminator share (REFERENCE §3, §4, §9): the
// ResNeXt bottleneck with SE, the decoder "tunnels", the encoder blocks `to0…to4` and the auxiliary decoder.
import type { Tensor } from '../engine/tensor.js';
import type { Generator } from '../kernels/random.js';
import { add, avgPool2d } from '../ops/index.js';
import {
  Conv2d, ConvTranspose2d, Layer, LeakyReLU, PixelShuffle, Sequential, SpectralNorm, SqueezeExcitation, Tanh, type WeightInit,
} from './layers.js';

const LEAKY = 0.2;
const lrelu = { activation: 'leakyRelu', slope: LEAKY } as const;

export interface BottleneckConfig {
  cardinality: number;
  dilation?: number;
  /** 1, or 2 for the discriminator's downsampling blocks (kernel 4, average-pooled shortcut). */
  stride?: 1 | 2;
  /** Spectral norm on every conv, the SE convs included (discriminator). */
  spectral?: boolean;
  init?: WeightInit;
  rng?: Generator;
}

/**
 * ResNeXt bottleneck, REFERENCE §3: 1×1 C→C/2, LReLU, grouped (2+stride)×(2+stride) conv, LReLU, 1×1 C/2→C,
 * SE, plus the identity (average-pooled when strided). No activation after the sum, no normalisation.
 */
export class ResNeXtBottleneck extends Layer {
  readonly convReduce: Conv2d | SpectralNorm;
  readonly convConv: Conv2d | SpectralNorm;
  readonly convExpand: Conv2d | SpectralNorm;
  readonly selayer: SqueezeExcitation;
  readonly stride: 1 | 2;

  constructor(readonly channels: number, config: BottleneckConfig) {
    super();
    const { cardinality, dilation = 1, stride = 1, spectral = false, init, rng } = config;
    const hidden = channels / 2;
    if (!Number.isInteger(hidden) || hidden % cardinality) {
      throw new Error(`ResNeXtBottleneck: the cardinality (${cardinality}) must divide half the channels (${channels}/2).`);
    }
    this.stride = stride;
    const Conv = spectral ? SpectralNorm : Conv2d;
    this.convReduce = this.registerModule('conv_reduce', new Conv(channels, hidden, 1, { bias: false, init, rng }));
    this.convConv = this.registerModule(
      'conv_conv',
      new Conv(hidden, hidden, 2 + stride, { stride, padding: dilation, dilation, groups: cardinality, bias: false, init, rng }),
    );
    this.convExpand = this.registerModule('conv_expand', new Conv(hidden, channels, 1, { bias: false, init, rng }));
    this.selayer = this.registerModule('selayer', new SqueezeExcitation(channels, { spectral, init, rng }));
  }

  forward(x: Tensor): Tensor {
    const reduced = this.convReduce.forward(x, lrelu);
    const grouped = this.convConv.forward(reduced, lrelu);
    const residual = this.selayer.forward(this.convExpand.forward(grouped));
    return add(this.stride === 2 ? avgPool2d(x, 2, 2) : x, residual);
  }
}

/** One decoder tunnel: its width, its blocks' cardinality, and each block's dilation (their count is the block count). */
export interface TunnelConfig {
  width: number;
  cardinality: number;
  dilations: readonly number[];
}

/**
 * A decoder tunnel, REFERENCE §3: conv_in 3×3 + LReLU, the bottlenecks at `width`, conv_out 3×3 to 2·width,
 * PixelShuffle(2), LReLU — so the output has width/2 channels at twice the resolution. Indices 0…5 as
 * published (`tunnel4.0.weight`, `tunnel4.2.<block>.…`, `tunnel4.3.weight`).
 */
export function tunnel(inChannels: number, { width, cardinality, dilations }: TunnelConfig, rng?: Generator): Sequential {
  const conv = (cin: number, cout: number) => new Conv2d(cin, cout, 3, { padding: 1, init: 'xavier', rng });
  const blocks = dilations.map((dilation) => new ResNeXtBottleneck(width, { cardinality, dilation, init: 'xavier', rng }));
  return new Sequential(conv(inChannels, width), new LeakyReLU(LEAKY), new Sequential(...blocks), conv(width, width * 2), new PixelShuffle(2), new LeakyReLU(LEAKY));
}

/** An encoder block `to<i>`: 3×3 conv (stride 1 for to0, else 2) + LReLU, 3×3 conv + LReLU. */
export function encoderBlock(inChannels: number, outChannels: number, stride: 1 | 2, rng?: Generator): Sequential {
  return new Sequential(
    new Conv2d(inChannels, outChannels, 3, { stride, padding: 1, init: 'xavier', rng }),
    new LeakyReLU(LEAKY),
    new Conv2d(outChannels, outChannels, 3, { padding: 1, init: 'xavier', rng }),
    new LeakyReLU(LEAKY),
  );
}

/**
 * The auxiliary ("guide") decoder `deconv_for_decoder`: three 3×3 transposed convs halving the channels, each
 * upsampling ×stride, then a 3×3 stride-1 one to RGB and tanh. v1 upsamples ×2 three times (H/8 → H); v2's
 * third is stride 1. Default init: the recipe's Xavier applies to Conv2d only.
 */
export function guideDecoder(inChannels: number, strides: readonly [1 | 2, 1 | 2, 1 | 2], rng?: Generator): Sequential {
  const up = (cin: number, cout: number, stride: 1 | 2) =>
    new ConvTranspose2d(cin, cout, 3, { stride, padding: 1, outputPadding: stride - 1, rng });
  const c = inChannels;
  return new Sequential(
    up(c, c / 2, strides[0]), new LeakyReLU(LEAKY),
    up(c / 2, c / 4, strides[1]), new LeakyReLU(LEAKY),
    up(c / 4, c / 8, strides[2]), new LeakyReLU(LEAKY),
    up(c / 8, 3, 1), new Tanh(),
  );
}

/**
 * Throws a readable error unless `t` is NCHW with the given channels and a spatial size divisible by
 * `multiple` (null channels: any).
 */
export function checkImage(network: string, what: string, t: Tensor, channels: number | null, multiple: number): void {
  const [, c, h, w] = t.shape;
  if (t.rank !== 4 || (channels !== null && c !== channels) || h % multiple || w % multiple || h === 0 || w === 0) {
    throw new Error(
      `${network}: ${what} must be [N, ${channels ?? 'C'}, H, W] with H and W non-zero multiples of ${multiple}, got [${t.shape.join(', ')}].`,
    );
  }
}
