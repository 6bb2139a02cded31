// Loading a colorization model from the bytes of its weight files (browser-neutral: no node: imports).
//
// API
//   loadColorModel({ weights, extractor?, denoiser?, arch? }) → ColorModel   (needs an engine: useEngine(...))
//   detectArchitecture(tensors, metadata) → 'v1' | 'v2'                       (throws ModelError for other files)
//   ColorModel: { arch, colorizer, denoiser, defaultSize, description, dispose() }
//
// Generators come in three kinds, told apart by their tensors and metadata, not by file names:
//   - the project's own exported generator (src/train/checkpoint.ts exportGenerator): safetensors whose
//     __metadata__ has format PROJECT_GENERATOR_FORMAT, `generator` (the JSON of its sizes), `localFeatures`
//     ('extractor' | 'none'), `hintInput` ('dots' | 'spread' | 'regions', src/data/hint-spread.ts; absent: dots) and
//     `preset`. With localFeatures 'none' the extractor is not used at all.
//   - the published v1 generator (REFERENCE §3): needs the published extractor (--extractor).
//   - the published v2 generator (REFERENCE §9): the grey page alone, no extractor.
// Every file is read with readCheckpoint (safetensors or PyTorch, sniffed from the bytes) and loaded strictly,
// so a wrong file is one StateDictError listing every mismatch.
import { HINT_INPUTS, type HintInput } from '../data/hint-spread.js';
import { readCheckpoint, type Checkpoint } from '../io/checkpoint.js';
import { floatEntries, type StoredTensors } from '../io/stored-tensors.js';
import { ColorizerV1, ColorizerV2 } from '../nets/colorizer.js';
import { EXTRACTOR_V1, SEResNeXt } from '../nets/extractor.js';
import { FFDNet } from '../nets/ffdnet.js';
import { GENERATOR_V1, GeneratorV1, generatorV1Config, type GeneratorV1Config } from '../nets/generator-v1.js';
import { GeneratorV2 } from '../nets/generator-v2.js';
import { PROJECT_GENERATOR_FORMAT } from '../nets/architectures.js';
import type { Module } from '../nets/module.js';


/**
 * This project's own small generator (trained without the extractor, so it needs no other file), relative to
 * the repository root: the command line uses it when no --weights is given, the browser app can fetch it.
 */
export const DEFAULT_MODEL_PATH = 'models/default.safetensors';

export type Architecture = 'v1' | 'v2';

/** The working short side each architecture was trained at (REFERENCE §2, §9). */
export const DEFAULT_SIZE: Readonly<Record<Architecture, number>> = { v1: 512, v2: 576 };

/** A weights file the user can fix: wrong kind of file, missing companion file, unreadable metadata. */
export class ModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelError';
  }
}

export interface WeightsFile {
  bytes: Uint8Array;
  /** Shown in messages (a path, or a file name in the browser). */
  name: string;
}

export interface ModelFiles {
  /** The generator. */
  weights: WeightsFile;
  /** The published SE-ResNeXt extractor, for generators that use it. */
  extractor?: WeightsFile | null;
  /** The FFDNet RGB denoiser; without it pages are not denoised. */
  denoiser?: WeightsFile | null;
  /** Forces the architecture instead of detecting it. */
  arch?: Architecture;
}

export interface ColorModel {
  arch: Architecture;
  colorizer: ColorizerV1 | ColorizerV2;
  denoiser: FFDNet | null;
  /** The working short side the generator expects by default. */
  defaultSize: number;
  /** How the generator takes hints: the published dots, or spread over the line art's regions. */
  hintInput: HintInput;
  /** One line for the user: what was loaded. */
  description: string;
  dispose(): void;
}

const has = (tensors: StoredTensors, name: string) => tensors.has(name);

/**
 * v1 or v2 from the generator's tensor names; other networks of the system are named so the user can pass
 * them where they belong.
 */
export function detectArchitecture(tensors: StoredTensors, name = 'the weights'): Architecture {
  if (has(tensors, 'feature_conv.network.0.weight')) return 'v1';
  if (has(tensors, 'encoder.conv1.weight') && has(tensors, 'to0.0.weight')) return 'v2';
  // A training checkpoint holds the discriminator too: it is named as a checkpoint before anything else.
  const what = [...tensors.keys()].some((n) => n.startsWith('generator.'))
    ? 'a training checkpoint: export its generator with `npm run train -- --export <checkpoint or run folder> -o generator.safetensors` ' +
      '(a run writes <run>/generator.safetensors when it ends or is stopped)'
    : has(tensors, 'intermediate_dncnn.itermediate_dncnn.0.weight')
      ? 'the FFDNet denoiser: pass it with --denoiser'
      : has(tensors, 'conv1.weight') && has(tensors, 'layer1.0.conv1.weight')
        ? 'the SE-ResNeXt extractor: pass it with --extractor'
        : [...tensors.keys()].some((n) => n.endsWith('weight_bar'))
          ? 'the v1 discriminator, which colorization does not use'
          : null;
  if (what) throw new ModelError(`${name} is ${what}; --weights takes a v1 or v2 generator.`);
  throw new ModelError(
    `${name} is not a generator of this system (no feature_conv.* tensors of v1, no encoder.* tensors of v2; first names: ` +
      `${[...tensors.keys()].slice(0, 4).join(', ') || 'none'}). Pass the generator's weights, or --arch v1|v2 to load it strictly and see every mismatch.`,
  );
}

function read(file: WeightsFile): Checkpoint {
  try {
    return readCheckpoint(file.bytes);
  } catch (e) {
    throw new ModelError(`${file.name}: ${(e as Error).message}`);
  }
}

/** Copies the file's tensors into `module`; a mismatch is a StateDictError naming the file. */
function loadInto<M extends Module>(module: M, checkpoint: Checkpoint, file: WeightsFile): M {
  try {
    module.loadStateDict(floatEntries(checkpoint.tensors));
    return module;
  } catch (e) {
    module.dispose();
    if (e instanceof Error) e.message = `${file.name}: ${e.message}`;
    throw e;
  }
}

interface V1Layout {
  config: GeneratorV1Config;
  usesExtractor: boolean;
  hintInput: HintInput;
  origin: string;
}

/**
 * Bounds on the sizes a metadata block may ask for, checked before any network is built: far above the published
 * model (width 64, 512 feature channels, 20 blocks per tunnel), far below what would exhaust memory.
 */
const SIZE_LIMITS = { width: 256, featureChannels: 2048, blocks: 64, dilation: 64 };

/** What is wrong with generator sizes read from a file, or null. */
function sizesProblem(sizes: unknown): string | null {
  if (typeof sizes !== 'object' || sizes === null || Array.isArray(sizes)) return 'is not a JSON object of sizes';
  const { width = 64, featureChannels = 512, dilations = [[1], [1], [1], [1]], cardinality = [1, 1, 1, 1] } = sizes as Record<string, unknown>;
  const int = (v: unknown, lo: number, hi: number) => Number.isSafeInteger(v) && (v as number) >= lo && (v as number) <= hi;
  if (!int(width, 16, SIZE_LIMITS.width) || (width as number) % 2) return `asks for width ${JSON.stringify(width)}; an even integer from 16 to ${SIZE_LIMITS.width} is expected`;
  if (!int(featureChannels, 1, SIZE_LIMITS.featureChannels)) return `asks for ${JSON.stringify(featureChannels)} feature channels; 1 to ${SIZE_LIMITS.featureChannels} are expected`;
  const lists = Array.isArray(dilations) && dilations.length === 4 && dilations.every((l) => Array.isArray(l) && l.length >= 1 && l.length <= SIZE_LIMITS.blocks);
  if (!lists || !(dilations as unknown[][]).every((l) => l.every((d) => int(d, 1, SIZE_LIMITS.dilation)))) {
    return `has dilations ${JSON.stringify(dilations).slice(0, 80)}; four lists of 1 to ${SIZE_LIMITS.blocks} integers from 1 to ${SIZE_LIMITS.dilation} are expected`;
  }
  const halves = [4, 2, 1, 0.5].map((f) => f * (width as number));
  if (!Array.isArray(cardinality) || cardinality.length !== 4 || !cardinality.every((c, i) => int(c, 1, halves[i]) && halves[i] % c === 0)) {
    return `has cardinality ${JSON.stringify(cardinality).slice(0, 80)}; four integers dividing half of each tunnel's width are expected`;
  }
  const { hintGate = 'off' } = sizes as Record<string, unknown>;
  if (hintGate !== 'off' && hintGate !== 'on') return `has hintGate ${JSON.stringify(hintGate).slice(0, 40)}; "on" or "off" is expected`;
  return null;
}

/** The v1 generator's sizes and whether it uses the extractor: from the project's metadata, else the published ones. */
/** How the description names a model's hint input. */
const HINT_ORIGIN: Record<HintInput, string> = { dots: '', spread: ', hints spread over regions', regions: ', hints spread over regions (region confidence)' };

function v1Layout(checkpoint: Checkpoint, file: WeightsFile): V1Layout {
  const meta = checkpoint.metadata;
  if (meta.format !== PROJECT_GENERATOR_FORMAT) return { config: GENERATOR_V1, usesExtractor: true, hintInput: 'dots', origin: 'published v1 generator' };
  let sizes: Parameters<typeof generatorV1Config>[0];
  try {
    sizes = JSON.parse(meta.generator) as typeof sizes;
  } catch (e) {
    throw new ModelError(`${file.name}: its "generator" metadata is not valid JSON (${(e as Error).message}); re-export the generator from its training run.`);
  }
  if (meta.localFeatures !== 'extractor' && meta.localFeatures !== 'none') {
    throw new ModelError(`${file.name}: its "localFeatures" metadata is ${JSON.stringify(meta.localFeatures)}, expected "extractor" or "none"; re-export the generator.`);
  }
  const hintInput = meta.hintInput ?? 'dots';
  if (!(HINT_INPUTS as readonly string[]).includes(hintInput)) {
    throw new ModelError(`${file.name}: its "hintInput" metadata is ${JSON.stringify(hintInput)}, expected one of ${HINT_INPUTS.join(', ')}; re-export the generator.`);
  }
  const problem = sizesProblem(sizes);
  if (problem) throw new ModelError(`${file.name}: its "generator" metadata ${problem}; the file is damaged or was not exported by this project's training.`);
  const preset = meta.preset ? `, preset ${meta.preset}` : '';
  return {
    config: generatorV1Config(sizes),
    usesExtractor: meta.localFeatures === 'extractor',
    hintInput: hintInput as HintInput,
    origin:
      `project v1 generator${preset}${meta.localFeatures === 'none' ? ', no extractor' : ''}${HINT_ORIGIN[hintInput as HintInput]}` +
      `${(sizes as { hintGate?: string }).hintGate === 'on' ? ', hint gate' : ''}`,
  };
}

/** Loads the generator (and the extractor and denoiser it needs) onto the current engine. */
export function loadColorModel(files: ModelFiles): ColorModel {
  const weights = read(files.weights);
  const arch = files.arch ?? detectArchitecture(weights.tensors, files.weights.name);
  const owned: Module[] = [];
  const dispose = () => {
    for (const m of owned) m.dispose();
  };
  try {
    let colorizer: ColorizerV1 | ColorizerV2;
    let origin: string;
    let hintInput: HintInput = 'dots';
    if (arch === 'v1') {
      const layout = v1Layout(weights, files.weights);
      origin = layout.origin;
      hintInput = layout.hintInput;
      if (layout.usesExtractor && !files.extractor) {
        throw new ModelError(
          `${files.weights.name} (${layout.origin}) needs the published SE-ResNeXt extractor: pass it with --extractor <file> ` +
            '(see the README section "Weights for colorize").',
        );
      }
      if (!layout.usesExtractor && files.extractor) {
        throw new ModelError(`${files.weights.name} was trained without the extractor (localFeatures: none); leave out --extractor ${files.extractor.name}.`);
      }
      const generator = loadInto(new GeneratorV1(layout.config), weights, files.weights);
      owned.push(generator);
      let extractor: SEResNeXt | null = null;
      if (files.extractor) {
        extractor = loadInto(new SEResNeXt(EXTRACTOR_V1), read(files.extractor), files.extractor);
        owned.push(extractor);
        if (extractor.outChannels !== layout.config.featureChannels) {
          throw new ModelError(`The extractor gives ${extractor.outChannels} channels but ${files.weights.name} expects ${layout.config.featureChannels}.`);
        }
      }
      colorizer = new ColorizerV1(generator, extractor);
    } else {
      if (files.extractor) throw new ModelError(`The v2 generator has its own encoder and uses no extractor; leave out --extractor ${files.extractor.name}.`);
      const generator = loadInto(new GeneratorV2(), weights, files.weights);
      owned.push(generator);
      origin = 'published v2 generator';
      colorizer = new ColorizerV2(generator);
    }
    const denoiser = files.denoiser ? loadInto(new FFDNet(), read(files.denoiser), files.denoiser) : null;
    if (denoiser) owned.push(denoiser);
    const description = `${origin} from ${files.weights.name}${files.extractor ? ` + extractor ${files.extractor.name}` : ''}${denoiser ? ` + FFDNet ${files.denoiser!.name}` : ''}`;
    return {
      arch,
      colorizer,
      denoiser,
      defaultSize: DEFAULT_SIZE[arch],
      hintInput,
      description,
      dispose() {
        colorizer.clearPage();
        dispose();
      },
    };
  } catch (e) {
    dispose();
    throw e;
  }
}
