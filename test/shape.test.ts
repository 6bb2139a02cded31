import { describe, expect, test } from 'vitest';
import { gradcheck } from '../src/ops/gradcheck.js';
import { sizeOf } from '../src/engine/shape.js';
import type { HostTensor } from '../src/kernels/host.js';
import * as T from '../src/ops/index.js';
import { expectClose, randomHost } from './helpers/check.js';
import { useTestEngine } from './helpers/gpu.js';

const engine = useTestEngine();

/** Host gather: out[i] = x[index(i)] for an output shape and an index map. */
function gather(x: HostTensor, shape: number[], at: (idx: number[]) => number | null, fillValue = 0): HostTensor {
  const out = new Float64Array(sizeOf(shape));
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < out.length; i++) {
    const src = at(idx);
    out[i] = src === null ? fillValue : x.data[src];
    for (let d = shape.length - 1; d >= 0 && ++idx[d] === shape[d]; d--) idx[d] = 0;
  }
  return { shape, data: out };
}
const flat = (shape: number[], idx: number[]) => idx.reduce((o, v, d) => o * shape[d] + v, 0);

const permuteRef = (x: HostTensor, dims: number[]) =>
  gather(x, dims.map((d) => x.shape[d]), (idx) => {
    const src = new Array<number>(dims.length);
    dims.forEach((d, i) => (src[d] = idx[i]));
    return flat(x.shape, src);
  });
const sliceRef = (x: HostTensor, begin: number[], size: number[]) =>
  gather(x, size, (idx) => flat(x.shape, idx.map((v, d) => v + begin[d])));
const padRef = (x: HostTensor, pads: [number, number][], value: number) =>
  gather(x, x.shape.map((n, d) => n + pads[d][0] + pads[d][1]), (idx) => {
    const src = idx.map((v, d) => v - pads[d][0]);
    return src.every((v, d) => v >= 0 && v < x.shape[d]) ? flat(x.shape, src) : null;
  }, value);
const concatRef = (xs: HostTensor[], axis: number) => {
  const shape = [...xs[0].shape];
  shape[axis] = xs.reduce((n, t) => n + t.shape[axis], 0);
  const parts = xs.map((t) => t.shape[axis]);
  const data: number[] = [];
  gather({ shape: [1], data: new Float64Array(1) }, shape, (idx) => {
    let k = 0;
    let at = idx[axis];
    while (at >= parts[k]) at -= parts[k++];
    const src = [...idx];
    src[axis] = at;
    data.push(xs[k].data[flat(xs[k].shape, src)]);
    return 0;
  });
  return { shape, data: Float64Array.from(data) };
};

describe('layout ops', () => {
  test('reshape, including -1 and of a non-contiguous view', async () => {
    engine().poisonNewTensors = true;
    const x = randomHost([4, 6]);
    const t = T.tensor(x.data, x.shape);
    expect(T.reshape(t, [3, -1, 2]).shape).toEqual([3, 4, 2]);
    await expectClose(T.reshape(t, [2, 12]), { shape: [2, 12], data: x.data });
    const p = T.transpose(t);
    await expectClose(T.reshape(p, [24]), { shape: [24], data: permuteRef(x, [1, 0]).data });
    expect(() => T.reshape(t, [5, -1])).toThrow(/Cannot reshape/);
  });

  test('permute and contiguous', async () => {
    const x = randomHost([2, 3, 4, 5]);
    const p = T.permute(T.tensor(x.data, x.shape), [3, 1, 0, 2]);
    expect(p.isContiguous).toBe(false);
    const c = T.contiguous(p);
    expect(c.isContiguous).toBe(true);
    await expectClose(c, permuteRef(x, [3, 1, 0, 2]));
  });

  test('slice of a slice of a permuted view', async () => {
    const x = randomHost([5, 7, 3]);
    const p = T.permute(T.tensor(x.data, x.shape), [1, 0, 2]); // [7, 5, 3]
    const s = T.slice(T.slice(p, [1, 2, 0], [5, 3, -1]), [2, 1], [2, 2]); // p[3:5, 3:5, :]
    await expectClose(s, sliceRef(permuteRef(x, [1, 0, 2]), [3, 3, 0], [2, 2, 3]));
    expect(() => T.slice(p, [6], [3])).toThrow(/outside/);
  });

  test('expand broadcasts without copying', async () => {
    const x = randomHost([3, 1]);
    const e = T.expand(T.tensor(x.data, x.shape), [2, 3, 4]);
    expect(e.strides).toEqual([0, 1, 0]);
    await expectClose(T.contiguous(e), gather(x, [2, 3, 4], (i) => i[1]));
  });

  test('concat along each axis', async () => {
    for (const axis of [0, 1, 2]) {
      const shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]].map((s, i) => s.map((n, d) => (d === axis ? n + i : n)));
      const xs = shapes.map((s) => randomHost(s));
      await expectClose(T.concat(xs.map((h) => T.tensor(h.data, h.shape)), axis), concatRef(xs, axis));
    }
    expect(() => T.concat([T.zeros([2, 3]), T.zeros([3, 3])], 1)).toThrow(/differ/);
  });

  test('pad with a value', async () => {
    const x = randomHost([3, 4, 5]);
    const pads: [number, number][] = [[0, 1], [2, 0], [1, 3]];
    await expectClose(T.pad(T.tensor(x.data, x.shape), pads, -7), padRef(x, pads, -7));
  });

  test('gradients flow through views and copies', async () => {
    const checks = [
      { inputs: [randomHost([3, 4, 2])], gpu: (t: T.Tensor) => T.mul(T.permute(t, [2, 0, 1]), T.permute(t, [2, 0, 1])), reference: (h: HostTensor) => { const p = permuteRef(h, [2, 0, 1]); return { shape: p.shape, data: p.data.map((v) => v * v) }; } },
      { inputs: [randomHost([5, 6])], gpu: (t: T.Tensor) => T.slice(t, [1, 2], [3, 3]), reference: (h: HostTensor) => sliceRef(h, [1, 2], [3, 3]) },
      { inputs: [randomHost([2, 3])], gpu: (t: T.Tensor) => T.pad(t, [[1, 0], [2, 1]], 0.5), reference: (h: HostTensor) => padRef(h, [[1, 0], [2, 1]], 0.5) },
      { inputs: [randomHost([3, 1])], gpu: (t: T.Tensor) => T.mul(T.expand(t, [2, 3, 4]), 1), reference: (h: HostTensor) => gather(h, [2, 3, 4], (i) => i[1]) },
      { inputs: [randomHost([6])], gpu: (t: T.Tensor) => T.reshape(T.transpose(T.reshape(t, [2, 3])), [6]), reference: (h: HostTensor) => permuteRef({ shape: [2, 3], data: h.data }, [1, 0]) },
    ];
    for (const c of checks) {
      const { gradErrors } = await gradcheck(c);
      expect(gradErrors[0]).toBeLessThan(1e-5);
    }
    const a = randomHost([2, 3]);
    const b = randomHost([2, 2]);
    const { gradErrors } = await gradcheck({ inputs: [a, b], gpu: (x, y) => T.concat([x, y], 1), reference: (x, y) => concatRef([x, y], 1) });
    expect(Math.max(...gradErrors)).toBeLessThan(1e-5);
  });
});
