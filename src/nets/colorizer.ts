// Interactive colorization of one page (REFERENCE §7): the page is set once, then colorize() runs for every
// new set of hints. What depends on the page alone is computed at setPage() and kept — for v1 the extractor's
// features and feature_conv's output (≈15 of the ≈92 GMAC at 512², plus the whole extractor), for v2 the
// encoder's skips — so a rerun with new hints runs only the rest of the generator.
// Inference only: the networks are put in eval mode and run without gradients. After loading new weights,
// call setPage() again (the cache holds features of the old ones).
import { keep, tidy } from '../engine/engine.js';
import type { Tensor } from '../engine/tensor.js';
import { affine, concat, detach, mul, noGrad, zeros } from '../ops/index.js';
import { checkImage } from './blocks.js';
import type { SEResNeXt } from './extractor.js';
import type { GeneratorV1 } from './generator-v1.js';
import type { GeneratorV2 } from './generator-v2.js';

export interface Hints {
  /** Hint colours [N, 3, H, W] in [-1, 1]; only pixels under the mask count. */
  rgb: Tensor;
  /** [N, 1, H, W], 1 at hint pixels, 0 elsewhere. */
  mask: Tensor;
}

/** Keeps tensors made inside `fn` (and nothing else it made), without gradients. */
function keptResult<T extends Tensor | Tensor[]>(fn: () => T): T {
  const result = noGrad(() => tidy(fn));
  for (const t of Array.isArray(result) ? result : [result]) keep(t);
  return result;
}

function checkHints(network: string, hints: Hints, page: Tensor): void {
  const [n, , h, w] = page.shape;
  for (const [what, t, channels] of [['hint colours', hints.rgb, 3], ['hint mask', hints.mask, 1]] as const) {
    if (t.shape.join() !== [n, channels, h, w].join()) {
      throw new Error(`${network}: the ${what} must be [${n}, ${channels}, ${h}, ${w}] like the page, got [${t.shape.join(', ')}].`);
    }
  }
}

/** Channels 3–6 of the generator input: hint RGB·mask, then the mask (REFERENCE §2). */
const hintChannels = ({ rgb, mask }: Hints) => [mul(rgb, mask), mask];

/** The generator's tanh output as RGB in [0, 1]. */
const toUnit = (image: Tensor) => affine(image, 0.5, 0.5);

/**
 * v1: the extractor on the line art, the generator on line art, distance field and hints. A generator trained
 * without the extractor branch (the project's `localFeatures: none` presets) takes `extractor` null: its local
 * features are zeros, exactly as in training (src/train/trainer.ts), so the extractor's weights are not needed.
 */
export class ColorizerV1 {
  private page: { channels: Tensor; local: Tensor } | null = null;

  constructor(readonly generator: GeneratorV1, readonly extractor: SEResNeXt | null) {
    generator.eval();
    extractor?.eval();
  }

  /** Sets the page from its line art and distance field, [N, 1, H, W] in [0, 1] (H, W multiples of 16). */
  setPage(lineArt: Tensor, distanceField: Tensor): void {
    checkImage('ColorizerV1', 'the line art', lineArt, 1, 16);
    if (distanceField.shape.join() !== lineArt.shape.join()) {
      throw new Error(`ColorizerV1: the distance field [${distanceField.shape.join(', ')}] must have the line art's shape [${lineArt.shape.join(', ')}].`);
    }
    this.clearPage();
    this.page = {
      channels: keptResult(() => concat([lineArt, distanceField], 1)),
      local: keptResult(() => this.localFeatures(lineArt)),
    };
  }

  /** feature_conv's output for the page, [N, featureChannels, H/16, W/16]. */
  private localFeatures(lineArt: Tensor): Tensor {
    if (this.extractor) return this.generator.localFeatures(this.extractor.forward(lineArt));
    const [n, , h, w] = lineArt.shape;
    return zeros([n, this.generator.config.featureChannels, h / 16, w / 16]);
  }

  /** RGB [N, 3, H, W] in [0, 1] for the current page and these hints (no hints: all-zero rgb and mask). */
  colorize(hints: Hints): Tensor {
    if (!this.page) throw new Error('ColorizerV1: no page; call setPage(lineArt, distanceField) first.');
    const page = this.page;
    checkHints('ColorizerV1', hints, page.channels);
    return noGrad(() => tidy(() => toUnit(this.generator.synthesize(concat([page.channels, ...hintChannels(hints)], 1), page.local).image)));
  }

  /** Frees the cached page. */
  clearPage(): void {
    this.page?.channels.dispose();
    this.page?.local.dispose();
    this.page = null;
  }
}

/** v2: the generator alone, on the grey page and hints; its encoder's skips are the page cache. */
export class ColorizerV2 {
  private page: { grey: Tensor; encoded: Tensor[] } | null = null;

  constructor(readonly generator: GeneratorV2) {
    generator.eval();
  }

  /** Sets the page from its grey image [N, 1, H, W] in [0, 1] (H, W multiples of 8). */
  setPage(grey: Tensor): void {
    checkImage('ColorizerV2', 'the grey page', grey, 1, 8);
    this.clearPage();
    // A view of the caller's tensor shares its buffer, which stays alive while this view does.
    this.page = { grey: keep(detach(grey)), encoded: keptResult(() => this.generator.encode(grey)) };
  }

  /** RGB [N, 3, H, W] in [0, 1] for the current page and these hints. */
  colorize(hints: Hints): Tensor {
    if (!this.page) throw new Error('ColorizerV2: no page; call setPage(grey) first.');
    const page = this.page;
    checkHints('ColorizerV2', hints, page.grey);
    return noGrad(() => tidy(() => toUnit(this.generator.synthesize(concat([page.grey, ...hintChannels(hints)], 1), page.encoded).image)));
  }

  /** Frees the cached page. */
  clearPage(): void {
    this.page?.grey.dispose();
    for (const t of this.page?.encoded ?? []) t.dispose();
    this.page = null;
  }
}
