/// <reference types="@webgpu/types" />
// A float32 n-d tensor in a GPU buffer. Views (reshape, permute, slice, expand) share one Storage and differ
// in shape, strides and offset; the buffer returns to the pool when the last view is disposed.
import type { Disposable } from './disposable.js';
import { engine, type Engine } from './engine.js';
import { checkShape, rowMajorStrides, sizeOf, type Shape } from './shape.js';

export type { Shape };

/** What autograd (src/autograd/tape.ts) links a tensor to: the op that made it, its inputs and its gradient rule. */
export interface GradNode {
  op: string;
  inputs: readonly Tensor[];
  /**
   * Gradients w.r.t. each input, given the output's gradient and which inputs need one (`needs[i]`: a rule
   * computes nothing for an input that needs none, as PyTorch's needs_input_grad; it returns null there). The
   * caller owns and disposes what it returns, so a rule returns new tensors or views, never a saved tensor itself.
   */
  backward(grad: Tensor, needs: readonly boolean[]): readonly (Tensor | null)[];
}

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
    // A debugging aid (tests): a kernel that reads what it never wrote sees NaN, not an old buffer's values. While
    // recording an upload would not be replayed (and is refused), so tensors made then are not poisoned.
    if (e.poisonNewTensors && n > 0 && !e.recording) e.upload(t.storage.buffer, new Float32Array(n).fill(NaN));
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
    // A strided view: read the span of storage it covers and gather on the host (strides are never negative).
    const span = this.shape.reduce((last, n, d) => last + (n - 1) * this.strides[d], 0) + 1;
    const stored = await this.storage.engine.download(this.storage.buffer, this.offset * 4, span * 4);
    const out = new Float32Array(this.size);
    const index = new Array<number>(this.rank).fill(0);
    for (let i = 0, at = 0; i < this.size; i++) {
      out[i] = stored[at];
      for (let d = this.rank - 1; d >= 0; d--) {
        at += this.strides[d];
        if (++index[d] < this.shape[d]) break;
        at -= this.strides[d] * this.shape[d];
        index[d] = 0;
      }
    }
    return out;
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
