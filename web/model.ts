// The engine and the model in it: starting WebGPU in the worker, loading weights (the user's, remembered by the
// browser, else the model the build shipped, with its eval scores), the model note in the header, and the restart
// after a lost device, which reloads the same weights at the user's working size with the hints untouched.
import { evalSummary, type EvalJson } from '../src/eval/summary.js';
import type { ModelInfo } from './protocol.js';
import { loadStoredWeights, saveWeights } from './storage.js';
import { $, setWorkingSize, state } from './app-state.js';
import { hideBanner, setStage, showInfo, updateButtons } from './status.js';
import { engine, queue, recolour } from './colouring.js';

export type WeightFile = { name: string; bytes: ArrayBuffer };

/** What the build put beside the app (scripts/build-web.mjs), read once. */
interface AppConfig {
  defaultModel: string | null;
  examplePage: string | null;
  /** The shipped model's `npm run eval` scores, shown while it is in use. */
  defaultModelEval?: string | null;
}
let appConfigRead: Promise<AppConfig | null> | null = null;
export const appConfig = () => (appConfigRead ??= fetch('app-config.json').then((r) => (r.ok ? (r.json() as Promise<AppConfig>) : null), () => null));

/** Whether the loaded model is the one the build shipped (its note then says it is a small demonstration model). */
let shippedModel = false;
/** The adapter, shown in the model note's tooltip. */
let gpuName = '';

export async function initEngine(): Promise<void> {
  setStage('starting WebGPU…');
  const info = await engine.request({ type: 'init' });
  state.engineReady = true;
  setStage('');
  gpuName = info.adapter;
  $('model-status').title = `GPU: ${gpuName}`;
  updateButtons();
}

/** Loads a model into the worker, which gets copies: the originals stay here for an engine restart and for storage. */
function sendWeights(files: WeightFile[], shipped = false): Promise<ModelInfo> {
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
export async function loadWeights(files: WeightFile[], chose: boolean, shipped = false): Promise<void> {
  if (chose) state.userChoseWeights = true;
  $('model-eval').hidden = true; // the shipped model's scores, shown only while it is the one in use
  const info = await sendWeights(files, shipped);
  setWorkingSize(info.defaultSize);
  if (chose) await saveWeights(files).catch((e: Error) => showInfo(`The weights work but could not be remembered by this browser (${e.message}).`));
  await recolour();
}

/** The user's last weights, else the project's default model when the build shipped one (app-config.json). */
export async function loadInitialWeights(): Promise<void> {
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

export async function restartEngine(): Promise<void> {
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
