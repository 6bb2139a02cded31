// x / max(‖x‖₂, eps) of one vector, written to a new tensor and into `stored` in one launch
// (shaders/normalize.wgsl). Raw kernel: no autograd (spectral norm's power iteration runs without gradient).
import shader from '../../shaders/normalize.wgsl';
import { engine } from '../engine/engine.js';
import { Tensor } from '../engine/tensor.js';
import { contiguousCopy } from './elementwise.js';
import { shaderSource, uniformStruct } from './uniforms.js';

const Params = uniformStruct('NormalizeParams', { n: 'u32', x_offset: 'u32', stored_offset: 'u32', eps: 'f32' });
const kernel = { family: 'normalize', source: shaderSource(shader, Params), entry: 'normalize_into' };

/** The normalized vector x / max(‖x‖₂, eps) as a new tensor of x's shape, also written into `stored` (same size, contiguous). */
export function normalizeInto(x: Tensor, stored: Tensor, eps: number): Tensor {
  x.assertAlive();
  stored.assertAlive();
  if (x.size !== stored.size || !stored.isContiguous) {
    throw new Error(`normalizeInto: stored must be a contiguous tensor of ${x.size} elements, got [${stored.shape.join(', ')}].`);
  }
  const dense = x.isContiguous ? x : contiguousCopy(x);
  const out = Tensor.empty(x.shape);
  if (x.size > 0) {
    const uniforms = Params.pack({ n: x.size, x_offset: dense.offset, stored_offset: stored.offset, eps });
    engine().dispatch(kernel, uniforms, [dense.storage.buffer, out.storage.buffer, stored.storage.buffer], [1]);
  }
  if (dense !== x) dense.dispose();
  return out;
}
