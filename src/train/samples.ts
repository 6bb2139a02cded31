// The sample grid written during training: a header row naming the columns, then one row per image, columns
// line art | hints | output | target. Hints are single pixels (REFERENCE §2), invisible at 1:1, so the hint
// column draws each as a 3×3 dot over the faded line art. Small crops are enlarged (nearest neighbour) to at
// least 256 pixels a side, so a tiny run's samples can be judged by eye.
import { createPlane, type Plane } from '../data/plane.js';
import type { Batch } from './batches.js';

const GAP = 2;
const DOT = 1;
export const SAMPLE_COLUMNS = ['line art', 'hints', 'output', 'target'] as const;
/** The short side a sample is enlarged to at least (by a whole factor). */
const MIN_SIDE = 256;

// A 5×9 pixel font for the column names (ascenders in rows 0–1, x-height 2–6, descenders 7–8).
const GLYPHS: Record<string, string[]> = {
  a: ['', '', '.###.', '....#', '.####', '#...#', '.####'],
  e: ['', '', '.###.', '#...#', '#####', '#....', '.###.'],
  g: ['', '', '.####', '#...#', '#...#', '#...#', '.####', '....#', '.###.'],
  h: ['#....', '#....', '#.##.', '##..#', '#...#', '#...#', '#...#'],
  i: ['..#..', '', '.##..', '..#..', '..#..', '..#..', '.###.'],
  l: ['.##..', '..#..', '..#..', '..#..', '..#..', '..#..', '.###.'],
  n: ['', '', '#.##.', '##..#', '#...#', '#...#', '#...#'],
  o: ['', '', '.###.', '#...#', '#...#', '#...#', '.###.'],
  p: ['', '', '####.', '#...#', '#...#', '#...#', '####.', '#....', '#....'],
  r: ['', '', '#.##.', '##..#', '#....', '#....', '#....'],
  s: ['', '', '.####', '#....', '.###.', '....#', '####.'],
  t: ['.#...', '.#...', '####.', '.#...', '.#...', '.#..#', '..##.'],
  u: ['', '', '#...#', '#...#', '#...#', '#..##', '.##.#'],
  ' ': [],
};
const GLYPH_W = 5;
const GLYPH_H = 9;

/** Pixels of `text` at `scale`, each glyph followed by one blank column: [x, y] of every inked pixel. */
function textPixels(text: string, scale: number): { pixels: [number, number][]; width: number } {
  const pixels: [number, number][] = [];
  [...text].forEach((ch, k) => {
    const rows = GLYPHS[ch];
    if (!rows) throw new Error(`sampleGrid: no glyph for "${ch}"`);
    rows.forEach((row, y) => {
      for (let x = 0; x < row.length; x++) {
        if (row[x] !== '#') continue;
        for (let sy = 0; sy < scale; sy++) for (let sx = 0; sx < scale; sx++) pixels.push([(k * (GLYPH_W + 1) + x) * scale + sx, y * scale + sy]);
      }
    });
  });
  return { pixels, width: (text.length * (GLYPH_W + 1) - 1) * scale };
}

/** The grid for the first `rows` images of `batch`; `output` is the generator's [N, 3, H, W] in [-1, 1]. */
export function sampleGrid(batch: Batch, output: Float32Array, rows = 4): Plane {
  const crop = batch.crop;
  const zoom = Math.max(1, Math.floor(MIN_SIDE / crop));
  const [h, w] = [crop * zoom, crop * zoom];
  const n = Math.min(rows, batch.batchSize);
  const plane = crop * crop;
  if (output.length !== batch.batchSize * 3 * plane) throw new Error(`sampleGrid: expected an output of ${batch.batchSize * 3 * plane} values, got ${output.length}.`);
  // Input channels per image: line art, distance field, hint RGB, hint mask (REFERENCE §2).
  const input = (i: number, channel: number, p: number) => batch.input[(i * 6 + channel) * plane + p];
  const textScale = 2;
  const header = GLYPH_H * textScale + 2 * GAP;
  const columns = SAMPLE_COLUMNS.length;
  const gridW = columns * w + (columns - 1) * GAP;
  const gridH = header + n * h + n * GAP;
  const data = new Float32Array(gridW * gridH * 3).fill(1);
  const set = (gx: number, gy: number, rgb: ArrayLike<number>) => {
    for (let c = 0; c < 3; c++) data[3 * (gy * gridW + gx) + c] = Math.min(1, Math.max(0, rgb[c]));
  };
  SAMPLE_COLUMNS.forEach((name, column) => {
    const { pixels, width } = textPixels(name, textScale);
    const left = column * (w + GAP) + Math.max(0, (w - width) >> 1);
    for (const [x, y] of pixels) if (left + x < gridW) set(left + x, GAP + y, [0, 0, 0]);
  });
  // One source pixel (x, y) of image `row` covers a zoom × zoom block of its cell.
  const put = (row: number, column: number, x: number, y: number, rgb: ArrayLike<number>) => {
    for (let dy = 0; dy < zoom; dy++) {
      for (let dx = 0; dx < zoom; dx++) set(column * (w + GAP) + x * zoom + dx, header + row * (h + GAP) + y * zoom + dy, rgb);
    }
  };
  const rgbAt = (source: Float32Array, i: number, p: number) => [0, 1, 2].map((c) => source[(i * 3 + c) * plane + p] * 0.5 + 0.5);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < crop; y++) {
      for (let x = 0; x < crop; x++) {
        const p = y * crop + x;
        const ink = input(i, 0, p);
        put(i, 0, x, y, [ink, ink, ink]);
        const faded = 0.6 + 0.4 * ink;
        put(i, 1, x, y, [faded, faded, faded]);
        put(i, 2, x, y, rgbAt(output, i, p));
        put(i, 3, x, y, rgbAt(batch.target, i, p));
      }
    }
    for (let y = 0; y < crop; y++) {
      for (let x = 0; x < crop; x++) {
        const p = y * crop + x;
        if (!input(i, 5, p)) continue;
        const rgb = [2, 3, 4].map((c) => input(i, c, p) * 0.5 + 0.5);
        for (let dy = -DOT; dy <= DOT; dy++) {
          for (let dx = -DOT; dx <= DOT; dx++) {
            if (x + dx >= 0 && x + dx < crop && y + dy >= 0 && y + dy < crop) put(i, 1, x + dx, y + dy, rgb);
          }
        }
      }
    }
  }
  return createPlane(gridW, gridH, 3, data);
}
