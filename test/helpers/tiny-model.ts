// A tiny v1 generator in the project's exported format (src/train/checkpoint.ts exportGenerator: safetensors with
// the sizes in __metadata__, localFeatures "none"), for tests of whole pipelines on a software adapter.
//
// Its weights are random (Xavier, as training starts) except two paths through to0 to the exit conv: the line
// art (channel 6 of to0, centre taps), which the exit turns into grey tanh(2·line − 1), and hint R, G, B in both
// signs (channels 0–5, so LeakyReLU keeps both) through 3×3 box filters, which the exit turns back into colour.
// So the output looks like the page, and a colour dot pulls the pixels around it toward its colour — what a
// trained generator does and a purely random one does not do reliably — while every other layer still runs
// with random weights and only nudges the output (the exit's weights on tunnel1's channels are scaled by 0.1).
import { writeSafetensors } from '../../src/io/safetensors.js';
import { GeneratorV1, generatorV1Config, type GeneratorV1Sizes } from '../../src/nets/generator-v1.js';
import { Generator } from '../../src/kernels/random.js';

export const TINY_SIZES: GeneratorV1Sizes = { width: 16, featureChannels: 16, dilations: [[1], [1, 2], [1], [1]], cardinality: [4, 4, 2, 2] };

/** The file's bytes; needs an engine (useEngine) to build the module. */
export async function tinyGeneratorSafetensors(seed = 7): Promise<Uint8Array> {
  const config = generatorV1Config(TINY_SIZES);
  const generator = new GeneratorV1(config, { rng: new Generator(seed) });
  try {
    const state = await generator.stateDict();
    const [e0] = config.encoderWidths; // to0's width (8)
    const tunnelOut = config.tunnels[3].width / 2; // tunnel1's output channels, first in the exit's input
    const set = (name: string, f: (index: number[]) => number) => {
      const { shape, data } = state.get(name)!;
      for (let i = 0; i < data.length; i++) {
        const index: number[] = [];
        for (let rest = i, d = shape.length - 1; d >= 0; d--) {
          index[d] = rest % shape[d];
          rest = Math.floor(rest / shape[d]);
        }
        data[i] = f(index);
      }
    };
    // Channel 2c of to0 carries +hint_c, channel 2c+1 carries −hint_c (input channels 2, 3, 4 are hint R, G, B).
    const centre = (ky: number, kx: number) => ky === 1 && kx === 1;
    set('to0.0.weight', ([o, i, ky, kx]) => (o < 6 && i === 2 + (o >> 1) ? (o & 1 ? -1 : 1) : o === 6 && i === 0 && centre(ky, kx) ? 1 : 0));
    set('to0.0.bias', () => 0);
    set('to0.2.weight', ([o, i, ky, kx]) => (o < 6 && i === o ? 1 : o === 6 && i === 6 && centre(ky, kx) ? 1 : 0));
    set('to0.2.bias', () => 0);
    const exitRandom = state.get('exit.weight')!.data.slice();
    set('exit.weight', ([o, i, ky, kx]) => {
      if (i < tunnelOut) return 0.1 * exitRandom[((o * (tunnelOut + e0) + i) * 3 + ky) * 3 + kx];
      const c = i - tunnelOut;
      if (c === 6) return ky === 1 && kx === 1 ? 2 : 0;
      return c < 6 && c >> 1 === o ? (c & 1 ? -0.05 : 0.05) : 0;
    });
    set('exit.bias', () => -1);
    const metadata = {
      format: 'manga-colorize/generator-v1/1',
      generator: JSON.stringify(TINY_SIZES),
      localFeatures: 'none',
      preset: 'test',
    };
    return writeSafetensors(state, { metadata });
  } finally {
    generator.dispose();
  }
}
