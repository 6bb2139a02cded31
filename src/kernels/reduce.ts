// Sum / max over any set of axes of a strided view (shaders/reduce.wgsl), and the sums of many tensors at once
// (shaders/sum-each.wgsl). Raw kernels: no autograd.
import reduceShader from '../../shaders/reduce.wgsl';
import sumEachShader from '../../shaders/sum-each.wgsl';
import { engine, MAX_GROUPS_PER_DIM, type Kernel } from '../engine/engine.js';
import { collapseDims, normalizeAxes } from '../engine/shape.js';
import { Tensor } from '../engine/tensor.js';
import { grid1d, shaderSource, sizeClass, uniformStruct } from './uniforms.js';

export type ReduceOp = 'sum' | 'max';
const OPS: Record<ReduceOp, number> = { sum: 0, max: 1 };
const WG = 64;
/** Below this many elements per output one invocation per output is faster than a workgroup. */
const SERIAL_MAX = 32;
/** Split a reduction when it has fewer outputs than this, so the whole device helps. */
const SPLIT_BELOW_OUTPUTS = 256;
const CHUNK = 4096;

const Params = uniformStruct('ReduceParams', {
  /** Work items: outputs × splits. */
  items: 'u32',
  /** K: elements reduced per output. */
  length: 'u32',
  /** S: chunks per output (1: one pass). */
  splits: 'u32',
  /** Elements per chunk, ⌈K / S⌉. */
  chunk: 'u32',
  /** Dims of the permuted view. */
  rank: 'u32',
  /** The result is multiplied by it (1/K gives the mean; 1 for partials). */
  scale: 'f32',
  in_offset: 'u32',
  /** Of those dims, how many are reduced (the last ones). */
  reduced_rank: 'u32',
  /** Permuted input shape: kept dims, then reduced dims. */
  shape: 'array<vec4<u32>, 2>',
  /** The matching input strides. */
  strides: 'array<vec4<u32>, 2>',
});
const source = shaderSource(reduceShader, Params);

function kernel(op: ReduceOp, entry: string): Kernel {
  return { family: 'reduce', source, entry, constants: { OP: OPS[op] } };
}

/** Reduces `x` over `axes` (all when undefined); the result drops those axes (or keeps them as 1). */
export function reduce(op: ReduceOp, x: Tensor, axes?: number | readonly number[], keepDims = false, scale = 1): Tensor {
  x.assertAlive();
  const reduced = normalizeAxes(axes, x.rank);
  const kept = [...Array(x.rank).keys()].filter((d) => !reduced.includes(d));
  const outShape = keepDims ? x.shape.map((n, d) => (reduced.includes(d) ? 1 : n)) : kept.map((d) => x.shape[d]);
  const length = reduced.reduce((k, d) => k * x.shape[d], 1);
  if (length === 0 && op === 'max') throw new Error(`max over an empty axis of [${x.shape.join(', ')}] has no value.`);
  const keptPart = collapseDims(kept.map((d) => x.shape[d]), [kept.map((d) => x.strides[d])]);
  const reducedPart = collapseDims(reduced.map((d) => x.shape[d]), [reduced.map((d) => x.strides[d])]);
  const shape = [...keptPart.shape, ...reducedPart.shape];
  const strides = [...keptPart.strides[0], ...reducedPart.strides[0]];
  if (shape.length > 8) throw new Error('reduce: at most 8 non-mergeable dims.');
  const out = Tensor.empty(outShape);
  const outputs = out.size;
  if (outputs === 0) return out;
  const splits = outputs < SPLIT_BELOW_OUTPUTS && length > 2 * CHUNK ? Math.min(Math.ceil(length / CHUNK), MAX_GROUPS_PER_DIM) : 1;
  const reducedRank = reducedPart.shape.length;
  if (splits === 1) {
    launch(op, x, out, outputs, length, 1, shape, strides, reducedRank, x.offset, scale);
    return out;
  }
  const partials = Tensor.empty([outputs, splits]);
  launch(op, x, partials, outputs, length, splits, shape, strides, reducedRank, x.offset, 1);
  launch(op, partials, out, outputs, splits, 1, [outputs, splits], [splits, 1], 1, 0, scale);
  partials.dispose();
  return out;
}

function launch(
  op: ReduceOp, src: Tensor, dst: Tensor, outputs: number, length: number, splits: number,
  shape: number[], strides: number[], reducedRank: number, offset: number, scale: number,
): void {
  const items = outputs * splits;
  const chunk = Math.ceil(length / splits);
  const uniforms = Params.pack({
    items, length, splits, chunk, rank: shape.length, scale, in_offset: offset, reduced_rank: reducedRank, shape, strides,
  });
  const serial = chunk <= SERIAL_MAX;
  const groups = serial ? grid1d(items, WG) : grid1d(items, 1);
  // One contiguous reduced dim whose runs start on multiples of 4 is read as vec4 (reduce_parallel4).
  const rank = shape.length;
  const quads = !serial && reducedRank === 1 && strides[rank - 1] === 1 && offset % 4 === 0 && (splits === 1 || chunk % 4 === 0) && strides.slice(0, -1).every((s) => s % 4 === 0);
  engine().dispatch(kernel(op, serial ? 'reduce_serial' : quads ? 'reduce_parallel4' : 'reduce_parallel'), uniforms, [src.storage.buffer, dst.storage.buffer], groups, {
    flops: outputs * length,
    bytes: 4 * (outputs * length + items),
    shape: `${outputs}×${length}${splits > 1 ? ` in ${splits}` : ''}`,
  });
}

/** Tensors per sum_each launch: 7 inputs and the output are WebGPU's minimum of 8 storage buffers per stage. */
const SUM_EACH_INPUTS = 7;
const SumEachParams = uniformStruct('SumEachParams', {
  /** Tensors in this launch (≤ 7). */
  count: 'u32',
  /** Element of partial[first tensor of this launch, 0] in `out`. */
  out_offset: 'u32',
  /** Partials per tensor (the row length of `out`). */
  pieces: 'u32',
  /** Elements of each tensor. */
  sizes: 'array<vec4<u32>, 2>',
  /** First element of each tensor in its buffer. */
  offsets: 'array<vec4<u32>, 2>',
});
const sumEachSource = shaderSource(sumEachShader, SumEachParams);

/** Elements one sum_each workgroup sums (its CHUNK): many workgroups on a GPU, few long ones on a CPU rasteriser. */
const sumEachChunk = () => (engine().gpu.software ? 65536 : 4096);

/**
 * [n]: the sum of every element of each of `tensors` (contiguous views). Each launch of 7 tensors writes
 * partial sums of chunks (4,096 elements on a GPU, 65,536 on a CPU rasteriser) into an [n, pieces] matrix (pieces
 * for the largest tensor; chunks past a tensor's end write zeros and leave at once), which one reduction sums in a fixed order: deterministic, and no tensor's sum waits on one
 * workgroup walking it alone.
 */
export function sumEach(tensors: readonly Tensor[]): Tensor {
  const chunk = sumEachChunk();
  for (const [i, t] of tensors.entries()) {
    t.assertAlive();
    if (!t.isContiguous) throw new Error(`sumEach: tensor ${i} [${t.shape.join(', ')}] is a strided view; pass contiguous tensors.`);
  }
  const pieces = Math.max(1, ...tensors.map((t) => Math.ceil(t.size / chunk)));
  const partials = Tensor.empty([tensors.length, pieces]);
  for (let first = 0; first < tensors.length; first += SUM_EACH_INPUTS) {
    const part = tensors.slice(first, first + SUM_EACH_INPUTS);
    const uniforms = SumEachParams.pack({
      count: part.length,
      out_offset: partials.offset + first * pieces,
      pieces,
      sizes: part.map((t) => t.size),
      offsets: part.map((t) => t.offset),
    });
    // Unused bindings repeat the first tensor; the kernel never reads them.
    const buffers = Array.from({ length: SUM_EACH_INPUTS }, (_, k) => (part[k] ?? part[0]).storage.buffer);
    const elements = part.reduce((n, t) => n + t.size, 0);
    engine().dispatch(
      { family: 'sum_each', source: sumEachSource, entry: 'sum_each', constants: { CHUNK: chunk } },
      uniforms,
      [...buffers, partials.storage.buffer],
      [pieces, part.length],
      { flops: elements, bytes: 4 * elements, shape: `${part.length} tensors, largest ${sizeClass(Math.max(...part.map((t) => t.size)))}` },
    );
  }
  const out = reduce('sum', partials, [1]);
  partials.dispose();
  return out;
}
