// Hint files for colorize (browser-neutral): one page's hints, or a batch file with hints per page name and a
// palette of named colours shared by every page (one character's hair the same colour on every page).
//
//   one page (src/data/hints.ts):  {"width": W, "height": H, "hints": [{"x": .., "y": .., "color": "#rrggbb"}]}
//   batch:                         {"palette": {"hair": "#d9a13b"},
//                                   "pages": {"003.png": {"width": .., "height": .., "hints": [{.., "color": "hair"}]}}}
//
// A page of the batch is found by its name relative to the input (a folder's relative path, an archive's
// entry name, a file's name), or by its base name when that is unique in the file. A hint PNG (alpha marks the
// hint pixels) is the one-page form.
//
// API
//   parseHintsFile(text, source) → HintsFile;  hintsForPage(file, name) → HintSet | null
//   unusedPageNames(file, names) → names in the file that match no page (likely typos)
import { parseHintObject, parsePalette, type HintSet, type Palette } from '../data/hints.js';

export type HintsFile = { kind: 'page'; hints: HintSet } | { kind: 'batch'; pages: Map<string, HintSet>; palette: Palette };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseHintsFile(text: string, source: string): HintsFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not valid JSON (${(e as Error).message}).`);
  }
  if (!isObject(json)) throw new Error(`${source}: expected a hints object, {"width", "height", "hints"} for one page or {"palette", "pages"} for several.`);
  const palette = json.palette === undefined ? new Map() : parsePalette(json.palette, source);
  if (json.pages === undefined) return { kind: 'page', hints: parseHintObject(json, source, palette) };
  if (!isObject(json.pages)) throw new Error(`${source}: "pages" must be an object mapping page names to hints, e.g. {"001.png": {"width": .., "height": .., "hints": [..]}}.`);
  const pages = new Map<string, HintSet>();
  for (const [name, page] of Object.entries(json.pages)) pages.set(name, parseHintObject(page, `${source}: page "${name}"`, palette));
  return { kind: 'batch', pages, palette };
}

const baseName = (name: string) => name.slice(name.lastIndexOf('/') + 1);

/** The batch entry whose key equals the name, or whose key is the page's base name when only one key is. */
function batchKey(pages: Map<string, HintSet>, name: string): string | null {
  const normalised = name.replaceAll('\\', '/');
  if (pages.has(normalised)) return normalised;
  const base = baseName(normalised);
  const matches = [...pages.keys()].filter((k) => k === base);
  return matches.length === 1 ? matches[0] : null;
}

/** The hints of page `name`: the one-page file's for every page, the batch entry's, or null. */
export function hintsForPage(file: HintsFile, name: string): HintSet | null {
  if (file.kind === 'page') return file.hints;
  const key = batchKey(file.pages, name);
  return key === null ? null : file.pages.get(key)!;
}

/** Names in a batch file that no page matched. */
export function unusedPageNames(file: HintsFile, names: readonly string[]): string[] {
  if (file.kind === 'page') return [];
  const used = new Set(names.map((n) => batchKey(file.pages, n)));
  return [...file.pages.keys()].filter((k) => !used.has(k));
}
