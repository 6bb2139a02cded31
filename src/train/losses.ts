// Training losses of the colorization GAN (REFERENCE §6), each a differentiable scalar (shape []).
// They are compositions of the public ops, so their gradients come from the ops' own rules, except
// bceWithLogits, whose forward is composed for numerical stability and whose gradient is the closed form.
import { record } from '../autograd/tape.js';
import { tidy } from '../engine/engine.js';
import { abs, add, affine, detach, div, exp, gt, log, lt, mean, mul, noGrad, relu, sigmoid, sub, sum, type Tensor } from '../ops/index.js';

function assertSameShape(loss: string, a: Tensor, b: Tensor): void {
  // PyTorch only warns when a loss broadcasts its operands; here it is an error, since it is almost always a bug.
  if (a.shape.join() !== b.shape.join()) {
    throw new Error(`${loss}: operands must have the same shape, got [${a.shape.join(', ')}] and [${b.shape.join(', ')}].`);
  }
  if (a.size === 0) throw new Error(`${loss}: the mean over an empty tensor [${a.shape.join(', ')}] is undefined.`);
}

/** Mean absolute error, mean |a − b| over all elements. */
export function l1Loss(a: Tensor, b: Tensor): Tensor {
  assertSameShape('l1Loss', a, b);
  return mean(abs(sub(a, b)));
}

/** Mean squared error, mean (a − b)² over all elements. */
export function mseLoss(a: Tensor, b: Tensor): Tensor {
  assertSameShape('mseLoss', a, b);
  const difference = sub(a, b);
  return mean(mul(difference, difference));
}

/** Per element max(x, 0) − x·t + log(1 + exp(−|x|)), the overflow-free form of BCE on logits (bceWithLogits' note). */
function crossEntropyTerms(logits: Tensor, target: Tensor | number): Tensor {
  const softplusOfNegAbs = log(affine(exp(affine(abs(logits), -1, 0)), 1, 1));
  return add(sub(relu(logits), mul(logits, target)), softplusOfNegAbs);
}

/**
 * Binary cross-entropy on logits against a constant target t (1 or 0, or 0.9 for one-sided label smoothing),
 * averaged over all elements: mean of max(x, 0) − x·t + log(1 + exp(−|x|)).
 *
 * exp(−|x|) ≤ 1, so nothing overflows for any finite x. When exp(−|x|) < 2⁻²⁴ (|x| ≳ 16.6), 1 + exp(−|x|)
 * rounds to 1 in float32 and the softplus term becomes 0 instead of ≈ exp(−|x|) < 6e-8: an absolute error
 * far below the loss's own float32 resolution, and the gradient does not depend on it. The gradient is the
 * closed form (sigmoid(x) − t)/N rather than the chain through relu/abs, which would be wrong at x = 0.
 */
export function bceWithLogits(logits: Tensor, target: number): Tensor {
  if (!Number.isFinite(target) || target < 0 || target > 1) {
    throw new Error(`bceWithLogits: target must be a number in [0, 1] (1 real, 0 fake, 0.9 smoothed), got ${target}.`);
  }
  logits.assertAlive();
  if (logits.size === 0) throw new Error(`bceWithLogits: the mean over an empty tensor [${logits.shape.join(', ')}] is undefined.`);
  const count = logits.size;
  const loss = tidy(() => noGrad(() => mean(crossEntropyTerms(logits, target))));
  return record(loss, 'bceWithLogits', [logits], (g) => [mul(affine(sigmoid(logits), 1 / count, -target / count), g)]);
}

/** Mean channel difference (in [−1, 1] units, ≈ 13/255) within which a hint fill counts as the right colour. */
export const GATE_TOLERANCE = 0.1;

/**
 * Supervision of the hint gate (this project's addition): the gate's logits x [N, 1, H, W] against whether the
 * hint fill h is the ground truth's colour there, t = 1 where the mean |h − y| over the channels is below
 * GATE_TOLERANCE, else 0; binary cross-entropy weighted by the hint confidence c (no hint, no say), per batch item
 *   G = Σ_pixels c·(softplus(x) − x·t) / (Σ_pixels c + 1),
 * averaged over the batch. Through the image's L1 alone the gate learns by σ'(x)·c·(h − painted), which is faint
 * where the gate is nearly open and lets noise close it where the fill is right; this names the answer. t and c
 * are constants; the gradient is the closed form c·(σ(x) − t) / (N·(Σ c + 1)).
 */
export function gateBce(logits: Tensor, hint: Tensor, target: Tensor, confidence: Tensor): Tensor {
  assertSameShape('gateBce', hint, target);
  const [n, , h, w] = target.shape;
  for (const [name, t] of [['logits', logits], ['confidence', confidence]] as const) {
    if (t.shape.join() !== [n, 1, h, w].join()) throw new Error(`gateBce: expected ${name} [${n}, 1, ${h}, ${w}], got [${t.shape.join(', ')}].`);
  }
  const [t, c, denominator] = noGrad(() => {
    const right = lt(sum(abs(sub(hint, target)), 1, true), 3 * GATE_TOLERANCE);
    const c = detach(confidence);
    return [right, c, affine(sum(c, [1, 2, 3], true), 1, 1)]; // [N, 1, 1, 1]
  });
  const loss = tidy(() => noGrad(() => mean(div(sum(mul(crossEntropyTerms(logits, t), c), [1, 2, 3], true), denominator))));
  return record(loss, 'gateBce', [logits], (g) => [mul(div(mul(sub(sigmoid(logits), t), c), denominator), mul(g, 1 / n))]);
}

/** Channels above this (in [−1, 1]) on all three count as white in the ground truth. */
const WHITE_THRESHOLD = 0.85;

/**
 * White-colour penalty, REFERENCE §6. With m = 1 where the ground-truth pixel is not white (not all three
 * channels > 0.85) and G the output in [−1, 1], per batch item
 *   P = Σ_pixels (Σ_c m·(G + 1)/2)² / (3·Σ_pixels m + 1),
 * averaged over the batch. m is a constant: the gradient flows to `output` only.
 */
export function whitePenalty(output: Tensor, target: Tensor): Tensor {
  assertSameShape('whitePenalty', output, target);
  if (output.rank !== 4 || output.shape[1] !== 3) {
    throw new Error(`whitePenalty: expected RGB images [N, 3, H, W], got [${output.shape.join(', ')}].`);
  }
  const notWhite = noGrad(() => lt(sum(gt(target, WHITE_THRESHOLD), 1, true), 3)); // [N, 1, H, W]
  // m does not depend on the channel, so Σ_c m·(G + 1)/2 = m·(Σ_c G + 3)/2: one [N, 1, H, W] plane, not three.
  const maskedBrightness = mul(affine(sum(output, 1, true), 0.5, 1.5), notWhite);
  const numerator = sum(mul(maskedBrightness, maskedBrightness), [1, 2, 3]); // [N]
  const denominator = noGrad(() => affine(sum(notWhite, [1, 2, 3]), 3, 1)); // [N]
  return mean(div(numerator, denominator));
}

/**
 * Hint fidelity (this project's addition to REFERENCE §6): the L1 error weighted per pixel by the hint confidence
 * w ∈ [0, 1] of the generator's input (its mask channel: 1 on dots; exp(−d/24) for spread hints, so the pixels
 * near a hint count most), per batch item
 *   H = Σ_pixels Σ_c w·|G − y| / (3·Σ_pixels w + 1),
 * averaged over the batch; 0 without hints. Plain L1 averages over every pixel, so a few hint pixels barely move
 * it: this term is what tells a small network that a hint's colour is to be kept. w is a constant.
 */
export function hintL1(output: Tensor, target: Tensor, weight: Tensor): Tensor {
  assertSameShape('hintL1', output, target);
  const [n, , h, w] = output.shape;
  if (output.rank !== 4 || weight.shape.join() !== [n, 1, h, w].join()) {
    throw new Error(`hintL1: expected images [N, C, H, W] and a weight [N, 1, H, W], got [${output.shape.join(', ')}] and [${weight.shape.join(', ')}].`);
  }
  const constant = detach(weight);
  const numerator = sum(mul(abs(sub(output, target)), constant), [1, 2, 3]); // [N]
  const denominator = noGrad(() => affine(sum(constant, [1, 2, 3]), output.shape[1], 1)); // [N]
  return mean(div(numerator, denominator));
}
