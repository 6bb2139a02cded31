// Colouring pages on the engine worker: the app's one engine client (web/engine-client.ts), the queue that every use
// of it goes through one at a time (web/recolour-queue.ts: passes, weight loads, exports), and the pass itself —
// the page sent once per working size, then its hint set per pass. The client lives here rather than in
// app-state.ts because its events go to the status line and the banner (web/status.ts), which read the state.
import { expandDots } from './hint-document.js';
import { decodeRgba } from './files.js';
import { EngineClient } from './engine-client.js';
import { RecolourQueue, type RecolourJob } from './recolour-queue.js';
import { $, blendMode, contentSize, page, resultKey, shortSide, state, view, type Page } from './app-state.js';
import { report, setBusy, setStage, showError } from './status.js';

export const engine = new EngineClient({
  progress: (stage) => setStage(stage),
  deviceLost: (message) => showError('device-lost', message),
});

/** Decodes the page's image once, when it is first shown or exported. */
export async function decodePage(p: Page): Promise<void> {
  if (p.image) return;
  p.image = await decodeRgba(p.source, p.name);
  p.bitmap = await createImageBitmap(p.image);
}

/** Makes sure the worker holds `p` at the current working size (line art, distance field, features). */
async function preparePage(p: Page): Promise<void> {
  const key = `${p.id}@${shortSide()}`;
  if (state.workerPage === key) return;
  await decodePage(p);
  state.workerPage = '';
  const { data, width, height } = p.image!;
  await engine.request({ type: 'open-page', pageId: p.id, rgba: new Uint8ClampedArray(data), width, height, shortSide: shortSide() });
  state.workerPage = key;
}

/** Colours page `p` with its hints into `p.result`; returns the time of the pass in ms. */
export async function colourPage(p: Page): Promise<number> {
  const started = performance.now();
  await preparePage(p);
  const hints = expandDots(p.history.dots, { width: p.image!.width, height: p.image!.height }, contentSize(p));
  const key = resultKey(p);
  const out = await engine.request({ type: 'colorize', pageId: p.id, hints, autoHint: $<HTMLInputElement>('auto-hint').checked, blend: blendMode() });
  const image = new ImageData(out.rgba as Uint8ClampedArray<ArrayBuffer>, out.width, out.height);
  p.result?.bitmap.close();
  p.result = { image, bitmap: await createImageBitmap(image), key };
  return performance.now() - started;
}

/** A pass the app asks for: the current page with its hints and settings (resultKey). */
interface PagePass extends RecolourJob {
  page: Page;
}

/** Every use of the engine worker, one at a time: recolour passes, weight loads, exports (web/recolour-queue.ts). */
export const queue = new RecolourQueue<PagePass>({
  wanted: () => {
    const p = page();
    return p && state.weights && state.engineReady ? { page: p, key: resultKey(p) } : null;
  },
  done: (pass) => pass.page.result?.key === pass.key,
  run: async ({ page: p }) => {
    const ms = await colourPage(p);
    if (page() === p) view.images = { page: p.bitmap, result: p.result!.bitmap };
    view.redraw();
    state.passes++;
    document.body.dataset.passes = String(state.passes);
    $('last-pass').textContent = `last pass ${(ms / 1000).toFixed(2)} s`;
    setStage('');
  },
  failed: (e) => {
    setStage('');
    report(e);
  },
  busyChanged: setBusy,
});

/**
 * Recolours the current page, once whatever runs has ended (requests meanwhile coalesce into one pass, of the page
 * current then); `force` repeats a pass whose result is there (the Colour button).
 */
export function recolour(force = false): Promise<void> {
  return queue.request(force);
}
