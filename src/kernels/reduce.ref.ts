// Float64 reference of shaders/reduce.wgsl.
import { normalizeAxes, rowMajorStrides, sizeOf } from '../engine/shape.js';
import type { ReduceOp } from './reduce.js';
import type { HostTensor } from './host.js';

export function reduceReference(op: ReduceOp, x: HostTensor, axes?: number | readonly number[], keepDims = false, scale = 1): HostTensor {
  const reduced = normalizeAxes(axes, x.shape.length);
  const outShapeKeep = x.shape.map((n, d) => (reduced.includes(d) ? 1 : n));
  const outStrides = rowMajorStrides(outShapeKeep);
  const out = new Float64Array(sizeOf(outShapeKeep)).fill(op === 'sum' ? 0 : -Infinity);
  const index = new Array<number>(x.shape.length).fill(0);
  for (let i = 0; i < x.data.length; i++) {
    let o = 0;
    for (let d = 0; d < index.length; d++) if (!reduced.includes(d)) o += index[d] * outStrides[d];
    out[o] = op === 'sum' ? out[o] + x.data[i] : Math.max(out[o], x.data[i]);
    for (let d = index.length - 1; d >= 0 && ++index[d] === x.shape[d]; d--) index[d] = 0;
  }
  for (let i = 0; i < out.length; i++) out[i] *= scale;
  return { shape: keepDims ? outShapeKeep : x.shape.filter((_, d) => !reduced.includes(d)), data: out };
}
