// Messages between the UI (web/colouring.ts and web/model.ts send them) and the engine worker (web/worker.ts).
// Every request carries an id and gets exactly one reply with that id; progress and device loss arrive as events
// in between.
import type { Architecture } from '../src/colorize/model.js';
import type { BlendMode } from '../src/colorize/recombine.js';
import type { HintSet } from '../src/data/hints.js';
import type { Size } from '../src/data/resize.js';

/** Why something failed, so the UI can offer the right way out. */
export type ErrorKind =
  /** navigator.gpu missing or no adapter: say which browsers and flags work. */
  | 'no-webgpu'
  /** The device is gone: offer to restart the engine, keeping the hints. */
  | 'device-lost'
  /** A tensor of this page does not fit the device's limits: suggest a smaller working size. */
  | 'too-large'
  /** The weights file(s) are not a model this app can run (the strict report says why). */
  | 'weights'
  /** The page could not be read. */
  | 'page'
  | 'internal';

export interface WireError {
  kind: ErrorKind;
  message: string;
  /** For `too-large` from the page check: the largest working size that fits (0: none). */
  fits?: number;
}

export interface EngineInfo {
  adapter: string;
  software: boolean;
  maxStorageBufferMiB: number;
}

export interface ModelInfo {
  /** What was loaded, for the status line ("v1 generator, 31.8 M parameters, from …"). */
  description: string;
  arch: Architecture;
  /** The working size the generator was trained at (512 for v1, 576 for v2). */
  defaultSize: number;
}

export interface PageInfo {
  page: Size;
  /** The resized page inside the network's canvas (hint dots are sized in its pixels). */
  content: Size;
  canvas: Size;
  /** Time to prepare the page (line art, distance field, cached features), ms. */
  ms: number;
}

export interface ColorizeResult {
  /** RGBA, 8 bits, at the page's own resolution. */
  rgba: Uint8ClampedArray;
  width: number;
  height: number;
  /** Time of the pass, ms (from the request reaching the worker to the pixels being ready). */
  ms: number;
}

export type Request =
  | { type: 'init' }
  | { type: 'load-weights'; files: { name: string; bytes: ArrayBuffer }[] }
  /** Prepares a page from its 8-bit RGBA pixels; `shortSide` is the working size (512 for v1). */
  | { type: 'open-page'; pageId: string; rgba: Uint8ClampedArray; width: number; height: number; shortSide: number }
  | { type: 'colorize'; pageId: string; hints: HintSet; autoHint: boolean; blend: BlendMode };

export type RequestMessage = Request & { id: number };

export type WorkerMessage =
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: WireError }
  | { type: 'progress'; id: number; stage: string }
  | { type: 'device-lost'; message: string };

/** What each request resolves to. */
export interface Replies {
  init: EngineInfo;
  'load-weights': ModelInfo;
  'open-page': PageInfo;
  colorize: ColorizeResult;
}
