// npm run eval -- --weights FILE --data DIR [--size N] [--hints 0,20,100] [--out DIR] [options]
// The project's quality evaluation (src/eval/evaluate.ts) on held-out colour images: a prepared set's
// validation split (the trainer's split: --validation-images and --seed as in training) or every image of a
// folder (or of a prepared set, with --split all). Writes <out>/eval.json, <out>/eval.md (the table) and
// <out>/contact-sheet.png (input | hints | output | original), and prints the table.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MODEL_PATH, loadColorModel } from '../colorize/model.js';
import { BLEND_MODES, DEFAULT_BLEND, isBlendMode, type BlendMode } from '../colorize/recombine.js';
import { splitManifest } from '../data/loader.js';
import { Engine, useEngine } from '../engine/engine.js';
import { contactSheet, evaluate, formatReachTable, formatTable, type EvalImage } from '../eval/evaluate.js';
import { nodeDevice } from '../io/dawn.js';
import { flagsHelp, HELP_FLAG, parseNumberFlag, type FlagSpec } from '../io/flags.js';
import { listImages, openTrainingSet } from '../io/dataset.js';
import { readImage, writePng } from '../io/image.js';
import { commandFlags, runCommand, UsageError } from './command.js';
import { progressBar } from '../io/progress.js';

const SPECS: FlagSpec[] = [
  { name: 'data', value: 'DIR', help: 'held-out colour images: a prepared set (npm run prepare-data) or a folder of images' },
  { name: 'weights', value: 'FILE', help: `the generator to evaluate (default ${DEFAULT_MODEL_PATH})` },
  { name: 'size', value: 'N', help: "short side of the images and the network's working size, a multiple of 32 from 32 to 8192 (default 128)" },
  { name: 'hints', value: 'LIST', help: "hints per image (each 0 to 100000), sampled from the original's coloured regions (default 0,20,100)" },
  { name: 'out', value: 'DIR', help: 'where eval.json, eval.md and contact-sheet.png go (default runs/eval)' },
  { name: 'images', value: 'N', help: 'evaluate at most the first N images (default 8)' },
  { name: 'split', value: 'validation|all', help: 'of a prepared set: its validation split (default) or every item' },
  { name: 'validation-images', value: 'N', help: "the split's size, as the training run's --validation-images (default 16)" },
  { name: 'seed', value: 'N', help: "the split's seed, as the training run's --seed, and the hints' seed (default 0)" },
  { name: 'blend', value: 'LIST', help: `blends of the output with the page, or "all" (default ${DEFAULT_BLEND}; ${BLEND_MODES.join(', ')})` },
  HELP_FLAG,
];

const USAGE = `usage: npm run eval -- --data DIR [--weights FILE] [--size N] [--hints 0,20,100] [--out DIR] [options]
${flagsHelp(SPECS)}`;

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Options {
  data: string;
  weights: string;
  size: number;
  hints: number[];
  out: string;
  images: number;
  split: 'validation' | 'all';
  validationImages: number;
  seed: number;
  blends: BlendMode[];
}

/** The options, or null after printing the usage for -h/--help. */
function parse(argv: string[]): Options | null {
  const parsed = commandFlags(argv, SPECS, USAGE);
  if (!parsed) return null;
  if (parsed.positionals.length) throw new UsageError(`Unexpected argument "${parsed.positionals[0]}": name the images with --data <dir>.`);
  const given = Object.fromEntries(parsed.values);
  const values = {
    data: given.data,
    weights: given.weights,
    size: given.size ?? '128',
    hints: given.hints ?? '0,20,100',
    out: given.out ?? join('runs', 'eval'),
    images: given.images ?? '8',
    split: given.split ?? 'validation',
    'validation-images': given['validation-images'] ?? '16',
    seed: given.seed ?? '0',
    blend: given.blend ?? DEFAULT_BLEND,
  };
  if (!values.data) throw new UsageError('No data: add --data <prepared set or folder of colour images>.');
  const int = (name: string, text: string, min: number, max?: number) => parseNumberFlag(name, text, { min, max, integer: true });
  const size = int('size', values.size, 32, 8192);
  if (size % 32) throw new UsageError(`--size must be a multiple of 32, got ${size}.`);
  // Hints per image are drawn one by one: a typo of a billion would never finish.
  const hints = [...new Set(values.hints.split(',').map((k) => int('hints', k.trim(), 0, 100_000)))];
  if (values.split !== 'validation' && values.split !== 'all') throw new UsageError(`--split must be validation or all, got "${values.split}".`);
  const blends = values.blend === 'all' ? [...BLEND_MODES] : values.blend.split(',').map((b) => b.trim());
  for (const b of blends) if (!isBlendMode(b)) throw new UsageError(`--blend must be a list of ${BLEND_MODES.join(', ')} or "all", got "${b}".`);
  return {
    data: values.data,
    weights: values.weights ?? join(PROJECT_ROOT, DEFAULT_MODEL_PATH),
    size,
    hints,
    out: values.out,
    images: int('images', values.images, 1),
    split: values.split,
    validationImages: int('validation-images', values['validation-images'], 1),
    seed: int('seed', values.seed, 0, 2 ** 32 - 1),
    blends: blends as BlendMode[],
  };
}

/** The held-out images: a prepared set's split, or a folder's images, the first `count` of them. */
async function heldOut(o: Options): Promise<{ images: EvalImage[]; description: string }> {
  if (!existsSync(o.data)) throw new UsageError(`--data ${o.data}: no such folder.`);
  if (existsSync(join(o.data, 'manifest.json'))) {
    const { manifest, read } = await openTrainingSet(o.data);
    const items = o.split === 'all' ? manifest.items : splitManifest(manifest, Math.min(o.validationImages, manifest.items.length - 1), o.seed).validation.items;
    const chosen = items.slice(0, o.images);
    const images = await Promise.all(chosen.map(async (item) => ({ name: item.source, colour: await read(item.colour) })));
    const what = o.split === 'all' ? `all ${manifest.items.length} items` : `the validation split (${o.validationImages} of ${manifest.items.length}, seed ${o.seed})`;
    return { images, description: `${o.data}: ${images.length} of ${what}` };
  }
  const { images: found, unreadable } = await listImages(o.data);
  // Scores over part of a held-out set would read as scores over all of it.
  if (unreadable.length) throw new Error(unreadable.map((u) => u.error).join('\n'));
  const files = found.slice(0, o.images);
  if (!files.length) throw new UsageError(`--data ${o.data}: no images found.`);
  const images = await Promise.all(files.map(async (f) => ({ name: f, colour: await readImage(join(o.data, f)) })));
  return { images, description: `${o.data}: ${images.length} images` };
}

export async function main(argv: string[]): Promise<number> {
  return runCommand(async () => {
    const o = parse(argv);
    if (!o) return 0;
    if (!existsSync(o.weights)) throw new UsageError(`--weights ${o.weights}: no such file.`);
    const { images, description } = await heldOut(o);
    useEngine(new Engine(await nodeDevice()));
    const weightsName = relative(process.cwd(), resolve(o.weights));
    const model = loadColorModel({ weights: { bytes: readFileSync(o.weights), name: weightsName }, extractor: null, denoiser: null });
    console.log(`model: ${model.description}\ndata: ${description}; size ${o.size}, hints ${o.hints.join(',')}, blend ${o.blends.join(',')}`);
    const bar = progressBar(images.length * 2, { unit: 'inputs/min' });
    const start = performance.now();
    const report = await evaluate(model, images, { size: o.size, hints: o.hints, blends: o.blends, seed: o.seed, onProgress: (done, _total, name) => bar.update(done, name) });
    bar.end();
    model.dispose();
    const table = formatTable(report);
    await mkdir(o.out, { recursive: true });
    const { sheet, ...rest } = report;
    const json = { weights: weightsName, model: model.description, data: description, seconds: (performance.now() - start) / 1000, ...rest, sheet: sheet.map((r) => ({ name: r.name, mode: r.mode, k: r.k })) };
    await writeFile(join(o.out, 'eval.json'), `${JSON.stringify(json, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
    const reach = report.byReach.length ? `\n\nDrawing ΔE00 by how surely the hints reach a pixel (pooled over pixels; c: the regions encoding's confidence):\n\n${formatReachTable(report)}` : '';
    await writeFile(join(o.out, 'eval.md'), `${table}${reach}\n`);
    await writePng(join(o.out, 'contact-sheet.png'), contactSheet(sheet), { overwrite: true });
    console.log(`\n${table}${reach}\n\n→ ${resolve(o.out)}/eval.json, eval.md, contact-sheet.png (input | hints | output | original; ${sheet.length} rows)`);
    return 0;
  }, { usage: (message) => (message ? `${message}\n(npm run eval -- --help for usage)` : USAGE) });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exit(await main(process.argv.slice(2)));
}
