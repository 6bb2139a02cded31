// Differentiable conv2d and conv_transpose2d (PyTorch semantics) on the implicit-GEMM kernels.
import { record } from '../autograd/tape.js';
import type { Tensor } from '../engine/tensor.js';
import {
  conv2dForward,
  conv2dInputGrad,
  conv2dWeightGrad,
  convTranspose2dForward,
  convTranspose2dInputGrad,
  convTranspose2dWeightGrad,
  type ConvGeometry,
  type Epilogue,
} from '../kernels/conv.js';
import { binary, type Activation } from '../kernels/elementwise.js';
import { reduce } from '../kernels/reduce.js';

type Pair = number | readonly [number, number];

export interface Conv2dOptions {
  stride?: Pair;
  /** One value, [vertical, horizontal], or per side [top, bottom, left, right]. */
  padding?: number | readonly [number, number] | readonly [number, number, number, number];
  dilation?: Pair;
  groups?: number;
  /** Applied in the kernel's epilogue (saves a pass over the output). */
  activation?: Activation;
  /** LeakyReLU slope (default 0.2, the value the whole network uses). */
  slope?: number;
}

export interface ConvTranspose2dOptions extends Conv2dOptions {
  outputPadding?: Pair;
}

const pair = (v: Pair | undefined, fallback: number): [number, number] =>
  v === undefined ? [fallback, fallback] : typeof v === 'number' ? [v, v] : [v[0], v[1]];

function geometry(o: Conv2dOptions): ConvGeometry {
  const p = o.padding ?? 0;
  const padding: [number, number, number, number] =
    typeof p === 'number' ? [p, p, p, p] : p.length === 2 ? [p[0], p[0], p[1], p[1]] : [p[0], p[1], p[2], p[3]];
  return { stride: pair(o.stride, 1), padding, dilation: pair(o.dilation, 1), groups: o.groups ?? 1 };
}

function epilogueOf(o: Conv2dOptions): Epilogue {
  return { activation: o.activation ?? 'none', slope: o.slope ?? 0.2 };
}

/** The gradient through a fused activation, from the activated output. */
function throughActivation(g: Tensor, y: Tensor, e: Epilogue): { grad: Tensor; temporary: boolean } {
  if (e.activation === 'relu') return { grad: binary('reluGrad', g, y), temporary: true };
  if (e.activation === 'leakyRelu') {
    if (e.slope <= 0) throw new Error('conv: a fused LeakyReLU needs a positive slope to be invertible from its output.');
    return { grad: binary('leakyReluGrad', g, y, e.slope), temporary: true };
  }
  return { grad: g, temporary: false };
}

/** act(conv2d(x, weight) + bias); x [N, Cin, H, W], weight [Cout, Cin/groups, kh, kw], bias [Cout]. */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: Conv2dOptions = {}): Tensor {
  const geom = geometry(options);
  const epilogue = epilogueOf(options);
  const y = conv2dForward(x, weight, bias, geom, epilogue);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record(y, 'conv2d', inputs, (g, needs) => {
    const through = throughActivation(g, y, epilogue);
    const gy = through.grad;
    const grads = [
      needs[0] ? conv2dInputGrad(gy, weight, geom, x.shape) : null,
      needs[1] ? conv2dWeightGrad(gy, x, weight.shape, geom) : null,
      bias && needs[2] ? reduce('sum', gy, [0, 2, 3]) : null,
    ];
    if (through.temporary) gy.dispose();
    return grads;
  });
}

/** act(conv_transpose2d(x, weight) + bias); x [N, Cin, H, W], weight [Cin, Cout/groups, kh, kw], bias [Cout]. */
export function convTranspose2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: ConvTranspose2dOptions = {}): Tensor {
  const geom = geometry(options);
  const epilogue = epilogueOf(options);
  const y = convTranspose2dForward(x, weight, bias, geom, pair(options.outputPadding, 0), epilogue);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record(y, 'conv_transpose2d', inputs, (g, needs) => {
    const through = throughActivation(g, y, epilogue);
    const gy = through.grad;
    const grads = [
      needs[0] ? convTranspose2dInputGrad(gy, weight, geom, x.shape) : null,
      needs[1] ? convTranspose2dWeightGrad(gy, x, weight.shape, geom) : null,
      bias && needs[2] ? reduce('sum', gy, [0, 2, 3]) : null,
    ];
    if (through.temporary) gy.dispose();
    return grads;
  });
}
