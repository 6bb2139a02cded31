// sumTo, the broadcast's adjoint, used by the gradient rules of every broadcasting op. It runs in backward()
// only (no graph), so it is built on the reduce kernel and a view, and the op files that need it import it
// without importing each other.
import { rowMajorStrides } from '../engine/shape.js';
import type { Shape, Tensor } from '../engine/tensor.js';
import { reduce } from '../kernels/reduce.js';

/** Sums a broadcast gradient back to `shape` (the inverse of broadcasting, for binary-op rules). */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (g.shape.join() === shape.join()) return g;
  const lead = g.rank - shape.length;
  const axes = g.shape.map((_, d) => d).filter((d) => d < lead || (shape[d - lead] === 1 && g.shape[d] !== 1));
  const summed = reduce('sum', g, axes);
  const out = summed.view(shape, rowMajorStrides(shape), 0);
  summed.dispose();
  return out;
}
