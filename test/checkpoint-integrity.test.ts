// Training checkpoints carry the CRC-32 of their tensor data (issue 15): a checkpoint whose data or header was
// damaged on disk is named with the reason and skipped, never trained from nor reported as the best. And what a
// run --from starts with: a checkpoint, or an exported generator whose metadata must describe a buildable one.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DEFAULT_MODEL_PATH } from '../src/colorize/model.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { PROJECT_GENERATOR_FORMAT } from '../src/nets/architectures.js';
import { CheckpointError, CheckpointStore, decodeStartWeights, type CheckpointContents } from '../src/train/checkpoint.js';
import { resolveConfig } from '../src/train/config.js';

function contents(step: number, valL1: number): CheckpointContents {
  const validation = { step, val_l1: valL1, val_psnr: 20, val_psnr_hinted: 21 };
  const optimizer = { lr: 1e-4, betas: [0.5, 0.9] as [number, number], eps: 1e-8, steps: {} };
  return {
    config: resolveConfig({ preset: 'tiny' }),
    state: {
      step,
      lrFactor: 1,
      rollbacks: 0,
      rng: { init: { seed: 0, calls: 0 }, engineDefault: { seed: 0, calls: 0 }, data: { seed: 0, nextBatch: step } },
      optimizers: { generator: optimizer, discriminator: optimizer },
      validation,
      firstValidation: validation,
      elapsedMs: 0,
    },
    generator: new Map([['w', { shape: [64], data: new Float32Array(64).fill(step) }]]),
    discriminator: new Map([['w', { shape: [4], data: new Float32Array(4).fill(-step) }]]),
    moments: { generator: new Map(), discriminator: new Map() },
  };
}

/** A store holding checkpoints at steps 10 (val L1 0.5), 20 (0.2, the best) and 30 (0.3). */
function store(): CheckpointStore {
  const s = new CheckpointStore(join(mkdtempSync(join(tmpdir(), 'ckpt-integrity-')), 'checkpoints'), 5);
  s.save(contents(10, 0.5));
  s.save(contents(20, 0.2));
  s.save(contents(30, 0.3));
  return s;
}

/** Flips one byte of the tensor data (the file's last bytes are the discriminator's floats). */
function damageData(path: string): void {
  const bytes = readFileSync(path);
  bytes[bytes.length - 3] ^= 0x40;
  writeFileSync(path, bytes);
}

describe('checkpoint integrity', () => {
  test('a checkpoint loads back as it was saved', () => {
    const s = store();
    const latest = s.loadLatest()!;
    expect(latest.contents.state.step).toBe(30);
    expect(latest.skipped).toEqual([]);
    expect([...latest.contents.generator.get('w')!.data]).toEqual(new Array(64).fill(30));
  });

  test('damaged tensor data is named with the reason; the previous checkpoint is loaded instead', () => {
    const s = store();
    damageData(join(s.dir, 'step-00000030.safetensors'));
    expect(() => s.load(join(s.dir, 'step-00000030.safetensors'))).toThrow(CheckpointError);
    expect(() => s.load(join(s.dir, 'step-00000030.safetensors'))).toThrow(/step-00000030\.safetensors: its tensor data fails the CRC-32 check.*damaged/);
    const latest = s.loadLatest()!;
    expect(latest.contents.state.step).toBe(20);
    expect(latest.skipped).toEqual([expect.stringMatching(/step-00000030\.safetensors: .*fails the CRC-32 check/)]);
  });

  test('a damaged best checkpoint is never reported as the best', () => {
    const s = store();
    damageData(join(s.dir, 'step-00000020.safetensors'));
    const { best, skipped } = s.verifiedBest();
    expect(best?.step).toBe(30);
    expect(skipped).toEqual([expect.stringMatching(/step-00000020\.safetensors: its tensor data fails the CRC-32 check/)]);
  });

  test('a checkpoint whose header is unreadable is skipped with a word, not silently', () => {
    const s = store();
    const path = join(s.dir, 'step-00000030.safetensors');
    const bytes = readFileSync(path);
    bytes.fill(0x7b, 8, 40); // garbage in the JSON header
    writeFileSync(path, bytes);
    expect(s.scan().unreadable).toEqual([expect.stringMatching(/step-00000030\.safetensors: its header cannot be read .*damaged/)]);
    const latest = s.loadLatest()!;
    expect(latest.contents.state.step).toBe(20);
    expect(latest.skipped).toHaveLength(1);
  });
});

describe('checkpoints from before a setting existed', () => {
  test('load with the setting as that run had it (published sampler, dot hints, no hint term, no hint gate)', () => {
    const old = contents(40, 0.4);
    const config = old.config as unknown as Record<string, unknown>;
    delete config.hints;
    delete config.hintInput;
    delete config.paperOverlay;
    delete (config.loss as Record<string, unknown>).hint;
    delete (config.loss as Record<string, unknown>).painted;
    delete (config.generator as Record<string, unknown>).hintGate;
    const s = new CheckpointStore(join(mkdtempSync(join(tmpdir(), 'ckpt-old-')), 'checkpoints'), 5);
    s.save(old);
    const loaded = s.loadLatest()!.contents.config;
    expect([loaded.hints.denseShare, loaded.hintInput, loaded.loss.hint, loaded.loss.painted, loaded.generator.hintGate, loaded.paperOverlay]).toEqual([0, 'dots', 0, 0, 'off', 0]);
  });
});

describe('a run --from an exported generator (decodeStartWeights)', () => {
  const tensors = new Map([['exit.bias', { shape: [3], data: new Float32Array([0.1, 0.2, 0.3]) }]]);
  const exported = (metadata: Record<string, string>) => writeSafetensors(tensors, { metadata: { format: PROJECT_GENERATOR_FORMAT, ...metadata } });
  const networks = resolveConfig({ preset: 'tiny', flags: { hintInput: 'regions', generator: { hintGate: 'on' } } });

  test('takes the networks from its metadata on its preset, and its tensors; it holds no discriminator', () => {
    const start = decodeStartWeights(exported({ preset: 'tiny', generator: JSON.stringify(networks.generator), localFeatures: 'none', hintInput: 'regions' }), 'g.safetensors');
    expect(start).toMatchObject({ step: null, discriminator: null, config: { preset: 'tiny', generator: networks.generator, localFeatures: 'none', hintInput: 'regions' } });
    expect(start.config.discriminator).toEqual(resolveConfig({ preset: 'tiny' }).discriminator);
    expect([...start.generator.get('exit.bias')!.data]).toEqual([...tensors.get('exit.bias')!.data]);
  });

  test('the shipped default model is such a start', () => {
    const start = decodeStartWeights(readFileSync(DEFAULT_MODEL_PATH), DEFAULT_MODEL_PATH);
    expect(start.config).toMatchObject({ preset: 'tiny', generator: { hintGate: 'on' }, hintInput: 'regions' });
    expect(start.generator.has('exit.weight')).toBe(true);
  });

  test('metadata that describes no generator this project builds is refused, naming the file and the fix', () => {
    const good = { preset: 'tiny', generator: JSON.stringify(networks.generator), localFeatures: 'none', hintInput: 'regions' };
    for (const bad of [{ preset: 'huge' }, { generator: '{not json' }, { generator: JSON.stringify({ ...networks.generator, width: -3 }) }, { hintInput: 'scribbles' }]) {
      expect(() => decodeStartWeights(exported({ ...good, ...bad }), 'g.safetensors')).toThrow(/^g\.safetensors: the exported generator's metadata does not describe a generator this project builds \(.+\); export it again\.$/s);
    }
    expect(() => decodeStartWeights(new Uint8Array([1, 2, 3]), 'g.safetensors')).toThrow(CheckpointError);
  });
});
