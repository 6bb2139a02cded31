/// <reference types="@webgpu/types" />
// Recording (Engine.record): a sequence of dispatches captured once and replayed with its pipelines, bind groups
// and uniforms fixed. A training
// step issues thousands of small dispatches whose host-side cost (shape logic, autograd bookkeeping, one bind
// group each) rivals the GPU work; replaying skips all of it. What makes a replay correct:
//   - the buffers it writes between its first and last use (activations, gradients: its scratch) belong to it
//     alone, taken out of the pool when recording ends;
//   - every other buffer it touches (parameters, optimizer moments, inputs the caller uploads into, its
//     results) still has the owner it had when recorded: a buffer's release count must be unchanged
//     (`valid`), else the caller records again;
//   - nothing is uploaded, read back or drawn at random inside it: those happen on the host, once, and
//     would not happen again on replay (the engine refuses them while recording).
import { collectDisposables, type Disposable } from './disposable.js';
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

/** The engine's side of a recording: its pool, its batch, how to queue and bind the commands, its list of recordings. */
export interface RecordingHost {
  readonly pool: BufferPool;
  /** Submits the engine's current batch. */
  flush(): void;
  /** From now on the engine's dispatches go into `capture` instead of its batch (null: into the batch again). */
  capture(capture: Capture | null): void;
  /** A uniform buffer holding `uniforms` in consecutive slots, slot i for command i. */
  uniformSlots(uniforms: readonly Uint32Array[]): GPUBuffer;
  /** A new recording joins the engine's list (memory reports, destroy). */
  adopt(recording: Recording): void;
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

/** The work of Engine.record (see there), once the engine has checked that it is healthy and not recording. */
export function recordDispatches<T>(host: RecordingHost, fn: () => T, shareScratchWith: Iterable<Recording>): { recording: Recording; result: T } {
  const { pool } = host;
  host.flush();
  const lenders = new Map<GPUBuffer, Recording>();
  for (const r of shareScratchWith) {
    if (!r.valid) continue;
    for (const b of r.scratch) {
      lenders.set(b, r);
      pool.lend(b);
    }
  }
  const capture = new Capture();
  host.capture(capture);
  let result: T;
  let recorded = false;
  try {
    result = fn();
    if (result instanceof Promise) {
      result.catch(() => undefined); // its failure (e.g. a refused readback) is reported by the error below
      throw new Error('Engine.record takes a synchronous function: nothing can be awaited or read back inside a recording.');
    }
    if (capture.staleRead) {
      throw new Error(
        'Engine.record: the function read a tensor made before recording and then disposed it; a replay would read whatever ' +
          'the buffer holds by then. Keep that tensor alive while the recording is used, or create it inside the function.',
      );
    }
    // A tensor made here that outlives the recording without being its result would be written again by every
    // replay: lazily created state (moments, caches) would be reset each time.
    const returned = new Set<Disposable>();
    collectDisposables(result, returned);
    const results = new Set([...returned].map((t) => t.storage.buffer));
    const leftovers = [...capture.born].filter((b) => capture.isReferenced(b) && !pool.isWaiting(b) && !results.has(b));
    if (leftovers.length) {
      throw new Error(
        `Engine.record: ${leftovers.length} tensor(s) made while recording outlive it without being returned (kept or stored, e.g. ` +
          'gradients not zeroed, state created lazily); every replay would write them again. Create lasting state before recording, ' +
          'dispose temporaries inside it, or return what the caller reads.',
      );
    }
    recorded = true;
  } finally {
    host.capture(null);
    for (const b of lenders.keys()) {
      if (!pool.isWaiting(b)) continue;
      pool.take(b);
      lenders.delete(b);
    }
    if (!recorded) reownLentScratch(pool, lenders);
  }
  const scratch = [...capture.born].filter((b) => !lenders.has(b) && capture.isReferenced(b) && pool.isWaiting(b));
  for (const b of scratch) pool.take(b);
  reownLentScratch(pool, lenders);
  const own = new Set(scratch);
  const dependencies = new Map<GPUBuffer, number>();
  for (const d of capture.dispatches) for (const b of d.buffers) if (!own.has(b)) dependencies.set(b, pool.releaseCount(b));

  const uniforms = host.uniformSlots(capture.dispatches.map((d) => d.uniforms));
  const commands: RecordedCommand[] = capture.dispatches.map(({ pipeline, kernel, buffers, groups, cost }, slot) => (
    { pipeline, kernel, buffers, groups, cost, bindGroup: host.bindGroup(pipeline, uniforms, slot, buffers) }
  ));
  const recording = new Recording(host, commands, scratch, dependencies, uniforms);
  host.adopt(recording);
  recording.replay();
  return { recording, result };
}

/**
 * Lent scratch that a tensor made while recording still holds (a result): the tensor keeps it, its lender gets a
 * fresh buffer in its place, and the change of owner counts as a release, so recordings that borrowed the
 * buffer earlier become invalid. Called once this recording's own scratch is out of the pool.
 */
function reownLentScratch(pool: BufferPool, lenders: Map<GPUBuffer, Recording>): void {
  for (const [b, lender] of lenders) {
    lender.replaceScratch(b, pool.acquire(b.size));
    pool.changedOwner(b);
  }
}
