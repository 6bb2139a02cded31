// Tensor creation: from host values, constants, and seeded random fills.
import type { Shape } from '../engine/tensor.js';
import { Tensor } from '../engine/tensor.js';
import { fill } from '../kernels/elementwise.js';
import { normalFill, uniformFill, type Generator } from '../kernels/random.js';

export interface CreateOptions {
  /** Makes the tensor a leaf whose gradient backward() accumulates in `.grad`. */
  requiresGrad?: boolean;
}

function leaf(t: Tensor, options?: CreateOptions): Tensor {
  t.requiresGrad = options?.requiresGrad ?? false;
  return t;
}

export function tensor(values: ArrayLike<number>, shape: Shape = [values.length], options?: CreateOptions): Tensor {
  return leaf(Tensor.fromArray(values, shape), options);
}

export const full = (shape: Shape, value: number, options?: CreateOptions) => leaf(fill(shape, value), options);
export const zeros = (shape: Shape, options?: CreateOptions) => full(shape, 0, options);
export const ones = (shape: Shape, options?: CreateOptions) => full(shape, 1, options);
export const zerosLike = (t: Tensor) => zeros(t.shape);
export const onesLike = (t: Tensor) => ones(t.shape);

export interface RandomOptions extends CreateOptions {
  generator?: Generator;
}

/** Uniform in [low, high), reproducible for a given generator state. */
export function randUniform(shape: Shape, low = 0, high = 1, options?: RandomOptions): Tensor {
  return leaf(uniformFill(shape, low, high, options?.generator), options);
}

/** Normal(mean, std), reproducible for a given generator state. */
export function randNormal(shape: Shape, mean = 0, std = 1, options?: RandomOptions): Tensor {
  return leaf(normalFill(shape, mean, std, options?.generator), options);
}
