// Float64 reference of shaders/pool.wgsl, written as PyTorch's CPU loops: one pass over output windows, the
// padded cells visited explicitly (zero in the average, skipped in the max).
import { sizeOf } from '../engine/shape.js';
import type { HostTensor } from './host.js';
import type { PoolGeometry } from './pool.js';

/** Calls visit(outIndex, inputs) for every window: its input indices in row-major scan order, padding left out. */
function forEachWindow(g: PoolGeometry, visit: (outIndex: number, inputs: number[]) => void): void {
  const [n, c, h, w] = g.input;
  const [, , oh, ow] = g.output;
  for (let plane = 0; plane < n * c; plane++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const inputs: number[] = [];
        for (let ky = 0; ky < g.kernel[0]; ky++) {
          for (let kx = 0; kx < g.kernel[1]; kx++) {
            const y = oy * g.stride[0] - g.padding[0] + ky;
            const x = ox * g.stride[1] - g.padding[1] + kx;
            if (y >= 0 && y < h && x >= 0 && x < w) inputs.push((plane * h + y) * w + x);
          }
        }
        visit((plane * oh + oy) * ow + ox, inputs);
      }
    }
  }
}

export function avgPool2dReference(x: HostTensor, g: PoolGeometry): HostTensor {
  const out = new Float64Array(sizeOf(g.output));
  const divisor = g.kernel[0] * g.kernel[1];
  forEachWindow(g, (o, inputs) => {
    out[o] = inputs.reduce((s, i) => s + x.data[i], 0) / divisor;
  });
  return { shape: [...g.output], data: out };
}

/** Index of the first maximum of a window (strict > in scan order, like PyTorch). */
function argmax(x: HostTensor, inputs: number[]): number {
  return inputs.reduce((best, i) => (x.data[i] > x.data[best] ? i : best), inputs[0]);
}

export function maxPool2dReference(x: HostTensor, g: PoolGeometry): HostTensor {
  const out = new Float64Array(sizeOf(g.output));
  forEachWindow(g, (o, inputs) => {
    out[o] = x.data[argmax(x, inputs)];
  });
  return { shape: [...g.output], data: out };
}

/** The input gradient of max pooling: each window's gradient added to its argmax. */
export function maxPool2dBackwardReference(x: HostTensor, grad: HostTensor, g: PoolGeometry): HostTensor {
  const dx = new Float64Array(x.data.length);
  forEachWindow(g, (o, inputs) => {
    dx[argmax(x, inputs)] += grad.data[o];
  });
  return { shape: [...g.input], data: dx };
}
