// The trainer's data: random access into the loader's stream (what makes resuming exact), the held-out split
// and its fixed hints, and the generated set. CPU only.
import { describe, expect, test } from 'vitest';
import { splitManifest, TrainingLoader, type Batch } from '../src/data/loader.js';
import { generatedSet, loadTrainingData } from '../src/train/batches.js';
import { describeHints, FROZEN_ON_RESUME, parseConfigFlags, resolveConfig } from '../src/train/config.js';

const same = (a: Batch, b: Batch) => a.input.every((v, i) => Object.is(v, b.input[i])) && a.target.every((v, i) => Object.is(v, b.target[i]));

describe('training data', () => {
  const { manifest, read } = generatedSet(10, 32, 5);

  test('batchAt(i) is the i-th batch of the epoch stream, whatever was read before', async () => {
    const loader = new TrainingLoader({ manifest, read, batchSize: 3, crop: 32, seed: 9 });
    expect(loader.batchesPerEpoch).toBe(3);
    const stream: Batch[] = [];
    for (const epoch of [0, 1]) for await (const b of loader.epoch(epoch)) stream.push(b);
    const fresh = new TrainingLoader({ manifest, read, batchSize: 3, crop: 32, seed: 9 });
    for (const i of [4, 0, 5, 4, 1]) {
      const b = await fresh.batchAt(i);
      expect(same(b, stream[i]), `batch ${i}`).toBe(true);
      expect(b.samples).toEqual(stream[i].samples);
    }
    expect(same(await fresh.batchAt(0), await fresh.batchAt(3))).toBe(false); // epochs are reshuffled
  });

  test('fixed batches: every item once, centre crops, no flips, the same hints every time', async () => {
    const loader = new TrainingLoader({ manifest, read, batchSize: 4, crop: 32, seed: 2, hints: 'fixed' });
    const [a, b] = [await loader.fixedBatches(), await loader.fixedBatches()];
    expect(a.map((x) => x.batchSize)).toEqual([4, 4, 2]);
    expect(a.flatMap((x) => x.samples.map((s) => s.id))).toEqual(manifest.items.map((i) => i.id));
    expect(a.every((x) => x.samples.every((s) => !s.flipped && s.hints === 'fixed'))).toBe(true);
    expect(a.every((x, i) => same(x, b[i]))).toBe(true);
    // Sparse hints: some pixels of some images, far from all.
    const n = 32 * 32;
    const hinted = a.flatMap((x) => x.samples.map((_, k) => x.input.subarray((6 * k + 5) * n, (6 * k + 6) * n).reduce((s, v) => s + v, 0)));
    expect(hinted.some((h) => h > 0)).toBe(true);
    expect(Math.max(...hinted)).toBeLessThan(n / 20);
    // The centre crop of the 40² image: its (4, 4) pixel is the crop's (0, 0).
    const colour = await read(manifest.items[0].colour);
    for (let c = 0; c < 3; c++) expect(a[0].target[c * n]).toBeCloseTo(colour.data[(4 * 40 + 4) * 3 + c] * 2 - 1, 6);
  });

  test('the validation split is disjoint from training, spread over the set, and fixed by the seed', () => {
    const big = generatedSet(100, 32, 1).manifest;
    const { train, validation } = splitManifest(big, 8, 3);
    const ids = (m: typeof big) => m.items.map((i) => i.id);
    expect(train.items.length + validation.items.length).toBe(100);
    expect(ids(train).filter((id) => ids(validation).includes(id))).toEqual([]);
    expect(ids(splitManifest(big, 8, 3).validation)).toEqual(ids(validation));
    expect(ids(splitManifest(big, 8, 4).validation)).not.toEqual(ids(validation));
    expect(ids(validation)).not.toEqual(ids(big).slice(-8));
    expect(() => splitManifest(big, 100, 3)).toThrow(/Cannot hold out 100 validation images from a set of 100/);
  });

  test('generated data for a config: batch shapes, held-out images and a finite, bounded input', async () => {
    const config = resolveConfig({ preset: 'tiny', flags: { crop: 32, batchSize: 2, imagesPerEpoch: 16, validationImages: 3 } });
    const data = await loadTrainingData(config);
    expect(data.train.epochImages).toBe(16);
    expect(data.validation.map((b) => b.batchSize)).toEqual([2, 1]);
    const b = await data.train.batch(7);
    expect([b.batchSize, b.crop, b.input.length, b.target.length]).toEqual([2, 32, 2 * 6 * 1024, 2 * 3 * 1024]);
    expect(b.input.every((v) => v >= -1 && v <= 1) && b.target.every((v) => v >= -1 && v <= 1)).toBe(true);
    const trainIds = new Set((await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((i) => data.train.batch(i)))).flatMap((x) => x.samples.map((s) => s.id)));
    expect(data.validation.flatMap((x) => x.samples.map((s) => s.id)).filter((id) => trainIds.has(id))).toEqual([]);
  });

  test('the hint regime: published for full/paper, dense dots for small/tiny, flags, validation, old checkpoints', async () => {
    expect(resolveConfig({ preset: 'full', flags: { localFeatures: 'none' } }).hints.denseShare).toBe(0);
    expect(resolveConfig({ preset: 'paper', flags: { localFeatures: 'none' } }).hints.denseShare).toBe(0);
    expect(resolveConfig({ preset: 'small' }).hints).toEqual({ denseShare: 0.4, denseCount: [20, 150], dotSize: [1, 9] });
    expect(resolveConfig({ preset: 'tiny' }).hints.denseShare).toBeGreaterThan(0);
    expect(describeHints(resolveConfig({ preset: 'small' }))).toBe('hints: 40 % of the images get 20–150 dots of 1–9 px from coloured regions, the rest the published sampler');
    expect(describeHints(resolveConfig({ preset: 'full', flags: { localFeatures: 'none' } }))).toMatch(/published sampler \(≈0.04 %/);
    const flags = parseConfigFlags(['--hints-dense-share', '0.25', '--hints-dense-count', '10,60', '--hints-dot-size=3,7']);
    expect(resolveConfig({ preset: 'small', flags }).hints).toEqual({ denseShare: 0.25, denseCount: [10, 60], dotSize: [3, 7] });
    expect(() => resolveConfig({ preset: 'small', flags: parseConfigFlags(['--hints-dot-size', '1,12']) })).toThrow(/--hints-dot-size/);
    expect(() => resolveConfig({ preset: 'small', flags: parseConfigFlags(['--hints-dense-share', '1.5']) })).toThrow(/--hints-dense-share/);
    expect(() => resolveConfig({ preset: 'small', flags: parseConfigFlags(['--hints-dense-count', '50,20']) })).toThrow(/--hints-dense-count/);
    // A checkpoint's config from before the regime existed resumes with the published sampler.
    const old = resolveConfig({ preset: 'tiny' }) as unknown as Record<string, unknown>;
    delete old.hints;
    delete old.hintInput;
    expect(resolveConfig({ base: old as never }).hints.denseShare).toBe(0);
    expect(resolveConfig({ base: old as never }).hintInput).toBe('dots');
    // The hint encoding is part of the model: a flag, validated, and kept on resume.
    expect(resolveConfig({ preset: 'tiny', flags: parseConfigFlags(['--hint-input', 'spread']) }).hintInput).toBe('spread');
    expect(() => resolveConfig({ preset: 'tiny', flags: parseConfigFlags(['--hint-input', 'blobs']) })).toThrow(/--hint-input/);
    expect(FROZEN_ON_RESUME).toContain('hintInput');
    // The training stream carries dense samples; validation keeps its fixed hints.
    const config = resolveConfig({ preset: 'tiny', flags: { crop: 32, batchSize: 2, imagesPerEpoch: 16, validationImages: 3, hints: { denseShare: 1 } } });
    const data = await loadTrainingData(config);
    const b = await data.train.batch(0);
    expect(b.samples.map((s) => s.hints)).toEqual(['dense', 'dense']);
    expect(data.validation.flatMap((x) => x.samples.map((s) => s.hints)).every((h) => h === 'fixed')).toBe(true);
  });
});
