// Training steps (src/train/trainer.ts): one step is a D update and a G update with their readbacks, on
// generated data, timed end to end. `tiny` is the preset sized for a software adapter (64² crops, batch 4).
// `full` — the published networks (extractor and VGG16 with random weights: the same work as loaded ones) at
// batch 4 and 512² crops, the setting of the paper's ~0.73 s/step on a GTX 1080 Ti — runs only on a hardware
// adapter, where it takes seconds, or when BENCH_TRAIN_FULL=1 forces it onto a software one (hours).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engine } from '../../src/engine/engine.js';
import { EXTRACTOR_V1, SEResNeXt } from '../../src/nets/extractor.js';
import { Vgg16Features } from '../../src/nets/vgg16.js';
import { loadTrainingData } from '../../src/train/batches.js';
import { resolveConfig, type DeepPartial, type PresetName, type TrainConfig } from '../../src/train/config.js';
import { Trainer } from '../../src/train/trainer.js';
import type { BenchCase, BenchSuite } from '../harness.js';

async function stepCase(name: string, preset: PresetName, flags: DeepPartial<TrainConfig>, frozen: boolean): Promise<BenchCase> {
  const config = resolveConfig({ preset, flags: { validationImages: 1, ...flags } });
  const out = mkdtempSync(join(tmpdir(), 'bench-train-'));
  const extractor = frozen ? new SEResNeXt(EXTRACTOR_V1) : null;
  const vgg = frozen ? new Vgg16Features() : null;
  const trainer = new Trainer({ config, data: await loadTrainingData(config), out, extractor, vgg });
  return {
    suite: 'train',
    name: `${name} step ${config.crop}² b${config.batchSize}`,
    flops: null,
    units: { count: 1, unit: 'steps/s' },
    async ours() {
      await trainer.trainStep();
    },
    async agree() {
      const record = await trainer.trainStep();
      return `finite losses: ${Number.isFinite(record.loss_g) && Number.isFinite(record.loss_d)} (G ${record.loss_g.toFixed(3)}, D ${record.loss_d.toFixed(3)})`;
    },
    dispose() {
      trainer.dispose();
      extractor?.dispose();
      vgg?.dispose();
      rmSync(out, { recursive: true, force: true });
    },
  };
}

export const trainSuite: BenchSuite = {
  name: 'train',
  async cases() {
    const cases = [await stepCase('tiny', 'tiny', {}, false)];
    if (!engine().gpu.software || process.env.BENCH_TRAIN_FULL === '1') {
      cases.push(await stepCase('full', 'full', { crop: 512, batchSize: 4, extractorWeights: 'random (benchmark)', vggWeights: 'random (benchmark)' }, true));
    } else {
      console.log('  full preset (512², batch 4) skipped on a software adapter; BENCH_TRAIN_FULL=1 forces it');
    }
    return cases;
  },
};
