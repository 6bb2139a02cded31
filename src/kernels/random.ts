// Seeded uniform and normal fills (shaders/random.wgsl) and the generator that hands out their keys.
import shader from '../../shaders/random.wgsl';
import { engine } from '../engine/engine.js';
import { Tensor, type Shape } from '../engine/tensor.js';
import { grid1d, shaderSource, uniformStruct } from './uniforms.js';

const Params = uniformStruct('RandomParams', {
  count: 'u32',
  key0: 'u32',
  key1: 'u32',
  /** uniform: low bound; normal: mean. */
  a: 'f32',
  /** uniform: high bound; normal: standard deviation. */
  b: 'f32',
});
const source = shaderSource(shader, Params);

/**
 * A reproducible stream of fill keys: fill n of a generator seeded s always gets key (s, n), so a run with
 * the same seed and the same sequence of random calls produces the same numbers. Its state is two integers
 * (saved with training checkpoints).
 */
export class Generator {
  constructor(
    public seed = 0,
    public calls = 0,
  ) {}

  nextKey(): [number, number] {
    return [this.seed >>> 0, mix32(this.calls++ + 0x9e3779b9)];
  }

  state(): { seed: number; calls: number } {
    return { seed: this.seed, calls: this.calls };
  }
}

/** The default generator used when a fill names none. */
export const defaultGenerator = new Generator(0);

export function manualSeed(seed: number): void {
  defaultGenerator.seed = seed;
  defaultGenerator.calls = 0;
}

function launch(entry: string, shape: Shape, a: number, b: number, generator: Generator): Tensor {
  // A replay would repeat this fill's key instead of drawing the next one.
  engine().refuseWhileRecording('a random fill');
  const out = Tensor.empty(shape);
  if (out.size === 0) return out;
  if (out.size > 2 ** 31) throw new Error('random fills are limited to 2^31 elements');
  const [k0, k1] = generator.nextKey();
  const uniforms = Params.pack({ count: out.size, key0: k0, key1: k1, a, b });
  engine().dispatch({ family: 'random', source, entry }, uniforms, [out.storage.buffer], grid1d(out.size, 256));
  return out;
}

/** Uniform in [low, high). */
export function uniformFill(shape: Shape, low = 0, high = 1, generator = defaultGenerator): Tensor {
  return launch('uniform_fill', shape, low, high, generator);
}

/** Normal with the given mean and standard deviation. */
export function normalFill(shape: Shape, mean = 0, std = 1, generator = defaultGenerator): Tensor {
  return launch('normal_fill', shape, mean, std, generator);
}

// ---- CPU mirror (float64 reference and reproducibility tests) -------------------------------------------

export function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

export function randomBitsReference(i: number, key0: number, key1: number): number {
  return mix32((mix32((i ^ key0) >>> 0) ^ key1) >>> 0);
}

export function uniformReference(count: number, key: [number, number], low = 0, high = 1): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = low + (high - low) * ((randomBitsReference(i, ...key) >>> 8) / 16777216);
  return out;
}

export function normalReference(count: number, key: [number, number], mean = 0, std = 1): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const u1 = (randomBitsReference(2 * i, ...key) >>> 8) / 16777216 + 1 / 16777216;
    const u2 = (randomBitsReference(2 * i + 1, ...key) >>> 8) / 16777216;
    out[i] = mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
  return out;
}
