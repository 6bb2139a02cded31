// Colour hints, the generator's channels 3–6 (REFERENCE §2): RGB in [−1, 1] multiplied by the mask, and the
// mask (0/1), as one 4-channel plane. Two sources: the training sampler (from the colour image itself) and
// user hints (a JSON file or a PNG whose alpha marks hint pixels) placed on the model's canvas.
import { createPlane, type Plane } from './plane.js';
import { quoteValue } from './json-value.js';
import type { Rng } from './random.js';
import type { Size } from './resize.js';

/** Probabilities of the training sampler's three modes (REFERENCE §2). */
export const HINT_MODES = { full: 0.01, sparse: 0.495, empty: 0.495 } as const;
/** The sparse mode's threshold t ~ Normal(1, σ) truncated to [0, 1]; a pixel is a hint where U(0, 1) ≥ t. */
export const SPARSE_SIGMA = 0.0005;

/** The published modes, and `dense`: dots as the app places them (see HintRegime). */
export type HintMode = keyof typeof HINT_MODES | 'dense';

/**
 * What the training sampler draws besides the published modes. A share of samples gets `dense` hints instead
 * of the published draw: a uniform number of dots in `denseCount`, each a disc of a uniform size in `dotSize`
 * model pixels across (the app's dots, 1–9) centred on a pixel of a coloured region of the ground truth and
 * filled with that pixel's colour. The published sampler is `denseShare` 0 (its random stream is then
 * unchanged).
 */
export interface HintRegime {
  /** Share of samples with dense dot hints, in [0, 1]; the rest follow the published draw. */
  denseShare: number;
  /** Dots per dense sample: an integer uniform in [min, max]. */
  denseCount: [number, number];
  /** Dot diameter in model pixels: an integer uniform in [min, max], within 1–9 (the app's sizes). */
  dotSize: [number, number];
}

/** The published sampler alone (REFERENCE §2). */
export const PUBLISHED_HINTS: HintRegime = { denseShare: 0, denseCount: [20, 150], dotSize: [1, 1] };
/** The app's dot sizes. */
export const MIN_DOT_SIZE = 1;
export const MAX_DOT_SIZE = 9;

/** A 4-channel hint plane from a colour plane (RGB in [0, 1]) and a 0/1 mask per pixel. */
export function hintPlane(colour: Plane, mask: Uint8Array): Plane {
  if (colour.channels !== 3) throw new Error(`Hints take an RGB colour plane, got ${colour.channels} channels.`);
  const n = colour.width * colour.height;
  const out = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    if (!mask[i]) continue;
    for (let c = 0; c < 3; c++) out[4 * i + c] = colour.data[3 * i + c] * 2 - 1;
    out[4 * i + 3] = 1;
  }
  return createPlane(colour.width, colour.height, 4, out);
}

/** t ~ Normal(mean, sigma) conditioned on [0, 1], by rejection (mean 1: about two draws). */
export function truncatedNormal(rng: Rng, mean: number, sigma: number): number {
  for (;;) {
    const t = mean + sigma * rng.normal();
    if (t >= 0 && t <= 1) return t;
  }
}

/** Draws the mode: full with p 0.01, sparse 0.495, empty 0.495. */
export function drawHintMode(rng: Rng): keyof typeof HINT_MODES {
  const u = rng.next();
  if (u < HINT_MODES.full) return 'full';
  return u < HINT_MODES.full + HINT_MODES.sparse ? 'sparse' : 'empty';
}

/**
 * Pixels where U(0, 1) ≥ t for t ~ Normal(1, σ) truncated to [0, 1]: a fraction E[1 − t] = σ·√(2/π) of the
 * image on average (≈ 0.04 % for σ 0.0005: ~100 pixels on 512²; the auto-hint step of REFERENCE §7 uses σ 0.003).
 */
export function sparseMask(size: Size, rng: Rng, sigma = SPARSE_SIGMA): Uint8Array {
  const t = truncatedNormal(rng, 1, sigma);
  const mask = new Uint8Array(size.width * size.height);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.next() >= t ? 1 : 0;
  return mask;
}

/** Offsets of the model pixels a dot of `size` covers: a disc of diameter `size` (a square for 1–3), as the app draws it. */
export function dotOffsets(size: number): [number, number][] {
  const lo = -Math.floor((size - 1) / 2) || 0; // no −0 offsets
  const centre = (size - 1) / 2 + lo; // 0 for odd sizes, ½ for even ones
  const out: [number, number][] = [];
  for (let dy = lo; dy < lo + size; dy++) {
    for (let dx = lo; dx < lo + size; dx++) if ((dx - centre) ** 2 + (dy - centre) ** 2 <= (size / 2) ** 2) out.push([dx, dy]);
  }
  return out;
}

/** Below this luma a pixel is ink, not a coloured region. */
export const INK_LUMA = 0.25;
/** A pixel whose channels are all at least this is paper (white), not a coloured region. */
export const PAPER_LEVEL = 0.92;

/**
 * The pixels of the coloured regions of a colour image (RGB in [0, 1]): neither ink (Rec. 601 luma below
 * INK_LUMA) nor paper (every channel at least PAPER_LEVEL). Where hints are drawn from the ground truth.
 */
export function colouredRegions(colour: Plane): Uint8Array {
  const n = colour.width * colour.height;
  const out = new Uint8Array(n);
  const d = colour.data;
  for (let i = 0; i < n; i++) {
    const [r, g, b] = [d[3 * i], d[3 * i + 1], d[3 * i + 2]];
    const luma = 0.299 * r + 0.587 * g + 0.114 * b;
    out[i] = luma >= INK_LUMA && (r < PAPER_LEVEL || g < PAPER_LEVEL || b < PAPER_LEVEL) ? 1 : 0;
  }
  return out;
}

/** How far (largest channel difference) a dot's pixels may be from its centre's colour to count as one region. */
const DOT_TOLERANCE = 0.12;
/** Centres tried per dot before it falls back to a single pixel. */
const DOT_TRIES = 4;

/** Dots drawn from the ground truth: centres, sizes, the colour each carries. */
export interface DotHints {
  /** RGB per pixel in [0, 1] where `mask` is set (a dot's centre colour over its whole disc), else 0. */
  colour: Plane;
  mask: Uint8Array;
  /** The dots' centre pixels (y·width + x) and sizes, in drawing order. */
  dots: { index: number; size: number }[];
}

/**
 * `count` dots on a colour image, seeded through `rng`: each centred on a uniformly drawn pixel of the coloured
 * regions (colouredRegions), of a size uniform in `sizes`, filled with the centre's ground-truth colour. A
 * dot must lie inside the image on pixels of its centre's region (coloured, within DOT_TOLERANCE of the centre
 * colour), as a user places one; after DOT_TRIES centres that do not fit, the last becomes a single pixel.
 * No coloured pixels: no dots. Later dots paint over earlier ones.
 */
export function sampleDots(colour: Plane, count: number, sizes: readonly [number, number], rng: Rng): DotHints {
  const { width: w, height: h } = colour;
  const region = colouredRegions(colour);
  let found = 0;
  for (let i = 0; i < region.length; i++) found += region[i];
  const candidates = new Int32Array(found);
  for (let i = 0, k = 0; i < region.length; i++) if (region[i]) candidates[k++] = i;
  const out = new Float32Array(3 * w * h);
  const mask = new Uint8Array(w * h);
  const dots: DotHints['dots'] = [];
  if (!candidates.length) return { colour: createPlane(w, h, 3, out), mask, dots };
  const d = colour.data;
  const offsetsOf = new Map<number, [number, number][]>();
  const fits = (centre: number, offsets: [number, number][]) => {
    const [cx, cy] = [centre % w, Math.floor(centre / w)];
    const [r0, g0, b0] = [d[3 * centre], d[3 * centre + 1], d[3 * centre + 2]];
    for (const [dx, dy] of offsets) {
      const [x, y] = [cx + dx, cy + dy];
      if (x < 0 || y < 0 || x >= w || y >= h) return false;
      const i = y * w + x;
      if (!region[i] || Math.abs(d[3 * i] - r0) > DOT_TOLERANCE || Math.abs(d[3 * i + 1] - g0) > DOT_TOLERANCE || Math.abs(d[3 * i + 2] - b0) > DOT_TOLERANCE) return false;
    }
    return true;
  };
  for (let k = 0; k < count; k++) {
    const size = sizes[0] + rng.int(sizes[1] - sizes[0] + 1);
    let offsets = offsetsOf.get(size);
    if (!offsets) offsetsOf.set(size, (offsets = dotOffsets(size)));
    let centre = -1;
    let placed = 1;
    for (let t = 0; t < DOT_TRIES; t++) {
      centre = candidates[rng.int(candidates.length)];
      if (fits(centre, offsets)) {
        placed = size;
        break;
      }
    }
    const [cx, cy] = [centre % w, Math.floor(centre / w)];
    for (const [dx, dy] of placed === 1 ? ([[0, 0]] as [number, number][]) : offsets) {
      const i = (cy + dy) * w + (cx + dx);
      mask[i] = 1;
      for (let c = 0; c < 3; c++) out[3 * i + c] = d[3 * centre + c];
    }
    dots.push({ index: centre, size: placed });
  }
  return { colour: createPlane(w, h, 3, out), mask, dots };
}

/**
 * The training sampler on a colour image, seeded through `rng`: with probability `regime.denseShare` dense
 * dots (sampleDots), otherwise REFERENCE §2's draw of full, sparse or empty hints. The published regime
 * (denseShare 0) draws exactly the published stream.
 */
export function sampleTrainingHints(colour: Plane, rng: Rng, regime: HintRegime = PUBLISHED_HINTS): { hint: Plane; mode: HintMode } {
  if (regime.denseShare > 0 && rng.next() < regime.denseShare) {
    const count = regime.denseCount[0] + rng.int(regime.denseCount[1] - regime.denseCount[0] + 1);
    const dots = sampleDots(colour, count, regime.dotSize, rng);
    return { hint: hintPlane(dots.colour, dots.mask), mode: 'dense' };
  }
  const mode = drawHintMode(rng);
  const n = colour.width * colour.height;
  const mask = mode === 'full' ? new Uint8Array(n).fill(1) : mode === 'sparse' ? sparseMask(colour, rng) : new Uint8Array(n);
  return { hint: hintPlane(colour, mask), mode };
}

/** One user hint in page pixel coordinates; rgb in [0, 1]. */
export interface UserHint {
  x: number;
  y: number;
  rgb: [number, number, number];
}

/**
 * User hints for one page, the page size they were made on and the hints as columns: hint i is at page pixel
 * (x[i], y[i]) with colour rgb[3i..3i+2] in [0, 1]. Columns, not one object per hint: a hint layer may hold a
 * million hints, which as objects took ~100 bytes each (and a 10000² layer ran out of heap).
 */
export interface HintSet {
  page: Size;
  x: Float64Array;
  y: Float64Array;
  rgb: Float32Array;
}

/** A hint set from a list of hints (the app's dots, the evaluation's samples); no hints when `hints` is empty. */
export function hintSet(page: Size, hints: readonly UserHint[] = []): HintSet {
  const set: HintSet = { page: { width: page.width, height: page.height }, x: new Float64Array(hints.length), y: new Float64Array(hints.length), rgb: new Float32Array(3 * hints.length) };
  hints.forEach((h, i) => {
    set.x[i] = h.x;
    set.y[i] = h.y;
    set.rgb.set(h.rgb, 3 * i);
  });
  return set;
}

/** The hints of a set as a list, for the few callers that edit or show them one by one (the app). */
export function hintList(set: HintSet): UserHint[] {
  return Array.from(set.x, (x, i) => ({ x, y: set.y[i], rgb: [set.rgb[3 * i], set.rgb[3 * i + 1], set.rgb[3 * i + 2]] }));
}

/** Named colours ("hair" → rgb in [0, 1]) that hints may use instead of "#rrggbb". */
export type Palette = ReadonlyMap<string, [number, number, number]>;

/** "#rrggbb" (or "rrggbb") → rgb in [0, 1]; other text is looked up in `palette`. */
export function parseColour(text: unknown, palette?: Palette): [number, number, number] {
  const named = typeof text === 'string' ? palette?.get(text) : undefined;
  if (named) return named;
  const m = typeof text === 'string' ? /^#?([0-9a-fA-F]{6})$/.exec(text.trim()) : null;
  if (!m) {
    const names = palette?.size ? ` or one of the palette's names (${[...palette.keys()].join(', ')})` : '';
    throw new Error(`${quoteValue(text)} is not a colour; write it as "#rrggbb", e.g. "#ff8800"${names}.`);
  }
  const v = parseInt(m[1], 16);
  return [(v >> 16) / 255, ((v >> 8) & 255) / 255, (v & 255) / 255];
}

/** A palette from JSON {"name": "#rrggbb", ...}; errors name `source`. */
export function parsePalette(json: unknown, source = 'hints'): Palette {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error(`${source}: "palette" must be an object of named colours, e.g. {"hair": "#d9a13b"}.`);
  }
  return new Map(
    Object.entries(json).map(([name, colour]) => {
      try {
        return [name, parseColour(colour)] as const;
      } catch (e) {
        throw new Error(`${source}: palette colour "${name}": ${(e as Error).message}`);
      }
    }),
  );
}

/**
 * Parses and checks a hint file: {"width": W, "height": H, "hints": [{"x": .., "y": .., "color": "#rrggbb"}]},
 * coordinates in page pixels, 0 ≤ x < W, 0 ≤ y < H; an optional "palette" {"name": "#rrggbb"} lets colours be
 * given by name. Errors name `source` and the offending entry.
 */
export function parseHintJson(text: string, source = 'hints'): HintSet {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not valid JSON (${(e as Error).message}).`);
  }
  const palette = isObject(json) && json.palette !== undefined ? parsePalette(json.palette, source) : undefined;
  return parseHintObject(json, source, palette);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The checks of parseHintJson on parsed JSON; colour names are looked up in `palette`. */
export function parseHintObject(json: unknown, source = 'hints', palette?: Palette): HintSet {
  const usage = 'expected {"width": W, "height": H, "hints": [{"x": .., "y": .., "color": "#rrggbb"}, ...]}';
  if (!isObject(json)) throw new Error(`${source}: ${usage}.`);
  const { width, height, hints } = json;
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(v) || (v as number) < 1) throw new Error(`${source}: "${name}" must be a positive integer (the page size in pixels), got ${quoteValue(v)}; ${usage}.`);
  }
  if (!Array.isArray(hints)) throw new Error(`${source}: "hints" must be an array; ${usage}.`);
  if (hints.length > MAX_HINTS) throw new Error(`${source}: ${hints.length} hints, more than the ${MAX_HINTS} a page may have.`);
  const page = { width: width as number, height: height as number };
  const [x, y, rgb] = [new Float64Array(hints.length), new Float64Array(hints.length), new Float32Array(3 * hints.length)];
  hints.forEach((h: unknown, i) => {
    const where = `${source}: hint ${i}`;
    if (typeof h !== 'object' || h === null) throw new Error(`${where} must be an object {"x", "y", "color"}.`);
    const entry = h as Record<string, unknown>;
    for (const [name, limit] of [['x', page.width], ['y', page.height]] as const) {
      const v = entry[name];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${where}: "${name}" must be a number, got ${quoteValue(v)}.`);
      if (v < 0 || v >= limit) throw new Error(`${where}: ${name} = ${v} is outside the ${page.width}×${page.height} page (0 ≤ ${name} < ${limit}).`);
    }
    try {
      rgb.set(parseColour(entry.color, palette), 3 * i);
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
    x[i] = entry.x as number;
    y[i] = entry.y as number;
  });
  return { page, x, y, rgb };
}

/** The most hints one page may have: four times the pixels of a 512² working canvas (bounds the memory they take). */
export const MAX_HINTS = 1_048_576;

/** Why hints made for one page size cannot go on a page of another, or null when they fit. */
export function hintSizeProblem(set: HintSet, page: Size): string | null {
  return set.page.width === page.width && set.page.height === page.height
    ? null
    : `The hints were made for a ${set.page.width}×${set.page.height} page, but this page is ${page.width}×${page.height}.`;
}

/**
 * User hints from a hint layer's 8-bit RGBA samples (width·height·4 bytes, as decoded): every pixel with alpha
 * ≥ ½ (128) is a hint of its RGB colour (a transparent layer painted over the page). Read from the bytes, never
 * through a float plane, and counted before anything is built: an opaque layer would make every pixel a hint.
 */
export function hintsFromRgba(rgba: Uint8Array, page: Size, maxHints = MAX_HINTS): HintSet {
  const n = page.width * page.height;
  if (rgba.length !== 4 * n) throw new Error(`A hint image needs 4 channels (RGBA) per pixel: ${rgba.length} bytes do not fill a ${page.width}×${page.height} layer.`);
  let count = 0;
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i] >= 128) count++;
  if (count > maxHints) {
    throw new Error(
      `${count} pixels of the hint image are opaque (alpha ≥ ½), more than the ${maxHints} hints a page may have: ` +
        'a hint layer is transparent except for the dots painted on it.',
    );
  }
  const [x, y, rgb] = [new Float64Array(count), new Float64Array(count), new Float32Array(3 * count)];
  for (let p = 0, k = 0; k < count; p++) {
    if (rgba[4 * p + 3] < 128) continue;
    x[k] = p % page.width;
    y[k] = Math.floor(p / page.width);
    for (let c = 0; c < 3; c++) rgb[3 * k + c] = rgba[4 * p + c] / 255;
    k++;
  }
  return { page: { width: page.width, height: page.height }, x, y, rgb };
}

/**
 * Places user hints on the model's canvas: page pixel (x, y) → content pixel ⌊(x + ½)·w/W⌋, ⌊(y + ½)·h/H⌋ (pixel
 * centres scaled like the area resize), content top-left in the canvas as resizePad puts it. Hints landing on
 * the same pixel are averaged. `page` is the size of the page being coloured; the hints must have been made on
 * a page of that size.
 */
export function placeHints(set: HintSet, page: Size, content: Size, canvas: Size = content): Plane {
  const mismatch = hintSizeProblem(set, page);
  if (mismatch) throw new Error(mismatch);
  if (content.width > canvas.width || content.height > canvas.height) throw new Error('placeHints: the content is larger than the canvas.');
  const n = canvas.width * canvas.height;
  const sum = new Float64Array(3 * n);
  const count = new Uint32Array(n);
  for (let k = 0; k < set.x.length; k++) {
    const x = Math.min(Math.floor(((set.x[k] + 0.5) * content.width) / page.width), content.width - 1);
    const y = Math.min(Math.floor(((set.y[k] + 0.5) * content.height) / page.height), content.height - 1);
    const i = y * canvas.width + x;
    for (let c = 0; c < 3; c++) sum[3 * i + c] += set.rgb[3 * k + c];
    count[i]++;
  }
  const colour = new Float32Array(3 * n);
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (!count[i]) continue;
    mask[i] = 1;
    for (let c = 0; c < 3; c++) colour[3 * i + c] = sum[3 * i + c] / count[i];
  }
  return hintPlane(createPlane(canvas.width, canvas.height, 3, colour), mask);
}
