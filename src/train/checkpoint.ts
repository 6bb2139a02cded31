// Training checkpoints: one safetensors file per checkpoint, `<out>/checkpoints/step-<8 digits>.safetensors`,
// holding everything a run needs to continue bit for bit:
//   generator.<name>                              the generator's state dict (PyTorch names)
//   discriminator.<name>                          the discriminator's, spectral-norm u/v included
//   optimizer.generator.<param>.exp_avg|exp_avg_sq     Adam moments, by parameter name
//   optimizer.discriminator.<param>.exp_avg|exp_avg_sq
//   __metadata__: format, config (JSON), state (JSON: step, epoch, learning-rate factor, RNG states, Adam
//                 hyperparameters and per-parameter step counts, last validation)
// One file per checkpoint makes the write atomic: it is written to a hidden temporary file beside the target,
// fsync'ed, renamed over the target (atomic within one file system) and the directory fsync'ed. An interrupted
// or failed write leaves at most a stale temporary file, never a half-written checkpoint, and never touches an
// earlier checkpoint. The store keeps the newest `keepLast` checkpoints and the best by validation L1.
// The metadata holds the CRC-32 of the data section (`crc32`), checked on every load: a checkpoint whose bytes
// changed on disk is named with the reason and skipped, never trained from nor reported as the best.
import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import { FileWriteError, isTemporaryName, writeFileAtomic } from '../io/atomic-file.js';
import { readSafetensors, readSafetensorsHeader, writeSafetensors, type TensorData } from '../io/safetensors.js';
import { crc32 } from '../io/zip-format.js';
import { PROJECT_GENERATOR_FORMAT } from '../nets/architectures.js';
import type { StateDict, StateEntry } from '../nets/module.js';
import { exportedConfig, savedConfig, type TrainConfig } from './config.js';

export const CHECKPOINT_FORMAT = 'manga-colorize/training-checkpoint/1';

/** Adam's hyperparameters and each parameter's own step count (0: never updated, no moments stored). */
export interface OptimizerMeta {
  lr: number;
  betas: [number, number];
  eps: number;
  steps: Record<string, number>;
}

/** The counters and random-stream positions of a run: everything besides tensors and the config. */
export interface TrainingState {
  /** Steps done (one step = one D and one G update). */
  step: number;
  /** Multiplier of both learning rates after rollbacks (1 when none happened). */
  lrFactor: number;
  rollbacks: number;
  rng: {
    /** The engine generator that initialised the weights ({seed, calls}). */
    init: { seed: number; calls: number };
    /** The engine's default generator. */
    engineDefault: { seed: number; calls: number };
    /** The batch stream: batch `nextBatch` is the next one read (the stream is a function of seed and index). */
    data: { seed: number; nextBatch: number };
  };
  optimizers: { generator: OptimizerMeta; discriminator: OptimizerMeta };
  /** The newest validation (made at this checkpoint's step when `validation.step` equals `step`). */
  validation: ValidationMetrics | null;
  /** The run's first validation (step 0), for the summary's before/after. */
  firstValidation: ValidationMetrics | null;
  /** Training time so far, for rates and the summary. */
  elapsedMs: number;
}

export interface ValidationMetrics {
  step: number;
  val_l1: number;
  val_psnr: number;
  val_psnr_hinted: number;
}

/** Adam moments of one parameter, on the host. */
export interface MomentEntry {
  expAvg: StateEntry;
  expAvgSq: StateEntry;
}

export interface CheckpointContents {
  config: TrainConfig;
  state: TrainingState;
  generator: StateDict;
  discriminator: StateDict;
  moments: { generator: Map<string, MomentEntry>; discriminator: Map<string, MomentEntry> };
}

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

const NETWORKS = ['generator', 'discriminator'] as const;

export function encodeCheckpoint(c: CheckpointContents): Uint8Array {
  const tensors = new Map<string, TensorData>();
  for (const net of NETWORKS) for (const [name, entry] of c[net]) tensors.set(`${net}.${name}`, entry);
  for (const net of NETWORKS) {
    for (const [name, m] of c.moments[net]) {
      tensors.set(`optimizer.${net}.${name}.exp_avg`, m.expAvg);
      tensors.set(`optimizer.${net}.${name}.exp_avg_sq`, m.expAvgSq);
    }
  }
  // The data section is the tensors' raw bytes in this order (F32 and I64 are written as they are held).
  let crc = 0;
  for (const { data } of tensors.values()) crc = crc32(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), crc);
  const metadata = { format: CHECKPOINT_FORMAT, config: JSON.stringify(c.config), state: JSON.stringify(c.state), crc32: crcText(crc) };
  return writeSafetensors(tensors, { metadata });
}

const crcText = (crc: number) => crc.toString(16).padStart(8, '0');

/** Why the file's data section does not match the CRC-32 its metadata holds, or null when it does. */
function dataProblem(bytes: Uint8Array): string | null {
  const { metadata, dataStart } = readSafetensorsHeader(bytes);
  if (metadata.crc32 === undefined) return null; // written before checksums were stored
  const actual = crcText(crc32(bytes.subarray(dataStart)));
  return actual === metadata.crc32 ? null : `its tensor data fails the CRC-32 check (stored ${metadata.crc32}, computed ${actual}): the file is damaged`;
}

/** `read()` of the file `source`, its format errors as CheckpointErrors that name the file. */
function readNamed<T>(source: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    throw new CheckpointError(`${source}: ${(e as Error).message}`);
  }
}

export function decodeCheckpoint(bytes: Uint8Array, source: string): CheckpointContents {
  const { tensors, metadata } = readNamed(source, () => readSafetensors(bytes, { copy: true }));
  const damage = metadata.format === CHECKPOINT_FORMAT ? dataProblem(bytes) : null;
  if (damage) throw new CheckpointError(`${source}: ${damage}.`);
  if (metadata.format !== CHECKPOINT_FORMAT) {
    const exported = metadata.format === PROJECT_GENERATOR_FORMAT ? ' It is a generator exported for inference (npm run colorize).' : '';
    throw new CheckpointError(
      `${source} is not a training checkpoint of this project (format ${JSON.stringify(metadata.format ?? null)}, expected ${CHECKPOINT_FORMAT}).${exported} ` +
        '--resume and --export take a checkpoint of a training run (<run>/checkpoints/step-*.safetensors); --from takes one or a generator this project exported.',
    );
  }
  let config: TrainConfig;
  let state: TrainingState;
  try {
    config = JSON.parse(metadata.config) as TrainConfig;
    state = JSON.parse(metadata.state) as TrainingState;
  } catch (e) {
    throw new CheckpointError(`${source}: its config or state metadata is not valid JSON (${(e as Error).message}); the file is damaged.`);
  }
  const contents: CheckpointContents = {
    config: savedConfig(config),
    state,
    generator: new Map(),
    discriminator: new Map(),
    moments: { generator: new Map(), discriminator: new Map() },
  };
  for (const [name, t] of tensors) {
    if (t.dtype === 'I64') throw new CheckpointError(`${source}: tensor ${name} is int64; training checkpoints hold float32 only.`);
    const entry = { shape: t.shape, data: t.data };
    const moment = /^optimizer\.(generator|discriminator)\.(.+)\.(exp_avg|exp_avg_sq)$/.exec(name);
    if (moment) {
      const [, net, param, which] = moment as unknown as [string, 'generator' | 'discriminator', string, string];
      const slot = contents.moments[net].get(param) ?? ({} as MomentEntry);
      slot[which === 'exp_avg' ? 'expAvg' : 'expAvgSq'] = entry;
      contents.moments[net].set(param, slot);
      continue;
    }
    const net = NETWORKS.find((n) => name.startsWith(`${n}.`));
    if (!net) throw new CheckpointError(`${source}: unexpected tensor "${name}" (expected generator.*, discriminator.* or optimizer.*).`);
    contents[net].set(name.slice(net.length + 1), entry);
  }
  for (const net of NETWORKS) {
    for (const [param, m] of contents.moments[net]) {
      if (!m.expAvg || !m.expAvgSq) throw new CheckpointError(`${source}: the Adam moments of ${net} parameter ${param} are incomplete.`);
    }
  }
  return contents;
}

/**
 * The weights a run `--from` starts with: a training checkpoint's networks, or the generator alone of a file
 * exported for inference (`--export`, a finished run's generator.safetensors, the shipped
 * models/default.safetensors), whose run builds its own discriminator. Optimizer moments never carry over.
 */
export interface StartWeights {
  /** The networks' settings (for an exported generator: its preset's defaults with the file's metadata). */
  config: TrainConfig;
  generator: StateDict;
  /** null for an exported generator. */
  discriminator: StateDict | null;
  /** The checkpoint's step; null for an exported generator. */
  step: number | null;
}

/** A training checkpoint's networks as a start. */
export function checkpointStart(c: CheckpointContents): StartWeights {
  return { config: c.config, generator: c.generator, discriminator: c.discriminator, step: c.state.step };
}

/** A training checkpoint or an exported generator of this project, as a run --from it starts. */
export function decodeStartWeights(bytes: Uint8Array, source: string): StartWeights {
  // The header decides; a checkpoint's tensors (weights and Adam moments) are then read once, by decodeCheckpoint.
  const { metadata } = readNamed(source, () => readSafetensorsHeader(bytes));
  if (metadata.format !== PROJECT_GENERATOR_FORMAT) return checkpointStart(decodeCheckpoint(bytes, source));
  let config: TrainConfig;
  try {
    config = exportedConfig(metadata.preset ?? 'full', {
      generator: JSON.parse(metadata.generator) as TrainConfig['generator'],
      localFeatures: metadata.localFeatures as TrainConfig['localFeatures'],
      hintInput: (metadata.hintInput ?? 'dots') as TrainConfig['hintInput'],
    });
  } catch (e) {
    throw new CheckpointError(`${source}: the exported generator's metadata does not describe a generator this project builds (${(e as Error).message}); export it again.`);
  }
  const { tensors } = readNamed(source, () => readSafetensors(bytes, { copy: true }));
  const generator: StateDict = new Map();
  for (const [name, t] of tensors) {
    if (t.dtype === 'I64') throw new CheckpointError(`${source}: tensor ${name} is int64; an exported generator holds floats only.`);
    generator.set(name, { shape: t.shape, data: t.data as Float32Array }); // F16/BF16 are widened on read
  }
  return { config, generator, discriminator: null, step: null };
}

// ---- atomic files ---------------------------------------------------------------------------------------

/** The file operations the store uses: Node's fs by default, a failing one in tests. */
export type FileSystem = Pick<
  typeof nodeFs,
  'openSync' | 'writeSync' | 'readSync' | 'fsyncSync' | 'closeSync' | 'renameSync' | 'unlinkSync' | 'readdirSync' | 'readFileSync' | 'mkdirSync' | 'statSync'
>;

/** The store's write: atomic (src/io/atomic-file.ts), its failure told in terms of checkpoints. */
function writeCheckpointFile(path: string, bytes: Uint8Array, fs: FileSystem): void {
  try {
    writeFileAtomic(path, bytes, fs);
  } catch (e) {
    if (!(e instanceof FileWriteError)) throw e;
    const full = e.code === 'ENOSPC' || e.code === 'EDQUOT';
    throw new CheckpointError(
      `Could not write ${path} (${(bytes.length / 2 ** 20).toFixed(1)} MiB): ${e.reason}. Nothing was replaced: earlier checkpoints are intact.` +
        (full ? ' Free some space (or lower --keep-last) and the next checkpoint will be written.' : ''),
    );
  }
}

function ignoreErrors(fn: () => void): void {
  try {
    fn();
  } catch {
    // Best effort: cleanup after a failure must not hide the failure itself.
  }
}

// ---- the store ------------------------------------------------------------------------------------------

export interface CheckpointInfo {
  path: string;
  step: number;
  /** Validation L1 at the checkpoint's step, or null when no validation ran then. */
  valL1: number | null;
}

const NAME = /^step-(\d{8,})\.safetensors$/;
export const checkpointName = (step: number) => `step-${String(step).padStart(8, '0')}.safetensors`;

export class CheckpointStore {
  constructor(
    readonly dir: string,
    readonly keepLast: number,
    private readonly fs: FileSystem = nodeFs,
  ) {}

  /** Checkpoints whose headers can be read, oldest first. Temporary and unrelated files are ignored. */
  list(): CheckpointInfo[] {
    return this.scan().checkpoints;
  }

  /** The readable checkpoints, oldest first, and each `step-*.safetensors` whose header is not, with the reason. */
  scan(): { checkpoints: CheckpointInfo[]; unreadable: string[] } {
    let names: string[];
    try {
      names = this.fs.readdirSync(this.dir) as string[];
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { checkpoints: [], unreadable: [] };
      throw e;
    }
    const checkpoints: CheckpointInfo[] = [];
    const unreadable: string[] = [];
    for (const name of names) {
      const match = NAME.exec(name);
      if (!match) continue;
      const path = join(this.dir, name);
      const state = this.peekState(path);
      if (typeof state === 'string') unreadable.push(`${path}: ${state}`);
      else checkpoints.push({ path, step: Number(match[1]), valL1: state.validation?.step === state.step ? state.validation.val_l1 : null });
    }
    return { checkpoints: checkpoints.sort((a, b) => a.step - b.step), unreadable };
  }

  /** The checkpoint with the lowest validation L1 by the headers (what pruning keeps), or null. */
  best(): CheckpointInfo | null {
    return this.list().reduce<CheckpointInfo | null>((b, c) => (c.valL1 !== null && (b === null || c.valL1 < b.valL1!) ? c : b), null);
  }

  /**
   * The best checkpoint whose data passes its checksum, for reports: damaged ones are listed with the reason and
   * the next best is taken.
   */
  verifiedBest(): { best: CheckpointInfo | null; skipped: string[] } {
    const skipped: string[] = [];
    const ranked = this.list()
      .filter((c) => c.valL1 !== null)
      .sort((a, b) => a.valL1! - b.valL1!);
    for (const c of ranked) {
      let problem: string | null;
      try {
        problem = dataProblem(this.fs.readFileSync(c.path));
      } catch (e) {
        problem = (e as Error).message;
      }
      if (!problem) return { best: c, skipped };
      skipped.push(`${c.path}: ${problem}`);
    }
    return { best: null, skipped };
  }

  /** Writes a checkpoint atomically, then removes those neither among the newest keepLast nor the best. */
  save(contents: CheckpointContents): string {
    this.fs.mkdirSync(this.dir, { recursive: true });
    const path = join(this.dir, checkpointName(contents.state.step));
    writeCheckpointFile(path, encodeCheckpoint(contents), this.fs);
    this.prune();
    return path;
  }

  load(path: string): CheckpointContents {
    let bytes: Uint8Array;
    try {
      bytes = this.fs.readFileSync(path);
    } catch (e) {
      throw new CheckpointError(`Cannot read checkpoint ${path}: ${(e as Error).message}`);
    }
    return decodeCheckpoint(bytes, path);
  }

  /**
   * The newest checkpoint that loads, with the paths of newer ones that did not (damaged files are skipped,
   * not deleted, so nothing is lost). Null when there is none.
   */
  loadLatest(): { path: string; contents: CheckpointContents; skipped: string[] } | null {
    const { checkpoints, unreadable } = this.scan();
    const skipped = [...unreadable];
    for (const info of checkpoints.reverse()) {
      try {
        return { path: info.path, contents: this.load(info.path), skipped };
      } catch (e) {
        skipped.push(`${info.path}: ${(e as Error).message}`);
      }
    }
    return null;
  }

  /** Removes temporary files left by a write that was interrupted (a crash or a kill during save). */
  removeTemporaries(): string[] {
    let names: string[];
    try {
      names = this.fs.readdirSync(this.dir) as string[];
    } catch {
      return [];
    }
    const stale = names.filter((n) => isTemporaryName(n, '.safetensors'));
    for (const name of stale) ignoreErrors(() => this.fs.unlinkSync(join(this.dir, name)));
    return stale;
  }

  private prune(): void {
    const all = this.list();
    const keep = new Set(all.slice(-this.keepLast).map((c) => c.path));
    const best = this.best();
    if (best) keep.add(best.path);
    for (const c of all) if (!keep.has(c.path)) ignoreErrors(() => this.fs.unlinkSync(c.path));
  }

  /** The state JSON from the header alone (a checkpoint is hundreds of MB at full size), or why it cannot be read. */
  private peekState(path: string): TrainingState | string {
    let fd: number | null = null;
    try {
      fd = this.fs.openSync(path, 'r');
      const prefix = new Uint8Array(8);
      if (this.fs.readSync(fd, prefix, 0, 8, 0) !== 8) return 'the file is shorter than a safetensors header (truncated)';
      const length = Number(new DataView(prefix.buffer).getBigUint64(0, true));
      if (length > 100_000_000 || 8 + length > this.fs.statSync(path).size) return `its header length (${length} bytes) does not fit the file (truncated or damaged)`;
      const header = new Uint8Array(length);
      if (this.fs.readSync(fd, header, 0, length, 8) !== length) return 'its header cannot be read in full (truncated)';
      const json = JSON.parse(new TextDecoder().decode(header)) as { __metadata__?: Record<string, string> };
      const metadata = json.__metadata__;
      if (metadata?.format !== CHECKPOINT_FORMAT) return `it is not a training checkpoint (format ${JSON.stringify(metadata?.format ?? null)})`;
      return JSON.parse(metadata.state) as TrainingState;
    } catch (e) {
      return `its header cannot be read (${(e as Error).message}): the file is damaged`;
    } finally {
      if (fd !== null) ignoreErrors(() => this.fs.closeSync(fd!));
    }
  }
}

/**
 * Writes the generator alone with its plain PyTorch names (what inference loads), the architecture in the
 * metadata. Atomic like the checkpoints.
 */
export function exportGenerator(path: string, generator: StateDict, config: TrainConfig, fs: FileSystem = nodeFs): void {
  const metadata = { format: PROJECT_GENERATOR_FORMAT, generator: JSON.stringify(config.generator), localFeatures: config.localFeatures, hintInput: config.hintInput, preset: config.preset };
  writeCheckpointFile(path, writeSafetensors(generator, { metadata }), fs);
}
