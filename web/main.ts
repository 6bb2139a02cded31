// The browser app's UI thread, wired: the toolbar's buttons and settings, the banner's way out, dropped and pasted
// files, and the start (WebGPU, then the initial model). The engine runs in a worker (web/worker.ts) so the UI
// never waits on the GPU. What each part does lives in its own module (docs/ARCHITECTURE.md, "Browser app"), each
// importing only those before it: app-state, status, colouring, pages, model, palette, tools, open-files, exports.
import { DEFAULT_CLOSE_GAPS } from './fill-region.js';
import { $, page, setWorkingSize, shortSide, view } from './app-state.js';
import { bannerWayOut, guarded, hideBanner, updateButtons } from './status.js';
import { recolour } from './colouring.js';
import { hintsChanged } from './pages.js';
import { appConfig, initEngine, loadInitialWeights, restartEngine } from './model.js';
import { addToPalette, pickFromReference, renderSwatches, setColour, setColourFromText, showReference } from './palette.js';
import { setDotSize, setupTools } from './tools.js';
import { handleFiles, loadHints, openWeights, pickFiles } from './open-files.js';
import { exportChapter, exportPng, saveHints } from './exports.js';

function viewCentre(): [number, number] {
  const r = view.canvas.getBoundingClientRect();
  return [r.left + r.width / 2, r.top + r.height / 2];
}

function setup(): void {
  renderSwatches();
  setupTools();
  const click = (id: string, action: () => Promise<void> | void) => ($(id).onclick = () => void guarded(async () => action()));
  click('open-weights', async () => {
    const files = await pickFiles('weights-input');
    if (files.length) await openWeights(files);
  });
  click('open-page', async () => handleFiles(await pickFiles('page-input')));
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
  click('save-hints', () => saveHints());
  click('load-hints', async () => {
    const [file] = await pickFiles('hints-input');
    if (file) await loadHints(file);
  });
  click('palette-add', () => addToPalette());
  click('open-reference', async () => {
    const [file] = await pickFiles('reference-input');
    if (file) await showReference(file);
  });
  $('reference').onclick = pickFromReference;
  $('banner-close').onclick = hideBanner;
  // The way out the banner offers for its failure (web/status.ts).
  $('banner-action').onclick = () => {
    const wayOut = bannerWayOut();
    if (wayOut?.kind === 'restart-engine') void restartEngine();
    else if (wayOut?.kind === 'use-size') {
      setWorkingSize(wayOut.size);
      hideBanner();
      void recolour();
    }
  };
  $<HTMLInputElement>('colour').oninput = (e) => setColour((e.target as HTMLInputElement).value);
  $<HTMLInputElement>('hex').onchange = (e) => setColourFromText(e.target as HTMLInputElement);
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
  updateButtons();
}

setup();
void appConfig().then((config) => ($('try-example').hidden = !config?.examplePage));
void guarded(async () => {
  await initEngine();
  await loadInitialWeights();
});
