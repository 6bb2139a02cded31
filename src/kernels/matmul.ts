// Batched matrix product (shaders/matmul.wgsl). Operands may be transposed views and may broadcast over the
// batch: the kernel reads them through transpose flags, batch strides and offsets, so backward passes and
// attention-style products need no copies. Anything the kernel cannot address directly is copied first.
import shader from '../../shaders/matmul.wgsl';
import { engine } from '../engine/engine.js';
import { broadcastShapes, broadcastStrides, collapseDims, rowMajorStrides, sizeOf } from '../engine/shape.js';
import { Tensor } from '../engine/tensor.js';
import { activationCode, binary, contiguousCopy, fusedActivation, unary, type Activation } from './elementwise.js';
import { reduce } from './reduce.js';
import { shaderSource, uniformStruct } from './uniforms.js';

const Params = uniformStruct('MatmulParams', {
  M: 'u32',
  N: 'u32',
  K: 'u32',
  /** Elements between consecutive batches of A, B and C (0 broadcasts A or B). */
  strideA: 'u32',
  strideB: 'u32',
  strideC: 'u32',
  /** matmul_tiled: pieces of K per product (split-K); workgroup z = batch · splits + piece. */
  splits: 'u32',
  /** matmul_tiled: K per piece (a multiple of TK). */
  k_chunk: 'u32',
  /** LeakyReLU slope of the epilogue. */
  alpha: 'f32',
  /** Bias element per row of C: 1, or 0 when C is one row computed transposed (matmul_gemv). */
  bias_step: 'u32',
});
const source = shaderSource(shader, Params, fusedActivation);

interface Operand {
  tensor: Tensor;
  transposed: boolean;
  batchStride: number;
  /** A copy made here (disposed after the launch). */
  temporary: boolean;
}

/** How the kernel can read `t` as `batch` matrices of rows×cols, copying only when it must. */
function operand(t: Tensor, rows: number, cols: number, batch: number[]): Operand {
  const r = t.rank;
  const [sRow, sCol] = [t.strides[r - 2], t.strides[r - 1]];
  const normal = (sCol === 1 || cols === 1) && (sRow === cols || rows === 1);
  const transposed = !normal && (sRow === 1 || rows === 1) && (sCol === rows || cols === 1);
  const batchDims = collapseDims(batch, [broadcastStrides(t.shape.slice(0, -2), t.strides.slice(0, -2), batch)]);
  const batchOk = batchDims.shape.length === 0 || (batchDims.shape.length === 1 && batchDims.shape[0] === sizeOf(batch));
  // The kernel addresses operands from the start of their buffer, so an offset view is copied.
  if ((normal || transposed) && batchOk && t.offset === 0) {
    return { tensor: t, transposed, batchStride: batchDims.strides[0][0] ?? 0, temporary: false };
  }
  const copy = contiguousCopy(t.view([...batch, rows, cols], [...broadcastStrides(t.shape.slice(0, -2), t.strides.slice(0, -2), batch), sRow, sCol]));
  return { tensor: copy, transposed: false, batchStride: rows * cols, temporary: true };
}

function checkOperands(a: Tensor, b: Tensor): { M: number; N: number; K: number; batch: number[] } {
  a.assertAlive();
  b.assertAlive();
  if (a.rank < 2 || b.rank < 2) throw new Error(`matmul needs matrices (rank ≥ 2), got [${a.shape}] and [${b.shape}].`);
  const [M, K] = a.shape.slice(-2);
  const [K2, N] = b.shape.slice(-2);
  if (K !== K2) throw new Error(`matmul: [${a.shape.join(', ')}] · [${b.shape.join(', ')}]: inner dims ${K} and ${K2} differ.`);
  return { M, N, K, batch: broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2)) };
}

/** What the product's store applies: act(C + bias[row]) (a 1×1 convolution's bias and activation). */
export interface MatmulEpilogue {
  /** [M], one value per row of each product. */
  bias: Tensor | null;
  activation: Activation;
  /** LeakyReLU slope. */
  slope: number;
}

const NO_EPILOGUE: MatmulEpilogue = { bias: null, activation: 'none', slope: 0 };

/**
 * a [..., M, K] · b [..., K, N] → [..., M, N] with broadcast batch dims, and optionally act(· + bias[row]) fused
 * into the store. No autograd (see src/ops/matmul.ts).
 */
export function batchedMatmul(a: Tensor, b: Tensor, epilogue: MatmulEpilogue = NO_EPILOGUE): Tensor {
  const { M, N, K, batch } = checkOperands(a, b);
  if (epilogue.bias && (epilogue.bias.rank !== 1 || epilogue.bias.size !== M)) {
    throw new Error(`matmul: the epilogue's bias must be [${M}], got [${epilogue.bias.shape.join(', ')}].`);
  }
  const count = sizeOf(batch);
  const split = kSplit(M, N, K, count);
  if (split.splits === 1 || count * M * N === 0) {
    const out = Tensor.empty([...batch, M, N]);
    if (out.size > 0) product(a, b, out, M, N, K, batch, { splits: 1, chunk: Math.max(K, 1) }, epilogue);
    return out;
  }
  // Split-K: the pieces of each product, then their sum in a fixed order, then the epilogue on its own.
  const partial = Tensor.empty([count * split.splits, M, N]);
  product(a, b, partial, M, N, K, batch, split, NO_EPILOGUE);
  const pieces = partial.view([count, split.splits, M, N], rowMajorStrides([count, split.splits, M, N]), 0);
  const summed = reduce('sum', pieces, [1]);
  const out = summed.view([...batch, M, N], rowMajorStrides([...batch, M, N]), 0);
  for (const t of [partial, pieces, summed]) t.dispose();
  return separateEpilogue(out, epilogue);
}

/**
 * The epilogue as elementwise passes, where the product could not fuse it (split-K): y [..., M, N], the bias one
 * value per row M (also a split convolution's, its output viewed as [N, C, H·W]).
 */
export function separateEpilogue(y: Tensor, { bias, activation, slope }: MatmulEpilogue): Tensor {
  let out = y;
  if (bias) {
    const column = bias.view([bias.shape[0], 1], [bias.strides[0], 0], bias.offset);
    out = binary('add', y, column);
    column.dispose();
    y.dispose();
  }
  if (activation !== 'none') {
    const activated = unary(activation, out, slope);
    out.dispose();
    out = activated;
  }
  return out;
}

/**
 * Σ_b a[b] · b[b] → [M, N]: the products of a batch summed (a 1×1 convolution's weight gradient over the images),
 * with split-K on a GPU folded into the same reduction, so a long K costs no second pass.
 */
export function matmulSumOverBatch(a: Tensor, b: Tensor): Tensor {
  const { M, N, K, batch } = checkOperands(a, b);
  const count = sizeOf(batch);
  const split = kSplit(M, N, K, count);
  const partial = Tensor.empty([count * split.splits, M, N]);
  if (partial.size > 0) product(a, b, partial, M, N, K, batch, split, NO_EPILOGUE);
  if (count * split.splits === 1) {
    const only = partial.view([M, N], [N, 1], 0);
    partial.dispose();
    return only;
  }
  const out = reduce('sum', partial, [0]);
  partial.dispose();
  return out;
}

function product(a: Tensor, b: Tensor, out: Tensor, M: number, N: number, K: number, batch: number[], split: KSplit, epilogue: MatmulEpilogue): void {
  const A = operand(a, M, K, batch);
  const B = operand(b, K, N, batch);
  // The kernel reads the bias from the start of a dense buffer.
  const given = epilogue.bias;
  const bias = given && !(given.isContiguous && given.offset === 0) ? contiguousCopy(given) : given;
  launch(A, B, out, M, N, K, sizeOf(batch), split, { ...epilogue, bias });
  if (bias && bias !== given) bias.dispose();
  if (A.temporary) A.tensor.dispose();
  if (B.temporary) B.tensor.dispose();
}

/** Override constants and the bias binding of an epilogue (A's buffer when there is no bias: never read). */
function epilogueBinding(A: Operand, { bias, activation }: MatmulEpilogue): { constants: Record<string, number>; buffer: GPUBuffer } {
  return { constants: { HAS_BIAS: +(bias !== null), ACT: activationCode(activation) }, buffer: (bias ?? A.tensor).storage.buffer };
}

interface KSplit {
  /** Pieces of K per product, each written as its own partial product. */
  splits: number;
  /** K per piece, a multiple of matmul_tiled's K step. */
  chunk: number;
}

/** Output tiles below which a GPU product with a long K is split: about two waves of a large GPU's SMs. */
const SPLIT_K_TILES = 256;
/** K of each piece, at least (shorter pieces cost more in partial traffic than they gain). */
const SPLIT_K_MIN_CHUNK = 512;
/** The partial products may take this many floats (128 MiB). */
const SPLIT_K_MAX_PARTIAL = 2 ** 25;
/** matmul_tiled's K step: pieces start on its multiples. */
const TK = 16;

/** Split-K for the workgroup-tiled GPU kernel; the software adapter's register kernels never split. */
function kSplit(M: number, N: number, K: number, batch: number): KSplit {
  const none = { splits: 1, chunk: Math.max(K, 1) };
  // Matrix-vector products go to matmul_gemv, which reads along K with every lane.
  if (engine().gpu.software || M === 1 || N === 1) return none;
  const tiles = Math.ceil(M / 64) * Math.ceil(N / 64) * batch;
  let splits = Math.min(
    Math.ceil(SPLIT_K_TILES / Math.max(tiles, 1)),
    Math.floor(K / SPLIT_K_MIN_CHUNK),
    Math.floor(SPLIT_K_MAX_PARTIAL / Math.max(batch * M * N, 1)),
    Math.floor(engine().gpu.limits.maxComputeWorkgroupsPerDimension / batch),
    64,
  );
  if (splits < 2) return none;
  const chunk = Math.ceil(K / splits / TK) * TK;
  splits = Math.ceil(K / chunk);
  return splits < 2 ? none : { splits, chunk };
}

/**
 * Picks the kernel for the device: on a software rasteriser (llvmpipe, SwiftShader) the register-tile kernels
 * (16 rows × 4·CV columns per invocation, no workgroup memory), with vec4 loads when every dimension and
 * batch stride is a multiple of 4; on a real GPU the matrix-vector kernel for M = 1 or N = 1, else the
 * workgroup-memory tiled kernel (split along K when its grid would be small).
 */
function launch(A: Operand, B: Operand, out: Tensor, M: number, N: number, K: number, batch: number, split: KSplit, epilogue: MatmulEpilogue): void {
  const e = engine();
  if (!e.gpu.software && (M === 1 || N === 1) && launchGemv(A, B, out, M, N, K, batch, epilogue)) return;
  const fused = epilogueBinding(A, epilogue);
  const constants = { TRANS_A: +A.transposed, TRANS_B: +B.transposed, ...fused.constants };
  let entry: string;
  let groups: [number, number, number];
  if (e.gpu.software) {
    const vec4 = [M, N, K, A.batchStride, B.batchStride].every((v) => v % 4 === 0);
    const CV = N <= 64 ? 2 : 4;
    entry = vec4 ? 'matmul_reg4' : 'matmul_reg';
    Object.assign(constants, { CV, WG_X: REG_WG_X });
    groups = [Math.ceil(N / (4 * CV * REG_WG_X)), Math.ceil(M / 16), batch];
  } else {
    entry = 'matmul_tiled';
    groups = [Math.ceil(N / 64), Math.ceil(M / 64), batch * split.splits];
  }
  const uniforms = Params.pack({
    M, N, K, strideA: A.batchStride, strideB: B.batchStride, strideC: M * N, splits: split.splits, k_chunk: split.chunk, alpha: epilogue.slope, bias_step: 1,
  });
  const shape = `${M}×${N}×K${K}${batch > 1 ? ` ×${batch}` : ''}${split.splits > 1 ? ` split ${split.splits}` : ''}`;
  const cost = { flops: 2 * M * N * K * batch, bytes: 4 * (A.tensor.size + B.tensor.size + out.size), shape };
  const buffers = [A.tensor.storage.buffer, B.tensor.storage.buffer, out.storage.buffer, fused.buffer];
  e.dispatch({ family: 'matmul', source, entry, constants }, uniforms, buffers, groups, cost);
}

/**
 * A matrix times a vector on a GPU (matmul_gemv): for M = 1 the product is computed transposed, Bᵀ · aᵀ, which
 * has the same memory as the result. False when the launch would exceed the grid (the tiled kernel runs it).
 */
function launchGemv(A: Operand, B: Operand, out: Tensor, M: number, N: number, K: number, batch: number, epilogue: MatmulEpilogue): boolean {
  const e = engine();
  // A vector operand is always dense along K (operand() copies anything else), whichever flag it carries.
  const [matrix, vector, rows, transposed] = N === 1 ? [A, B, M, A.transposed] : [B, A, N, !B.transposed];
  const groups: [number, number, number] = [Math.ceil(rows / (transposed ? 64 : 4)), 1, batch];
  if (groups[0] > e.gpu.limits.maxComputeWorkgroupsPerDimension) return false;
  const uniforms = Params.pack({
    M: rows, N: 1, K, strideA: matrix.batchStride, strideB: vector.batchStride, strideC: M * N, splits: 1, k_chunk: K, alpha: epilogue.slope,
    // Computed transposed (M = 1), every output belongs to C's one row: its bias is element 0.
    bias_step: N === 1 ? 1 : 0,
  });
  const fused = epilogueBinding(matrix, epilogue);
  const cost = { flops: 2 * M * N * K * batch, bytes: 4 * (A.tensor.size + B.tensor.size + out.size), shape: `${M}×${N}×K${K}${batch > 1 ? ` ×${batch}` : ''}` };
  const kernel = { family: 'matmul', source, entry: 'matmul_gemv', constants: { TRANS_A: +transposed, ...fused.constants } };
  e.dispatch(kernel, uniforms, [matrix.tensor.storage.buffer, vector.tensor.storage.buffer, out.storage.buffer, fused.buffer], groups, cost);
  return true;
}

/** Invocations per workgroup of the register-tile kernels: one 8-wide SIMD vector on llvmpipe. */
const REG_WG_X = 8;
