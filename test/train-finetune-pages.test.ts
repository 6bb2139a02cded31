// Fine-tuning on a folder with fewer black-and-white pages than a batch: the batches are filled by repeating the
// pages in other crops, and the data's description says so. A subfolder of the pages that cannot be listed is
// one failed source of the prepared set, not the end of the run.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, test } from 'vitest';
import { planeToBytes } from '../src/data/plane.js';
import { prepareFolder } from '../src/io/dataset.js';
import { loadTrainingData } from '../src/train/batches.js';
import { resolveConfig } from '../src/train/config.js';
import { greyPage } from './helpers/colorize.js';
import { folderTooLongToRead, removeTree } from './helpers/folders.js';
import { useTestEngine } from './helpers/gpu.js';

useTestEngine();

describe('fine-tuning pages', () => {
  test('two pages and a batch of four: full batches of both pages in different crops', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'finetune-pages-'));
    const folder = join(dir, 'pages');
    mkdirSync(folder);
    for (const [i, seed] of [[1, 3], [2, 4]]) {
      const page = greyPage(72, 96, seed);
      await sharp(planeToBytes(page), { raw: { width: page.width, height: page.height, channels: 3 } }).png().toFile(join(folder, `${i}.png`));
    }
    const config = resolveConfig({ preset: 'tiny', flags: { crop: 32, batchSize: 4, imagesPerEpoch: 16, validationImages: 2, finetune: folder } });
    const data = await loadTrainingData(config, { pagesCache: join(dir, 'cache') });
    expect(data.pages!.description).toMatch(/2 black-and-white pages, fewer than a batch of 4: pages repeat within a batch/);
    const batch = await data.pages!.batch(0);
    expect(batch.batchSize).toBe(4);
    expect(new Set(batch.samples.map((s) => s.id)).size).toBe(2);
    const n = 32 * 32;
    const crops = [0, 1, 2, 3].map((k) => batch.input.slice(6 * k * n, (6 * k + 1) * n).join());
    expect(new Set(crops).size).toBe(4);
  });

  test('a subfolder that cannot be read is listed as failed; the other pages are prepared', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'finetune-unreadable-'));
    const folder = join(dir, 'pages');
    mkdirSync(folder);
    const page = greyPage(64, 64, 5);
    await sharp(planeToBytes(page), { raw: { width: 64, height: 64, channels: 3 } }).png().toFile(join(folder, '1.png'));
    folderTooLongToRead(folder, 'extras');
    try {
      const manifest = await prepareFolder(folder, join(dir, 'cache'), { size: 64, mults: [1] });
      expect(manifest.items.map((i) => i.source)).toEqual(['1.png']);
      expect(manifest.failed).toEqual([{ source: expect.stringMatching(/^extras\/d+\//), error: expect.stringMatching(/pages\/extras\/d+.*: this folder cannot be read \(.*ENAMETOOLONG\)/) }]);
    } finally {
      removeTree(folder);
    }
  });
});
