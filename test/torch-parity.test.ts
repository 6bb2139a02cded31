// Our networks against PyTorch itself: tools/make-torch-references.py rebuilds each network from PyTorch's own
// layers (grouped and dilated Conv2d, ConvTranspose2d, PixelShuffle, spectral_norm, BatchNorm2d, ...) at a
// reduced size, and saves its random weights and its float32 forward on a random input with torch.save. Here the
// weights go through our PyTorch reader into a strict loadStateDict, and our forward must reproduce PyTorch's.
// The configurations below must equal the script's.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { Tensor } from '../src/engine/tensor.js';
import { readCheckpoint, type Checkpoint } from '../src/io/checkpoint.js';
import { floatEntries } from '../src/io/stored-tensors.js';
import { DiscriminatorV1, type DiscriminatorV1Config } from '../src/nets/discriminator-v1.js';
import { SEResNeXt, type SEResNeXtConfig } from '../src/nets/extractor.js';
import { FFDNet, type FFDNetConfig } from '../src/nets/ffdnet.js';
import { GeneratorV1, type GeneratorV1Config } from '../src/nets/generator-v1.js';
import type { StateEntry } from '../src/nets/module.js';
import { Vgg16Features } from '../src/nets/vgg16.js';
import * as T from '../src/ops/index.js';
import { useTestEngine } from './helpers/gpu.js';

const engine = useTestEngine();

const GENERATOR: GeneratorV1Config = {
  inputChannels: 6,
  encoderWidths: [8, 16, 24, 32, 32],
  featureChannels: 16,
  tunnels: [
    { width: 32, cardinality: 4, dilations: [1, 2] },
    { width: 32, cardinality: 2, dilations: [4] },
    { width: 16, cardinality: 2, dilations: [1, 2] },
    { width: 16, cardinality: 8, dilations: [2] },
  ],
};
const DISCRIMINATOR: DiscriminatorV1Config = { width: 16, cardinality: 8 };
const EXTRACTOR: SEResNeXtConfig = { inputChannels: 1, width: 8, cardinality: 8, stages: [2, 2], maxPool: true };
const VGG_WIDTH = 16;
const FFDNET: FFDNetConfig = { width: 16, layers: 4 };

/**
 * Largest |ours − PyTorch| over the largest |PyTorch|. Both sides compute in float32 with different summation
 * orders (and our batch norms folded into the convs), so they should differ by rounding alone. PyTorch's own
 * float32 forwards differ from float64 by up to 2.1e-6 of the output scale here (the script prints it; the
 * generator's gain-1.5 weights amplify most); ours differ from PyTorch's by up to 3.1e-6 (discriminator logits;
 * generator image 2.3e-6) on llvmpipe. 2e-5 leaves a margin of six for another adapter's rounding, while real
 * mistakes land far above it: two swapped dilations in tunnel4 err by 0.76, one spatially flipped kernel in the
 * discriminator by 0.14 of the feature scale, a σ off by 1% in FFDNet by 2.5e-5.
 */
const TOLERANCE = 2e-5;
/** u and v are unit vectors: absolute error per element after one power iteration (measured ≤ 9e-8). */
const UNIT_VECTOR_TOLERANCE = 1e-6;

function load(net: string): { weights: Checkpoint; io: Map<string, StateEntry> } {
  const read = (kind: string) => readCheckpoint(new Uint8Array(readFileSync(new URL(`./fixtures/torch/${net}.${kind}.pt`, import.meta.url))));
  return { weights: read('weights'), io: floatEntries(read('io').tensors) };
}

const entry = (io: Map<string, StateEntry>, name: string): StateEntry => {
  const e = io.get(name);
  if (!e) throw new Error(`The fixture has no tensor "${name}"; rerun tools/make-torch-references.py.`);
  return e;
};
const upload = (io: Map<string, StateEntry>, name: string): Tensor => T.tensor(entry(io, name).data, entry(io, name).shape);

/** Asserts that `actual` matches PyTorch's `expected` (named `what`) within TOLERANCE of its scale. */
async function expectMatch(actual: Tensor, expected: StateEntry, what: string): Promise<void> {
  expect([...actual.shape], what).toEqual(expected.shape);
  const got = await actual.data();
  let error = 0;
  let scale = 0;
  for (let i = 0; i < got.length; i++) {
    error = Math.max(error, Math.abs(got[i] - expected.data[i]));
    scale = Math.max(scale, Math.abs(expected.data[i]));
  }
  expect(scale, `${what}: PyTorch's output is all zeros`).toBeGreaterThan(0);
  expect(error / scale, `${what}: max error / max |PyTorch| = ${error / scale}`).toBeLessThan(TOLERANCE);
}

describe('our networks reproduce PyTorch (fixtures from tools/make-torch-references.py)', () => {
  test('GeneratorV1 (training: image and guide) at widths 8…32, 64×64, batch 2', async () => {
    engine().poisonNewTensors = true;
    const { weights, io } = load('generator-v1');
    const net = new GeneratorV1(GENERATOR).train();
    net.loadStateDict(floatEntries(weights.tensors));
    const out = T.noGrad(() => net.forward(upload(io, 'input'), upload(io, 'features')));
    await expectMatch(out.image, entry(io, 'image'), 'image');
    await expectMatch(out.guide!, entry(io, 'guide'), 'guide');
    net.dispose();
  });

  test('DiscriminatorV1 (spectral norm, one power iteration): features, logits and the updated u, v', async () => {
    engine().poisonNewTensors = true;
    const { weights, io } = load('discriminator-v1');
    const state = floatEntries(weights.tensors);
    const net = new DiscriminatorV1(DISCRIMINATOR).train();
    net.loadStateDict(state);
    // The features before pooling hold much more of the network than three logits; each forward iterates u, v,
    // so the state is loaded again before the full one.
    await expectMatch(T.noGrad(() => net.feed.forward(upload(io, 'input'))), entry(io, 'feed'), 'feed');
    net.loadStateDict(state);
    await expectMatch(T.noGrad(() => net.forward(upload(io, 'input'))), entry(io, 'logits'), 'logits');
    const buffers = net.namedBuffers();
    expect(buffers.map(([name]) => name).sort()).toEqual([...io.keys()].filter((n) => /\.weight_[uv]$/.test(n)).sort());
    for (const [name, t] of buffers) {
      const expected = entry(io, name);
      const got = await t.data();
      const error = got.reduce((m, v, i) => Math.max(m, Math.abs(v - expected.data[i])), 0);
      expect(error, name).toBeLessThan(UNIT_VECTOR_TOLERANCE);
    }
    net.dispose();
  });

  test('SE-ResNeXt extractor (BN statistics, grouped convs, odd sizes): stem and both stages', async () => {
    engine().poisonNewTensors = true;
    const { weights, io } = load('extractor');
    const net = new SEResNeXt(EXTRACTOR).eval();
    net.loadStateDict(floatEntries(weights.tensors));
    const outputs = T.noGrad(() => net.features(upload(io, 'input')));
    for (const [i, name] of ['stem', 'layer1', 'layer2'].entries()) await expectMatch(outputs[i], entry(io, name), name);
    net.dispose();
  });

  test('VGG16 features[:9] on an odd-sized image', async () => {
    engine().poisonNewTensors = true;
    const { weights, io } = load('vgg16');
    const net = new Vgg16Features(VGG_WIDTH);
    net.loadStateDict(floatEntries(weights.tensors));
    await expectMatch(T.noGrad(() => net.forward(upload(io, 'input'))), entry(io, 'relu2_2'), 'relu2_2');
    net.dispose();
  });

  test('FFDNet (DataParallel names, σ map, BN body): predicted noise and the denoised odd-sized image', async () => {
    engine().poisonNewTensors = true;
    const { weights, io } = load('ffdnet');
    expect(weights.strippedPrefix).toBe('module.');
    const net = new FFDNet(FFDNET).eval();
    net.loadStateDict(floatEntries(weights.tensors));
    const sigma = entry(io, 'sigma').data[0];
    await expectMatch(T.noGrad(() => net.predictNoise(upload(io, 'padded'), sigma)), entry(io, 'noise'), 'noise');
    await expectMatch(T.noGrad(() => net.forward(upload(io, 'input'), sigma)), entry(io, 'output'), 'output');
    net.dispose();
  });
});
