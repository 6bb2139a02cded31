// The training loop on the software adapter, at the smallest sizes the networks allow (32² crops, batches of 2,
// one block per tunnel) on generated shapes: it learns without growing GPU memory, each update touches only its own network, resuming is
// bit-exact, checkpoints survive a failing disk, NaNs are skipped and rolled back, and fine-tuning's page round
// uses the adversarial loss alone.
import * as nodeFs from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { GRAFTED_GATE_BIAS } from '../src/nets/generator-v1.js';
import type { Module } from '../src/nets/module.js';
import { loadTrainingData, type Batch, type BatchSource, type TrainingData } from '../src/train/batches.js';
import { checkpointStart, CheckpointError, CheckpointStore, decodeStartWeights, exportGenerator, type CheckpointContents, type FileSystem } from '../src/train/checkpoint.js';
import { resolveConfig, type DeepPartial, type TrainConfig } from '../src/train/config.js';
import { parseLog, type EventRecord, type StepRecord, type ValidationRecord } from '../src/train/log.js';
import { Trainer } from '../src/train/trainer.js';
import { engine } from '../src/engine/engine.js';
import { useTestEngine } from './helpers/gpu.js';

useTestEngine();

const SMALL: DeepPartial<TrainConfig> = {
  crop: 32,
  batchSize: 2,
  imagesPerEpoch: 64,
  validationImages: 4,
  generator: { dilations: [[1], [1], [1], [1]] },
  checkpointEvery: 1000,
  validateEvery: 1000,
  sampleEvery: 1000,
};

const config = (flags: DeepPartial<TrainConfig> = {}) => resolveConfig({ preset: 'tiny', flags: { ...SMALL, ...flags } as DeepPartial<TrainConfig> });
const runDir = (name: string) => mkdtempSync(join(tmpdir(), `train-${name}-`));
const readLog = (out: string) => parseLog(readFileSync(join(out, 'log.jsonl'), 'utf8'));

async function parameters(module: Module): Promise<Map<string, Float32Array>> {
  return new Map(await Promise.all(module.namedParameters().map(async ([name, t]) => [name, await t.data()] as const)));
}

/** Names of the parameters whose values differ at all between two snapshots. */
function changed(before: Map<string, Float32Array>, after: Map<string, Float32Array>): string[] {
  return [...before].filter(([name, a]) => a.some((v, i) => !Object.is(v, after.get(name)![i]))).map(([name]) => name);
}

/** A source whose batches pass through `edit` (a copy), e.g. to poison them. */
function edited(source: BatchSource, edit: (batch: Batch, index: number) => Batch | null): BatchSource {
  return {
    ...source,
    async batch(index) {
      const batch = await source.batch(index);
      return edit({ ...batch, input: batch.input.slice(), target: batch.target.slice() }, index) ?? batch;
    },
  };
}

describe('training on the software adapter', () => {
  test('validation L1 falls by at least 30 % in 20 steps; every logged loss is finite; GPU memory stays flat', async () => {
    const out = runDir('learn');
    const c = config({ maxSteps: 20, validateEvery: 10 });
    // Live GPU memory after each step (validations and samples in between included): a leak grows it.
    const live: { tensors: number; bytes: number }[] = [];
    const reporter = { step: () => void live.push({ tensors: engine().memory().liveTensors, bytes: engine().memory().liveBytes }) };
    const trainer = new Trainer({ config: c, data: await loadTrainingData(c), out, reporter });
    const recordingsBefore = engine().counters.recordings;
    const summary = await trainer.run();
    // The D and G updates were recorded once and replayed for the other 19 steps.
    expect(engine().counters.recordings - recordingsBefore).toBe(2);
    expect(engine().memory().recordedBytes).toBeGreaterThan(0);
    trainer.dispose();
    expect(engine().memory().recordedBytes).toBe(0);
    expect(live).toHaveLength(20);
    for (const [i, m] of live.entries()) expect(m, `live GPU memory after step ${i + 1}`).toEqual(live[1]);
    const log = readLog(out);
    const steps = log.filter((r): r is StepRecord => r.kind === 'step');
    const validations = log.filter((r): r is ValidationRecord => r.kind === 'validation');
    expect(steps.map((s) => s.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    for (const s of steps) {
      for (const key of ['loss_g', 'loss_d', 'l1', 'lr_g', 'lr_d', 'ms'] as const) expect(Number.isFinite(s[key]), `${key} at step ${s.step}`).toBe(true);
    }
    expect(validations.map((v) => v.step)).toEqual([0, 10, 20]);
    for (const v of validations) expect([v.val_l1, v.val_psnr, v.val_psnr_hinted].every(Number.isFinite)).toBe(true);
    const [first, last] = [validations[0].val_l1, validations.at(-1)!.val_l1];
    expect(last, `val L1 ${first} → ${last}`).toBeLessThan(0.7 * first);
    expect(summary.generatorPath).toBe(join(out, 'generator.safetensors'));
    expect(readdirSync(join(out, 'samples'))).toEqual(['step-00000020.png']);
    expect(summary.skippedUpdates).toBe(0);
  });

  test('a D update changes only D, a G update only G', async () => {
    const c = config();
    const data = await loadTrainingData(c);
    const trainer = new Trainer({ config: c, data, out: runDir('own') });
    const batch = await data.train.batch(0);
    const g0 = await parameters(trainer.generator);
    const d0 = await parameters(trainer.discriminator);
    expect((await trainer.updateDiscriminator(batch)).applied).toBe(true);
    const g1 = await parameters(trainer.generator);
    const d1 = await parameters(trainer.discriminator);
    expect(changed(g0, g1)).toEqual([]);
    // Nearly all of D moves (a squeeze-excitation ReLU of the 1×1 last stage can be dead at this size, and with it
    // its gradient).
    expect(changed(d0, d1).length).toBeGreaterThan(0.9 * d0.size);
    expect((await trainer.updateGenerator(batch)).applied).toBe(true);
    const g2 = await parameters(trainer.generator);
    expect(changed(d1, await parameters(trainer.discriminator))).toEqual([]);
    // Every generator parameter that the loss reaches moves (the feature_conv branch is off in this preset).
    const moved = changed(g1, g2);
    expect(moved.length).toBeGreaterThan(0.9 * g1.size);
    expect(moved.some((n) => n.startsWith('deconv_for_decoder'))).toBe(true);
    trainer.dispose();
  });

  test('loss.hint adds the hint-fidelity term to the generator\'s table; spread hints reach it as confidence', async () => {
    const terms = async (flags: DeepPartial<TrainConfig>) => {
      const c = config(flags);
      const data = await loadTrainingData(c);
      const trainer = new Trainer({ config: c, data, out: runDir('hint') });
      try {
        return (await trainer.updateGenerator(await data.train.batch(0))).terms;
      } finally {
        trainer.dispose();
      }
    };
    const plain = await terms({});
    expect(Object.keys(plain)).toEqual(['loss', 'l1', 'guide_l1', 'adversarial', 'white', 'grad_sum']);
    const hinted = await terms({ loss: { hint: 10 }, hintInput: 'spread', hints: { denseShare: 1 } });
    expect(Object.keys(hinted)).toEqual(['loss', 'l1', 'guide_l1', 'adversarial', 'white', 'hint', 'grad_sum']);
    expect(hinted.hint).toBeGreaterThan(0);
    expect(Number.isFinite(hinted.loss)).toBe(true);
    // With the gate, loss.painted supervises the network's own colour before the gate: a term of its own, which
    // differs from the image's L1 wherever a hint's confidence lets the gate mix in the hint colour.
    const gated = { hintInput: 'regions', generator: { hintGate: 'on' }, hints: { denseShare: 1 } } as const;
    const painted = await terms({ ...gated, loss: { painted: 1 } });
    expect(Object.keys(painted)).toEqual(['loss', 'l1', 'guide_l1', 'adversarial', 'white', 'painted_l1', 'grad_sum']);
    expect(painted.painted_l1).toBeGreaterThan(0);
    expect(painted.painted_l1).not.toBeCloseTo(painted.l1, 4);
    const withoutTerm = await terms(gated);
    expect(withoutTerm.l1).toBe(painted.l1);
    // loss = 10·l1 + 9·guide + adversarial + white (+ 10·painted): the term enters with the L1 weight.
    expect(painted.loss - withoutTerm.loss).toBeCloseTo(10 * painted.painted_l1, 3);
    expect(() => config({ loss: { painted: 1 } })).toThrow(/--loss-painted.*hint gate/s);
    // loss.gate: the gate's own supervision, a term with its weight; it needs the gate too.
    const gate = await terms({ ...gated, loss: { gate: 2 } });
    expect(Object.keys(gate)).toEqual(['loss', 'l1', 'guide_l1', 'adversarial', 'white', 'gate', 'grad_sum']);
    expect(gate.gate).toBeGreaterThan(0);
    expect(gate.l1).toBe(withoutTerm.l1);
    expect(gate.loss - withoutTerm.loss).toBeCloseTo(2 * gate.gate, 3);
    expect(() => config({ loss: { gate: 1 } })).toThrow(/--loss-gate.*hint gate/s);
  });

  // The straight run records each update at step 1 and replays it; the resumed one records again at step K + 1,
  // so this also shows that a replay computes what a first run computes.
  test('2×K steps equal K steps, a resume and K steps, bit for bit', async () => {
    const K = 2;
    const straightOut = runDir('straight');
    const c = config({ maxSteps: 2 * K });
    const straight = new Trainer({ config: c, data: await loadTrainingData(c), out: straightOut });
    await straight.run();
    const expectedG = await parameters(straight.generator);
    const expectedD = await parameters(straight.discriminator);
    straight.dispose();

    const out = runDir('resumed');
    const half = config({ maxSteps: K });
    const first = new Trainer({ config: half, data: await loadTrainingData(half), out });
    await first.run();
    first.dispose();
    const second = new Trainer({ config: c, data: await loadTrainingData(c), out });
    second.resume(second.store.loadLatest()!);
    expect(second.step).toBe(K);
    await second.run();
    expect(changed(expectedG, await parameters(second.generator))).toEqual([]);
    expect(changed(expectedD, await parameters(second.discriminator))).toEqual([]);
    // The logged losses of the resumed half equal the straight run's.
    const losses = (dir: string) => readLog(dir).filter((r): r is StepRecord => r.kind === 'step').map((s) => [s.step, s.loss_g, s.loss_d]);
    expect(losses(out)).toEqual(losses(straightOut));
    second.dispose();
  });

  test('replayed updates compute what updates recorded anew each time compute, bit for bit', async () => {
    const c = config({ maxSteps: 3 });
    const data = await loadTrainingData(c);
    const replayed = new Trainer({ config: c, data, out: runDir('replayed') });
    const fresh = new Trainer({ config: c, data, out: runDir('fresh'), replay: false });
    const recordingsBefore = engine().counters.recordings;
    for (let i = 0; i < 3; i++) {
      const [a, b] = [await replayed.trainStep(), await fresh.trainStep()];
      expect([a.loss_g, a.loss_d], `losses of step ${a.step}`).toEqual([b.loss_g, b.loss_d]);
    }
    expect(engine().counters.recordings - recordingsBefore).toBe(2 + 6);
    expect(changed(await parameters(fresh.generator), await parameters(replayed.generator))).toEqual([]);
    expect(changed(await parameters(fresh.discriminator), await parameters(replayed.discriminator))).toEqual([]);
    replayed.dispose();
    fresh.dispose();
  });

  test("a step submits G's update before D's terms are read back, and computes what D then G one after the other compute", async () => {
    const c = config({ maxSteps: 2 });
    const data = await loadTrainingData(c);
    const pipelined = new Trainer({ config: c, data, out: runDir('pipelined') });
    const sequential = new Trainer({ config: c, data, out: runDir('sequential') });
    for (let step = 0; step < 2; step++) {
      // D's readback and G's upload both go through the engine; count G's upload before D's readback resolves.
      const order: string[] = [];
      const e = engine();
      const [upload, download] = [e.upload.bind(e), e.download.bind(e)];
      e.upload = (...args) => (order.push('upload'), upload(...args));
      e.download = async (...args) => {
        order.push('download');
        const out = await download(...args);
        order.push('downloaded');
        return out;
      };
      let a;
      try {
        a = await pipelined.trainStep();
      } finally {
        delete (e as Partial<typeof e>).upload;
        delete (e as Partial<typeof e>).download;
      }
      // D's uploads (batch, step sizes), its readback started, then G's uploads, all before D's readback is back.
      const back = order.indexOf('downloaded');
      expect(order.indexOf('download')).toBeGreaterThan(0);
      expect(order.slice(order.indexOf('download') + 1, back).filter((o) => o === 'upload').length, order.join(' ')).toBeGreaterThanOrEqual(3);
      const d = await sequential.updateDiscriminator(await data.train.batch(2 * step));
      const g = await sequential.updateGenerator(await data.train.batch(2 * step + 1));
      sequential.step++;
      expect([a.loss_d, a.loss_g], `losses of step ${step + 1}`).toEqual([d.loss, g.loss]);
    }
    expect(changed(await parameters(sequential.generator), await parameters(pipelined.generator))).toEqual([]);
    expect(changed(await parameters(sequential.discriminator), await parameters(pipelined.discriminator))).toEqual([]);
    pipelined.dispose();
    sequential.dispose();
  });

  test('a checkpoint write that fails midway (disk full) leaves the previous checkpoint loadable', async () => {
    let failWrites = false;
    const full: FileSystem = {
      ...nodeFs,
      writeSync: ((fd: number, bytes: Uint8Array, offset: number, length: number) => {
        if (!failWrites) return nodeFs.writeSync(fd, bytes, offset, length);
        nodeFs.writeSync(fd, bytes, offset, Math.min(length, 1000)); // part of the file reaches the disk
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }) as FileSystem['writeSync'],
    };
    const out = runDir('full');
    const c = config();
    const data = await loadTrainingData(c);
    const trainer = new Trainer({ config: c, data, out, fs: full });
    const first = await trainer.checkpoint();
    const saved = await parameters(trainer.generator);
    await trainer.updateGenerator(await data.train.batch(0));
    trainer.step = 1;
    failWrites = true;
    await expect(trainer.checkpoint()).rejects.toThrow(CheckpointError);
    await expect(trainer.checkpoint()).rejects.toThrow(/the disk is full\. Nothing was replaced/);
    // Only the first checkpoint is there (no temporary file), and it loads with the weights it was written with.
    expect(readdirSync(join(out, 'checkpoints'))).toEqual(['step-00000000.safetensors']);
    const latest = new CheckpointStore(join(out, 'checkpoints'), 3).loadLatest()!;
    expect(latest.path).toBe(first);
    const restored = new Trainer({ config: c, data: await loadTrainingData(c), out: runDir('restored') });
    restored.resume(latest);
    expect(changed(saved, await parameters(restored.generator))).toEqual([]);
    restored.dispose();
    trainer.dispose();
  });

  test('a full disk under log.jsonl stops the run at the next step, with a checkpoint', async () => {
    const out = runDir('log-full');
    nodeFs.symlinkSync('/dev/full', join(out, 'log.jsonl')); // every append fails with ENOSPC
    const c = config({ maxSteps: 3 });
    const trainer = new Trainer({ config: c, data: await loadTrainingData(c), out });
    const summary = await trainer.run();
    expect(summary.stoppedBy).toBe('a failed write of log.jsonl (the disk is full)');
    expect(summary.steps).toBeLessThan(3);
    expect(summary.lastCheckpoint).toMatch(/step-\d+\.safetensors$/);
    trainer.dispose();
  });

  test('a NaN batch skips both updates; repeated skips roll back to the checkpoint with lower learning rates', async () => {
    const out = runDir('nan');
    const c = config({ maxSteps: 2, safety: { maxBadSteps: 2, rollbackLrFactor: 0.5, maxRollbacks: 3 } });
    const data = await loadTrainingData(c);
    const fetched = new Map<number, number>();
    // Step 1 reads batches 0 (D) and 1 (G): both poisoned the first time they are read, clean on the replay.
    const train = edited(data.train, (batch, index) => {
      fetched.set(index, (fetched.get(index) ?? 0) + 1);
      if (index > 1 || fetched.get(index)! > 1) return null;
      batch.input[7] = NaN;
      batch.target[3] = NaN;
      return batch;
    });
    const trainer = new Trainer({ config: c, data: { ...data, train }, out });
    const recordingsBefore = engine().counters.recordings;
    const summary = await trainer.run();
    // The rollback reloaded the optimizers' moments, so both updates were recorded again.
    expect(engine().counters.recordings - recordingsBefore).toBe(4);
    const log = readLog(out);
    const events = log.filter((r): r is EventRecord => r.kind === 'event');
    expect(events.filter((e) => e.event === 'skip').map((e) => e.phase)).toEqual(['discriminator', 'generator']);
    const rollback = events.find((e) => e.event === 'rollback')!;
    expect(rollback).toMatchObject({ from: 1, to: 0, lr_factor: 0.5 });
    const steps = log.filter((r): r is StepRecord => r.kind === 'step');
    expect(steps.map((s) => [s.step, s.lr_g])).toEqual([[1, c.lrG], [1, c.lrG * 0.5], [2, c.lrG * 0.5]]);
    expect(summary).toMatchObject({ steps: 2, skippedUpdates: 2, rollbacks: 1 });
    const g = await parameters(trainer.generator);
    expect([...g.values()].every((a) => a.every(Number.isFinite))).toBe(true);
    trainer.dispose();
  });

  /** The newest checkpoint of a one-step run of `plain` in a fresh folder. */
  async function oneStepCheckpoint(plain: TrainConfig, name: string): Promise<CheckpointContents> {
    const first = new Trainer({ config: plain, data: await loadTrainingData(plain), out: runDir(name) });
    await first.run();
    const contents = first.store.loadLatest()!.contents;
    first.dispose();
    return contents;
  }

  test('a warm start (startFrom) may add the hint gate and change the hint encoding; other network changes are refused', async () => {
    const plain = config({ maxSteps: 1 });
    const contents = await oneStepCheckpoint(plain, 'warm-source');

    const gated = config({ generator: { ...SMALL.generator, hintGate: 'on' }, hintInput: 'regions', loss: { painted: 1 }, maxSteps: 1 });
    const warmOut = runDir('warm');
    const warm = new Trainer({ config: gated, data: await loadTrainingData(gated), out: warmOut });
    warm.startFrom(checkpointStart(contents), 'source.safetensors');
    const weights = await parameters(warm.generator);
    for (const [name, entry] of contents.generator) {
      if (!name.startsWith('exit.') && weights.has(name)) expect(weights.get(name), name).toEqual(entry.data);
    }
    const exitBias = weights.get('exit.bias')!;
    expect([...exitBias.slice(0, 3)]).toEqual([...contents.generator.get('exit.bias')!.data]);
    expect(exitBias[3]).toBe(GRAFTED_GATE_BIAS);
    const start = readLog(warmOut).find((r): r is EventRecord => r.kind === 'event' && r.event === 'start' && r.message.startsWith('weights from'));
    expect(start?.message).toMatch(/the hint gate added to its generator; hints now encoded as regions, not dots/);
    await warm.run(); // and it trains
    expect(warm.skippedUpdates).toBe(0);
    const gatedContents = warm.store.loadLatest()!.contents;
    warm.dispose();

    // A wider generator, or a gated checkpoint into an ungated run, would lose or invent trained tensors.
    const wider = config({ generator: { ...SMALL.generator, width: 32 } });
    const refused = new Trainer({ config: wider, data: await loadTrainingData(wider), out: runDir('wider') });
    expect(() => refused.startFrom(checkpointStart(contents), 'source.safetensors')).toThrow(/holds other networks than this run's configuration:\n {2}generator:/);
    refused.dispose();
    const ungated = new Trainer({ config: plain, data: await loadTrainingData(plain), out: runDir('ungated') });
    expect(() => ungated.startFrom(checkpointStart(gatedContents), 'gated.safetensors')).toThrow(/generator: checkpoint .*"hintGate":"on"/);
    ungated.dispose();
  });

  test('a start from an exported generator takes its generator, keeps this run\'s own discriminator, and may size that freely', async () => {
    const plain = config({ maxSteps: 1 });
    const contents = await oneStepCheckpoint(plain, 'export-source');
    const file = join(runDir('export-file'), 'generator.safetensors');
    exportGenerator(file, contents.generator, contents.config);
    const start = decodeStartWeights(readFileSync(file), file);
    expect(start).toMatchObject({ step: null, discriminator: null, config: { preset: plain.preset, generator: plain.generator, hintInput: plain.hintInput } });

    // The discriminator of another size than the preset's: the start has none to keep.
    const other = config({ discriminator: { width: 32, cardinality: 2 }, maxSteps: 1 });
    const out = runDir('from-export');
    const warm = new Trainer({ config: other, data: await loadTrainingData(other), out });
    const untrained = await parameters(warm.discriminator);
    warm.startFrom(start, file);
    const g = await parameters(warm.generator);
    for (const [name, entry] of contents.generator) if (g.has(name)) expect(g.get(name), name).toEqual(entry.data);
    expect(await parameters(warm.discriminator)).toEqual(untrained);
    const event = readLog(out).find((r): r is EventRecord => r.kind === 'event' && r.event === 'start' && r.message.startsWith('weights from'));
    expect(event?.message).toMatch(/an exported tiny generator; the discriminator starts untrained: the file holds the generator only/);
    await warm.run();
    expect(warm.skippedUpdates).toBe(0);
    warm.dispose();

    // Its generator's settings still bind: a wider generator is refused.
    const wider = config({ generator: { ...SMALL.generator, width: 32 } });
    const refused = new Trainer({ config: wider, data: await loadTrainingData(wider), out: runDir('export-wider') });
    expect(() => refused.startFrom(start, file)).toThrow(/holds other networks than this run's configuration:\n {2}generator:/);
    refused.dispose();
  });

  test('fine-tuning: a page round updates D on real colour vs coloured pages, then G with the adversarial loss alone', async () => {
    const c = config({ finetune: 'pages', finetuneEvery: 1, finetuneDiscriminatorSteps: 1, maxSteps: 1 });
    const base = await loadTrainingData({ ...c, finetune: null });
    // Pages with NaN targets and NaN hints: any term that read a target (L1, white, perceptual) or a hint would be NaN.
    const pages = edited(base.train, (batch) => {
      batch.target.fill(NaN);
      const n = batch.crop * batch.crop;
      for (let k = 0; k < batch.batchSize; k++) batch.input.fill(NaN, (6 * k + 2) * n, (6 * k + 6) * n);
      return batch;
    });
    const data: TrainingData = { ...base, real: base.train, pages };
    const trainer = new Trainer({ config: c, data, out: runDir('finetune') });
    expect(trainer.totalSteps).toBe(1);
    expect(trainer.learningRates().g).toBe(1e-6);

    const g0 = await parameters(trainer.generator);
    const d0 = await parameters(trainer.discriminator);
    const result = await trainer.updateGeneratorOnPages(await pages.batch(0));
    expect(result.applied).toBe(true);
    expect(Object.keys(result.terms)).toEqual(['loss', 'adversarial', 'grad_sum']);
    expect(result.loss).toBeCloseTo(c.loss.adversarial * result.terms.adversarial, 6);
    const g1 = await parameters(trainer.generator);
    expect(changed(d0, await parameters(trainer.discriminator))).toEqual([]);
    // The guide decoder is not part of the adversarial loss: it must not move.
    const moved = changed(g0, g1);
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.filter((n) => n.startsWith('deconv_for_decoder'))).toEqual([]);

    const d = await trainer.updateDiscriminatorOnPages(await base.train.batch(5), await pages.batch(1));
    expect(d.applied).toBe(true);
    expect(changed(g1, await parameters(trainer.generator))).toEqual([]);

    const record = await trainer.trainStep();
    expect(record.lr_g).toBe(1e-6);
    expect(Number.isFinite(record.page_loss_d) && Number.isFinite(record.page_loss_g)).toBe(true);
    // Adam counts each parameter's own updates, also across the two recorded G updates (the page one leaves the
    // guide decoder out): guide decoder 1 (the normal update), every other parameter 3 (page, normal, page).
    const names = trainer.generator.namedParameters().map(([name]) => name);
    const steps = trainer.optimizerG.state().params.map((p) => p?.step ?? 0);
    const guide = names.map((n, i) => [n, steps[i]] as const).filter(([n]) => n.startsWith('deconv_for_decoder'));
    expect(guide.length).toBeGreaterThan(0);
    expect(new Set(guide.map(([, k]) => k))).toEqual(new Set([1]));
    expect(new Set(steps.filter((_, i) => !names[i].startsWith('deconv_for_decoder') && !names[i].startsWith('feature_conv')))).toEqual(new Set([3]));
    expect(trainer.skippedUpdates).toBe(0);
    trainer.dispose();
  });
});
