import { describe, expect, test } from 'vitest';
import { gradcheck, hostRandom } from '../src/ops/gradcheck.js';
import type { HostTensor } from '../src/kernels/host.js';
import * as T from '../src/ops/index.js';
import { bceWithLogits, GATE_TOLERANCE, gateBce, hintL1, l1Loss, mseLoss, whitePenalty } from '../src/train/losses.js';
import { bceWithLogitsReference, gateBceReference, hintL1Reference, l1LossReference, mseLossReference, whitePenaltyReference } from '../src/train/losses.ref.js';
import { expectClose, randomHost } from './helpers/check.js';
import { useTestEngine } from './helpers/gpu.js';

const engine = useTestEngine();
const up = (h: HostTensor) => T.tensor(h.data, h.shape);
const scaled = (h: HostTensor, k: number): HostTensor => ({ shape: h.shape, data: h.data.map((v) => v * k) });

async function expectGradients(check: Parameters<typeof gradcheck>[0]): Promise<void> {
  const { forwardError, gradErrors } = await gradcheck(check);
  expect(forwardError).toBeLessThan(1e-5);
  for (const e of gradErrors) expect(e).toBeLessThan(1e-4);
}

const shapes = [[1], [7, 13], [2, 3, 17, 9], [4, 1, 64, 65]];

describe('L1 and MSE', () => {
  test('match the float64 reference on fresh inputs', async () => {
    engine().poisonNewTensors = true;
    for (const shape of shapes) {
      const a = randomHost(shape);
      const b = randomHost(shape);
      await expectClose(l1Loss(up(a), up(b)), l1LossReference(a, b), 1e-5);
      await expectClose(mseLoss(up(a), up(b)), mseLossReference(a, b), 1e-5);
    }
  });

  test('gradients w.r.t. both operands', async () => {
    const inputs = () => [randomHost([3, 5, 4]), randomHost([3, 5, 4])];
    await expectGradients({ inputs: inputs(), gpu: l1Loss, reference: l1LossReference });
    await expectGradients({ inputs: inputs(), gpu: mseLoss, reference: mseLossReference });
  });

  test('shape mismatches and empty tensors are errors', () => {
    expect(() => l1Loss(T.zeros([2, 3]), T.zeros([3]))).toThrow(/same shape, got \[2, 3\] and \[3\]/);
    expect(() => mseLoss(T.zeros([0, 3]), T.zeros([0, 3]))).toThrow(/empty tensor/);
  });
});

describe('BCE with logits', () => {
  test('matches the float64 reference for targets 1, 0 and 0.9', async () => {
    engine().poisonNewTensors = true;
    for (const target of [1, 0, 0.9]) {
      for (const shape of shapes) {
        const logits = scaled(randomHost(shape), 4);
        await expectClose(bceWithLogits(up(logits), target), bceWithLogitsReference(logits, target), 1e-5);
      }
    }
  });

  test('gradient is (sigmoid(x) − t)/N', async () => {
    for (const target of [1, 0, 0.9]) {
      await expectGradients({
        inputs: [scaled(randomHost([4, 1, 6, 5]), 3)],
        gpu: (x) => bceWithLogits(x, target),
        reference: (x) => bceWithLogitsReference(x, target),
      });
    }
  });

  test('stays finite for |x| = 100 and beyond', async () => {
    const values = [-1e4, -100, 100, 1e4];
    const logits = T.tensor(values, [4], { requiresGrad: true });
    const loss = bceWithLogits(logits, 0.9);
    // Per element max(x, 0) − 0.9·x, plus a softplus term below float32 resolution: 9000, 90, 10, 1000.
    expect((await loss.data())[0]).toBeCloseTo((9000 + 90 + 10 + 1000) / 4, 1);
    T.backward(loss);
    const grad = await logits.grad!.data();
    [-0.9, -0.9, 0.1, 0.1].forEach((g, i) => expect(grad[i]).toBeCloseTo(g / 4, 7));
    expect((await bceWithLogits(T.tensor([100, -100]), 1).data())[0]).toBeCloseTo(50, 4);
  });

  test('the gradient at x = 0 is 1/2 − t (the closed form, not the relu/abs chain)', async () => {
    const logits = T.tensor([0], [1], { requiresGrad: true });
    T.backward(bceWithLogits(logits, 0.9));
    expect((await logits.grad!.data())[0]).toBeCloseTo(0.5 - 0.9, 7);
  });

  test('targets outside [0, 1] are errors', () => {
    expect(() => bceWithLogits(T.zeros([2]), 2)).toThrow(/target must be a number in \[0, 1\]/);
    expect(() => bceWithLogits(T.zeros([2]), NaN)).toThrow(/target/);
  });
});

describe('white-colour penalty (REFERENCE §6)', () => {
  /** A ground truth in [−1, 1] with white pixels, near-white pixels (two channels > 0.85) and colour. */
  function groundTruth(shape: number[], seed: number): HostTensor {
    const rand = hostRandom(seed);
    const [n, c, h, w] = shape;
    const data = new Float64Array(n * c * h * w);
    for (let b = 0; b < n; b++) {
      for (let p = 0; p < h * w; p++) {
        const kind = rand();
        for (let ch = 0; ch < c; ch++) {
          const whiteish = 0.86 + 0.14 * rand();
          const value = kind < 0.3 ? whiteish : kind < 0.45 && ch > 0 ? whiteish : 2 * rand() - 1;
          data[(b * c + ch) * h * w + p] = value;
        }
      }
    }
    return { shape, data };
  }

  test('matches the float64 reference', async () => {
    engine().poisonNewTensors = true;
    for (const [i, shape] of [[1, 3, 1, 1], [2, 3, 7, 5], [4, 3, 32, 33]].entries()) {
      const output = randomHost(shape, 'uniform');
      const target = groundTruth(shape, 100 + i);
      await expectClose(whitePenalty(up(output), up(target)), whitePenaltyReference(output, target), 1e-5);
    }
  });

  test('an all-white ground truth gives 0; a fully coloured one counts every pixel', async () => {
    const shape = [2, 3, 4, 4];
    const output = randomHost(shape, 'uniform');
    expect((await whitePenalty(up(output), T.full(shape, 0.9)).data())[0]).toBe(0);
    const coloured = { shape, data: new Float64Array(2 * 3 * 16).fill(-0.5) };
    await expectClose(whitePenalty(up(output), up(coloured)), whitePenaltyReference(output, coloured), 1e-5);
  });

  test('gradient w.r.t. the output only', async () => {
    const shape = [2, 3, 5, 6];
    const target = groundTruth(shape, 7);
    await expectGradients({
      inputs: [randomHost(shape, 'uniform'), target],
      gpu: whitePenalty,
      reference: whitePenaltyReference,
      wrt: [0],
    });
    const gt = T.tensor(target.data, shape, { requiresGrad: true });
    const out = T.tensor(randomHost(shape, 'uniform').data, shape, { requiresGrad: true });
    T.backward(whitePenalty(out, gt));
    expect(gt.grad).toBeNull();
    expect(out.grad).not.toBeNull();
  });

  test('shape errors', () => {
    expect(() => whitePenalty(T.zeros([1, 4, 2, 2]), T.zeros([1, 4, 2, 2]))).toThrow(/RGB images \[N, 3, H, W\]/);
    expect(() => whitePenalty(T.zeros([1, 3, 2, 2]), T.zeros([1, 3, 2, 3]))).toThrow(/same shape/);
  });
});

describe('hint fidelity (confidence-weighted L1)', () => {
  const weightOf = (shape: number[]): HostTensor => {
    const [n, , h, w] = shape;
    const data = randomHost([n, 1, h, w], 'uniform').data.map((v) => (v < 0 ? 0 : v)); // about half the pixels without hints
    return { shape: [n, 1, h, w], data };
  };

  test('matches the float64 reference; no hints give 0; gradient w.r.t. the output only', async () => {
    engine().poisonNewTensors = true;
    for (const shape of [[1, 3, 4, 5], [2, 3, 17, 9], [4, 3, 32, 33]]) {
      const [output, target, weight] = [randomHost(shape, 'uniform'), randomHost(shape, 'uniform'), weightOf(shape)];
      await expectClose(hintL1(up(output), up(target), up(weight)), hintL1Reference(output, target, weight), 1e-5);
    }
    const shape = [2, 3, 4, 4];
    expect((await hintL1(up(randomHost(shape)), up(randomHost(shape)), T.zeros([2, 1, 4, 4])).data())[0]).toBe(0);
    const weight = weightOf([2, 3, 5, 6]);
    await expectGradients({
      inputs: [randomHost([2, 3, 5, 6], 'uniform'), randomHost([2, 3, 5, 6], 'uniform'), weight],
      gpu: hintL1,
      reference: hintL1Reference,
      wrt: [0],
    });
    const out = T.tensor(randomHost(shape).data, shape, { requiresGrad: true });
    const w = T.tensor(weightOf(shape).data, [2, 1, 4, 4], { requiresGrad: true });
    T.backward(hintL1(out, T.zeros(shape), w));
    expect(w.grad).toBeNull();
  });

  test('shape errors', () => {
    expect(() => hintL1(T.zeros([1, 3, 2, 2]), T.zeros([1, 3, 2, 2]), T.zeros([1, 3, 2, 2]))).toThrow(/weight \[N, 1, H, W\]/);
    expect(() => hintL1(T.zeros([1, 3, 2, 2]), T.zeros([1, 3, 2, 3]), T.zeros([1, 1, 2, 2]))).toThrow(/same shape/);
  });
});

describe('gate supervision (confidence-weighted BCE against "the hint fill is right")', () => {
  /** A hint fill that is the target's colour on about half the pixels (within the tolerance) and off elsewhere. */
  const fillOf = (target: HostTensor, seed: number): HostTensor => {
    const rand = hostRandom(seed);
    const [n, c, h, w] = target.shape;
    const data = Float64Array.from(target.data);
    for (let b = 0; b < n; b++) {
      for (let p = 0; p < h * w; p++) {
        const right = rand() < 0.5;
        for (let ch = 0; ch < c; ch++) data[(b * c + ch) * h * w + p] += right ? 0.05 * (2 * rand() - 1) : 0.3 + rand();
      }
    }
    return { shape: target.shape, data };
  };
  const plane = ([n, , h, w]: number[], kind: 'uniform' | 'normal') => randomHost([n, 1, h, w], kind);
  const confidenceOf = (shape: number[]) => {
    const c = plane(shape, 'uniform');
    return { shape: c.shape, data: c.data.map((v) => (v < 0 ? 0 : v)) }; // about half the pixels unreached
  };

  test('matches the float64 reference; the gradient is c·(σ(x) − t) / (N·(Σc + 1)) w.r.t. the logits only', async () => {
    engine().poisonNewTensors = true;
    for (const [i, shape] of [[1, 3, 4, 5], [2, 3, 17, 9], [4, 3, 32, 33]].entries()) {
      const target = randomHost(shape, 'uniform');
      const [logits, hint, confidence] = [scaled(plane(shape, 'normal'), 4), fillOf(target, 10 + i), confidenceOf(shape)];
      await expectClose(gateBce(up(logits), up(hint), up(target), up(confidence)), gateBceReference(logits, hint, target, confidence, GATE_TOLERANCE), 1e-5);
    }
    const shape = [2, 3, 5, 6];
    const target = randomHost(shape, 'uniform');
    await expectGradients({
      inputs: [scaled(plane(shape, 'normal'), 3), fillOf(target, 3), target, confidenceOf(shape)],
      gpu: gateBce,
      reference: (x, h, t, c) => gateBceReference(x, h, t, c, GATE_TOLERANCE),
      wrt: [0],
    });
    // No hint anywhere: no say.
    expect((await gateBce(up(plane(shape, 'normal')), up(fillOf(target, 4)), up(target), T.zeros([2, 1, 5, 6])).data())[0]).toBe(0);
  });

  test('pushes the gate open where the fill is right and shut where it is wrong', async () => {
    const target = T.zeros([1, 3, 1, 2]);
    const hint = T.tensor([0.05, 0.9, -0.05, 0.9, 0, 0.9], [1, 3, 1, 2]); // pixel 0 right, pixel 1 off by 0.9
    const logits = T.tensor([0, 0], [1, 1, 1, 2], { requiresGrad: true });
    T.backward(gateBce(logits, hint, target, T.tensor([1, 1], [1, 1, 1, 2])));
    const [right, wrong] = await logits.grad!.data();
    expect(right).toBeCloseTo((0.5 - 1) / 3, 6);
    expect(wrong).toBeCloseTo(0.5 / 3, 6);
  });

  test('shape errors', () => {
    expect(() => gateBce(T.zeros([1, 3, 2, 2]), T.zeros([1, 3, 2, 2]), T.zeros([1, 3, 2, 2]), T.zeros([1, 1, 2, 2]))).toThrow(/logits \[1, 1, 2, 2\]/);
    expect(() => gateBce(T.zeros([1, 1, 2, 2]), T.zeros([1, 3, 2, 2]), T.zeros([1, 3, 2, 2]), T.zeros([1, 3, 2, 2]))).toThrow(/confidence \[1, 1, 2, 2\]/);
    expect(() => gateBce(T.zeros([1, 1, 2, 2]), T.zeros([1, 3, 2, 3]), T.zeros([1, 3, 2, 2]), T.zeros([1, 1, 2, 2]))).toThrow(/same shape/);
  });
});
