// Differentiable elementwise ops. Each family's gradient rules form one table: op → (g, inputs, output) ↦
// input gradients, reusing the forward output where that saves memory (sigmoid, tanh, relu, exp, sqrt).
import { record } from '../autograd/tape.js';
import { Tensor } from '../engine/tensor.js';
import { binary, fill, select, unary, type BinaryOp, type UnaryOp } from '../kernels/elementwise.js';
import { sumTo } from './sum-to.js';

export type Scalar = Tensor | number;

/** A number as a one-element tensor (broadcasts against anything). */
export function scalar(value: number): Tensor {
  return fill([], value);
}

function asTensor(v: Scalar): Tensor {
  return typeof v === 'number' ? scalar(v) : v;
}

// ---- unary ---------------------------------------------------------------------------------------------

type UnaryRule = (g: Tensor, x: Tensor, y: Tensor, alpha: number, beta: number) => Tensor;
/** An op declared without a gradient: its output never joins the graph (PyTorch's comparisons, sign). */
const NOT_DIFFERENTIABLE = 'not differentiable';

// Total tables: an op without an entry is a type error, so no op silently cuts the graph.
const unaryGrad: Record<UnaryOp, UnaryRule | typeof NOT_DIFFERENTIABLE> = {
  copy: (g) => g,
  neg: (g) => unary('neg', g),
  abs: (g, x) => mul(g, unary('sign', x)),
  exp: (g, _x, y) => mul(g, y),
  log: (g, x) => div(g, x),
  sqrt: (g, _x, y) => div(unary('affine', g, 0.5), y),
  relu: (g, _x, y) => binary('reluGrad', g, y),
  leakyRelu: (g, _x, y, slope) => binary('leakyReluGrad', g, y, slope),
  sigmoid: (g, _x, y) => binary('sigmoidGrad', g, y),
  tanh: (g, _x, y) => binary('tanhGrad', g, y),
  clamp: (g, x, _y, lo, hi) => mul(g, mul(binary('ge', x, scalar(lo)), binary('le', x, scalar(hi)))),
  affine: (g, _x, _y, a) => unary('affine', g, a, 0),
  sign: NOT_DIFFERENTIABLE,
};

function unaryOp(op: UnaryOp, x: Tensor, alpha = 0, beta = 0): Tensor {
  const y = unary(op, x, alpha, beta);
  const rule = unaryGrad[op];
  return rule === NOT_DIFFERENTIABLE ? y : record(y, op, [x], (g) => [rule(g, x, y, alpha, beta)]);
}

export const neg = (x: Tensor) => unaryOp('neg', x);
export const abs = (x: Tensor) => unaryOp('abs', x);
export const exp = (x: Tensor) => unaryOp('exp', x);
export const log = (x: Tensor) => unaryOp('log', x);
export const sqrt = (x: Tensor) => unaryOp('sqrt', x);
export const relu = (x: Tensor) => unaryOp('relu', x);
/** LeakyReLU; its gradient is computed from the output, so the slope must be positive. */
export const leakyRelu = (x: Tensor, slope = 0.2) => {
  if (!(slope > 0)) throw new Error(`leakyRelu slope must be > 0, got ${slope}`);
  return unaryOp('leakyRelu', x, slope);
};
export const sigmoid = (x: Tensor) => unaryOp('sigmoid', x);
export const tanh = (x: Tensor) => unaryOp('tanh', x);
export const clamp = (x: Tensor, lo: number, hi: number) => unaryOp('clamp', x, lo, hi);
/** sign(x) ∈ {−1, 0, 1}; not differentiable. */
export const sign = (x: Tensor) => unaryOp('sign', x);
/** x·scale + shift in one pass. */
export const affine = (x: Tensor, scale: number, shift: number) => unaryOp('affine', x, scale, shift);
/** A differentiable copy with its own storage. */
export const copy = (x: Tensor) => unaryOp('copy', x);

// ---- binary (broadcasting) -------------------------------------------------------------------------------

/** The gradients of a and b, each computed only where `needs` asks (null otherwise). */
type BinaryRule = (g: Tensor, a: Tensor, b: Tensor, y: Tensor, needs: readonly boolean[]) => [Tensor | null, Tensor | null];

/** [f(), null] or the like: each side's gradient only where it is needed. */
const either = (needs: readonly boolean[], ga: () => Tensor, gb: () => Tensor): [Tensor | null, Tensor | null] => [needs[0] ? ga() : null, needs[1] ? gb() : null];

/** g where `winner` (a 0/1 mask) holds, g/2 on ties (a = b), as PyTorch splits minimum's and maximum's gradient. */
const tieSplit = (g: Tensor, winner: Tensor, a: Tensor, b: Tensor) => mul(g, add(winner, unary('affine', binary('eq', a, b), 0.5, 0)));

const binaryGrad: Record<BinaryOp, BinaryRule | typeof NOT_DIFFERENTIABLE> = {
  add: (g, _a, _b, _y, n) => either(n, () => g, () => g),
  sub: (g, _a, _b, _y, n) => either(n, () => g, () => unary('neg', g)),
  mul: (g, a, b, _y, n) => either(n, () => mul(g, b), () => mul(g, a)),
  div: (g, _a, b, y, n) => either(n, () => div(g, b), () => neg(div(mul(g, y), b))),
  // d/da a^b = b·a^(b−1); d/db = a^b·ln a (defined for a > 0).
  pow: (g, a, b, y, n) => either(n, () => mul(g, mul(b, binary('pow', a, sub(b, 1)))), () => mul(g, mul(y, unary('log', a)))),
  min: (g, a, b, _y, n) => either(n, () => tieSplit(g, binary('lt', a, b), a, b), () => tieSplit(g, binary('gt', a, b), a, b)),
  max: (g, a, b, _y, n) => either(n, () => tieSplit(g, binary('gt', a, b), a, b), () => tieSplit(g, binary('lt', a, b), a, b)),
  eq: NOT_DIFFERENTIABLE,
  ne: NOT_DIFFERENTIABLE,
  lt: NOT_DIFFERENTIABLE,
  le: NOT_DIFFERENTIABLE,
  gt: NOT_DIFFERENTIABLE,
  ge: NOT_DIFFERENTIABLE,
  // The backward kernels of the activations run under noGrad; a second derivative is not offered.
  reluGrad: NOT_DIFFERENTIABLE,
  leakyReluGrad: NOT_DIFFERENTIABLE,
  sigmoidGrad: NOT_DIFFERENTIABLE,
  tanhGrad: NOT_DIFFERENTIABLE,
};

/** Whether an elementwise op has a gradient rule (tests walk the tables with it: every rule is gradchecked). */
export function isDifferentiable(op: UnaryOp | BinaryOp): boolean {
  const rule = op in unaryGrad ? unaryGrad[op as UnaryOp] : binaryGrad[op as BinaryOp];
  return rule !== NOT_DIFFERENTIABLE;
}

function binaryOp(op: BinaryOp, a: Scalar, b: Scalar): Tensor {
  const ta = asTensor(a);
  const tb = asTensor(b);
  const y = binary(op, ta, tb);
  const rule = binaryGrad[op];
  if (rule === NOT_DIFFERENTIABLE) return y;
  return record(y, op, [ta, tb], (g, needs) => {
    const [ga, gb] = rule(g, ta, tb, y, needs);
    return [ga && sumTo(ga, ta.shape), gb && sumTo(gb, tb.shape)];
  });
}

/** a + b; a number operand folds into one affine pass. */
export function add(a: Scalar, b: Scalar): Tensor {
  if (typeof b === 'number' && typeof a !== 'number') return affine(a, 1, b);
  if (typeof a === 'number' && typeof b !== 'number') return affine(b, 1, a);
  return binaryOp('add', a, b);
}

export function sub(a: Scalar, b: Scalar): Tensor {
  if (typeof b === 'number' && typeof a !== 'number') return affine(a, 1, -b);
  if (typeof a === 'number' && typeof b !== 'number') return affine(b, -1, a);
  return binaryOp('sub', a, b);
}

export function mul(a: Scalar, b: Scalar): Tensor {
  if (typeof b === 'number' && typeof a !== 'number') return affine(a, b, 0);
  if (typeof a === 'number' && typeof b !== 'number') return affine(b, a, 0);
  return binaryOp('mul', a, b);
}

export const div = (a: Scalar, b: Scalar) => binaryOp('div', a, b);
export const pow = (a: Scalar, b: Scalar) => binaryOp('pow', a, b);
export const minimum = (a: Scalar, b: Scalar) => binaryOp('min', a, b);
export const maximum = (a: Scalar, b: Scalar) => binaryOp('max', a, b);

// Comparisons give 1 / 0 and carry no gradient.
export const eq = (a: Scalar, b: Scalar) => binaryOp('eq', a, b);
export const ne = (a: Scalar, b: Scalar) => binaryOp('ne', a, b);
export const lt = (a: Scalar, b: Scalar) => binaryOp('lt', a, b);
export const le = (a: Scalar, b: Scalar) => binaryOp('le', a, b);
export const gt = (a: Scalar, b: Scalar) => binaryOp('gt', a, b);
export const ge = (a: Scalar, b: Scalar) => binaryOp('ge', a, b);

/** cond ≠ 0 ? a : b, broadcasting all three; the gradient flows to the branch that was taken. */
export function where(cond: Tensor, a: Scalar, b: Scalar): Tensor {
  const ta = asTensor(a);
  const tb = asTensor(b);
  const y = select(cond, ta, tb);
  return record(y, 'where', [cond, ta, tb], (g, needs) => {
    const zero = scalar(0);
    return [null, needs[1] ? sumTo(select(cond, g, zero), ta.shape) : null, needs[2] ? sumTo(select(cond, zero, g), tb.shape) : null];
  });
}
