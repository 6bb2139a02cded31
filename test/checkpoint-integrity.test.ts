// Training checkpoints carry the CRC-32 of their tensor data (issue 15): a checkpoint whose data or header was
// damaged on disk is named with the reason and skipped, never trained from nor reported as the best.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CheckpointError, CheckpointStore, type CheckpointContents } from '../src/train/checkpoint.js';
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
