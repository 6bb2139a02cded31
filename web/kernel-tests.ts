// The engine's kernels checked inside the browser (kernel-tests.html): a subset of the vitest suites —
// elementwise (one and four elements per invocation), matmul (both families), convolution (forward against the
// float64 reference, Winograd's included, gradients by the adjoint identities), reductions and pooling — run on navigator.gpu, so differences between the browser's
// WebGPU and Dawn in Node (WGSL validation, limits, buffer mapping) show up. Results go to the page as a table
// and to `window.kernelTestResults` for the browser test (test/browser-app.test.ts).
import { hostNormal, hostRandom, relativeError } from '../src/ops/gradcheck.js';
import { browserDevice } from '../src/engine/device.js';
import { Engine, useEngine } from '../src/engine/engine.js';
import { sizeOf, type Shape } from '../src/engine/shape.js';
import { conv2dForward, conv2dInputGrad, conv2dShape, conv2dWeightGrad, withConvKernels, type ConvGeometry } from '../src/kernels/conv.js';
import { conv2dReference } from '../src/kernels/conv.ref.js';
import { binary, unary, type BinaryOp, type UnaryOp } from '../src/kernels/elementwise.js';
import { binaryReference, unaryReference } from '../src/kernels/elementwise.ref.js';
import type { HostTensor } from '../src/kernels/host.js';
import { matmulReference } from '../src/kernels/matmul.ref.js';
import { poolGeometry } from '../src/kernels/pool.js';
import { maxPool2dReference } from '../src/kernels/pool.ref.js';
import { reduce } from '../src/kernels/reduce.js';
import { reduceReference } from '../src/kernels/reduce.ref.js';
import * as T from '../src/ops/index.js';

export interface KernelTestResult {
  name: string;
  pass: boolean;
  /** Relative L2 error against the reference (or the adjoint mismatch). */
  error: number;
  tolerance: number;
  message?: string;
}

let seed = 1;
function randomHost(shape: Shape): HostTensor {
  const rand = hostRandom(seed++ * 7919);
  return { shape: [...shape], data: Float64Array.from({ length: sizeOf(shape) }, () => hostNormal(rand)) };
}
const up = (h: HostTensor) => T.tensor(h.data, h.shape);
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

type Check = () => Promise<{ error: number; tolerance: number }>;
const cases: [string, Check][] = [];
const check = (name: string, run: Check) => cases.push([name, run]);

async function compare(actual: T.Tensor, expected: HostTensor, tolerance: number) {
  if (actual.shape.join() !== expected.shape.join()) throw new Error(`shape [${actual.shape}] ≠ [${expected.shape}]`);
  return { error: relativeError(await actual.data(), expected.data), tolerance };
}

for (const [op, alpha, beta] of [['relu', 0, 0], ['leakyRelu', 0.2, 0], ['tanh', 0, 0], ['sigmoid', 0, 0], ['exp', 0, 0], ['affine', 0.5, 0.5], ['clamp', -0.5, 0.7]] as [UnaryOp, number, number][]) {
  check(`elementwise ${op}`, () => {
    const x = randomHost([3, 37, 5]);
    return compare(unary(op, up(x), alpha, beta), unaryReference(op, x, alpha, beta), 1e-6);
  });
}
for (const [op, sa, sb] of [['add', [4, 1, 6], [5, 1]], ['mul', [2, 3, 8, 8], [3, 1, 1]], ['sub', [70_000], [70_000]], ['max', [9, 7], [9, 7]]] as [BinaryOp, Shape, Shape][]) {
  check(`elementwise ${op} [${sa}] [${sb}]`, () => {
    const [a, b] = [randomHost(sa), randomHost(sb)];
    return compare(binary(op, up(a), up(b)), binaryReference(op, a, b), 1e-6);
  });
}
for (const software of [true, false]) {
  for (const [sa, sb] of [[[17, 9], [9, 33]], [[65, 31], [31, 129]], [[64, 64], [64, 64]], [[2, 16, 24], [1, 24, 8]]] as [Shape, Shape][]) {
    check(`matmul (${software ? 'register' : 'workgroup-tiled'} kernel) [${sa}]·[${sb}]`, async () => {
      const e = await engineReady;
      const original = e.gpu.software;
      e.gpu.software = software;
      try {
        const [a, b] = [randomHost(sa), randomHost(sb)];
        return await compare(T.matmul(up(a), up(b)), matmulReference(a, b), 1e-6 * Math.sqrt(sa.at(-1)!) + 1e-6);
      } finally {
        e.gpu.software = original;
      }
    });
  }
}
const geometry = (stride: number, padding: number, dilation: number, groups: number): ConvGeometry => ({
  stride: [stride, stride],
  padding: [padding, padding, padding, padding],
  dilation: [dilation, dilation],
  groups,
});
const CONVS: [string, Shape, Shape, ConvGeometry, boolean][] = [
  ['3×3 6→32 with bias and LeakyReLU', [1, 6, 9, 11], [32, 6, 3, 3], geometry(1, 1, 1, 1), true],
  ['3×3 stride 2', [2, 32, 9, 8], [64, 32, 3, 3], geometry(2, 1, 1, 1), false],
  ['32 groups of 4, dilation 2', [1, 128, 7, 6], [128, 4, 3, 3], geometry(1, 2, 2, 32), false],
  ['vec4 path 16 wide', [2, 8, 5, 16], [12, 8, 3, 3], geometry(1, 1, 1, 1), true],
  ['1×1 (matmul path)', [1, 20, 3, 12], [24, 20, 1, 1], geometry(1, 0, 1, 1), false],
  ['7×7 stride 2 stem', [1, 1, 13, 15], [16, 1, 7, 7], geometry(2, 3, 1, 1), false],
];
for (const [name, xs, ws, g, bias] of CONVS) {
  const epilogue = bias ? ({ activation: 'leakyRelu', slope: 0.2 } as const) : ({ activation: 'none', slope: 0 } as const);
  check(`conv2d forward: ${name}`, () => {
    const [x, w] = [randomHost(xs), randomHost(ws)];
    const b = bias ? randomHost([ws[0]]) : null;
    return compare(conv2dForward(up(x), up(w), b && up(b), g, epilogue), conv2dReference(x, w, b, g, epilogue), 2e-6 * Math.sqrt(ws[1] * ws[2] * ws[3]) + 1e-6);
  });
  check(`conv2d gradients (adjoint identities): ${name}`, async () => {
    // ⟨conv(x), y⟩ = ⟨x, ∂x(y)⟩ = ⟨w, ∂w(y)⟩ holds only if both gradient kernels are exact transposes.
    const [x, w] = [randomHost(xs), randomHost(ws)];
    const y = randomHost(conv2dShape(xs, ws, g));
    const fx = await conv2dForward(up(x), up(w), null, g).data();
    const gx = await conv2dInputGrad(up(y), up(w), g, xs).data();
    const gw = await conv2dWeightGrad(up(y), up(x), ws, g).data();
    const lhs = dot(fx, y.data);
    const scale = Math.sqrt(dot(fx, fx) * dot(y.data, y.data));
    return { error: Math.max(Math.abs(lhs - dot(x.data, gx)), Math.abs(lhs - dot(w.data, gw))) / scale, tolerance: 1e-5 };
  });
}
check("conv2d forward: Winograd F(2×2, 3×3), 32→40, odd sizes, batch 2, bias and LeakyReLU", () => {
  const [x, w, b] = [randomHost([2, 32, 7, 9]), randomHost([40, 32, 3, 3]), randomHost([40])];
  const g = geometry(1, 1, 1, 1);
  const epilogue = { activation: 'leakyRelu', slope: 0.2 } as const;
  const y = withConvKernels('winograd', () => conv2dForward(up(x), up(w), up(b), g, epilogue));
  return compare(y, conv2dReference(x, w, b, g, epilogue), 2e-6 * Math.sqrt(32 * 9) + 1e-6);
});
check('reduce sum over axes (0, 2)', () => {
  const x = randomHost([6, 5, 300]);
  return compare(reduce('sum', up(x), [0, 2]), reduceReference('sum', x, [0, 2]), 1e-6);
});
check('reduce max, long rows', () => {
  const x = randomHost([3, 5000]);
  // The reference keeps float64 inputs: float32 rounding of the inputs is the only allowed difference.
  return compare(reduce('max', up(x), 1), reduceReference('max', x, 1), 1e-7);
});
check('max pool 3×3 stride 2 padding 1', () => {
  const x = randomHost([1, 4, 9, 10]);
  return compare(T.maxPool2d(up(x), 3, 2, 1), maxPool2dReference(x, poolGeometry('maxPool2d', x.shape, 3, 2, 1)), 1e-7);
});

let engineReady: Promise<Engine>;

async function run(): Promise<KernelTestResult[]> {
  engineReady = browserDevice().then((gpu) => {
    const e = new Engine(gpu);
    useEngine(e);
    return e;
  });
  const e = await engineReady;
  document.getElementById('adapter')!.textContent = `${e.gpu.adapterName} (${e.gpu.backend})`;
  const results: KernelTestResult[] = [];
  for (const [name, run] of cases) {
    try {
      const { error, tolerance } = await run();
      results.push({ name, pass: error <= tolerance, error, tolerance });
    } catch (err) {
      results.push({ name, pass: false, error: NaN, tolerance: 0, message: (err as Error).message });
    }
  }
  return results;
}

function show(results: KernelTestResult[]): void {
  const rows = results.map((r) => {
    const tr = document.createElement('tr');
    tr.className = r.pass ? 'pass' : 'fail';
    for (const text of [r.pass ? 'pass' : 'FAIL', r.name, r.message ?? `${r.error.toExponential(2)} ≤ ${r.tolerance.toExponential(0)}`]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    return tr;
  });
  document.getElementById('results')!.replaceChildren(...rows);
  const failed = results.filter((r) => !r.pass).length;
  document.getElementById('summary')!.textContent = `${results.length - failed} of ${results.length} passed`;
}

run()
  .then((results) => {
    show(results);
    (window as unknown as { kernelTestResults: KernelTestResult[] }).kernelTestResults = results;
  })
  .catch((e: Error) => {
    document.getElementById('summary')!.textContent = `Could not run: ${e.message}`;
    (window as unknown as { kernelTestResults: KernelTestResult[] }).kernelTestResults = [{ name: 'WebGPU device', pass: false, error: NaN, tolerance: 0, message: e.message }];
  });
