/// <reference types="@webgpu/types" />
// GPU buffers recycled by size class. Creating a buffer is slow on every backend and a training step makes
// hundreds of short-lived activations, so released buffers wait here for the next request of their class.

/** Size classes: 4 steps per power of two, so a recycled buffer wastes at most ~19 % (min 256 bytes). */
export function sizeClass(bytes: number): number {
  if (bytes <= 256) return 256;
  const octave = 2 ** Math.floor(Math.log2(bytes));
  const step = octave / 4;
  return Math.ceil(bytes / step) * step;
}

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
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
    if (recycled) this.pooledBytes -= size;
    const buffer = recycled ?? this.device.createBuffer({ size, usage: this.usage });
    this.liveBytes += size;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes + this.pooledBytes);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    const list = this.free.get(buffer.size) ?? [];
    list.push(buffer);
    this.free.set(buffer.size, list);
    this.liveBytes -= buffer.size;
    this.pooledBytes += buffer.size;
  }

  /** Destroys every pooled buffer (live ones stay with their tensors). */
  trim(): void {
    for (const list of this.free.values()) for (const buffer of list) buffer.destroy();
    this.free.clear();
    this.pooledBytes = 0;
  }
}
