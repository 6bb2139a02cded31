// The sample grid written during training: one row per image, columns line art | hints | output | target.
// Hints are single pixels (REFERENCE §2), invisible at 1:1, so the hint column draws each as a 3×3 dot over
// the faded line art.
import { createPlane, type Plane } from '../data/plane.js';
import type { Batch } from './batches.js';

const GAP = 2;
const COLUMNS = 4;
const DOT = 1;

/** The grid for the first `rows` images of `batch`; `output` is the generator's [N, 3, H, W] in [-1, 1]. */
export function sampleGrid(batch: Batch, output: Float32Array, rows = 4): Plane {
  const h = batch.crop;
  const w = batch.crop;
  const n = Math.min(rows, batch.batchSize);
  const plane = h * w;
  if (output.length !== batch.batchSize * 3 * plane) throw new Error(`sampleGrid: expected an output of ${batch.batchSize * 3 * plane} values, got ${output.length}.`);
  // Input channels per image: line art, distance field, hint RGB, hint mask (REFERENCE §2).
  const input = (i: number, channel: number, p: number) => batch.input[(i * 6 + channel) * plane + p];
  const gridW = COLUMNS * w + (COLUMNS - 1) * GAP;
  const gridH = n * h + (n - 1) * GAP;
  const data = new Float32Array(gridW * gridH * 3).fill(1);
  const put = (row: number, column: number, x: number, y: number, rgb: ArrayLike<number>) => {
    const gx = column * (w + GAP) + x;
    const gy = row * (h + GAP) + y;
    for (let c = 0; c < 3; c++) data[3 * (gy * gridW + gx) + c] = Math.min(1, Math.max(0, rgb[c]));
  };
  const rgbAt = (source: Float32Array, i: number, p: number) => [0, 1, 2].map((c) => source[(i * 3 + c) * plane + p] * 0.5 + 0.5);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = y * w + x;
        const ink = input(i, 0, p);
        put(i, 0, x, y, [ink, ink, ink]);
        const faded = 0.6 + 0.4 * ink;
        put(i, 1, x, y, [faded, faded, faded]);
        put(i, 2, x, y, rgbAt(output, i, p));
        put(i, 3, x, y, rgbAt(batch.target, i, p));
      }
    }
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = y * w + x;
        if (!input(i, 5, p)) continue;
        const rgb = [2, 3, 4].map((c) => input(i, c, p) * 0.5 + 0.5);
        for (let dy = -DOT; dy <= DOT; dy++) {
          for (let dx = -DOT; dx <= DOT; dx++) {
            if (x + dx >= 0 && x + dx < w && y + dy >= 0 && y + dy < h) put(i, 1, x + dx, y + dy, rgb);
          }
        }
      }
    }
  }
  return createPlane(gridW, gridH, 3, data);
}
