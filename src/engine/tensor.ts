/// <reference types="@webgpu/types" />
// A float32 n-d tensor in a GPU buffer. Views (reshape, permute, slice, expand) share one Storage and differ
// in shape, strides and offset; the buffer returns to the pool when the last view is disposed.
import { engine, type Disposable, type Engine } from './engine.js';
import type { GradNode } from '../autograd/tape.js';
import { contiguousCopy, fillInto } from '../kernels/elementwise.js';

import { checkShape, rowMajorStrides, sizeOf, type Shape } from './shape.js';

export type { Shape };

/** A pooled GPU buffer shared by every view of it. */
export class Storage {
  private refs = 0;
  constructor(
    readonly engine: Engine,
    readonly buffer: GPUBuffer,
    /** Elements the owner asked for (the pooled buffer may be larger). */
    readonly length: number,
  ) {}
  retain(): this {
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs === 0) this.engine.releaseBuffer(this.buffer);
  }
}

let nextId = 1;

export class Tensor {
  readonly id = nextId++;
  readonly size: number;
  /** The operation that produced this tensor, for backward; null for leaves and untracked results. */
  node: GradNode | null = null;
  requiresGrad = false;
  /** Accumulated gradient of a leaf with requiresGrad, filled by backward(). */
  grad: Tensor | null = null;
  kept = false;
  scope: Set<Disposable> | null = null;
  private disposed = false;

  constructor(
    readonly storage: Storage,
    readonly shape: Shape,
    readonly strides: readonly number[] = rowMajorStrides(shape),
    /** First element, in elements from the start of the storage. */
    readonly offset = 0,
  ) {
    this.size = sizeOf(shape);
    storage.retain();
    storage.engine.liveTensors++;
    storage.engine.track(this as never);
  }

  /** A fresh uninitialised tensor from the pool; kernels fill it. */
  static empty(shape: Shape): Tensor {
    checkShape(shape);
    const e = engine();
    const n = sizeOf(shape);
    const t = new Tensor(new Storage(e, e.acquireBuffer(Math.max(n, 1) * 4), n), shape);
    if (e.poisonNewTensors) fillInto(t, NaN);
    return t;
  }

  /** Uploads host values (row-major) as a new tensor. */
  static fromArray(values: ArrayLike<number>, shape: Shape): Tensor {
    checkShape(shape);
    if (values.length !== sizeOf(shape)) {
      throw new Error(`${values.length} values do not fill shape [${shape.join(', ')}] (${sizeOf(shape)} elements).`);
    }
    const t = Tensor.empty(shape);
    if (t.size > 0) engine().upload(t.storage.buffer, values instanceof Float32Array ? values : Float32Array.from(values));
    return t;
  }

  /** Reads the values back to the host, row-major. Explicit and async: the only way data leaves the GPU. */
  async data(): Promise<Float32Array> {
    this.assertAlive();
    if (this.size === 0) return new Float32Array(0);
    if (this.isContiguous) return this.storage.engine.download(this.storage.buffer, this.offset * 4, this.size * 4);
    const copy = contiguousCopy(this);
    try {
      return await copy.data();
    } finally {
      copy.dispose();
    }
  }

  /** A view of this tensor's storage with another layout. */
  view(shape: Shape, strides: readonly number[], offset = this.offset): Tensor {
    this.assertAlive();
    return new Tensor(this.storage, shape, strides, offset);
  }

  get rank(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Row-major with no gaps (offset may be non-zero). */
  get isContiguous(): boolean {
    let s = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      if (this.shape[i] !== 1 && this.strides[i] !== s) return false;
      s *= this.shape[i];
    }
    return true;
  }

  assertAlive(): void {
    if (this.disposed) {
      throw new Error(`Tensor #${this.id} [${this.shape.join(', ')}] was disposed (by tidy() or dispose()) and cannot be used; return it from tidy() or keep() it.`);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.scope?.delete(this);
    this.scope = null;
    this.node = null;
    this.grad?.dispose();
    this.grad = null;
    this.storage.engine.liveTensors--;
    this.storage.release();
  }

  toString(): string {
    return `Tensor#${this.id}[${this.shape.join(', ')}]${this.requiresGrad ? ' requiresGrad' : ''}`;
  }
}
