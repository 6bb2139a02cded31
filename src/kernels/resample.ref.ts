// Float64 reference of shaders/resample.wgsl: the polyphase filter applied literally, one output at a time.
import type { HostTensor } from './host.js';
import type { Filter1d } from './resample.js';

/** Half-sample symmetric index into [0, n), periodic beyond one reflection. */
export function reflectIndex(j: number, n: number): number {
  const period = 2 * n;
  let k = ((j % period) + period) % period;
  if (k >= n) k = period - 1 - k;
  return k;
}

export function filterAxisReference(x: HostTensor, axis: 'x' | 'y', f: Filter1d): HostTensor {
  const [h, w] = x.shape;
  const along = axis === 'x' ? w : h;
  const outLength = f.outputLength(along);
  const [oh, ow] = axis === 'x' ? [h, outLength] : [outLength, w];
  const out = new Float64Array(oh * ow);
  for (let line = 0; line < (axis === 'x' ? h : w); line++) {
    for (let i = 0; i < outLength; i++) {
      const q = Math.floor(i / f.phases);
      const p = i % f.phases;
      let s = 0;
      for (let t = 0; t < f.taps; t++) {
        const j = reflectIndex(q + f.offset + t, along);
        s += f.weights[p * f.taps + t] * x.data[axis === 'x' ? line * w + j : j * w + line];
      }
      out[axis === 'x' ? line * ow + i : i * ow + line] = s;
    }
  }
  return { shape: [oh, ow], data: out };
}
