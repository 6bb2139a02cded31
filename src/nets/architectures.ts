// The published architectures by the names the command line uses, and the state-dict layout each expects.
import { DiscriminatorV1 } from './discriminator-v1.js';
import { EXTRACTOR_V1, SEResNeXt } from './extractor.js';
import { FFDNet } from './ffdnet.js';
import { GeneratorV1 } from './generator-v1.js';
import { GeneratorV2 } from './generator-v2.js';
import type { Module } from './module.js';
import { Vgg16Features } from './vgg16.js';

/**
 * The __metadata__ format of a generator this project trained and exported (src/train/checkpoint.ts writes it,
 * src/colorize/model.ts reads it): its sizes travel in the file, so no flag has to repeat them.
 */
export const PROJECT_GENERATOR_FORMAT = 'manga-colorize/generator-v1/1';

export const ARCHITECTURES = {
  'v1-generator': () => new GeneratorV1(),
  'v1-discriminator': () => new DiscriminatorV1(),
  'v1-extractor': () => new SEResNeXt(EXTRACTOR_V1),
  'v2-generator': () => new GeneratorV2(),
  ffdnet: () => new FFDNet(),
  vgg16: () => new Vgg16Features(),
} satisfies Record<string, () => Module>;

/**
 * Tensors a published file holds that the architecture does not use: torchvision's VGG16 file has the whole
 * network, of which the perceptual loss needs features[:9] (convs 0, 2, 5, 7).
 */
export const UNUSED_TENSORS: Partial<Record<ArchitectureName, RegExp>> = {
  vgg16: /^(classifier\.|features\.(?!(0|2|5|7)\.)\d+\.)/,
};

export type ArchitectureName = keyof typeof ARCHITECTURES;

export function isArchitecture(name: string): name is ArchitectureName {
  return Object.hasOwn(ARCHITECTURES, name);
}

/**
 * Names and shapes of the published architecture's state dict, in its order. Builds the module on the
 * current engine (its weights are random and freed at once): the modules are the one source of truth.
 */
export function stateDictLayout(name: ArchitectureName): Map<string, number[]> {
  const module = ARCHITECTURES[name]();
  try {
    return new Map(module.namedState().map((s) => [s.name, [...s.tensor.shape]]));
  } finally {
    module.dispose();
  }
}
