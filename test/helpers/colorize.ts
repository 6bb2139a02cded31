// Weight files and pages for the colorize tests: tiny random generators in the project's exported format (the
// metadata exportGenerator writes), the published extractor with random weights, and grey manga-like pages.
import type { WeightsFile } from '../../src/colorize/model.js';
import { PROJECT_GENERATOR_FORMAT } from '../../src/nets/architectures.js';
import { toGrey, type Plane } from '../../src/data/plane.js';
import { Generator } from '../../src/kernels/random.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { EXTRACTOR_V1, SEResNeXt } from '../../src/nets/extractor.js';
import { GeneratorV1, generatorV1Config } from '../../src/nets/generator-v1.js';
import type { Module } from '../../src/nets/module.js';
import { syntheticPage } from './pages.js';

/** The training `tiny` preset's sizes: the smallest the networks allow. */
export const TINY_SIZES = { width: 16, featureChannels: 16, dilations: [[1, 1], [1, 2], [1, 2], [1]], cardinality: [4, 4, 2, 2] } as const;

async function save(module: Module, name: string, metadata?: Record<string, string>): Promise<WeightsFile> {
  const bytes = writeSafetensors(await module.stateDict(), { metadata });
  module.dispose();
  return { bytes, name };
}

/** A random tiny v1 generator as training exports it; with the extractor branch its features are 512 wide. */
export async function tinyGenerator({ localFeatures, seed = 1, hintInput, hintGate }: {
  localFeatures: 'none' | 'extractor'; seed?: number; hintInput?: string; hintGate?: string;
}): Promise<WeightsFile> {
  const sizes = { ...TINY_SIZES, featureChannels: localFeatures === 'extractor' ? 512 : 16, ...(hintGate === undefined ? {} : { hintGate }) };
  const generator = new GeneratorV1(generatorV1Config(sizes as Parameters<typeof generatorV1Config>[0]), { rng: new Generator(seed) });
  const metadata: Record<string, string> = { format: PROJECT_GENERATOR_FORMAT, generator: JSON.stringify(sizes), localFeatures, preset: 'tiny' };
  if (hintInput !== undefined) metadata.hintInput = hintInput;
  return save(generator, 'tiny.safetensors', metadata);
}

/** The published extractor's layout with random weights. */
export async function extractorFile(): Promise<WeightsFile> {
  return save(new SEResNeXt({ ...EXTRACTOR_V1, rng: new Generator(2) }), 'extractor.safetensors');
}

/** A black-and-white page: the synthetic page's luma, as three equal channels. */
export function greyPage(width: number, height: number, seed: number): Plane {
  const grey = toGrey(syntheticPage(width, height, seed));
  return { width, height, channels: 3, data: Float32Array.from({ length: width * height * 3 }, (_, i) => grey.data[Math.floor(i / 3)]) };
}
