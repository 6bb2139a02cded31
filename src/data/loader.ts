// The training loader (REFERENCE §6: random crop + horizontal flip, batch 4; §2: hint sampling): batches of
// generator inputs and colour targets from a prepared set (src/data/dataset.ts). Streaming — only the items of
// the batch being assembled and of the one prefetched are in memory — and reproducible: each sample's crop,
// flip, mult and hints come from a generator seeded by (seed, epoch, position), so prefetching or timing
// never changes what a run sees. Isomorphic: files are read through the `read` callback.
import type { DatasetItem, Manifest } from './dataset.js';
import { sampleTrainingHints } from './hints.js';
import { channelOf, planeToChw, type Plane } from './plane.js';
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
  /** Sample hints per REFERENCE §2 (default true); false gives empty hints. */
  hints?: boolean;
}

/** One batch, NCHW float32. */
export interface Batch {
  /** [B, 6, S, S]: line art, distance field (both [0, 1]), hint RGB × mask ([−1, 1]), mask. */
  input: Float32Array;
  /** [B, 3, S, S]: the colour crops in [−1, 1]. */
  target: Float32Array;
  batchSize: number;
  crop: number;
  /** Per sample: item id, mult of the sketch used, flipped, hint mode. */
  samples: { id: string; mult: number; flipped: boolean; hints: string }[];
}

/** A small integer hash, so (seed, epoch, position) give unrelated generators. */
function mix(...values: number[]): number {
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

  constructor(private readonly options: LoaderOptions) {
    this.batchSize = options.batchSize ?? 4;
    this.crop = options.crop ?? options.manifest.size;
    this.seed = options.seed ?? 0;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${this.batchSize}.`);
    if (options.manifest.items.length === 0) throw new Error('The training set has no items.');
    const small = options.manifest.items.find((i) => i.width < this.crop || i.height < this.crop);
    if (small) throw new Error(`Item ${small.id} is ${small.width}×${small.height}, smaller than the ${this.crop}×${this.crop} crop; prepare the set with --size ≥ ${this.crop}.`);
  }

  /** Full batches per epoch (the last partial batch is dropped, so every batch has batchSize samples). */
  get batchesPerEpoch(): number {
    return Math.floor(this.options.manifest.items.length / this.batchSize);
  }

  /** The batches of one epoch, in a shuffled order that depends on (seed, epoch) only; one batch prefetched. */
  async *epoch(epoch: number): AsyncGenerator<Batch> {
    const order = shuffled(this.options.manifest.items.length, seededRng(mix(this.seed, epoch, 0x5eed)));
    let pending: Promise<Batch> | null = null;
    for (let b = 0; b <= this.batchesPerEpoch; b++) {
      const next: Promise<Batch> | null = b < this.batchesPerEpoch ? this.batch(order.slice(b * this.batchSize, (b + 1) * this.batchSize), epoch, b) : null;
      // Attach a handler now so a failing prefetch is reported when awaited, not as an unhandled rejection.
      next?.catch(() => undefined);
      if (pending) yield await pending;
      pending = next;
    }
  }

  private async batch(indices: number[], epoch: number, b: number): Promise<Batch> {
    const s = this.crop;
    const n = s * s;
    const input = new Float32Array(indices.length * 6 * n);
    const target = new Float32Array(indices.length * 3 * n);
    const samples = await Promise.all(
      indices.map(async (index, k) => {
        const rng = seededRng(mix(this.seed, epoch, b * this.batchSize + k + 1));
        const item = this.options.manifest.items[index];
        const sample = await this.sample(item, rng);
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

  private async sample(item: DatasetItem, rng: Rng) {
    const mults = Object.keys(item.sketches);
    const mult = mults[rng.int(mults.length)];
    const x = rng.int(item.width - this.crop + 1);
    const y = rng.int(item.height - this.crop + 1);
    const flipped = (this.options.flip ?? true) && rng.next() < 0.5;
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
    const colour = prepare(colourFile, false);
    const { hint, mode } = (this.options.hints ?? true)
      ? sampleTrainingHints(colour, rng)
      : { hint: { width: this.crop, height: this.crop, channels: 4, data: new Float32Array(4 * this.crop * this.crop) }, mode: 'empty' };
    return { colour, sketch: prepare(sketchFile, true), field: prepare(fieldFile, true), hint, mode, mult: Number(mult), flipped };
  }
}
