import { describe, expect, test } from 'vitest';
import { gradcheck } from '../src/ops/gradcheck.js';
import { sumEach } from '../src/kernels/reduce.js';
import { reduceReference } from '../src/kernels/reduce.ref.js';
import * as T from '../src/ops/index.js';
import { expectClose, randomHost } from './helpers/check.js';
import { dispatchedEntries, useTestEngine } from './helpers/gpu.js';

const engine = useTestEngine();

const cases: [number[], number[] | undefined, boolean][] = [
  [[1], undefined, false],
  [[7], [0], true],
  [[5, 9], [1], false],
  [[5, 9], [0], true],
  [[3, 4, 5], [0, 2], false],
  [[2, 3, 4, 5], [1, 3], true],
  [[130, 70], [-1], false], // serial path: 70 per output
  [[6, 1000], [1], false], // workgroup path
  [[3, 40000], [1], true], // split into chunks + second pass
  [[123457], undefined, false], // whole tensor, split
  [[4, 6, 33, 35], [0, 2, 3], false], // a bias gradient: two reduced dims (batch, pixels), workgroup path
  [[3, 5, 100, 100], [0, 2, 3], true], // the same, split into chunks
  [[7, 3, 2], [0, 2], false], // two reduced dims, serial path
];

describe('sum / mean / max match the float64 reference', () => {
  for (const [shape, axes, keep] of cases) {
    test(`[${shape}] over ${axes ? `[${axes}]` : 'all'}${keep ? ' keepDims' : ''}`, async () => {
      engine().poisonNewTensors = true;
      const x = randomHost(shape);
      const t = T.tensor(x.data, x.shape);
      const length = axes ? axes.reduce((k, a) => k * shape.at(a)!, 1) : x.data.length;
      const tol = 1e-6 * Math.sqrt(length) + 1e-6;
      await expectClose(T.sum(t, axes, keep), reduceReference('sum', x, axes, keep), tol);
      await expectClose(T.mean(t, axes, keep), reduceReference('sum', x, axes, keep, 1 / length), tol);
      await expectClose(T.max(t, axes, keep), reduceReference('max', x, axes, keep), 1e-7);
    });
  }

  test('reductions of permuted views', async () => {
    const x = randomHost([4, 6, 5]);
    const t = T.permute(T.tensor(x.data, x.shape), [2, 0, 1]);
    const ref = reduceReference('sum', x, [1], false); // sum over axis 1 of x = axis 2 of the view
    const out = T.sum(t, [2]);
    expect(out.shape).toEqual([5, 4]);
    await expectClose(T.transpose(out), ref, 1e-6);
  });

  test('gradients', async () => {
    for (const [shape, axes] of [[[4, 5], [1]], [[3, 4, 5], [0, 2]], [[6], undefined]] as const) {
      const x = randomHost(shape);
      const length = axes ? axes.reduce((k: number, a: number) => k * shape[a], 1) : x.data.length;
      for (const [gpu, ref] of [
        [(t: T.Tensor) => T.sum(t, axes), (h: typeof x) => reduceReference('sum', h, axes)],
        [(t: T.Tensor) => T.mean(t, axes, true), (h: typeof x) => reduceReference('sum', h, axes, true, 1 / length)],
        [(t: T.Tensor) => T.max(t, axes), (h: typeof x) => reduceReference('max', h, axes)],
      ] as const) {
        const { gradErrors } = await gradcheck({ inputs: [x], gpu, reference: ref });
        expect(gradErrors[0]).toBeLessThan(1e-4);
      }
    }
  });

  test('max shares the gradient between ties', async () => {
    const x = T.tensor([1, 3, 3, 2], [4], { requiresGrad: true });
    T.backward(T.max(x));
    expect([...(await x.grad!.data())]).toEqual([0, 0.5, 0.5, 0]);
  });

  test('errors', () => {
    const t = T.zeros([2, 3]);
    expect(() => T.sum(t, 2)).toThrow(/out of range/);
    expect(() => T.sum(t, [1, -1])).toThrow(/repeat/);
    expect(() => T.max(T.zeros([2, 0]), 1)).toThrow(/empty/);
  });
});

describe('sumEach: the sums of many tensors in few launches', () => {
  test('17 tensors of mixed sizes (empty, one element, split-sized, views that start late) against float64 sums', async () => {
    engine().poisonNewTensors = true;
    const shapes = [[1], [0], [7, 3], [100000], [64], [3, 5, 7], [1], [4097], [2, 2], [300, 300], [5], [0], [9, 9, 9], [1], [31], [8192], [65]];
    const hosts = shapes.map((s) => randomHost(s));
    const tensors = hosts.map((h) => T.tensor(h.data, h.shape));
    // A contiguous view that starts inside its buffer: the offset must be honoured.
    const base = T.tensor(randomHost([50]).data, [50]);
    const late = T.slice(base, [10], [30]);
    const launches = engine().counters.dispatches;
    const sums = sumEach([...tensors, late]);
    // 3 launches of partial sums and one reduction of the [18, pieces] partials (poisoning uploads: no dispatch).
    expect(engine().counters.dispatches - launches).toBe(Math.ceil(18 / 7) + 1);
    const expected = [...hosts.map((h) => h.data.reduce((a, b) => a + b, 0)), (await late.data()).reduce((a, b) => a + b, 0)];
    const got = await sums.data();
    expect(got).toHaveLength(18);
    got.forEach((v, i) => expect(Math.abs(v - expected[i]), `tensor ${i}`).toBeLessThan(1e-5 * Math.sqrt(hosts[i]?.data.length ?? 20) + 1e-6));
    expect(() => sumEach([T.transpose(tensors[2], 0, 1)])).toThrow(/strided view; pass contiguous tensors/);
    for (const t of [...tensors, base, late, sums]) t.dispose();
  });

  test('a NaN or Inf anywhere in a tensor reaches its sum, in any chunk (software and GPU chunk sizes)', async () => {
    const gpu = engine().gpu;
    const software = gpu.software;
    try {
      for (const [forceGpu, chunk] of [[false, software ? 65536 : 4096], [true, 4096]] as const) {
        gpu.software = forceGpu ? false : software;
        const values = Float32Array.from({ length: 3 * chunk + 5 }, (_, i) => Math.sin(i));
        const withNaN = values.slice();
        withNaN[2 * chunk + 17] = NaN;
        const withInf = values.slice();
        withInf[3 * chunk + 4] = -Infinity;
        const small = Float32Array.from([1, 2, 3]);
        const tensors = [values, withNaN, withInf, small].map((v) => T.tensor(v, [v.length]));
        const got = await sumEach(tensors).data();
        expect(Math.abs(got[0] - values.reduce((a, b) => a + b, 0))).toBeLessThan(1e-3);
        expect(got[1]).toBeNaN();
        expect(got[2]).toBe(-Infinity);
        expect(got[3]).toBe(6);
        for (const t of tensors) t.dispose();
      }
    } finally {
      gpu.software = software;
    }
  });
});

describe('reduce_parallel4: one contiguous reduced dim read as vec4', () => {
  // Whole rows, and rows of 40,000 split into chunks of 4,000.
  for (const [op, shape] of [['sum', [6, 1000]], ['max', [6, 1000]], ['sum', [3, 40000]], ['max', [2, 40000]]] as const) {
    test(`${op} over the rows of [${shape}]`, async () => {
      const x = randomHost([...shape]);
      const run = dispatchedEntries(() => (op === 'sum' ? T.sum(T.tensor(x.data, x.shape), [1]) : T.max(T.tensor(x.data, x.shape), [1])));
      expect(run.names[0]).toBe('reduce_parallel4');
      await expectClose(run.result, reduceReference(op, x, [1]), op === 'max' ? 1e-7 : 1e-6);
    });
  }
  test('sliced rows: a tail after the last vec4, an offset of 4, and an offset of 1 (the scalar kernel)', async () => {
    const x = randomHost([5, 1004]);
    const whole = T.tensor(x.data, x.shape);
    const rows = (start: number, width: number) => ({
      shape: [5, width],
      data: Float64Array.from({ length: 5 * width }, (_, i) => x.data[Math.floor(i / width) * 1004 + start + (i % width)]),
    });
    for (const [start, width, entry] of [[0, 1001, 'reduce_parallel4'], [4, 1000, 'reduce_parallel4'], [1, 1000, 'reduce_parallel']] as const) {
      const run = dispatchedEntries(() => T.sum(T.slice(whole, [0, start], [5, width]), [1]));
      expect(run.names[0]).toBe(entry);
      await expectClose(run.result, reduceReference('sum', rows(start, width), [1]), 1e-6);
    }
  });
});
