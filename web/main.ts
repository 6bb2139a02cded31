// The browser app's UI thread: pages, hint tools, the result view and exports. The engine runs in a worker
// (web/worker.ts) so the UI never waits on the GPU; this file only sends it pages, weights and hint sets.
import { colourfulness, COLOUR_THRESHOLD } from '../src/colorize/colourfulness.js';
import { workingShortSide } from '../src/colorize/working-size.js';
import { DEFAULT_BLEND, isBlendMode, type BlendMode } from '../src/colorize/recombine.js';
import { evalSummary, type EvalJson } from '../src/eval/summary.js';
import type { Architecture } from '../src/colorize/model.js';
import { planeFromBytes } from '../src/data/plane.js';
import { workingSize, type Size } from '../src/data/resize.js';
import { EngineClient, EngineError, EngineRestarted } from './engine-client.js';
import { exportedEntries, exportReport, unreadableEntries, type PageOutcome } from './chapter-export.js';
import { DEFAULT_CLOSE_GAPS, fillRegion } from './fill-region.js';
import { decodeRgba, download, encodePng, fileRole, readChapter, stem, writeChapter, type ChapterEntry, type PageSource } from './files.js';
import { expandDots, hintsFromJson, hintsToJson, HintHistory, MAX_DOT_SIZE, MIN_DOT_SIZE, normaliseHex, strokeDots, type Dot } from './hint-document.js';
import type { ErrorKind, ModelInfo } from './protocol.js';
import { loadStoredWeights, readSetting, saveWeights, writeSetting } from './storage.js';
import { RecolourQueue, type RecolourJob } from './recolour-queue.js';
import { PageView } from './viewer.js';

const SWATCHES = ['#f2d3c0', '#e8b796', '#c68863', '#1b1b1b', '#5a3a22', '#d9a13b', '#f0e08a', '#e03c3c', '#f08aa8', '#9b59b6', '#2e5fa8', '#5fa8e0', '#2f8f4e', '#9ccc65', '#ffffff', '#8a8f99'];
const RECENT_LIMIT = 12;

type Tool = 'dot' | 'fill' | 'eraser' | 'eyedropper' | 'pan';

interface Page {
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

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

const view = new PageView($<HTMLCanvasElement>('view'));
const engine = new EngineClient({
  progress: (stage) => setStage(stage),
  deviceLost: (message) => showError('device-lost', message),
});

const state = {
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

const page = (): Page | null => state.pages[state.current] ?? null;
const shortSide = () => Number($<HTMLSelectElement>('working-size').value);
/** The page's size in model pixels (hint dots are sized in them), as resize_pad will make it. */
function contentSize(p: Page): Size {
  const size = { width: p.image!.width, height: p.image!.height };
  return workingSize(size, workingShortSide(state.arch, size, shortSide()));
}
const workingSizes = () => [...$<HTMLSelectElement>('working-size').options].map((o) => Number(o.value));

/** Sets the working size as picking it in the list does (a size not listed joins the list in order). */
function setWorkingSize(size: number): void {
  const select = $<HTMLSelectElement>('working-size');
  if (!workingSizes().includes(size)) select.add(new Option(String(size)), select.options[workingSizes().findIndex((v) => v > size)] ?? null);
  select.value = String(size);
  const p = page();
  if (p?.image) view.modelScale = p.image.width / contentSize(p).width;
  view.redraw();
}
/** The blend chosen in the toolbar (src/colorize/recombine.ts). */
const blendMode = (): BlendMode => {
  const value = $<HTMLSelectElement>('blend').value;
  return isBlendMode(value) ? value : DEFAULT_BLEND;
};
const resultKey = (p: Page) => `${state.modelLoads}|${shortSide()}|${$<HTMLInputElement>('auto-hint').checked}|${blendMode()}|${JSON.stringify(p.history.dots)}`;

// ---- status, progress and errors ----

let passStarted = 0;
let ticker = 0;

function setStage(stage: string): void {
  $('stage').textContent = stage;
}

/** The recolour queue's busy flag: from the first piece of work queued until the queue is empty. */
function setBusy(busy: boolean): void {
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

/** The banner for a failure; `fits` is, for a page too large, the largest working size that fits (0: none). */
function showError(kind: ErrorKind, message: string, fits?: number): void {
  // Whatever was under way ("starting WebGPU…", "loading weights…") ended with this failure.
  setStage('');
  const banner = $('banner');
  banner.className = '';
  banner.dataset.kind = kind;
  const action = $<HTMLButtonElement>('banner-action');
  action.hidden = true;
  let text = message;
  if (kind === 'no-webgpu') {
    text += NO_WEBGPU_HELP;
    state.engineReady = false;
  } else if (kind === 'device-lost') {
    text = `The GPU device was lost: ${message}\nYour pages and hints are kept; restart the engine to continue.`;
    state.engineReady = false;
    action.textContent = 'Restart engine';
    action.hidden = false;
    action.onclick = () => void restartEngine();
  } else if (kind === 'too-large') {
    // The largest listed size that fits; below the list, the size that fits itself (a very long strip), as the
    // command line suggests it (64 at least). Without `fits`, the next size down is a guess worth offering.
    const listed = workingSizes().filter((v) => (fits === undefined ? v < shortSide() : v <= fits));
    const smaller = listed.pop() ?? (fits !== undefined && fits >= 64 ? fits : undefined);
    text = `${message}\nThis page at working size ${shortSide()} does not fit this device's limits.` + (smaller ? ` Try a smaller working size (${smaller}).` : '');
    if (smaller) {
      action.textContent = `Use ${smaller}`;
      action.hidden = false;
      action.onclick = () => {
        setWorkingSize(smaller);
        hideBanner();
        void recolour();
      };
    }
  }
  $('banner-text').textContent = text;
  banner.hidden = false;
  updateButtons();
}

function showInfo(message: string): void {
  const banner = $('banner');
  banner.className = 'info';
  banner.dataset.kind = 'info';
  $('banner-text').textContent = message;
  $<HTMLButtonElement>('banner-action').hidden = true;
  banner.hidden = false;
}

function hideBanner(): void {
  $('banner').hidden = true;
}

/**
 * A failure as the banner. Two need no word: a request that an engine restart ended (the restart was the answer),
 * and one that failed on a device already reported lost (the banner offering the restart says it better).
 */
function report(e: unknown): void {
  if (e instanceof EngineRestarted || (e instanceof EngineError && e.kind === 'device-lost' && !state.engineReady)) return;
  if (e instanceof EngineError) showError(e.kind, e.message, e.fits);
  else showError('internal', (e as Error).message);
}

/** Runs a user action, turning its failure into the banner. */
async function guarded(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (e) {
    report(e);
  }
}

function updateButtons(): void {
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

// ---- engine and weights ----

async function initEngine(): Promise<void> {
  setStage('starting WebGPU…');
  const info = await engine.request({ type: 'init' });
  state.engineReady = true;
  setStage('');
  gpuName = info.adapter;
  $('model-status').title = `GPU: ${gpuName}`;
  updateButtons();
}

/** What the build put beside the app (scripts/build-web.mjs), read once. */
interface AppConfig {
  defaultModel: string | null;
  examplePage: string | null;
  /** The shipped model's `npm run eval` scores, shown while it is in use. */
  defaultModelEval?: string | null;
}
let appConfigRead: Promise<AppConfig | null> | null = null;
const appConfig = () => (appConfigRead ??= fetch('app-config.json').then((r) => (r.ok ? (r.json() as Promise<AppConfig>) : null), () => null));

/** Whether the loaded model is the one the build shipped (its note then says it is a small demonstration model). */
let shippedModel = false;
/** The adapter, shown in the model note's tooltip. */
let gpuName = '';

/** Loads a model into the worker, which gets copies: the originals stay here for an engine restart and for storage. */
function sendWeights(files: { name: string; bytes: ArrayBuffer }[], shipped = false): Promise<ModelInfo> {
  return queue.exclusive(async () => {
    setStage('loading weights…');
    try {
      const info = await engine.request({ type: 'load-weights', files: files.map((f) => ({ name: f.name, bytes: f.bytes.slice(0) })) });
      // Other weights make other results (the same ones, reloaded into a restarted engine, do not).
      if (files !== state.weights) state.modelLoads++;
      state.weights = files;
      state.arch = info.arch;
      state.workerPage = '';
      shippedModel = shipped;
      const status = $('model-status');
      status.textContent = shipped ? 'model: the small shipped one' : `model: ${info.description}`;
      const note = shipped
        ? `${info.description}. It shows the whole pipeline working, not the published system's quality: open the published weights (Weights…) for real pages.`
        : info.description;
      status.title = `${note}\nGPU: ${gpuName}`;
      status.classList.remove('muted');
      return info;
    } finally {
      setStage('');
    }
  });
}

/** Loads a model; weights the user `chose` (picked or dropped) are remembered by the browser. */
async function loadWeights(files: { name: string; bytes: ArrayBuffer }[], chose: boolean, shipped = false): Promise<void> {
  if (chose) state.userChoseWeights = true;
  $('model-eval').hidden = true; // the shipped model's scores, shown only while it is the one in use
  const info = await sendWeights(files, shipped);
  setWorkingSize(info.defaultSize);
  if (chose) await saveWeights(files).catch((e: Error) => showInfo(`The weights work but could not be remembered by this browser (${e.message}).`));
  await recolour();
}

/** The user's last weights, else the project's default model when the build shipped one (app-config.json). */
async function loadInitialWeights(): Promise<void> {
  const stored = await loadStoredWeights().catch(() => undefined);
  // Weights the user gave while these were read (or fetched, below) stand: a late initial model must not replace them.
  if (state.userChoseWeights) return;
  if (stored?.files.length) {
    await loadWeights(stored.files, false);
    return;
  }
  const config = await appConfig();
  if (!config?.defaultModel) return;
  setStage('loading the default model…');
  const response = await fetch(config.defaultModel);
  if (!response.ok) throw new Error(`The default model ${config.defaultModel} could not be loaded (HTTP ${response.status}); open weights with "Weights…".`);
  const bytes = await response.arrayBuffer();
  if (state.userChoseWeights) return;
  await loadWeights([{ name: config.defaultModel.split('/').pop()!, bytes }], false, true);
  if (state.userChoseWeights || !config.defaultModelEval) return;
  // One line naming the shipped model and its scores from `npm run eval` (models/README.md has the table).
  const scores = (await fetch(config.defaultModelEval).then((r) => (r.ok ? r.json() : null), () => null)) as EvalJson | null;
  if (!scores || state.userChoseWeights) return;
  // The header keeps one row: the line is cut to fit, and its whole text is the tooltip.
  $('model-eval').textContent = `shipped demo model (models/README.md): ${evalSummary(scores)}`;
  $('model-eval').title = $('model-eval').textContent!;
  $('model-eval').hidden = false;
}

async function restartEngine(): Promise<void> {
  hideBanner();
  // The pass waiting for the old worker would fail with it; the pass after the restart colours what is current.
  queue.cancel();
  engine.restart();
  state.engineReady = false;
  state.workerPage = '';
  await initEngine();
  // Only the device changed: the same model at the working size the user chose, not the model's default.
  if (state.weights) await sendWeights(state.weights, shippedModel);
  await recolour(true);
}

// ---- pages ----

async function openPages(sources: PageSource[], chapterName: string, entries: ChapterEntry[] | null = null, skipped: string[] = []): Promise<void> {
  for (const p of state.pages) URL.revokeObjectURL(p.thumbnail);
  state.pages = sources.map((s, i) => ({
    id: `${Date.now()}-${i}`,
    name: s.name,
    source: s.blob,
    thumbnail: URL.createObjectURL(s.blob),
    history: new HintHistory(),
    image: null,
    bitmap: null,
    result: null,
    colourfulness: null,
  }));
  state.chapterName = chapterName;
  state.chapterEntries = entries;
  state.chapterSkipped = skipped;
  renderStrip();
  await selectPage(0);
}

function renderStrip(): void {
  const strip = $('strip');
  strip.replaceChildren();
  if (state.pages.length < 2) return;
  state.pages.forEach((p, i) => {
    const button = document.createElement('button');
    button.className = i === state.current ? 'current' : '';
    button.title = p.name;
    const img = document.createElement('img');
    img.src = p.thumbnail;
    img.alt = '';
    const label = document.createElement('span');
    label.textContent = `${i + 1}. ${stem(p.name)}`;
    button.append(img, label);
    button.onclick = () => void guarded(() => selectPage(i));
    strip.append(button);
  });
}

async function decodePage(p: Page): Promise<void> {
  if (p.image) return;
  p.image = await decodeRgba(p.source, p.name);
  p.bitmap = await createImageBitmap(p.image);
}

async function selectPage(index: number): Promise<void> {
  state.current = index;
  const p = page()!;
  await decodePage(p);
  // Another page (or chapter) was picked while this one decoded: that choice stands.
  if (page() !== p) return;
  view.images = { page: p.bitmap, result: p.result?.bitmap ?? null };
  view.modelScale = p.image!.width / contentSize(p).width;
  view.dots = p.history.dots;
  $('empty').hidden = true;
  view.fit();
  renderStrip();
  updateButtons();
  if (state.weights && !p.result && $<HTMLInputElement>('auto-recolour').checked) await recolour();
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

/** Colours page `p` with its hints; returns the result and the time of the pass. */
async function colourPage(p: Page): Promise<number> {
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
const queue = new RecolourQueue<PagePass>({
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
function recolour(force = false): Promise<void> {
  return queue.request(force);
}

function hintsChanged(): void {
  const p = page();
  view.dots = p?.history.dots ?? [];
  view.redraw();
  updateButtons();
  if ($<HTMLInputElement>('auto-recolour').checked) void recolour();
}

// ---- colours ----

function setColour(hex: string): void {
  state.colour = hex;
  $<HTMLInputElement>('colour').value = hex;
  $<HTMLInputElement>('hex').value = hex;
  for (const b of document.querySelectorAll<HTMLButtonElement>('.swatches button')) b.classList.toggle('selected', b.dataset.colour === hex);
}

function swatch(hex: string, onRemove?: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.dataset.colour = hex;
  b.title = onRemove ? `${hex} (right-click to remove)` : hex;
  b.style.background = hex;
  b.onclick = () => setColour(hex);
  if (onRemove) {
    b.oncontextmenu = (e) => {
      e.preventDefault();
      onRemove();
    };
  }
  return b;
}

function renderSwatches(): void {
  $('swatches').replaceChildren(...SWATCHES.map((c) => swatch(c)));
  $('recent').replaceChildren(...state.recent.map((c) => swatch(c)));
  $('document-palette').replaceChildren(
    ...state.documentPalette.map((c) =>
      swatch(c, () => {
        state.documentPalette = state.documentPalette.filter((x) => x !== c);
        writeSetting('document-palette', state.documentPalette);
        renderSwatches();
      }),
    ),
  );
  setColour(state.colour);
}

function useColour(hex: string): void {
  state.recent = [hex, ...state.recent.filter((c) => c !== hex)].slice(0, RECENT_LIMIT);
  writeSetting('recent-colours', state.recent);
  renderSwatches();
}

function pickFrom(image: ImageData, x: number, y: number): void {
  const [px, py] = [Math.floor(x), Math.floor(y)];
  if (px < 0 || py < 0 || px >= image.width || py >= image.height) return;
  const i = 4 * (py * image.width + px);
  setColour(`#${[0, 1, 2].map((c) => image.data[i + c].toString(16).padStart(2, '0')).join('')}`);
}

// ---- pointer tools on the page ----

let drag: { startX: number; startY: number; lastX: number; lastY: number; pan: boolean; page0: { x: number; y: number }; path: { x: number; y: number }[] } | null = null;
let spaceHeld = false;

function setTool(tool: Tool): void {
  state.tool = tool;
  $<HTMLInputElement>(`tool-${tool}`)?.click();
  $('viewport').className = `tool-${tool}`;
}

function setDotSize(size: number): void {
  const s = Math.min(MAX_DOT_SIZE, Math.max(MIN_DOT_SIZE, size));
  $<HTMLInputElement>('dot-size').value = String(s);
  $('dot-size-value').textContent = String(s);
}

function eraseAt(x: number, y: number): void {
  const p = page()!;
  // The nearest dot under the pointer (its drawn radius, at least 6 screen pixels).
  let best: Dot | null = null;
  let bestDistance = Infinity;
  for (const d of p.history.dots) {
    const distance = Math.hypot(d.x + 0.5 - x, d.y + 0.5 - y);
    const reach = Math.max((d.size * view.modelScale) / 2, 6 / view.zoom);
    if (distance <= reach && distance < bestDistance) [best, bestDistance] = [d, distance];
  }
  if (best && p.history.removeWhere((d) => d === best)) hintsChanged();
}

/** The fill tool: dots over the enclosed region under (x, y) (web/fill-region.ts), one undo step. */
function fillAt(p: Page, x: number, y: number, size: number): void {
  const closeGaps = Number($<HTMLSelectElement>('close-gaps').value);
  const { dots } = fillRegion(p.image!, x, y, (size * p.image!.width) / contentSize(p).width, { closeGaps });
  if (!dots.length) {
    showInfo('That is a line of the page: the fill tool colours the region a click lands in, between the lines.');
    return;
  }
  p.history.set([...p.history.dots, ...dots.map((d) => ({ ...d, color: state.colour, size }))]);
  useColour(state.colour);
  hintsChanged();
}

function setupPointer(): void {
  const canvas = view.canvas;
  canvas.addEventListener('pointerdown', (e) => {
    const p = page();
    // The right button opens the context menu; it neither places, erases nor picks.
    if (!p?.image || e.button > 1) return;
    canvas.setPointerCapture(e.pointerId);
    const at = view.toPage(e.clientX, e.clientY);
    const pan = state.tool === 'pan' || spaceHeld || e.button === 1;
    drag = { startX: e.clientX, startY: e.clientY, lastX: e.clientX, lastY: e.clientY, pan, page0: at, path: [at] };
    if (pan) $('viewport').classList.add('panning');
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!drag) return;
    if (drag.pan) view.panBy(e.clientX - drag.lastX, e.clientY - drag.lastY);
    else if (state.tool === 'dot') drag.path.push(view.toPage(e.clientX, e.clientY));
    else if (state.tool === 'eraser') {
      const at = view.toPage(e.clientX, e.clientY);
      view.selection = { x0: drag.page0.x, y0: drag.page0.y, x1: at.x, y1: at.y };
      view.redraw();
    }
    [drag.lastX, drag.lastY] = [e.clientX, e.clientY];
  });
  canvas.addEventListener('pointerup', (e) => {
    const d = drag;
    drag = null;
    $('viewport').classList.remove('panning');
    const p = page();
    if (!d || d.pan || !p?.image) return;
    const at = view.toPage(e.clientX, e.clientY);
    const inside = at.x >= 0 && at.y >= 0 && at.x < p.image.width && at.y < p.image.height;
    const moved = Math.hypot(e.clientX - d.startX, e.clientY - d.startY) > 4;
    const size = Number($<HTMLInputElement>('dot-size').value);
    if (state.tool === 'dot' && moved) {
      // A drag paints a stroke: dots one dot-width apart along the path, one undo step.
      const spacing = Math.max(1, (size * p.image.width) / contentSize(p).width);
      const on = (d: { x: number; y: number }) => d.x >= 0 && d.y >= 0 && d.x < p.image!.width && d.y < p.image!.height;
      const stroke = strokeDots([...d.path, at], spacing).filter(on);
      if (stroke.length) {
        p.history.set([...p.history.dots, ...stroke.map((s) => ({ ...s, color: state.colour, size }))]);
        useColour(state.colour);
        hintsChanged();
      }
    } else if (state.tool === 'dot' && inside) {
      p.history.add({ x: Math.floor(at.x), y: Math.floor(at.y), color: state.colour, size });
      useColour(state.colour);
      hintsChanged();
    } else if (state.tool === 'fill' && inside && !moved) {
      fillAt(p, at.x, at.y, size);
    } else if (state.tool === 'eraser') {
      view.selection = null;
      if (moved) {
        const [x0, x1] = [Math.min(d.page0.x, at.x), Math.max(d.page0.x, at.x)];
        const [y0, y1] = [Math.min(d.page0.y, at.y), Math.max(d.page0.y, at.y)];
        if (p.history.removeWhere((dot) => dot.x + 0.5 >= x0 && dot.x + 0.5 <= x1 && dot.y + 0.5 >= y0 && dot.y + 0.5 <= y1)) hintsChanged();
        else view.redraw();
      } else eraseAt(at.x, at.y);
    } else if (state.tool === 'eyedropper' && inside) {
      const fromResult = p.result && at.x < view.split * p.image.width;
      pickFrom(fromResult ? p.result!.image : p.image, at.x, at.y);
    }
  });
  canvas.addEventListener(
    'wheel',
    (e) => {
      e.preventDefault();
      if ((state.tool === 'dot' || state.tool === 'fill') && !e.ctrlKey && !e.metaKey) setDotSize(Number($<HTMLInputElement>('dot-size').value) + (e.deltaY < 0 ? 1 : -1));
      else view.zoomAt(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.clientX, e.clientY);
    },
    { passive: false },
  );
}

// ---- files in ----

async function handleFiles(files: File[]): Promise<void> {
  const weights = files.filter((f) => fileRole(f) === 'weights');
  const chapter = files.find((f) => fileRole(f) === 'chapter');
  const images = files.filter((f) => fileRole(f) === 'image');
  const hints = files.find((f) => fileRole(f) === 'hints');
  const unknown = files.filter((f) => fileRole(f) === null);
  if (unknown.length) {
    showError('page', `${unknown.map((f) => f.name).join(', ')}: not a weights file (.safetensors, .pth, .pt), an image, a CBZ/ZIP chapter or a hints .json.`);
  }
  if (weights.length) await loadWeights(await Promise.all(weights.map(async (f) => ({ name: f.name, bytes: await f.arrayBuffer() }))), true);
  if (chapter) {
    const { pages, entries, skipped } = readChapter(new Uint8Array(await chapter.arrayBuffer()), chapter.name);
    if (skipped.length) showError('page', unreadableEntries(skipped));
    await openPages(pages, stem(chapter.name), entries, skipped);
  }
  else if (images.length) await openPages(images.map((f) => ({ name: f.name, blob: f })), images.length === 1 ? stem(images[0].name) : 'pages');
  if (hints) await loadHints(hints);
}

async function loadHints(file: File): Promise<void> {
  const p = page();
  if (!p?.image) throw new Error('Open a page before loading its hints.');
  const dots = hintsFromJson(await file.text(), { width: p.image.width, height: p.image.height }, contentSize(p), file.name);
  p.history.set(dots);
  hintsChanged();
}

function pickFile(input: HTMLInputElement): Promise<File[]> {
  return new Promise((resolve) => {
    input.value = '';
    input.onchange = () => resolve([...(input.files ?? [])]);
    input.click();
  });
}

// ---- exports ----

async function exportPng(): Promise<void> {
  const p = page();
  if (!p?.result) return;
  download(await encodePng(p.result.image), `${stem(p.name)}_colorized.png`, 'image/png');
}

/** The page's colourfulness by the command line's rule (src/colorize/colourfulness.ts), measured once. */
function pageColourfulness(p: Page): number {
  const { data, width, height } = p.image!;
  p.colourfulness ??= colourfulness(planeFromBytes(data, width, height, 4));
  return p.colourfulness;
}

/**
 * The chapter as a CBZ, as the command line writes one (web/chapter-export.ts): grey pages coloured with their own
 * dots, pages already in colour and pages that cannot be read left as they were. Passes asked for meanwhile run after it.
 */
function exportChapter(): Promise<void> {
  return queue.exclusive(async () => {
    const outcomes = new Map<string, PageOutcome>();
    try {
      for (const [i, p] of state.pages.entries()) {
        setStage(`page ${i + 1} of ${state.pages.length}…`);
        try {
          await decodePage(p);
        } catch (e) {
          outcomes.set(p.name, { kind: 'unreadable', error: (e as Error).message });
          continue;
        }
        const m = pageColourfulness(p);
        if (m >= COLOUR_THRESHOLD) {
          outcomes.set(p.name, { kind: 'in-colour', colourfulness: m });
          continue;
        }
        if (p.result?.key !== resultKey(p)) await colourPage(p);
        outcomes.set(p.name, { kind: 'coloured', png: await encodePng(p.result!.image) });
      }
      const entries = state.chapterEntries ?? (await Promise.all(state.pages.map(async (p) => ({ name: p.name, bytes: new Uint8Array(await p.source.arrayBuffer()) }))));
      download(writeChapter(exportedEntries(entries, outcomes)), `${state.chapterName || 'chapter'}_colorized.cbz`, 'application/vnd.comicbook+zip');
      const current = page();
      if (current) view.images = { page: current.bitmap, result: current.result?.bitmap ?? null };
      view.redraw();
    } finally {
      setStage('');
    }
    const report = exportReport(outcomes, state.chapterSkipped);
    if (report?.kind === 'error') showError('page', report.text);
    else if (report) showInfo(report.text);
  });
}

// ---- wiring ----

function setup(): void {
  renderSwatches();
  setupPointer();
  for (const input of document.querySelectorAll<HTMLInputElement>('input[name=tool]')) {
    input.id = `tool-${input.value}`;
    input.onchange = () => {
      state.tool = input.value as Tool;
      $('viewport').className = `tool-${state.tool}`;
    };
  }
  $('viewport').className = 'tool-dot';
  const click = (id: string, action: () => Promise<void> | void) => ($(id).onclick = () => void guarded(async () => action()));
  click('open-weights', async () => {
    const files = await pickFile($<HTMLInputElement>('weights-input'));
    if (files.length) await loadWeights(await Promise.all(files.map(async (f) => ({ name: f.name, bytes: await f.arrayBuffer() }))), true);
  });
  click('open-page', async () => handleFiles(await pickFile($<HTMLInputElement>('page-input'))));
  click('try-example', async () => {
    const path = (await appConfig())?.examplePage;
    if (!path) return;
    const response = await fetch(path);
    if (!response.ok) throw new Error(`The example page ${path} could not be loaded (HTTP ${response.status}); open a page with "Page…".`);
    await handleFiles([new File([await response.blob()], path.split('/').pop()!, { type: 'image/png' })]);
  });
  click('recolour', () => recolour(true));
  click('export-png', () => exportPng());
  click('export-cbz', () => exportChapter());
  click('undo', () => void (page()?.history.undo() && hintsChanged()));
  click('redo', () => void (page()?.history.redo() && hintsChanged()));
  click('clear', () => {
    page()?.history.set([]);
    hintsChanged();
  });
  click('save-hints', () => {
    const p = page()!;
    download(hintsToJson(p.history.dots, { width: p.image!.width, height: p.image!.height }, contentSize(p)), `${stem(p.name)}.hints.json`, 'application/json');
  });
  click('load-hints', async () => {
    const [file] = await pickFile($<HTMLInputElement>('hints-input'));
    if (file) await loadHints(file);
  });
  click('palette-add', () => {
    if (!state.documentPalette.includes(state.colour)) state.documentPalette.push(state.colour);
    writeSetting('document-palette', state.documentPalette);
    renderSwatches();
  });
  click('open-reference', async () => {
    const [file] = await pickFile($<HTMLInputElement>('reference-input'));
    if (!file) return;
    const image = await decodeRgba(file, file.name);
    const canvas = $<HTMLCanvasElement>('reference');
    canvas.width = Math.min(400, image.width);
    canvas.height = Math.round((image.height * canvas.width) / image.width);
    canvas.getContext('2d', { willReadFrequently: true })!.drawImage(await createImageBitmap(image), 0, 0, canvas.width, canvas.height);
  });
  $('reference').onclick = (e) => {
    const canvas = $<HTMLCanvasElement>('reference');
    if (!canvas.height) return;
    const r = canvas.getBoundingClientRect();
    const [x, y] = [((e.clientX - r.left) * canvas.width) / r.width, ((e.clientY - r.top) * canvas.height) / r.height];
    pickFrom(canvas.getContext('2d', { willReadFrequently: true })!.getImageData(0, 0, canvas.width, canvas.height), x, y);
  };
  $('banner-close').onclick = hideBanner;
  $<HTMLInputElement>('colour').oninput = (e) => setColour((e.target as HTMLInputElement).value);
  $<HTMLInputElement>('hex').onchange = (e) => {
    const hex = normaliseHex((e.target as HTMLInputElement).value);
    if (hex) setColour(hex);
    else (e.target as HTMLInputElement).value = state.colour;
  };
  $<HTMLInputElement>('dot-size').oninput = (e) => setDotSize(Number((e.target as HTMLInputElement).value));
  $<HTMLInputElement>('split').oninput = (e) => {
    view.split = Number((e.target as HTMLInputElement).value);
    view.redraw();
  };
  $<HTMLSelectElement>('working-size').onchange = () => {
    setWorkingSize(shortSide());
    void recolour();
  };
  $<HTMLInputElement>('auto-hint').onchange = () => void recolour();
  $<HTMLSelectElement>('blend').onchange = () => void recolour();
  $<HTMLSelectElement>('close-gaps').value = String(DEFAULT_CLOSE_GAPS);
  click('zoom-in', () => view.zoomAt(1.25, ...viewCentre()));
  click('zoom-out', () => view.zoomAt(1 / 1.25, ...viewCentre()));
  click('zoom-fit', () => view.fit());
  click('zoom-1', () => view.zoomAt(1 / view.zoom, ...viewCentre()));

  const viewport = $('viewport');
  window.addEventListener('dragover', (e) => {
    e.preventDefault();
    viewport.classList.add('dragover');
  });
  window.addEventListener('dragleave', () => viewport.classList.remove('dragover'));
  window.addEventListener('drop', (e) => {
    e.preventDefault();
    viewport.classList.remove('dragover');
    void guarded(() => handleFiles([...(e.dataTransfer?.files ?? [])]));
  });
  window.addEventListener('paste', (e) => {
    const files = [...(e.clipboardData?.files ?? [])];
    if (files.length) void guarded(() => handleFiles(files));
  });
  window.addEventListener('keydown', (e) => {
    if ((e.target as HTMLElement).matches('input[type=text], select')) return;
    const key = e.key.toLowerCase();
    if ((e.ctrlKey || e.metaKey) && key === 'z') {
      e.preventDefault();
      $(e.shiftKey ? 'redo' : 'undo').click();
    } else if ((e.ctrlKey || e.metaKey) && key === 'y') {
      e.preventDefault();
      $('redo').click();
    } else if (e.key === ' ') {
      spaceHeld = true;
    } else if (!e.ctrlKey && !e.metaKey) {
      const tools: Record<string, Tool> = { d: 'dot', f: 'fill', e: 'eraser', i: 'eyedropper', h: 'pan' };
      if (tools[key]) setTool(tools[key]);
      else if (key === '[' || key === ']') setDotSize(Number($<HTMLInputElement>('dot-size').value) + (key === ']' ? 1 : -1));
      else if (key === 'r') $('recolour').click();
    }
  });
  window.addEventListener('keyup', (e) => {
    if (e.key === ' ') spaceHeld = false;
  });
  updateButtons();
}

function viewCentre(): [number, number] {
  const r = view.canvas.getBoundingClientRect();
  return [r.left + r.width / 2, r.top + r.height / 2];
}

setup();
void appConfig().then((config) => ($('try-example').hidden = !config?.examplePage));
void guarded(async () => {
  await initEngine();
  await loadInitialWeights();
});
