// The project's quality evaluation (browser-neutral; `npm run eval` is its command line, src/cli/eval.ts).
// Held-out colour images are turned into black-and-white inputs in two modes — `grey` (the page's luma, which
// keeps screentone and dark fills) and `xdog` (XDoG line art, as the training sketches are made) — and
// coloured through the same code path as `colorize` (PageSession: resize_pad, preprocessing, generator, blend
// with the page at its size), with K hints per image drawn (seeded) from the ground truth inside its coloured
// regions (sampleDots, single pixels). Each output is measured against the original (src/eval/metrics.ts), and
// so are three baselines computed here: the input unchanged, flat fill × line art (every pixel its nearest
// hint's colour times the input) and region fill × line art (its nearest hint along a path that pays for crossing
// the lines of the page's XDoG line art, as colorize makes it). Everything is averaged over the images per mode, K and method.
// With hints, the drawing's ΔE00 is also pooled over pixels by how surely the hints reach them (metrics.ts,
// reachBins: ink, then the regions encoding's confidence), which shows where a model wins or loses against the buckets.
//
// API
//   evaluate(model, images, options) → Promise<EvalReport>;  formatTable(report), formatReachTable(report) → markdown
//   contactSheet(report's sheet rows) → RGB plane: input | hints | output | original per row
//   (src/eval/summary.ts: evalSummary(eval.json) → the one line colorize and the app show for the shipped model)
import { colourfulness } from '../colorize/colourfulness.js';
import type { ColorModel } from '../colorize/model.js';
import { PageSession } from '../colorize/pipeline.js';
import { DEFAULT_BLEND, type BlendMode } from '../colorize/recombine.js';
import { hintSet, sampleDots } from '../data/hints.js';
import { mix } from '../data/loader.js';
import { createPlane, toGrey, type Plane } from '../data/plane.js';
import { INFERENCE_XDOG_MULT } from '../data/preprocess.js';
import { seededRng } from '../data/random.js';
import { resizeArea, workingSize } from '../data/resize.js';
import { xdog } from '../data/xdog.js';
import { deltaEMap, discMask, drawingMask, flatFill, meanOver, psnr, REACH_BINS, reachBins, regionFill, type PixelHint } from './metrics.js';

export const EVAL_MODES = ['grey', 'xdog'] as const;
export type EvalMode = (typeof EVAL_MODES)[number];
/** XDoG mult of the line-art inputs: the largest of prepare-data's default mults (1, 2, 3), as validation uses. */
export const EVAL_XDOG_MULT = 3;
/** Radius in pixels of the disc around each hint over which the spread of its colour is measured. */
export const HINT_DISC_RADIUS = 5;

export interface EvalImage {
  name: string;
  /** RGB in [0, 1]. */
  colour: Plane;
}

export interface EvalOptions {
  /** Short side the images are resized to and the working size of the network (a multiple of 32). */
  size: number;
  /** Hint counts per image. */
  hints: readonly number[];
  /** Blends of the model's output with the page (the first one goes on the contact sheet). */
  blends?: readonly BlendMode[];
  modes?: readonly EvalMode[];
  seed?: number;
  /** Images whose rows go on the contact sheet. */
  sheetImages?: number;
  onProgress?: (done: number, total: number, name: string) => void;
}

export interface Scores {
  psnr: number;
  /** Mean ΔE00 over all pixels. */
  deltaE: number;
  /** Mean ΔE00 over the drawing (the original's non-white pixels). */
  deltaEDrawing: number;
  /** Hasler–Süsstrunk M of the output and of the original. */
  colourfulness: number;
  colourfulnessOriginal: number;
  /** Mean ΔE00 at the hint pixels and over discs of HINT_DISC_RADIUS around them (NaN without hints). */
  deltaEHints: number;
  deltaEHintDisc: number;
}

export interface EvalRow extends Scores {
  mode: EvalMode;
  k: number;
  /** `model/<blend>`, `input`, `flat-fill` or `region-fill`. */
  method: string;
  /** Images averaged (NaN values, e.g. hint ΔE without hints, are left out of their average). */
  images: number;
}

export interface SheetRow {
  name: string;
  mode: EvalMode;
  k: number;
  input: Plane;
  hints: PixelHint[];
  output: Plane;
  original: Plane;
}

/**
 * Drawing ΔE00 of one method at one mode and K > 0, pooled over every image's drawing pixels and split by how
 * surely the hints reach them (REACH_BINS): where a method wins or loses against the paint buckets.
 */
export interface ReachRow {
  mode: EvalMode;
  k: number;
  method: string;
  /** Per REACH_BINS entry: the share of the drawing's pixels in it, and their mean ΔE00 (NaN when empty). */
  share: number[];
  deltaE: number[];
}

export interface EvalReport {
  options: { size: number; hints: number[]; blends: BlendMode[]; modes: EvalMode[]; seed: number; xdogMult: number; hintDiscRadius: number };
  images: string[];
  rows: EvalRow[];
  byReach: ReachRow[];
  sheet: SheetRow[];
}

/** The scores of one output against its original. */
export function score(output: Plane, original: Plane, hintPixels: readonly number[], drawing: Uint8Array, dE = deltaEMap(output, original)): Scores {
  const size = { width: original.width, height: original.height };
  const atHints = new Uint8Array(dE.length);
  for (const i of hintPixels) atHints[i] = 1;
  return {
    psnr: psnr(output, original),
    deltaE: meanOver(dE),
    deltaEDrawing: meanOver(dE, drawing),
    colourfulness: colourfulness(asRgb(output)),
    colourfulnessOriginal: colourfulness(original),
    deltaEHints: hintPixels.length ? meanOver(dE, atHints) : NaN,
    deltaEHintDisc: hintPixels.length ? meanOver(dE, discMask(size, hintPixels, HINT_DISC_RADIUS)) : NaN,
  };
}

function asRgb(p: Plane): Plane {
  if (p.channels === 3) return p;
  const n = p.width * p.height;
  const out = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) out.fill(p.data[i], 3 * i, 3 * i + 3);
  return createPlane(p.width, p.height, 3, out);
}

/** The black-and-white input of a mode. */
export async function evalInput(original: Plane, mode: EvalMode): Promise<Plane> {
  return mode === 'grey' ? toGrey(original) : xdog(original, { mult: EVAL_XDOG_MULT });
}

/** K hints on an original, seeded by (seed, image, K): single pixels of its coloured regions. */
export function evalHints(original: Plane, k: number, seed: number, image: number): PixelHint[] {
  const { dots } = sampleDots(original, k, [1, 1], seededRng(mix(seed, image, k, 0xe7a1)));
  const w = original.width;
  return dots.map(({ index }) => ({ x: index % w, y: Math.floor(index / w), rgb: [original.data[3 * index], original.data[3 * index + 1], original.data[3 * index + 2]] }));
}

export async function evaluate(model: ColorModel, images: readonly EvalImage[], options: EvalOptions): Promise<EvalReport> {
  const blends = [...(options.blends ?? [DEFAULT_BLEND])];
  const modes = [...(options.modes ?? EVAL_MODES)];
  const seed = options.seed ?? 0;
  const ks = [...options.hints];
  const sums = new Map<string, { row: Omit<EvalRow, keyof Scores | 'images'>; sums: Scores; counts: Record<keyof Scores, number>; images: number }>();
  const add = (mode: EvalMode, k: number, method: string, s: Scores) => {
    const key = `${mode}|${k}|${method}`;
    let entry = sums.get(key);
    if (!entry) {
      const zero = { psnr: 0, deltaE: 0, deltaEDrawing: 0, colourfulness: 0, colourfulnessOriginal: 0, deltaEHints: 0, deltaEHintDisc: 0 };
      entry = { row: { mode, k, method }, sums: { ...zero }, counts: { ...zero }, images: 0 };
      sums.set(key, entry);
    }
    entry.images++;
    for (const name of Object.keys(s) as (keyof Scores)[]) {
      if (!Number.isFinite(s[name])) continue; // PSNR of an exact copy, hint ΔE without hints
      entry.sums[name] += s[name];
      entry.counts[name]++;
    }
  };
  const reach = new Map<string, { row: Omit<ReachRow, 'share' | 'deltaE'>; sums: Float64Array; counts: Float64Array }>();
  const addReach = (mode: EvalMode, k: number, method: string, dE: Float32Array, drawing: Uint8Array, bins: Uint8Array) => {
    const key = `${mode}|${k}|${method}`;
    let entry = reach.get(key);
    if (!entry) reach.set(key, (entry = { row: { mode, k, method }, sums: new Float64Array(REACH_BINS.length), counts: new Float64Array(REACH_BINS.length) }));
    for (let i = 0; i < dE.length; i++) {
      if (!drawing[i]) continue;
      entry.sums[bins[i]] += dE[i];
      entry.counts[bins[i]]++;
    }
  };
  const scoreOne = (mode: EvalMode, k: number, method: string, output: Plane, original: Plane, pixels: number[], drawing: Uint8Array, bins: Uint8Array | null) => {
    const dE = deltaEMap(asRgb(output), original);
    add(mode, k, method, score(output, original, pixels, drawing, dE));
    if (bins) addReach(mode, k, method, dE, drawing, bins);
  };
  const sheet: SheetRow[] = [];
  const total = images.length * modes.length;
  let done = 0;
  for (const [index, image] of images.entries()) {
    const dims = workingSize(image.colour, options.size);
    const original = resizeArea(image.colour, dims.width, dims.height);
    const drawing = drawingMask(original);
    const hintsOf = new Map(ks.map((k) => [k, evalHints(original, k, seed, index)]));
    for (const mode of modes) {
      const input = await evalInput(original, mode);
      const lineArt = await xdog(asRgb(input), { mult: INFERENCE_XDOG_MULT });
      const session = await PageSession.open(model, asRgb(input), { size: options.size });
      try {
        for (const k of ks) {
          const hints = hintsOf.get(k)!;
          const pixels = hints.map((h) => h.y * dims.width + h.x);
          const bins = k > 0 ? reachBins(dims, hints, lineArt) : null;
          for (const [b, blend] of blends.entries()) {
            const { image: output } = await session.colorize({ hints: hintSet(dims, hints), blend });
            scoreOne(mode, k, `model/${blend}`, output, original, pixels, drawing, bins);
            if (b === 0 && index < (options.sheetImages ?? 4) && k === ks[ks.length - 1]) sheet.push({ name: image.name, mode, k, input, hints, output, original });
          }
          scoreOne(mode, k, 'input', asRgb(input), original, pixels, drawing, bins);
          scoreOne(mode, k, 'flat-fill', flatFill(dims, hints, input), original, pixels, drawing, bins);
          scoreOne(mode, k, 'region-fill', regionFill(dims, hints, input, lineArt), original, pixels, drawing, bins);
        }
      } finally {
        session.dispose();
      }
      options.onProgress?.(++done, total, image.name);
    }
  }
  const rows: EvalRow[] = [...sums.values()].map(({ row, sums: s, counts, images: n }) => {
    const mean = Object.fromEntries(Object.keys(s).map((name) => [name, counts[name as keyof Scores] ? s[name as keyof Scores] / counts[name as keyof Scores] : NaN])) as unknown as Scores;
    return { ...row, ...mean, images: n };
  });
  const byReach: ReachRow[] = [...reach.values()].map(({ row, sums, counts }) => {
    const pixels = counts.reduce((a, b) => a + b, 0);
    return { ...row, share: [...counts].map((c) => c / pixels), deltaE: [...sums].map((s, i) => (counts[i] ? s / counts[i] : NaN)) };
  });
  return {
    options: { size: options.size, hints: ks, blends, modes, seed, xdogMult: EVAL_XDOG_MULT, hintDiscRadius: HINT_DISC_RADIUS },
    images: images.map((i) => i.name),
    rows,
    byReach,
    sheet,
  };
}

const fixed = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : '–');

/** The report's rows as a markdown table. */
export function formatTable(report: EvalReport): string {
  const head = '| input | hints | method | PSNR dB | ΔE00 all | ΔE00 drawing | colourfulness out / orig | ΔE00 at hints | ΔE00 hint disc r5 |';
  const rule = '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |';
  const lines = report.rows.map(
    (r) =>
      `| ${r.mode} | ${r.k} | ${r.method} | ${fixed(r.psnr, 2)} | ${fixed(r.deltaE, 2)} | ${fixed(r.deltaEDrawing, 2)} | ${fixed(r.colourfulness, 1)} / ${fixed(r.colourfulnessOriginal, 1)} | ${fixed(r.deltaEHints, 2)} | ${fixed(r.deltaEHintDisc, 2)} |`,
  );
  return [head, rule, ...lines].join('\n');
}

/**
 * The report's drawing ΔE00 by reach (ReachRow) as a markdown table: per mode and K, the share of the drawing in
 * each bin, then each method's mean ΔE00 in it and its pooled mean over the whole drawing.
 */
export function formatReachTable(report: EvalReport): string {
  const head = `| input | hints | method | ${REACH_BINS.join(' | ')} | drawing (pooled) |`;
  const rule = `| --- | ---: | --- | ${REACH_BINS.map(() => '---:').join(' | ')} | ---: |`;
  const lines: string[] = [];
  let group = '';
  for (const r of report.byReach) {
    if (`${r.mode}|${r.k}` !== group) {
      group = `${r.mode}|${r.k}`;
      lines.push(`| ${r.mode} | ${r.k} | share of the drawing | ${r.share.map((s) => `${(100 * s).toFixed(1)} %`).join(' | ')} | 100 % |`);
    }
    const pooled = r.deltaE.reduce((sum, d, i) => sum + (Number.isFinite(d) ? d * r.share[i] : 0), 0);
    lines.push(`| ${r.mode} | ${r.k} | ${r.method} | ${r.deltaE.map((d) => fixed(d, 2)).join(' | ')} | ${fixed(pooled, 2)} |`);
  }
  return [head, rule, ...lines].join('\n');
}

/** One row per sheet entry: input | hints (marked on a pale input) | output | original, on white, 4-px gaps. */
export function contactSheet(rows: readonly SheetRow[]): Plane {
  const gap = 4;
  const cellW = Math.max(1, ...rows.map((r) => r.original.width));
  const cellH = Math.max(1, ...rows.map((r) => r.original.height));
  const width = 4 * cellW + 5 * gap;
  const height = rows.length * (cellH + gap) + gap;
  const out = new Float32Array(3 * width * height).fill(1);
  const put = (tile: Plane, col: number, row: number) => {
    const rgb = asRgb(tile);
    const [x0, y0] = [gap + col * (cellW + gap), gap + row * (cellH + gap)];
    for (let y = 0; y < rgb.height; y++) out.set(rgb.data.subarray(3 * y * rgb.width, 3 * (y + 1) * rgb.width), 3 * ((y0 + y) * width + x0));
  };
  rows.forEach((r, i) => {
    put(r.input, 0, i);
    const marked = asRgb(r.input);
    const pale = Float32Array.from(marked.data, (v) => 0.6 + 0.4 * v);
    for (const h of r.hints) {
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const [x, y] = [h.x + dx, h.y + dy];
          if (x >= 0 && y >= 0 && x < marked.width && y < marked.height) pale.set(h.rgb, 3 * (y * marked.width + x));
        }
      }
    }
    put(createPlane(marked.width, marked.height, 3, pale), 1, i);
    put(r.output, 2, i);
    put(r.original, 3, i);
  });
  return createPlane(width, height, 3, out);
}

