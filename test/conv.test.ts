import { describe, expect, test } from 'vitest';
import { gradcheck } from '../src/ops/gradcheck.js';
import { engine } from '../src/engine/engine.js';
import type { HostTensor } from '../src/kernels/host.js';
import {
  conv2dForward,
  conv2dInputGrad,
  conv2dWeightGrad,
  convTranspose2dForward,
  convTranspose2dInputGrad,
  convTranspose2dWeightGrad,
  withConvKernels,
  type ConvKernels,
  type ConvGeometry,
} from '../src/kernels/conv.js';
import { winogradConv2d } from '../src/kernels/conv-winograd.js';
import { conv2dInputGradReference, conv2dReference, conv2dWeightGradReference, convTranspose2dReference } from '../src/kernels/conv.ref.js';
import * as T from '../src/ops/index.js';
import { expectClose, randomHost } from './helpers/check.js';
import { dispatchedEntries, useTestEngine } from './helpers/gpu.js';

useTestEngine();

interface Case {
  name: string;
  x: [number, number, number, number];
  w: [number, number, number, number];
  bias?: boolean;
  options: T.Conv2dOptions;
}

// The shapes of the v1 generator, discriminator and extractor (REFERENCE §3–§5) at small spatial sizes,
// and the awkward ones.
const CASES: Case[] = [
  { name: 'to0 3×3 6→32, bias', x: [1, 6, 9, 11], w: [32, 6, 3, 3], bias: true, options: { padding: 1 } },
  { name: 'to1 3×3 stride 2, bias', x: [2, 32, 9, 8], w: [64, 32, 3, 3], bias: true, options: { stride: 2, padding: 1 } },
  { name: 'bottleneck 1×1 512→256, no bias', x: [1, 512, 3, 5], w: [256, 512, 1, 1], options: {} },
  { name: '32 groups of 8, 3×3', x: [1, 256, 5, 7], w: [256, 8, 3, 3], options: { padding: 1, groups: 32 } },
  { name: '32 groups of 4, dilation 2', x: [2, 128, 7, 6], w: [128, 4, 3, 3], options: { padding: 2, dilation: 2, groups: 32 } },
  { name: '16 groups of 4, dilation 4', x: [1, 64, 11, 9], w: [64, 4, 3, 3], options: { padding: 4, dilation: 4, groups: 16 } },
  { name: '16 groups of 2 (tunnel1)', x: [1, 32, 6, 5], w: [32, 2, 3, 3], options: { padding: 1, groups: 16 } },
  { name: 'D 3×3 stride 2 padding 0', x: [2, 64, 9, 10], w: [64, 64, 3, 3], bias: true, options: { stride: 2 } },
  { name: 'D 4×4 stride 2 padding 1, 8 groups', x: [1, 64, 8, 10], w: [64, 8, 4, 4], options: { stride: 2, padding: 1, groups: 8 } },
  { name: '1×1 with padding 1', x: [1, 256, 3, 4], w: [512, 256, 1, 1], options: { padding: 1 } },
  { name: 'SE 1×1 with bias on 1×1', x: [3, 64, 1, 1], w: [4, 64, 1, 1], bias: true, options: {} },
  { name: 'extractor stem 7×7 stride 2 padding 3', x: [1, 1, 13, 15], w: [64, 1, 7, 7], options: { stride: 2, padding: 3 } },
  { name: 'depthwise', x: [2, 5, 7, 6], w: [5, 1, 3, 3], bias: true, options: { padding: 1, groups: 5 } },
  { name: 'per-side padding, 2×3 stride', x: [1, 3, 7, 9], w: [4, 3, 3, 2], options: { padding: [0, 2, 1, 0], stride: [2, 3] } },
  // Widths that are multiples of 4, 8 and 16 at stride 1 take the vec4 kernel (forward and input gradient).
  { name: 'vec4 path: 3×3 pad 1, 16 wide', x: [2, 8, 8, 16], w: [12, 8, 3, 3], bias: true, options: { padding: 1 } },
  { name: 'vec4 path: dilation 4, 8 groups, 8 wide', x: [1, 32, 8, 8], w: [32, 4, 3, 3], options: { padding: 4, dilation: 4, groups: 8 } },
  { name: '1×1, 12 wide (the matmul path)', x: [1, 20, 3, 12], w: [24, 20, 1, 1], options: {} },
  { name: 'vec4 path: 5×5 pad 2, 20 wide, 32 groups of 8', x: [1, 256, 3, 20], w: [256, 8, 5, 5], options: { padding: 2, groups: 32 } },
  { name: '3×3 valid, 10 → 8 wide (source rows not vec4-aligned)', x: [1, 3, 6, 10], w: [5, 3, 3, 3], options: {} },
  // Too few pixels per image to fill a workgroup: the batch's pixels share workgroups, runs of 4 crossing images.
  { name: 'small grid: 3×3 result, batch 3', x: [3, 16, 3, 3], w: [8, 16, 3, 3], bias: true, options: { padding: 1 } },
  { name: 'small grid: 2×2 result of a 4×4 vec4-aligned input, batch 5', x: [5, 8, 4, 4], w: [12, 8, 3, 3], options: { padding: 0 } },
  { name: 'pointwise (matmul path): 1×1, bias, fused LeakyReLU, batch 2', x: [2, 12, 5, 3], w: [7, 12, 1, 1], bias: true, options: { activation: 'leakyRelu', slope: 0.1 } },
  { name: 'fused ReLU', x: [1, 8, 5, 5], w: [16, 8, 3, 3], bias: true, options: { padding: 1, activation: 'relu' } },
  { name: 'fused LeakyReLU 0.2', x: [2, 8, 6, 5], w: [8, 2, 3, 3], bias: true, options: { padding: 1, groups: 4, activation: 'leakyRelu', slope: 0.2 } },
];

function geom(o: T.Conv2dOptions): ConvGeometry {
  const pair = (v: number | readonly number[] | undefined, d: number): [number, number] =>
    v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  const p = o.padding ?? 0;
  const padding: [number, number, number, number] = typeof p === 'number' ? [p, p, p, p] : p.length === 2 ? [p[0], p[0], p[1], p[1]] : [p[0], p[1], p[2], p[3]];
  return { stride: pair(o.stride, 1), padding, dilation: pair(o.dilation, 1), groups: o.groups ?? 1 };
}

/** The kernel entry points `fn` dispatched, and its result; `kernels` forces a family (withConvKernels). */
const kernelEntries = <R>(fn: () => R, kernels: ConvKernels = 'auto') => dispatchedEntries(() => withConvKernels(kernels, fn));

const epilogue = (o: T.Conv2dOptions) => ({ activation: o.activation ?? 'none', slope: o.slope ?? 0.2 });
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const norm = (a: ArrayLike<number>) => Math.sqrt(dot(a, a));
const gpu = (h: HostTensor) => T.tensor(h.data, h.shape);
/** Reduction length scales the float32 tolerance. */
const tolerance = (c: Case) => 2e-6 * Math.sqrt(c.w[1] * c.w[2] * c.w[3]) + 1e-6;

describe('conv2d against the float64 reference', () => {
  for (const c of CASES) {
    test(`forward: ${c.name}`, async () => {
      engine().poisonNewTensors = true;
      const x = randomHost(c.x);
      const w = randomHost(c.w);
      const b = c.bias ? randomHost([c.w[0]]) : null;
      const entries = kernelEntries(() => T.conv2d(gpu(x), gpu(w), b && gpu(b), c.options));
      await expectClose(entries.result, conv2dReference(x, w, b, geom(c.options), epilogue(c.options)), tolerance(c));
      // The cases named after a kernel path take it (on a software adapter, where the path depends on the widths).
      if (engine().gpu.software && c.name.startsWith('vec4 path')) expect(entries.names).toContain('conv_gather4');
      if (c.name.startsWith('small grid')) expect(entries.names).toContain('conv_gather');
      engine().poisonNewTensors = false;
    });

    test(`adjoint identities: ${c.name}`, async () => {
      // ⟨conv(x), y⟩ = ⟨x, ∂x(y)⟩ = ⟨w, ∂w(y)⟩: the gradient kernels are the exact transposes of the forward.
      engine().poisonNewTensors = true;
      const g = geom(c.options);
      const x = randomHost(c.x);
      const w = randomHost(c.w);
      const fx = await conv2dForward(gpu(x), gpu(w), null, g).data();
      const y = randomHost(conv2dReference({ shape: c.x, data: new Float64Array(x.data.length) }, w, null, g).shape);
      const gx = await conv2dInputGrad(gpu(y), gpu(w), g, c.x).data();
      const gw = await conv2dWeightGrad(gpu(y), gpu(x), c.w, g).data();
      const lhs = dot(fx, y.data);
      const scale = norm(fx) * norm(y.data);
      expect(Math.abs(lhs - dot(x.data, gx)) / scale).toBeLessThan(1e-5);
      expect(Math.abs(lhs - dot(w.data, gw)) / scale).toBeLessThan(1e-5);
      engine().poisonNewTensors = false;
    });
  }

  // Finite differences on the float64 reference, on the smaller cases (the reference is a direct loop).
  for (const c of CASES.filter((c) => c.x.reduce((a, b) => a * b) * c.w[0] < 400_000)) {
    test(`gradients: ${c.name}`, async () => {
      const inputs = [randomHost(c.x), randomHost(c.w), ...(c.bias ? [randomHost([c.w[0]])] : [])];
      const { forwardError, gradErrors } = await gradcheck({
        inputs,
        gpu: (x, w, b) => T.conv2d(x, w, b ?? null, c.options),
        reference: (x, w, b) => conv2dReference(x, w, b ?? null, geom(c.options), epilogue(c.options)),
        eps: 1e-4,
        directions: 2,
      });
      expect(forwardError).toBeLessThan(tolerance(c));
      for (const e of gradErrors) expect(e).toBeLessThan(2e-3);
    });
  }

  test('the weight gradient splits long reductions and still sums exactly (batch 3, 40×37)', async () => {
    const c: Case = { name: 'long', x: [3, 4, 40, 37], w: [6, 2, 3, 3], options: { padding: 1, groups: 2 } };
    const g = geom(c.options);
    const x = randomHost(c.x);
    const w = randomHost(c.w);
    const y = randomHost([3, 6, 40, 37]);
    const gw = await conv2dWeightGrad(gpu(y), gpu(x), c.w, g).data();
    // Reference: the weight gradient is ⟨y, conv(x, e_k)⟩ for each unit weight e_k.
    const expected = new Float64Array(w.data.length);
    for (let k = 0; k < expected.length; k++) {
      const e = new Float64Array(w.data.length);
      e[k] = 1;
      expected[k] = dot(conv2dReference(x, { shape: c.w, data: e }, null, g).data, y.data);
    }
    let err = 0;
    for (let k = 0; k < expected.length; k++) err = Math.max(err, Math.abs(gw[k] - expected[k]) / (Math.abs(expected[k]) + 1));
    expect(err).toBeLessThan(1e-4);
    // Deterministic: the same bits twice.
    const again = await conv2dWeightGrad(gpu(y), gpu(x), c.w, g).data();
    expect(again).toEqual(gw);
  });

  test('clear errors for mismatched shapes', () => {
    expect(() => T.conv2d(T.zeros([1, 6, 8, 8]), T.zeros([4, 4, 3, 3]))).toThrow(/expects 4 input channels/);
    expect(() => T.conv2d(T.zeros([1, 6, 8, 8]), T.zeros([4, 3, 3, 3]), null, { groups: 4 })).toThrow(/groups=4 must divide/);
    expect(() => T.conv2d(T.zeros([1, 2, 2, 2]), T.zeros([4, 2, 5, 5]))).toThrow(/does not fit/);
    expect(() => T.conv2d(T.zeros([2, 8, 8]), T.zeros([4, 2, 3, 3]))).toThrow(/NCHW/);
    expect(() => T.conv2d(T.zeros([1, 2, 8, 8]), T.zeros([4, 2, 3, 3]), T.zeros([3]))).toThrow(/bias must be \[4\]/);
  });
});

interface TransposeCase {
  name: string;
  x: [number, number, number, number];
  w: [number, number, number, number];
  options: T.ConvTranspose2dOptions;
}

const TRANSPOSE_CASES: TransposeCase[] = [
  { name: 'aux decoder k3 s2 p1 op1', x: [2, 16, 4, 5], w: [16, 8, 3, 3], options: { stride: 2, padding: 1, outputPadding: 1 } },
  { name: 'aux decoder exit k3 s1 p1', x: [1, 8, 6, 7], w: [8, 3, 3, 3], options: { padding: 1 } },
  { name: 'grouped k4 s2 p1', x: [1, 8, 3, 4], w: [8, 3, 4, 4], options: { stride: 2, padding: 1, groups: 2 } },
  { name: 'aux decoder exit k3 s1 p1, 8 wide (vec4 path)', x: [1, 8, 4, 8], w: [8, 3, 3, 3], options: { padding: 1 } },
  { name: 'dilated, per-side padding', x: [1, 3, 5, 4], w: [3, 2, 3, 3], options: { dilation: 2, padding: [1, 0, 0, 2] } },
];

// Transposed convolutions for the tiled kernel's stride phases: stride 3 with a 2-tap kernel (a phase no tap
// reaches: its outputs are the bias alone), and dilation 2 at stride 2 (half the phases reached by no tap).
const TILED_TRANSPOSE_CASES: TransposeCase[] = [
  { name: 'k2 s3, phases without taps, batch 2', x: [2, 6, 4, 5], w: [6, 5, 2, 2], options: { stride: 3, outputPadding: 2 } },
  { name: 'k3 s2 dilation 2, 3 groups, per-side padding', x: [1, 9, 5, 6], w: [9, 2, 3, 3], options: { stride: 2, dilation: 2, padding: [1, 2, 0, 1], groups: 3, outputPadding: 1 } },
  { name: 'k4 s2 p1 70 → 40 channels over several pixel tiles', x: [1, 70, 9, 11], w: [70, 40, 4, 4], options: { stride: 2, padding: 1 } },
  // 4 phases of one pixel tile and a long reduction: split-K, with pieces past the end of the phases with fewer taps.
  { name: 'small grid, long K: k3 s2 p1 256 → 8 (split-K)', x: [1, 256, 3, 3], w: [256, 8, 3, 3], options: { stride: 2, padding: 1 } },
];

const outputPadding = (c: TransposeCase): [number, number] => {
  const v = c.options.outputPadding ?? 0;
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
};

describe('conv_transpose2d against the float64 reference', () => {
  for (const c of TRANSPOSE_CASES) {
    const op = () => outputPadding(c);
    test(`forward and gradients: ${c.name}`, async () => {
      engine().poisonNewTensors = true;
      const x = randomHost(c.x);
      const w = randomHost(c.w);
      const b = randomHost([c.w[1] * (c.options.groups ?? 1)]);
      const ref = (x: HostTensor, w: HostTensor, b: HostTensor) => convTranspose2dReference(x, w, b, geom(c.options), op());
      await expectClose(T.convTranspose2d(gpu(x), gpu(w), gpu(b), c.options), ref(x, w, b), 1e-5);
      engine().poisonNewTensors = false;
      const { gradErrors } = await gradcheck({
        inputs: [x, w, b],
        gpu: (x, w, b) => T.convTranspose2d(x, w, b, c.options),
        reference: ref,
        eps: 1e-4,
        directions: 2,
      });
      for (const e of gradErrors) expect(e).toBeLessThan(2e-3);
    });

    test(`adjoint identities: ${c.name}`, async () => {
      const g = geom(c.options);
      const x = randomHost(c.x);
      const w = randomHost(c.w);
      const fx = await convTranspose2dForward(gpu(x), gpu(w), null, g, op()).data();
      const y = randomHost(convTranspose2dReference(x, w, null, g, op()).shape);
      const gx = await convTranspose2dInputGrad(gpu(y), gpu(w), g, c.x).data();
      const gw = await convTranspose2dWeightGrad(gpu(y), gpu(x), c.w, g).data();
      const lhs = dot(fx, y.data);
      const scale = norm(fx) * norm(y.data);
      expect(Math.abs(lhs - dot(x.data, gx)) / scale).toBeLessThan(1e-5);
      expect(Math.abs(lhs - dot(w.data, gw)) / scale).toBeLessThan(1e-5);
    });
  }

  test('output_padding must be smaller than stride or dilation', () => {
    expect(() => T.convTranspose2d(T.zeros([1, 2, 3, 3]), T.zeros([2, 2, 3, 3]), null, { stride: 2, outputPadding: 2 })).toThrow(/output_padding/);
  });
});

/** Runs `fn` with the kernels picking their discrete-GPU variants (as on a hardware adapter). */
async function onGpuPaths(fn: () => Promise<void>): Promise<void> {
  const gpuInfo = engine().gpu;
  const software = gpuInfo.software;
  gpuInfo.software = false;
  try {
    await fn();
  } finally {
    gpuInfo.software = software;
  }
}

describe('the hardware-GPU variants on this adapter (tiled convolutions, 64-wide workgroups elsewhere)', () => {
  test('forward, input and weight gradients match the reference', async () => {
    await onGpuPaths(async () => {
      // The last is pointwise with 2 × 1600 pixels: its weight gradient splits K on this path.
      const pointwise: Case = { name: 'pointwise, many pixels', x: [2, 5, 40, 40], w: [6, 5, 1, 1], options: {} };
      for (const c of [CASES[1], CASES[3], CASES[8], pointwise]) {
        const g = geom(c.options);
        const x = randomHost(c.x);
        const w = randomHost(c.w);
        const forward = kernelEntries(() => conv2dForward(gpu(x), gpu(w), null, g));
        await expectClose(forward.result, conv2dReference(x, w, null, g), tolerance(c));
        const y = randomHost(conv2dReference(x, w, null, g).shape);
        const fx = await conv2dForward(gpu(x), gpu(w), null, g).data();
        const input = kernelEntries(() => conv2dInputGrad(gpu(y), gpu(w), g, c.x));
        const weight = kernelEntries(() => conv2dWeightGrad(gpu(y), gpu(x), c.w, g));
        const gx = await input.result.data();
        const gw = await weight.result.data();
        const scale = norm(fx) * norm(y.data);
        expect(Math.abs(dot(fx, y.data) - dot(x.data, gx)) / scale).toBeLessThan(1e-5);
        expect(Math.abs(dot(fx, y.data) - dot(w.data, gw)) / scale).toBeLessThan(1e-5);
        if (c !== pointwise) {
          // The tiled kernels for groups of more than 8 result rows, the gathers for smaller ones (conv.ts).
          const groups = g.groups;
          const [outRows, inRows] = [c.w[0] / groups, c.w[1]];
          expect(forward.names, c.name).toContain(outRows > 8 ? 'conv_tiled' : 'conv_gather');
          expect(input.names.some((n) => n === 'conv_tiled'), c.name).toBe(inRows > 8);
          expect(weight.names, c.name).toContain(outRows > 8 ? 'conv_wgrad_tiled' : 'conv_wgrad');
        }
      }
    });
  });
});

// Geometries for Winograd's F(2×2, 3×3) (shaders/winograd.wgsl): odd result sizes (tiles past the edge), per-side
// and no padding, a batch, both epilogues, one result pixel, and the widths the software adapter picks it for.
const WINOGRAD_CASES: Case[] = [
  { name: '5→7, batch 2, bias, ReLU, odd width', x: [2, 5, 6, 7], w: [7, 5, 3, 3], bias: true, options: { padding: 1, activation: 'relu' } },
  {
    name: '6→9, per-side padding, batch 3, LeakyReLU',
    x: [3, 6, 9, 8], w: [9, 6, 3, 3], bias: true, options: { padding: [1, 0, 2, 1], activation: 'leakyRelu', slope: 0.1 },
  },
  { name: 'no padding, 4→3 at 9×8', x: [1, 4, 9, 8], w: [3, 4, 3, 3], options: {} },
  { name: 'one result pixel', x: [2, 3, 3, 3], w: [2, 3, 3, 3], bias: true, options: {} },
  { name: '64→72 at 10×12, bias (the software adapter picks it)', x: [1, 64, 10, 12], w: [72, 64, 3, 3], bias: true, options: { padding: 1 } },
];

describe("Winograd's F(2×2, 3×3) forward against the float64 reference", () => {
  for (const c of WINOGRAD_CASES) {
    test(c.name, async () => {
      engine().poisonNewTensors = true;
      const x = randomHost(c.x);
      const w = randomHost(c.w);
      const b = c.bias ? randomHost([c.w[0]]) : null;
      const forward = kernelEntries(() => T.conv2d(gpu(x), gpu(w), b && gpu(b), c.options), 'winograd');
      expect(forward.names).toEqual(expect.arrayContaining(['winograd_input', 'winograd_weight', 'winograd_output']));
      expect(forward.names.filter((n) => n.startsWith('conv_'))).toEqual([]);
      // The direct sum's tolerance: the transforms add no rounding worth a wider one.
      await expectClose(forward.result, conv2dReference(x, w, b, geom(c.options), epilogue(c.options)), tolerance(c));
      engine().poisonNewTensors = false;
    });
  }

  for (const c of WINOGRAD_CASES) {
    test(`input gradient: ${c.name}`, async () => {
      const g = geom(c.options);
      const x = randomHost(c.x);
      const w = randomHost(c.w);
      const y = randomHost(conv2dReference(x, w, null, g).shape);
      const input = kernelEntries(() => conv2dInputGrad(gpu(y), gpu(w), g, c.x), 'winograd');
      expect(input.names).toContain('winograd_weight');
      expect(input.names.filter((n) => n.startsWith('conv_'))).toEqual([]);
      await expectClose(input.result, conv2dInputGradReference(y, w, g, c.x), 2e-6 * Math.sqrt(c.w[0] * 9) + 1e-6);
      // The adjoint identity between the two Winograd directions: ⟨conv(x), y⟩ = ⟨x, ∂x(y)⟩.
      const fx = await withConvKernels('winograd', () => conv2dForward(gpu(x), gpu(w), null, g)).data();
      const gx = await input.result.data();
      const scale = norm(fx) * norm(y.data);
      expect(Math.abs(dot(fx, y.data) - dot(x.data, gx)) / scale).toBeLessThan(1e-5);
    });
  }

  test('a strided view of the source and a gradient through it', async () => {
    const c = WINOGRAD_CASES[1];
    const x = randomHost(c.x);
    const w = randomHost(c.w);
    const b = randomHost([c.w[0]]);
    // The source as a transposed view: x stored [N, C, W, H], read through strides that are not row-major.
    const [n, ch, h, wd] = c.x;
    const stored = new Float64Array(x.data.length);
    for (let p = 0; p < n * ch; p++) for (let i = 0; i < h; i++) for (let j = 0; j < wd; j++) stored[(p * wd + j) * h + i] = x.data[(p * h + i) * wd + j];
    const view = () => T.transpose(T.tensor(stored, [n, ch, wd, h]), 2, 3);
    const swapped = kernelEntries(() => T.conv2d(view(), gpu(w), gpu(b), c.options), 'winograd');
    await expectClose(swapped.result, conv2dReference(x, w, b, geom(c.options), epilogue(c.options)), tolerance(c));
    const { forwardError, gradErrors } = await withConvKernels('winograd', () =>
      gradcheck({
        inputs: [randomHost(c.x), randomHost(c.w), randomHost([c.w[0]])],
        gpu: (xi, wi, bi) => T.conv2d(xi, wi, bi ?? null, c.options),
        reference: (xi, wi, bi) => conv2dReference(xi, wi, bi ?? null, geom(c.options), epilogue(c.options)),
        eps: 1e-4,
        directions: 2,
      }),
    );
    expect(forwardError).toBeLessThan(tolerance(c));
    for (const e of gradErrors) expect(e).toBeLessThan(2e-3);
  });

  test('a batch taken in chunks of tiles that split images, the last chunk partial', async () => {
    const c = WINOGRAD_CASES[1];
    const x = randomHost(c.x);
    const w = randomHost(c.w);
    const b = randomHost([c.w[0]]);
    const g = geom(c.options);
    const [, , outH, outW] = conv2dReference(x, w, null, g).shape;
    // 16 planes × 9 channels × 4 bytes × 7 columns: chunks of 7 tiles over 3 images of 20 tiles each.
    const chunked = kernelEntries(() => winogradConv2d(gpu(x), gpu(w), gpu(b), g.padding, outH, outW, epilogue(c.options), { chunkBytes: 16 * 9 * 4 * 7 }));
    expect(chunked.names.filter((n) => n === 'winograd_input')).toHaveLength(Math.ceil((3 * 20) / 7));
    await expectClose(chunked.result, conv2dReference(x, w, b, g, epilogue(c.options)), tolerance(c));
  });

  test('the software adapter picks it for wide 3×3 convolutions only', async () => {
    if (!engine().gpu.software) return;
    const pick = (cin: number, cout: number, options: T.Conv2dOptions) =>
      kernelEntries(() => T.conv2d(T.zeros([1, cin, 8, 16]), T.zeros([cout, cin, 3, 3]), null, options)).names;
    expect(pick(32, 64, { padding: 1 })).toContain('winograd_input');
    expect(pick(16, 64, { padding: 1 })).not.toContain('winograd_input');
    expect(pick(64, 3, { padding: 1 })).not.toContain('winograd_input');
    expect(pick(64, 64, { padding: 1, stride: 2 })).not.toContain('winograd_input');
    expect(pick(64, 64, { padding: 2, dilation: 2 })).not.toContain('winograd_input');
  });
});

interface TiledCase {
  name: string;
  x: [number, number, number, number];
  w: [number, number, number, number];
  bias?: boolean;
  options: T.Conv2dOptions;
}

// Geometries for the tiled kernels (conv_tiled, TILE_M 16/32/64 × 64 pixels, and conv_wgrad_tiled): channel
// counts that are not multiples of 4 or of a tile, results smaller than one tile and spanning several, every
// stride phase of the transposed gather including phases no tap reaches.
const TILED_CASES: TiledCase[] = [
  { name: '3×3 5→7, batch 2, bias, ReLU (one partial tile)', x: [2, 5, 6, 7], w: [7, 5, 3, 3], bias: true, options: { padding: 1, activation: 'relu' } },
  {
    name: '3×3 6→70 stride 2, asymmetric padding, batch 3, bias, LeakyReLU (two row tiles)',
    x: [3, 6, 17, 19], w: [70, 6, 3, 3], bias: true, options: { stride: 2, padding: [1, 0, 2, 1], activation: 'leakyRelu', slope: 0.1 },
  },
  { name: '4×4 stride 2, 2 groups of 5→17 (TILE_M 32)', x: [1, 10, 12, 13], w: [34, 5, 4, 4], options: { stride: 2, padding: 1, groups: 2 } },
  { name: '3×3 dilation 2, 32 groups of 2→3, batch 2, bias', x: [2, 64, 9, 10], w: [96, 2, 3, 3], bias: true, options: { padding: 2, dilation: 2, groups: 32 } },
  { name: '1×1 stride 2 9→20, batch 2 (not the matmul path)', x: [2, 9, 11, 9], w: [20, 9, 1, 1], options: { stride: 2 } },
  { name: '1×1 with per-side padding 3→5', x: [1, 3, 5, 6], w: [5, 3, 1, 1], bias: true, options: { padding: [0, 1, 1, 0] } },
  {
    name: '3×3 stride 2 dilation 2, 2 groups, per-side padding, batch 3, LeakyReLU',
    x: [3, 8, 13, 14], w: [6, 4, 3, 3], bias: true, options: { stride: 2, dilation: 2, padding: [2, 1, 0, 3], groups: 2, activation: 'leakyRelu', slope: 0.2 },
  },
  { name: '3×3 13→40 over 29 pixel tiles, batch 2, bias, ReLU', x: [2, 13, 20, 23], w: [40, 13, 3, 3], bias: true, options: { padding: 1, activation: 'relu' } },
  { name: '4×4 dilation 2, depthwise 32 groups, stride 2', x: [1, 32, 11, 12], w: [32, 1, 4, 4], options: { padding: 3, dilation: 2, stride: 2, groups: 32 } },
  { name: 'strides 3×2, 2×3 kernel, 2 groups', x: [2, 6, 10, 9], w: [4, 3, 2, 3], options: { stride: [3, 2], padding: [0, 1, 1, 1], groups: 2 } },
  // One pixel tile and a long reduction: the grid is below SMALL_GRID, so the reduction splits (forward and input gradient).
  { name: 'small grid, long K: 3×3 128→24 at 6×6, bias, LeakyReLU (split-K)', x: [1, 128, 6, 6], w: [24, 128, 3, 3], bias: true, options: { padding: 1, activation: 'leakyRelu', slope: 0.2 } },
];

describe('the tiled GPU kernels (conv_tiled, conv_wgrad_tiled) against the float64 reference', () => {
  for (const c of TILED_CASES) {
    test(c.name, async () => {
      await onGpuPaths(async () => {
        engine().poisonNewTensors = true;
        const g = geom(c.options);
        const x = randomHost(c.x);
        const w = randomHost(c.w);
        const b = c.bias ? randomHost([c.w[0]]) : null;
        const forward = kernelEntries(() => T.conv2d(gpu(x), gpu(w), b && gpu(b), c.options), 'tiled');
        expect(forward.names).toContain('conv_tiled');
        expect(forward.names.filter((n) => n.startsWith('conv_gather'))).toEqual([]);
        await expectClose(forward.result, conv2dReference(x, w, b, g, epilogue(c.options)), tolerance(c));

        // Fresh inputs for the gradients.
        const x2 = randomHost(c.x);
        const w2 = randomHost(c.w);
        const y = randomHost(conv2dReference(x2, w2, null, g).shape);
        const input = kernelEntries(() => conv2dInputGrad(gpu(y), gpu(w2), g, c.x), 'tiled');
        expect(input.names).toContain('conv_tiled');
        const gradTolerance = 2e-6 * Math.sqrt(c.w[0] * c.w[2] * c.w[3]) + 1e-6;
        await expectClose(input.result, conv2dInputGradReference(y, w2, g, c.x), gradTolerance);
        const weight = kernelEntries(() => conv2dWeightGrad(gpu(y), gpu(x2), c.w, g), 'tiled');
        expect(weight.names).toContain('conv_wgrad_tiled');
        expect(weight.names).not.toContain('conv_wgrad');
        await expectClose(weight.result, conv2dWeightGradReference(y, x2, c.w, g), 1e-5);

        // The adjoint identity through the tiled path: ⟨conv(x), y⟩ = ⟨x, ∂x(y)⟩ = ⟨w, ∂w(y)⟩.
        const fx = await conv2dForward(gpu(x2), gpu(w2), null, g).data();
        const gx = await conv2dInputGrad(gpu(y), gpu(w2), g, c.x).data();
        const gw = await conv2dWeightGrad(gpu(y), gpu(x2), c.w, g).data();
        const lhs = dot(fx, y.data);
        const scale = norm(fx) * norm(y.data);
        expect(Math.abs(lhs - dot(x2.data, gx)) / scale).toBeLessThan(1e-5);
        expect(Math.abs(lhs - dot(w2.data, gw)) / scale).toBeLessThan(1e-5);
        engine().poisonNewTensors = false;
      });
    });
  }

  test('a small grid with a long reduction splits it, and the pieces sum to the unsplit result', async () => {
    await onGpuPaths(async () => {
      const c = TILED_CASES[TILED_CASES.length - 1];
      const x = randomHost(c.x);
      const w = randomHost(c.w);
      const b = randomHost([c.w[0]]);
      const forward = kernelEntries(() => T.conv2d(gpu(x), gpu(w), gpu(b), c.options), 'tiled');
      // The split pieces are summed by the reduction kernel, the bias and activation applied after it.
      expect(forward.names.filter((n) => n === 'conv_tiled')).toHaveLength(1);
      expect(forward.names.some((n) => n.startsWith('reduce'))).toBe(true);
      await expectClose(forward.result, conv2dReference(x, w, b, geom(c.options), epilogue(c.options)), tolerance(c));
    });
  });

  test('withConvKernels forces either family on any adapter', async () => {
    const c = TILED_CASES[0];
    const g = geom(c.options);
    const x = randomHost(c.x);
    const w = randomHost(c.w);
    const expected = conv2dReference(x, w, null, g);
    for (const [family, entry] of [['tiled', 'conv_tiled'], ['gather', 'conv_gather']] as const) {
      const run = kernelEntries(() => withConvKernels(family, () => conv2dForward(gpu(x), gpu(w), null, g)));
      expect(run.names.some((n) => n.startsWith(entry))).toBe(true);
      await expectClose(run.result, expected, tolerance(c));
    }
  });

  for (const c of [...TRANSPOSE_CASES, ...TILED_TRANSPOSE_CASES]) {
    test(`conv_transpose2d: ${c.name}`, async () => {
      await onGpuPaths(async () => {
        const g = geom(c.options);
        const op = outputPadding(c);
        const x = randomHost(c.x);
        const w = randomHost(c.w);
        const b = randomHost([c.w[1] * (c.options.groups ?? 1)]);
        const act = { activation: 'leakyRelu' as const, slope: 0.3 };
        const forward = kernelEntries(() => convTranspose2dForward(gpu(x), gpu(w), gpu(b), g, op, act), 'tiled');
        expect(forward.names).toContain('conv_tiled');
        await expectClose(forward.result, convTranspose2dReference(x, w, b, g, op, act), 1e-5);
        // Its input gradient is a conv2d (MODE 0) with the same weight; its weight gradient conv_wgrad_tiled.
        const y = randomHost(convTranspose2dReference(x, w, null, g, op).shape);
        const fx = await convTranspose2dForward(gpu(x), gpu(w), null, g, op).data();
        const input = kernelEntries(() => convTranspose2dInputGrad(gpu(y), gpu(w), g, c.x), 'tiled');
        const weight = kernelEntries(() => convTranspose2dWeightGrad(gpu(y), gpu(x), c.w, g), 'tiled');
        expect(input.names).toContain('conv_tiled');
        expect(weight.names).toContain('conv_wgrad_tiled');
        const gx = await input.result.data();
        const gw = await weight.result.data();
        const lhs = dot(fx, y.data);
        const scale = norm(fx) * norm(y.data);
        expect(Math.abs(lhs - dot(x.data, gx)) / scale).toBeLessThan(1e-5);
        expect(Math.abs(lhs - dot(w.data, gw)) / scale).toBeLessThan(1e-5);
      });
    });
  }
});
