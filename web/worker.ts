// The engine worker: owns the WebGPU device (navigator.gpu in a worker), the loaded model and the page being
// coloured. Requests run one at a time in arrival order; each gets one reply. Nothing here touches the DOM.
import { loadColorModel, ModelError, type ColorModel, type WeightsFile } from '../src/colorize/model.js';
import { PageSession, PageTooLargeError } from '../src/colorize/pipeline.js';
import { createPlane } from '../src/data/plane.js';
import { browserDevice, GpuUnavailableError } from '../src/engine/device.js';
import { BufferTooLargeError, Engine, GpuError, useEngine } from '../src/engine/engine.js';
import { readCheckpoint } from '../src/io/checkpoint.js';
import { StateDictError } from '../src/nets/module.js';
import type { ColorizeResult, EngineInfo, ErrorKind, ModelInfo, PageInfo, RequestMessage, WireError, WorkerMessage } from './protocol.js';

const scope = self as unknown as { postMessage(message: WorkerMessage, transfer?: Transferable[]): void; onmessage: ((e: MessageEvent<RequestMessage>) => void) | null };
const post = (message: WorkerMessage, transfer: Transferable[] = []) => scope.postMessage(message, transfer);

let engine: Engine | null = null;
let model: ColorModel | null = null;
let session: { key: string; page: PageSession } | null = null;

function needEngine(): Engine {
  if (!engine) throw new Error('The engine is not started.');
  return engine;
}

async function init(): Promise<EngineInfo> {
  if (engine) return info(engine);
  const gpu = await browserDevice();
  engine = new Engine(gpu);
  useEngine(engine);
  gpu.device.lost.then((lost) => {
    if (lost.reason !== 'destroyed') post({ type: 'device-lost', message: `${lost.message || 'no reason given'} (${lost.reason})` });
  });
  return info(engine);
}

const info = (e: Engine): EngineInfo => ({
  adapter: e.gpu.adapterName,
  software: e.gpu.software,
  maxStorageBufferMiB: Math.floor(e.gpu.limits.maxStorageBufferBindingSize / 2 ** 20),
});

/**
 * Which file is which, from the tensors inside (names say nothing reliable): the FFDNet denoiser, the SE-ResNeXt
 * extractor, and otherwise the generator, which loadColorModel then checks strictly.
 */
function sortWeights(files: WeightsFile[]): { weights: WeightsFile; extractor: WeightsFile | null; denoiser: WeightsFile | null } {
  const roles = files.map((file) => {
    let names: Set<string>;
    try {
      names = new Set(readCheckpoint(file.bytes).tensors.keys());
    } catch (e) {
      throw new ModelError(`${file.name}: ${(e as Error).message}`);
    }
    if (names.has('intermediate_dncnn.itermediate_dncnn.0.weight')) return 'denoiser' as const;
    if (names.has('layer1.0.conv1.weight') && !names.has('feature_conv.network.0.weight')) return 'extractor' as const;
    return 'weights' as const;
  });
  const pick = (role: string) => {
    const chosen = files.filter((_, i) => roles[i] === role);
    if (chosen.length > 1) throw new ModelError(`${chosen.map((f) => f.name).join(' and ')} are both ${role === 'weights' ? 'generators' : `${role}s`}; give one.`);
    return chosen[0] ?? null;
  };
  const weights = pick('weights');
  if (!weights) throw new ModelError(`${files.map((f) => f.name).join(', ')}: no generator among them; add the generator's weights (v1 or v2).`);
  return { weights, extractor: pick('extractor'), denoiser: pick('denoiser') };
}

function loadWeights(files: { name: string; bytes: ArrayBuffer }[]): ModelInfo {
  needEngine();
  const sorted = sortWeights(files.map((f) => ({ name: f.name, bytes: new Uint8Array(f.bytes) })));
  const loaded = loadColorModel(sorted);
  session?.page.dispose();
  session = null;
  model?.dispose();
  model = loaded;
  return { description: loaded.description, arch: loaded.arch, defaultSize: loaded.defaultSize };
}

async function openPage(id: number, request: Extract<RequestMessage, { type: 'open-page' }>): Promise<PageInfo> {
  if (!model) throw new ModelError('Load weights first (a v1 or v2 generator; see the README).');
  const started = performance.now();
  const key = `${request.pageId}@${request.shortSide}`;
  if (session?.key !== key) {
    session?.page.dispose();
    session = null;
    const { rgba, width, height } = request;
    const rgb = new Float32Array(width * height * 3);
    for (let i = 0; i < width * height; i++) for (let c = 0; c < 3; c++) rgb[3 * i + c] = rgba[4 * i + c] / 255;
    const onStage = (stage: string) => post({ type: 'progress', id, stage });
    const page = await PageSession.open(model, createPlane(width, height, 3, rgb), { size: request.shortSide, onStage });
    session = { key, page };
  }
  const { page, content, canvas } = session.page.placement;
  return { page, content, canvas, ms: performance.now() - started };
}

async function colorize(id: number, request: Extract<RequestMessage, { type: 'colorize' }>): Promise<ColorizeResult> {
  if (!session || !session.key.startsWith(`${request.pageId}@`)) throw new Error('The page is not open in the engine; open it first.');
  const started = performance.now();
  const onStage = (stage: string) => post({ type: 'progress', id, stage });
  const { image } = await session.page.colorize({ hints: request.hints, autoHint: request.autoHint ? {} : null, blend: request.blend, onStage });
  const rgba = new Uint8ClampedArray(image.width * image.height * 4);
  for (let i = 0; i < image.width * image.height; i++) {
    for (let c = 0; c < 3; c++) rgba[4 * i + c] = image.data[3 * i + c] * 255 + 0.5;
    rgba[4 * i + 3] = 255;
  }
  return { rgba, width: image.width, height: image.height, ms: performance.now() - started };
}

/** The kind of failure, for the UI's way out. */
function classify(e: unknown): WireError {
  const message = e instanceof Error ? e.message : String(e);
  let kind: ErrorKind = 'internal';
  if (e instanceof GpuUnavailableError) kind = 'no-webgpu';
  else if (e instanceof PageTooLargeError) return { kind: 'too-large', message, fits: e.fits };
  else if (e instanceof BufferTooLargeError) kind = 'too-large';
  else if (e instanceof GpuError) kind = 'device-lost';
  else if (e instanceof ModelError || e instanceof StateDictError) kind = 'weights';
  return { kind, message };
}

let queue = Promise.resolve();

scope.onmessage = (event) => {
  const request = event.data;
  queue = queue.then(async () => {
    try {
      let value: unknown;
      let transfer: Transferable[] = [];
      if (request.type === 'init') value = await init();
      else if (request.type === 'load-weights') value = loadWeights(request.files);
      else if (request.type === 'open-page') value = await openPage(request.id, request);
      else {
        const result = await colorize(request.id, request);
        value = result;
        transfer = [result.rgba.buffer];
      }
      post({ type: 'reply', id: request.id, ok: true, value }, transfer);
    } catch (e) {
      post({ type: 'reply', id: request.id, ok: false, error: classify(e) });
    }
  });
};
