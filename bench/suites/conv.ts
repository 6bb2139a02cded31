// Convolutions of the v1 generator at a 512×512 page, forward and both gradients, against tfjs's WebGPU
// backend on the same adapter. tfjs has no grouped convolution, so for grouped layers the peer is what a tfjs
// user has to write: split the channels, one conv per group, concat. tfjs computes no gradients for dilated
// convolutions, so those cases have no peer. With --conv-kernels every case runs once per kernel family listed
// (e.g. tiled,gather: the hardware-GPU tiled GEMMs against the register-tile gathers on the same adapter); the
// peer is timed with the first.
import { engine, keep } from '../../src/engine/engine.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { conv2dForward, conv2dInputGrad, conv2dWeightGrad, conv2dShape, withConvKernels, type ConvGeometry } from '../../src/kernels/conv.js';
import { relativeError } from '../../src/ops/gradcheck.js';
import { randUniform } from '../../src/ops/index.js';
import type { BenchCase, BenchSuite } from '../harness.js';
import { tfjsPeer } from '../peers/tfjs.js';

interface Layer {
  name: string;
  cin: number;
  cout: number;
  size: number;
  k: number;
  groups: number;
  dilation: number;
}

const LAYERS: Layer[] = [
  { name: 'to0 3x3 6->32 @512', cin: 6, cout: 32, size: 512, k: 3, groups: 1, dilation: 1 },
  { name: 'tunnel3 3x3 256/32g @128', cin: 256, cout: 256, size: 128, k: 3, groups: 32, dilation: 1 },
  { name: 'tunnel3 3x3 256/32g dil4 @128', cin: 256, cout: 256, size: 128, k: 3, groups: 32, dilation: 4 },
  { name: 'bottleneck 1x1 512->256 @32', cin: 512, cout: 256, size: 32, k: 1, groups: 1, dilation: 1 },
  { name: 'tunnel4 3x3 1024->512 @32', cin: 1024, cout: 512, size: 32, k: 3, groups: 1, dilation: 1 },
];

type Kind = 'fwd' | 'bwd-input' | 'bwd-weight';
type T4 = import('@tensorflow/tfjs-core').Tensor4D;

export const convSuite: BenchSuite = {
  name: 'conv',
  async cases(options) {
    const e = engine();
    const tfjs = await tfjsPeer(e.gpu);
    const { tf } = tfjs;
    const cases: BenchCase[] = [];
    for (const L of LAYERS) {
      const pad = (L.dilation * (L.k - 1)) / 2;
      const geom: ConvGeometry = { stride: [1, 1], padding: [pad, pad, pad, pad], dilation: [L.dilation, L.dilation], groups: L.groups };
      const xShape = [1, L.cin, L.size, L.size];
      const wShape = [L.cout, L.cin / L.groups, L.k, L.k];
      const yShape = conv2dShape(xShape, wShape, geom);
      const x = keep(randUniform(xShape, -1, 1));
      const w = keep(randUniform(wShape, -0.1, 0.1));
      const dy = keep(randUniform(yShape, -1, 1));
      // tfjs tensors in its own layouts (NHWC, HWIO), one filter per group for the grouped emulation.
      const tx: T4 = tf.transpose(tf.tensor4d(await x.data(), xShape as [number, number, number, number]), [0, 2, 3, 1]);
      const tdy: T4 = tf.transpose(tf.tensor4d(await dy.data(), yShape), [0, 2, 3, 1]);
      const tw: T4 = tf.transpose(tf.tensor4d(await w.data(), wShape as [number, number, number, number]), [2, 3, 1, 0]);
      const groupFilters = L.groups === 1 ? [tw] : tf.split(tw, L.groups, 3);
      const tfPad = pad === 0 ? 'valid' : 'same';
      const dil: [number, number] = [L.dilation, L.dilation];
      const perGroup = (t: T4): T4[] => (L.groups === 1 ? [t] : (tf.split(t, L.groups, 3) as T4[]));
      const join = (ts: import('@tensorflow/tfjs-core').Tensor[]) => (ts.length === 1 ? ts[0] : tf.concat(ts, 3));
      const peerOps = {
        fwd: () => join(perGroup(tx).map((xg, g) => tf.conv2d(xg, groupFilters[g] as T4, 1, tfPad, 'NHWC', dil))),
        'bwd-input': () =>
          join(
            perGroup(tdy).map((dg, g) =>
              tf.engine().runKernel('Conv2DBackpropInput', { dy: dg, filter: groupFilters[g] }, {
                strides: [1, 1], pad: tfPad, dataFormat: 'NHWC', inputShape: [1, L.size, L.size, L.cin / L.groups],
              }) as import('@tensorflow/tfjs-core').Tensor,
            ),
          ),
        'bwd-weight': () =>
          join(
            perGroup(tdy).map((dg, g) =>
              tf.engine().runKernel('Conv2DBackpropFilter', { x: perGroup(tx)[g], dy: dg }, {
                strides: [1, 1], pad: tfPad, dataFormat: 'NHWC', filterShape: [L.k, L.k, L.cin / L.groups, L.cout / L.groups],
              }) as import('@tensorflow/tfjs-core').Tensor,
            ),
          ),
      };
      const ours: Record<Kind, () => Tensor> = {
        fwd: () => conv2dForward(x, w, null, geom),
        'bwd-input': () => conv2dInputGrad(dy, w, geom, xShape),
        'bwd-weight': () => conv2dWeightGrad(dy, x, wShape, geom),
      };
      const flops = 2 * yShape[1] * yShape[2] * yShape[3] * wShape[1] * L.k * L.k;
      for (const kind of ['fwd', 'bwd-input', 'bwd-weight'] as Kind[]) {
        for (const [variant, family] of options.convKernels.entries()) {
          const run = () => withConvKernels(family, ours[kind]);
          const peerless = (L.dilation > 1 && kind !== 'fwd') || variant > 0;
          const last = kind === 'bwd-weight' && variant === options.convKernels.length - 1;
          cases.push({
            suite: 'conv',
            name: `${L.name} ${kind}${L.groups > 1 ? ' grouped' : ''}${family === 'auto' ? '' : ` [${family}]`}`,
            flops,
            async ours() {
              run().dispose();
              await e.sync();
            },
            peer: peerless ? undefined : { name: L.groups > 1 ? 'tfjs-webgpu per-group' : 'tfjs-webgpu', run: () => tfjs.run(() => tf.tidy(peerOps[kind])) },
            agree:
              L.dilation > 1 && kind !== 'fwd'
                ? undefined
                : async () => {
                    const y = run();
                    const a = await y.data();
                    y.dispose();
                    // Back to our layout: NHWC → NCHW for activations, HWIO → OIHW for filters.
                    const t = tf.tidy(() => tf.transpose(peerOps[kind](), kind === 'bwd-weight' ? [3, 2, 0, 1] : [0, 3, 1, 2]));
                    const b = (await t.data()) as Float32Array;
                    t.dispose();
                    return `ours vs tfjs relative difference ${relativeError(a, b).toExponential(1)}`;
                  },
            dispose() {
              if (!last) return;
              for (const t of [x, w, dy]) t.dispose();
              for (const t of [tx, tdy, tw, ...(L.groups === 1 ? [] : groupFilters)]) t.dispose();
            },
          });
        }
      }
    }
    return cases;
  },
};
