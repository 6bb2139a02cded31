// What disposal scopes (Engine's tidy) and recordings track: tensors, or anything else holding a pooled buffer.

/** A scope of tensors created inside `tidy`, disposed when it ends unless returned or kept. */
export interface Disposable {
  dispose(): void;
  kept: boolean;
  scope: Set<Disposable> | null;
  /** The GPU buffer it holds (a recording tells its results from leftovers by it). */
  readonly storage: { readonly buffer: GPUBuffer };
}

/** Every tensor (or other disposable) in a value: itself, or inside its arrays and objects. */
export function collectDisposables(value: unknown, into: Set<Disposable>): void {
  if (value === null || typeof value !== 'object') return;
  if ('dispose' in value && 'kept' in value) {
    into.add(value as Disposable);
    return;
  }
  for (const v of Array.isArray(value) ? value : Object.values(value)) collectDisposables(v, into);
}
