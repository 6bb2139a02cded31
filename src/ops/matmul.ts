// Differentiable batched matrix product. Gradients reuse the kernel's transpose flags through views:
// dA = g·Bᵀ and dB = Aᵀ·g cost no transposed copies; broadcast batch dims are summed back.
import { record } from '../autograd/tape.js';
import type { Tensor } from '../engine/tensor.js';
import { batchedMatmul } from '../kernels/matmul.js';
import { sumTo } from './sum-to.js';
import { transpose } from './shape.js';

/** a [..., M, K] · b [..., K, N] → [..., M, N], batch dims broadcast. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const y = batchedMatmul(a, b);
  return record(y, 'matmul', [a, b], (g, needs) => [
    needs[0] ? sumTo(batchedMatmul(g, transpose(b)), a.shape) : null,
    needs[1] ? sumTo(batchedMatmul(transpose(a), g), b.shape) : null,
  ]);
}
