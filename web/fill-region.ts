// The fill-region tool's geometry (DOM-free): the enclosed region under a click, and where its dots go.
//
// The region is the 4-connected area of non-ink page pixels around the clicked one: the line art bounds it. A pixel
// is ink when its luma (the project's LUMA weights) is below FILL_INK_LUMA, halfway between black and white, so
// the grey anti-aliased edge of a line bounds a region as its black core does. Gaps in the lines are closed as a
// colourist's paint bucket closes them ("close gaps", `closeGaps` page pixels, the app's default
// DEFAULT_CLOSE_GAPS): the region is first flooded over the pixels farther than closeGaps/2 from ink (its core), so
// a gap up to closeGaps wide stops it, and then grown back towards its lines, each pixel near a line going to the
// nearest core (so a gap is split between the regions on its two sides). A region narrower than the gap has no
// core: it is filled as without gap closing.
//
// The region becomes dots, as a user would dab it: a grid centred on the region, FILL_SPACING dot widths apart
// (closer in a small region, down to MIN_FILL_SPACING, so that it gets about FEW_DOTS), keeping only points whose
// whole dot (the disc of its radius) lies inside the region. The dots are bounded: a click on a huge open area
// (the page's margin) widens the grid until at most `maxDots` (MAX_FILL_DOTS) remain, so one click never makes
// more hints than a user would place by hand. A region too thin for any grid point gets one dot at its most
// interior pixel (largest 3-4 chamfer distance to the region's outside). The dots are ordinary dots: saved in the
// hints JSON, read by the command line.
import { LUMA } from '../src/data/plane.js';

/** 8-bit RGBA pixels, as an ImageData holds them. */
export interface RgbaPixels {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray | Uint8Array;
}

/** Below this luma (0–1) a pixel is ink: it bounds regions. */
export const FILL_INK_LUMA = 0.5;
/** Grid spacing of a region's dots, in dot widths. */
export const FILL_SPACING = 4;
/** The closest spacing, in dot widths, for a small region… */
export const MIN_FILL_SPACING = 2;
/** …which is spaced for about this many dots. */
const FEW_DOTS = 4;
/** The most dots one click places. */
export const MAX_FILL_DOTS = 48;
/** The widest gap in a line (page pixels) the app's fill does not leak through. */
export const DEFAULT_CLOSE_GAPS = 4;

export interface RegionFill {
  /** Page pixels of the dots, row by row. */
  dots: { x: number; y: number }[];
  /** Pixels in the region (0: the click was on ink or off the page). */
  area: number;
  /** The grid's spacing in page pixels (0 when no grid point fitted and one dot marks the region). */
  spacing: number;
}

/** A region of the page: its pixels (1), their count and bounding box. */
interface Region {
  mask: Uint8Array;
  area: number;
  box: { x0: number; y0: number; x1: number; y1: number };
}

/**
 * The region's pixels (1) in the page, with its bounding box; null when (x, y) is ink or off the page. Gaps in the
 * lines up to `closeGaps` page pixels wide are closed (see the top of this file).
 */
export function enclosedRegion(image: RgbaPixels, x: number, y: number, closeGaps = 0): Region | null {
  const { width, height, data } = image;
  const [px, py] = [Math.floor(x), Math.floor(y)];
  if (px < 0 || py < 0 || px >= width || py >= height) return null;
  const limit = FILL_INK_LUMA * 255;
  const [wr, wg, wb] = LUMA;
  const ink = new Uint8Array(width * height);
  for (let i = 0; i < ink.length; i++) ink[i] = wr * data[4 * i] + wg * data[4 * i + 1] + wb * data[4 * i + 2] < limit ? 1 : 0;
  const start = py * width + px;
  if (ink[start]) return null;
  const reach = closeGaps / 2;
  if (reach > 0) {
    const toInk = chamferDistance(ink, width, { x0: 0, y0: 0, x1: width - 1, y1: height - 1 }, 1);
    const beyondReach = (i: number) => toInk.at(i % width, Math.floor(i / width)) > reach;
    const core = flood(width, height, start, beyondReach);
    if (core) return growInto(core, width, height, ink, reach, beyondReach);
  }
  return flood(width, height, start, (i) => !ink[i]);
}

/** The 4-connected region of `open` pixels around `start`; null when `start` is not open. */
function flood(width: number, height: number, start: number, open: (i: number) => boolean): Region | null {
  if (!open(start)) return null;
  const mask = new Uint8Array(width * height);
  const [px, py] = [start % width, Math.floor(start / width)];
  const box = { x0: px, y0: py, x1: px, y1: py };
  let area = 0;
  // Scanline fill: a seed grows into its whole run of the row, and the rows above and below get one seed per run
  // of open pixels along it. Each pixel is marked once, so the seeds never outnumber the page's pixels.
  const seeds = new Int32Array(width * height + 1);
  let top = 0;
  seeds[top++] = start;
  while (top) {
    const seed = seeds[--top];
    if (mask[seed]) continue;
    const row = seed - (seed % width);
    let [a, b] = [seed, seed];
    while (a > row && !mask[a - 1] && open(a - 1)) a--;
    while (b < row + width - 1 && !mask[b + 1] && open(b + 1)) b++;
    mask.fill(1, a, b + 1);
    area += b - a + 1;
    const cy = row / width;
    if (a - row < box.x0) box.x0 = a - row;
    if (b - row > box.x1) box.x1 = b - row;
    if (cy < box.y0) box.y0 = cy;
    if (cy > box.y1) box.y1 = cy;
    for (const next of [cy > 0 ? -width : 0, cy < height - 1 ? width : 0]) {
      if (!next) continue;
      let inRun = false;
      for (let i = a + next; i <= b + next; i++) {
        const free = !mask[i] && open(i);
        if (free && !inRun) seeds[top++] = i;
        inRun = free;
      }
    }
  }
  return { mask, area, box };
}

/**
 * `core` grown towards its lines: each pixel within 2·reach of it (paths that never cross ink) joins it unless the
 * core of another region (the other pixels farther than `reach` from ink) is nearer, so the region reaches into its
 * corners but stops halfway through a gap, where the far side's pixels are nearer to their own region's core.
 */
function growInto(core: Region, width: number, height: number, ink: Uint8Array, reach: number, beyondReach: (i: number) => boolean): Region {
  const r = Math.ceil(2 * reach);
  const box = {
    x0: Math.max(0, core.box.x0 - r), y0: Math.max(0, core.box.y0 - r),
    x1: Math.min(width - 1, core.box.x1 + r), y1: Math.min(height - 1, core.box.y1 + r),
  };
  const others = new Uint8Array(width * height);
  for (let y = box.y0; y <= box.y1; y++) {
    for (let x = box.x0; x <= box.x1; x++) {
      const i = y * width + x;
      if (!core.mask[i] && !ink[i] && beyondReach(i)) others[i] = 1;
    }
  }
  const fromCore = chamferDistance(core.mask, width, box, 1, ink);
  const fromOthers = chamferDistance(others, width, box, 1, ink);
  const mask = new Uint8Array(width * height);
  let area = 0;
  const grown = { x0: box.x1, y0: box.y1, x1: box.x0, y1: box.y0 };
  for (let y = box.y0; y <= box.y1; y++) {
    for (let x = box.x0; x <= box.x1; x++) {
      const d = fromCore.at(x, y);
      if (ink[y * width + x] || d > 2 * reach || d > fromOthers.at(x, y)) continue;
      mask[y * width + x] = 1;
      area++;
      grown.x0 = Math.min(grown.x0, x);
      grown.x1 = Math.max(grown.x1, x);
      grown.y0 = Math.min(grown.y0, y);
      grown.y1 = Math.max(grown.y1, y);
    }
  }
  return { mask, area, box: grown };
}

/**
 * 3-4 chamfer distance (pixels) over `box` of the page to the nearest pixel whose `mask` value is `seedValue`,
 * never stepping onto a pixel of `walls`. Pixels outside the box are not seen: the box's edge is no boundary.
 */
function chamferDistance(mask: Uint8Array, width: number, box: { x0: number; y0: number; x1: number; y1: number }, seedValue: number, walls?: Uint8Array) {
  const { x0, y0, x1, y1 } = box;
  const [w, h] = [x1 - x0 + 1, y1 - y0 + 1];
  const d = new Float32Array(w * h);
  const wall = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y0 + y) * width + x0 + x;
      d[y * w + x] = mask[i] === seedValue ? 0 : Infinity;
      if (walls?.[i]) wall[y * w + x] = 1;
    }
  }
  const relax = (i: number, j: number, cost: number) => {
    if (!wall[i] && d[j] + cost < d[i]) d[i] = d[j] + cost;
  };
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (x > 0) relax(i, i - 1, 3);
      if (y > 0) {
        relax(i, i - w, 3);
        if (x > 0) relax(i, i - w - 1, 4);
        if (x < w - 1) relax(i, i - w + 1, 4);
      }
    }
  }
  for (let y = h - 1; y >= 0; y--) {
    for (let x = w - 1; x >= 0; x--) {
      const i = y * w + x;
      if (x < w - 1) relax(i, i + 1, 3);
      if (y < h - 1) {
        relax(i, i + w, 3);
        if (x < w - 1) relax(i, i + w + 1, 4);
        if (x > 0) relax(i, i + w - 1, 4);
      }
    }
  }
  // Chamfer units are thirds of a pixel; a pixel with no seed in reach stays Infinity.
  return { at: (x: number, y: number) => d[(y - y0) * w + (x - x0)] / 3 };
}

/** Whether the disc of `radius` around pixel (x, y)'s centre lies in the region (the page's edge is no boundary). */
function discInside(mask: Uint8Array, width: number, height: number, x: number, y: number, radius: number): boolean {
  const r = Math.floor(radius);
  for (let dy = -r; dy <= r; dy++) {
    if (y + dy < 0 || y + dy >= height) continue;
    for (let dx = -r; dx <= r; dx++) {
      if (dx * dx + dy * dy > radius * radius || x + dx < 0 || x + dx >= width) continue;
      if (!mask[(y + dy) * width + x + dx]) return false;
    }
  }
  return true;
}

/** Pixels `spacing` apart across [lo, hi], as many as fit about evenly, centred (a point every cell's middle). */
function gridLine(lo: number, hi: number, spacing: number): number[] {
  const length = hi - lo + 1;
  const n = Math.max(1, Math.round(length / spacing));
  const margin = (length - (n - 1) * spacing) / 2;
  return Array.from({ length: n }, (_, i) => Math.min(hi, Math.floor(lo + margin + i * spacing)));
}

/**
 * The dots that fill the region under page point (x, y) with dots `dotWidth` page pixels across (see the top of
 * this file), at most `maxDots`, gaps up to `closeGaps` page pixels closed; no dots when the point is ink or off
 * the page.
 */
export function fillRegion(image: RgbaPixels, x: number, y: number, dotWidth: number, { maxDots = MAX_FILL_DOTS, closeGaps = 0 } = {}): RegionFill {
  const region = enclosedRegion(image, x, y, closeGaps);
  if (!region) return { dots: [], area: 0, spacing: 0 };
  const { mask, area, box } = region;
  const radius = dotWidth / 2;
  const fits = (px: number, py: number) => mask[py * image.width + px] === 1 && discInside(mask, image.width, image.height, px, py, radius);
  const [cx, cy] = [Math.floor(x), Math.floor(y)];
  // The grid centred on the region's box, no denser than the cap allows for its area, widened while it has too many.
  const cap = Math.max(1, Math.floor(maxDots));
  const spacingForFew = Math.min(FILL_SPACING * dotWidth, Math.max(MIN_FILL_SPACING * dotWidth, Math.sqrt(area / FEW_DOTS)));
  let spacing = Math.max(spacingForFew, Math.sqrt(area / cap), 1);
  for (;;) {
    const dots: { x: number; y: number }[] = [];
    const [xs, ys] = [gridLine(box.x0, box.x1, spacing), gridLine(box.y0, box.y1, spacing)];
    for (const py of ys) for (const px of xs) if (fits(px, py)) dots.push({ x: px, y: py });
    if (dots.length > cap) {
      spacing *= Math.max(1.1, Math.sqrt(dots.length / cap));
      continue;
    }
    if (dots.length) return { dots, area, spacing };
    break;
  }
  // No grid point fits (a region narrower than the dot, or between grid lines): one dot at its most interior pixel,
  // the one nearest the click among equals.
  // Distance to the nearest pixel outside the region, over its box grown by one pixel (the page's edge is no boundary).
  const grown = { x0: Math.max(0, box.x0 - 1), y0: Math.max(0, box.y0 - 1), x1: Math.min(image.width - 1, box.x1 + 1), y1: Math.min(image.height - 1, box.y1 + 1) };
  const distance = chamferDistance(mask, image.width, grown, 0);
  let best = { x: cx, y: cy, d: -1, near: 0 };
  for (let py = box.y0; py <= box.y1; py++) {
    for (let px = box.x0; px <= box.x1; px++) {
      if (!mask[py * image.width + px]) continue;
      const d = distance.at(px, py);
      const near = Math.hypot(px - cx, py - cy);
      if (d > best.d || (d === best.d && near < best.near)) best = { x: px, y: py, d, near };
    }
  }
  return { dots: [{ x: best.x, y: best.y }], area, spacing: 0 };
}
