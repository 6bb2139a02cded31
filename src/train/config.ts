// The one configuration of a training run: defaults ← preset ← JSON file ← command-line flags, each layer
// overriding single keys of the one before. Every key has one flag, named after its path in kebab case
// (`generator.featureChannels` → `--generator-feature-channels`); FIELDS is that table, the help text and the
// parser in one place, and validateConfig checks the merged result with errors that name the key and the fix.
//
// Presets (REFERENCE §6; where paper and code disagree the code's numbers are the default):
//   full  — the published sizes and the reference code's schedule: 15 epochs, lr ÷10 at epoch 10, batch 4, 512² crops.
//   paper — full with the paper's schedule: 20 epochs, drop at 15; fine-tuning 5000 steps, every 5th. (The paper's block counts 20/10/10/7 are not
//           used: the published weights have 20/8/8/5 and the paper gives no dilations for the extra blocks.)
//   small — a generator of half the published width and fewer blocks at 256² crops, for about an hour on one
//           GPU. Without the extractor branch, so the trained weights work without the published extractor
//           (whose licence forbids redistribution, REFERENCE §5). Its hints add dense 1–9 px dots to the
//           published sampler (SMALL_MODEL_HINTS below).
//   tiny  — trains on a 2-core machine's software adapter in minutes: 64² crops, the smallest widths the
//           networks allow (squeeze-excitation needs 16 channels), an 800-image epoch, no extractor branch, and
//           a learning rate 10× the recipe's so that a few hundred steps show learning.

import { MAX_DOT_SIZE, MIN_DOT_SIZE, PUBLISHED_HINTS, type HintRegime } from '../data/hints.js';
import { HINT_INPUTS, type HintInput } from '../data/hint-spread.js';
import { nestedDeeperThan, quoteValue } from '../data/json-value.js';
import type { HintGate } from '../nets/generator-v1.js';
import { flagsHelp, nearest, parseFlags, type FlagSpec } from '../io/flags.js';

export type PresetName = 'full' | 'paper' | 'small' | 'tiny';
export const PRESET_NAMES: readonly PresetName[] = ['full', 'paper', 'small', 'tiny'];

/** Where the generator's local features (its `feature_conv` input) come from. */
export type LocalFeatures = 'extractor' | 'none';

export interface TrainConfig {
  preset: PresetName;
  /** Seeds weight init, data order, crops, flips and hints. */
  seed: number;
  /** `generated` (procedural shapes, src/train/batches.ts) or a prepared data-set directory. */
  data: string;
  /** Images that count as one epoch; null: the whole data set. */
  imagesPerEpoch: number | null;
  /** Held-out images validated with fixed hints. */
  validationImages: number;
  /**
   * The hint sampler (src/data/hints.ts): the published draw (full / sparse / empty) for a share 1 − denseShare
   * of the samples, dense dots as the app places them for the rest. `full`/`paper`: the published sampler.
   */
  hints: HintRegime;
  /**
   * How the generator receives hints (src/data/hint-spread.ts): `dots` as the published models do, or `spread`
   * over the regions of the line art (a geodesic paint bucket the network refines). Part of the model: the
   * exported generator's metadata carries it and colorize encodes hints the same way.
   */
  hintInput: HintInput;
  /**
   * Share of the training samples with manga paper drawn over them (src/data/paper.ts: panel gutters, lettered
   * speech balloons; white in the target), so the model learns to leave enclosed paper white without a hint.
   */
  paperOverlay: number;
  /** Square training crop, a multiple of 16. */
  crop: number;
  /** Images per batch; each step uses one batch for D and the next for G. */
  batchSize: number;
  generator: {
    /** ngf: to1's width (published 64). */
    width: number;
    /** Channels of the local features (published 512, the extractor's output). */
    featureChannels: number;
    /** Block dilations of tunnel4, 3, 2, 1; their lengths are the block counts. */
    dilations: number[][];
    /** Cardinality of tunnel4, 3, 2, 1. */
    cardinality: number[];
    /** The exit's hint gate (src/nets/generator-v1.ts); absent in runs from before it existed: off. */
    hintGate?: HintGate;
  };
  discriminator: { width: number; cardinality: number };
  localFeatures: LocalFeatures;
  /** The published SE-ResNeXt extractor (safetensors or PyTorch); needed when localFeatures is `extractor`. */
  extractorWeights: string | null;
  /** torchvision's VGG16 weights for the perceptual loss; null: the term is off. */
  vggWeights: string | null;
  epochs: number;
  /** The epoch from which both learning rates are multiplied by lrDropFactor. */
  lrDropEpoch: number;
  lrDropFactor: number;
  /** Stop after this many steps even if the epochs are not done; null: run all epochs. */
  maxSteps: number | null;
  lrG: number;
  lrD: number;
  betas: [number, number];
  /** Loss weights (REFERENCE §6) and the discriminator's one-sided real label. */
  loss: { l1: number; guide: number; adversarial: number; perceptual: number; white: number; hint: number; painted: number; gate: number; realLabel: number };
  checkpointEvery: number;
  /** Checkpoints kept besides the best one by validation L1. */
  keepLast: number;
  validateEvery: number;
  sampleEvery: number;
  /** Steps between progress lines when the output is not a terminal. */
  progressEvery: number;
  /**
   * Fine-tuning (REFERENCE §6): a folder of black-and-white pages of a new title, or null for normal training.
   * A fine-tuning run starts from another run's checkpoint (`--from`) and makes `finetuneSteps` normal steps at
   * generator lr `finetuneLrG`; after every `finetuneEvery`-th it makes `finetuneDiscriminatorSteps` D steps on
   * real colour (target realLabel) vs the colourised pages with empty hints (target 0), then one G step on the
   * pages with the adversarial loss alone.
   */
  finetune: string | null;
  finetuneSteps: number;
  finetuneEvery: number;
  finetuneDiscriminatorSteps: number;
  finetuneLrG: number;
  safety: {
    /** Consecutive skipped updates (NaN/Inf loss or gradient) that trigger a rollback. */
    maxBadSteps: number;
    /** Learning-rate factor applied at each rollback. */
    rollbackLrFactor: number;
    /** Rollbacks after which the run stops as diverged. */
    maxRollbacks: number;
  };
}

const PUBLISHED_DILATIONS = [new Array<number>(20).fill(1), [1, 1, 2, 2, 4, 4, 2, 1], [1, 1, 2, 2, 4, 4, 2, 1], [1, 2, 4, 2, 1]];

const FULL: TrainConfig = {
  preset: 'full',
  seed: 0,
  data: 'generated',
  imagesPerEpoch: null,
  validationImages: 16,
  hints: { ...PUBLISHED_HINTS },
  hintInput: 'dots',
  paperOverlay: 0,
  crop: 512,
  batchSize: 4,
  generator: { width: 64, featureChannels: 512, dilations: PUBLISHED_DILATIONS, cardinality: [32, 32, 32, 16], hintGate: 'off' },
  discriminator: { width: 64, cardinality: 8 },
  localFeatures: 'extractor',
  extractorWeights: null,
  vggWeights: null,
  epochs: 15,
  lrDropEpoch: 10,
  lrDropFactor: 0.1,
  maxSteps: null,
  lrG: 1e-4,
  lrD: 4e-4,
  betas: [0.5, 0.9],
  loss: { l1: 10, guide: 0.9, adversarial: 1, perceptual: 1, white: 1, hint: 0, painted: 0, gate: 0, realLabel: 0.9 },
  checkpointEvery: 1000,
  keepLast: 3,
  validateEvery: 1000,
  sampleEvery: 1000,
  progressEvery: 100,
  finetune: null,
  finetuneSteps: 3500,
  finetuneEvery: 10,
  finetuneDiscriminatorSteps: 5,
  finetuneLrG: 1e-6,
  safety: { maxBadSteps: 5, rollbackLrFactor: 0.5, maxRollbacks: 3 },
};

/**
 * The hint regime of the small presets. The published sampler (≈0.04 % of pixels as single dots, half the
 * samples without hints) gives a small network too little signal to learn to follow hints (issue 14: the
 * shipped model's output was the same with 0, 20 or 100 hints). So 40 % of the samples get 20–150 dots of
 * 1–9 model pixels across, as the app places them; the other 60 % keep the published draw (about 30 % without
 * hints, so colouring without hints is still learned). `tiny`'s 64² crops get fewer, smaller dots.
 */
const SMALL_MODEL_HINTS: HintRegime = { denseShare: 0.4, denseCount: [20, 150], dotSize: [1, 9] };

/** Each preset as overrides of the defaults (which are `full`). */
const PRESETS: Record<PresetName, DeepPartial<TrainConfig>> = {
  full: {},
  paper: { preset: 'paper', epochs: 20, lrDropEpoch: 15, finetuneSteps: 5000, finetuneEvery: 5 },
  small: {
    preset: 'small',
    hints: SMALL_MODEL_HINTS,
    crop: 256,
    batchSize: 8,
    imagesPerEpoch: 4000,
    generator: { width: 32, featureChannels: 512, dilations: [new Array<number>(8).fill(1), [1, 2, 4, 2], [1, 2, 4, 2], [1, 2, 1]], cardinality: [16, 16, 16, 8] },
    discriminator: { width: 32, cardinality: 8 },
    localFeatures: 'none',
    checkpointEvery: 500,
    validateEvery: 250,
    sampleEvery: 250,
  },
  tiny: {
    preset: 'tiny',
    hints: { denseShare: 0.4, denseCount: [4, 40], dotSize: [1, 5] },
    crop: 64,
    batchSize: 4,
    imagesPerEpoch: 800,
    validationImages: 8,
    generator: { width: 16, featureChannels: 16, dilations: [[1, 1], [1, 2], [1, 2], [1]], cardinality: [4, 4, 2, 2] },
    discriminator: { width: 16, cardinality: 2 },
    localFeatures: 'none',
    epochs: 3,
    lrDropEpoch: 2,
    lrG: 1e-3,
    lrD: 4e-3,
    checkpointEvery: 50,
    validateEvery: 25,
    sampleEvery: 50,
    progressEvery: 10,
  },
};

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends unknown[] ? T[K] : T[K] extends object | null ? DeepPartial<T[K]> : T[K] };

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

// ---- the field table: paths, types, help --------------------------------------------------------------------

type FieldType = 'integer' | 'number' | 'string' | 'enum' | 'integers' | 'integer-lists' | 'pair';

interface Field {
  path: string;
  type: FieldType;
  /** null is allowed (written `none` on the command line). */
  nullable?: boolean;
  values?: readonly string[];
  help: string;
}

export const FIELDS: readonly Field[] = [
  { path: 'preset', type: 'enum', values: PRESET_NAMES, help: 'base settings: full, paper, small, tiny' },
  { path: 'seed', type: 'integer', help: 'seed of weight init, data order, crops, flips and hints' },
  { path: 'data', type: 'string', help: '"generated" or a prepared data-set directory' },
  { path: 'imagesPerEpoch', type: 'integer', nullable: true, help: 'images per epoch (none: the whole data set)' },
  { path: 'validationImages', type: 'integer', help: 'held-out images, validated with fixed hints' },
  { path: 'hints.denseShare', type: 'number', help: 'share of samples with dense dot hints (0: the published sampler alone)' },
  { path: 'hints.denseCount', type: 'pair', help: 'dots per dense sample, min,max: 20,150' },
  { path: 'hints.dotSize', type: 'pair', help: 'dot diameter in model pixels, min,max within 1-9 (the app\'s dots): 1,9' },
  { path: 'hintInput', type: 'enum', values: HINT_INPUTS, help: 'how the generator receives hints: dots (published), or spread over line-art regions with a confidence that fades over paper (spread) or only past lines (regions)' },
  { path: 'paperOverlay', type: 'number', help: 'share of samples with panel gutters and lettered balloons drawn over them, white in the target (0: none)' },
  { path: 'crop', type: 'integer', help: 'square training crop in pixels, a multiple of 16' },
  { path: 'batchSize', type: 'integer', help: 'images per batch' },
  { path: 'generator.width', type: 'integer', help: 'generator base width (published 64)' },
  { path: 'generator.featureChannels', type: 'integer', help: 'local-feature channels (512 with the published extractor)' },
  { path: 'generator.dilations', type: 'integer-lists', help: 'block dilations of tunnel4,3,2,1, JSON: [[1,1],[1,2],[1,2],[1]]' },
  { path: 'generator.cardinality', type: 'integers', help: 'cardinality of tunnel4,3,2,1: 32,32,32,16' },
  {
    path: 'generator.hintGate', type: 'enum', values: ['off', 'on'],
    help: 'on: a fourth exit channel gates the hint colour straight into the image where the network trusts it (off: published)',
  },
  { path: 'discriminator.width', type: 'integer', help: 'discriminator base width (published 64)' },
  { path: 'discriminator.cardinality', type: 'integer', help: 'discriminator block cardinality (published 8)' },
  { path: 'localFeatures', type: 'enum', values: ['extractor', 'none'], help: 'extractor: frozen SE-ResNeXt features; none: zeros' },
  { path: 'extractorWeights', type: 'string', nullable: true, help: 'published extractor weights (safetensors or .pth)' },
  { path: 'vggWeights', type: 'string', nullable: true, help: "torchvision VGG16 weights; without them the perceptual loss is off" },
  { path: 'epochs', type: 'integer', help: 'training epochs' },
  { path: 'lrDropEpoch', type: 'integer', help: 'epoch from which the learning rates are multiplied by lr-drop-factor' },
  { path: 'lrDropFactor', type: 'number', help: 'learning-rate factor after lr-drop-epoch (0.1)' },
  { path: 'maxSteps', type: 'integer', nullable: true, help: 'stop after this many steps (none: all epochs)' },
  { path: 'lrG', type: 'number', help: 'generator learning rate' },
  { path: 'lrD', type: 'number', help: 'discriminator learning rate' },
  { path: 'betas', type: 'pair', help: 'Adam betas: 0.5,0.9' },
  { path: 'loss.l1', type: 'number', help: 'weight of the L1 terms (10)' },
  { path: 'loss.guide', type: 'number', help: 'weight of the guide decoder L1 inside the L1 term (0.9)' },
  { path: 'loss.adversarial', type: 'number', help: 'weight of the adversarial term (1)' },
  { path: 'loss.perceptual', type: 'number', help: 'weight of the VGG perceptual term (1)' },
  { path: 'loss.white', type: 'number', help: 'weight of the white-colour penalty (1)' },
  { path: 'loss.hint', type: 'number', help: 'weight of the hint-fidelity L1, weighted by hint confidence (0: the published recipe)' },
  { path: 'loss.painted', type: 'number', help: "with the hint gate: weight of the L1 of the network's own colour before the gate, inside the L1 term (0: off)" },
  { path: 'loss.gate', type: 'number', help: 'with the hint gate: weight of its supervision, BCE of the gate against whether the hint fill is the true colour, weighted by confidence (0: off)' },
  { path: 'loss.realLabel', type: 'number', help: "discriminator's target for real images (one-sided smoothing, 0.9)" },
  { path: 'checkpointEvery', type: 'integer', help: 'steps between checkpoints' },
  { path: 'keepLast', type: 'integer', help: 'checkpoints kept besides the best by validation L1' },
  { path: 'validateEvery', type: 'integer', help: 'steps between validations' },
  { path: 'sampleEvery', type: 'integer', help: 'steps between sample grids' },
  { path: 'progressEvery', type: 'integer', help: 'steps between progress lines when not on a terminal' },
  { path: 'finetune', type: 'string', nullable: true, help: 'fine-tune on this folder of black-and-white pages (needs --from a checkpoint or exported generator)' },
  { path: 'finetuneSteps', type: 'integer', help: 'fine-tuning steps (3500; paper 5000)' },
  { path: 'finetuneEvery', type: 'integer', help: 'a page round after every N-th fine-tuning step (10; paper 5)' },
  { path: 'finetuneDiscriminatorSteps', type: 'integer', help: 'D steps per page round (5)' },
  { path: 'finetuneLrG', type: 'number', help: 'generator learning rate while fine-tuning (1e-6)' },
  { path: 'safety.maxBadSteps', type: 'integer', help: 'consecutive NaN/Inf updates before a rollback' },
  { path: 'safety.rollbackLrFactor', type: 'number', help: 'learning-rate factor at each rollback' },
  { path: 'safety.maxRollbacks', type: 'integer', help: 'rollbacks before the run stops as diverged' },
];

const kebab = (path: string) => path.replace(/\./g, '-').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
export const flagOf = (field: Field) => `--${kebab(field.path)}`;
const FIELD_BY_FLAG = new Map(FIELDS.map((f) => [flagOf(f), f]));
const FIELD_BY_PATH = new Map(FIELDS.map((f) => [f.path, f]));

/** The flags table for --help. */
export function configHelp(): string {
  return flagsHelp(CONFIG_FLAGS);
}

// ---- resolution ---------------------------------------------------------------------------------------------

const clone = <T>(v: T): T => structuredClone(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep merge: objects merge key by key, everything else (arrays included) replaces. */
function merge<T>(base: T, over: unknown): T {
  if (!isObject(over) || !isObject(base)) return clone(over) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? merge(out[k], v) : clone(v);
  return out as T;
}

function getPath(config: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (isObject(o) ? o[k] : undefined), config);
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = target;
  for (const k of keys.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
  o[keys.at(-1)!] = value;
}

/** The defaults with a preset applied. */
export function presetConfig(name: PresetName): TrainConfig {
  if (!PRESET_NAMES.includes(name)) throw new ConfigError(`Unknown preset "${name}"; use one of ${PRESET_NAMES.join(', ')}.`);
  return merge(clone(FULL), PRESETS[name]);
}

/** Every leaf path of a partial config, to report keys the table does not know. */
function leafPaths(value: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(value).flatMap(([k, v]) => {
    const path = prefix + k;
    return isObject(v) && !FIELD_BY_PATH.has(path) ? leafPaths(v, `${path}.`) : [path];
  });
}

/** The deepest a config file nests: {"generator": {"dilations": [[1, 1], …]}} is 4. */
const MAX_CONFIG_NESTING = 8;

/** Parses a JSON config file's text: a partial TrainConfig whose keys are all known. */
export function parseConfigJson(text: string, source = 'config file'): DeepPartial<TrainConfig> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${source}: not valid JSON (${(e as Error).message}).`);
  }
  if (!isObject(json)) throw new ConfigError(`${source}: expected a JSON object of settings, e.g. {"preset": "tiny", "batchSize": 2}.`);
  // Checked before any walk or copy of it would overflow the call stack.
  if (nestedDeeperThan(json, MAX_CONFIG_NESTING)) throw new ConfigError(`${source}: values nested more than ${MAX_CONFIG_NESTING} levels deep; no setting is (a damaged or crafted file).`);
  for (const path of leafPaths(json)) {
    if (FIELD_BY_PATH.has(path)) continue;
    const guess = nearest(path, [...FIELD_BY_PATH.keys()]);
    throw new ConfigError(`${source}: unknown setting "${path}"${guess ? ` (did you mean "${guess}"?)` : ''}.`);
  }
  return json as DeepPartial<TrainConfig>;
}

function parseFlagValue(field: Field, text: string, flag: string): unknown {
  const fail = (expected: string): never => {
    throw new ConfigError(`${flag}: expected ${expected}, got "${text}".`);
  };
  if (field.nullable && text === 'none') return null;
  const number = (s: string) => (s.trim() !== '' && Number.isFinite(Number(s)) ? Number(s) : fail('a number'));
  switch (field.type) {
    case 'integer':
    case 'number':
      return number(text);
    case 'string':
    case 'enum':
      return text;
    case 'integers':
      return text.split(',').map(number);
    case 'pair': {
      const values = text.split(',').map(number);
      return values.length === 2 ? values : fail('two numbers separated by a comma');
    }
    case 'integer-lists': {
      let lists: unknown;
      try {
        lists = JSON.parse(text);
      } catch {
        return fail('a JSON list of lists, e.g. [[1,1],[1,2],[1,2],[1]]');
      }
      return nestedDeeperThan(lists, 2) ? fail('a JSON list of lists, e.g. [[1,1],[1,2],[1,2],[1]]') : lists;
    }
  }
}

/** The settings as flags for the command-line parser (src/io/flags.ts), one per field. */
export const CONFIG_FLAGS: readonly FlagSpec[] = FIELDS.map((f) => ({ name: flagOf(f).slice(2), value: `<${f.nullable ? `${f.type}|none` : f.type}>`, help: f.help }));

/** The values of parsed settings flags (`--lr-g 1e-3 --batch-size 2`) as a partial config; other names are ignored. */
export function configFromFlags(values: ReadonlyMap<string, string>): DeepPartial<TrainConfig> {
  const out: Record<string, unknown> = {};
  for (const [name, text] of values) {
    const field = FIELD_BY_FLAG.get(`--${name}`);
    if (field) setPath(out, field.path, parseFlagValue(field, text, `--${name}`));
  }
  return out as DeepPartial<TrainConfig>;
}

/** Command-line flags holding settings only, as a partial config. Unknown flags are errors. */
export function parseConfigFlags(argv: readonly string[]): DeepPartial<TrainConfig> {
  const parsed = parseFlags(argv, CONFIG_FLAGS);
  if (parsed.positionals.length) throw new ConfigError(`Unexpected argument "${parsed.positionals[0]}": settings are flags (--name value).`);
  return configFromFlags(parsed.values);
}

export interface ConfigLayers {
  /** The preset; default: the file's or the flags' `preset`, else `full`. */
  preset?: PresetName;
  /** Start from this config instead of a preset (a resumed run's saved config). */
  base?: TrainConfig;
  file?: DeepPartial<TrainConfig>;
  flags?: DeepPartial<TrainConfig>;
}

/**
 * The config a checkpoint saved, with the keys added since filled in as that run had them, validated: a run saved
 * before `hints` existed was trained with the published sampler, before `hintInput` on dots, before `loss.hint` (and `loss.painted`, `loss.gate`)
 * without that term, before `generator.hintGate` without the gate, before `paperOverlay` without paper.
 */
export function savedConfig(saved: TrainConfig): TrainConfig {
  return validateConfig(merge({ hints: { ...PUBLISHED_HINTS }, hintInput: 'dots', paperOverlay: 0, loss: { hint: 0, painted: 0, gate: 0 }, generator: { hintGate: 'off' } } as TrainConfig, saved));
}

/**
 * The configuration of a run that made an exported generator (exportGenerator's metadata: its preset, generator
 * sizes, local features and hint encoding): the preset's defaults with those settings. The rest of that run's
 * settings (data, schedule, losses) is not in the file; a run --from it takes its own.
 */
export function exportedConfig(preset: string, networks: Pick<TrainConfig, 'generator' | 'localFeatures' | 'hintInput'>): TrainConfig {
  if (!(PRESET_NAMES as readonly string[]).includes(preset)) throw new ConfigError(`its "preset" metadata is ${JSON.stringify(preset)}, expected one of ${PRESET_NAMES.join(', ')}`);
  return savedConfig(merge(presetConfig(preset as PresetName), networks));
}

/** defaults ← preset (or base) ← file ← flags, validated. */
export function resolveConfig({ preset, base, file = {}, flags = {} }: ConfigLayers): TrainConfig {
  const name = preset ?? flags.preset ?? file.preset ?? base?.preset ?? 'full';
  const start = base ? savedConfig(base) : presetConfig(name);
  const config = merge(merge(start, file), flags);
  if (!base) config.preset = name;
  return validateConfig(config);
}

/**
 * Keys that define the model, the data and the random streams: a resumed run must keep them (a checkpoint's
 * weights and step numbering only make sense with them). The others (schedule length, intervals) may change.
 */
export const FROZEN_ON_RESUME = [
  'preset', 'seed', 'data', 'imagesPerEpoch', 'validationImages', 'crop', 'batchSize', 'generator', 'discriminator', 'localFeatures', 'hintInput', 'finetune',
] as const;

/** The keys that define the networks: a fine-tuning run keeps them from the checkpoint it starts from. */
export const MODEL_KEYS = ['generator', 'discriminator', 'localFeatures', 'hintInput'] as const;

/** Whether a run started from a checkpoint of `saved` adds the hint gate to its ungated generator (graftHintGate). */
export function addsHintGate(saved: TrainConfig, resolved: TrainConfig): boolean {
  return saved.generator.hintGate !== 'on' && resolved.generator.hintGate === 'on';
}

/**
 * The network differences between a checkpoint's config and a run that starts from it (`--from`): those of
 * MODEL_KEYS, less the two changes that keep every trained tensor: another hint encoding (`hintInput`: the same
 * four input channels, filled differently) and adding the hint gate to an ungated generator (graftHintGate).
 * With `freshDiscriminator` (the start holds no discriminator) the discriminator's settings are the run's own.
 */
export function startFromDifferences(saved: TrainConfig, resolved: TrainConfig, { freshDiscriminator = false } = {}): string[] {
  const kept = { ...saved, hintInput: resolved.hintInput, generator: addsHintGate(saved, resolved) ? { ...saved.generator, hintGate: resolved.generator.hintGate } : saved.generator };
  // A start without a discriminator (an exported generator) builds the run's own, of any size.
  const keys = MODEL_KEYS.filter((k) => !(freshDiscriminator && k === 'discriminator'));
  const changed = keys.filter((k) => frozenDifferences(kept, resolved, [k]).length);
  return frozenDifferences(saved, resolved, changed); // worded with the checkpoint's own values
}

/**
 * The `keys` whose values differ between a checkpoint's config and the resolved one. Compared with sorted keys:
 * a key filled in by `savedConfig` lands in another place than the same key from a preset.
 */
export function frozenDifferences(saved: TrainConfig, resolved: TrainConfig, keys: readonly (keyof TrainConfig)[] = FROZEN_ON_RESUME): string[] {
  return keys.filter((k) => canonicalJson(saved[k]) !== canonicalJson(resolved[k])).map(
    (k) => `${k}: checkpoint ${JSON.stringify(saved[k])}, now ${JSON.stringify(resolved[k])}`,
  );
}

/** JSON with every object's keys sorted, so that equal values give equal text. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isObject(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v);
}

// ---- validation ---------------------------------------------------------------------------------------------

/** Checks every value; throws one ConfigError listing every problem with the flag that sets it. */
export function validateConfig(config: TrainConfig): TrainConfig {
  const problems: string[] = [];
  const flag = (path: string) => flagOf(FIELD_BY_PATH.get(path)!);
  const check = (ok: boolean, path: string, want: string) => {
    if (!ok) problems.push(`${flag(path)} (${path}) must be ${want}, got ${quoteValue(getPath(config, path))}.`);
    return ok;
  };
  const isInt = (v: unknown, min: number) => Number.isSafeInteger(v) && (v as number) >= min;
  const isNum = (v: unknown, lo: number, hi = Infinity) => typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi;

  for (const field of FIELDS) {
    const v = getPath(config, field.path);
    if (v === null && field.nullable) continue;
    switch (field.type) {
      case 'enum':
        check(typeof v === 'string' && field.values!.includes(v), field.path, `one of ${field.values!.join(', ')}`);
        break;
      case 'string':
        check(typeof v === 'string' && v.length > 0, field.path, 'a non-empty string');
        break;
      case 'integer':
        check(isInt(v, field.path === 'seed' ? 0 : 1), field.path, field.path === 'seed' ? 'an integer ≥ 0' : 'an integer ≥ 1');
        break;
      case 'number':
        check(typeof v === 'number' && Number.isFinite(v), field.path, 'a finite number');
        break;
      default:
        break;
    }
  }
  if (problems.length) throw new ConfigError(`Invalid training configuration:\n  ${problems.join('\n  ')}`);

  const { generator: g, discriminator: d } = config;
  check(isNum(config.hints.denseShare, 0, 1), 'hints.denseShare', 'in [0, 1]');
  check(isNum(config.paperOverlay, 0, 1), 'paperOverlay', 'in [0, 1]');
  const isRange = (v: unknown, lo: number, hi: number) => Array.isArray(v) && v.length === 2 && v.every((x) => isInt(x, lo) && x <= hi) && v[0] <= v[1];
  check(isRange(config.hints.denseCount, 1, 100_000), 'hints.denseCount', 'two integers min,max with 1 ≤ min ≤ max');
  check(isRange(config.hints.dotSize, MIN_DOT_SIZE, MAX_DOT_SIZE), 'hints.dotSize', `two integers min,max with ${MIN_DOT_SIZE} ≤ min ≤ max ≤ ${MAX_DOT_SIZE}`);
  check(config.crop % 16 === 0 && config.crop >= 32, 'crop', 'a multiple of 16, at least 32 (the generator halves it four times)');
  check(config.lrDropEpoch <= config.epochs, 'lrDropEpoch', `at most epochs (${config.epochs}); equal means no drop`);
  check(isNum(config.lrDropFactor, 0, 1), 'lrDropFactor', 'in [0, 1]');
  check(isNum(config.lrG, 0), 'lrG', 'a finite number ≥ 0');
  check(isNum(config.finetuneLrG, 0), 'finetuneLrG', 'a finite number ≥ 0');
  check(isNum(config.lrD, 0), 'lrD', 'a finite number ≥ 0');
  check(Array.isArray(config.betas) && config.betas.length === 2 && config.betas.every((b) => isNum(b, 0, 0.999999)), 'betas', 'two numbers in [0, 1)');
  for (const key of ['l1', 'guide', 'adversarial', 'perceptual', 'white', 'hint', 'painted', 'gate'] as const) check(isNum(config.loss[key], 0), `loss.${key}`, 'a finite number ≥ 0');
  check(config.loss.painted === 0 || config.generator.hintGate === 'on', 'loss.painted', '0 without the hint gate (--generator-hint-gate on), which is what it supervises');
  check(config.loss.gate === 0 || config.generator.hintGate === 'on', 'loss.gate', '0 without the hint gate (--generator-hint-gate on), which is what it supervises');
  check(isNum(config.loss.realLabel, 0, 1) && config.loss.realLabel > 0, 'loss.realLabel', 'in (0, 1]');
  check(isNum(config.safety.rollbackLrFactor, 0, 1) && config.safety.rollbackLrFactor > 0, 'safety.rollbackLrFactor', 'in (0, 1]');
  check(config.maxSteps === null || isInt(config.maxSteps, 1), 'maxSteps', 'an integer ≥ 1 or none');
  check(config.imagesPerEpoch === null || config.imagesPerEpoch >= 2 * config.batchSize, 'imagesPerEpoch', `at least two batches (${2 * config.batchSize}) or none`);

  // Widths: squeeze-excitation (ratio 16) needs 16 channels in every block; cardinality divides a block's half width.
  if (check(g.width % 2 === 0 && g.width >= 16, 'generator.width', 'an even integer ≥ 16 (tunnel1 has `width` channels and squeeze-excitation needs 16)')) {
    const tunnelWidths = [8, 4, 2, 1].map((f) => f * g.width);
    check(
      Array.isArray(g.cardinality) && g.cardinality.length === 4 && g.cardinality.every((c, i) => isInt(c, 1) && (tunnelWidths[i] / 2) % c === 0),
      'generator.cardinality',
      `four integers, each dividing half its tunnel's width (${tunnelWidths.map((w) => w / 2).join(', ')})`,
    );
  }
  check(
    Array.isArray(g.dilations) && g.dilations.length === 4 && g.dilations.every((l) => Array.isArray(l) && l.length > 0 && l.every((x) => isInt(x, 1))),
    'generator.dilations',
    'four non-empty lists of integers ≥ 1 (one per tunnel, tunnel4 first)',
  );
  if (config.localFeatures === 'extractor') {
    check(g.featureChannels === 512, 'generator.featureChannels', '512 with the extractor branch (the published extractor outputs 512 channels)');
    if (config.extractorWeights === null) {
      problems.push(
        `The ${config.preset} preset trains with the extractor branch (localFeatures: extractor), which needs the published ` +
          'SE-ResNeXt weights: pass --extractor-weights <file> (safetensors or .pth), or --local-features none to train without it.',
      );
    }
  }
  check(d.width >= 16 && d.width % 2 === 0, 'discriminator.width', 'an even integer ≥ 16 (squeeze-excitation needs 16 channels)');
  check((d.width / 2) % d.cardinality === 0, 'discriminator.cardinality', `a divisor of half the discriminator width (${d.width / 2})`);
  if (problems.length) throw new ConfigError(`Invalid training configuration:\n  ${problems.join('\n  ')}`);
  return config;
}

/** One line saying what the run trains without, for the log and the terminal. */
export function describeLocalFeatures(config: TrainConfig): string {
  return config.localFeatures === 'none'
    ? 'local features: none — the extractor branch is off; the generator gets zeros in place of its local features'
    : `local features: frozen extractor from ${config.extractorWeights}`;
}

/** One line saying how hints are drawn, for the log and the terminal. */
export function describeHints(config: TrainConfig): string {
  const { denseShare, denseCount, dotSize } = config.hints;
  const range = ([a, b]: [number, number]) => (a === b ? `${a}` : `${a}–${b}`);
  const drawn =
    denseShare === 0
      ? 'hints: the published sampler (≈0.04 % of pixels as single dots, half the images without hints)'
      : `hints: ${Math.round(denseShare * 100)} % of the images get ${range(denseCount)} dots of ${range(dotSize)} px from coloured regions, ` +
        'the rest the published sampler';
  const spread = { dots: '', spread: "; spread over the sketch's regions before the generator", regions: "; spread over the sketch's regions, each a hint's own, before the generator" };
  const paper = config.paperOverlay > 0 ? `; ${Math.round(config.paperOverlay * 100)} % of the images under panel gutters and lettered balloons` : '';
  return drawn + spread[config.hintInput] + paper;
}
