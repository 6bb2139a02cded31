import { describe, expect, test } from 'vitest';
import { gradcheck } from '../src/ops/gradcheck.js';
import * as T from '../src/ops/index.js';
import { isDifferentiable } from '../src/ops/elementwise.js';
import { BINARY_OPS, binary, UNARY_OPS, unary, type BinaryOp, type UnaryOp } from '../src/kernels/elementwise.js';
import { binaryReference, selectReference, unaryReference } from '../src/kernels/elementwise.ref.js';
import { mapBroadcast } from '../src/kernels/host.js';
import { randomHost, expectClose } from './helpers/check.js';
import { dispatchedEntries, useTestEngine } from './helpers/gpu.js';

const engine = useTestEngine();

// Odd sizes, 1-element, broadcasting on both sides, and enough elements for many workgroups.
const shapes: [number[], number[]][] = [
  [[1], [1]],
  [[7, 13], [7, 13]],
  [[3, 1, 5], [4, 1]],
  [[1], [2, 3, 4]],
  [[2, 300, 17], [17]],
  [[], [5, 3]],
];

describe('every declared op, its WGSL expression against its float64 formula', () => {
  // Inputs inside each op's domain; the scalars a slope or bounds would take.
  const positive = new Set<string>(['log', 'sqrt', 'pow', 'div']);
  const scalars: Partial<Record<UnaryOp | BinaryOp, [number, number]>> = { leakyRelu: [0.2, 0], clamp: [-0.5, 0.7], affine: [1.5, -2], leakyReluGrad: [0.3, 0] };
  for (const op of Object.keys(UNARY_OPS) as UnaryOp[]) {
    test(`unary ${op}`, async () => {
      const x = randomHost([3, 41, 5], positive.has(op) ? 'positive' : 'normal');
      const [alpha, beta] = scalars[op] ?? [0, 0];
      await expectClose(unary(op, T.tensor(x.data, x.shape), alpha, beta), unaryReference(op, x, alpha, beta), 2e-6);
    });
  }
  for (const op of Object.keys(BINARY_OPS) as BinaryOp[]) {
    test(`binary ${op}`, async () => {
      const a = randomHost([3, 41, 5], positive.has(op) ? 'positive' : 'normal');
      const b = randomHost([41, 1], positive.has(op) ? 'positive' : 'normal');
      // Ties, so that eq, ne, le and ge see both answers.
      a.data.set(b.data.slice(0, 5));
      const [alpha] = scalars[op] ?? [0, 0];
      await expectClose(binary(op, T.tensor(a.data, a.shape), T.tensor(b.data, b.shape), alpha), binaryReference(op, a, b, alpha), 2e-6);
    });
  }
});

describe('unary ops match the float64 reference', () => {
  const cases: [string, (x: T.Tensor) => T.Tensor, Parameters<typeof unaryReference>[0], 'normal' | 'positive', number?, number?][] = [
    ['copy', T.copy, 'copy', 'normal'],
    ['neg', T.neg, 'neg', 'normal'],
    ['abs', T.abs, 'abs', 'normal'],
    ['exp', T.exp, 'exp', 'normal'],
    ['log', T.log, 'log', 'positive'],
    ['sqrt', T.sqrt, 'sqrt', 'positive'],
    ['relu', T.relu, 'relu', 'normal'],
    ['leakyRelu', (x) => T.leakyRelu(x, 0.2), 'leakyRelu', 'normal', 0.2],
    ['sigmoid', T.sigmoid, 'sigmoid', 'normal'],
    ['tanh', T.tanh, 'tanh', 'normal'],
    ['clamp', (x) => T.clamp(x, -0.5, 0.7), 'clamp', 'normal', -0.5, 0.7],
    ['affine', (x) => T.affine(x, 1.5, -2), 'affine', 'normal', 1.5, -2],
  ];
  test('every unary op with a gradient rule is gradchecked here; the others carry no graph', () => {
    const checked = new Set<string>(cases.map((c) => c[2]));
    const withRule = (Object.keys(UNARY_OPS) as UnaryOp[]).filter((op) => isDifferentiable(op));
    expect(withRule.filter((op) => !checked.has(op))).toEqual([]);
    expect((Object.keys(UNARY_OPS) as UnaryOp[]).filter((op) => !isDifferentiable(op))).toEqual(['sign']);
    expect(T.sign(T.tensor([1, -2, 0], [3], { requiresGrad: true })).requiresGrad).toBe(false);
  });
  for (const [name, op, refOp, kind, alpha, beta] of cases) {
    test(name, async () => {
      engine().poisonNewTensors = true;
      for (const shape of [[1], [5, 1, 3], [1031, 67]]) {
        const x = randomHost(shape, kind);
        await expectClose(op(T.tensor(x.data, x.shape)), unaryReference(refOp, x, alpha, beta), 2e-6);
      }
      const x = randomHost([6, 5], kind);
      const { forwardError, gradErrors } = await gradcheck({ inputs: [x], gpu: op, reference: (h) => unaryReference(refOp, h, alpha, beta) });
      expect(forwardError).toBeLessThan(2e-6);
      expect(gradErrors[0]).toBeLessThan(1e-4);
    });
  }

  test('tanh and sigmoid saturate without NaN', async () => {
    const x = T.tensor([-1e4, -100, 100, 1e4]);
    expect([...(await T.tanh(x).data())]).toEqual([-1, -1, 1, 1]);
    expect([...(await T.sigmoid(x).data())]).toEqual([0, 0, 1, 1]);
  });
});

describe('binary ops broadcast like PyTorch and match the reference', () => {
  const ops = [
    ['add', T.add], ['sub', T.sub], ['mul', T.mul], ['div', T.div], ['min', T.minimum], ['max', T.maximum],
    ['eq', T.eq], ['ne', T.ne], ['lt', T.lt], ['le', T.le], ['gt', T.gt], ['ge', T.ge],
  ] as const;
  for (const [name, op] of ops) {
    test(name, async () => {
      engine().poisonNewTensors = true;
      for (const [sa, sb] of shapes) {
        const a = randomHost(sa);
        const b = name === 'div' ? randomHost(sb, 'positive') : randomHost(sb);
        if (name === 'eq' || name === 'ne') b.data.set(a.data.slice(0, Math.min(a.data.length, b.data.length, 3)));
        await expectClose(op(T.tensor(a.data, a.shape), T.tensor(b.data, b.shape)), binaryReference(name, a, b), 2e-6);
      }
    });
  }

  test('pow follows real-valued conventions (negative bases with integer exponents, x^0 = 1)', async () => {
    const a = T.tensor([-2, -2, 0, 0, 3, 2.5, 4]);
    const b = T.tensor([2, 3, 0, 2, -1, 0.5, 0]);
    const v = await T.pow(a, b).data();
    expect([...v].map((x) => +x.toFixed(5))).toEqual([4, -8, 1, 0, 0.33333, 1.58114, 1]);
    expect(Number.isNaN((await T.pow(T.tensor([-2]), T.tensor([0.5])).data())[0])).toBe(true);
  });

  test('number operands', async () => {
    const x = randomHost([4, 3]);
    const t = T.tensor(x.data, x.shape);
    await expectClose(T.add(t, 2), mapBroadcast([x], (v) => v + 2));
    await expectClose(T.sub(1, t), mapBroadcast([x], (v) => 1 - v));
    await expectClose(T.mul(t, -3), mapBroadcast([x], (v) => -3 * v));
    await expectClose(T.div(t, 4), mapBroadcast([x], (v) => v / 4));
    await expectClose(T.div(2, T.add(T.abs(t), 1)), mapBroadcast([x], (v) => 2 / (Math.abs(v) + 1)));
    await expectClose(T.gt(t, 0), mapBroadcast([x], (v) => +(v > 0)));
  });

  test('where selects with a broadcast condition', async () => {
    const c = randomHost([3, 1]);
    c.data.forEach((v, i) => (c.data[i] = +(v > 0)));
    c.data[0] = 1;
    c.data[1] = 0;
    const a = randomHost([3, 4]);
    const b = randomHost([4]);
    await expectClose(T.where(T.tensor(c.data, c.shape), T.tensor(a.data, a.shape), T.tensor(b.data, b.shape)), selectReference(c, a, b));
  });

  const differentiable = [
    ['add', T.add], ['sub', T.sub], ['mul', T.mul], ['div', T.div], ['pow', T.pow], ['min', T.minimum], ['max', T.maximum],
  ] as const;
  test('every binary op with a gradient rule is gradchecked here; the others carry no graph', () => {
    const checked = new Set<string>(differentiable.map((c) => c[0]));
    const ops = Object.keys(BINARY_OPS) as BinaryOp[];
    expect(ops.filter((op) => isDifferentiable(op) !== checked.has(op))).toEqual([]);
    const a = T.tensor([1, 2], [2], { requiresGrad: true });
    for (const compare of [T.eq, T.ne, T.lt, T.le, T.gt, T.ge]) expect(compare(a, 1).requiresGrad).toBe(false);
  });
  for (const [name, op] of differentiable) {
    for (const [sa, sb] of [[[4, 5], [4, 5]], [[3, 1, 5], [4, 1]], [[6], [2, 1, 6]]]) {
      test(`${name} gradient, [${sa}] with [${sb}]`, async () => {
        const positive = name === 'pow' || name === 'div';
        const a = randomHost(sa, positive ? 'positive' : 'normal');
        const b = randomHost(sb, positive ? 'positive' : 'normal');
        const { forwardError, gradErrors } = await gradcheck({
          inputs: [a, b],
          gpu: (x, y) => op(x, y),
          reference: (x, y) => binaryReference(name, x, y),
        });
        expect(forwardError).toBeLessThan(2e-6);
        for (const e of gradErrors) expect(e).toBeLessThan(2e-4);
      });
    }
  }

  test('where gradient', async () => {
    const c = randomHost([5, 1]);
    c.data.forEach((v, i) => (c.data[i] = +(v > 0)));
    const cond = T.tensor(c.data, c.shape);
    const { gradErrors } = await gradcheck({
      inputs: [randomHost([5, 4]), randomHost([4])],
      gpu: (a, b) => T.where(cond, a, b),
      reference: (a, b) => selectReference(c, a, b),
    });
    for (const e of gradErrors) expect(e).toBeLessThan(1e-4);
  });
});

describe('the four-element launches (unary4, binary4) and their fallbacks', () => {
  const host = (shape: number[]) => randomHost(shape);
  const up = (h: ReturnType<typeof randomHost>) => T.tensor(h.data, h.shape);

  test('contiguous operands, a per-channel scale broadcast along rows, and a scalar', async () => {
    const x = host([2, 3, 5, 8]);
    const s = host([1, 3, 1, 1]);
    const mul = dispatchedEntries(() => T.mul(up(x), up(s)));
    expect(mul.names).toEqual(['binary4']);
    await expectClose(mul.result, binaryReference('mul', x, s), 2e-6);
    const y = host([2, 3, 5, 8]);
    const add = dispatchedEntries(() => T.add(up(x), up(y)));
    expect(add.names).toEqual(['binary4']);
    await expectClose(add.result, binaryReference('add', x, y), 2e-6);
    const scalar = host([1]);
    const max = dispatchedEntries(() => T.maximum(up(x), up(scalar)));
    expect(max.names).toEqual(['binary4']);
    await expectClose(max.result, binaryReference('max', x, scalar), 2e-6);
    const sig = dispatchedEntries(() => T.sigmoid(up(x)));
    expect(sig.names).toEqual(['unary4']);
    await expectClose(sig.result, unaryReference('sigmoid', x), 2e-6);
  });

  test('a broadcast along the innermost dimension reads one value per four elements, at any offset', async () => {
    // b [3, 1] against a [3, 12]: b's inner stride is 0, and its values sit at offsets 0, 1, 2 (not multiples of 4).
    const a = host([3, 12]);
    const b = host([3, 1]);
    const run = dispatchedEntries(() => T.sub(up(a), up(b)));
    expect(run.names).toEqual(['binary4']);
    await expectClose(run.result, binaryReference('sub', a, b), 2e-6);
    const reversed = dispatchedEntries(() => T.div(up(b), T.add(T.abs(up(a)), 1)));
    await expectClose(reversed.result, mapBroadcast([b, a], (u, v) => u / (Math.abs(v) + 1)), 2e-6);
  });

  test('a permuted copy runs along the source and scatters four values (NCHW → NHWC, pixel shuffle)', async () => {
    const x = host([2, 3, 5, 8]);
    const nhwc = dispatchedEntries(() => T.contiguous(T.permute(up(x), [0, 2, 3, 1])));
    expect(nhwc.names).toEqual(['unary4_scatter']);
    const [n, c, h, w] = x.shape;
    const expected = { shape: [n, h, w, c], data: new Float64Array(x.data.length) };
    for (let i = 0; i < n; i++) for (let k = 0; k < c; k++) for (let y = 0; y < h; y++) for (let z = 0; z < w; z++) {
      expected.data[((i * h + y) * w + z) * c + k] = x.data[((i * c + k) * h + y) * w + z];
    }
    await expectClose(nhwc.result, expected, 1e-7);
    const shuffled = dispatchedEntries(() => T.pixelShuffle(up(host([1, 8, 3, 4])), 2));
    expect(shuffled.names).toEqual(['unary4_scatter']);
    // A source at an offset that is not a multiple of 4 cannot be read as vec4: one element per invocation.
    const flat = host([65]);
    const atOne = T.reshape(T.slice(up(flat), [1], [64]), [1, 2, 4, 8]);
    const fallback = dispatchedEntries(() => T.contiguous(T.permute(atOne, [0, 2, 3, 1])));
    expect(fallback.names).toEqual(['unary']);
    const want = { shape: [1, 4, 8, 2], data: new Float64Array(64) };
    for (let k = 0; k < 2; k++) for (let i = 0; i < 32; i++) want.data[i * 2 + k] = flat.data[1 + k * 32 + i];
    await expectClose(fallback.result, want, 1e-7);
  });

  test('views that are not aligned fall back to one element per invocation, with the same result', async () => {
    const x = host([4, 9]);
    const whole = T.tensor(x.data, x.shape);
    // Columns 1…8: 8 elements per row (a multiple of 4), but the view starts at offset 1 and rows are 9 apart.
    const view = T.slice(whole, [0, 1], [4, 8]);
    const run = dispatchedEntries(() => T.neg(view));
    expect(run.names).toEqual(['unary']);
    const expected = { shape: [4, 8], data: Float64Array.from({ length: 32 }, (_, i) => -x.data[Math.floor(i / 8) * 9 + 1 + (i % 8)]) };
    await expectClose(run.result, expected, 2e-6);
    // A length that is not a multiple of 4.
    const odd = host([3, 7]);
    expect(dispatchedEntries(() => T.exp(up(odd))).names).toEqual(['unary']);
    // An aligned slice: rows of 8 out of 12 from offset 4 take the four-element path.
    const wide = host([3, 12]);
    const aligned = T.slice(T.tensor(wide.data, wide.shape), [0, 4], [3, 8]);
    const fast = dispatchedEntries(() => T.abs(aligned));
    expect(fast.names).toEqual(['unary4']);
    const want = { shape: [3, 8], data: Float64Array.from({ length: 24 }, (_, i) => Math.abs(wide.data[Math.floor(i / 8) * 12 + 4 + (i % 8)])) };
    await expectClose(fast.result, want, 2e-6);
  });
});
