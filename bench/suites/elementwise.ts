// Elementwise kernels at a training step's sizes (64 channels at 128×128, a batch of 4: 4 Mi elements): an
// activation, a per-channel bias broadcast, a product, a select, and a copy of a permuted view (the strided path).
// The peer is tfjs's WebGPU backend; it has no views, so the permuted copy is its transpose.
import { engine, keep } from '../../src/engine/engine.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { binary, contiguousCopy, select, unary } from '../../src/kernels/elementwise.js';
import { relativeError } from '../../src/ops/gradcheck.js';
import { permute, randUniform } from '../../src/ops/index.js';
import type { BenchCase, BenchSuite } from '../harness.js';
import { tfjsPeer } from '../peers/tfjs.js';

const SHAPE = [4, 64, 128, 128];

export const elementwiseSuite: BenchSuite = {
  name: 'elementwise',
  async cases() {
    const e = engine();
    const tfjs = await tfjsPeer(e.gpu);
    const { tf } = tfjs;
    const x = keep(randUniform(SHAPE, -1, 1));
    const y = keep(randUniform(SHAPE, -1, 1));
    const bias = keep(randUniform([1, SHAPE[1], 1, 1], -1, 1));
    const tx = tf.tensor(await x.data(), SHAPE);
    const ty = tf.tensor(await y.data(), SHAPE);
    const tbias = tf.tensor(await bias.data(), [1, SHAPE[1], 1, 1]);
    const kinds: { name: string; ours: () => Tensor; peer: () => import('@tensorflow/tfjs-core').Tensor }[] = [
      { name: 'leakyRelu', ours: () => unary('leakyRelu', x, 0.2), peer: () => tf.leakyRelu(tx, 0.2) },
      { name: 'add bias [1,C,1,1]', ours: () => binary('add', x, bias), peer: () => tf.add(tx, tbias) },
      { name: 'mul', ours: () => binary('mul', x, y), peer: () => tf.mul(tx, ty) },
      { name: 'where x>0', ours: () => select(x, x, y), peer: () => tf.where(tf.cast(tx, 'bool'), tx, ty) },
      {
        name: 'copy NCHW->NHWC',
        ours: () => {
          const view = permute(x, [0, 2, 3, 1]);
          const out = contiguousCopy(view);
          view.dispose();
          return out;
        },
        peer: () => tf.transpose(tx, [0, 2, 3, 1]),
      },
    ];
    const elements = SHAPE.reduce((a, b) => a * b, 1);
    const cases: BenchCase[] = kinds.map((k, i) => ({
      suite: 'elementwise',
      name: `${k.name} ${SHAPE.join('x')}`,
      flops: elements,
      async ours() {
        k.ours().dispose();
        await e.sync();
      },
      peer: { name: 'tfjs-webgpu', run: () => tfjs.run(() => tf.tidy(k.peer)) },
      async agree() {
        const out = k.ours();
        const ours = await out.data();
        out.dispose();
        const t = tf.tidy(k.peer);
        const theirs = (await t.data()) as Float32Array;
        t.dispose();
        return `ours vs tfjs relative difference ${relativeError(ours, theirs).toExponential(1)}`;
      },
      dispose() {
        if (i !== kinds.length - 1) return;
        for (const t of [x, y, bias]) t.dispose();
        for (const t of [tx, ty, tbias]) t.dispose();
      },
    }));
    return cases;
  },
};
