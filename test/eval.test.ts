// npm run eval's evaluation loop (src/eval/evaluate.ts) with a tiny random generator: hints from the original's
// coloured regions, seeded; rows per mode, K and method; the baselines; the contact sheet; the table.
import { describe, expect, test } from 'vitest';
import { loadColorModel } from '../src/colorize/model.js';
import { colouredRegions } from '../src/data/hints.js';
import { contactSheet, evalHints, evaluate, formatReachTable, formatTable } from '../src/eval/evaluate.js';
import { REACH_BINS } from '../src/eval/metrics.js';
import { evalSummary, type EvalJson } from '../src/eval/summary.js';
import { useTestEngine } from './helpers/gpu.js';
import { tinyGenerator } from './helpers/colorize.js';
import { syntheticPage } from './helpers/pages.js';

useTestEngine();

describe('npm run eval', () => {
  test('hints: K single pixels of the coloured regions, carrying the original colour, seeded per image and K', () => {
    const original = syntheticPage(64, 64, 3);
    const region = colouredRegions(original);
    const hints = evalHints(original, 20, 0, 1);
    expect(hints.length).toBe(20);
    for (const h of hints) {
      const i = h.y * 64 + h.x;
      expect(region[i]).toBe(1);
      expect(h.rgb).toEqual([...original.data.subarray(3 * i, 3 * i + 3)]);
    }
    expect(evalHints(original, 20, 0, 1)).toEqual(hints);
    expect(evalHints(original, 20, 0, 2)).not.toEqual(hints);
    expect(evalHints(original, 0, 0, 1)).toEqual([]);
  });

  test('rows for every mode, K and method; the unchanged input scores as itself; sheet and table', async () => {
    const model = loadColorModel({ weights: await tinyGenerator({ localFeatures: 'none' }) });
    try {
      const images = [0, 1].map((k) => ({ name: `page-${k}`, colour: syntheticPage(80, 64, 10 + k) }));
      const report = await evaluate(model, images, { size: 64, hints: [0, 5], blends: ['multiply', 'luminance'] });
      expect(report.rows.length).toBe(2 * 2 * 5); // modes × K × (2 blends, input, flat fill, region fill)
      for (const r of report.rows) {
        expect(r.images).toBe(2);
        expect(Number.isFinite(r.deltaE) && Number.isFinite(r.deltaEDrawing) && Number.isFinite(r.colourfulness)).toBe(true);
        expect(Number.isNaN(r.deltaEHints)).toBe(r.k === 0);
      }
      const row = (mode: string, k: number, method: string) => report.rows.find((r) => r.mode === mode && r.k === k && r.method === method)!;
      // Without hints the flat fill is the input itself; the grey input has no colour.
      expect(row('grey', 0, 'flat-fill').deltaE).toBeCloseTo(row('grey', 0, 'input').deltaE, 6);
      expect(row('grey', 0, 'region-fill').deltaE).toBeCloseTo(row('grey', 0, 'input').deltaE, 6);
      expect(row('xdog', 5, 'region-fill').colourfulness).toBeGreaterThan(0);
      expect(row('grey', 0, 'input').colourfulness).toBe(0);
      expect(row('xdog', 5, 'flat-fill').colourfulness).toBeGreaterThan(0);
      // The grey page has the original's luma: it is close to it (the ΔE of chroma only).
      expect(row('grey', 0, 'input').deltaE).toBeLessThan(row('xdog', 0, 'input').deltaE);
      expect(report.sheet.length).toBe(2 * 2); // images × modes at the largest K
      const sheet = contactSheet(report.sheet);
      expect(sheet.width).toBe(4 * 80 + 5 * 4);
      expect(sheet.height).toBe(4 * (64 + 4) + 4);
      // By reach: every method at each mode and K > 0; shares sum to 1, and pooling the bins gives the drawing's
      // mean ΔE00 over its pixels (the rows above average per image; with one image they agree).
      expect(report.byReach.map((r) => `${r.mode}|${r.k}|${r.method}`)).toEqual(
        report.rows.filter((r) => r.k > 0).map((r) => `${r.mode}|${r.k}|${r.method}`),
      );
      for (const r of report.byReach) {
        expect(r.share.length).toBe(REACH_BINS.length);
        expect(r.share.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
        expect(r.share[0]).toBeGreaterThan(0); // the lines
      }
      const one = await evaluate(model, images.slice(0, 1), { size: 64, hints: [5], blends: ['multiply'], modes: ['xdog'] });
      const pooled = one.byReach.find((r) => r.method === 'flat-fill')!;
      const mean = pooled.deltaE.reduce((sum, d, i) => sum + (pooled.share[i] ? d * pooled.share[i] : 0), 0);
      expect(mean).toBeCloseTo(one.rows.find((r) => r.method === 'flat-fill')!.deltaEDrawing, 4);
      const reachTable = formatReachTable(report);
      expect(reachTable.split('\n').length).toBe(2 + report.byReach.length + 2); // a share line per mode at K = 5
      expect(reachTable).toMatch(/\| xdog \| 5 \| share of the drawing \|/);
      const table = formatTable(report);
      expect(table.split('\n').length).toBe(2 + report.rows.length);
      expect(table).toMatch(/\| xdog \| 5 \| model\/luminance \|/);
      // The one line for the user, from the JSON as eval.json writes it (NaN as null).
      const json = JSON.parse(JSON.stringify({ data: 'test', ...report, sheet: [] }, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))) as EvalJson;
      const line = evalSummary(json);
      const xdog5 = row('xdog', 5, 'model/multiply');
      expect(line).toContain('eval on 2 held-out images at 64 px (multiply blend): line art with 5 hints');
      expect(line).toContain(`drawing ΔE00 ${xdog5.deltaEDrawing.toFixed(1)}`);
      expect(line).toContain(`paint bucket ${row('xdog', 5, 'flat-fill').deltaEDrawing.toFixed(1)}`);
      expect(evalSummary(json, 'luminance')).toContain(`ΔE00 at the hints ${row('xdog', 5, 'model/luminance').deltaEHints.toFixed(1)}`);
    } finally {
      model.dispose();
    }
  });
});
