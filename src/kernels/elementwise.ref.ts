// Float64 references of shaders/elementwise.wgsl, one formula per op code.
import type { BinaryOp, UnaryOp } from './elementwise.js';
import { mapBroadcast, type HostTensor } from './host.js';

const unaryRef: Record<UnaryOp, (x: number, alpha: number, beta: number) => number> = {
  copy: (x) => x,
  neg: (x) => -x,
  abs: Math.abs,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  relu: (x) => Math.max(x, 0),
  leakyRelu: (x, a) => (x > 0 ? x : a * x),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: Math.tanh,
  clamp: (x, lo, hi) => Math.min(Math.max(x, lo), hi),
  sign: Math.sign,
  affine: (x, a, b) => x * a + b,
};

const binaryRef: Record<BinaryOp, (a: number, b: number, alpha: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => a ** b,
  min: (a, b) => Math.min(a, b),
  max: (a, b) => Math.max(a, b),
  eq: (a, b) => +(a === b),
  ne: (a, b) => +(a !== b),
  lt: (a, b) => +(a < b),
  le: (a, b) => +(a <= b),
  gt: (a, b) => +(a > b),
  ge: (a, b) => +(a >= b),
  reluGrad: (g, y) => (y > 0 ? g : 0),
  leakyReluGrad: (g, y, s) => (y > 0 ? g : g * s),
  sigmoidGrad: (g, y) => g * y * (1 - y),
  tanhGrad: (g, y) => g * (1 - y * y),
};

export function unaryReference(op: UnaryOp, x: HostTensor, alpha = 0, beta = 0): HostTensor {
  return mapBroadcast([x], (v) => unaryRef[op](v, alpha, beta));
}

export function binaryReference(op: BinaryOp, a: HostTensor, b: HostTensor, alpha = 0): HostTensor {
  return mapBroadcast([a, b], (x, y) => binaryRef[op](x, y, alpha));
}

export function selectReference(cond: HostTensor, a: HostTensor, b: HostTensor): HostTensor {
  return mapBroadcast([cond, a, b], (c, x, y) => (c !== 0 ? x : y));
}
