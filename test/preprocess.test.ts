import { describe, expect, test } from 'vitest';
import { parseHintJson } from '../src/data/hints.js';
import { preprocessPage } from '../src/data/preprocess.js';
import { useTestEngine } from './helpers/gpu.js';
import { syntheticPage } from './helpers/pages.js';

useTestEngine();

describe('preprocessPage', () => {
  test('the generator input: 6 channels on the padded canvas, in REFERENCE §2 order', async () => {
    const page = syntheticPage(100, 145, 4);
    const hints = parseHintJson(JSON.stringify({ width: 100, height: 145, hints: [{ x: 50, y: 20, color: '#ff0000' }] }));
    const p = await preprocessPage(page, { hints, xdog: { mult: 2 } });
    expect(p.placement).toEqual({ page: { width: 100, height: 145 }, content: { width: 512, height: 743 }, canvas: { width: 512, height: 768 } });
    const n = 512 * 768;
    expect(p.input.length).toBe(6 * n);
    expect([...p.input.subarray(0, n)]).toEqual([...p.sketch.data]);
    expect([...p.input.subarray(n, 2 * n)]).toEqual([...p.field.data]);
    const mask = p.input.subarray(5 * n, 6 * n);
    const at = Math.floor(20.5 * 743 / 145) * 512 + Math.floor(50.5 * 512 / 100);
    expect(mask.reduce((a, b) => a + b)).toBe(1);
    expect(mask[at]).toBe(1);
    expect([2, 3, 4].map((c) => p.input[c * n + at])).toEqual([1, -1, -1]);
    expect(p.sketch.data.some((v) => v > 0 && v < 1)).toBe(true); // grey-level at mult 2
    expect(p.input.every((v) => Number.isFinite(v))).toBe(true);
  });
});
