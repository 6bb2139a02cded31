// The training loader (REFERENCE §6: random crop + horizontal flip, batch 4; §2: hint sampling): batches of
// generator inputs and colour targets from a prepared set (src/data/dataset.ts). Streaming — only the items of
// the batch being assembled and of the one prefetched are in memory — and random-access: batch `i` of the
// endless stream of epochs is a pure function of (seed, i), because each sample's crop, flip, mult and hints
// come from a generator seeded by (seed, epoch, position). So prefetching or timing never changes what a run
// sees, and a resumed run needs nothing but its step number. Isomorphic: files are read through `read`.
import type { DatasetItem, Manifest } from './dataset.js';
import { distanceField } from './distance.js';
import { encodeHints, type HintInput } from './hint-spread.js';
import { hintPlane, PUBLISHED_HINTS, sampleTrainingHints, sparseMask, type HintRegime } from './hints.js';
import { overlayPaper } from './paper.js';
import { channelOf, createPlane, planeToChw, type Plane } from './plane.js';
import { seededRng, type Rng } from './random.js';

export interface LoaderOptions {
  manifest: Manifest;
  /** Decodes a file of the set (a path as the manifest writes it) into a plane: RGB for colour, any for grey. */
  read: (path: string) => Promise<Plane>;
  /** Samples per batch (4 in the reference recipe). */
  batchSize?: number;
  /** Crop side (default: the set's size). */
  crop?: number;
  seed?: number;
  /** Mirror half of the samples left–right (default true). */
  flip?: boolean;
  /**
   * `training` (default): REFERENCE §2's sampler; `none`: empty hints (fine-tuning on black-and-white pages);
   * `fixed`: for validation, see `fixedBatches`.
   */
  hints?: 'training' | 'fixed' | 'none';
  /** What `training` hints draw besides the published modes (default: the published sampler alone). */
  regime?: HintRegime;
  /** How the hints are encoded for the generator (default `dots`; `spread`: over the sketch's regions). */
  hintInput?: HintInput;
  /** Share of `training` samples with manga paper drawn over them (src/data/paper.ts; default 0). */
  paperOverlay?: number;
}

/** Density of the fixed validation hints: the auto-hint threshold σ of REFERENCE §7 (≈0.24 % of pixels). */
export const FIXED_HINT_SIGMA = 0.003;

/** One batch, NCHW float32. */
export interface Batch {
  /** [B, 6, S, S]: line art, distance field (both [0, 1]), the 4 hint channels (RGB × mask in [−1, 1], mask; or their spread encoding). */
  input: Float32Array;
  /** [B, 3, S, S]: the colour crops in [−1, 1]. */
  target: Float32Array;
  batchSize: number;
  crop: number;
  /** Per sample: item id, mult of the sketch used, flipped, hint mode. */
  samples: { id: string; mult: number; flipped: boolean; hints: string }[];
}

/** A small integer hash, so (seed, epoch, position) give unrelated generators. */
export function mix(...values: number[]): number {
  let h = 0x811c9dc5;
  for (const v of values) {
    h = Math.imul(h ^ (v >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ Math.floor(v / 2 ** 32), 0x01000193) >>> 0;
    h ^= h >>> 15;
  }
  return h;
}

/** A permutation of 0…n−1 (Fisher–Yates). */
function shuffled(n: number, rng: Rng): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

function mirrored(plane: Plane): Plane {
  const { width: w, height: h, channels: c } = plane;
  const out = new Float32Array(plane.data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const src = (y * w + x) * c;
      out.set(plane.data.subarray(src, src + c), (y * w + (w - 1 - x)) * c);
    }
  }
  return { width: w, height: h, channels: c, data: out };
}

/**
 * Splits a set into a training part and `count` held-out items for validation, chosen by a shuffle seeded with
 * `seed` so that the held-out items are spread over the whole set, not its last (alphabetical) titles.
 */
export function splitManifest(manifest: Manifest, count: number, seed: number): { train: Manifest; validation: Manifest } {
  if (!(count >= 0 && count < manifest.items.length)) {
    throw new Error(`Cannot hold out ${count} validation images from a set of ${manifest.items.length}; lower --validation-images.`);
  }
  const held = new Set(shuffled(manifest.items.length, seededRng(mix(seed, 0x0a11d))).slice(0, count));
  const pick = (inValidation: boolean) => manifest.items.filter((_, i) => held.has(i) === inValidation);
  return { train: { ...manifest, items: pick(false) }, validation: { ...manifest, items: pick(true) } };
}

/** The window [x, x + s) × [y, y + s) of a plane. */
function window(plane: Plane, x: number, y: number, s: number): Plane {
  const c = plane.channels;
  const out = new Float32Array(s * s * c);
  for (let r = 0; r < s; r++) {
    const from = ((y + r) * plane.width + x) * c;
    out.set(plane.data.subarray(from, from + s * c), r * s * c);
  }
  return { width: s, height: s, channels: c, data: out };
}

export class TrainingLoader {
  readonly batchSize: number;
  readonly crop: number;
  private readonly seed: number;
  /** The shuffled order of the epoch last asked for (batches of one epoch come in sequence). */
  private order: { epoch: number; items: number[] } | null = null;

  constructor(private readonly options: LoaderOptions) {
    this.batchSize = options.batchSize ?? 4;
    this.crop = options.crop ?? options.manifest.size;
    this.seed = options.seed ?? 0;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${this.batchSize}.`);
    if (options.manifest.items.length === 0) throw new Error('The training set has no items.');
    if (options.hints !== 'fixed' && options.manifest.items.length < this.batchSize) {
      throw new Error(`The training set has ${options.manifest.items.length} items, fewer than one batch of ${this.batchSize}; lower --batch-size or add images.`);
    }
    const small = options.manifest.items.find((i) => i.width < this.crop || i.height < this.crop);
    if (small) throw new Error(`Item ${small.id} is ${small.width}×${small.height}, smaller than the ${this.crop}×${this.crop} crop; prepare the set with --size ≥ ${this.crop}.`);
  }

  /** Items in the set. */
  get items(): number {
    return this.options.manifest.items.length;
  }

  /** Full batches per epoch (the last partial batch is dropped, so every batch has batchSize samples). */
  get batchesPerEpoch(): number {
    return Math.floor(this.options.manifest.items.length / this.batchSize);
  }

  /** The batches of one epoch, in a shuffled order that depends on (seed, epoch) only; one batch prefetched. */
  async *epoch(epoch: number): AsyncGenerator<Batch> {
    let pending: Promise<Batch> | null = null;
    for (let b = 0; b <= this.batchesPerEpoch; b++) {
      const next: Promise<Batch> | null = b < this.batchesPerEpoch ? this.batchAt(epoch * this.batchesPerEpoch + b) : null;
      // Attach a handler now so a failing prefetch is reported when awaited, not as an unhandled rejection.
      next?.catch(() => undefined);
      if (pending) yield await pending;
      pending = next;
    }
  }

  /** Batch `index` of the endless stream of epochs: epoch ⌊index / batchesPerEpoch⌋, that epoch's shuffle. */
  batchAt(index: number): Promise<Batch> {
    if (!Number.isSafeInteger(index) || index < 0) throw new Error(`batchAt: index must be an integer ≥ 0, got ${index}.`);
    const epoch = Math.floor(index / this.batchesPerEpoch);
    const b = index - epoch * this.batchesPerEpoch;
    if (this.order?.epoch !== epoch) {
      this.order = { epoch, items: shuffled(this.options.manifest.items.length, seededRng(mix(this.seed, epoch, 0x5eed))) };
    }
    const indices = this.order.items.slice(b * this.batchSize, (b + 1) * this.batchSize);
    return this.batch(indices, (k) => seededRng(mix(this.seed, epoch, b * this.batchSize + k + 1)));
  }

  /**
   * Every item once, in manifest order, as the same batches at every call: the centre crop of the largest mult's
   * sketch (the closest to inference's mult 7), no flip, and with `hints: 'fixed'` sparse hints drawn once per
   * item (σ 0.003, seeded by (seed, position)). The last batch may be smaller. For validation.
   */
  async fixedBatches(): Promise<Batch[]> {
    const out: Batch[] = [];
    for (let first = 0; first < this.items; first += this.batchSize) {
      const indices = Array.from({ length: Math.min(this.batchSize, this.items - first) }, (_, k) => first + k);
      out.push(await this.batch(indices, (k) => seededRng(mix(this.seed, first + k, 0xf1ed)), true));
    }
    return out;
  }

  private async batch(indices: number[], rngOf: (k: number) => Rng, fixed = false): Promise<Batch> {
    const s = this.crop;
    const n = s * s;
    const input = new Float32Array(indices.length * 6 * n);
    const target = new Float32Array(indices.length * 3 * n);
    const samples = await Promise.all(
      indices.map(async (index, k) => {
        const item = this.options.manifest.items[index];
        const sample = await this.sample(item, rngOf(k), fixed);
        input.set(planeToChw(sample.sketch), (6 * k) * n);
        input.set(planeToChw(sample.field), (6 * k + 1) * n);
        input.set(planeToChw(sample.hint), (6 * k + 2) * n);
        const colour = planeToChw(sample.colour);
        for (let i = 0; i < colour.length; i++) colour[i] = colour[i] * 2 - 1;
        target.set(colour, 3 * k * n);
        return { id: item.id, mult: sample.mult, flipped: sample.flipped, hints: sample.mode };
      }),
    );
    return { input, target, batchSize: indices.length, crop: s, samples };
  }

  private async sample(item: DatasetItem, rng: Rng, fixed: boolean) {
    const mults = Object.keys(item.sketches);
    const mult = fixed ? mults.reduce((a, b) => (Number(b) > Number(a) ? b : a)) : mults[rng.int(mults.length)];
    const x = fixed ? (item.width - this.crop) >> 1 : rng.int(item.width - this.crop + 1);
    const y = fixed ? (item.height - this.crop) >> 1 : rng.int(item.height - this.crop + 1);
    const flipped = !fixed && (this.options.flip ?? true) && rng.next() < 0.5;
    const [colourFile, sketchFile, fieldFile] = await Promise.all([
      this.options.read(item.colour),
      this.options.read(item.sketches[mult]),
      this.options.read(item.fields[mult]),
    ]);
    const prepare = (p: Plane, grey: boolean) => {
      if (p.width !== item.width || p.height !== item.height) throw new Error(`${item.id}: a file is ${p.width}×${p.height}, the manifest says ${item.width}×${item.height}.`);
      if (!grey && p.channels !== 3) throw new Error(`${item.id}: the colour image has ${p.channels} channels, expected 3.`);
      const cut = window(grey ? channelOf(p, 0) : p, x, y, this.crop);
      return flipped ? mirrored(cut) : cut;
    };
    let colour = prepare(colourFile, false);
    let sketch = prepare(sketchFile, true);
    // Drawn only when asked for, so runs without paper keep their random streams.
    const paperOverlay = this.options.paperOverlay ?? 0;
    const papered = !fixed && paperOverlay > 0 && rng.next() < paperOverlay;
    if (papered) ({ colour, sketch } = overlayPaper({ colour, sketch }, rng));
    // The paper changed the line art, so its distance field is computed again rather than cut from the file.
    const field = papered ? distanceField(sketch) : prepare(fieldFile, true);
    const { hint, mode } = this.hints(colour, rng);
    return { colour, sketch, field, hint: encodeHints(hint, sketch, this.options.hintInput ?? 'dots'), mode, mult: Number(mult), flipped };
  }

  private hints(colour: Plane, rng: Rng): { hint: Plane; mode: string } {
    switch (this.options.hints ?? 'training') {
      case 'training':
        return sampleTrainingHints(colour, rng, this.options.regime ?? PUBLISHED_HINTS);
      case 'fixed':
        return { hint: hintPlane(colour, sparseMask(colour, rng, FIXED_HINT_SIGMA)), mode: 'fixed' };
      case 'none':
        return { hint: createPlane(this.crop, this.crop, 4), mode: 'empty' };
    }
  }
}
