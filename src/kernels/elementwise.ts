// Elementwise launches over strided views (shaders/elementwise.wgsl): unary, binary and select ops with
// broadcasting, fills and copies into views. Raw kernels: no autograd here (see src/ops/).
import shader from '../../shaders/elementwise.wgsl';
import { engine, type Kernel } from '../engine/engine.js';
import { broadcastShapes, broadcastStrides, collapseDims } from '../engine/shape.js';
import { Tensor, type Shape } from '../engine/tensor.js';
import { grid1d, shaderSource, uniformStruct } from './uniforms.js';

/**
 * One elementwise op: its WGSL expression and its float64 reference, side by side. A unary op reads `x`, a binary
 * op `a` and `b`; both may read the launch's scalars `alpha` and `beta`. The op code is the op's position in its
 * table, and the kernel's switch is generated from the table, so an op is declared here once; its gradient rule
 * is in src/ops/elementwise.ts (the autograd layer sits above the kernels), in a table that must name every op.
 */
interface OpDeclaration<F> {
  wgsl: string;
  reference: F;
}
type UnaryReference = (x: number, alpha: number, beta: number) => number;
type BinaryReference = (a: number, b: number, alpha: number) => number;

export const UNARY_OPS = {
  copy: { wgsl: 'x', reference: (x) => x },
  neg: { wgsl: '-x', reference: (x) => -x },
  abs: { wgsl: 'abs(x)', reference: Math.abs },
  exp: { wgsl: 'exp(x)', reference: Math.exp },
  log: { wgsl: 'log(x)', reference: Math.log },
  sqrt: { wgsl: 'sqrt(x)', reference: Math.sqrt },
  relu: { wgsl: 'max(x, 0.0)', reference: (x) => Math.max(x, 0) },
  /** Slope alpha. */
  leakyRelu: { wgsl: 'select(x * alpha, x, x > 0.0)', reference: (x, a) => (x > 0 ? x : a * x) },
  sigmoid: { wgsl: '1.0 / (1.0 + exp(-x))', reference: (x) => 1 / (1 + Math.exp(-x)) },
  // tanh saturates to ±1 in f32 beyond |x| 9; the clamp keeps exp-based implementations away from inf/inf = NaN.
  tanh: { wgsl: 'tanh(clamp(x, -15.0, 15.0))', reference: Math.tanh },
  /** Into [alpha, beta]. */
  clamp: { wgsl: 'clamp(x, alpha, beta)', reference: (x, lo, hi) => Math.min(Math.max(x, lo), hi) },
  sign: { wgsl: 'sign(x)', reference: Math.sign },
  /** x·alpha + beta. */
  affine: { wgsl: 'x * alpha + beta', reference: (x, a, b) => x * a + b },
} satisfies Record<string, OpDeclaration<UnaryReference>>;
export type UnaryOp = keyof typeof UNARY_OPS;

/** The *Grad ops take (upstream gradient, the op's output): gradients that need only the output (memory-lean saves). */
export const BINARY_OPS = {
  add: { wgsl: 'a + b', reference: (a, b) => a + b },
  sub: { wgsl: 'a - b', reference: (a, b) => a - b },
  mul: { wgsl: 'a * b', reference: (a, b) => a * b },
  div: { wgsl: 'a / b', reference: (a, b) => a / b },
  /** Real-valued conventions of PyTorch (shaders/elementwise.wgsl's power). */
  pow: { wgsl: 'power(a, b)', reference: (a, b) => a ** b },
  min: { wgsl: 'min(a, b)', reference: (a, b) => Math.min(a, b) },
  max: { wgsl: 'max(a, b)', reference: (a, b) => Math.max(a, b) },
  eq: { wgsl: 'select(0.0, 1.0, a == b)', reference: (a, b) => +(a === b) },
  ne: { wgsl: 'select(0.0, 1.0, a != b)', reference: (a, b) => +(a !== b) },
  lt: { wgsl: 'select(0.0, 1.0, a < b)', reference: (a, b) => +(a < b) },
  le: { wgsl: 'select(0.0, 1.0, a <= b)', reference: (a, b) => +(a <= b) },
  gt: { wgsl: 'select(0.0, 1.0, a > b)', reference: (a, b) => +(a > b) },
  ge: { wgsl: 'select(0.0, 1.0, a >= b)', reference: (a, b) => +(a >= b) },
  reluGrad: { wgsl: 'select(0.0, a, b > 0.0)', reference: (g, y) => (y > 0 ? g : 0) },
  /** Slope alpha > 0, so y > 0 exactly when x > 0. */
  leakyReluGrad: { wgsl: 'select(a * alpha, a, b > 0.0)', reference: (g, y, s) => (y > 0 ? g : g * s) },
  sigmoidGrad: { wgsl: 'a * b * (1.0 - b)', reference: (g, y) => g * y * (1 - y) },
  tanhGrad: { wgsl: 'a * (1.0 - b * b)', reference: (g, y) => g * (1 - y * y) },
} satisfies Record<string, OpDeclaration<BinaryReference>>;
export type BinaryOp = keyof typeof BINARY_OPS;

/** `fn name(args, alpha, beta) -> f32` switching on the OP override over a table's expressions. */
function opSwitch(name: string, args: string, table: Record<string, { wgsl: string }>): string {
  const cases = Object.entries(table).map(([op, d], code) => `    case ${code}u: { return ${d.wgsl}; }  // ${op}`);
  return [
    `// Generated from the op table in src/kernels/elementwise.ts: op code = position in the table.`,
    `fn ${name}(${args}, alpha: f32, beta: f32) -> f32 {`,
    '  switch OP {',
    ...cases,
    `    default: { return ${args.split(':')[0]}; }`,
    '  }',
    '}',
  ].join('\n');
}

/**
 * The activations a convolution or a matrix product applies in its store (their epilogue): elementwise ops, so
 * their WGSL and float64 formulas are the table's. `fusedActivation` is the WGSL the kernels include: an `ACT`
 * override (FUSED_ACTIVATIONS position; 0 none) and `activate(v, alpha)` for a vec4.
 */
export const FUSED_ACTIVATIONS = ['none', 'relu', 'leakyRelu'] as const satisfies readonly ('none' | UnaryOp)[];
export type Activation = (typeof FUSED_ACTIVATIONS)[number];
export const activationCode = (a: Activation) => FUSED_ACTIVATIONS.indexOf(a);

/** The float64 formula of a fused activation. */
export function activationReference(a: Activation, v: number, slope: number): number {
  return a === 'none' ? v : (UNARY_OPS[a].reference as UnaryReference)(v, slope, 0);
}

export const fusedActivation = [
  `// Generated from FUSED_ACTIVATIONS and the op table in src/kernels/elementwise.ts: ACT ${FUSED_ACTIVATIONS.map((a, i) => `${i} ${a}`).join(', ')}.`,
  'override ACT: u32 = 0u;',
  'fn activate1(x: f32, alpha: f32) -> f32 {',
  '  switch ACT {',
  ...FUSED_ACTIVATIONS.flatMap((a, code) => (a === 'none' ? [] : [`    case ${code}u: { return ${UNARY_OPS[a].wgsl}; }`])),
  '    default: { return x; }',
  '  }',
  '}',
  'fn activate(v: vec4<f32>, alpha: f32) -> vec4<f32> {',
  '  return vec4<f32>(activate1(v.x, alpha), activate1(v.y, alpha), activate1(v.z, alpha), activate1(v.w, alpha));',
  '}',
].join('\n');

/** Op name → its code (its position in the table). */
const codes = <T extends object>(table: T) => Object.fromEntries(Object.keys(table).map((op, code) => [op, code])) as Record<keyof T, number>;
const UNARY_CODE = codes(UNARY_OPS);
const BINARY_CODE = codes(BINARY_OPS);

const Params = uniformStruct('ElementwiseParams', {
  /** Output elements. */
  count: 'u32',
  /** Dims in use (≤ 8). */
  rank: 'u32',
  /** The op's scalars (slope, clamp bounds, affine scale and shift, fill value). */
  alpha: 'f32',
  beta: 'f32',
  /** Output shape, outermost first. */
  shape: 'array<vec4<u32>, 2>',
  /** Per dim d: strides[d] = (out, a, b, c) strides in elements. */
  strides: 'array<vec4<u32>, 8>',
  /** First element of out, a, b, c. */
  offsets: 'vec4<u32>',
});

const source = shaderSource(shader, Params, opSwitch('unary_op', 'x: f32', UNARY_OPS), opSwitch('binary_op', 'a: f32, b: f32', BINARY_OPS));

const MAX_RANK = 8;
const WG = 256;

function kernel(entry: string, op = 0): Kernel {
  return { family: 'elementwise', source, entry, constants: { OP: op } };
}

/** The entry points with a four-element variant (`unary4`, `binary4`). */
const VEC4_ENTRIES = new Set(['unary', 'binary']);

/**
 * A unary launch whose output is not contiguous along its innermost dimension but whose source is along another
 * (a permuted copy), reordered to run along the source: that dimension moves innermost, where unary4_scatter reads
 * it as vec4 and writes four strided values. Null when there is no such dimension.
 */
function alongSource(collapsed: { shape: number[]; strides: number[][] }, source: Tensor): { shape: number[]; strides: number[][] } | null {
  const [out, src] = collapsed.strides;
  const rank = collapsed.shape.length;
  if (rank < 2 || src[rank - 1] === 1 || source.offset % 4 !== 0) return null;
  const d = src.findIndex((s, k) => s === 1 && collapsed.shape[k] % 4 === 0);
  if (d < 0 || out[d] === 0 || src.some((s, k) => k !== d && s % 4 !== 0)) return null;
  const order = [...collapsed.shape.keys()].filter((k) => k !== d).concat(d);
  return { shape: order.map((k) => collapsed.shape[k]), strides: collapsed.strides.map((st) => order.map((k) => st[k])) };
}

/**
 * Whether a launch can take four elements of the innermost collapsed dimension at a time: its length a multiple
 * of 4, the output contiguous along it, and each operand either contiguous along it or broadcast (stride 0). A
 * contiguous operand is read as vec4, so its offset and every outer stride must be multiples of 4 as well.
 */
function vec4Launch(collapsed: { shape: number[]; strides: number[][] }, tensors: Tensor[]): boolean {
  const rank = collapsed.shape.length;
  if (rank === 0 || collapsed.shape[rank - 1] % 4 !== 0) return false;
  return tensors.every((t, k) => {
    const strides = collapsed.strides[k];
    if (strides[rank - 1] === 0) return k > 0;
    return strides[rank - 1] === 1 && t.offset % 4 === 0 && strides.slice(0, -1).every((s) => s % 4 === 0);
  });
}

/** Runs `entry` over out's shape; operands are broadcast to it. Binding order: operands, then out. */
function launch(entry: string, op: number, out: Tensor, operands: Tensor[], alpha = 0, beta = 0): void {
  for (const t of [out, ...operands]) t.assertAlive();
  if (operands.some((t) => t.storage === out.storage)) {
    throw new Error('An elementwise kernel cannot read the tensor it writes (same GPU buffer); copy the input first.');
  }
  if (out.size === 0) return;
  const strides = [out.strides, ...operands.map((t) => broadcastStrides(t.shape, t.strides, out.shape))];
  let collapsed = collapseDims(out.shape, strides);
  let scatter = false;
  if (entry === 'unary' && !vec4Launch(collapsed, [out, ...operands])) {
    const reordered = alongSource(collapsed, operands[0]);
    if (reordered) [collapsed, scatter] = [reordered, true];
  }
  if (collapsed.shape.length > MAX_RANK) throw new Error(`Elementwise ops support at most ${MAX_RANK} non-mergeable dims.`);
  const perDim: number[] = [];
  collapsed.shape.forEach((_, d) => perDim.push(...[0, 1, 2, 3].map((k) => collapsed.strides[k]?.[d] ?? 0)));
  const uniforms = Params.pack({
    count: out.size,
    rank: collapsed.shape.length,
    alpha,
    beta,
    shape: collapsed.shape,
    strides: perDim,
    offsets: [out.offset, ...operands.map((t) => t.offset)],
  });
  // Each operand read once at most (a broadcast one is smaller than the output), the output written once.
  const bytes = 4 * (out.size + operands.reduce((n, t) => n + Math.min(t.size, out.size), 0));
  const quads = scatter || (VEC4_ENTRIES.has(entry) && vec4Launch(collapsed, [out, ...operands]));
  const name = scatter ? 'unary4_scatter' : quads ? `${entry}4` : entry;
  engine().dispatch(kernel(name, op), uniforms, [...operands.map((t) => t.storage.buffer), out.storage.buffer], grid1d(quads ? out.size / 4 : out.size, WG), {
    bytes,
    shape: `[${out.shape.join('×')}]${collapsed.shape.length > 1 ? ` rank ${collapsed.shape.length}` : ''}`,
  });
}

export function unary(op: UnaryOp, x: Tensor, alpha = 0, beta = 0): Tensor {
  const out = Tensor.empty(x.shape);
  launch('unary', UNARY_CODE[op], out, [x], alpha, beta);
  return out;
}

export function binary(op: BinaryOp, a: Tensor, b: Tensor, alpha = 0): Tensor {
  const out = Tensor.empty(broadcastShapes(a.shape, b.shape));
  launch('binary', BINARY_CODE[op], out, [a, b], alpha);
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
  launch('unary', UNARY_CODE.copy, dst, [src]);
}

/** A contiguous copy of any view. */
export function contiguousCopy(x: Tensor): Tensor {
  return unary('copy', x);
}
