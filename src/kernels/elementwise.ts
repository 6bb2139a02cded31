// Elementwise launches over strided views (shaders/elementwise.wgsl): unary, binary and select ops with
// broadcasting, fills and copies into views. Raw kernels: no autograd here (see src/ops/).
import source from '../../shaders/elementwise.wgsl';
import { engine, type Kernel } from '../engine/engine.js';
import { broadcastShapes, broadcastStrides, collapseDims } from '../engine/shape.js';
import { Tensor, type Shape } from '../engine/tensor.js';
import { grid1d, UniformWriter } from './uniforms.js';

/** Op codes of shaders/elementwise.wgsl's `unary_op`. */
export const UNARY = {
  copy: 0, neg: 1, abs: 2, exp: 3, log: 4, sqrt: 5, relu: 6, leakyRelu: 7, sigmoid: 8, tanh: 9, clamp: 10, sign: 11, affine: 12,
} as const;
export type UnaryOp = keyof typeof UNARY;

/** Op codes of `binary_op`; the *Grad ops take (upstream gradient, op output). */
export const BINARY = {
  add: 0, sub: 1, mul: 2, div: 3, pow: 4, min: 5, max: 6, eq: 7, ne: 8, lt: 9, le: 10, gt: 11, ge: 12,
  reluGrad: 13, leakyReluGrad: 14, sigmoidGrad: 15, tanhGrad: 16,
} as const;
export type BinaryOp = keyof typeof BINARY;

const MAX_RANK = 8;
const WG = 256;

function kernel(entry: string, op = 0): Kernel {
  return { family: 'elementwise', source, entry, constants: { OP: op } };
}

/** Runs `entry` over out's shape; operands are broadcast to it. Binding order: operands, then out. */
function launch(entry: string, op: number, out: Tensor, operands: Tensor[], alpha = 0, beta = 0): void {
  for (const t of [out, ...operands]) t.assertAlive();
  if (operands.some((t) => t.storage === out.storage)) {
    throw new Error('An elementwise kernel cannot read the tensor it writes (same GPU buffer); copy the input first.');
  }
  if (out.size === 0) return;
  const strides = [out.strides, ...operands.map((t) => broadcastStrides(t.shape, t.strides, out.shape))];
  const collapsed = collapseDims(out.shape, strides);
  if (collapsed.shape.length > MAX_RANK) throw new Error(`Elementwise ops support at most ${MAX_RANK} non-mergeable dims.`);
  const perDim: number[] = [];
  collapsed.shape.forEach((_, d) => perDim.push(...[0, 1, 2, 3].map((k) => collapsed.strides[k]?.[d] ?? 0)));
  const uniforms = new UniformWriter()
    .u32(out.size)
    .u32(collapsed.shape.length)
    .f32(alpha)
    .f32(beta)
    .u32Array(collapsed.shape, MAX_RANK)
    .u32Array(perDim, MAX_RANK * 4)
    .u32Array([out.offset, ...operands.map((t) => t.offset)], 4)
    .done();
  // Each operand read once at most (a broadcast one is smaller than the output), the output written once.
  const bytes = 4 * (out.size + operands.reduce((n, t) => n + Math.min(t.size, out.size), 0));
  engine().dispatch(kernel(entry, op), uniforms, [...operands.map((t) => t.storage.buffer), out.storage.buffer], grid1d(out.size, WG), {
    bytes,
    shape: `[${out.shape.join('×')}]${collapsed.shape.length > 1 ? ` rank ${collapsed.shape.length}` : ''}`,
  });
}

export function unary(op: UnaryOp, x: Tensor, alpha = 0, beta = 0): Tensor {
  const out = Tensor.empty(x.shape);
  launch('unary', UNARY[op], out, [x], alpha, beta);
  return out;
}

export function binary(op: BinaryOp, a: Tensor, b: Tensor, alpha = 0): Tensor {
  const out = Tensor.empty(broadcastShapes(a.shape, b.shape));
  launch('binary', BINARY[op], out, [a, b], alpha);
  return out;
}

/** cond != 0 ? a : b, broadcast over all three. */
export function select(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  const out = Tensor.empty(broadcastShapes(cond.shape, a.shape, b.shape));
  launch('where_select', 0, out, [cond, a, b]);
  return out;
}

export function fill(shape: Shape, value: number): Tensor {
  const out = Tensor.empty(shape);
  fillInto(out, value);
  return out;
}

/** Writes `value` into every element of a (possibly strided) view. */
export function fillInto(view: Tensor, value: number): void {
  launch('fill', 0, view, [], value);
}

/** Copies `src` (broadcast to dst's shape) into the view `dst`. */
export function copyInto(dst: Tensor, src: Tensor): void {
  launch('unary', UNARY.copy, dst, [src]);
}

/** A contiguous copy of any view. */
export function contiguousCopy(x: Tensor): Tensor {
  return unary('copy', x);
}
