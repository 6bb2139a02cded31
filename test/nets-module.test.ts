// Module mechanics: naming and order, strict and non-strict loading with every problem reported at once,
// the state-dict round trip, modes, freezing, disposal, and Sequential's fusions keeping PyTorch's semantics.
import { describe, expect, test } from 'vitest';
import { conv2dReference } from '../src/kernels/conv.ref.js';
import { Generator } from '../src/kernels/random.js';
import { DiscriminatorV1 } from '../src/nets/discriminator-v1.js';
import { FFDNet } from '../src/nets/ffdnet.js';
import { GeneratorV1, generatorV1Config } from '../src/nets/generator-v1.js';
import {
  BatchNorm2d, Conv2d, LeakyReLU, Linear, PixelShuffle, ReLU, Sequential, SpectralNorm,
} from '../src/nets/layers.js';
import { Module, StateDictError, type StateDict, type StateEntry } from '../src/nets/module.js';
import * as T from '../src/ops/index.js';
import { expectClose, randomHost } from './helpers/check.js';
import { useTestEngine } from './helpers/gpu.js';

const engine = useTestEngine();

/** A small net with parameters, buffers, a parameter-free layer holding an index, and a nested child. */
class Toy extends Module {
  readonly body: Sequential;
  readonly head: Linear;
  constructor(rng: Generator) {
    super();
    this.registerParameter('scale', T.randNormal([3], 0, 1, { generator: rng }));
    this.body = this.registerModule('body', new Sequential(new Conv2d(2, 4, 3, { padding: 1, rng }), new ReLU(), new BatchNorm2d(4)));
    this.head = this.registerModule('head', new Linear(4, 2, { rng }));
  }
}

const EXPECTED_NAMES = [
  'scale',
  'body.0.weight', 'body.0.bias',
  'body.2.weight', 'body.2.bias', 'body.2.running_mean', 'body.2.running_var', 'body.2.num_batches_tracked',
  'head.weight', 'head.bias',
];

const entry = (shape: number[], fill?: number): StateEntry => {
  const n = shape.reduce((k, d) => k * d, 1);
  return { shape, data: Float32Array.from(randomHost([n]).data, (v) => fill ?? v) };
};

async function randomState(module: Module): Promise<StateDict> {
  const state = await module.stateDict();
  for (const [name, e] of state) state.set(name, name.endsWith('running_var') ? entry(e.shape, 1.5) : entry(e.shape));
  return state;
}

describe('Module', () => {
  test("names follow PyTorch's order: own tensors, then children in registration order", () => {
    const toy = new Toy(new Generator(1));
    expect(toy.namedState().map((s) => s.name)).toEqual(EXPECTED_NAMES);
    expect(toy.namedParameters().map(([n]) => n)).toEqual(EXPECTED_NAMES.filter((n) => !/running|num_batches/.test(n)));
    expect(toy.namedBuffers().map(([n]) => n)).toEqual(['body.2.running_mean', 'body.2.running_var', 'body.2.num_batches_tracked']);
    expect(toy.parameterCount()).toBe(3 + 4 * 2 * 9 + 4 + 4 + 4 + 2 * 4 + 2);
    expect(toy.parameters().every((p) => p.requiresGrad)).toBe(true);
    expect(toy.namedBuffers().every(([, b]) => !b.requiresGrad)).toBe(true);
    toy.dispose();
  });

  test('the spectral-norm wrapper lists bias, weight_u, weight_v, weight_bar (the published order); u, v are buffers', () => {
    const sn = new SpectralNorm(3, 5, 3, { rng: new Generator(2) });
    expect(sn.namedState().map((s) => `${s.name}:${s.kind}`)).toEqual([
      'module.bias:parameter', 'module.weight_u:buffer', 'module.weight_v:buffer', 'module.weight_bar:parameter',
    ]);
    sn.dispose();
  });

  test('strict load reports every missing, unexpected and mis-shaped tensor in one error and writes nothing', async () => {
    const toy = new Toy(new Generator(3));
    const before = await toy.stateDict();
    const state = await randomState(toy);
    state.delete('body.0.bias');
    state.delete('head.weight');
    state.set('body.3.weight', entry([4]));
    state.set('body.2.running_mean', entry([5]));
    state.set('scale', { shape: [3], data: new Float32Array(2) });
    let error: unknown;
    try {
      toy.loadStateDict(state);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateDictError);
    const e = error as StateDictError;
    expect(e.missing).toEqual(['body.0.bias [4]', 'head.weight [2, 4]']);
    expect(e.unexpected).toEqual(['body.3.weight [4]']);
    expect(e.mismatched).toEqual(['scale: 2 values for shape [3]', 'body.2.running_mean: checkpoint [5], expected [4]']);
    expect(e.message).toMatch(/does not match Toy: 5 problems\./);
    expect(e.message).toMatch(/wrong shape \(2\):\n {4}scale: 2 values for shape \[3\]\n {4}body\.2\.running_mean: checkpoint \[5\], expected \[4\]/);
    expect(e.message).toMatch(/missing from the checkpoint \(2\):\n {4}body\.0\.bias \[4\]\n {4}head\.weight \[2, 4\]/);
    expect(e.message).toMatch(/in the checkpoint but not in Toy \(1\):\n {4}body\.3\.weight \[4\]/);
    expect(await toy.stateDict()).toEqual(before);
    toy.dispose();
  });

  test('non-strict load skips missing and unexpected names and returns them; shapes must still match', async () => {
    const toy = new Toy(new Generator(4));
    const state = await randomState(toy);
    state.delete('head.bias');
    state.set('classifier.weight', entry([7]));
    expect(toy.loadStateDict(state, { strict: false })).toEqual({ missing: ['head.bias'], unexpected: ['classifier.weight'] });
    const loaded = await toy.stateDict();
    for (const [name, e] of state) if (loaded.has(name)) expect(loaded.get(name)).toEqual(e);
    state.set('head.weight', entry([4, 2]));
    expect(() => toy.loadStateDict(state, { strict: false })).toThrow(/wrong shape \(1\):\n {4}head\.weight: checkpoint \[4, 2\], expected \[2, 4\]/);
    toy.dispose();
  });

  test('names saved from nn.DataParallel get a hint to strip "module."', async () => {
    const toy = new Toy(new Generator(5));
    const prefixed = new Map([...(await toy.stateDict())].map(([n, e]) => [`module.${n}`, e]));
    expect(() => toy.loadStateDict(prefixed)).toThrow(/starts with "module\." \(saved from nn\.DataParallel\): strip that prefix/);
    toy.dispose();
  });

  test('round trip: stateDict → loadStateDict into a differently seeded twin gives the same state and outputs', async () => {
    const [a, b] = [new FFDNet({ width: 8, layers: 4 }, { rng: new Generator(6) }), new FFDNet({ width: 8, layers: 4 }, { rng: new Generator(7) })];
    a.loadStateDict(await randomState(a));
    const x = T.tensor(randomHost([1, 3, 8, 8], 'uniform').data.map((v) => (v + 1) / 2), [1, 3, 8, 8]);
    expect(await b.forward(x).data()).not.toEqual(await a.forward(x).data());
    b.loadStateDict(await a.stateDict());
    expect(await b.stateDict()).toEqual(await a.stateDict());
    expect(await b.forward(x).data()).toEqual(await a.forward(x).data());
    a.dispose();
    b.dispose();
  });

  test('the discriminator round-trips weight_u/_v/_bar too', async () => {
    const [a, b] = [new DiscriminatorV1({ width: 16, cardinality: 4 }, { rng: new Generator(8) }), new DiscriminatorV1({ width: 16, cardinality: 4 }, { rng: new Generator(9) })];
    b.loadStateDict(await a.stateDict());
    expect(await b.stateDict()).toEqual(await a.stateDict());
    a.dispose();
    b.dispose();
  });

  test('train()/eval() recurse; setRequiresGrad freezes every parameter', () => {
    const toy = new Toy(new Generator(10));
    toy.eval();
    expect([toy.training, toy.body.training, toy.body.layers[2].training, toy.head.training]).toEqual([false, false, false, false]);
    toy.train();
    expect(toy.body.layers[0].training).toBe(true);
    toy.setRequiresGrad(false);
    expect(toy.parameters().some((p) => p.requiresGrad)).toBe(false);
    toy.dispose();
  });

  test('dispose frees every tensor, buffers included; registering twice or a dotted name is refused', () => {
    const before = engine().memory().liveTensors;
    const toy = new Toy(new Generator(11));
    expect(engine().memory().liveTensors - before).toBe(EXPECTED_NAMES.length);
    toy.dispose();
    expect(engine().memory().liveTensors).toBe(before);
    class Bad extends Module {
      constructor(name: string) {
        super();
        this.registerBuffer('x', T.zeros([1]));
        this.registerBuffer(name, T.zeros([1]));
      }
    }
    expect(() => new Bad('x')).toThrow(/"x" is registered twice/);
    expect(() => new Bad('a.b')).toThrow(/not a valid name/);
  });
});

describe('initialisation (REFERENCE §6)', () => {
  test('seeded: the same rng seed gives the same weights, another seed other weights', async () => {
    const config = { width: 16, cardinality: 4 };
    const [a, b, c] = [5, 5, 6].map((seed) => new DiscriminatorV1(config, { rng: new Generator(seed) }));
    expect(await a.stateDict()).toEqual(await b.stateDict());
    expect((await a.stateDict()).get('feed.0.module.weight_bar')).not.toEqual((await c.stateDict()).get('feed.0.module.weight_bar'));
    for (const net of [a, b, c]) net.dispose();
  });

  test('Xavier-uniform on Conv2d weights and weight_bar; PyTorch defaults on ConvTranspose2d, biases and Linear', async () => {
    const g = new GeneratorV1(generatorV1Config({ width: 16, featureChannels: 32, dilations: [[1], [1], [1], [1]], cardinality: [8, 8, 4, 2] }), { rng: new Generator(13) });
    const d = new DiscriminatorV1({ width: 16, cardinality: 4 }, { rng: new Generator(14) });
    const xavier = (shape: number[]) => Math.sqrt(6 / ((shape[0] + shape[1]) * shape[2] * shape[3]));
    const fanIn = (shape: number[]) => shape.slice(1).reduce((k, n) => k * n, 1);
    const cases: [Module, string, (shape: number[]) => number][] = [
      [g, 'to0.0.weight', xavier], [g, 'tunnel4.2.0.conv_conv.weight', xavier], [g, 'tunnel4.2.0.selayer.conv1.weight', xavier],
      [g, 'feature_conv.network.2.weight', xavier], [g, 'exit.weight', xavier],
      // ConvTranspose2d [in, out, k, k]: PyTorch's fan_in is shape[1]·k·k.
      [g, 'deconv_for_decoder.0.weight', (s) => 1 / Math.sqrt(fanIn(s))],
      [d, 'feed.2.module.weight_bar', xavier], [d, 'feed.5.conv_conv.module.weight_bar', xavier], [d, 'out.weight', (s) => 1 / Math.sqrt(s[1])],
    ];
    for (const [net, name, boundOf] of cases) {
      const t = net.namedState().find((s) => s.name === name)!.tensor;
      const bound = boundOf([...t.shape]);
      const largest = (await t.data()).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(largest, name).toBeLessThanOrEqual(bound);
      expect(largest, name).toBeGreaterThan(0.9 * bound);
    }
    g.dispose();
    d.dispose();
  });
});

describe('Sequential fusions', () => {
  test('conv + activation, conv + pixel shuffle + activation and conv + BN + ReLU equal the layers run one by one', async () => {
    const rng = new Generator(12);
    const nets = [
      new Sequential(new Conv2d(3, 4, 3, { padding: 1, rng }), new LeakyReLU(0.2)),
      new Sequential(new Conv2d(3, 8, 3, { padding: 1, rng }), new PixelShuffle(2), new LeakyReLU(0.2)),
      new Sequential(new Conv2d(3, 4, 3, { padding: 1, bias: false, rng }), new BatchNorm2d(4), new ReLU()),
    ];
    const bn = nets[2].layers[1] as BatchNorm2d;
    bn.loadStateDict(new Map([
      ['weight', entry([4])], ['bias', entry([4])], ['running_mean', entry([4])], ['running_var', entry([4], 0.7)], ['num_batches_tracked', entry([], 3)],
    ]));
    const x = T.tensor(randomHost([2, 3, 6, 5]).data, [2, 3, 6, 5]);
    for (const net of nets) {
      const stepwise = net.layers.reduce((y, layer) => layer.forward(y), x);
      await expectClose(net.forward(x), { shape: [...stepwise.shape], data: Float64Array.from(await stepwise.data()) }, 1e-6);
    }
    // And the unfused conv itself against the float64 reference, so "equal" is not equally wrong.
    const conv = nets[0].layers[0] as Conv2d;
    const host = async (t: T.Tensor) => ({ shape: [...t.shape], data: Float64Array.from(await t.data()) });
    const geom = { stride: [1, 1] as [number, number], padding: [1, 1, 1, 1] as [number, number, number, number], dilation: [1, 1] as [number, number], groups: 1 };
    await expectClose(conv.forward(x), conv2dReference(await host(x), await host(conv.weight), await host(conv.bias!), geom), 1e-6);
    for (const net of nets) net.dispose();
  });
});
