// The training sample grid: labelled columns (line art | hints | output | target) and small crops enlarged.
import { describe, expect, test } from 'vitest';
import { TrainingLoader } from '../src/data/loader.js';
import { generatedSet } from '../src/train/batches.js';
import { SAMPLE_COLUMNS, sampleGrid } from '../src/train/samples.js';

describe('sampleGrid', () => {
  test('a header names the four columns; a 32² crop is drawn 8× larger; the cells hold the line art, output and target', async () => {
    const { manifest, read } = generatedSet(4, 32, 7);
    const batch = await new TrainingLoader({ manifest, read, batchSize: 2, crop: 32, seed: 1 }).batchAt(0);
    const output = new Float32Array(2 * 3 * 32 * 32).map((_, i) => Math.sin(i) * 0.9);
    const grid = sampleGrid(batch, output);
    const [zoom, cell, gap, header] = [8, 256, 2, 9 * 2 + 4];
    expect(SAMPLE_COLUMNS).toEqual(['line art', 'hints', 'output', 'target']);
    expect([grid.width, grid.height]).toEqual([4 * cell + 3 * gap, header + 2 * (cell + gap)]);
    const at = (x: number, y: number) => [0, 1, 2].map((c) => grid.data[3 * (y * grid.width + x) + c]);
    // Every column's label is ink (black) on white, inside its own column.
    for (let column = 0; column < 4; column++) {
      let ink = 0;
      for (let y = 0; y < header; y++) for (let x = column * (cell + gap); x < (column + 1) * cell + column * gap; x++) ink += at(x, y)[0] === 0 ? 1 : 0;
      expect(ink, SAMPLE_COLUMNS[column]).toBeGreaterThan(40);
    }
    // Image 1, source pixel (5, 9): a zoom × zoom block in each column.
    const plane = 32 * 32;
    const p = 9 * 32 + 5;
    const block = (column: number) => at(column * (cell + gap) + 5 * zoom + zoom - 1, header + (cell + gap) + 9 * zoom + zoom - 1);
    const ink = batch.input[(1 * 6 + 0) * plane + p];
    expect(block(0)).toEqual([ink, ink, ink].map((v) => Math.fround(v)));
    expect(block(2).map((v) => v.toFixed(5))).toEqual([0, 1, 2].map((c) => (Math.min(1, Math.max(0, output[(3 + c) * plane + p] * 0.5 + 0.5))).toFixed(5)));
    expect(block(3).map((v) => v.toFixed(5))).toEqual([0, 1, 2].map((c) => (batch.target[(3 + c) * plane + p] * 0.5 + 0.5).toFixed(5)));
  });
});
