// Differentiable layout ops. reshape / permute / expand / slice are views (no copy, no kernel); contiguous,
// concat and pad write new tensors through the strided copy kernel.
import { record } from '../autograd/tape.js';
import { broadcastStrides, normalizeAxes, rowMajorStrides, sizeOf } from '../engine/shape.js';
import { Tensor, type Shape } from '../engine/tensor.js';
import { contiguousCopy, copyInto, fillInto } from '../kernels/elementwise.js';
import { sumTo } from './sum-to.js';

/** x laid out row-major with no offset: x itself when it already is, else a copy. */
export function contiguous(x: Tensor): Tensor {
  x.assertAlive();
  if (x.isContiguous && x.offset === 0) return x;
  return record(contiguousCopy(x), 'contiguous', [x], (g) => [g]);
}

/** A new shape with the same elements in row-major order; one dimension may be −1. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const known = shape.filter((d) => d !== -1);
  const inferred = shape.length - known.length;
  const knownSize = sizeOf(known);
  if (inferred > 1 || (inferred === 1 && (knownSize === 0 || x.size % knownSize))) {
    throw new Error(`Cannot reshape [${x.shape.join(', ')}] to [${shape.join(', ')}].`);
  }
  const target = shape.map((d) => (d === -1 ? x.size / knownSize : d));
  if (sizeOf(target) !== x.size) throw new Error(`Cannot reshape [${x.shape.join(', ')}] (${x.size} elements) to [${target.join(', ')}].`);
  const source = x.isContiguous ? x : contiguous(x);
  const y = source.view(target, rowMajorStrides(target), source.offset);
  return record(y, 'reshape', [source], (g) => [reshape(g, source.shape)]);
}

/** Reorders axes: output axis i is input axis dims[i]. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.rank) throw new Error(`permute needs ${x.rank} axes, got [${dims.join(', ')}].`);
  normalizeAxes(dims, x.rank); // range and repetition checks
  const axes = dims.map((d) => (d < 0 ? d + x.rank : d));
  const y = x.view(axes.map((d) => x.shape[d]), axes.map((d) => x.strides[d]));
  const inverse = new Array<number>(x.rank);
  axes.forEach((d, i) => (inverse[d] = i));
  return record(y, 'permute', [x], (g) => [permute(g, inverse)]);
}

/** Swaps two axes (by default the last two). */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const dims = [...Array(x.rank).keys()];
  const [i, j] = normalizeAxes([a, b], x.rank);
  [dims[i], dims[j]] = [dims[j], dims[i]];
  return permute(x, dims);
}

/** Broadcasts x to `shape` as a view (stride 0 along expanded dims). */
export function expand(x: Tensor, shape: Shape): Tensor {
  const ok = shape.length >= x.rank && x.shape.every((n, i) => n === 1 || n === shape[shape.length - x.rank + i]);
  if (!ok) throw new Error(`Cannot expand [${x.shape.join(', ')}] to [${shape.join(', ')}].`);
  const y = x.view(shape, broadcastStrides(x.shape, x.strides, shape));
  return record(y, 'expand', [x], (g) => [sumTo(g, x.shape)]);
}

/** The view x[begin[0] : begin[0]+size[0], …]; size −1 runs to the end; missing trailing dims are whole. */
export function slice(x: Tensor, begin: readonly number[], size: readonly number[] = []): Tensor {
  const starts = x.shape.map((_, d) => begin[d] ?? 0);
  const sizes = x.shape.map((n, d) => (size[d] === undefined || size[d] === -1 ? n - starts[d] : size[d]));
  x.shape.forEach((n, d) => {
    if (starts[d] < 0 || sizes[d] < 0 || starts[d] + sizes[d] > n) {
      throw new Error(`slice [${starts.join(', ')}] + [${sizes.join(', ')}] is outside [${x.shape.join(', ')}].`);
    }
  });
  const offset = x.offset + starts.reduce((o, s, d) => o + s * x.strides[d], 0);
  const y = x.view(sizes, x.strides, offset);
  return record(y, 'slice', [x], (g) => [pad(g, x.shape.map((n, d) => [starts[d], n - starts[d] - sizes[d]] as [number, number]))]);
}

/** Joins tensors along `axis`; all other dims must agree. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error('concat needs at least one tensor.');
  const [ax] = normalizeAxes(axis, xs[0].rank);
  for (const t of xs) {
    if (t.rank !== xs[0].rank || t.shape.some((n, d) => d !== ax && n !== xs[0].shape[d])) {
      throw new Error(`concat along ${ax}: shapes ${xs.map((s) => `[${s.shape.join(', ')}]`).join(', ')} differ off that axis.`);
    }
  }
  const shape = [...xs[0].shape];
  shape[ax] = xs.reduce((n, t) => n + t.shape[ax], 0);
  const out = Tensor.empty(shape);
  const starts: number[] = [];
  let at = 0;
  for (const t of xs) {
    starts.push(at);
    const part = t.shape.map((n, d) => (d === ax ? n : shape[d]));
    copyInto(out.view(part, out.strides, at * out.strides[ax]), t);
    at += t.shape[ax];
  }
  return record(out, 'concat', xs, (g, needs) => xs.map((t, i) => (needs[i] ? slice(g, shape.map((_, d) => (d === ax ? starts[i] : 0)), t.shape) : null)));
}

/** Pads with a constant: pads[d] = [before, after] for the leading dims listed (missing dims: none). */
export function pad(x: Tensor, pads: readonly (readonly [number, number])[], value = 0): Tensor {
  if (pads.length > x.rank) throw new Error(`pad: ${pads.length} pairs for a tensor of rank ${x.rank}.`);
  const widths = x.shape.map((_, d) => pads[d] ?? [0, 0]);
  if (widths.some(([a, b]) => !Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < 0)) {
    throw new Error(`pad widths must be integers ≥ 0, got ${JSON.stringify(pads)}.`);
  }
  const shape = x.shape.map((n, d) => n + widths[d][0] + widths[d][1]);
  const out = Tensor.empty(shape);
  fillInto(out, value);
  const offset = widths.reduce((o, [before], d) => o + before * out.strides[d], 0);
  copyInto(out.view(x.shape, out.strides, offset), x);
  return record(out, 'pad', [x], (g) => [slice(g, widths.map(([before]) => before), x.shape)]);
}
