// What each kind of update minimises (REFERENCE §6), as named tables of loss terms; the trainer (trainer.ts) runs
// them. Every objective returns its terms by name: `loss` first (the weighted sum the optimizer minimises), then
// each term unweighted, then `grad_sum` (the sum of every gradient element of the network being updated: NaN or
// ±Inf when any element is), so the log, the skip check and the readback all read the same table.
//   D:          BCE(D(y), realLabel) + BCE(D(G(x).detach()), 0)
//   G:          l1·(L1(G(x), y) + guide·L1(guide(x), y)) + adversarial·BCE(D(G(x)), 1) + white·white penalty
//               + perceptual·MSE(VGG(G(x)), VGG(y)) when VGG weights are loaded
//               + hint·hintL1(G(x), y, hint confidence) when its weight is set (this project's addition)
//               + l1·painted·L1(painted(x), y) with the hint gate, when its weight is set: the network's own colour
//                 before the gate, which the gate shields from the L1 wherever a hint reaches (this project's)
//               + gate·gateBce(gate logits, hint fill, y, confidence) with the hint gate, when its weight is set:
//                 whether the fill is the true colour, taught to the gate directly (this project's)
//   G on pages: adversarial·BCE(D(G(page line art, no hints)), 1)  (fine-tuning: pages have no colour target)
import { tidy } from '../engine/engine.js';
import type { Tensor } from '../engine/tensor.js';
import { sumEach } from '../kernels/reduce.js';
import type { DiscriminatorV1 } from '../nets/discriminator-v1.js';
import type { SEResNeXt } from '../nets/extractor.js';
import type { GeneratorOutput, GeneratorV1 } from '../nets/generator-v1.js';
import type { Module } from '../nets/module.js';
import type { Vgg16Features } from '../nets/vgg16.js';
import { add, backward, concat, contiguous, mul, noGrad, reshape, slice, sum, zeros } from '../ops/index.js';
import type { TrainConfig } from './config.js';
import { bceWithLogits, gateBce, hintL1, l1Loss, mseLoss, whitePenalty } from './losses.js';

/** Loss terms by name, in the order they are logged: `loss` first, `grad_sum` last. */
export type LossTerms = Record<string, Tensor>;

/** The networks and settings the objectives read. */
export interface Networks {
  generator: GeneratorV1;
  discriminator: DiscriminatorV1;
  /** The frozen extractor when config.localFeatures is `extractor`. */
  extractor: SEResNeXt | null;
  /** VGG16 features when the perceptual term is on. */
  vgg: Vgg16Features | null;
  config: TrainConfig;
}

/** Runs `fn` with `module`'s parameters recording no gradients. */
export function frozen<T>(module: Module, fn: () => T): T {
  module.setRequiresGrad(false);
  try {
    return fn();
  } finally {
    module.setRequiresGrad(true);
  }
}

/** Runs `fn` with `module` in eval mode (for the generator: no guide decoder), back in training mode after. */
export function evaluating<T>(module: Module, fn: () => T): T {
  module.eval();
  try {
    return fn();
  } finally {
    module.train();
  }
}

/** The generator input [N, 6, H, W] with its four hint channels zeroed (no hints). */
export function withoutHints(input: Tensor): Tensor {
  const [n, , h, w] = input.shape;
  return concat([slice(input, [0, 0, 0, 0], [n, 2, h, w]), zeros([n, 4, h, w])], 1);
}

/** The generator on an input: local features from the frozen extractor (on the line art), or zeros. */
export function generate(nets: Networks, input: Tensor): GeneratorOutput {
  const [n, , h, w] = input.shape;
  const { extractor, generator } = nets;
  if (extractor) return generator.forward(input, noGrad(() => extractor.forward(contiguous(slice(input, [0, 0, 0, 0], [n, 1, h, w])))));
  return generator.synthesize(input, zeros([n, nets.config.generator.featureChannels, h / 16, w / 16]));
}

/** Σ of every gradient element of `module`'s parameters as [1]. */
function gradientSum(module: Module): Tensor {
  const grads = module.parameters().flatMap((p) => (p.grad ? [p.grad] : []));
  return grads.length ? reshape(sum(sumEach(grads)), [1]) : zeros([1]);
}

/** Σ weight·term over a table of terms. */
function weighted(terms: LossTerms, weights: Record<string, number>): Tensor {
  return Object.entries(terms)
    .map(([name, term]) => mul(term, weights[name]))
    .reduce((total, term) => add(total, term));
}

/**
 * The discriminator's terms and gradients: real = `target`, fake = G on `input` (with its hints, or with none
 * for the fine-tuning pages). The fake images need no graph: G.detach() in the recipe.
 */
export function discriminatorObjective(nets: Networks, input: Tensor, target: Tensor, hints: boolean): LossTerms {
  return tidy(() => {
    const fake = evaluating(nets.generator, () => noGrad(() => generate(nets, hints ? input : withoutHints(input)).image));
    const real = bceWithLogits(nets.discriminator.forward(target), nets.config.loss.realLabel);
    const fakeLoss = bceWithLogits(nets.discriminator.forward(fake), 0);
    const loss = add(real, fakeLoss);
    backward(loss);
    return { loss, real, fake: fakeLoss, grad_sum: gradientSum(nets.discriminator) };
  });
}

/** The generator's terms and gradients on a hinted batch; D's parameters record no gradients meanwhile. */
export function generatorObjective(nets: Networks, input: Tensor, target: Tensor): LossTerms {
  const w = nets.config.loss;
  return frozen(nets.discriminator, () =>
    tidy(() => {
      const { image, guide, painted, gate } = generate(nets, input);
      const terms: LossTerms = {
        l1: l1Loss(image, target),
        guide_l1: l1Loss(guide!, target),
        adversarial: bceWithLogits(nets.discriminator.forward(image), 1),
        white: whitePenalty(image, target),
      };
      // The input's hint channels: 2…4 the hint colour (its fill), 5 the hint mask (its confidence).
      const [n, , h, width] = input.shape;
      const channels = (first: number, count: number) => slice(input, [0, first, 0, 0], [n, count, h, width]);
      if (w.painted > 0 && painted) terms.painted_l1 = l1Loss(painted, target);
      if (w.gate > 0 && gate) terms.gate = gateBce(gate, channels(2, 3), target, channels(5, 1));
      const vgg = nets.vgg;
      if (vgg) terms.perceptual = mseLoss(vgg.forward(image), noGrad(() => vgg.forward(target)));
      if (w.hint > 0) terms.hint = hintL1(image, target, channels(5, 1));
      const loss = weighted(terms, { l1: w.l1, guide_l1: w.l1 * w.guide, adversarial: w.adversarial, white: w.white, perceptual: w.perceptual, hint: w.hint, painted_l1: w.l1 * w.painted, gate: w.gate });
      backward(loss);
      return { loss, ...terms, grad_sum: gradientSum(nets.generator) };
    }),
  );
}

/**
 * The fine-tuning generator's terms and gradients on black-and-white pages: G(line art, no hints) judged by D,
 * the adversarial term alone (the pages' targets are never read). In eval mode, which only skips the guide
 * decoder that this loss does not use.
 */
export function pageGeneratorObjective(nets: Networks, input: Tensor): LossTerms {
  return frozen(nets.discriminator, () =>
    evaluating(nets.generator, () =>
      tidy(() => {
        const adversarial = bceWithLogits(nets.discriminator.forward(generate(nets, withoutHints(input)).image), 1);
        const loss = mul(adversarial, nets.config.loss.adversarial);
        backward(loss);
        return { loss, adversarial, grad_sum: gradientSum(nets.generator) };
      }),
    ),
  );
}
