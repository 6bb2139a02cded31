// The perceptual-loss network (REFERENCE §6): torchvision's VGG16 `features[:9]`, up to relu2_2 (128 channels
// at H/2), on ImageNet-normalised (img + 1)/2. Names `features.0/2/5/7.{weight,bias}` as in torchvision's file,
// whose other tensors (deeper features, classifier) a non-strict load skips.
import type { Tensor } from '../engine/tensor.js';
import type { Generator } from '../kernels/random.js';
import { add, mul, tensor } from '../ops/index.js';
import { checkImage } from './blocks.js';
import { Conv2d, MaxPool2d, ReLU, Sequential } from './layers.js';
import { Module } from './module.js';

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

export class Vgg16Features extends Module {
  readonly features: Sequential;
  private readonly scale: Tensor;
  private readonly shift: Tensor;

  /** `width` is the first block's channels (published 64; the second block has twice as many). */
  constructor(readonly width = 64, { rng }: { rng?: Generator } = {}) {
    super();
    const conv = (cin: number, cout: number) => new Conv2d(cin, cout, 3, { padding: 1, rng });
    this.features = this.registerModule(
      'features',
      new Sequential(
        conv(3, width), new ReLU(), conv(width, width), new ReLU(), new MaxPool2d(2),
        conv(width, 2 * width), new ReLU(), conv(2 * width, 2 * width), new ReLU(),
      ),
    );
    // ((img + 1)/2 − mean)/std as one affine map per channel; derived constants, not checkpoint state.
    this.scale = this.registerBuffer('scale', tensor(IMAGENET_STD.map((s) => 0.5 / s), [1, 3, 1, 1]), { persistent: false });
    this.shift = this.registerBuffer('shift', tensor(IMAGENET_MEAN.map((m, c) => (0.5 - m) / IMAGENET_STD[c]), [1, 3, 1, 1]), { persistent: false });
    // Pretrained and never trained here: gradients flow through it to the generator, not into it.
    this.setRequiresGrad(false);
  }

  /** relu2_2 features [N, 2·width, H/2, W/2] of `image` [N, 3, H, W] in [-1, 1]. */
  forward(image: Tensor): Tensor {
    checkImage('Vgg16Features', 'the image', image, 3, 1);
    return this.features.forward(add(mul(image, this.scale), this.shift));
  }
}
