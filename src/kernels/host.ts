// Float64 host tensors for the CPU references every kernel is tested against.
import { broadcastShapes, broadcastStrides, rowMajorStrides, sizeOf, type Shape } from '../engine/shape.js';

export interface HostTensor {
  shape: number[];
  data: Float64Array;
}

export function host(shape: Shape, data: ArrayLike<number>): HostTensor {
  if (data.length !== sizeOf(shape)) throw new Error(`host tensor: ${data.length} values for shape [${shape.join(', ')}]`);
  return { shape: [...shape], data: Float64Array.from(data) };
}

/** Applies f elementwise with broadcasting. */
export function mapBroadcast(inputs: HostTensor[], f: (...v: number[]) => number): HostTensor {
  const shape = broadcastShapes(...inputs.map((t) => t.shape));
  const strides = inputs.map((t) => broadcastStrides(t.shape, rowMajorStrides(t.shape), shape));
  const n = sizeOf(shape);
  const out = new Float64Array(n);
  const index = new Array<number>(shape.length).fill(0);
  const args = new Array<number>(inputs.length);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < inputs.length; k++) {
      let off = 0;
      for (let d = 0; d < shape.length; d++) off += index[d] * strides[k][d];
      args[k] = inputs[k].data[off];
    }
    out[i] = f(...args);
    for (let d = shape.length - 1; d >= 0 && ++index[d] === shape[d]; d--) index[d] = 0;
  }
  return { shape, data: out };
}
