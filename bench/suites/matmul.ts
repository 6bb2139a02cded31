// Matrix products against tfjs's WebGPU matMul: square sizes and the skinny shape of an implicit-GEMM
// convolution (4096 pixels × 64 output channels × 576 = 64·3·3 reduction).
import { engine, keep } from '../../src/engine/engine.js';
import { matmul, randUniform } from '../../src/ops/index.js';
import { relativeError } from '../../src/ops/gradcheck.js';
import type { BenchSuite } from '../harness.js';
import { tfjsPeer } from '../peers/tfjs.js';

const SHAPES: [number, number, number][] = [
  [256, 256, 256],
  [512, 512, 512],
  [1024, 1024, 1024],
  [4096, 64, 576],
];

export const matmulSuite: BenchSuite = {
  name: 'matmul',
  async cases() {
    const e = engine();
    const tfjs = await tfjsPeer(e.gpu);
    const { tf } = tfjs;
    return Promise.all(
      SHAPES.map(async ([M, N, K]) => {
        const a = keep(randUniform([M, K], -1, 1));
        const b = keep(randUniform([K, N], -1, 1));
        const ta = tf.tensor2d(await a.data(), [M, K]);
        const tb = tf.tensor2d(await b.data(), [K, N]);
        return {
          suite: 'matmul',
          name: `${M}x${N}x${K}`,
          flops: 2 * M * N * K,
          async ours() {
            matmul(a, b).dispose();
            await e.sync();
          },
          peer: { name: 'tfjs-webgpu', run: () => tfjs.run(() => tf.matMul(ta, tb)) },
          async agree() {
            const y = matmul(a, b);
            const ours = await y.data();
            y.dispose();
            const t = tf.matMul(ta, tb);
            const theirs = (await t.data()) as Float32Array;
            t.dispose();
            return `ours vs tfjs relative difference ${relativeError(ours, theirs).toExponential(1)}`;
          },
          dispose() {
            a.dispose();
            b.dispose();
            ta.dispose();
            tb.dispose();
          },
        };
      }),
    );
  },
};
