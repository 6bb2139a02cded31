// Float64 references of shaders/elementwise.wgsl: each op's formula is declared beside its WGSL expression in
// src/kernels/elementwise.ts; these apply it with broadcasting.
import { BINARY_OPS, UNARY_OPS, type BinaryOp, type UnaryOp } from './elementwise.js';
import { mapBroadcast, type HostTensor } from './host.js';

export function unaryReference(op: UnaryOp, x: HostTensor, alpha = 0, beta = 0): HostTensor {
  const f = UNARY_OPS[op].reference as (x: number, alpha: number, beta: number) => number;
  return mapBroadcast([x], (v) => f(v, alpha, beta));
}

export function binaryReference(op: BinaryOp, a: HostTensor, b: HostTensor, alpha = 0): HostTensor {
  const f = BINARY_OPS[op].reference as (a: number, b: number, alpha: number) => number;
  return mapBroadcast([a, b], (x, y) => f(x, y, alpha));
}

export function selectReference(cond: HostTensor, a: HostTensor, b: HostTensor): HostTensor {
  return mapBroadcast([cond, a, b], (c, x, y) => (c !== 0 ? x : y));
}
