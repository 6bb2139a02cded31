// Training steps (src/train/trainer.ts): one step is a D update and a G update with their readbacks, on
// generated data, timed end to end, replayed (ours) against the same trainer recording every update anew.
// `tiny` is the preset sized for a software adapter (64² crops, batch 4).
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
  const extractor = frozen ? new SEResNeXt(EXTRACTOR_V1) : null;
  const vgg = frozen ? new Vgg16Features() : null;
  const data = await loadTrainingData(config);
  const runs = [mkdtempSync(join(tmpdir(), 'bench-train-')), mkdtempSync(join(tmpdir(), 'bench-train-'))];
  // The peer is the same trainer with the replay off: every update recorded anew, as each step was issued
  // before steps were replayed. Same seed and data, so the two compute the same losses.
  const trainer = new Trainer({ config, data, out: runs[0], extractor, vgg });
  const unreplayed = new Trainer({ config, data, out: runs[1], extractor, vgg, replay: false });
  return {
    suite: 'train',
    name: `${name} step ${config.crop}² b${config.batchSize}`,
    flops: null,
    units: { count: 1, unit: 'steps/s' },
    async ours() {
      await trainer.trainStep();
    },
    peer: {
      name: 'the same step without replay',
      async run() {
        await unreplayed.trainStep();
      },
    },
    async agree() {
      const [a, b] = [await trainer.trainStep(), await unreplayed.trainStep()];
      const same = a.loss_g === b.loss_g && a.loss_d === b.loss_d;
      return `step ${a.step}: losses ${same ? 'identical' : 'DIFFER'} with and without replay (G ${a.loss_g.toFixed(4)}, D ${a.loss_d.toFixed(4)})`;
    },
    dispose() {
      trainer.dispose();
      unreplayed.dispose();
      extractor?.dispose();
      vgg?.dispose();
      for (const out of runs) rmSync(out, { recursive: true, force: true });
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
