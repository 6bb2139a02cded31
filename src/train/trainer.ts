// The colorization GAN's training loop (REFERENCE §6). One step is a discriminator update on one batch and a
// generator update on the next ("batches alternate between a D step and a G step"); what each update minimises
// is a named table of loss terms in objectives.ts. Adam β (0.5, 0.9), lr G 1e-4 / D 4e-4, both ÷10 from the drop
// epoch. Each optimizer holds only its own network's parameters, and during the G update the discriminator's
// parameters do not even record gradients.
//
// Fine-tuning on black-and-white pages (REFERENCE §6; config.finetune): the same steps at generator lr 1e-6, and
// after every 10th a page round: 5 D updates on real colour vs G(page line art, empty hints), then one G update
// on pages with the adversarial loss alone (pages have no colour target). The run starts from another run's
// weights (`startFrom`). So may a normal run (a warm start): one that adds the hint gate to an ungated model or
// changes its hint encoding keeps every trained tensor (config.startFromDifferences).
//
// Speed: each kind of update (D, G, and fine-tuning's two page updates) is recorded once — forward, backward,
// optimizer — and replayed from then on (src/engine/recording.ts): the host uploads the batch into the same
// input tensors and the optimizers' step sizes, replays, and reads back the loss terms. The recordings share
// their scratch memory, as the updates never overlap. One that a reload made invalid (a rollback replaces the
// optimizer moments) is recorded again.
//
// Numerical safety: every update reads back its loss terms and the sum of all its gradients (one readback); a
// NaN or Inf in either skips the update — decided on the GPU by the optimizer's kernel, so the replay needs no
// readback in between. After `maxBadSteps` consecutive skipped updates the run rolls back to the newest
// checkpoint with its learning rates multiplied by `rollbackLrFactor`; no checkpoint is written from
// non-finite weights. Reproducibility: batches are a function of the step (src/train/batches.ts), the kernels
// are deterministic, and a checkpoint holds every other piece of state, so resuming continues bit for bit.
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { formatDuration } from '../io/progress.js';
import { engine, keep, tidy } from '../engine/engine.js';
import { compile, CompileGroup, type CompiledStep } from '../engine/compile.js';
import type { Recording } from '../engine/recording.js';
import { Generator, defaultGenerator } from '../kernels/random.js';
import { DiscriminatorV1 } from '../nets/discriminator-v1.js';
import type { SEResNeXt } from '../nets/extractor.js';
import { GeneratorV1, generatorV1Config, graftHintGate } from '../nets/generator-v1.js';
import type { Module } from '../nets/module.js';
import type { Vgg16Features } from '../nets/vgg16.js';
import { abs, concat, mean, mul, noGrad, reshape, slice, sub, sum, tensor, zeros, type Tensor } from '../ops/index.js';
import { writePng } from '../io/image.js';
import { Adam, type AdamState } from './adam.js';
import type { Batch, TrainingData } from './batches.js';
import {
  CheckpointStore, exportGenerator, type CheckpointContents, type FileSystem, type MomentEntry, type OptimizerMeta, type StartWeights, type TrainingState, type ValidationMetrics,
} from './checkpoint.js';
import { addsHintGate, describeHints, describeLocalFeatures, frozenDifferences, startFromDifferences, type TrainConfig } from './config.js';
import { TrainingLog, type EventName, type StepRecord, type ValidationRecord } from './log.js';
import { discriminatorObjective, evaluating, generate, generatorObjective, pageGeneratorObjective, withoutHints, type LossTerms, type Networks } from './objectives.js';
import { sampleGrid } from './samples.js';

/** Where a run's output and progress go besides its files; every method is optional. */
export interface TrainingReporter {
  step?(record: StepRecord, progress: Progress): void;
  validation?(record: ValidationRecord): void;
  /** Events worth a line on the terminal: warnings, skips, rollbacks, checkpoints. */
  event?(event: EventName, message: string): void;
}

export interface Progress {
  step: number;
  totalSteps: number;
  imagesPerSecond: number;
  /** Estimated time to the last step, milliseconds. */
  etaMs: number;
}

export interface TrainerOptions {
  config: TrainConfig;
  data: TrainingData;
  /** The run directory: log.jsonl, checkpoints/, samples/, generator.safetensors. */
  out: string;
  /** The frozen extractor, required when config.localFeatures is `extractor`. */
  extractor?: SEResNeXt | null;
  /** VGG16 features for the perceptual loss; without it the term is off (one warning). */
  vgg?: Vgg16Features | null;
  reporter?: TrainingReporter;
  /** File operations of the checkpoint store (tests inject failures). */
  fs?: FileSystem;
  /**
   * Replay each update's recording (default). False records every update anew, as if nothing were kept: the same
   * numbers, slower — the benchmark's baseline, and a way to rule the replay out when debugging.
   */
  replay?: boolean;
}

export interface UpdateResult {
  /** False when the update was skipped for a non-finite loss or gradient. */
  applied: boolean;
  loss: number;
  /** The loss terms (unweighted) and `grad_sum`, the sum of every gradient element. */
  terms: Record<string, number>;
}

export interface TrainingSummary {
  steps: number;
  totalSteps: number;
  images: number;
  elapsedMs: number;
  first: ValidationMetrics | null;
  last: ValidationMetrics | null;
  best: { path: string; valL1: number } | null;
  skippedUpdates: number;
  rollbacks: number;
  /** The generator exported for inference, also when the run stopped early (then at the step it reached). */
  generatorPath: string;
  lastCheckpoint: string | null;
  stoppedBy: string | null;
}

export class TrainingDivergedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingDivergedError';
  }
}

const nowMs = () => performance.now();
const allFinite = (values: Iterable<number>) => {
  for (const v of values) if (!Number.isFinite(v)) return false;
  return true;
};

/** A kind of update compiled once: its step, the names of the terms it reads back, the parameters it updates. */
interface UpdateEntry {
  step: CompiledStep<Tensor>;
  names: string[];
  updated: readonly number[];
}

/** An update submitted to the GPU whose terms are still on their way back (Trainer.submit / finish). */
interface PendingUpdate {
  phase: string;
  optimizer: Adam;
  entry: UpdateEntry;
  values: Promise<Float32Array>;
}

export class Trainer {
  readonly config: TrainConfig;
  readonly generator: GeneratorV1;
  readonly discriminator: DiscriminatorV1;
  readonly optimizerG: Adam;
  readonly optimizerD: Adam;
  readonly store: CheckpointStore;
  readonly log: TrainingLog;
  readonly totalSteps: number;
  /** Images in one epoch (the config's, else the data source's). */
  readonly epochImages: number;

  step = 0;
  lrFactor = 1;
  rollbacks = 0;
  skippedUpdates = 0;
  private consecutiveBad = 0;
  private elapsedMs = 0;
  private lastValidation: ValidationMetrics | null = null;
  private firstValidation: ValidationMetrics | null = null;
  private readonly initRng: Generator;
  private readonly extractor: SEResNeXt | null;
  private readonly vgg: Vgg16Features | null;
  private readonly data: TrainingData;
  private readonly reporter: TrainingReporter;
  private prefetched: { index: number; batch: Promise<Batch> } | null = null;
  /** The tensors every recorded update reads its batch from: hinted input [N, 6, S, S], colour target [N, 3, S, S]. */
  private readonly slots: { input: Tensor; target: Tensor };
  /**
   * One compiled step per kind of update (keyed by its phase name; src/engine/compile.ts), returning the loss terms
   * it writes, with the parameters its recording updates. The steps never run at the same time, so they share scratch.
   */
  private readonly updates = new Map<string, UpdateEntry>();
  private readonly updateGroup = new CompileGroup();

  constructor(readonly options: TrainerOptions) {
    const { config, data, out } = options;
    this.config = config;
    this.data = data;
    this.reporter = options.reporter ?? {};
    for (const source of [data.train, data.real, data.pages]) {
      if (source && (source.crop !== config.crop || source.batchSize !== config.batchSize)) {
        throw new Error(`Trainer: ${source.description} gives ${source.batchSize}×${source.crop}² batches, the config asks for ${config.batchSize}×${config.crop}².`);
      }
    }
    if (config.finetune !== null && !(data.real && data.pages)) throw new Error('Trainer: fine-tuning needs the black-and-white pages and a real-colour stream (TrainingData.pages and .real).');
    this.extractor = options.extractor ?? null;
    if (config.localFeatures === 'extractor') {
      if (!this.extractor) throw new Error('Trainer: localFeatures is "extractor" but no extractor was given (load it from --extractor-weights).');
      if (this.extractor.outChannels !== config.generator.featureChannels) {
        throw new Error(`Trainer: the extractor outputs ${this.extractor.outChannels} channels, generator.featureChannels is ${config.generator.featureChannels}.`);
      }
      this.extractor.setRequiresGrad(false).eval();
    } else if (this.extractor) {
      throw new Error('Trainer: an extractor was given but localFeatures is "none"; set --local-features extractor to use it.');
    }
    this.vgg = config.loss.perceptual > 0 ? (options.vgg ?? null) : null;
    this.vgg?.setRequiresGrad(false).eval();

    this.initRng = new Generator(config.seed);
    const { width, featureChannels, dilations, cardinality, hintGate } = config.generator;
    const sizes = {
      width, featureChannels, hintGate,
      dilations: dilations as [number[], number[], number[], number[]], cardinality: cardinality as [number, number, number, number],
    };
    this.generator = new GeneratorV1(generatorV1Config(sizes), { rng: this.initRng });
    this.discriminator = new DiscriminatorV1(config.discriminator, { rng: this.initRng });
    const adam = { betas: config.betas, eps: 1e-8 };
    this.optimizerG = new Adam(this.generator.parameters(), { lr: config.lrG, ...adam });
    this.optimizerD = new Adam(this.discriminator.parameters(), { lr: config.lrD, ...adam });

    this.epochImages = config.imagesPerEpoch ?? data.train.epochImages;
    const scheduled = config.finetune !== null ? config.finetuneSteps : Math.ceil((config.epochs * this.epochImages) / (2 * config.batchSize));
    this.totalSteps = Math.min(scheduled, config.maxSteps ?? Infinity);
    const [n, s] = [config.batchSize, config.crop];
    this.slots = { input: keep(zeros([n, 6, s, s])), target: keep(zeros([n, 3, s, s])) };
    this.store = new CheckpointStore(join(out, 'checkpoints'), config.keepLast, options.fs);
    this.log = new TrainingLog(join(out, 'log.jsonl'));
  }

  get epoch(): number {
    return Math.floor((this.step * 2 * this.config.batchSize) / this.epochImages);
  }

  /**
   * The learning rates of the current step: the recipe's, ÷10 from the drop epoch, times the rollback factor.
   * Fine-tuning has no epochs: G runs at finetuneLrG, D at lrD.
   */
  learningRates(): { g: number; d: number } {
    if (this.config.finetune !== null) return { g: this.config.finetuneLrG * this.lrFactor, d: this.config.lrD * this.lrFactor };
    const drop = this.epoch >= this.config.lrDropEpoch ? this.config.lrDropFactor : 1;
    return { g: this.config.lrG * drop * this.lrFactor, d: this.config.lrD * drop * this.lrFactor };
  }

  // ---- one step ------------------------------------------------------------------------------------------

  /** The generator input [N, 6, S, S] of a batch, with its hints or with the hint channels zeroed. */
  private static input(batch: Batch, hints = true): Tensor {
    const input = tensor(batch.input, [batch.batchSize, 6, batch.crop, batch.crop]);
    return hints ? input : withoutHints(input);
  }

  private static target(batch: Batch): Tensor {
    return tensor(batch.target, [batch.batchSize, 3, batch.crop, batch.crop]);
  }

  /** The networks and settings the objectives (objectives.ts) read. */
  private get networks(): Networks {
    return { generator: this.generator, discriminator: this.discriminator, extractor: this.extractor, vgg: this.vgg, config: this.config };
  }

  /**
   * One update of `optimizer`'s network: uploads the batch (`input`, `target`: batches or null for unused), replays
   * the recording of `phase` (recording it first when there is none or it went stale), reads the terms back.
   * The optimizer's kernels skip the update on the GPU when a term is not finite; the host counts it here.
   */
  private async update(
    phase: string,
    optimizer: Adam,
    lr: number,
    batches: { input: Batch | null; target: Batch | null },
    objective: () => LossTerms,
  ): Promise<UpdateResult> {
    return this.finish(this.submit(phase, optimizer, lr, batches, objective));
  }

  /**
   * The GPU half of update(): uploads, replays and starts the readback of the terms, without waiting for it. The
   * next update may be submitted at once (the queue runs them in order; the uploads into the shared input slots
   * land after the work submitted before them), so the GPU goes from D's update to G's with no host round trip.
   * Every submitted update must be finished, in order, before its optimizer's next prepare().
   */
  private submit(
    phase: string,
    optimizer: Adam,
    lr: number,
    batches: { input: Batch | null; target: Batch | null },
    objective: () => LossTerms,
  ): PendingUpdate {
    if (batches.input) engine().upload(this.slots.input.storage.buffer, batches.input.input);
    if (batches.target) engine().upload(this.slots.target.storage.buffer, batches.target.target);
    optimizer.lr = lr;
    optimizer.prepare();
    let entry = this.updates.get(phase);
    if (!entry) {
      // The step records the objective when it runs it (first, or after its recording went stale): the names of
      // its terms and what the optimizer updates are known then, and kept with the step for the readback.
      const made: UpdateEntry = {
        step: compile(
          () => {
            const terms = tidy(() => {
              const table = objective();
              made.names = Object.keys(table);
              return concat(Object.values(table).map((t) => reshape(t, [1])), 0);
            });
            made.updated = optimizer.update(terms);
            optimizer.zeroGrad();
            return terms;
          },
          { group: this.updateGroup },
        ),
        names: [],
        updated: [],
      };
      entry = made;
      this.updates.set(phase, entry);
    }
    return { phase, optimizer, entry, values: entry.step.run().data() };
  }

  /** The host half of update(): reads the terms, counts the update as applied or skipped. */
  private async finish({ phase, optimizer, entry, values: pending }: PendingUpdate): Promise<UpdateResult> {
    const values = await pending;
    if (this.options.replay === false) entry.step.forget();
    const names = entry.names;
    const terms = Object.fromEntries(names.map((n, i) => [n, values[i]]));
    const applied = allFinite(values);
    optimizer.settle(entry.updated, applied);
    if (applied) {
      this.consecutiveBad = 0;
    } else {
      this.skippedUpdates++;
      this.consecutiveBad++;
      const bad = names.filter((n) => !Number.isFinite(terms[n])).join(', ');
      this.event('skip', `${phase} update skipped in step ${this.step + 1}: non-finite ${bad}`, { phase, terms: Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, String(v)])) });
    }
    return { applied, loss: terms.loss, terms };
  }

  /** The recording of each kind of update made so far, by phase (D, G, ...), for the profiler (src/cli/profile.ts). */
  get recordedUpdates(): ReadonlyMap<string, Recording> {
    return new Map([...this.updates].flatMap(([phase, { step }]) => (step.recording ? [[phase, step.recording] as const] : [])));
  }

  private submitDiscriminator(batch: Batch, lr: number): PendingUpdate {
    return this.submit('discriminator', this.optimizerD, lr, { input: batch, target: batch }, () => discriminatorObjective(this.networks, this.slots.input, this.slots.target, true));
  }

  private submitGenerator(batch: Batch, lr: number): PendingUpdate {
    return this.submit('generator', this.optimizerG, lr, { input: batch, target: batch }, () => generatorObjective(this.networks, this.slots.input, this.slots.target));
  }

  /** One discriminator update on `batch`, applied unless non-finite. */
  async updateDiscriminator(batch: Batch, lr = this.learningRates().d): Promise<UpdateResult> {
    return this.finish(this.submitDiscriminator(batch, lr));
  }

  /** One generator update on `batch`, applied unless non-finite. */
  async updateGenerator(batch: Batch, lr = this.learningRates().g): Promise<UpdateResult> {
    return this.finish(this.submitGenerator(batch, lr));
  }

  /** The fine-tuning G update on black-and-white `pages` (adversarial loss only), applied unless non-finite. */
  async updateGeneratorOnPages(pages: Batch): Promise<UpdateResult> {
    return this.update('generator (pages)', this.optimizerG, this.learningRates().g, { input: pages, target: null }, () => pageGeneratorObjective(this.networks, this.slots.input));
  }

  /** A D update on real colour vs the generator's colouring of black-and-white `pages` with empty hints. */
  async updateDiscriminatorOnPages(real: Batch, pages: Batch): Promise<UpdateResult> {
    return this.update('discriminator (pages)', this.optimizerD, this.learningRates().d, { input: pages, target: real }, () => discriminatorObjective(this.networks, this.slots.input, this.slots.target, false));
  }

  /**
   * The page round after fine-tuning step `step` (1-based, a multiple of finetuneEvery): round r reads real
   * batches r·k … r·k + k − 1 and page batches r·(k + 1) … r·(k + 1) + k for k D steps, so it is a function of
   * the step like everything else. Returns the mean D loss and the adversarial loss for the step's record.
   */
  private async pageRound(step: number): Promise<{ page_loss_d: number; page_loss_g: number }> {
    const { real, pages } = this.data as Required<TrainingData>;
    const k = this.config.finetuneDiscriminatorSteps;
    const round = step / this.config.finetuneEvery - 1;
    let lossD = 0;
    for (let j = 0; j < k; j++) {
      lossD += (await this.updateDiscriminatorOnPages(await real.batch(round * k + j), await pages.batch(round * (k + 1) + j))).loss / k;
    }
    const g = await this.updateGeneratorOnPages(await pages.batch(round * (k + 1) + k));
    return { page_loss_d: lossD, page_loss_g: g.loss };
  }

  private batch(index: number): Promise<Batch> {
    const hit = this.prefetched?.index === index ? this.prefetched.batch : null;
    this.prefetched = null;
    return hit ?? this.data.train.batch(index);
  }

  private prefetch(index: number): void {
    const batch = this.data.train.batch(index);
    // A prefetch that a rollback discards must not surface as an unhandled rejection; `batch()` rethrows it.
    batch.catch(() => undefined);
    this.prefetched = { index, batch };
  }

  /**
   * One training step: D on batch 2·step, G on batch 2·step + 1. The next batch is made while the GPU runs.
   * Rolls back after too many consecutive skipped updates.
   */
  async trainStep(): Promise<StepRecord> {
    const start = nowMs();
    const { g: lrG, d: lrD } = this.learningRates();
    const dBatch = await this.batch(2 * this.step);
    this.prefetch(2 * this.step + 1);
    // D's update is submitted, not awaited: G's batch is made and its update submitted while the GPU runs D's.
    const dPending = this.submitDiscriminator(dBatch, lrD);
    let gBatch: Batch;
    try {
      gBatch = await this.batch(2 * this.step + 1);
    } catch (e) {
      await this.finish(dPending); // counted before the error surfaces, so a resumed run agrees with the log
      throw e;
    }
    this.prefetch(2 * this.step + 2);
    const gPending = this.submitGenerator(gBatch, lrG);
    const d = await this.finish(dPending);
    const g = await this.finish(gPending);
    const record: StepRecord = {
      kind: 'step', step: this.step + 1, epoch: this.epoch, loss_g: g.loss, loss_d: d.loss, l1: g.terms.l1, lr_g: lrG, lr_d: lrD, ms: 0,
    };
    if (this.config.finetune !== null && record.step % this.config.finetuneEvery === 0) Object.assign(record, await this.pageRound(record.step));
    this.step++;
    record.ms = Math.round(nowMs() - start);
    this.elapsedMs += record.ms;
    this.log.write(record);
    if (this.consecutiveBad >= this.config.safety.maxBadSteps) await this.rollback(`${this.consecutiveBad} consecutive updates were skipped`);
    return record;
  }

  // ---- validation and samples ------------------------------------------------------------------------------

  /**
   * The held-out split with fixed hints: val_l1 and val_psnr without hints (colour from line art alone),
   * val_psnr_hinted with the split's hints. PSNR per image on [0, 1], averaged.
   */
  async validate(): Promise<ValidationMetrics> {
    let l1Sum = 0;
    let elements = 0;
    const psnr = (mse: number) => 10 * Math.log10(4 / mse); // [-1, 1] has a peak-to-peak of 2
    const plain: number[] = [];
    const hinted: number[] = [];
    for (const batch of this.data.validation) {
      const n = batch.batchSize;
      // One forward of 2N images, bare then hinted: the generator treats images independently (no batch norm).
      const stats = evaluating(this.generator, () => noGrad(() =>
        tidy(() => {
          const target = Trainer.target(batch);
          const output = generate(this.networks, concat([Trainer.input(batch, false), Trainer.input(batch)], 0)).image;
          const error = sub(output, concat([target, target], 0));
          const bareL1 = sum(abs(slice(error, [0, 0, 0, 0], [n, ...error.shape.slice(1)])));
          return concat([reshape(bareL1, [1]), mean(mul(error, error), [1, 2, 3])], 0);
        }),
      ));
      const values = await stats.data();
      stats.dispose();
      l1Sum += values[0];
      elements += n * 3 * batch.crop * batch.crop;
      for (let i = 0; i < n; i++) {
        plain.push(psnr(values[1 + i]));
        hinted.push(psnr(values[1 + n + i]));
      }
    }
    const average = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const metrics: ValidationMetrics = { step: this.step, val_l1: l1Sum / elements, val_psnr: average(plain), val_psnr_hinted: average(hinted) };
    this.lastValidation = metrics;
    this.firstValidation ??= metrics;
    const record: ValidationRecord = { kind: 'validation', ...metrics };
    this.log.write(record);
    this.reporter.validation?.(record);
    return metrics;
  }

  /** Writes `<out>/samples/step-N.png` for the first validation batch with its hints. */
  async writeSamples(): Promise<string> {
    const batch = this.data.validation[0];
    const image = evaluating(this.generator, () => noGrad(() => tidy(() => generate(this.networks, Trainer.input(batch)).image)));
    const output = await image.data();
    image.dispose();
    const dir = join(this.options.out, 'samples');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `step-${String(this.step).padStart(8, '0')}.png`);
    await writePng(path, sampleGrid(batch, output), { overwrite: true });
    return path;
  }

  // ---- checkpoints ---------------------------------------------------------------------------------------

  private async optimizerState(module: Module, optimizer: Adam): Promise<{ meta: OptimizerMeta; moments: Map<string, MomentEntry> }> {
    const state = optimizer.state();
    const names = module.namedParameters().map(([name]) => name);
    const moments = new Map<string, MomentEntry>();
    const steps: Record<string, number> = {};
    for (const [i, s] of state.params.entries()) {
      steps[names[i]] = s?.step ?? 0;
      if (!s) continue;
      moments.set(names[i], {
        expAvg: { shape: [...s.expAvg.shape], data: await s.expAvg.data() },
        expAvgSq: { shape: [...s.expAvgSq.shape], data: await s.expAvgSq.data() },
      });
    }
    return { meta: { lr: state.lr, betas: [state.betas[0], state.betas[1]], eps: state.eps, steps }, moments };
  }

  /** Everything needed to continue this run, read back to the host. */
  async capture(): Promise<CheckpointContents> {
    const g = await this.optimizerState(this.generator, this.optimizerG);
    const d = await this.optimizerState(this.discriminator, this.optimizerD);
    const state: TrainingState = {
      step: this.step,
      lrFactor: this.lrFactor,
      rollbacks: this.rollbacks,
      rng: { init: this.initRng.state(), engineDefault: defaultGenerator.state(), data: { seed: this.config.seed, nextBatch: 2 * this.step } },
      optimizers: { generator: g.meta, discriminator: d.meta },
      validation: this.lastValidation,
      firstValidation: this.firstValidation,
      elapsedMs: this.elapsedMs,
    };
    return {
      config: this.config,
      state,
      generator: await this.generator.stateDict(),
      discriminator: await this.discriminator.stateDict(),
      moments: { generator: g.moments, discriminator: d.moments },
    };
  }

  private loadOptimizer(module: Module, optimizer: Adam, meta: OptimizerMeta, moments: Map<string, MomentEntry>): void {
    const created: Tensor[] = [];
    const upload = (e: { shape: number[]; data: Float32Array }) => {
      const t = tensor(e.data, e.shape);
      created.push(t);
      return t;
    };
    try {
      const params = module.namedParameters().map(([name]) => {
        const step = meta.steps[name] ?? 0;
        const m = moments.get(name);
        if (step === 0) return null;
        if (!m) throw new Error(`The checkpoint has no Adam moments for ${name} (step ${step}).`);
        return { step, expAvg: upload(m.expAvg), expAvgSq: upload(m.expAvgSq) };
      });
      const state: AdamState = { lr: meta.lr, betas: meta.betas, eps: meta.eps, params };
      optimizer.loadState(state);
    } finally {
      for (const t of created) t.dispose();
    }
  }

  /** Restores weights, moments, counters and random streams from a checkpoint of a run with the same model. */
  restore(contents: CheckpointContents): void {
    const differences = frozenDifferences(contents.config, this.config);
    if (differences.length) throw new Error(`The checkpoint was made with another model or data set:\n  ${differences.join('\n  ')}`);
    const { state } = contents;
    this.generator.loadStateDict(contents.generator);
    this.discriminator.loadStateDict(contents.discriminator);
    this.loadOptimizer(this.generator, this.optimizerG, state.optimizers.generator, contents.moments.generator);
    this.loadOptimizer(this.discriminator, this.optimizerD, state.optimizers.discriminator, contents.moments.discriminator);
    this.step = state.step;
    this.lrFactor = state.lrFactor;
    this.rollbacks = state.rollbacks;
    this.elapsedMs = state.elapsedMs;
    this.lastValidation = state.validation;
    this.firstValidation = state.firstValidation;
    this.initRng.seed = state.rng.init.seed;
    this.initRng.calls = state.rng.init.calls;
    defaultGenerator.seed = state.rng.engineDefault.seed;
    defaultGenerator.calls = state.rng.engineDefault.calls;
    this.prefetched = null;
    this.consecutiveBad = 0;
  }

  /**
   * Writes a checkpoint of the current state and returns its path, or null when the weights are not finite
   * (then it rolls back instead: a checkpoint never holds NaN weights).
   */
  async checkpoint(): Promise<string | null> {
    const contents = await this.capture();
    const nonFinite = [...contents.generator, ...contents.discriminator].find(([, e]) => !allFinite(e.data));
    if (nonFinite) {
      await this.rollback(`the weights are not finite (${nonFinite[0]}); no checkpoint written`);
      return null;
    }
    const path = this.store.save(contents);
    this.event('checkpoint', `wrote ${path}`, { path });
    return path;
  }

  /**
   * The start of a run `--from` another's weights (fine-tuning, or a warm start): the generator's, and the
   * discriminator's where the start has one (an exported generator has not: this run's own initialisation
   * stays); optimizers, counters and schedule start fresh.
   */
  startFrom(start: StartWeights, source: string): void {
    const freshDiscriminator = start.discriminator === null;
    const differences = startFromDifferences(start.config, this.config, { freshDiscriminator });
    if (differences.length) throw new Error(`${source} holds other networks than this run's configuration:\n  ${differences.join('\n  ')}`);
    const grafted = addsHintGate(start.config, this.config);
    this.generator.loadStateDict(grafted ? graftHintGate(start.generator) : start.generator);
    if (start.discriminator) this.discriminator.loadStateDict(start.discriminator);
    const changes = [
      ...(grafted ? ['the hint gate added to its generator'] : []),
      ...(start.config.hintInput !== this.config.hintInput ? [`hints now encoded as ${this.config.hintInput}, not ${start.config.hintInput}`] : []),
      ...(freshDiscriminator ? ['the discriminator starts untrained: the file holds the generator only'] : []),
    ];
    const what = start.step === null ? `an exported ${start.config.preset} generator` : `step ${start.step} of a ${start.config.preset} run`;
    const note = changes.length ? `; ${changes.join('; ')}` : '';
    this.event('start', `weights from ${source} (${what}${note})`, { from: source });
  }

  /**
   * Continues the run from `latest` (the store's `loadLatest()`: the newest checkpoint that loads, and the
   * newer ones that did not, which are reported and left in place).
   */
  resume(latest: { path: string; contents: CheckpointContents; skipped: string[] }): void {
    for (const skipped of latest.skipped) this.event('warning', `skipped an unreadable checkpoint: ${skipped}`);
    if (this.log.repairedBytes) this.event('warning', `removed a torn last line of log.jsonl (${this.log.repairedBytes} bytes, from an interrupted write)`);
    this.restore(latest.contents);
    this.event('resume', `resumed from ${latest.path} at step ${this.step}`, { path: latest.path });
  }

  private async rollback(reason: string): Promise<void> {
    const latest = this.store.loadLatest();
    if (!latest) throw new TrainingDivergedError(`Training diverged (${reason}) and there is no checkpoint to roll back to.`);
    const { lrFactor, rollbacks, skippedUpdates } = this;
    if (rollbacks + 1 > this.config.safety.maxRollbacks) {
      throw new TrainingDivergedError(
        `Training diverged at step ${this.step} (${reason}) after ${rollbacks} rollbacks with learning rates ×${lrFactor}. ` +
          `The last good checkpoint is ${latest.path}; check the data for broken images, or lower --lr-g/--lr-d and resume.`,
      );
    }
    const from = this.step;
    this.restore(latest.contents);
    this.rollbacks = rollbacks + 1;
    this.lrFactor = lrFactor * this.config.safety.rollbackLrFactor;
    this.skippedUpdates = skippedUpdates;
    this.event('rollback', `${reason}: rolled back from step ${from} to ${basename(latest.path)} (step ${this.step}), learning rates ×${this.lrFactor}`, {
      from,
      to: this.step,
      lr_factor: this.lrFactor,
    });
  }

  // ---- the run -------------------------------------------------------------------------------------------

  private event(event: EventName, message: string, details: Record<string, unknown> = {}): void {
    this.log.write({ kind: 'event', step: this.step, event, message, ...details });
    this.reporter.event?.(event, message);
  }

  private progress(): Progress {
    const doneThisRun = Math.max(1, this.step);
    const msPerStep = this.elapsedMs / doneThisRun;
    return {
      step: this.step,
      totalSteps: this.totalSteps,
      imagesPerSecond: (2 * this.config.batchSize * 1000) / Math.max(msPerStep, 1e-9),
      etaMs: msPerStep * (this.totalSteps - this.step),
    };
  }

  /** Saves a checkpoint; a failed write (disk full) is reported and the run goes on with the older ones. */
  private async checkpointOrWarn(): Promise<string | null> {
    try {
      return await this.checkpoint();
    } catch (e) {
      if (e instanceof TrainingDivergedError) throw e;
      this.event('warning', (e as Error).message);
      return null;
    }
  }

  /**
   * Trains until the last step or until `shouldStop()` returns a reason (checked between steps; a checkpoint
   * is written before returning). A fresh run validates and checkpoints step 0 first (the rollback target).
   */
  async run({ shouldStop = () => null }: { shouldStop?: () => string | null } = {}): Promise<TrainingSummary> {
    const { config } = this;
    this.event('start', `${config.preset} preset, ${this.totalSteps} steps, data: ${this.data.train.description}; ${describeLocalFeatures(config)}; ${describeHints(config)}`, { config });
    if (config.loss.perceptual > 0 && !this.vgg) {
      this.event('warning', 'perceptual loss off: no VGG16 weights given (--vgg-weights <torchvision vgg16 file>); training uses L1, adversarial and white-penalty terms only');
    }
    let lastCheckpoint: string | null = null;
    if (this.step === 0) {
      await this.validate();
      lastCheckpoint = await this.checkpoint();
    }
    let stoppedBy: string | null = null;
    while (this.step < this.totalSteps) {
      stoppedBy = shouldStop() ?? (this.log.failure && `a failed write of log.jsonl (${this.log.failure})`);
      if (stoppedBy) break;
      const rollbacks = this.rollbacks;
      const record = await this.trainStep();
      this.reporter.step?.(record, this.progress());
      if (this.rollbacks !== rollbacks) continue; // back at a checkpoint's step: its work is done
      const { step } = this;
      const atEnd = step === this.totalSteps;
      const checkpointNow = step % config.checkpointEvery === 0 || atEnd;
      if (step % config.validateEvery === 0 || checkpointNow) await this.validate();
      if (step % config.sampleEvery === 0 || atEnd) await this.writeSamples();
      if (checkpointNow) lastCheckpoint = (await this.checkpointOrWarn()) ?? lastCheckpoint;
    }
    if (stoppedBy) {
      this.event('stop', `stopped by ${stoppedBy} at step ${this.step}`);
      lastCheckpoint = await this.checkpoint();
    }
    // A stopped run exports too: its generator is usable (npm run colorize) while --resume continues the run.
    const generatorPath = join(this.options.out, 'generator.safetensors');
    exportGenerator(generatorPath, await this.generator.stateDict(), config, this.options.fs);
    const { best, skipped } = this.store.verifiedBest();
    for (const why of skipped) this.event('warning', `not the best after all, skipped: ${why}`);
    const summary: TrainingSummary = {
      steps: this.step,
      totalSteps: this.totalSteps,
      images: this.step * 2 * config.batchSize,
      elapsedMs: this.elapsedMs,
      first: this.firstValidation,
      last: this.lastValidation,
      best: best && { path: best.path, valL1: best.valL1! },
      skippedUpdates: this.skippedUpdates,
      rollbacks: this.rollbacks,
      generatorPath,
      lastCheckpoint,
      stoppedBy,
    };
    this.event('finish', summaryLine(summary), { summary });
    return summary;
  }

  /** Frees every tensor the trainer owns (networks, moments, recordings); the extractor and VGG are the caller's. */
  dispose(): void {
    for (const { step } of this.updates.values()) step.dispose();
    this.updates.clear();
    this.slots.input.dispose();
    this.slots.target.dispose();
    this.optimizerG.dispose();
    this.optimizerD.dispose();
    this.generator.dispose();
    this.discriminator.dispose();
  }
}


/** The one-line summary printed at the end of a run. */
export function summaryLine(s: TrainingSummary): string {
  const parts = [`${s.stoppedBy ? 'stopped' : 'trained'} ${s.steps}/${s.totalSteps} steps (${s.images} images) in ${formatDuration(s.elapsedMs / 1000)}`];
  if (s.first && s.last) {
    const change = (100 * (s.last.val_l1 - s.first.val_l1)) / s.first.val_l1;
    parts.push(`val L1 ${s.first.val_l1.toFixed(4)} → ${s.last.val_l1.toFixed(4)} (${change >= 0 ? '+' : ''}${change.toFixed(0)} %), PSNR ${s.last.val_psnr.toFixed(2)} dB (hinted ${s.last.val_psnr_hinted.toFixed(2)})`);
  }
  if (s.skippedUpdates || s.rollbacks) parts.push(`${s.skippedUpdates} skipped updates, ${s.rollbacks} rollbacks`);
  if (s.best) parts.push(`best ${basename(s.best.path)} (val L1 ${s.best.valL1.toFixed(4)})`);
  parts.push(`generator${s.stoppedBy ? ` of step ${s.steps}` : ''} → ${s.generatorPath}`);
  if (s.stoppedBy) parts.push(`last checkpoint ${s.lastCheckpoint}`);
  return parts.join('; ');
}
