/// <reference types="@webgpu/types" />
// A recorded sequence of dispatches, replayed with its pipelines, bind groups and uniforms fixed. A training
// step issues thousands of small dispatches whose host-side cost (shape logic, autograd bookkeeping, one bind
// group each) rivals the GPU work; replaying skips all of it. What makes a replay correct:
//   - the buffers it writes between its first and last use (activations, gradients: its scratch) belong to it
//     alone, taken out of the pool when recording ends;
//   - every other buffer it touches (parameters, optimizer moments, inputs the caller uploads into, its
//     results) still has the owner it had when recorded: a buffer's release count must be unchanged
//     (`valid`), else the caller records again;
//   - nothing is uploaded, read back or drawn at random inside it: those happen on the host, once, and
//     would not happen again on replay (the engine refuses them while recording).
import type { DispatchCost } from './engine.js';
import type { BufferPool } from './pool.js';

export interface CapturedDispatch {
  pipeline: GPUComputePipeline;
  /** The pipeline's cache key, family:entry:constants (the profiler groups by it). */
  kernel: string;
  uniforms: Uint32Array;
  buffers: GPUBuffer[];
  groups: [number, number, number];
  cost?: DispatchCost;
}

/** What the engine notes while a recording's function runs. */
export class Capture {
  readonly dispatches: CapturedDispatch[] = [];
  /** Buffers acquired while recording (lent scratch included). */
  readonly born = new Set<GPUBuffer>();
  private readonly referenced = new Set<GPUBuffer>();
  /** A buffer read by the recording and then released by a tensor made before it: stale on every replay. */
  staleRead: GPUBuffer | null = null;

  dispatch(d: CapturedDispatch): void {
    this.dispatches.push(d);
    for (const b of d.buffers) this.referenced.add(b);
  }

  acquired(buffer: GPUBuffer): void {
    this.born.add(buffer);
  }

  released(buffer: GPUBuffer): void {
    if (!this.born.has(buffer) && this.referenced.has(buffer)) this.staleRead ??= buffer;
  }

  isReferenced(buffer: GPUBuffer): boolean {
    return this.referenced.has(buffer);
  }
}

/** The engine's side of a recording: its pool, how to queue and bind the commands, its list of recordings. */
export interface RecordingHost {
  readonly pool: BufferPool;
  encode(recording: Recording): void;
  forget(recording: Recording): void;
  /** The bind group of command `slot`: its uniform slot in `uniforms`, then `buffers`. */
  bindGroup(pipeline: GPUComputePipeline, uniforms: GPUBuffer, slot: number, buffers: readonly GPUBuffer[]): GPUBindGroup;
}

export interface RecordedCommand {
  readonly pipeline: GPUComputePipeline;
  readonly kernel: string;
  readonly cost?: DispatchCost;
  readonly buffers: readonly GPUBuffer[];
  readonly bindGroup: GPUBindGroup;
  readonly groups: [number, number, number];
}

export class Recording {
  private disposed = false;
  private readonly ownScratch: GPUBuffer[];
  private readonly recorded: RecordedCommand[];

  constructor(
    private readonly host: RecordingHost,
    commands: RecordedCommand[],
    scratch: GPUBuffer[],
    /** Buffers owned by tensors (or other recordings) with their release counts when recorded. */
    private readonly dependencies: ReadonlyMap<GPUBuffer, number>,
    private readonly uniforms: GPUBuffer,
  ) {
    this.recorded = commands;
    this.ownScratch = scratch;
  }

  /** Pipelines, buffers and bind groups in dispatch order, with their grid sizes. */
  get commands(): readonly RecordedCommand[] {
    return this.recorded;
  }

  /** The buffers only this recording writes; see the file comment. */
  get scratch(): readonly GPUBuffer[] {
    return this.ownScratch;
  }

  /** Bytes of the scratch buffers this recording keeps out of the pool. */
  get scratchBytes(): number {
    return this.ownScratch.reduce((n, b) => n + b.size, 0);
  }

  /** Gives up scratch buffer `old` (a tensor made by another recording now owns it) for `fresh`, rebinding the commands that used it. */
  replaceScratch(old: GPUBuffer, fresh: GPUBuffer): void {
    const i = this.ownScratch.indexOf(old);
    if (i < 0) throw new Error('Recording.replaceScratch: not a scratch buffer of this recording.');
    this.ownScratch[i] = fresh;
    this.recorded.forEach((c, slot) => {
      if (!c.buffers.includes(old)) return;
      const buffers = c.buffers.map((b) => (b === old ? fresh : b));
      this.recorded[slot] = { ...c, buffers, bindGroup: this.host.bindGroup(c.pipeline, this.uniforms, slot, buffers) };
    });
  }

  /** False once any buffer it borrows has been released (a tensor disposed, optimizer state reloaded, ...). */
  get valid(): boolean {
    if (this.disposed) return false;
    for (const [buffer, count] of this.dependencies) if (this.host.pool.releaseCount(buffer) !== count) return false;
    return true;
  }

  /** Queues the recorded dispatches again, after everything recorded before. */
  replay(): void {
    if (this.disposed) throw new Error('Recording.replay: the recording was disposed.');
    if (!this.valid) {
      throw new Error('Recording.replay: a tensor this recording reads or writes was disposed or replaced since it was recorded; record it again.');
    }
    this.host.encode(this);
  }

  /** Returns the scratch buffers to the pool (recordings that shared them become invalid). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of this.ownScratch) this.host.pool.release(b);
    this.ownScratch.length = 0;
    this.uniforms.destroy();
    this.host.forget(this);
  }
}
