// One page from decoded pixels to colour (browser-neutral), REFERENCE §7 for v1 and §9 for v2:
//   resize_pad to the working size → optional FFDNet denoise → v1: XDoG (mult 7) + distance field, v2: grey
//   → generator without hints (or with the user's; spread over the line art's regions for a model whose hintInput
//   is `spread`, src/data/hint-spread.ts) → optional auto-hint second pass → crop the padding →
//   at the page's own resolution: blend with the page (src/colorize/recombine.ts, `blend`); or the network's output
//   at the working size (`output: 'model'`).
// Everything before the generator depends on the page alone, so it is prepared once (PageSession.open, which
// also fills the colorizer's page cache) and each hint set, the auto-hint pass included, reruns only the rest.
// Runs on the current engine (useEngine); the model is loaded by loadColorModel.
//
// API
//   colorizePage(model, page, options) → Promise<{ image, passes, autoHints, working }>: open, colour, dispose
//   PageSession.open(model, page, options) → session; session.colorize(options) per hint set; session.dispose()
//   Both throw PageTooLargeError (with the largest size that fits) before any work when the canvas exceeds the
//   device's storage binding.
//   workingShortSide(arch, page, size) → the short side resize_pad uses
import { encodeHints } from '../data/hint-spread.js';
import { hintPlane, hintSet, placeHints, type HintSet } from '../data/hints.js';
import { planeFromChw, planeToChw, toGrey, type Plane } from '../data/plane.js';
import { preprocessPage } from '../data/preprocess.js';
import { seededRng } from '../data/random.js';
import { crop, resizePad, workingSize, type Placement, type Size } from '../data/resize.js';
import { engine, tidy } from '../engine/engine.js';
import { compile, type CompiledStep } from '../engine/compile.js';
import type { Tensor } from '../engine/tensor.js';
import { DEFAULT_NOISE_SIGMA, type FFDNet } from '../nets/ffdnet.js';
import { ColorizerV1, type Hints } from '../nets/colorizer.js';
import { GeneratorV1 } from '../nets/generator-v1.js';
import { noGrad, slice, tensor } from '../ops/index.js';
import { autoHintMask, type AutoHintOptions } from './auto-hint.js';
import type { ColorModel } from './model.js';
import { chooseBlend, DEFAULT_BLEND, recombine, type BlendMode } from './recombine.js';
import { workingShortSide } from './working-size.js';

export interface PrepareOptions {
  /** Working short side, a multiple of 32 (default: the model's, 512 for v1, 576 for v2). */
  size?: number;
  /** FFDNet's noise level in [0, 1] units when the model has a denoiser (default 25/255). */
  denoiseSigma?: number;
  /** Names each stage as it starts (the app's progress line). */
  onStage?: (stage: string) => void;
}

export interface ColourOptions {
  /** The user's hints in page pixel coordinates (made on a page of this size). */
  hints?: HintSet | null;
  /** Runs the auto-hint second pass (the paper's step 5); `seed` makes its sampling reproducible. */
  autoHint?: (AutoHintOptions & { seed?: number }) | null;
  /** `page` (default): the page's size, recombined with the page; `model`: the network's output, padding cropped. */
  output?: 'page' | 'model';
  /** How the colour is blended with the page at the page's size (src/colorize/recombine.ts; default auto). */
  blend?: BlendMode;
  /** Names each stage as it starts (the app's progress line). */
  onStage?: (stage: string) => void;
}

export type PageOptions = PrepareOptions & ColourOptions;

export interface PageResult {
  /** RGB in [0, 1]. */
  image: Plane;
  /** Generator runs: 1, or 2 with auto-hint. */
  passes: number;
  /** Hint pixels the auto-hint pass sampled. */
  autoHints: number;
  /** The page's size inside the network's canvas. */
  working: Size;
}

/** The page's canvas is too large for the device: `fits` is the largest working size that would fit (0: none). */
export class PageTooLargeError extends Error {
  constructor(
    message: string,
    readonly size: number,
    readonly fits: number,
  ) {
    super(message);
    this.name = 'PageTooLargeError';
  }
}

/**
 * Channels of the widest tensor at the canvas's full resolution: the exit's input, tunnel1's output beside the
 * to0 skip (64 for the published v1; every lower-resolution tensor holds fewer values).
 */
function widestFullResolution(model: ColorModel): number {
  const g = model.colorizer.generator;
  const tunnel = g instanceof GeneratorV1 ? g.config.tunnels[3] : g.config.tunnels[2];
  return tunnel.width / 2 + g.config.encoderWidths[0];
}

/** Refuses, before any work, a canvas whose widest tensor exceeds the device's largest storage binding. */
function checkFits(model: ColorModel, page: Size, size: number): void {
  const canvas = (s: number) => {
    const { width, height } = workingSize(page, workingShortSide(model.arch, page, s));
    return Math.ceil(width / 32) * 32 * Math.ceil(height / 32) * 32;
  };
  const limit = engine().gpu.limits.maxStorageBufferBindingSize;
  const bytes = (s: number) => 4 * widestFullResolution(model) * canvas(s);
  if (bytes(size) <= limit) return;
  let fits = size - 32;
  while (fits >= 32 && bytes(fits) > limit) fits -= 32;
  throw new PageTooLargeError(
    `At working size ${size} this page needs a ${(bytes(size) / 2 ** 20).toFixed(0)} MiB tensor, more than this device's largest ` +
      `storage binding (${(limit / 2 ** 20).toFixed(0)} MiB on ${engine().gpu.adapterName}).`,
    size,
    Math.max(fits, 0),
  );
}

/** A plane as an NCHW tensor of batch 1. */
const upload = (plane: Plane): Tensor => tensor(planeToChw(plane), [1, plane.channels, plane.height, plane.width]);

async function download(t: Tensor): Promise<Plane> {
  const [, c, h, w] = t.shape;
  try {
    return planeFromChw(await t.data(), w, h, c);
  } finally {
    t.dispose();
  }
}

/** FFDNet on an RGB plane (REFERENCE §8). */
async function denoisePlane(denoiser: FFDNet, plane: Plane, sigma: number): Promise<Plane> {
  return download(noGrad(() => tidy(() => denoiser.forward(upload(plane), sigma))));
}

/** The hints of a 4-channel hint tensor [1, 4, H, W] (RGB·mask in [−1, 1], mask), as views. */
function hintsOf(h: Tensor): Hints {
  const [, , height, width] = h.shape;
  return { rgb: slice(h, [0, 0, 0, 0], [1, 3, height, width]), mask: slice(h, [0, 3, 0, 0], [1, 1, height, width]) };
}

/** Auto-hints where the user gave none: the user's hint pixels stay as they are (they are what the user chose). */
function mergeHints(auto: Plane, user: Plane): Plane {
  const out = new Float32Array(auto.data);
  for (let i = 0; i < user.width * user.height; i++) {
    if (user.data[4 * i + 3] > 0) out.set(user.data.subarray(4 * i, 4 * i + 4), 4 * i);
  }
  return { ...auto, data: out };
}

/**
 * The session whose page each colorizer's cache holds: a colorizer caches one page, so opening another page
 * supersedes the older session, which must then neither colour with the new page's features nor free them.
 */
const current = new WeakMap<ColorModel['colorizer'], PageSession>();

/** One page prepared on the model's colorizer, coloured for any number of hint sets. */
export class PageSession {
  /**
   * The generator pass as a compiled step (src/engine/compile.ts), made at the first colorize(): each hint set is
   * uploaded into its slot and the recording replayed, so a rerun after a moved dot costs the GPU work and two
   * transfers, not the host work of issuing the network op by op.
   */
  private pass: CompiledStep<Tensor> | null = null;
  /** What the auto blend picks for this page: it depends on the page alone, so it is measured once, not per rerun. */
  private autoBlend: BlendMode | null = null;

  private constructor(
    private readonly model: ColorModel,
    private readonly page: Plane,
    readonly placement: Placement,
    /** The canvas's line art (v1's sketch, v2's grey page; 1 = paper) over which spread hints find their regions. */
    private readonly lineArt: Plane,
  ) {}

  /** Prepares `page` (RGB or grey plane in [0, 1]); supersedes the session open on this model, if any. */
  static async open(model: ColorModel, page: Plane, options: PrepareOptions = {}): Promise<PageSession> {
    const size = options.size ?? model.defaultSize;
    if (!Number.isInteger(size) || size < 32 || size % 32) throw new Error(`The working size must be a multiple of 32 (at least 32), got ${size}.`);
    checkFits(model, page, size);
    const colorizer = model.colorizer;
    current.get(colorizer)?.dispose();
    colorizer.clearPage();
    const shortSide = workingShortSide(model.arch, page, size);
    const denoiser = model.denoiser;
    const denoise = denoiser
      ? (canvas: Plane) => {
          options.onStage?.('denoising (FFDNet)…');
          return denoisePlane(denoiser, canvas, options.denoiseSigma ?? DEFAULT_NOISE_SIGMA);
        }
      : undefined;
    let placement: Placement;
    let lineArt: Plane;
    if (colorizer instanceof ColorizerV1) {
      options.onStage?.('line art and distance field…');
      const prepared = await preprocessPage(page, { shortSide, denoise });
      options.onStage?.('page features…');
      tidy(() => colorizer.setPage(upload(prepared.sketch), upload(prepared.field)));
      placement = prepared.placement;
      lineArt = prepared.sketch;
    } else {
      const resized = resizePad(page, shortSide);
      const grey = toGrey(denoise ? await denoise(resized.plane) : resized.plane);
      options.onStage?.('page features…');
      tidy(() => colorizer.setPage(upload(grey)));
      placement = resized.placement;
      lineArt = grey;
    }
    const session = new PageSession(model, page, placement, lineArt);
    current.set(colorizer, session);
    return session;
  }

  /** The page in colour for these hints; runs only the generator (twice with auto-hint). */
  async colorize(options: ColourOptions = {}): Promise<PageResult> {
    if (current.get(this.model.colorizer) !== this) throw new Error('This page is no longer prepared on the model (another page was opened, or it was disposed); open it again.');
    const { page, content, canvas } = this.placement;
    const hint = placeHints(options.hints ?? hintSet(page), page, content, canvas);
    options.onStage?.('colouring…');
    let colour = await this.generate(hint);
    let autoHints = 0;
    if (options.autoHint) {
      options.onStage?.('colouring with auto-hints…');
      const mask = autoHintMask(colour, content, seededRng(options.autoHint.seed ?? 0), options.autoHint);
      for (const m of mask) autoHints += m;
      colour = await this.generate(mergeHints(hintPlane(colour, mask), hint));
    }
    let image = crop(colour, content.width, content.height);
    if (options.output !== 'model') {
      options.onStage?.('recombining with the page…');
      const mode = options.blend ?? DEFAULT_BLEND;
      image = recombine(this.page, image, mode === 'auto' ? (this.autoBlend ??= chooseBlend(toGrey(this.page))) : mode);
    }
    return { image, passes: options.autoHint ? 2 : 1, autoHints, working: content };
  }

  /** The generator's RGB for the prepared page and a 4-channel plane of dot hints (encoded as the model takes them). */
  private async generate(dots: Plane): Promise<Plane> {
    const colorizer = this.model.colorizer;
    const hint = encodeHints(dots, this.lineArt, this.model.hintInput);
    this.pass ??= compile((h) => colorizer.colorize(hintsOf(h)), { inputs: [[1, hint.channels, hint.height, hint.width]] });
    const colour = this.pass.run(planeToChw(hint));
    const [, c, height, width] = colour.shape;
    return planeFromChw(await colour.data(), width, height, c);
  }

  /** Frees the recorded pass and the colorizer's page cache (the cache only if no newer session holds it). */
  dispose(): void {
    this.pass?.dispose();
    this.pass = null;
    if (current.get(this.model.colorizer) !== this) return;
    current.delete(this.model.colorizer);
    this.model.colorizer.clearPage();
  }
}

/** Colours one page (RGB or grey plane in [0, 1]). */
export async function colorizePage(model: ColorModel, page: Plane, options: PageOptions = {}): Promise<PageResult> {
  const session = await PageSession.open(model, page, options);
  try {
    return await session.colorize(options);
  } finally {
    session.dispose();
  }
}
