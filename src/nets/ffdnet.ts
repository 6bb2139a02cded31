// FFDNet for RGB (REFERENCE §8), the optional denoiser before XDoG: pixel-unshuffle to half resolution,
// three constant channels holding σ in front, a DnCNN body (conv + ReLU, conv + BN + ReLU ×(layers − 2),
// conv, no biases), pixel-shuffle back to the predicted noise; output clamp(x − noise, 0, 1).
// Names as published (`intermediate_dncnn.itermediate_dncnn.<i>.…`, the typo included); the published
// checkpoint adds `module.` (nn.DataParallel), which the importer strips.
import type { Tensor } from '../engine/tensor.js';
import type { Generator } from '../kernels/random.js';
import { clamp, concat, full, pixelShuffle, pixelUnshuffle, slice, sub } from '../ops/index.js';
import { checkImage } from './blocks.js';
import { BatchNorm2d, Conv2d, Layer, ReLU, Sequential } from './layers.js';
import { Module } from './module.js';

export interface FFDNetConfig {
  /** Feature channels of the body (published 96). */
  width: number;
  /** Conv layers of the body (published 12: the first, 10 with batch norm, the last). */
  layers: number;
}

export const FFDNET_RGB: FFDNetConfig = { width: 96, layers: 12 };

/** REFERENCE §7: σ = 25/255 by default. */
export const DEFAULT_NOISE_SIGMA = 25 / 255;

const IMAGE_CHANNELS = 3;

/** The DnCNN body; its only child is the Sequential the checkpoint names `itermediate_dncnn`. */
class IntermediateDnCNN extends Module {
  readonly body: Sequential;

  constructor({ width, layers }: FFDNetConfig, rng?: Generator) {
    super();
    const packed = IMAGE_CHANNELS * 4;
    const conv = (cin: number, cout: number) => new Conv2d(cin, cout, 3, { padding: 1, bias: false, rng });
    const stack: Layer[] = [conv(packed + IMAGE_CHANNELS, width), new ReLU()];
    for (let i = 0; i < layers - 2; i++) stack.push(conv(width, width), new BatchNorm2d(width), new ReLU());
    stack.push(conv(width, packed));
    this.body = this.registerModule('itermediate_dncnn', new Sequential(...stack));
  }
}

export class FFDNet extends Module {
  private readonly dncnn: IntermediateDnCNN;

  constructor(readonly config: FFDNetConfig = FFDNET_RGB, { rng }: { rng?: Generator } = {}) {
    super();
    if (!Number.isInteger(config.layers) || config.layers < 2) throw new Error(`FFDNet needs at least 2 conv layers, got ${config.layers}.`);
    this.dncnn = this.registerModule('intermediate_dncnn', new IntermediateDnCNN(config, rng));
  }

  /** The predicted noise of `x` [N, 3, H, W] in [0, 1] (H, W even) at noise level σ (in [0, 1] units). */
  predictNoise(x: Tensor, sigma: number): Tensor {
    checkImage('FFDNet', 'the image', x, IMAGE_CHANNELS, 2);
    const [n, , h, w] = x.shape;
    const noiseMap = full([n, IMAGE_CHANNELS, h / 2, w / 2], sigma);
    return pixelShuffle(this.dncnn.body.forward(concat([noiseMap, pixelUnshuffle(x, 2)], 1)), 2);
  }

  /**
   * The denoised image clamp(x − noise, 0, 1) of `x` [N, 3, H, W] in [0, 1]; an odd height or width is first
   * padded by repeating the last row or column, and cropped again after.
   */
  forward(x: Tensor, sigma = DEFAULT_NOISE_SIGMA): Tensor {
    checkImage('FFDNet', 'the image', x, IMAGE_CHANNELS, 1);
    const [n, c, h, w] = x.shape;
    let padded = x;
    if (h % 2) padded = concat([padded, slice(padded, [0, 0, h - 1, 0], [n, c, 1, -1])], 2);
    if (w % 2) padded = concat([padded, slice(padded, [0, 0, 0, w - 1], [n, c, -1, 1])], 3);
    const denoised = clamp(sub(padded, this.predictNoise(padded, sigma)), 0, 1);
    return padded === x ? denoised : slice(denoised, [0, 0, 0, 0], [n, c, h, w]);
  }
}
