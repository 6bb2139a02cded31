// Tensors as checkpoint files hold them: named, row-major host data with the element type the file used. Every
// reader (safetensors, PyTorch zip and legacy) returns this; the writers and the CLI consume it.
import { StateDictError } from '../nets/module.js';
import type { FloatDType, StoredDType } from './dtypes.js';

/** One tensor read from a file: `dtype` is the type in the file; float data is converted to float32. */
export type StoredTensor =
  | { dtype: FloatDType; shape: number[]; data: Float32Array }
  | { dtype: 'I64'; shape: number[]; data: BigInt64Array };

/** Name → tensor, in the file's order. */
export type StoredTensors = Map<string, StoredTensor>;

export const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Removes `prefix` from every name when every name has it (nn.DataParallel saves `module.` before each), so a
 * partial match never renames some tensors and not others. Returns the tensors unchanged otherwise.
 */
export function stripPrefix(tensors: StoredTensors, prefix = 'module.'): { tensors: StoredTensors; stripped: string | null } {
  const names = [...tensors.keys()];
  if (!names.length || !names.every((n) => n.startsWith(prefix))) return { tensors, stripped: null };
  return { tensors: new Map([...tensors].map(([n, t]) => [n.slice(prefix.length), t])), stripped: prefix };
}

/** Tensor count, parameter (element) count and how many tensors of each element type. */
export function summarize(tensors: StoredTensors): { tensors: number; elements: number; dtypes: Map<StoredDType, number> } {
  let elements = 0;
  const dtypes = new Map<StoredDType, number>();
  for (const t of tensors.values()) {
    elements += t.data.length;
    dtypes.set(t.dtype, (dtypes.get(t.dtype) ?? 0) + 1);
  }
  return { tensors: tensors.size, elements, dtypes };
}

/** Row-major float32 entries as the nets' loadStateDict takes them; int64 counters become floats. */
export function floatEntries(tensors: StoredTensors): Map<string, { shape: number[]; data: Float32Array }> {
  return new Map(
    [...tensors].map(([name, t]) => [name, { shape: t.shape, data: t.dtype === 'I64' ? Float32Array.from(t.data, Number) : t.data }]),
  );
}

/**
 * Checks a checkpoint against the names and shapes an architecture expects and reports every missing, unexpected
 * and mis-shaped tensor in one StateDictError; returns normally when they agree exactly.
 */
export function checkTensorShapes(tensors: StoredTensors, expected: ReadonlyMap<string, readonly number[]>, subject = 'the architecture'): void {
  const missing: string[] = [];
  const misshaped: string[] = [];
  for (const [name, shape] of expected) {
    const t = tensors.get(name);
    if (!t) missing.push(`${name} ${shapeText(shape)}`);
    else if (shapeText(t.shape) !== shapeText(shape)) misshaped.push(`${name}: checkpoint ${shapeText(t.shape)}, expected ${shapeText(shape)}`);
  }
  const unexpected = [...tensors].filter(([name]) => !expected.has(name)).map(([name, t]) => `${name} ${shapeText(t.shape)}`);
  if (missing.length || unexpected.length || misshaped.length) throw new StateDictError(subject, missing, unexpected, misshaped);
}
