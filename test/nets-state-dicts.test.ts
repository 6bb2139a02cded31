// Our modules against the published checkpoints' tensor names and shapes (test/fixtures/state-dicts.txt, a
// copy of ../shared/reference/state-dicts.txt: names and shapes only, no weights). Full-size modules: each
// allocates its weights on the device (≈130 MB for a generator) and is disposed right after.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { DiscriminatorV1 } from '../src/nets/discriminator-v1.js';
import { EXTRACTOR_V1, SEResNeXt } from '../src/nets/extractor.js';
import { FFDNet } from '../src/nets/ffdnet.js';
import { GeneratorV1 } from '../src/nets/generator-v1.js';
import { GeneratorV2 } from '../src/nets/generator-v2.js';
import type { Module } from '../src/nets/module.js';
import { Vgg16Features } from '../src/nets/vgg16.js';
import { useTestEngine } from './helpers/gpu.js';

const engine = useTestEngine();

interface PublishedTensor {
  name: string;
  shape: number[];
  /** '' for a trained parameter, 'buffer' for BN statistics, 'sn' for spectral-norm u/v. */
  tag: string;
}

interface PublishedNetwork {
  trainable: number;
  bnBuffers: number;
  snBuffers: number;
  count: number;
  tensors: PublishedTensor[];
}

function parsePublished(text: string): Map<string, PublishedNetwork> {
  const nets = new Map<string, PublishedNetwork>();
  let current: PublishedNetwork | null = null;
  const number = (s: string) => Number(s.replace(/,/g, ''));
  for (const line of text.split('\n')) {
    const header = /^== (\w+): trainable params = ([\d,]+); BN buffers = ([\d,]+); SN u\/v = ([\d,]+); tensors in state_dict = (\d+)/.exec(line);
    if (header) {
      current = { trainable: number(header[2]), bnBuffers: number(header[3]), snBuffers: number(header[4]), count: number(header[5]), tensors: [] };
      nets.set(header[1], current);
      continue;
    }
    const entry = /^\s+(\S+) \[([\d, ]*)\]\s*(\w*)/.exec(line);
    if (entry && current) {
      current.tensors.push({ name: entry[1], shape: entry[2] ? entry[2].split(',').map((d) => Number(d)) : [], tag: entry[3] });
    }
  }
  return nets;
}

const published = parsePublished(readFileSync(new URL('./fixtures/state-dicts.txt', import.meta.url), 'utf8'));

const builders: Record<string, () => Module> = {
  generator_v1: () => new GeneratorV1(),
  extractor_v1: () => new SEResNeXt(EXTRACTOR_V1),
  discriminator_v1: () => new DiscriminatorV1(),
  generator_v2: () => new GeneratorV2(),
  ffdnet_rgb: () => new FFDNet(),
};

const describeTensor = (t: { name: string; shape: readonly number[] }) => `${t.name} [${t.shape.join(', ')}]`;
const describeState = (m: Module) => m.namedState().map((s) => describeTensor({ name: s.name, shape: s.tensor.shape }));

describe('published state dicts', () => {
  test('the fixture parses into five networks with their declared tensor counts', () => {
    expect([...published.keys()]).toEqual(Object.keys(builders));
    for (const net of published.values()) expect(net.tensors).toHaveLength(net.count);
  });

  for (const [name, build] of Object.entries(builders)) {
    test(`${name}: names, shapes, order, kinds and counts equal the published checkpoint`, async () => {
      const expected = published.get(name)!;
      const module = build();
      try {
        const state = module.namedState();
        // Same names and shapes in the same order: PyTorch's state-dict order is defined by module structure.
        expect(describeState(module)).toEqual(expected.tensors.map(describeTensor));
        expect(state.map((s) => s.kind)).toEqual(expected.tensors.map((t) => (t.tag ? 'buffer' : 'parameter')));
        expect(module.parameterCount()).toBe(expected.trainable);
        const bufferSize = (tag: string) => expected.tensors.filter((t) => t.tag === tag).reduce((n, t) => n + t.shape.reduce((k, d) => k * d, 1), 0);
        expect(bufferSize('buffer')).toBe(expected.bnBuffers);
        expect(bufferSize('sn')).toBe(expected.snBuffers);
        expect(module.namedBuffers().reduce((n, [, t]) => n + t.size, 0)).toBe(expected.bnBuffers + expected.snBuffers);
      } finally {
        module.dispose();
        // Pending work still reads the freed buffers: finish it before handing them back to the driver.
        await engine().sync();
        engine().trimPool();
      }
    });
  }

  test("vgg16: torchvision's names and shapes for features[:9]", () => {
    const vgg = new Vgg16Features();
    try {
      expect(describeState(vgg)).toEqual([
        'features.0.weight [64, 3, 3, 3]', 'features.0.bias [64]',
        'features.2.weight [64, 64, 3, 3]', 'features.2.bias [64]',
        'features.5.weight [128, 64, 3, 3]', 'features.5.bias [128]',
        'features.7.weight [128, 128, 3, 3]', 'features.7.bias [128]',
      ]);
      expect(vgg.parameters().every((p) => !p.requiresGrad)).toBe(true);
    } finally {
      vgg.dispose();
    }
  });
});
