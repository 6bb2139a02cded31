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
  type ConvGeometry,
} from '../src/kernels/conv.js';
import { conv2dReference, convTranspose2dReference } from '../src/kernels/conv.ref.js';
import * as T from '../src/ops/index.js';
import { expectClose, randomHost } from './helpers/check.js';
import { useTestEngine } from './helpers/gpu.js';

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

/** The kernel entry points `fn` dispatched, and its result. */
function kernelEntries<R>(fn: () => R): { result: R; names: string[] } {
  const e = engine();
  const names: string[] = [];
  const dispatch = e.dispatch.bind(e);
  e.dispatch = (kernel, ...rest) => {
    names.push(kernel.entry);
    dispatch(kernel, ...rest);
  };
  try {
    return { result: fn(), names };
  } finally {
    e.dispatch = dispatch;
  }
}

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

describe('conv_transpose2d against the float64 reference', () => {
  for (const c of TRANSPOSE_CASES) {
    const op = (): [number, number] => {
      const v = c.options.outputPadding ?? 0;
      return typeof v === 'number' ? [v, v] : [v[0], v[1]];
    };
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

describe('the GPU variants (64-wide workgroups) on this adapter', () => {
  test('forward, input and weight gradients match the reference', async () => {
    const gpuInfo = engine().gpu;
    const software = gpuInfo.software;
    gpuInfo.software = false; // kernels pick their discrete-GPU variants
    try {
      // The last is pointwise with 2 × 1600 pixels: its weight gradient splits K on this path.
      const pointwise: Case = { name: 'pointwise, many pixels', x: [2, 5, 40, 40], w: [6, 5, 1, 1], options: {} };
      for (const c of [CASES[1], CASES[3], CASES[8], pointwise]) {
        const g = geom(c.options);
        const x = randomHost(c.x);
        const w = randomHost(c.w);
        await expectClose(conv2dForward(gpu(x), gpu(w), null, g), conv2dReference(x, w, null, g), tolerance(c));
        const y = randomHost(conv2dReference(x, w, null, g).shape);
        const fx = await conv2dForward(gpu(x), gpu(w), null, g).data();
        const gx = await conv2dInputGrad(gpu(y), gpu(w), g, c.x).data();
        const gw = await conv2dWeightGrad(gpu(y), gpu(x), c.w, g).data();
        const scale = norm(fx) * norm(y.data);
        expect(Math.abs(dot(fx, y.data) - dot(x.data, gx)) / scale).toBeLessThan(1e-5);
        expect(Math.abs(dot(fx, y.data) - dot(w.data, gw)) / scale).toBeLessThan(1e-5);
      }
    } finally {
      gpuInfo.software = software;
    }
  });
});
