// Fully connected layer, y = x·Wᵀ + b (PyTorch's nn.functional.linear, weight [out, in]).
import type { Tensor } from '../engine/tensor.js';
import { add } from './elementwise.js';
import { matmul } from './matmul.js';
import { reshape, transpose } from './shape.js';

/** x [..., in] · weight [out, in]ᵀ + bias [out] → [..., out]. Gradients flow to all three. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  if (weight.rank !== 2) throw new Error(`linear: weight must be [out, in], got [${weight.shape.join(', ')}].`);
  const [outFeatures, inFeatures] = weight.shape;
  if (x.rank < 1 || x.shape[x.rank - 1] !== inFeatures) {
    throw new Error(`linear: input [${x.shape.join(', ')}] must end in ${inFeatures} features to match weight [${weight.shape.join(', ')}].`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== outFeatures)) {
    throw new Error(`linear: bias must be [${outFeatures}] for weight [${weight.shape.join(', ')}], got [${bias.shape.join(', ')}].`);
  }
  const leading = x.shape.slice(0, -1);
  const rows = leading.reduce((k, n) => k * n, 1);
  // Leading dims fold into the rows of one product (one large GEMM, not a batch of small ones). Wᵀ is a
  // transposed view that the matmul kernel reads through its transpose flag, so the weight is never copied.
  const product = matmul(reshape(x, [rows, inFeatures]), transpose(weight));
  return reshape(bias ? add(product, bias) : product, [...leading, outFeatures]);
}
