// Shared test helpers: random host tensors and comparisons against the float64 references.
import { expect } from 'vitest';
import { hostNormal, hostRandom, relativeError } from '../../src/ops/gradcheck.js';
import { sizeOf, type Shape } from '../../src/engine/shape.js';
import type { Tensor } from '../../src/engine/tensor.js';
import type { HostTensor } from '../../src/kernels/host.js';

let seed = 1;
/** Fresh random values for every call (different seed each time, reproducible across runs). */
export function randomHost(shape: Shape, kind: 'normal' | 'positive' | 'uniform' = 'normal'): HostTensor {
  const rand = hostRandom(seed++ * 7919);
  const data = Float64Array.from({ length: sizeOf(shape) }, () =>
    kind === 'normal' ? hostNormal(rand) : kind === 'positive' ? 0.2 + 2 * rand() : 2 * rand() - 1,
  );
  return { shape: [...shape], data };
}

/** Asserts GPU output ≈ reference (relative L2 error), and shape equality. */
export async function expectClose(actual: Tensor, expected: HostTensor, tolerance = 1e-6): Promise<number> {
  expect([...actual.shape]).toEqual(expected.shape);
  const values = await actual.data();
  const error = relativeError(values, expected.data);
  expect(error, `relative error ${error}`).toBeLessThan(tolerance);
  return error;
}
