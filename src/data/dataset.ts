// The training set on disk: what one item holds, the manifest, and how an item is made from a colour image
// (REFERENCE §2: the colour image at the training size, an XDoG sketch per mult, and each sketch's distance
// field). Isomorphic: files are read and written by src/io/dataset.ts (Node) or a browser adapter.
import { distanceField } from './distance.js';
import { toGrey, type Plane } from './plane.js';
import { resizeArea, workingSize } from './resize.js';
import { xdog, type XdogPreset } from './xdog.js';

export const MANIFEST_VERSION = 1;

/** One training item: paths relative to the manifest's folder. */
export interface DatasetItem {
  id: string;
  /** Where the colour image came from (a path relative to the input, or a ZIP entry name). */
  source: string;
  width: number;
  height: number;
  colour: string;
  /** Sketch and distance field per mult (keys are the mults as strings). */
  sketches: Record<string, string>;
  fields: Record<string, string>;
  /** Real line art shipped with the source (OpenMoji's black SVGs), for domain-gap checks; never a training input. */
  lineart?: string;
}

export interface Manifest {
  version: number;
  size: number;
  mults: number[];
  preset: XdogPreset;
  items: DatasetItem[];
  /** Sources that could not be read or processed, with the reason. */
  failed: { source: string; error: string }[];
  /** Licence and attribution notes of the source material, when it needs them. */
  notice?: string;
}

/** Natural order: "page2" before "page10", case-insensitive. */
export const naturalCompare = new Intl.Collator('en', { numeric: true, sensitivity: 'base' }).compare;

/**
 * `count` of `list` spread evenly over it, in its order (the middle of each of `count` equal parts): a trial set
 * that samples every part of a sorted collection, where the first few would all be alike (OpenMoji's first
 * files are keycaps and flags).
 */
export function spreadSample<T>(list: readonly T[], count: number): T[] {
  if (count >= list.length) return [...list];
  return Array.from({ length: count }, (_, k) => list[Math.floor(((k + 0.5) * list.length) / count)]);
}

/**
 * A stable folder name for a source path: path separators become "__", anything unusual "_". Where that loses
 * something (two Japanese names of one length, `a/b.png` beside `a__b.png`), a hash of the source keeps ids
 * of different sources apart.
 */
export function itemId(source: string): string {
  const parts = source.replace(/\\/g, '/').replace(/^\/+/, '').split('/');
  const id = parts.map((part) => part.replace(/[^A-Za-z0-9._-]/g, '_')).join('__');
  const lossless = parts.join('/') === source && parts.every((part) => /^[A-Za-z0-9._-]*$/.test(part) && !part.includes('__'));
  return lossless ? id : `${id}~${fnv1a(source)}`;
}

/** FNV-1a (32-bit) of a string's UTF-16 code units, as 8 hex digits. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** File names of an item's planes inside its folder. */
export function itemFiles(id: string, mults: readonly number[], lineart = false): Omit<DatasetItem, 'source' | 'width' | 'height'> {
  const at = (name: string) => `items/${id}/${name}`;
  return {
    id,
    colour: at('colour.png'),
    sketches: Object.fromEntries(mults.map((m) => [String(m), at(`sketch-m${m}.png`)])),
    fields: Object.fromEntries(mults.map((m) => [String(m), at(`dfm-m${m}.png`)])),
    ...(lineart ? { lineart: at('lineart.png') } : {}),
  };
}

export interface BuiltItem {
  colour: Plane;
  sketches: Map<number, Plane>;
  fields: Map<number, Plane>;
}

/**
 * The planes of one item: the colour image area-resized so its short side is `size` (the training crops are
 * size×size), then per mult the XDoG sketch and its distance field.
 */
export async function buildItem(image: Plane, size: number, mults: readonly number[], preset: XdogPreset = 'code'): Promise<BuiltItem> {
  const target = workingSize(image, size);
  const colour = resizeArea(image, target.width, target.height);
  const sketches = new Map<number, Plane>();
  const fields = new Map<number, Plane>();
  const grey = toGrey(colour);
  for (const mult of mults) {
    const sketch = await xdog(grey, { mult, preset });
    sketches.set(mult, sketch);
    fields.set(mult, distanceField(sketch));
  }
  return { colour, sketches, fields };
}
