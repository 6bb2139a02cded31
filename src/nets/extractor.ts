// The local-feature extractor (REFERENCE §5): SE-ResNeXt-50 (32×4d) on the line art, cut after layer2 for v1;
// the same network to layer3 without max pooling is the v2 generator's encoder (REFERENCE §9). And the v1
// generator's `feature_conv`, which brings the extractor's H/8 features to the H/16 of `to4`.
import type { Tensor } from '../engine/tensor.js';
import type { Generator } from '../kernels/random.js';
import { add, maxPool2d, relu } from '../ops/index.js';
import { BatchNorm2d, Conv2d, Layer, ReLU, Sequential, SqueezeExcitation } from './layers.js';

const thenRelu = { activation: 'relu', slope: 0 } as const;

/**
 * SE-ResNeXt bottleneck (names as published: conv1, bn1, conv2, bn2, conv3, bn3, selayer, downsample):
 * 1×1 → 2·planes, BN, ReLU; grouped 3×3 (stride s), BN, ReLU; 1×1 → 4·planes, BN; SE; plus the shortcut
 * (1×1 stride s + BN where the shape changes); ReLU.
 */
export class SEBottleneck extends Layer {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly selayer: SqueezeExcitation;
  readonly downsample: Sequential | null;

  constructor(inChannels: number, planes: number, cardinality: number, stride: 1 | 2, rng?: Generator) {
    super();
    const [mid, out] = [planes * 2, planes * 4];
    this.conv1 = this.registerModule('conv1', new Conv2d(inChannels, mid, 1, { bias: false, rng }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(mid));
    this.conv2 = this.registerModule('conv2', new Conv2d(mid, mid, 3, { stride, padding: 1, groups: cardinality, bias: false, rng }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(mid));
    this.conv3 = this.registerModule('conv3', new Conv2d(mid, out, 1, { bias: false, rng }));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(out));
    this.selayer = this.registerModule('selayer', new SqueezeExcitation(out, { rng }));
    this.downsample =
      stride !== 1 || inChannels !== out
        ? this.registerModule('downsample', new Sequential(new Conv2d(inChannels, out, 1, { stride, bias: false, rng }), new BatchNorm2d(out)))
        : null;
  }

  forward(x: Tensor): Tensor {
    const a = this.bn1.afterConv(this.conv1, x, thenRelu);
    const b = this.bn2.afterConv(this.conv2, a, thenRelu);
    const residual = this.selayer.forward(this.bn3.afterConv(this.conv3, b));
    return relu(add(this.downsample ? this.downsample.forward(x) : x, residual));
  }
}

export interface SEResNeXtConfig {
  inputChannels: number;
  /** Stem channels; stage i has planes width·2^i and outputs 4·planes (published: 64 → 256, 512, 1024). */
  width: number;
  cardinality: number;
  /** Blocks per stage; the first block of every stage after the first has stride 2. */
  stages: readonly number[];
  /** Max pooling after the stem (v1 extractor) or none (v2 encoder). */
  maxPool: boolean;
  rng?: Generator;
}

/** The published v1 extractor: 1-channel input, layer1 (3 blocks) and layer2 (4 blocks), 512 ch at H/8. */
export const EXTRACTOR_V1: SEResNeXtConfig = { inputChannels: 1, width: 64, cardinality: 32, stages: [3, 4], maxPool: true };

/**
 * SE-ResNeXt with stages `layer1`, `layer2`, … Batch norms use their running statistics (frozen; see
 * BatchNorm2d). `features()` returns the stem's output (after ReLU, before pooling) and each stage's output.
 */
export class SEResNeXt extends Layer {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly stages: Sequential[] = [];

  constructor(readonly config: SEResNeXtConfig) {
    super();
    const { inputChannels, width, cardinality, stages, rng } = config;
    this.conv1 = this.registerModule('conv1', new Conv2d(inputChannels, width, 7, { stride: 2, padding: 3, bias: false, rng }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(width));
    let channels = width;
    stages.forEach((blocks, s) => {
      const planes = width * 2 ** s;
      const stride = s === 0 ? 1 : 2;
      const layer = new Sequential(
        ...Array.from({ length: blocks }, (_, b) => new SEBottleneck(b === 0 ? channels : planes * 4, planes, cardinality, b === 0 ? stride : 1, rng)),
      );
      this.stages.push(this.registerModule(`layer${s + 1}`, layer));
      channels = planes * 4;
    });
  }

  /** Output channels of the last stage. */
  get outChannels(): number {
    return this.config.width * 2 ** (this.config.stages.length - 1) * 4;
  }

  features(x: Tensor): Tensor[] {
    const stem = this.bn1.afterConv(this.conv1, x, thenRelu);
    const out = [stem];
    let y = this.config.maxPool ? maxPool2d(stem, 3, 2, 1) : stem;
    for (const stage of this.stages) {
      y = stage.forward(y);
      out.push(y);
    }
    return out;
  }

  /** The last stage's output: for the v1 extractor 512 channels at H/8. */
  forward(x: Tensor): Tensor {
    return this.features(x).at(-1)!;
  }
}

/**
 * The v1 generator's `feature_conv` (names `network.0/2/4.weight`): 3×3 convs without bias, stride 1, 2, 1,
 * each followed by ReLU. Xavier-initialised with the rest of the generator (REFERENCE §6).
 */
export class FeatureConv extends Layer {
  readonly network: Sequential;

  constructor(inChannels: number, outChannels: number, rng?: Generator) {
    super();
    const conv = (cin: number, stride: number) => new Conv2d(cin, outChannels, 3, { stride, padding: 1, bias: false, init: 'xavier', rng });
    this.network = this.registerModule(
      'network',
      new Sequential(conv(inChannels, 1), new ReLU(), conv(outChannels, 2), new ReLU(), conv(outChannels, 1), new ReLU()),
    );
  }

  forward(x: Tensor): Tensor {
    return this.network.forward(x);
  }
}
