// Float64 reference of the batched matmul with broadcast batch dims.
import { broadcastShapes, broadcastStrides, rowMajorStrides, sizeOf } from '../engine/shape.js';
import type { HostTensor } from './host.js';

export function matmulReference(a: HostTensor, b: HostTensor): HostTensor {
  const [M, K] = a.shape.slice(-2);
  const N = b.shape.at(-1)!;
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const aBatch = broadcastStrides(a.shape.slice(0, -2), rowMajorStrides(a.shape.slice(0, -2)), batch);
  const bBatch = broadcastStrides(b.shape.slice(0, -2), rowMajorStrides(b.shape.slice(0, -2)), batch);
  const out = new Float64Array(sizeOf(batch) * M * N);
  const index = new Array<number>(batch.length).fill(0);
  for (let p = 0; p < sizeOf(batch); p++) {
    const ao = index.reduce((o, v, d) => o + v * aBatch[d], 0) * M * K;
    const bo = index.reduce((o, v, d) => o + v * bBatch[d], 0) * K * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a.data[ao + i * K + k] * b.data[bo + k * N + j];
        out[p * M * N + i * N + j] = s;
      }
    }
    for (let d = batch.length - 1; d >= 0 && ++index[d] === batch[d]; d--) index[d] = 0;
  }
  return { shape: [...batch, M, N], data: out };
}
