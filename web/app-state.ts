// What every part of the app's UI thread shares, in one place: the open pages and the user's choices (`state`),
// the page view, the current page, and the toolbar settings a result depends on. The other modules of web/ import
// it; it imports none of them, so the UI's modules form a chain with no cycle (test/architecture.test.ts).
import { workingShortSide } from '../src/colorize/working-size.js';
import { DEFAULT_BLEND, isBlendMode, type BlendMode } from '../src/colorize/recombine.js';
import type { Architecture } from '../src/colorize/model.js';
import { workingSize, type Size } from '../src/data/resize.js';
import type { ChapterEntry } from './files.js';
import type { HintHistory } from './hint-document.js';
import { readSetting } from './storage.js';
import { PageView } from './viewer.js';

export type Tool = 'dot' | 'fill' | 'eraser' | 'eyedropper' | 'pan';

export interface Page {
  id: string;
  name: string;
  source: Blob;
  thumbnail: string;
  history: HintHistory;
  image: ImageData | null;
  bitmap: ImageBitmap | null;
  /** The last result and what made it (hints and working size), so exports know whether it is current. */
  result: { image: ImageData; bitmap: ImageBitmap; key: string } | null;
  /** The page's colourfulness, measured once when an export needs it (src/colorize/colourfulness.ts). */
  colourfulness: number | null;
}

export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

export const view = new PageView($<HTMLCanvasElement>('view'));

export const state = {
  pages: [] as Page[],
  current: -1,
  chapterName: '',
  /** The opened archive's entries in its own order, which Export CBZ keeps; null for pages opened as images. */
  chapterEntries: null as ChapterEntry[] | null,
  /** What the archive held that could not be read (left out of it, and of its export). */
  chapterSkipped: [] as string[],
  tool: 'dot' as Tool,
  colour: '#e03c3c',
  engineReady: false,
  /** The user picked or dropped weights (the initial model, stored or shipped, then stays out). */
  userChoseWeights: false,
  /** The weight files of the loaded model, kept to reload them into a restarted engine. */
  weights: null as { name: string; bytes: ArrayBuffer }[] | null,
  arch: 'v1' as Architecture,
  /** The page (and working size) the worker has prepared. */
  workerPage: '',
  /** Counts the models loaded, so a result made by an earlier one is not taken for current. */
  modelLoads: 0,
  busy: false,
  passes: 0,
  recent: readSetting<string[]>('recent-colours', []),
  documentPalette: readSetting<string[]>('document-palette', []),
};

export const page = (): Page | null => state.pages[state.current] ?? null;

export const shortSide = () => Number($<HTMLSelectElement>('working-size').value);
export const workingSizes = () => [...$<HTMLSelectElement>('working-size').options].map((o) => Number(o.value));

/** The page's size in model pixels (hint dots are sized in them), as resize_pad will make it. */
export function contentSize(p: Page): Size {
  const size = { width: p.image!.width, height: p.image!.height };
  return workingSize(size, workingShortSide(state.arch, size, shortSide()));
}

/** Sets the working size as picking it in the list does (a size not listed joins the list in order). */
export function setWorkingSize(size: number): void {
  const select = $<HTMLSelectElement>('working-size');
  if (!workingSizes().includes(size)) select.add(new Option(String(size)), select.options[workingSizes().findIndex((v) => v > size)] ?? null);
  select.value = String(size);
  const p = page();
  if (p?.image) view.modelScale = p.image.width / contentSize(p).width;
  view.redraw();
}

/** The blend chosen in the toolbar (src/colorize/recombine.ts). */
export const blendMode = (): BlendMode => {
  const value = $<HTMLSelectElement>('blend').value;
  return isBlendMode(value) ? value : DEFAULT_BLEND;
};

/** Everything a page's result depends on: the model, the working size, auto-hint, the blend and the dots. */
export const resultKey = (p: Page) => `${state.modelLoads}|${shortSide()}|${$<HTMLInputElement>('auto-hint').checked}|${blendMode()}|${JSON.stringify(p.history.dots)}`;
