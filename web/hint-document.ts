// The hints of one page as the user edits them: dots with a size, an undo/redo history, and the hint file the
// command line reads ({"width", "height", "hints": [{"x", "y", "color"}]}, src/data/hints.ts). A dot of size s
// covers a disc s model pixels across on the network's canvas (the model sees single-pixel hints, REFERENCE §2);
// it is saved as one page-pixel hint per covered model pixel, so `npm run colorize -- --hints` given the saved
// file feeds the generator exactly what the app did. The file also carries the dots themselves ("dots", which
// the command line ignores) so reloading it restores editable dots rather than a cloud of pixels.
import { dotOffsets, hintList, hintSet, MAX_DOT_SIZE, MIN_DOT_SIZE, parseHintJson, type HintSet, type UserHint } from '../src/data/hints.js';
import type { Size } from '../src/data/resize.js';

export { dotOffsets, MAX_DOT_SIZE, MIN_DOT_SIZE } from '../src/data/hints.js';

/** One dot: page pixel (x, y) (integers), colour "#rrggbb", size in model pixels (1–9). */
export interface Dot {
  x: number;
  y: number;
  color: string;
  size: number;
}

/** The model pixel a page pixel lands on, as placeHints computes it. */
const toModel = (v: number, page: number, content: number) => Math.min(Math.floor(((v + 0.5) * content) / page), content - 1);
/** A page pixel that lands on model pixel m (the one under m's centre). */
const toPage = (m: number, page: number, content: number) => Math.min(Math.floor(((m + 0.5) * page) / content), page - 1);

/** The hint set of some dots, as the worker and the command line take it (dotPixels). */
export function expandDots(dots: readonly Dot[], page: Size, content: Size): HintSet {
  return hintSet(page, dotPixels(dots, page, content));
}

/**
 * The page-pixel hints of some dots for a page of size `page` whose network canvas content is `content`. A
 * size-1 dot is its own pixel; larger dots give one pixel per covered model pixel (fewer when the page is
 * smaller than the canvas, where several model pixels share one page pixel).
 */
export function dotPixels(dots: readonly Dot[], page: Size, content: Size): UserHint[] {
  const hints: UserHint[] = [];
  for (const dot of dots) {
    const rgb = hexToRgb(dot.color);
    if (dot.size <= 1) {
      hints.push({ x: dot.x, y: dot.y, rgb });
      continue;
    }
    const [mx, my] = [toModel(dot.x, page.width, content.width), toModel(dot.y, page.height, content.height)];
    const seen = new Set<number>();
    for (const [dx, dy] of dotOffsets(dot.size)) {
      const [x, y] = [mx + dx, my + dy];
      if (x < 0 || y < 0 || x >= content.width || y >= content.height) continue;
      const [px, py] = [toPage(x, page.width, content.width), toPage(y, page.height, content.height)];
      if (seen.has(py * page.width + px)) continue;
      seen.add(py * page.width + px);
      hints.push({ x: px, y: py, rgb });
    }
  }
  return hints;
}

export function hexToRgb(hex: string): [number, number, number] {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) / 255, ((v >> 8) & 255) / 255, (v & 255) / 255];
}

export function rgbToHex(rgb: readonly number[]): string {
  return `#${rgb.map((c) => Math.round(Math.min(1, Math.max(0, c)) * 255).toString(16).padStart(2, '0')).join('')}`;
}

/** "#RRGGBB", "rrggbb" or "#rgb" → "#rrggbb"; null when it is not a colour. */
export function normaliseHex(text: string): string | null {
  const m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(text.trim());
  if (!m) return null;
  const h = m[1].length === 3 ? [...m[1]].map((c) => c + c).join('') : m[1];
  return `#${h.toLowerCase()}`;
}

/** The hint file for these dots (see the top of this file). */
export function hintsToJson(dots: readonly Dot[], page: Size, content: Size): string {
  const hints = dotPixels(dots, page, content);
  return JSON.stringify(
    {
      width: page.width,
      height: page.height,
      hints: hints.map((h) => ({ x: h.x, y: h.y, color: rgbToHex(h.rgb) })),
      dots: dots.map(({ x, y, color, size }) => ({ x, y, color, size })),
    },
    null,
    1,
  );
}

const hintKey = (h: { x: number; y: number; rgb: readonly number[] }) => `${h.x},${h.y},${rgbToHex(h.rgb)}`;

/**
 * Dots from a hint file, checked as the command line checks it (same errors) and against this page's size.
 * Its "dots" are used when they expand to exactly its "hints"; otherwise (a file written by hand or another
 * tool, or saved at another working size) every hint becomes a size-1 dot, which feeds the model the same.
 */
export function hintsFromJson(text: string, page: Size, content: Size, source = 'hints'): Dot[] {
  const set = parseHintJson(text, source);
  if (set.page.width !== page.width || set.page.height !== page.height) {
    throw new Error(`${source}: the hints were made for a ${set.page.width}×${set.page.height} page, but this page is ${page.width}×${page.height}.`);
  }
  const pixels = hintList(set).map((h) => ({ x: Math.floor(h.x), y: Math.floor(h.y), color: rgbToHex(h.rgb), size: 1 }));
  const dots = parseDots((JSON.parse(text) as { dots?: unknown }).dots, page);
  if (dots) {
    const expanded = dotPixels(dots, page, content).map(hintKey).sort();
    const given = pixels.map((d) => hintKey({ x: d.x, y: d.y, rgb: hexToRgb(d.color) })).sort();
    if (expanded.length === given.length && expanded.every((k, i) => k === given[i])) return dots;
  }
  return pixels;
}

function parseDots(value: unknown, page: Size): Dot[] | null {
  if (!Array.isArray(value)) return null;
  const dots: Dot[] = [];
  for (const d of value as Record<string, unknown>[]) {
    const color = typeof d?.color === 'string' ? normaliseHex(d.color) : null;
    const { x, y, size } = d ?? {};
    const ok =
      Number.isInteger(x) && Number.isInteger(y) && Number.isInteger(size) && color !== null &&
      (x as number) >= 0 && (x as number) < page.width && (y as number) >= 0 && (y as number) < page.height &&
      (size as number) >= MIN_DOT_SIZE && (size as number) <= MAX_DOT_SIZE;
    if (!ok) return null;
    dots.push({ x: x as number, y: y as number, color, size: size as number });
  }
  return dots;
}

/**
 * A brush stroke as dots (PaintsChainer's pen): points every `spacing` page pixels along the dragged path, its
 * first and last point included, as integer page pixels without repeats. Saved like any dots, so the command
 * line reads a stroke as the hints it is.
 */
export function strokeDots(path: readonly { x: number; y: number }[], spacing: number): { x: number; y: number }[] {
  const out: { x: number; y: number }[] = [];
  const push = (x: number, y: number) => {
    const [px, py] = [Math.floor(x), Math.floor(y)];
    if (!out.some((d) => d.x === px && d.y === py)) out.push({ x: px, y: py });
  };
  if (!path.length) return out;
  push(path[0].x, path[0].y);
  let carried = 0; // arc length since the last dot
  for (let i = 1; i < path.length; i++) {
    const [a, b] = [path[i - 1], path[i]];
    const length = Math.hypot(b.x - a.x, b.y - a.y);
    let along = spacing - carried;
    for (; along <= length; along += spacing) push(a.x + ((b.x - a.x) * along) / length, a.y + ((b.y - a.y) * along) / length);
    carried = length - (along - spacing);
  }
  const last = path[path.length - 1];
  push(last.x, last.y);
  return out;
}

/** The eraser's click: the dot nearest page point (x, y) among those whose `reach` covers it; null when none does. */
export function dotAt(dots: readonly Dot[], x: number, y: number, reach: (dot: Dot) => number): Dot | null {
  let best: Dot | null = null;
  let bestDistance = Infinity;
  for (const d of dots) {
    const distance = Math.hypot(d.x + 0.5 - x, d.y + 0.5 - y);
    if (distance <= reach(d) && distance < bestDistance) [best, bestDistance] = [d, distance];
  }
  return best;
}

/** The eraser's drag: whether the dot's centre lies in the rectangle with opposite corners a and b. */
export function dotInRect(dot: Dot, a: { x: number; y: number }, b: { x: number; y: number }): boolean {
  const [cx, cy] = [dot.x + 0.5, dot.y + 0.5];
  return cx >= Math.min(a.x, b.x) && cx <= Math.max(a.x, b.x) && cy >= Math.min(a.y, b.y) && cy <= Math.max(a.y, b.y);
}

/** A page's dots with undo and redo: every edit replaces the whole (small) list, so history is a list of lists. */
export class HintHistory {
  private past: Dot[][] = [];
  private future: Dot[][] = [];
  private current: Dot[] = [];

  get dots(): readonly Dot[] {
    return this.current;
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }

  /** Replaces the dots as one undoable step (no step when nothing changes). */
  set(dots: Dot[]): void {
    if (dots.length === this.current.length && dots.every((d, i) => d === this.current[i])) return;
    this.past.push(this.current);
    this.future = [];
    this.current = dots;
  }

  add(dot: Dot): void {
    this.set([...this.current, dot]);
  }

  /** Removes the dots for which `remove` is true; returns how many went. */
  removeWhere(remove: (dot: Dot) => boolean): number {
    const kept = this.current.filter((d) => !remove(d));
    const removed = this.current.length - kept.length;
    if (removed) this.set(kept);
    return removed;
  }

  undo(): boolean {
    const previous = this.past.pop();
    if (!previous) return false;
    this.future.push(this.current);
    this.current = previous;
    return true;
  }

  redo(): boolean {
    const next = this.future.pop();
    if (!next) return false;
    this.past.push(this.current);
    this.current = next;
    return true;
  }
}
