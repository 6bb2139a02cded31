// 2-D average / max pooling over NCHW views (shaders/pool.wgsl): the window geometry and its checks, and one
// launch per pass. Raw kernels: no autograd here (see src/ops/pool.ts).
import shader from '../../shaders/pool.wgsl';
import { engine } from '../engine/engine.js';
import { Tensor, type Shape } from '../engine/tensor.js';
import { grid1d, shaderSource, uniformStruct } from './uniforms.js';

/** A size given once for both spatial axes, or as [height, width]. */
export type PoolSize = number | readonly [number, number];

/** A validated pooling window over a given NCHW input shape. */
export interface PoolGeometry {
  input: [number, number, number, number];
  output: [number, number, number, number];
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
}

const WG = 256;

const Params = uniformStruct('PoolParams', {
  /** Invocations: output elements (forward) or input elements (backward). */
  count: 'u32',
  /** C; a plane index is n·C + c. */
  channels: 'u32',
  in_h: 'u32',
  in_w: 'u32',
  out_h: 'u32',
  out_w: 'u32',
  kernel_h: 'u32',
  kernel_w: 'u32',
  stride_h: 'u32',
  stride_w: 'u32',
  pad_h: 'u32',
  pad_w: 'u32',
  /** 1 / (kh·kw) for the average. */
  scale: 'f32',
  /** First element of the strided operand (x, or the gradient in the average's backward). */
  x_offset: 'u32',
  /** First element of the output gradient in max_pool_backward. */
  grad_offset: 'u32',
  /** N, C, H, W strides in elements of that operand. */
  x_strides: 'vec4<u32>',
  grad_strides: 'vec4<u32>',
});
const source = shaderSource(shader, Params);

function pair(v: PoolSize): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

/**
 * The output shape of pooling `shape` with PyTorch's floor-mode rule, out = ⌊(in + 2·pad − kernel) / stride⌋ + 1,
 * after the checks PyTorch makes (including padding ≤ kernel / 2, which keeps every window over real input).
 */
export function poolGeometry(op: string, shape: Shape, kernel: PoolSize, stride: PoolSize, padding: PoolSize): PoolGeometry {
  if (shape.length !== 4) throw new Error(`${op} expects an NCHW tensor of rank 4, got [${shape.join(', ')}].`);
  const [k, s, pad] = [pair(kernel), pair(stride), pair(padding)];
  const describe = `kernel [${k}], stride [${s}], padding [${pad}]`;
  if (![...k, ...s].every((v) => Number.isInteger(v) && v >= 1) || !pad.every((v) => Number.isInteger(v) && v >= 0)) {
    throw new Error(`${op}: kernel and stride must be integers ≥ 1 and padding an integer ≥ 0, got ${describe}.`);
  }
  if (pad[0] > k[0] / 2 || pad[1] > k[1] / 2) {
    throw new Error(`${op}: padding must be at most half the kernel size, got ${describe}.`);
  }
  const [n, c, h, w] = shape;
  if (h === 0 || w === 0) throw new Error(`${op}: the input [${shape.join(', ')}] has no pixels to pool.`);
  if (h + 2 * pad[0] < k[0] || w + 2 * pad[1] < k[1]) {
    throw new Error(`${op}: the ${k[0]}×${k[1]} kernel is larger than the padded input ${h + 2 * pad[0]}×${w + 2 * pad[1]} (input [${shape.join(', ')}], ${describe}).`);
  }
  const out = (size: number, d: 0 | 1) => Math.floor((size + 2 * pad[d] - k[d]) / s[d]) + 1;
  return { input: [n, c, h, w], output: [n, c, out(h, 0), out(w, 1)], kernel: k, stride: s, padding: pad };
}

/**
 * One launch of `entry` over `count` invocations. `strided` is read through its NCHW strides (x, or the gradient
 * in the average's backward; the 2×2 kernels use only its offset); `grad` is max_pool_backward's output gradient.
 */
function launch(entry: string, g: PoolGeometry, count: number, buffers: GPUBuffer[], strided: Tensor, grad?: Tensor): void {
  const [, c, h, w] = g.input;
  const [, , oh, ow] = g.output;
  const uniforms = Params.pack({
    count, channels: c, in_h: h, in_w: w, out_h: oh, out_w: ow,
    kernel_h: g.kernel[0], kernel_w: g.kernel[1], stride_h: g.stride[0], stride_w: g.stride[1], pad_h: g.padding[0], pad_w: g.padding[1],
    scale: 1 / (g.kernel[0] * g.kernel[1]), x_offset: strided.offset, grad_offset: grad?.offset ?? 0,
    x_strides: strided.strides, grad_strides: grad?.strides ?? [],
  });
  const [n] = g.input;
  engine().dispatch({ family: 'pool', source, entry }, uniforms, buffers, grid1d(count, WG), {
    bytes: 4 * n * c * (h * w + oh * ow),
    shape: `${g.kernel.join('×')} s${g.stride[0]} ${c}@${h}×${w}${n > 1 ? ` ×${n}` : ''}`,
  });
}

function expectShape(op: string, t: Tensor, expected: readonly number[]): void {
  t.assertAlive();
  if (t.shape.join() !== expected.join()) throw new Error(`${op}: expected a tensor of shape [${expected.join(', ')}], got [${t.shape.join(', ')}].`);
}

/**
 * Whether the vec4 kernels for k2 s2 p0 apply (the discriminator's shortcut, 2–3× faster on llvmpipe): rows of
 * a multiple of 4 pixels, and `t` contiguous from an offset that is a multiple of `align` elements.
 */
function isVectorShortcut(g: PoolGeometry, t: Tensor, align: number): boolean {
  const k2s2 = [...g.kernel, ...g.stride].every((v) => v === 2) && g.padding.every((v) => v === 0);
  return k2s2 && g.input[3] % 4 === 0 && t.isContiguous && t.offset % align === 0;
}

/** Mean over each window; padding counts as zeros in the kh·kw divisor. */
export function avgPool2dForward(x: Tensor, g: PoolGeometry): Tensor {
  expectShape('avg_pool', x, g.input);
  const out = Tensor.empty(g.output);
  if (out.size === 0) return out;
  const buffers = [x.storage.buffer, out.storage.buffer];
  if (isVectorShortcut(g, x, 4)) launch('avg_pool_2x2', g, out.size / 2, buffers, x);
  else launch('avg_pool', g, out.size, buffers, x);
  return out;
}

/** Maximum over each window (padding never wins). */
export function maxPool2dForward(x: Tensor, g: PoolGeometry): Tensor {
  expectShape('max_pool', x, g.input);
  const out = Tensor.empty(g.output);
  if (out.size > 0) launch('max_pool', g, out.size, [x.storage.buffer, out.storage.buffer], x);
  return out;
}

/** The input gradient of avgPool2dForward: each window's gradient spread evenly over its kh·kw cells. */
export function avgPool2dBackward(grad: Tensor, g: PoolGeometry): Tensor {
  expectShape('avg_pool_backward', grad, g.output);
  const dx = Tensor.empty(g.input);
  if (dx.size === 0) return dx;
  const buffers = [grad.storage.buffer, dx.storage.buffer];
  if (isVectorShortcut(g, grad, 2)) launch('avg_pool_2x2_backward', g, dx.size / 4, buffers, grad);
  else launch('avg_pool_backward', g, dx.size, buffers, grad);
  return dx;
}

/**
 * The input gradient of maxPool2dForward: each window's gradient goes to its first maximum in row-major scan
 * order (PyTorch's argmax). `pooled` is the forward output for `x`.
 */
export function maxPool2dBackward(x: Tensor, pooled: Tensor, grad: Tensor, g: PoolGeometry): Tensor {
  expectShape('max_pool_backward', x, g.input);
  expectShape('max_pool_backward', grad, g.output);
  expectShape('max_pool_backward', pooled, g.output);
  if (!pooled.isContiguous || pooled.offset !== 0) throw new Error('max_pool_backward: the pooled output must be the contiguous forward result.');
  const dx = Tensor.empty(g.input);
  if (dx.size > 0) {
    launch('max_pool_backward', g, dx.size, [x.storage.buffer, pooled.storage.buffer, grad.storage.buffer, dx.storage.buffer], x, grad);
  }
  return dx;
}
