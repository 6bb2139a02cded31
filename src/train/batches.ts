// What the trainer reads: a random-access source of batches (src/data/loader.ts's Batch: the generator's six
// input channels and the colour target, NCHW host arrays). Batch `index` is a pure function of the source's
// seed and the index, so a resumed run needs no data-loader state beyond its step number.
//
// Both sources go through the one TrainingLoader, so crops, flips, mults, hint sampling and the held-out split
// with fixed hints are the same code for files and for generated data:
// - a prepared data set (npm run prepare-data), read from disk;
// - `generated`: coloured shapes with black outlines on white, drawn on demand (flat colours from one palette
//   per shape kind, so a network can learn shape → colour), their outlines as line art and its distance field.
//   It needs no files: tests, benchmarks and `--data generated`.
import { itemFiles, type DatasetItem, type Manifest } from '../data/dataset.js';
import { distanceField } from '../data/distance.js';
import { mix, splitManifest, TrainingLoader, type Batch } from '../data/loader.js';
import { createPlane, type Plane } from '../data/plane.js';
import { seededRng, type Rng } from '../data/random.js';
import { openTrainingSet, prepareFolder } from '../io/dataset.js';
import type { TrainConfig } from './config.js';

export type { Batch } from '../data/loader.js';

export interface BatchSource {
  /** What the data is, for the log. */
  readonly description: string;
  readonly batchSize: number;
  /** Square crop size of every batch. */
  readonly crop: number;
  /** Images in one pass over the source. */
  readonly epochImages: number;
  /** Batch number `index` of the stream; the same index always gives the same batch. */
  batch(index: number): Promise<Batch>;
}

export interface TrainingData {
  /** Short side and XDoG mults of the colour set's images (fine-tuning pages are prepared alike). */
  set: { size: number; mults: readonly number[] };
  train: BatchSource;
  /** The held-out split, with hints drawn once: the same images and hints at every validation. */
  validation: readonly Batch[];
  /** Fine-tuning only: real colour images for the page rounds' D steps, a stream independent of `train`. */
  real?: BatchSource;
  /** Fine-tuning only: crops of the black-and-white pages (their hints are empty, their targets unused). */
  pages?: BatchSource;
}

/** Seed offsets of the independent streams drawn from one configured seed. */
const STREAM = { train: 0, real: 1, pages: 2, shapes: 3 } as const;

function loaderSource(description: string, loader: TrainingLoader): BatchSource {
  return {
    description,
    batchSize: loader.batchSize,
    crop: loader.crop,
    epochImages: loader.batchesPerEpoch * loader.batchSize,
    batch: (index) => loader.batchAt(index),
  };
}

type Read = (path: string) => Promise<Plane>;

/** Training stream and validation batches of a set, split by `config.validationImages`. */
async function fromSet(description: string, manifest: Manifest, read: Read, config: TrainConfig): Promise<TrainingData> {
  const { train, validation } = splitManifest(manifest, config.validationImages, config.seed);
  const options = { read, batchSize: config.batchSize, crop: config.crop, hintInput: config.hintInput };
  const data: TrainingData = {
    set: { size: manifest.size, mults: manifest.mults },
    train: loaderSource(description, new TrainingLoader({ ...options, manifest: train, seed: mix(config.seed, STREAM.train), regime: config.hints, paperOverlay: config.paperOverlay })),
    validation: await new TrainingLoader({ ...options, manifest: validation, seed: config.seed, hints: 'fixed' }).fixedBatches(),
  };
  if (config.finetune !== null) data.real = loaderSource(`${description} (page rounds)`, new TrainingLoader({ ...options, manifest: train, seed: mix(config.seed, STREAM.real), regime: config.hints }));
  return data;
}

// ---- generated shapes -----------------------------------------------------------------------------------

type ShapeKind = 'disc' | 'box' | 'diamond';
const KINDS: readonly ShapeKind[] = ['disc', 'box', 'diamond'];
/** Base colour per kind (RGB in [0, 1]); each shape jitters it a little. */
const PALETTE: Record<ShapeKind, [number, number, number]> = { disc: [0.9, 0.3, 0.25], box: [0.25, 0.45, 0.9], diamond: [0.35, 0.8, 0.35] };
const JITTER = 0.08;

/**
 * A white image with 2–4 overlapping shapes and 1-pixel black outlines (on the inner side of every boundary),
 * and its line art: 0 on the outlines, 1 elsewhere.
 */
export function drawShapes(size: number, rng: Rng): { colour: Plane; sketch: Plane } {
  const count = 2 + rng.int(3);
  const shapes = Array.from({ length: count }, () => {
    const kind = KINDS[rng.int(KINDS.length)];
    const colour = PALETTE[kind].map((c) => Math.min(1, Math.max(0, c + JITTER * (2 * rng.next() - 1))));
    return { kind, colour, cx: size * (0.15 + 0.7 * rng.next()), cy: size * (0.15 + 0.7 * rng.next()), r: size * (0.12 + 0.18 * rng.next()) };
  });
  const label = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      shapes.forEach((s, k) => {
        const [dx, dy] = [Math.abs(x + 0.5 - s.cx), Math.abs(y + 0.5 - s.cy)];
        const inside = s.kind === 'disc' ? dx * dx + dy * dy <= s.r * s.r : s.kind === 'box' ? Math.max(dx, dy) <= s.r * 0.8 : dx + dy <= s.r;
        if (inside) label[y * size + x] = k + 1;
      });
    }
  }
  const colour = new Float32Array(3 * size * size).fill(1);
  const sketch = new Float32Array(size * size).fill(1);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      if (!label[i]) continue;
      const below = (xx: number, yy: number) => xx >= 0 && yy >= 0 && xx < size && yy < size && label[yy * size + xx] < label[i];
      const outline = below(x - 1, y) || below(x + 1, y) || below(x, y - 1) || below(x, y + 1);
      if (outline) sketch[i] = 0;
      colour.set(outline ? [0, 0, 0] : shapes[label[i] - 1].colour, 3 * i);
    }
  }
  return { colour: createPlane(size, size, 3, colour), sketch: createPlane(size, size, 1, sketch) };
}

/**
 * `count` generated images as a set that is drawn instead of read: a manifest like prepare-data's (one mult)
 * and a `read` that draws item k from its own seed. Images are a quarter larger than the crop, so crops vary.
 */
export function generatedSet(count: number, crop: number, seed: number): { manifest: Manifest; read: Read } {
  const size = crop + (crop >> 2);
  const items: DatasetItem[] = Array.from({ length: count }, (_, k) => ({ ...itemFiles(`shape-${k}`, [1]), source: `generated/${k}`, width: size, height: size }));
  const byPath = new Map<string, { k: number; plane: 'colour' | 'sketch' | 'field' }>();
  items.forEach((item, k) => {
    byPath.set(item.colour, { k, plane: 'colour' });
    byPath.set(item.sketches[1], { k, plane: 'sketch' });
    byPath.set(item.fields[1], { k, plane: 'field' });
  });
  const read = async (path: string) => {
    const file = byPath.get(path);
    if (!file) throw new Error(`generated set: no file ${path}`);
    const { colour, sketch } = drawShapes(size, seededRng(mix(seed, STREAM.shapes, file.k)));
    return file.plane === 'colour' ? colour : file.plane === 'sketch' ? sketch : distanceField(sketch);
  };
  return { manifest: { version: 1, size, mults: [1], preset: 'code', items, failed: [] }, read };
}

export interface FinetuneOptions {
  /** Where the black-and-white pages are prepared (once; a later run reuses them). */
  pagesCache: string;
  progress?: (done: number, total: number, source: string) => void;
}

/**
 * Training data for `config`: `generated` (imagesPerEpoch images, default 800) or a prepared set's directory;
 * when fine-tuning, also the black-and-white pages and the real-colour stream of the page rounds.
 */
export async function loadTrainingData(config: TrainConfig, finetune?: FinetuneOptions): Promise<TrainingData> {
  let data: TrainingData;
  if (config.data === 'generated') {
    const images = config.imagesPerEpoch ?? 800;
    const { manifest, read } = generatedSet(images + config.validationImages, config.crop, config.seed);
    data = await fromSet(`generated shapes (${images} images, ${manifest.size}² cropped to ${config.crop}², seed ${config.seed})`, manifest, read, config);
  } else {
    const { manifest, read } = await openTrainingSet(config.data);
    data = await fromSet(`${config.data} (${manifest.items.length} images, ${manifest.size}px, mults ${manifest.mults.join(',')})`, manifest, read, config);
  }
  if (config.finetune !== null) {
    if (!finetune) throw new Error('loadTrainingData: fine-tuning needs a folder to prepare the pages in (FinetuneOptions.pagesCache).');
    data.pages = await loadFinetunePages(config, finetune.pagesCache, { ...data.set, progress: finetune.progress });
  }
  return data;
}

/**
 * Fine-tuning pages: the folder of black-and-white pages is prepared like a training set (short side
 * `size`, the data set's mults, XDoG + distance field: the pipeline that made the training sketches) into
 * `cache` once, then read as crops with empty hints.
 */
async function loadFinetunePages(
  config: TrainConfig,
  cache: string,
  { size, mults, progress }: { size: number; mults: readonly number[]; progress?: (done: number, total: number, source: string) => void },
): Promise<BatchSource> {
  const folder = config.finetune!;
  const manifest = await prepareFolder(folder, cache, { size, mults, progress });
  if (!manifest.items.length) throw new Error(`${folder}: none of the pages could be read:\n  ${manifest.failed.map((f) => `${f.source}: ${f.error}`).join('\n  ')}`);
  const { read } = await openTrainingSet(cache);
  // Fewer pages than a batch: each batch takes some pages twice, in different random crops and flips.
  const pages = manifest.items.length;
  const items = pages < config.batchSize ? Array.from({ length: config.batchSize }, (_, k) => manifest.items[k % pages]) : manifest.items;
  const loader = new TrainingLoader({ manifest: { ...manifest, items }, read, batchSize: config.batchSize, crop: config.crop, seed: mix(config.seed, STREAM.pages), hints: 'none' });
  const repeated = pages < config.batchSize ? `, fewer than a batch of ${config.batchSize}: pages repeat within a batch, in other crops` : '';
  return loaderSource(`${folder} (${pages} black-and-white page${pages === 1 ? '' : 's'}${repeated})`, loader);
}
