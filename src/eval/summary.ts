// One line about a model's eval.json (npm run eval) for the user: the colorize command and the app show it while
// the shipped model is in use. Light on purpose (types only from evaluate.ts), so the app's main bundle stays small.
import type { EvalRow, Scores } from './evaluate.js';

/** What eval.json holds of a report (non-finite numbers are written as null). */
export interface EvalJson {
  data: string;
  options: { size: number; hints: number[]; blends: string[] };
  images: string[];
  rows: (Omit<EvalRow, keyof Scores> & { [K in keyof Scores]: number | null })[];
}

/**
 * One line of an eval.json for the user: line art with the most hints (drawing ΔE against the unchanged input
 * and the paint bucket, ΔE at the hints), colourfulness without hints, the grey page's PSNR.
 */
export function evalSummary(e: EvalJson, blend = e.options.blends[0]): string {
  const kMax = Math.max(...e.options.hints);
  const get = (mode: string, k: number, method: string) => e.rows.find((r) => r.mode === mode && r.k === k && r.method === method);
  const f = (v: number | null | undefined, digits = 1) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
  const model = `model/${blend}`;
  const [line, input, bucket, bare, grey, greyInput] = [
    get('xdog', kMax, model), get('xdog', kMax, 'input'), get('xdog', kMax, 'flat-fill'), get('xdog', 0, model), get('grey', 0, model), get('grey', 0, 'input'),
  ];
  return (
    `eval on ${e.images.length} held-out images at ${e.options.size} px (${blend} blend): line art with ${kMax} hints: drawing ΔE00 ${f(line?.deltaEDrawing)} ` +
    `(input unchanged ${f(input?.deltaEDrawing)}, paint bucket ${f(bucket?.deltaEDrawing)}), ΔE00 at the hints ${f(line?.deltaEHints)}; ` +
    `no hints: colourfulness ${f(bare?.colourfulness, 0)} (originals ${f(bare?.colourfulnessOriginal, 0)}); grey page: PSNR ${f(grey?.psnr)} dB (unchanged ${f(greyInput?.psnr)})`
  );
}
