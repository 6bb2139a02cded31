// Hints spread over the regions of the line art: the input encoding of the project's own models (metadata
// `hintInput: spread`; the published models take dots). A dot tells a network one pixel's colour; a small network
// trained for minutes learns to follow few dots only weakly, while the regions the lines enclose are exactly
// where a user means a dot to apply. So before the generator runs, every pixel is given the colour of the hint
// nearest to it along a path that pays for crossing ink (a geodesic paint bucket), and a confidence that decays
// with that path's length; the network refines the result (shading, region edges, pixels no hint reaches).
//
// The hint plane keeps its 4 channels, so the generator's layout is the published one:
//   RGB of the nearest hint in [−1, 1] (not multiplied: a far hint still names a colour), and
//   confidence exp(−d / SPREAD_REACH) in (0, 1], 1 exactly on the hint pixels themselves; 0 and black where no
//   hint is reachable (a page without hints is encoded as the published zeros).
// Two path costs (the model's metadata names which it was trained with); each pixel takes the colour of the hint
// nearest by its cost d, at confidence exp(−d / SPREAD_REACH):
//   spread:  a step costs its length × (1 + SPREAD_INK_COST · ink): a hint's confidence fades over ~24 px of
//            open paper;
//   regions: open paper counts at REGION_PAPER_COST of its length, ink in full, so a region the lines enclose
//            is ~1 throughout (a user's dot means its whole region), falls to ~0.04 past a 2-px line, and a
//            large region goes to its own hint rather than to a nearer one across a line.
// A hint pixel that touches ink starts its paths behind that ink (a dot on a line is ambiguous about its side);
// hint pixels themselves keep their own colour at confidence 1.
//
// API
//   spreadHints(hint, lineArt, input = 'spread') → Plane   (hint: the 4-channel dots of hintPlane; lineArt: 1 channel, 1 = paper)
//   encodeHints(hint, lineArt, input) → the plane the generator takes for a model's HintInput
import { createPlane, type Plane } from './plane.js';

/** The ways a generator takes hints: the published dots, or spread over the line art's regions (two confidences). */
export const HINT_INPUTS = ['dots', 'spread', 'regions'] as const;
export type HintInput = (typeof HINT_INPUTS)[number];
export type SpreadInput = Exclude<HintInput, 'dots'>;

/** Extra path length per pixel of full ink crossed: a 2-px line costs as much as ~80 px of open paper. */
export const SPREAD_INK_COST = 40;
/** Path length (model pixels) over which a hint's confidence falls to 1/e. */
export const SPREAD_REACH = 24;
/** The share of a step's open-paper length that the `regions` cost counts: its reach in paper is 240 px. */
export const REGION_PAPER_COST = 0.1;


/** A binary min-heap of (distance, pixel) in typed arrays; stale entries are skipped by the caller. */
class PixelHeap {
  private keys: Float64Array;
  private items: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.keys = new Float64Array(Math.max(16, capacity));
    this.items = new Int32Array(this.keys.length);
  }

  push(key: number, item: number): void {
    if (this.size === this.keys.length) {
      const keys = new Float64Array(2 * this.size);
      const items = new Int32Array(2 * this.size);
      keys.set(this.keys);
      items.set(this.items);
      [this.keys, this.items] = [keys, items];
    }
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.keys[parent] <= key) break;
      this.keys[i] = this.keys[parent];
      this.items[i] = this.items[parent];
      i = parent;
    }
    this.keys[i] = key;
    this.items[i] = item;
  }

  /** Removes the smallest entry; its key and item are left in `topKey` / `topItem`. */
  topKey = 0;
  topItem = 0;
  pop(): void {
    this.topKey = this.keys[0];
    this.topItem = this.items[0];
    const last = --this.size;
    const key = this.keys[last];
    const item = this.items[last];
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= last) break;
      if (child + 1 < last && this.keys[child + 1] < this.keys[child]) child++;
      if (this.keys[child] >= key) break;
      this.keys[i] = this.keys[child];
      this.items[i] = this.items[child];
      i = child;
    }
    this.keys[i] = key;
    this.items[i] = item;
  }
}

/** The smallest line-art value (1 = paper, 0 = ink) of pixel i and its 8 neighbours. */
function darkestAround(lineArt: Plane, i: number): number {
  const { width: w, height: h, data } = lineArt;
  const [x, y] = [i % w, Math.floor(i / w)];
  let darkest = 1;
  for (let yy = Math.max(0, y - 1); yy <= Math.min(h - 1, y + 1); yy++) {
    for (let xx = Math.max(0, x - 1); xx <= Math.min(w - 1, x + 1); xx++) darkest = Math.min(darkest, data[yy * w + xx]);
  }
  return darkest;
}

/**
 * The spread encoding of a 4-channel hint plane (RGB·mask in [−1, 1], mask) over a 1-channel line art of the
 * same size (1 = paper, 0 = ink): multi-source Dijkstra on the 8-connected grid, a step into pixel q costing its
 * length × (p + SPREAD_INK_COST · (1 − lineArt[q])), p = 1 for `spread` and REGION_PAPER_COST for `regions`.
 * Hint pixels (mask > 0) are the sources, carrying RGB / mask.
 */
export function spreadHints(hint: Plane, lineArt: Plane, input: SpreadInput = 'spread'): Plane {
  const { width: w, height: h } = hint;
  if (hint.channels !== 4) throw new Error(`spreadHints takes a 4-channel hint plane, got ${hint.channels} channels.`);
  if (lineArt.channels !== 1 || lineArt.width !== w || lineArt.height !== h) {
    throw new Error(`spreadHints: the line art is ${lineArt.width}×${lineArt.height}×${lineArt.channels}, expected ${w}×${h}×1.`);
  }
  const n = w * h;
  const out = new Float32Array(4 * n);
  const distance = new Float64Array(n).fill(Infinity);
  const source = new Int32Array(n).fill(-1);
  const heap = new PixelHeap(n);
  const hd = hint.data;
  const paper = input === 'regions' ? REGION_PAPER_COST : 1;
  const step = new Float64Array(n);
  for (let i = 0; i < n; i++) step[i] = paper + SPREAD_INK_COST * Math.min(1, Math.max(0, 1 - lineArt.data[i]));
  for (let i = 0; i < n; i++) {
    if (hd[4 * i + 3] > 0) {
      // A hint on or beside a line does not say which side it means: it starts behind the darkest ink pixel
      // around it, so it reaches its own region and the one across the line alike (weakly), and a hint inside
      // the region wins it. Without this, a dot on the anti-aliased rim of an outline fills the open paper
      // outside with full confidence.
      const start = SPREAD_INK_COST * Math.max(0, 1 - darkestAround(lineArt, i));
      distance[i] = start;
      source[i] = i;
      heap.push(start, i);
    }
  }
  if (!heap.size) return createPlane(w, h, 4, out);
  const relax = (q: number, length: number, d: number, from: number) => {
    if (hd[4 * q + 3] > 0) return; // a hint pixel is its own hint's, whichever reaches it first
    const dq = d + length * step[q];
    if (dq < distance[q]) {
      distance[q] = dq;
      source[q] = from;
      heap.push(dq, q);
    }
  };
  const D = Math.SQRT2;
  while (heap.size) {
    heap.pop();
    const p = heap.topItem;
    const d = heap.topKey;
    if (d > distance[p]) continue;
    const x = p % w;
    const s = source[p];
    const [left, right, up, down] = [x > 0, x < w - 1, p >= w, p < n - w];
    if (left) relax(p - 1, 1, d, s);
    if (right) relax(p + 1, 1, d, s);
    if (up) {
      relax(p - w, 1, d, s);
      if (left) relax(p - w - 1, D, d, s);
      if (right) relax(p - w + 1, D, d, s);
    }
    if (down) {
      relax(p + w, 1, d, s);
      if (left) relax(p + w - 1, D, d, s);
      if (right) relax(p + w + 1, D, d, s);
    }
  }
  for (let i = 0; i < n; i++) {
    const s = source[i];
    const mask = hd[4 * s + 3];
    for (let c = 0; c < 3; c++) out[4 * i + c] = hd[4 * s + c] / mask;
    // A hint pixel is certain of itself wherever it lies.
    out[4 * i + 3] = s === i ? 1 : Math.exp(-distance[i] / SPREAD_REACH);
  }
  return createPlane(w, h, 4, out);
}

/** A 4-channel dot hint plane as a generator of `input` takes it. */
export function encodeHints(hint: Plane, lineArt: Plane, input: HintInput): Plane {
  return input === 'dots' ? hint : spreadHints(hint, lineArt, input);
}
