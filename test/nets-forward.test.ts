// Every network at a reduced width and a tiny input, with random weights (random batch-norm statistics too),
// against its float64 reference forward (test/helpers/nets.ref.ts), which reads the same weights by their
// published names.
import { describe, expect, test, vi } from 'vitest';
import type { HostTensor } from '../src/kernels/host.js';
import { Generator } from '../src/kernels/random.js';
import { ColorizerV1, ColorizerV2 } from '../src/nets/colorizer.js';
import { DiscriminatorV1 } from '../src/nets/discriminator-v1.js';
import { SEResNeXt, type SEResNeXtConfig } from '../src/nets/extractor.js';
import { FFDNet } from '../src/nets/ffdnet.js';
import { GeneratorV1, generatorV1Config, graftHintGate, GRAFTED_GATE_BIAS } from '../src/nets/generator-v1.js';
import { GeneratorV2, type GeneratorV2Config } from '../src/nets/generator-v2.js';
import type { Module, StateEntry } from '../src/nets/module.js';
import { Vgg16Features } from '../src/nets/vgg16.js';
import * as T from '../src/ops/index.js';
import { expectClose, randomHost } from './helpers/check.js';
import { useTestEngine } from './helpers/gpu.js';
import {
  discriminatorV1Reference, ffdnetReference, generatorV1Reference, generatorV2Reference, hostWeights, seResNeXtReference,
  vgg16FeaturesReference, type Weights,
} from './helpers/nets.ref.js';

const engine = useTestEngine();

/** Float32-exact random host data, so the reference sees what the GPU sees. */
const f32 = (h: HostTensor): HostTensor => ({ shape: h.shape, data: h.data.map(Math.fround) });
const unit = (shape: number[]) => f32({ shape, data: randomHost(shape, 'uniform').data.map((v) => (v + 1) / 2) });
const up = (h: HostTensor) => T.tensor(h.data, h.shape);

/** Random γ, β, mean and var in (0.5, 2) for every batch norm, so the normalisation is really exercised. */
function randomizeBatchNorms(module: Module): void {
  const entries = new Map<string, StateEntry>();
  for (const { name, tensor } of module.namedState()) {
    if (!name.endsWith('.running_mean')) continue;
    const prefix = name.slice(0, -'running_mean'.length);
    const c = tensor.shape[0];
    const values = (kind: 'normal' | 'positive') => Float32Array.from(randomHost([c], kind).data);
    entries.set(`${prefix}weight`, { shape: [c], data: values('positive') });
    entries.set(`${prefix}bias`, { shape: [c], data: values('normal') });
    entries.set(`${prefix}running_mean`, { shape: [c], data: values('normal') });
    entries.set(`${prefix}running_var`, { shape: [c], data: Float32Array.from(randomHost([c], 'uniform').data, (v) => 1.25 + 0.75 * v) });
  }
  module.loadStateDict(entries, { strict: false });
}

const weightsOf = async (module: Module): Promise<Weights> => hostWeights(await module.stateDict());

const TOLERANCE = 2e-5;

// Reduced sizes: every stage, skip and block kind of the published networks, at widths a CPU runs in seconds.
const EXTRACTOR: SEResNeXtConfig = { inputChannels: 1, width: 8, cardinality: 8, stages: [1, 2], maxPool: true };
const GENERATOR_V1 = generatorV1Config({ width: 16, featureChannels: 64, dilations: [[1, 1], [2, 4], [1, 2], [2]], cardinality: [8, 8, 4, 2] });
const GENERATOR_V2: GeneratorV2Config = {
  inputChannels: 5,
  encoder: { inputChannels: 1, width: 8, cardinality: 8, stages: [1, 1, 1], maxPool: false },
  encoderWidths: [8, 16, 24, 32, 48],
  tunnels: [
    { width: 64, cardinality: 8, dilations: [1, 2] },
    { width: 32, cardinality: 4, dilations: [4] },
    { width: 16, cardinality: 2, dilations: [1, 2] },
    { width: 16, cardinality: 2, dilations: [1] },
  ],
};

describe('SE-ResNeXt extractor', () => {
  test('stem and stage outputs match the float64 reference (random BN statistics)', async () => {
    engine().poisonNewTensors = true;
    const net = new SEResNeXt({ ...EXTRACTOR, rng: new Generator(1) });
    randomizeBatchNorms(net);
    const x = unit([2, 1, 32, 32]);
    const outputs = T.noGrad(() => net.features(up(x)));
    const expected = seResNeXtReference(await weightsOf(net), EXTRACTOR, x);
    expect(outputs.map((t) => t.shape)).toEqual([[2, 8, 16, 16], [2, 32, 8, 8], [2, 64, 4, 4]]);
    for (const [i, out] of outputs.entries()) await expectClose(out, expected[i], TOLERANCE);
    net.dispose();
  });
});

describe('GeneratorV1', () => {
  for (const training of [true, false]) {
    test(`${training ? 'training (image and guide)' : 'eval (image only)'} matches the float64 reference`, async () => {
      engine().poisonNewTensors = true;
      const net = new GeneratorV1(GENERATOR_V1, { rng: new Generator(2) }).train(training);
      const input = f32(randomHost([2, 6, 32, 32]));
      const features = f32({ shape: [2, 64, 4, 4], data: randomHost([2, 64, 4, 4], 'positive').data });
      const out = T.noGrad(() => net.forward(up(input), up(features)));
      const expected = generatorV1Reference(await weightsOf(net), GENERATOR_V1, input, features, training);
      await expectClose(out.image, expected.image, TOLERANCE);
      if (training) await expectClose(out.guide!, expected.guide!, TOLERANCE);
      else expect(out.guide).toBeNull();
      net.dispose();
    });
  }

  test('backward reaches every parameter', async () => {
    const net = new GeneratorV1(GENERATOR_V1, { rng: new Generator(3) });
    const out = net.forward(up(f32(randomHost([1, 6, 16, 16]))), up(f32(randomHost([1, 64, 2, 2]))));
    T.backward(T.add(T.sum(out.image), T.sum(out.guide!)));
    const without = net.namedParameters().filter(([, p]) => !p.grad).map(([n]) => n);
    expect(without).toEqual([]);
    net.dispose();
  });

  test("the hint gate: the plain generator's image where no hint reaches, the hint colour passed through by σ(gate)·confidence", async () => {
    const gated = new GeneratorV1({ ...GENERATOR_V1, hintGate: 'on' }, { rng: new Generator(5) }).eval();
    const plain = new GeneratorV1(GENERATOR_V1, { rng: new Generator(6) }).eval();
    // The same weights, the plain exit being the gated one's first three channels; the gate a constant b.
    const state = await gated.stateDict();
    const exitW = state.get('exit.weight')!;
    expect(exitW.shape[0]).toBe(4);
    const perChannel = exitW.data.length / 4;
    const gateBias = 0.7;
    exitW.data.fill(0, 3 * perChannel);
    state.get('exit.bias')!.data[3] = gateBias;
    gated.loadStateDict(state);
    state.set('exit.weight', { shape: [3, ...exitW.shape.slice(1)], data: exitW.data.slice(0, 3 * perChannel) });
    state.set('exit.bias', { shape: [3], data: state.get('exit.bias')!.data.slice(0, 3) });
    plain.loadStateDict(state);

    const input = f32(randomHost([1, 6, 16, 16]));
    const confidence = input.data.subarray(5 * 256, 6 * 256);
    confidence.forEach((_, i) => (confidence[i] = i < 128 ? 0 : Math.fround((i % 7) / 6)));
    const features = up(f32(randomHost([1, 64, 2, 2], 'positive')));
    const image = await T.noGrad(() => gated.forward(up(input), features).image).data();
    const painted = await T.noGrad(() => plain.forward(up(input), features).image).data();
    const a = 1 / (1 + Math.exp(-gateBias));
    const expected = Float64Array.from(painted, (v, i) => {
      const [c, p] = [Math.floor(i / 256), i % 256];
      return v + a * confidence[p] * (input.data[(2 + c) * 256 + p] - v);
    });
    let error = 0;
    for (let i = 0; i < expected.length; i++) error = Math.max(error, Math.abs(image[i] - expected[i]));
    expect(error).toBeLessThan(1e-5);
    // Where no hint reaches (the first 128 pixels) the image is the plain generator's, bit for bit.
    for (let c = 0; c < 3; c++) expect(image.subarray(c * 256, c * 256 + 128)).toEqual(painted.subarray(c * 256, c * 256 + 128));

    // The gate learns: its weights get a gradient (as does everything else).
    gated.train();
    const out = gated.forward(up(input), features);
    T.backward(T.add(T.sum(out.image), T.sum(out.guide!)));
    expect(gated.namedParameters().filter(([, p]) => !p.grad).map(([n]) => n)).toEqual([]);
    gated.dispose();
    plain.dispose();
  });

  test('graftHintGate: an ungated generator gains a gate that passes confident hint fills and keeps it where none reaches', async () => {
    const plain = new GeneratorV1(GENERATOR_V1, { rng: new Generator(7) }).eval();
    const gated = new GeneratorV1({ ...GENERATOR_V1, hintGate: 'on' }, { rng: new Generator(8) }).eval();
    const plainState = await plain.stateDict();
    gated.loadStateDict(graftHintGate(plainState));
    const input = f32(randomHost([1, 6, 16, 16]));
    const confidence = input.data.subarray(5 * 256, 6 * 256);
    confidence.forEach((_, i) => (confidence[i] = i < 128 ? 0 : i % 2));
    const features = up(f32(randomHost([1, 64, 2, 2], 'positive')));
    const image = await T.noGrad(() => gated.forward(up(input), features).image).data();
    const before = await T.noGrad(() => plain.forward(up(input), features).image).data();
    const a = 1 / (1 + Math.exp(-GRAFTED_GATE_BIAS));
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 256; p++) {
        const i = c * 256 + p;
        if (confidence[p] === 0) expect(image[i]).toBe(before[i]); // no hint: the old model, bit for bit
        else expect(image[i]).toBeCloseTo(before[i] + a * (input.data[(2 + c) * 256 + p] - before[i]), 5);
      }
    }
    // The old state dict is untouched, and a gated one is refused.
    expect(plainState.get('exit.weight')!.shape[0]).toBe(3);
    const gatedState = await gated.stateDict();
    expect(() => graftHintGate(gatedState)).toThrow(/takes an ungated generator.*\[4, /);
    gated.dispose();
    plain.dispose();
  });

  test('rejects inputs whose size is not a multiple of 16, naming the expected shape', () => {
    const net = new GeneratorV1(GENERATOR_V1, { rng: new Generator(4) });
    expect(() => net.forward(T.zeros([1, 6, 24, 32]), T.zeros([1, 64, 3, 4]))).toThrow(/\[N, 6, H, W\] with H and W non-zero multiples of 16/);
    net.dispose();
  });
});

describe('ColorizerV1', () => {
  test('extractor + generator per hint set equal the reference; the page features are computed once', async () => {
    engine().poisonNewTensors = true;
    const extractor = new SEResNeXt({ ...EXTRACTOR, rng: new Generator(5) });
    randomizeBatchNorms(extractor);
    const generator = new GeneratorV1(GENERATOR_V1, { rng: new Generator(6) });
    const colorizer = new ColorizerV1(generator, extractor);
    const [lineArt, distance] = [unit([1, 1, 32, 32]), unit([1, 1, 32, 32])];
    colorizer.setPage(up(lineArt), up(distance));
    const ew = await weightsOf(extractor);
    const gw = await weightsOf(generator);
    const features = seResNeXtReference(ew, EXTRACTOR, lineArt).at(-1)!;
    const extractorRuns = vi.spyOn(extractor, 'forward');
    const before = engine().memory().liveTensors;
    for (const seed of [0, 1]) {
      const rgb = f32(randomHost([1, 3, 32, 32], 'uniform'));
      const mask = { shape: [1, 1, 32, 32], data: unit([1, 1, 32, 32]).data.map((v) => +(v > 0.9 - 0.8 * seed)) };
      const hinted = { shape: rgb.shape, data: rgb.data.map((v, i) => v * mask.data[i % 1024]) };
      const input = { shape: [1, 6, 32, 32], data: Float64Array.from([...lineArt.data, ...distance.data, ...hinted.data, ...mask.data]) };
      const expected = generatorV1Reference(gw, GENERATOR_V1, input, features, false).image;
      const hints = { rgb: up(rgb), mask: up(mask) };
      const image = colorizer.colorize(hints);
      await expectClose(image, { shape: expected.shape, data: expected.data.map((v) => v * 0.5 + 0.5) }, TOLERANCE);
      for (const t of [image, hints.rgb, hints.mask]) t.dispose();
    }
    expect(extractorRuns).not.toHaveBeenCalled();
    expect(engine().memory().liveTensors).toBe(before);
    colorizer.clearPage();
    expect(() => colorizer.colorize({ rgb: T.zeros([1, 3, 32, 32]), mask: T.zeros([1, 1, 32, 32]) })).toThrow(/no page/);
    generator.dispose();
    extractor.dispose();
  });
});

describe('DiscriminatorV1', () => {
  test('two forwards (each with one power iteration per spectral norm) and the u, v state match float64', async () => {
    engine().poisonNewTensors = true;
    const net = new DiscriminatorV1({ width: 16, cardinality: 4 }, { rng: new Generator(7) });
    const w = await weightsOf(net);
    for (let run = 0; run < 2; run++) {
      const color = f32(randomHost([2, 3, 32, 32], 'uniform'));
      const logits = T.noGrad(() => net.forward(up(color)));
      await expectClose(logits, discriminatorV1Reference(w, 4, color), TOLERANCE);
    }
    for (const [name, t] of net.namedBuffers()) await expectClose(t, w.get(name)!, 1e-5);
    net.dispose();
  });

  test('backward reaches weight_bar, biases and the linear layer; u and v get no gradient', async () => {
    const net = new DiscriminatorV1({ width: 16, cardinality: 4 }, { rng: new Generator(8) });
    T.backward(T.sum(net.forward(up(f32(randomHost([1, 3, 32, 32]))))));
    expect(net.namedParameters().filter(([, p]) => !p.grad).map(([n]) => n)).toEqual([]);
    expect(net.namedBuffers().filter(([, b]) => b.grad || b.requiresGrad)).toEqual([]);
    net.dispose();
  });
});

describe('Vgg16Features', () => {
  test('relu2_2 features of a [-1, 1] image match float64', async () => {
    engine().poisonNewTensors = true;
    const net = new Vgg16Features(8, { rng: new Generator(9) });
    const image = f32(randomHost([2, 3, 16, 12], 'uniform'));
    const out = net.forward(up(image));
    expect(out.shape).toEqual([2, 16, 8, 6]);
    await expectClose(out, vgg16FeaturesReference(await weightsOf(net), image), TOLERANCE);
    net.dispose();
  });
});

describe('FFDNet', () => {
  test('denoising an odd-sized image (edge replication, σ map, BN body, clamp) matches float64', async () => {
    engine().poisonNewTensors = true;
    const net = new FFDNet({ width: 16, layers: 4 }, { rng: new Generator(10) });
    randomizeBatchNorms(net);
    const image = unit([2, 3, 9, 7]);
    const out = T.noGrad(() => net.forward(up(image), 25 / 255));
    expect(out.shape).toEqual([2, 3, 9, 7]);
    await expectClose(out, ffdnetReference(await weightsOf(net), 4, image, 25 / 255), TOLERANCE);
    net.dispose();
  });
});

describe('GeneratorV2', () => {
  test('forward and ColorizerV2 (cached encoder skips) match the float64 reference', async () => {
    engine().poisonNewTensors = true;
    const net = new GeneratorV2(GENERATOR_V2, { rng: new Generator(11) });
    randomizeBatchNorms(net);
    const input = f32(randomHost([2, 5, 16, 24]));
    input.data.forEach((v, i, a) => (a[i] = i % (5 * 16 * 24) < 16 * 24 ? Math.fround((v + 3) / 6) : v));
    const w = await weightsOf(net);
    const expected = generatorV2Reference(w, GENERATOR_V2, input);
    await expectClose(T.noGrad(() => net.forward(up(input)).image), expected, TOLERANCE);

    const colorizer = new ColorizerV2(net);
    const page = { shape: [2, 1, 16, 24], data: Float64Array.from({ length: 2 * 16 * 24 }, (_, i) => input.data[Math.floor(i / 384) * 5 * 384 + (i % 384)]) };
    colorizer.setPage(up(page));
    const mask = unit([2, 1, 16, 24]);
    mask.data.forEach((v, i, a) => (a[i] = +(v > 0.7)));
    const rgb = f32(randomHost([2, 3, 16, 24], 'uniform'));
    const hinted = Float64Array.from(rgb.data, (v, i) => v * mask.data[Math.floor(i / (3 * 384)) * 384 + (i % 384)]);
    const colorInput = new Float64Array(2 * 5 * 384);
    for (let b = 0; b < 2; b++) {
      colorInput.set(page.data.subarray(b * 384, (b + 1) * 384), b * 5 * 384);
      colorInput.set(hinted.subarray(b * 3 * 384, (b + 1) * 3 * 384), (b * 5 + 1) * 384);
      colorInput.set(mask.data.subarray(b * 384, (b + 1) * 384), (b * 5 + 4) * 384);
    }
    const colored = generatorV2Reference(w, GENERATOR_V2, { shape: [2, 5, 16, 24], data: colorInput });
    await expectClose(colorizer.colorize({ rgb: up(rgb), mask: up(mask) }), { shape: colored.shape, data: colored.data.map((v) => v * 0.5 + 0.5) }, TOLERANCE);
    colorizer.clearPage();
    net.dispose();
  });
});
