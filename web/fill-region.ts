// The fill-region tool's geometry (DOM-free): the enclosed region under a click, and where its dots go.
//
// The region is the 4-connected area of non-ink page pixels around the clicked one: the line art bounds it. A pixel
// is ink when its luma (the project's LUMA weights) is below FILL_INK_LUMA, halfway between black and white, so
// the grey anti-aliased edge of a line bounds a region as its black core does (a gap in the line lets the region
// through, as in any paint bucket).
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

export interface RegionFill {
  /** Page pixels of the dots, row by row. */
  dots: { x: number; y: number }[];
  /** Pixels in the region (0: the click was on ink or off the page). */
  area: number;
  /** The grid's spacing in page pixels (0 when no grid point fitted and one dot marks the region). */
  spacing: number;
}

/** The region's pixels (1) in the page, with its bounding box; null when (x, y) is ink or off the page. */
export function enclosedRegion(image: RgbaPixels, x: number, y: number): { mask: Uint8Array; area: number; box: { x0: number; y0: number; x1: number; y1: number } } | null {
  const { width, height, data } = image;
  const [px, py] = [Math.floor(x), Math.floor(y)];
  if (px < 0 || py < 0 || px >= width || py >= height) return null;
  const limit = FILL_INK_LUMA * 255;
  const [wr, wg, wb] = LUMA;
  const open = (i: number) => wr * data[4 * i] + wg * data[4 * i + 1] + wb * data[4 * i + 2] >= limit;
  if (!open(py * width + px)) return null;
  const mask = new Uint8Array(width * height);
  const box = { x0: px, y0: py, x1: px, y1: py };
  let area = 0;
  // Scanline fill: a seed grows into its whole run of the row, and the rows above and below get one seed per run
  // of open pixels along it. Each pixel is marked once, so the seeds never outnumber the page's pixels.
  const seeds = new Int32Array(width * height + 1);
  let top = 0;
  seeds[top++] = py * width + px;
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

/**
 * Distance (pixels, 3-4 chamfer) from each pixel of the box to the nearest pixel outside the region, over the box
 * grown by one pixel (clipped to the page): the page's edge is no boundary, a line is.
 */
function interiorDistance(mask: Uint8Array, width: number, height: number, box: { x0: number; y0: number; x1: number; y1: number }) {
  const [x0, y0] = [Math.max(0, box.x0 - 1), Math.max(0, box.y0 - 1)];
  const [x1, y1] = [Math.min(width - 1, box.x1 + 1), Math.min(height - 1, box.y1 + 1)];
  const [w, h] = [x1 - x0 + 1, y1 - y0 + 1];
  const d = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d[y * w + x] = mask[(y0 + y) * width + x0 + x] ? Infinity : 0;
  const relax = (i: number, j: number, cost: number) => {
    if (d[j] + cost < d[i]) d[i] = d[j] + cost;
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
  // Chamfer units are thirds of a pixel; a region with no pixel outside it in reach stays Infinity.
  return { at: (x: number, y: number) => d[(y - y0) * w + (x - x0)] / 3 };
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
 * this file); no dots when the point is ink or off the page.
 */
export function fillRegion(image: RgbaPixels, x: number, y: number, dotWidth: number, maxDots = MAX_FILL_DOTS): RegionFill {
  const region = enclosedRegion(image, x, y);
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
  const distance = interiorDistance(mask, image.width, image.height, box);
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
