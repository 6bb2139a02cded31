import { describe, expect, test } from 'vitest';
import { gradcheck } from '../src/ops/gradcheck.js';
import { batchedMatmul, type MatmulEpilogue } from '../src/kernels/matmul.js';
import { matmulReference } from '../src/kernels/matmul.ref.js';
import * as T from '../src/ops/index.js';
import { expectClose, randomHost } from './helpers/check.js';
import { useTestEngine } from './helpers/gpu.js';

const engine = useTestEngine();
const up = (h: { shape: number[]; data: Float64Array }) => T.tensor(h.data, h.shape);

/** act(a·b + bias[row]) in float64. */
function epilogueReference(a: { shape: number[]; data: Float64Array }, b: { shape: number[]; data: Float64Array }, bias: Float64Array | null, activation: MatmulEpilogue['activation'], slope: number) {
  const product = matmulReference(a, b);
  const [M, N] = product.shape.slice(-2);
  const data = product.data.map((v, i) => {
    const x = v + (bias ? bias[Math.floor(i / N) % M] : 0);
    return activation === 'relu' ? Math.max(x, 0) : activation === 'leakyRelu' && x < 0 ? x * slope : x;
  });
  return { shape: product.shape, data };
}

/** Products with bias and activation fused into the store, on whichever kernels this adapter (or the forced GPU path) picks. */
async function checkEpilogues(shapes: [number[], number[]][]): Promise<void> {
  for (const [sa, sb] of shapes) {
    for (const [activation, withBias] of [['leakyRelu', true], ['relu', false], ['none', true]] as const) {
      const [a, b] = [randomHost(sa), randomHost(sb)];
      const M = sa[sa.length - 2];
      const bias = withBias ? randomHost([M]) : null;
      const out = batchedMatmul(up(a), up(b), { bias: bias ? up(bias) : null, activation, slope: 0.2 });
      await expectClose(out, epilogueReference(a, b, bias?.data ?? null, activation, 0.2), 1e-5);
    }
  }
}

describe('batched matmul against the float64 reference', () => {
  // 1-element, odd, tile-straddling, vec4-aligned, skinny, and broadcast batches.
  const cases: [number[], number[]][] = [
    [[1, 1], [1, 1]],
    [[17, 9], [9, 33]],
    [[65, 31], [31, 129]],
    [[300, 20], [20, 1]],
    [[64, 64], [64, 64]],
    [[40, 96], [96, 12]],
    [[3, 19, 7], [7, 5]],
    [[2, 16, 24], [1, 24, 8]],
    [[4, 1, 6, 10], [3, 10, 2]],
    [[5, 0], [0, 3]],
  ];
  for (const [sa, sb] of cases) {
    test(`[${sa}] · [${sb}]`, async () => {
      engine().poisonNewTensors = true;
      const a = randomHost(sa);
      const b = randomHost(sb);
      const ref = matmulReference(a, b);
      const K = sa.at(-1)!;
      await expectClose(T.matmul(up(a), up(b)), ref, 1e-6 * Math.sqrt(K) + 1e-6);
    });
  }

  test('transposed and permuted operands (read in place or copied) give the same products', async () => {
    for (const [M, K, N] of [[8, 12, 16], [7, 5, 3], [33, 64, 20]]) {
      const a = randomHost([K, M]);
      const b = randomHost([N, K]);
      const at = T.transpose(up(a));
      const bt = T.transpose(up(b));
      const aRef = { shape: [M, K], data: Float64Array.from(await T.contiguous(at).data()) };
      const bRef = { shape: [K, N], data: Float64Array.from(await T.contiguous(bt).data()) };
      const ref = matmulReference(aRef, bRef);
      await expectClose(T.matmul(at, bt), ref, 1e-5);
      await expectClose(T.matmul(T.contiguous(at), bt), ref, 1e-5);
      await expectClose(T.matmul(at, T.contiguous(bt)), ref, 1e-5);
      // An offset view (a slice) goes through a copy.
      const wide = randomHost([M, K + 2]);
      const sliced = T.slice(up(wide), [0, 2], [M, K]);
      const slicedRef = { shape: [M, K], data: Float64Array.from(await T.contiguous(sliced).data()) };
      await expectClose(T.matmul(sliced, bt), matmulReference(slicedRef, bRef), 1e-5);
    }
  });

  test('gradients, including broadcast batches and transposed use', async () => {
    for (const [sa, sb] of [[[5, 7], [7, 3]], [[2, 4, 6], [6, 5]], [[3, 1, 4, 8], [2, 8, 4]]] as const) {
      const { forwardError, gradErrors } = await gradcheck({
        inputs: [randomHost(sa), randomHost(sb)],
        gpu: (a, b) => T.matmul(a, b),
        reference: matmulReference,
      });
      expect(forwardError).toBeLessThan(1e-5);
      for (const e of gradErrors) expect(e).toBeLessThan(1e-4);
    }
  });

  test('bias and activation fused into the store (register kernels, scalar and vec4)', async () => {
    engine().poisonNewTensors = true;
    try {
      await checkEpilogues([[[17, 9], [9, 33]], [[2, 16, 24], [1, 24, 8]], [[1, 40], [40, 12]]]);
    } finally {
      engine().poisonNewTensors = false;
    }
    expect(() => batchedMatmul(T.zeros([3, 2]), T.zeros([2, 4]), { bias: T.zeros([4]), activation: 'none', slope: 0 })).toThrow(/bias must be \[3\]/);
  });

  test('shape errors', () => {
    expect(() => T.matmul(T.zeros([2, 3]), T.zeros([4, 2]))).toThrow(/inner dims 3 and 4/);
    expect(() => T.matmul(T.zeros([3]), T.zeros([3, 2]))).toThrow(/rank ≥ 2/);
  });
});

describe('the GPU kernel (matmul_tiled) on this adapter', () => {
  test('matches the reference, including transposed operands and broadcast batches', async () => {
    const gpu = engine().gpu;
    const software = gpu.software;
    gpu.software = false; // launch() picks the workgroup-tiled kernel meant for discrete GPUs
    try {
      engine().poisonNewTensors = true;
      for (const [sa, sb] of [[[65, 31], [31, 129]], [[2, 70, 64], [1, 64, 3]], [[1, 1], [1, 1]]]) {
        const a = randomHost(sa);
        const b = randomHost(sb);
        await expectClose(T.matmul(up(a), up(b)), matmulReference(a, b), 1e-5);
      }
      const a = randomHost([40, 66]);
      const b = randomHost([9, 40]);
      const at = T.transpose(up(a));
      const bt = T.transpose(up(b));
      const ref = matmulReference(
        { shape: [66, 40], data: Float64Array.from(await T.contiguous(at).data()) },
        { shape: [40, 9], data: Float64Array.from(await T.contiguous(bt).data()) },
      );
      await expectClose(T.matmul(at, bt), ref, 1e-5);
      // Split-K: a long K over few output tiles is summed in pieces (5 of 608 here), transposed operand included.
      const la = randomHost([2, 70, 3000]);
      const lb = randomHost([2, 3000, 9]);
      const [ga, gb] = [up(la), up(lb)];
      const { recording, result: long } = engine().record(() => T.matmul(ga, gb));
      expect(recording.commands.find((c) => c.kernel.startsWith('matmul:matmul_tiled'))?.cost?.shape).toBe('70×9×K3000 ×2 split 5');
      expect(recording.commands.some((c) => c.kernel.startsWith('reduce:'))).toBe(true);
      await expectClose(long, matmulReference(la, lb), 1e-5);
      recording.dispose();
      // Matrix times vector (matmul_gemv), both layouts of the matrix, the vector on either side, broadcast batches.
      const gemvCases: [number[], number[]][] = [[[70, 3000], [3000, 1]], [[1, 300], [300, 130]], [[1, 77], [77, 1]], [[3, 1, 40], [3, 40, 70]], [[2, 65, 33], [1, 33, 1]]];
      for (const [sa, sb] of gemvCases) {
        const [ha, hb] = [randomHost(sa), randomHost(sb)];
        const [ga2, gb2] = [up(ha), up(hb)];
        const { recording: r, result } = engine().record(() => T.matmul(ga2, gb2));
        expect(r.commands.map((c) => c.kernel.split(':')[1])).toContain('matmul_gemv');
        await expectClose(result, matmulReference(ha, hb), 1e-5);
        r.dispose();
      }
      // Fused bias and activation: tiled, split-K (applied after the sum), matrix × vector both ways round.
      await checkEpilogues([[[65, 31], [31, 129]], [[2, 70, 3000], [2, 3000, 9]], [[70, 300], [300, 1]], [[1, 300], [300, 130]]]);
      // The matrix stored transposed: Aᵀ·v (rows along M) and uᵀ·Bᵀ (B stored [N, K], read row by row).
      const [hm, hv, hu] = [randomHost([300, 90]), randomHost([300, 1]), randomHost([1, 300])];
      const mt = T.transpose(up(hm));
      const mtHost = { shape: [90, 300], data: Float64Array.from(await T.contiguous(mt).data()) };
      await expectClose(T.matmul(mt, up(hv)), matmulReference(mtHost, hv), 1e-5);
      await expectClose(T.matmul(up(hu), T.transpose(up(mtHost))), matmulReference(hu, hm), 1e-5);
      const lbt = randomHost([9, 3000]);
      const longT = T.matmul(up(la), T.transpose(up(lbt)));
      await expectClose(longT, matmulReference(la, { shape: [3000, 9], data: Float64Array.from(await T.contiguous(T.transpose(up(lbt))).data()) }), 1e-5);
    } finally {
      gpu.software = software;
      engine().poisonNewTensors = false;
    }
  });
});
