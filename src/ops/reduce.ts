// Differentiable reductions: sum, mean, max over any axes.
import { record } from '../autograd/tape.js';
import { normalizeAxes } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';
import { reduce } from '../kernels/reduce.js';
import { div, eq, mul } from './elementwise.js';
import { expand, reshape } from './shape.js';

type Axes = number | readonly number[];

/** The gradient of a reduction broadcast back over the input: g with the reduced axes restored as 1. */
function spread(g: Tensor, x: Tensor, axes: number[]): Tensor {
  return expand(reshape(g, x.shape.map((n, d) => (axes.includes(d) ? 1 : n))), x.shape);
}

export function sum(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const dims = normalizeAxes(axes, x.rank);
  const y = reduce('sum', x, dims, keepDims);
  return record(y, 'sum', [x], (g) => [spread(g, x, dims)]);
}

export function mean(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const dims = normalizeAxes(axes, x.rank);
  const count = dims.reduce((k, d) => k * x.shape[d], 1);
  const y = reduce('sum', x, dims, keepDims, 1 / count);
  return record(y, 'mean', [x], (g) => [mul(spread(g, x, dims), 1 / count)]);
}

/** Max over axes; ties share the gradient equally. */
export function max(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const dims = normalizeAxes(axes, x.rank);
  const y = reduce('max', x, dims, keepDims);
  return record(y, 'max', [x], (g) => {
    const winners = eq(x, spread(y, x, dims));
    return [div(mul(winners, spread(g, x, dims)), spread(reduce('sum', winners, dims, keepDims), x, dims))];
  });
}

