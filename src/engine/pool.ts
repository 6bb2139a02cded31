/// <reference types="@webgpu/types" />
// GPU buffers recycled by size class. Creating a buffer is slow on every backend and a training step makes
// hundreds of short-lived activations, so released buffers wait here for the next request of their class.
// A recorded step (src/engine/recording.ts) takes the buffers it used out of the pool for good and checks,
// through each buffer's release count, that the buffers it borrows from tensors were never given up since.

/** Size classes: 4 steps per power of two, so a recycled buffer wastes at most ~19 % (min 256 bytes). */
export function sizeClass(bytes: number): number {
  if (bytes <= 256) return 256;
  const octave = 2 ** Math.floor(Math.log2(bytes));
  const step = octave / 4;
  return Math.ceil(bytes / step) * step;
}

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly waiting = new Set<GPUBuffer>();
  private readonly releases = new WeakMap<GPUBuffer, number>();
  /** Bytes of buffers handed out and not yet released. */
  liveBytes = 0;
  /** Bytes of buffers waiting in the pool. */
  pooledBytes = 0;
  /** The most bytes held from the driver (live + pooled) since creation or the last resetPeak(). */
  peakBytes = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: GPUBufferUsageFlags,
  ) {}

  acquire(bytes: number): GPUBuffer {
    const size = sizeClass(bytes);
    const recycled = this.free.get(size)?.pop();
    if (recycled) {
      this.waiting.delete(recycled);
      this.pooledBytes -= size;
    }
    const buffer = recycled ?? this.device.createBuffer({ size, usage: this.usage });
    this.liveBytes += size;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes + this.pooledBytes);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    this.changedOwner(buffer);
    this.putBack(buffer);
  }

  /** Counts a change of owner that did not go through the pool (a recording's scratch kept by a tensor). */
  changedOwner(buffer: GPUBuffer): void {
    this.releases.set(buffer, this.releaseCount(buffer) + 1);
  }

  /** How often `buffer` was released: unchanged means it kept its owner (and its contents) all along. */
  releaseCount(buffer: GPUBuffer): number {
    return this.releases.get(buffer) ?? 0;
  }

  isWaiting(buffer: GPUBuffer): boolean {
    return this.waiting.has(buffer);
  }

  /** Removes a waiting buffer from the pool for a new owner (a recording) without handing out another. */
  take(buffer: GPUBuffer): void {
    if (!this.waiting.delete(buffer)) throw new Error('BufferPool.take: the buffer is not waiting in this pool.');
    const list = this.free.get(buffer.size)!;
    list.splice(list.lastIndexOf(buffer), 1);
    this.pooledBytes -= buffer.size;
    this.liveBytes += buffer.size;
  }

  /** Puts a taken buffer back for reuse; unlike release() this says nothing about its owner. */
  lend(buffer: GPUBuffer): void {
    this.putBack(buffer);
  }

  private putBack(buffer: GPUBuffer): void {
    const list = this.free.get(buffer.size) ?? [];
    list.push(buffer);
    this.free.set(buffer.size, list);
    this.waiting.add(buffer);
    this.liveBytes -= buffer.size;
    this.pooledBytes += buffer.size;
  }

  /** Destroys every pooled buffer (live ones stay with their tensors). */
  trim(): void {
    for (const list of this.free.values()) for (const buffer of list) buffer.destroy();
    this.free.clear();
    this.waiting.clear();
    this.pooledBytes = 0;
  }
}
