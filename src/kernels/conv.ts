// Convolution kernels (shaders/conv.wgsl, shaders/conv-wgrad.wgsl): forward, input gradient and weight gradient
// of conv2d, and through them conv_transpose2d, in two kernel families: the tiled GEMMs of a hardware GPU and the
// register-tile gathers of a software adapter; there, wide 3×3 forwards take Winograd's F(2×2, 3×3) instead
// (src/kernels/conv-winograd.ts). ConvKernels says which runs. No autograd here (see src/ops/conv.ts). Shapes are
// NCHW; weights [Cout, Cin/g, kh, kw] for conv2d and [Cin, Cout/g, kh, kw] for conv_transpose2d (PyTorch layouts).
import gatherShader from '../../shaders/conv.wgsl';
import wgradShader from '../../shaders/conv-wgrad.wgsl';
import { engine } from '../engine/engine.js';
import { rowMajorStrides } from '../engine/shape.js';
import { Tensor } from '../engine/tensor.js';
import { activationCode, contiguousCopy, fusedActivation, type Activation } from './elementwise.js';
import { winogradConv2d, winogradInputGrad } from './conv-winograd.js';
import { batchedMatmul, matmulSumOverBatch, separateEpilogue } from './matmul.js';
import { reduce } from './reduce.js';
import { grid1d, shaderSource, uniformStruct } from './uniforms.js';

/** The geometry both convolution shaders read: the grid they walk, the grid S is gathered from, the taps. */
const GEOMETRY = {
  /** The result grid (conv_gather) / the grid summed over (conv_wgrad). */
  outH: 'u32',
  outW: 'u32',
  /** The grid S is gathered from. */
  inH: 'u32',
  inW: 'u32',
  kh: 'u32',
  kw: 'u32',
  strideY: 'u32',
  strideX: 'u32',
  /** Top and left padding (bottom and right only shape the output size). */
  padY: 'i32',
  padX: 'i32',
  dilY: 'u32',
  dilX: 'u32',
} as const;

const GatherParams = uniformStruct('ConvParams', {
  /** Result channels per group (ROWS). */
  rows: 'u32',
  /** Reduced channels per group (CHANS). */
  chans: 'u32',
  groups: 'u32',
  ...GEOMETRY,
  /** Rows of the packed weight, a multiple of TM. */
  rowsPad: 'u32',
  hasBias: 'u32',
  /** LeakyReLU slope. */
  alpha: 'f32',
  /** Images, whose pixels form one index space (conv_gather, conv_tiled). */
  batch: 'u32',
  /** conv_tiled: pieces of the reduction (split-K), and the packed vec4 of K in each. */
  splits: 'u32',
  chunk4: 'u32',
});

const PackParams = uniformStruct(
  'ConvPackParams',
  {
    rows: 'u32',
    chans: 'u32',
    /** ⌈chans / 4⌉ */
    chans4: 'u32',
    rowsPad: 'u32',
    taps: 'u32',
    /** Weight strides in elements (taps are contiguous). */
    strideGroup: 'u32',
    strideChan: 'u32',
    strideRow: 'u32',
    offset: 'u32',
  },
  'pk',
);

const WgradParams = uniformStruct('ConvWgradParams', {
  /** Result rows (output channels) per group. */
  rows: 'u32',
  /** Gathered channels per group. */
  chans: 'u32',
  groups: 'u32',
  /** Pieces per batch item (conv_wgrad); pieces of the whole batch's pixels (conv_wgrad_tiled). */
  splits: 'u32',
  ...GEOMETRY,
  /** Pixels per piece. */
  splitLen: 'u32',
  /** Images (conv_wgrad_tiled: the reduction runs over the pixels of all of them). */
  batch: 'u32',
});

const source = shaderSource(gatherShader, GatherParams, PackParams, fusedActivation);
const wgradSource = shaderSource(wgradShader, WgradParams);

/** Geometry of a convolution, every field resolved per axis. */
export interface ConvGeometry {
  stride: [number, number];
  /** top, bottom, left, right */
  padding: [number, number, number, number];
  dilation: [number, number];
  groups: number;
}

export interface Epilogue {
  activation: Activation;
  /** LeakyReLU slope. */
  slope: number;
}

const NO_EPILOGUE: Epilogue = { activation: 'none', slope: 0 };

/** Output length of a convolution along one axis (PyTorch's floor formula). */
export function convOutputSize(size: number, kernel: number, stride: number, padBefore: number, padAfter: number, dilation: number): number {
  return Math.floor((size + padBefore + padAfter - dilation * (kernel - 1) - 1) / stride) + 1;
}

/** Checks conv2d operands and returns the output shape. */
export function conv2dShape(x: readonly number[], w: readonly number[], geom: ConvGeometry): [number, number, number, number] {
  if (x.length !== 4) throw new Error(`conv2d: input must be NCHW (rank 4), got [${x.join(', ')}].`);
  if (w.length !== 4) throw new Error(`conv2d: weight must be [Cout, Cin/groups, kh, kw], got [${w.join(', ')}].`);
  const [n, cin, h, wd] = x;
  const [cout, cinG, kh, kw] = w;
  const g = geom.groups;
  if (!Number.isInteger(g) || g < 1 || cin % g !== 0 || cout % g !== 0) {
    throw new Error(`conv2d: groups=${g} must divide input channels (${cin}) and output channels (${cout}).`);
  }
  if (cinG !== cin / g) throw new Error(`conv2d: weight [${w.join(', ')}] expects ${cinG * g} input channels with groups=${g}, input has ${cin}.`);
  checkGeometry(geom, 'conv2d');
  const ho = convOutputSize(h, kh, geom.stride[0], geom.padding[0], geom.padding[1], geom.dilation[0]);
  const wo = convOutputSize(wd, kw, geom.stride[1], geom.padding[2], geom.padding[3], geom.dilation[1]);
  if (ho < 1 || wo < 1) {
    throw new Error(`conv2d: a ${kh}×${kw} kernel (dilation ${geom.dilation.join('×')}) does not fit the padded ${h}×${wd} input.`);
  }
  return [n, cout, ho, wo];
}

/** Checks conv_transpose2d operands and returns the output shape. */
export function convTranspose2dShape(
  x: readonly number[],
  w: readonly number[],
  geom: ConvGeometry,
  outputPadding: [number, number],
): [number, number, number, number] {
  if (x.length !== 4) throw new Error(`conv_transpose2d: input must be NCHW (rank 4), got [${x.join(', ')}].`);
  if (w.length !== 4) throw new Error(`conv_transpose2d: weight must be [Cin, Cout/groups, kh, kw], got [${w.join(', ')}].`);
  const [n, cin, h, wd] = x;
  const [wcin, coutG, kh, kw] = w;
  const g = geom.groups;
  if (wcin !== cin) throw new Error(`conv_transpose2d: weight [${w.join(', ')}] expects ${wcin} input channels, input has ${cin}.`);
  if (!Number.isInteger(g) || g < 1 || cin % g !== 0) throw new Error(`conv_transpose2d: groups=${g} must divide the ${cin} input channels.`);
  checkGeometry(geom, 'conv_transpose2d');
  for (const [i, op] of outputPadding.entries()) {
    if (!Number.isInteger(op) || op < 0 || (op >= geom.stride[i] && op >= geom.dilation[i])) {
      throw new Error(`conv_transpose2d: output_padding ${op} must be smaller than the stride or the dilation.`);
    }
  }
  const [pt, pb, pl, pr] = geom.padding;
  const ho = (h - 1) * geom.stride[0] - pt - pb + geom.dilation[0] * (kh - 1) + outputPadding[0] + 1;
  const wo = (wd - 1) * geom.stride[1] - pl - pr + geom.dilation[1] * (kw - 1) + outputPadding[1] + 1;
  if (ho < 1 || wo < 1) throw new Error(`conv_transpose2d: padding ${geom.padding.join(',')} leaves an empty output.`);
  return [n, coutG * g, ho, wo];
}

function checkGeometry(geom: ConvGeometry, op: string): void {
  const positive = [...geom.stride, ...geom.dilation];
  if (positive.some((v) => !Number.isInteger(v) || v < 1)) throw new Error(`${op}: stride and dilation must be positive integers.`);
  if (geom.padding.some((v) => !Number.isInteger(v) || v < 0)) throw new Error(`${op}: padding must be non-negative integers.`);
}

/** The kernel reads operands from the start of dense buffers. */
function dense(t: Tensor): { tensor: Tensor; temporary: boolean } {
  t.assertAlive();
  return t.isContiguous && t.offset === 0 ? { tensor: t, temporary: false } : { tensor: contiguousCopy(t), temporary: true };
}

function geometryUniforms(outH: number, outW: number, inH: number, inW: number, kh: number, kw: number, geom: ConvGeometry) {
  const { stride, padding, dilation } = geom;
  return {
    outH, outW, inH, inW, kh, kw,
    strideY: stride[0], strideX: stride[1], padY: padding[0], padX: padding[2], dilY: dilation[0], dilX: dilation[1],
  };
}

/**
 * Which convolution kernels run. 'auto': the workgroup-memory tiled GEMMs (conv_tiled, conv_wgrad_tiled) on a
 * hardware GPU for groups of more than TILED_MIN_ROWS result rows, the register-tile gathers (conv_gather*,
 * conv_wgrad) on a software adapter and for small groups, and on a software adapter Winograd's F(2×2, 3×3) for
 * the forward and input gradient of wide 3×3 convolutions (see useWinograd). The others force one family on any adapter, for the
 * bench to time them on the same device and the tests to check each (withConvKernels); 'winograd' takes every
 * forward and input gradient it can (3×3, stride 1, no dilation, one group) and leaves the rest to 'auto'.
 */
export type ConvKernels = 'auto' | 'tiled' | 'gather' | 'winograd';

let forcedKernels: ConvKernels = 'auto';

/**
 * Runs `fn` with the convolutions forced to one kernel family (see ConvKernels); the previous choice comes back
 * after. Kernels are chosen when an op dispatches, so `fn` is synchronous: the ops it calls, not awaited work.
 */
export function withConvKernels<R>(kernels: ConvKernels, fn: () => R): R {
  const previous = forcedKernels;
  forcedKernels = kernels;
  try {
    return fn();
  } finally {
    forcedKernels = previous;
  }
}

/**
 * Groups of at most this many result rows keep the gathers on a GPU too: the tiled kernel's smallest tile has 16
 * rows (half idle at 8), while the gathers ran the generator's grouped blocks (32 groups of 8) at 13–17× tfjs on
 * an H200 (2026-12-04). Provisional until the bench times both there (`--conv-kernels tiled,gather`).
 */
const TILED_MIN_ROWS = 9;

const tiledKernels = (rowsPerGroup: number) =>
  forcedKernels === 'auto' || forcedKernels === 'winograd' ? !engine().gpu.software && rowsPerGroup >= TILED_MIN_ROWS : forcedKernels === 'tiled';

/**
 * On a software adapter, Winograd pays where the matrix products are wide enough to run near the matmul kernel's
 * speed and the channels many enough that the transforms (passes over 4× the source and the result) stay small
 * next to them: below these counts the register-tile gather was faster (bench: `conv --conv-kernels winograd,gather`).
 */
const WINOGRAD_MIN_CHANNELS = 32;

function useWinograd(w: readonly number[], geom: ConvGeometry): boolean {
  const possible = w[2] === 3 && w[3] === 3 && geom.groups === 1 && geom.stride.every((v) => v === 1) && geom.dilation.every((v) => v === 1);
  if (!possible || forcedKernels === 'tiled' || forcedKernels === 'gather') return false;
  // The same test serves the input gradient, whose products swap the two channel counts.
  return forcedKernels === 'winograd' || (engine().gpu.software && w[0] >= WINOGRAD_MIN_CHANNELS && w[1] >= WINOGRAD_MIN_CHANNELS);
}

/** Result rows per workgroup of the tiled kernels (TILE_M): 16, 32 or 64, so that small groups waste few rows. */
function tileRows(rows: number): number {
  return rows <= 16 ? 16 : rows <= 32 ? 32 : 64;
}

/** The tiled kernels' result columns per workgroup (TILE_N) and reduction steps per stage (TK), as in the shader. */
const TILE_N = 64;
const TILE_K = 16;

// Split-K of the tiled kernels. An H200 has 132 SMs: a grid of fewer workgroups than that leaves SMs idle, so the
// forward and input-gradient gather split their reduction when their grid is that small, and the weight gradient
// (whose reduction over every pixel is long, and whose grid is the weight's size) whenever its grid is below
// SPLIT_TARGET; both aim at SPLIT_TARGET workgroups, four per SM, so that an SM has other warps to run while one
// waits on memory. Pieces are at least MIN_PIECE reduction steps (shorter ones cost more in partial sums than
// they gain), and the partial sums at most MAX_PARTIAL_FLOATS.
const SMALL_GRID = 132;
const SPLIT_TARGET = 4 * SMALL_GRID;
const MIN_PIECE = 256;

/** Pieces of a reduction of length k over a grid of `tiles` workgroups whose partial result is `floats` long. */
function splitCount(tiles: number, k: number, floats: number, otherGrid: number): number {
  return Math.max(
    1,
    Math.min(
      Math.ceil(SPLIT_TARGET / Math.max(tiles, 1)),
      Math.floor(k / MIN_PIECE),
      Math.floor(MAX_PARTIAL_FLOATS / Math.max(floats, 1)),
      Math.floor(engine().gpu.limits.maxComputeWorkgroupsPerDimension / otherGrid),
    ),
  );
}

/** Taps of one axis that reach the source in the fullest stride phase of the transposed gather (see tapLattice in conv.wgsl). */
function phaseTaps(k: number, stride: number, dilation: number): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  return Math.ceil(k / (stride / gcd(dilation, stride)));
}

/** Rows per workgroup of the gather kernels: 4, 8 or 16 (weights load 4 rows per vec4). */
function gatherRowTile(rows: number): number {
  return rows <= 4 ? 4 : rows <= 8 ? 8 : 16;
}

/** Rows per workgroup of the weight gradient: the smallest power of two ≥ the group's rows, at most 16. */
function rowTile(rows: number): number {
  let tm = 1;
  while (tm < rows && tm < 16) tm *= 2;
  return tm;
}

/** Invocations per workgroup: one SIMD vector on a CPU rasteriser, two warps on a GPU. */
const workgroupWidth = () => (engine().gpu.software ? 8 : 64);

interface Gather {
  mode: 0 | 1;
  rows: number;
  chans: number;
  groups: number;
  batch: number;
  outH: number;
  outW: number;
  inH: number;
  inW: number;
  kh: number;
  kw: number;
  geom: ConvGeometry;
  /** The weight is [groups, rows, chans, taps] (else [groups, chans, rows, taps]). */
  rowsMajor: boolean;
}

/**
 * The weight packed as [groups, ⌈chans/4⌉, taps, rowsPad, 4]: the kernel reads one row's weights for 4 input
 * channels at one tap as a vec4. Rows beyond the group's and channels beyond its last are zero. One dispatch
 * of conv_pack_weight, a pass over the weight, small next to the convolution.
 */
function packWeight(w: Tensor, g: Gather, rowsPad: number): Tensor {
  const { groups, rows, chans } = g;
  const taps = g.kh * g.kw;
  const chans4 = Math.ceil(chans / 4);
  const packed = Tensor.empty([groups, chans4, taps, rowsPad, 4]);
  // Strides of the weight along (group, channel, row), whichever of rows and channels comes first; taps are contiguous.
  const [sg, sc, sr] = g.rowsMajor ? [rows * chans * taps, taps, chans * taps] : [chans * rows * taps, rows * taps, taps];
  const WG_X = workgroupWidth();
  const groupsGrid: [number, number, number] = [Math.ceil(rowsPad / WG_X), taps, groups * chans4];
  const uniforms = PackParams.pack({ rows, chans, chans4, rowsPad, taps, strideGroup: sg, strideChan: sc, strideRow: sr, offset: w.offset });
  engine().dispatch(
    { family: 'conv', source, entry: 'conv_pack_weight', constants: { WG_X } },
    uniforms,
    [w.storage.buffer, packed.storage.buffer],
    groupsGrid,
    { bytes: 4 * (w.size + packed.size), shape: `${g.kh}×${g.kw} ${groups * chans}·${groups * rows}${groups > 1 ? ` g${groups}` : ''}` },
  );
  return packed;
}

function gather(g: Gather, s: Tensor, w: Tensor, bias: Tensor | null, epilogue: Epilogue): Tensor {
  const out = [g.batch, g.groups * g.rows, g.outH, g.outW];
  if (out.some((n) => n === 0)) return Tensor.empty(out);
  const S = dense(s);
  const W = dense(w);
  const B = bias ? dense(bias) : null;
  // Useful work only: the transposed gather (MODE 1) at stride s meets one tap in s² per output.
  const taps = g.kh * g.kw / (g.mode === 1 ? g.geom.stride[0] * g.geom.stride[1] : 1);
  const cost = {
    flops: 2 * g.batch * g.groups * g.rows * g.chans * taps * g.outH * g.outW,
    bytes: 4 * (S.tensor.size + W.tensor.size + (B?.tensor.size ?? 0) + out.reduce((a, b) => a * b)),
    shape: convShape(g.kh, g.kw, g.groups * g.chans, g.groups * g.rows, g.groups, g.geom.stride, g.outH, g.outW, g.batch),
  };
  const result = (tiledKernels(g.rows) ? tiledGather : registerGather)(g, S.tensor, W.tensor, B?.tensor ?? null, epilogue, cost);
  for (const o of [S, W, B]) if (o?.temporary) o.tensor.dispose();
  return result;
}

interface GatherCost {
  flops: number;
  bytes: number;
  shape: string;
}

/** The register-tile gathers of a software adapter (conv_gather, conv_gather4, conv_gather_phased). */
function registerGather(g: Gather, S: Tensor, W: Tensor, B: Tensor | null, epilogue: Epilogue, cost: GatherCost): Tensor {
  const e = engine();
  const out = Tensor.empty([g.batch, g.groups * g.rows, g.outH, g.outW]);
  const TM = gatherRowTile(g.rows);
  const rowsPad = Math.ceil(g.rows / TM) * TM;
  const packed = packWeight(W, g, rowsPad);
  const WG_X = workgroupWidth();
  const software = e.gpu.software;
  // The vec4 path: stride 1, rows of whole pixel runs, vec4-aligned source rows, and an image that fills at
  // least one workgroup (smaller grids go to conv_gather, which spreads the lanes over the batch).
  const unitStride = g.geom.stride[0] === 1 && g.geom.stride[1] === 1;
  const CV = !software ? 1 : g.outW % 16 === 0 ? 4 : g.outW % 8 === 0 ? 2 : 1;
  const pixels = g.outH * g.outW;
  const vec4 = unitStride && g.outW % (4 * CV) === 0 && g.inW % 4 === 0 && pixels >= 4 * CV * WG_X;
  const cv = vec4 ? CV : software ? 2 : 1;
  const pixelsPerGroup = 4 * cv * WG_X;
  // The transposed gather at stride > 1 runs phase by phase (see conv_gather_phased).
  const phased = !vec4 && g.mode === 1 && !unitStride;
  const phases = phased ? g.geom.stride[0] * g.geom.stride[1] : 1;
  const uniforms = GatherParams.pack({
    rows: g.rows, chans: g.chans, groups: g.groups,
    ...geometryUniforms(g.outH, g.outW, g.inH, g.inW, g.kh, g.kw, g.geom),
    rowsPad, hasBias: B ? 1 : 0, alpha: epilogue.slope, batch: g.batch, splits: 1, chunk4: 0,
  });
  const rowBlocks = (rowsPad / TM) * g.groups;
  let groups: [number, number, number];
  if (vec4 || phased) {
    const launchPixels = phased ? Math.ceil(g.outH / g.geom.stride[0]) * Math.ceil(g.outW / g.geom.stride[1]) : pixels;
    groups = [Math.ceil(launchPixels / pixelsPerGroup), rowBlocks, g.batch * phases];
  } else {
    // conv_gather: the batch's pixels are one index space, folded into z when x would overflow.
    const [x, z] = grid1d(g.batch * pixels, pixelsPerGroup);
    groups = [x, rowBlocks, z];
  }
  // Without a bias the binding still needs a buffer; the kernel never reads it.
  const biasBuffer = B ? B.storage.buffer : S.storage.buffer;
  e.dispatch(
    {
      family: 'conv',
      source,
      entry: vec4 ? 'conv_gather4' : phased ? 'conv_gather_phased' : 'conv_gather',
      constants: { MODE: g.mode, ACT: activationCode(epilogue.activation), TM, CV: cv, WG_X },
    },
    uniforms,
    [S.storage.buffer, packed.storage.buffer, biasBuffer, out.storage.buffer],
    groups,
    cost,
  );
  packed.dispose();
  return out;
}

/**
 * conv_tiled, the hardware-GPU gather: a GEMM tiled through workgroup memory, TILE_M rows × 64 pixels per
 * workgroup, the transposed gather at stride > 1 phase by phase. When the grid is small (see SMALL_GRID) the
 * reduction is split: the pieces are summed by the reduction kernel and the bias and activation applied after.
 */
function tiledGather(g: Gather, S: Tensor, W: Tensor, B: Tensor | null, epilogue: Epilogue, cost: GatherCost): Tensor {
  const e = engine();
  const shape = [g.batch, g.groups * g.rows, g.outH, g.outW];
  const resultSize = shape.reduce((a, b) => a * b);
  const TILE_M = tileRows(g.rows);
  const rowsPad = Math.ceil(g.rows / TILE_M) * TILE_M;
  const packed = packWeight(W, g, rowsPad);
  const [sy, sx] = g.geom.stride;
  const phases = g.mode === 1 ? sy * sx : 1;
  // Pixels of the fullest phase, and the packed vec4 of its reduction.
  const phasePixels = g.mode === 1 ? Math.ceil(g.outH / sy) * Math.ceil(g.outW / sx) : g.outH * g.outW;
  const phaseTapCount = g.mode === 1 ? phaseTaps(g.kh, sy, g.geom.dilation[0]) * phaseTaps(g.kw, sx, g.geom.dilation[1]) : g.kh * g.kw;
  const K4 = Math.ceil(g.chans / 4) * phaseTapCount;
  const pixelBlocks = Math.ceil((g.batch * phasePixels) / TILE_N);
  const blocks = g.groups * (rowsPad / TILE_M);
  const tiles = pixelBlocks * blocks * phases;
  let splits = tiles < SMALL_GRID ? splitCount(tiles, 4 * K4, resultSize, blocks * phases) : 1;
  const chunk4 = splits > 1 ? Math.ceil(K4 / splits / 4) * 4 : K4;
  splits = Math.ceil(K4 / chunk4) || 1;
  const uniforms = GatherParams.pack({
    rows: g.rows, chans: g.chans, groups: g.groups,
    ...geometryUniforms(g.outH, g.outW, g.inH, g.inW, g.kh, g.kw, g.geom),
    rowsPad, hasBias: B ? 1 : 0, alpha: epilogue.slope, batch: g.batch, splits, chunk4,
  });
  const [x, y] = grid1d(pixelBlocks, 1);
  const target = Tensor.empty(splits > 1 ? [splits, ...shape] : shape);
  e.dispatch(
    { family: 'conv', source, entry: 'conv_tiled', constants: { MODE: g.mode, ACT: activationCode(epilogue.activation), TILE_M } },
    uniforms,
    [S.storage.buffer, packed.storage.buffer, (B ?? S).storage.buffer, target.storage.buffer],
    [x, y, phases * splits * blocks],
    splits > 1 ? { ...cost, shape: `${cost.shape} split ${splits}` } : cost,
  );
  packed.dispose();
  if (splits === 1) return target;
  // The pieces summed in a fixed order, then the epilogue the kernel could not fuse.
  const summed = reduce('sum', target, [0]);
  target.dispose();
  const [n, c, h, w] = shape;
  const planes = summed.view([n, c, h * w], [c * h * w, h * w, 1], 0);
  summed.dispose();
  const finished = separateEpilogue(planes, { bias: B, activation: epilogue.activation, slope: epilogue.slope });
  const out = finished.view(shape, rowMajorStrides(shape), 0);
  finished.dispose();
  return out;
}

/** The profiler's shape class of a convolution launch: "3×3 64→128 g32 s2 @128×128 ×4" (output size, batch). */
function convShape(kh: number, kw: number, cin: number, cout: number, groups: number, stride: readonly number[], h: number, w: number, batch: number): string {
  const g = groups > 1 ? ` g${groups}` : '';
  const s = stride[0] > 1 || stride[1] > 1 ? ` s${stride[0]}` : '';
  return `${kh}×${kw} ${cin}→${cout}${g}${s} @${h}×${w}${batch > 1 ? ` ×${batch}` : ''}`;
}

/** A 1×1 convolution with stride 1, no padding and one group is a matrix product per image: the matmul kernel. */
function isPointwise(w: readonly number[], geom: ConvGeometry): boolean {
  return w[2] === 1 && w[3] === 1 && geom.groups === 1 && geom.stride.every((v) => v === 1) && geom.padding.every((v) => v === 0);
}

/** [N, C, H, W] as N matrices [C, H·W] (or their transposes [H·W, C]), reading the buffer in place. */
function asMatrices(t: Tensor, transposed = false): Tensor {
  const [n, c, h, w] = t.shape;
  return transposed ? t.view([n, h * w, c], [c * h * w, 1, h * w], 0) : t.view([n, c, h * w], [c * h * w, h * w, 1], 0);
}

function pointwiseForward(x: Tensor, w: Tensor, bias: Tensor | null, epilogue: Epilogue): Tensor {
  const [n, , h, wd] = x.shape;
  const [cout, cin] = w.shape;
  const X = dense(x);
  const W = dense(w);
  const xm = asMatrices(X.tensor);
  const wm = W.tensor.view([cout, cin], [cin, 1], 0);
  // Bias and activation are fused into the product's store.
  const product = batchedMatmul(wm, xm, { bias, ...epilogue });
  const y = product.view([n, cout, h, wd], rowMajorStrides([n, cout, h, wd]), 0);
  for (const t of [xm, wm, product]) t.dispose();
  for (const o of [X, W]) if (o.temporary) o.tensor.dispose();
  return y;
}

/** y = act(conv2d(x, w) + bias). */
export function conv2dForward(x: Tensor, w: Tensor, bias: Tensor | null, geom: ConvGeometry, epilogue: Epilogue = NO_EPILOGUE): Tensor {
  const [n, cout, ho, wo] = conv2dShape(x.shape, w.shape, geom);
  const [, cinG, kh, kw] = w.shape;
  if (bias && (bias.rank !== 1 || bias.shape[0] !== cout)) throw new Error(`conv2d: bias must be [${cout}], got [${bias.shape.join(', ')}].`);
  if (isPointwise(w.shape, geom)) return pointwiseForward(x, w, bias, epilogue);
  if (useWinograd(w.shape, geom) && n * cout * ho * wo > 0) {
    const [X, W, B] = [dense(x), dense(w), bias && dense(bias)];
    const y = winogradConv2d(X.tensor, W.tensor, B?.tensor ?? null, geom.padding, ho, wo, epilogue);
    for (const o of [X, W, B]) if (o?.temporary) o.tensor.dispose();
    return y;
  }
  const rows = cout / geom.groups;
  return gather(
    {
      mode: 0, rows, chans: cinG, groups: geom.groups, batch: n, outH: ho, outW: wo, inH: x.shape[2], inW: x.shape[3], kh, kw, geom,
      rowsMajor: true,
    },
    x, w, bias, epilogue,
  );
}

/** dL/dx of conv2d, given dL/dy [N, Cout, Ho, Wo] and the input's spatial size. */
export function conv2dInputGrad(dy: Tensor, w: Tensor, geom: ConvGeometry, inputShape: readonly number[]): Tensor {
  const [n, , h, wd] = inputShape;
  const [cout, cinG, kh, kw] = w.shape;
  if (isPointwise(w.shape, geom)) {
    const D = dense(dy);
    const W = dense(w);
    const dm = asMatrices(D.tensor);
    const wt = W.tensor.view([cinG, cout], [1, cinG], 0);
    const product = batchedMatmul(wt, dm);
    const dx = product.view([n, cinG, h, wd], rowMajorStrides([n, cinG, h, wd]), 0);
    for (const t of [dm, wt, product]) t.dispose();
    for (const o of [D, W]) if (o.temporary) o.tensor.dispose();
    return dx;
  }
  if (useWinograd(w.shape, geom) && geom.padding.every((p) => p <= 2) && n * cinG * h * wd > 0) {
    const [D, W] = [dense(dy), dense(w)];
    const dx = winogradInputGrad(D.tensor, W.tensor, geom.padding, h, wd);
    for (const o of [D, W]) if (o.temporary) o.tensor.dispose();
    return dx;
  }
  const coutG = cout / geom.groups;
  return gather(
    {
      mode: 1, rows: cinG, chans: coutG, groups: geom.groups, batch: n, outH: h, outW: wd, inH: dy.shape[2], inW: dy.shape[3], kh, kw, geom,
      rowsMajor: false,
    },
    dy, w, null, NO_EPILOGUE,
  );
}

/** y = act(conv_transpose2d(x, w) + bias): the input gradient of the conv2d whose weight is w. */
export function convTranspose2dForward(
  x: Tensor,
  w: Tensor,
  bias: Tensor | null,
  geom: ConvGeometry,
  outputPadding: [number, number],
  epilogue: Epilogue = NO_EPILOGUE,
): Tensor {
  const [n, cout, ho, wo] = convTranspose2dShape(x.shape, w.shape, geom, outputPadding);
  if (bias && (bias.rank !== 1 || bias.shape[0] !== cout)) throw new Error(`conv_transpose2d: bias must be [${cout}], got [${bias.shape.join(', ')}].`);
  const [cin, coutG, kh, kw] = w.shape;
  const cinG = cin / geom.groups;
  return gather(
    {
      mode: 1, rows: coutG, chans: cinG, groups: geom.groups, batch: n, outH: ho, outW: wo, inH: x.shape[2], inW: x.shape[3], kh, kw, geom,
      rowsMajor: false,
    },
    x, w, bias, epilogue,
  );
}

/** dL/dx of conv_transpose2d: a plain conv2d of the output gradient with the same weight. */
export function convTranspose2dInputGrad(dy: Tensor, w: Tensor, geom: ConvGeometry, inputShape: readonly number[]): Tensor {
  const [n, , h, wd] = inputShape;
  const [cin, coutG, kh, kw] = w.shape;
  const cinG = cin / geom.groups;
  return gather(
    {
      mode: 0, rows: cinG, chans: coutG, groups: geom.groups, batch: n, outH: h, outW: wd, inH: dy.shape[2], inW: dy.shape[3], kh, kw, geom,
      rowsMajor: true,
    },
    dy, w, null, NO_EPILOGUE,
  );
}

/** Largest partial-sum buffer the weight gradient may use, in floats (the pieces are summed in a second pass). */
const MAX_PARTIAL_FLOATS = 8 * 2 ** 20;
/** Pixels per piece of the weight-gradient reduction, at least. */
const MIN_SPLIT = 512;

/**
 * The weight gradient Σ_{n,q} d[n, g·rows + r, q] · s[n, g·chans + c, q·stride − pad + k·dilation] as a weight
 * [groups·rows, chans, kh, kw]. `d` lives on the summed grid, `s` on the gathered grid.
 */
function weightGrad(d: Tensor, s: Tensor, rows: number, chans: number, kh: number, kw: number, geom: ConvGeometry): Tensor {
  const D = dense(d);
  const S = dense(s);
  const result = (tiledKernels(rows) ? tiledWeightGrad : registerWeightGrad)(D.tensor, S.tensor, rows, chans, kh, kw, geom);
  for (const o of [S, D]) if (o.temporary) o.tensor.dispose();
  return result;
}

/** conv_wgrad, the register-tile kernel of a software adapter: pieces of each image's pixels. */
function registerWeightGrad(D: Tensor, S: Tensor, rows: number, chans: number, kh: number, kw: number, geom: ConvGeometry): Tensor {
  const e = engine();
  const [n, , outH, outW] = D.shape;
  const [, , inH, inW] = S.shape;
  const P = outH * outW;
  const weightFloats = geom.groups * rows * chans * kh * kw;
  const bySize = Math.max(1, Math.floor(MAX_PARTIAL_FLOATS / (n * weightFloats)));
  const splits = Math.max(1, Math.min(Math.ceil(P / MIN_SPLIT), bySize, 256));
  // Pieces are whole groups of 4 pixels (the kernel reads D 4 pixels at a time).
  const splitLen = Math.ceil(P / splits / 4) * 4;
  const partial = Tensor.empty([n * splits, geom.groups * rows, chans, kh, kw]);
  const TM = rowTile(rows);
  const WG_X = workgroupWidth();
  const uniforms = WgradParams.pack({
    rows, chans, groups: geom.groups, splits, ...geometryUniforms(outH, outW, inH, inW, kh, kw, geom), splitLen, batch: n,
  });
  const groups: [number, number, number] = [Math.ceil((chans * kh * kw) / (4 * WG_X)), Math.ceil(rows / TM) * geom.groups, n * splits];
  e.dispatch(
    // CV = 1: one vec4 of 4 columns per row of the register tile.
    { family: 'conv-wgrad', source: wgradSource, entry: 'conv_wgrad', constants: { TM, WG_X, CV: 1, D4: +(P % 4 === 0) } },
    uniforms,
    [S.storage.buffer, D.storage.buffer, partial.storage.buffer, D.storage.buffer],
    groups,
    wgradCost(D, S, partial, rows, chans, kh, kw, geom, splits),
  );
  return sumPieces(partial, [geom.groups * rows, chans, kh, kw]);
}

/**
 * conv_wgrad_tiled, the hardware-GPU weight gradient: per group the product of the output gradient (rows × the
 * batch's pixels) with the im2col'd source (pixels × chans·taps), tiled through workgroup memory like conv_tiled;
 * the pixels split into pieces (see SPLIT_TARGET) summed by the reduction kernel.
 */
function tiledWeightGrad(D: Tensor, S: Tensor, rows: number, chans: number, kh: number, kw: number, geom: ConvGeometry): Tensor {
  const [n, , outH, outW] = D.shape;
  const [, , inH, inW] = S.shape;
  const K = n * outH * outW;
  const TILE_M = tileRows(rows);
  const rowBlocks = Math.ceil(rows / TILE_M) * geom.groups;
  const columnBlocks = Math.ceil((chans * kh * kw) / TILE_N);
  const weightFloats = geom.groups * rows * chans * kh * kw;
  let splits = splitCount(rowBlocks * columnBlocks, K, weightFloats, 1);
  const splitLen = Math.ceil(K / splits / TILE_K) * TILE_K;
  splits = Math.ceil(K / splitLen);
  const partial = Tensor.empty([splits, geom.groups * rows, chans, kh, kw]);
  const uniforms = WgradParams.pack({
    rows, chans, groups: geom.groups, splits, ...geometryUniforms(outH, outW, inH, inW, kh, kw, geom), splitLen, batch: n,
  });
  engine().dispatch(
    { family: 'conv-wgrad', source: wgradSource, entry: 'conv_wgrad_tiled', constants: { TILE_M } },
    uniforms,
    [S.storage.buffer, D.storage.buffer, partial.storage.buffer],
    [columnBlocks, rowBlocks, splits],
    wgradCost(D, S, partial, rows, chans, kh, kw, geom, splits),
  );
  return sumPieces(partial, [geom.groups * rows, chans, kh, kw]);
}

function wgradCost(D: Tensor, S: Tensor, partial: Tensor, rows: number, chans: number, kh: number, kw: number, geom: ConvGeometry, splits: number) {
  const [n, , outH, outW] = D.shape;
  return {
    flops: 2 * n * geom.groups * rows * chans * kh * kw * outH * outW,
    bytes: 4 * (S.size + D.size + partial.size),
    shape: `${convShape(kh, kw, geom.groups * chans, geom.groups * rows, geom.groups, geom.stride, outH, outW, n)} split ${splits}`,
  };
}

/** The weight gradient's pieces [pieces, ...shape] summed in a fixed order (no pass when there is one). */
function sumPieces(partial: Tensor, shape: number[]): Tensor {
  if (partial.shape[0] === 1) {
    const only = partial.view(shape, rowMajorStrides(shape), 0);
    partial.dispose();
    return only;
  }
  const total = reduce('sum', partial, [0]);
  partial.dispose();
  return total;
}

/** dL/dw of conv2d: [Cout, Cin/g, kh, kw]. */
export function conv2dWeightGrad(dy: Tensor, x: Tensor, weightShape: readonly number[], geom: ConvGeometry): Tensor {
  const [cout, cinG, kh, kw] = weightShape;
  if (isPointwise(weightShape, geom)) {
    // Σ_n dy[n] · x[n]ᵀ: one product per image (split along the pixels on a GPU), summed by the deterministic reduction.
    const D = dense(dy);
    const X = dense(x);
    const dm = asMatrices(D.tensor);
    const xt = asMatrices(X.tensor, true);
    const total = matmulSumOverBatch(dm, xt);
    const dw = total.view([cout, cinG, 1, 1], [cinG, 1, cinG, cinG], 0);
    for (const t of [dm, xt, total]) t.dispose();
    for (const o of [D, X]) if (o.temporary) o.tensor.dispose();
    return dw;
  }
  return weightGrad(dy, x, cout / geom.groups, cinG, kh, kw, geom);
}

/** dL/dw of conv_transpose2d: [Cin, Cout/g, kh, kw]. The roles of input and output swap relative to conv2d. */
export function convTranspose2dWeightGrad(dy: Tensor, x: Tensor, weightShape: readonly number[], geom: ConvGeometry): Tensor {
  const [cin, coutG, kh, kw] = weightShape;
  return weightGrad(x, dy, cin / geom.groups, coutG, kh, kw, geom);
}
