// What the app says about itself: the stage line and the busy indicator with its running time, the banner for a
// failure (with the way out that fits its kind) or a note, and which toolbar buttons can be used now.
//
// The banner only names its way out (`WayOut`); main.ts wires the button to the action, which lives in modules
// above this one (an engine restart, a recolour), so that they can report their own failures here.
import { EngineError, EngineRestarted } from './engine-client.js';
import type { ErrorKind } from './protocol.js';
import { $, page, shortSide, state, workingSizes } from './app-state.js';

/** The banner's button: restart the engine after a lost device, or retry a page too large at a smaller size. */
export type WayOut = { kind: 'restart-engine' } | { kind: 'use-size'; size: number };

let wayOut: WayOut | null = null;
/** What the banner's button offers now (null: it shows none). */
export const bannerWayOut = (): WayOut | null => wayOut;

let passStarted = 0;
let ticker = 0;

export function setStage(stage: string): void {
  $('stage').textContent = stage;
}

/** The recolour queue's busy flag: from the first piece of work queued until the queue is empty. */
export function setBusy(busy: boolean): void {
  state.busy = busy;
  document.body.dataset.busy = String(busy);
  $('progress').hidden = !busy;
  // The elapsed time ticks while the worker runs (the UI thread stays free), and stops with the work.
  clearInterval(ticker);
  ticker = 0;
  if (busy) {
    passStarted = performance.now();
    ticker = window.setInterval(() => ($('last-pass').textContent = `${((performance.now() - passStarted) / 1000).toFixed(1)} s…`), 100);
  }
  updateButtons();
}

const NO_WEBGPU_HELP =
  '\nWebGPU works in Chrome and Edge 113+ (Windows, macOS, ChromeOS, Android), Chrome on Linux with ' +
  '--enable-unsafe-webgpu (or chrome://flags/#enable-unsafe-webgpu), Safari 26+, and Firefox 141+ on Windows ' +
  '(elsewhere: dom.webgpu.enabled in about:config). WebGPU needs a secure page: localhost or https.';

/**
 * The working size to offer for a page too large at `current`: the largest of the `listed` sizes that fits; below
 * the list, the size that fits itself (a very long strip), as the command line suggests it (64 at least). Without
 * `fits` (the largest size that fits, when the worker knows it), the next size down is a guess worth offering.
 */
function smallerWorkingSize(listed: readonly number[], current: number, fits?: number): number | undefined {
  const smaller = listed.filter((v) => (fits === undefined ? v < current : v <= fits));
  return smaller.pop() ?? (fits !== undefined && fits >= 64 ? fits : undefined);
}

/** The banner for a failure; `fits` is, for a page too large, the largest working size that fits (0: none). */
export function showError(kind: ErrorKind, message: string, fits?: number): void {
  // Whatever was under way ("starting WebGPU…", "loading weights…") ended with this failure.
  setStage('');
  const banner = $('banner');
  banner.className = '';
  banner.dataset.kind = kind;
  wayOut = null;
  let text = message;
  if (kind === 'no-webgpu') {
    text += NO_WEBGPU_HELP;
    state.engineReady = false;
  } else if (kind === 'device-lost') {
    text = `The GPU device was lost: ${message}\nYour pages and hints are kept; restart the engine to continue.`;
    state.engineReady = false;
    wayOut = { kind: 'restart-engine' };
  } else if (kind === 'too-large') {
    const smaller = smallerWorkingSize(workingSizes(), shortSide(), fits);
    text = `${message}\nThis page at working size ${shortSide()} does not fit this device's limits.` + (smaller ? ` Try a smaller working size (${smaller}).` : '');
    if (smaller) wayOut = { kind: 'use-size', size: smaller };
  }
  const action = $<HTMLButtonElement>('banner-action');
  action.textContent = wayOut?.kind === 'restart-engine' ? 'Restart engine' : wayOut ? `Use ${wayOut.size}` : '';
  action.hidden = !wayOut;
  $('banner-text').textContent = text;
  banner.hidden = false;
  updateButtons();
}

export function showInfo(message: string): void {
  const banner = $('banner');
  banner.className = 'info';
  banner.dataset.kind = 'info';
  $('banner-text').textContent = message;
  $<HTMLButtonElement>('banner-action').hidden = true;
  wayOut = null;
  banner.hidden = false;
}

export function hideBanner(): void {
  $('banner').hidden = true;
}

/**
 * A failure as the banner. Two need no word: a request that an engine restart ended (the restart was the answer),
 * and one that failed on a device already reported lost (the banner offering the restart says it better).
 */
export function report(e: unknown): void {
  if (e instanceof EngineRestarted || (e instanceof EngineError && e.kind === 'device-lost' && !state.engineReady)) return;
  if (e instanceof EngineError) showError(e.kind, e.message, e.fits);
  else showError('internal', (e as Error).message);
}

/** Runs a user action, turning its failure into the banner. */
export async function guarded(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (e) {
    report(e);
  }
}

export function updateButtons(): void {
  const p = page();
  const ready = state.engineReady && state.weights !== null;
  const set = (id: string, enabled: boolean) => ($<HTMLButtonElement>(id).disabled = !enabled);
  set('recolour', ready && !!p);
  set('export-png', !!p?.result && !state.busy);
  set('export-cbz', ready && state.pages.length > 0 && !state.busy);
  set('undo', !!p?.history.canUndo);
  set('redo', !!p?.history.canRedo);
  set('clear', !!p?.history.dots.length);
  set('save-hints', !!p?.image);
  set('load-hints', !!p?.image);
  set('open-weights', state.engineReady);
  $('dot-count').textContent = p ? `${p.history.dots.length} dot${p.history.dots.length === 1 ? '' : 's'}` : '';
}
