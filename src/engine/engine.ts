/// <reference types="@webgpu/types" />
// The engine: one device, its buffer pools, the pipeline cache, the command batch that dispatches go into,
// explicit readback, the disposal scopes, and recorded dispatch sequences that replay without the host work
// that made them (recording.ts). Kernels talk to the GPU only through `dispatch`.
import type { GpuDevice } from './device.js';
import { BufferPool } from './pool.js';
import { Capture, Recording, type RecordedCommand, type RecordingHost } from './recording.js';

/** A compute kernel: WGSL source, the entry point to run, and the override constants that specialise it. */
export interface Kernel {
  /** Shader family name (its file under shaders/), for the cache key and error messages. */
  family: string;
  source: string;
  entry: string;
  constants?: Record<string, number>;
}

/**
 * What one dispatch costs, for the profiler (src/engine/profiler.ts): its floating-point operations, the bytes it
 * must move at least (each operand read once, each result written once), and a shape class that groups
 * dispatches of one kernel whose cost differs ("3×3 64→64 @128×128"). Kernels pass it when they know it.
 */
export interface DispatchCost {
  flops?: number;
  bytes?: number;
  shape?: string;
}

export class GpuError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuError';
  }
}

/** A tensor larger than the adapter's largest storage binding: callers offer a smaller size (typed, not matched by text). */
export class BufferTooLargeError extends GpuError {
  constructor(
    readonly bytes: number,
    readonly limit: number,
    adapterName: string,
  ) {
    super(
      `A tensor of ${(bytes / 2 ** 20).toFixed(1)} MiB exceeds this adapter's largest storage binding ` +
        `(${(limit / 2 ** 20).toFixed(0)} MiB on ${adapterName}); use a smaller working size or batch.`,
    );
    this.name = 'BufferTooLargeError';
  }
}

/** Every dispatch gets one 256-byte uniform slot (WebGPU's minimum uniform offset alignment). */
export const UNIFORM_SLOT_BYTES = 256;
const SLOTS_PER_BATCH = 512;
/** Max workgroups per grid dimension guaranteed by WebGPU. */
export const MAX_GROUPS_PER_DIM = 65535;

export interface MemoryInfo {
  /** Bytes held by live tensors. */
  liveBytes: number;
  /** Bytes of released buffers kept for reuse. */
  pooledBytes: number;
  /** Number of tensors not yet disposed. */
  liveTensors: number;
  /** The most storage bytes held from the driver at once since the engine started or resetPeakMemory(). */
  peakBytes: number;
  /** Bytes held as scratch by recordings (counted in liveBytes too). */
  recordedBytes: number;
}

/** A scope of tensors created inside `tidy`, disposed when it ends unless returned or kept. */
export interface Disposable {
  dispose(): void;
  kept: boolean;
  scope: Set<Disposable> | null;
  /** The GPU buffer it holds (a recording tells its results from leftovers by it). */
  readonly storage: { readonly buffer: GPUBuffer };
}

export class Engine {
  readonly device: GPUDevice;
  private readonly storage: BufferPool;
  private readonly staging: BufferPool;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly uniformArena: GPUBuffer;
  private readonly uniformMirror = new Uint32Array((UNIFORM_SLOT_BYTES / 4) * SLOTS_PER_BATCH);
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private slots = 0;
  private failure: Error | null = null;
  private capture: Capture | null = null;
  private readonly recordings = new Set<Recording>();
  private readonly recordingHost: RecordingHost;
  readonly scopes: Set<Disposable>[] = [];
  liveTensors = 0;
  /** Debug aid for tests: fill every new tensor with NaN so an element a kernel forgets to write shows up. */
  poisonNewTensors = false;
  /** Dispatches, submits, pipelines and recordings made since creation, to show that batching and replays happen. */
  readonly counters = { dispatches: 0, submits: 0, pipelines: 0, recordings: 0 };

  constructor(readonly gpu: GpuDevice) {
    this.device = gpu.device;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    this.storage = new BufferPool(this.device, usage);
    this.staging = new BufferPool(this.device, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    this.recordingHost = {
      pool: this.storage,
      encode: (recording) => this.encodeRecording(recording),
      forget: (recording) => this.recordings.delete(recording),
      bindGroup: (pipeline, uniforms, slot, buffers) => {
        const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: uniforms, offset: slot * UNIFORM_SLOT_BYTES, size: UNIFORM_SLOT_BYTES } }];
        buffers.forEach((buffer, i) => entries.push({ binding: i + 1, resource: { buffer } }));
        return this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
      },
    };
    this.uniformArena = this.device.createBuffer({
      size: this.uniformMirror.byteLength,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.device.lost.then((info) => {
      if (info.reason !== 'destroyed') {
        this.fail(new GpuError(`The GPU device was lost (${info.reason}): ${info.message}. Restart to continue; results since the last readback are unreliable.`));
      }
    });
    this.device.addEventListener('uncapturederror', (event) => {
      this.fail(new GpuError(`WebGPU reported an error, so results cannot be trusted: ${(event as GPUUncapturedErrorEvent).error.message}`));
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
  }

  /** Throws the first device error seen, so no wrong number is ever returned silently. */
  checkHealthy(): void {
    if (this.failure) throw this.failure;
  }

  acquireBuffer(bytes: number): GPUBuffer {
    const max = this.gpu.limits.maxStorageBufferBindingSize;
    if (bytes > max) throw new BufferTooLargeError(bytes, max, this.gpu.adapterName);
    const buffer = this.storage.acquire(bytes);
    this.capture?.acquired(buffer);
    return buffer;
  }

  releaseBuffer(buffer: GPUBuffer): void {
    this.capture?.released(buffer);
    this.storage.release(buffer);
  }

  memory(): MemoryInfo {
    let recordedBytes = 0;
    for (const r of this.recordings) recordedBytes += r.scratchBytes;
    return { liveBytes: this.storage.liveBytes, pooledBytes: this.storage.pooledBytes, liveTensors: this.liveTensors, peakBytes: this.storage.peakBytes, recordedBytes };
  }

  resetPeakMemory(): void {
    this.storage.peakBytes = this.storage.liveBytes + this.storage.pooledBytes;
  }

  /** Frees every pooled buffer back to the driver. */
  trimPool(): void {
    this.refuseWhileRecording('trimPool');
    // Recorded work may still use pooled buffers: submit it before destroying them.
    this.flush();
    this.storage.trim();
    this.staging.trim();
  }

  private pipeline(kernel: Kernel, key: string): GPUComputePipeline {
    const constants = kernel.constants ?? {};
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      let module = this.modules.get(kernel.source);
      if (!module) {
        module = this.device.createShaderModule({ code: kernel.source, label: kernel.family });
        this.modules.set(kernel.source, module);
      }
      pipeline = this.device.createComputePipeline({
        layout: 'auto',
        label: key,
        compute: { module, entryPoint: kernel.entry, constants },
      });
      this.pipelines.set(key, pipeline);
      this.counters.pipelines++;
    }
    return pipeline;
  }

  /**
   * Records one dispatch into the current batch. Binding 0 is the kernel's uniform struct (`uniforms`, at most
   * 256 bytes); bindings 1.. are `buffers` in order. Nothing runs until the batch is flushed. `cost` is kept with
   * a recorded dispatch for the profiler.
   */
  dispatch(kernel: Kernel, uniforms: Uint32Array, buffers: GPUBuffer[], groups: [number, number?, number?], cost?: DispatchCost): void {
    this.checkHealthy();
    if (uniforms.byteLength > UNIFORM_SLOT_BYTES) throw new Error(`${kernel.family}: uniforms exceed ${UNIFORM_SLOT_BYTES} bytes`);
    if (this.slots === SLOTS_PER_BATCH) this.flush();
    const key = `${kernel.family}:${kernel.entry}:${JSON.stringify(kernel.constants ?? {})}`;
    const pipeline = this.pipeline(kernel, key);
    if (this.capture) {
      const grid: [number, number, number] = [groups[0], groups[1] ?? 1, groups[2] ?? 1];
      this.capture.dispatch({ pipeline, kernel: key, uniforms: uniforms.slice(), buffers: [...buffers], groups: grid, cost });
      return;
    }
    const slot = this.slots++;
    this.uniformMirror.set(uniforms, (slot * UNIFORM_SLOT_BYTES) / 4);
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: this.uniformArena, offset: slot * UNIFORM_SLOT_BYTES, size: UNIFORM_SLOT_BYTES } },
    ];
    buffers.forEach((buffer, i) => entries.push({ binding: i + 1, resource: { buffer } }));
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    this.encoder ??= this.device.createCommandEncoder();
    this.pass ??= this.encoder.beginComputePass();
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(groups[0], groups[1] ?? 1, groups[2] ?? 1);
    this.counters.dispatches++;
  }

  /** Submits the recorded batch (uniforms first: queue order puts the write before the batch's commands). */
  flush(): void {
    if (!this.encoder) return;
    this.pass?.end();
    this.pass = null;
    if (this.slots > 0) {
      this.device.queue.writeBuffer(this.uniformArena, 0, this.uniformMirror, 0, (this.slots * UNIFORM_SLOT_BYTES) / 4);
    }
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.slots = 0;
    this.counters.submits++;
  }

  /** Waits until the GPU has finished everything recorded so far. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.checkHealthy();
  }

  /** Writes host data into a buffer; earlier recorded work that may still read the buffer is submitted first. */
  upload(buffer: GPUBuffer, data: Float32Array, byteOffset = 0): void {
    this.checkHealthy();
    this.refuseWhileRecording('upload');
    this.flush();
    this.device.queue.writeBuffer(buffer, byteOffset, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Copies `bytes` from `buffer` at `byteOffset` to the host, after all recorded work. */
  async download(buffer: GPUBuffer, byteOffset: number, bytes: number): Promise<Float32Array> {
    this.checkHealthy();
    this.refuseWhileRecording('download');
    const staging = this.staging.acquire(bytes);
    this.encoder ??= this.device.createCommandEncoder();
    this.pass?.end();
    this.pass = null;
    this.encoder.copyBufferToBuffer(buffer, byteOffset, staging, 0, bytes);
    this.flush();
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, bytes);
      this.checkHealthy();
      const out = new Float32Array(bytes / 4);
      out.set(new Float32Array(staging.getMappedRange(0, bytes)));
      staging.unmap();
      return out;
    } catch (e) {
      this.checkHealthy();
      throw e;
    } finally {
      this.staging.release(staging);
    }
  }

  // ---- recordings -------------------------------------------------------------------------------------

  /** True while `record` runs its function: dispatches are captured, not run. */
  get recording(): boolean {
    return this.capture !== null;
  }

  /** Host-side work that a replay would not repeat (uploads, readbacks, random draws) is refused while recording. */
  refuseWhileRecording(what: string): void {
    if (this.capture) {
      throw new Error(`${what} is not allowed while recording: a replay would not do it again. Do it before recording or replaying (e.g. upload into a tensor the recording reads).`);
    }
  }

  /**
   * Runs `fn` once with its dispatches captured and returns them as a Recording, already run once, with fn's
   * result (its tensors stay valid: each replay writes them again). Recordings in `shareScratchWith` lend their
   * scratch buffers while this one records, so steps that never run at the same time (a D and a G update) need
   * the memory of the larger one, not of both.
   */
  record<T>(fn: () => T, { shareScratchWith = [] }: { shareScratchWith?: Iterable<Recording> } = {}): { recording: Recording; result: T } {
    this.checkHealthy();
    if (this.capture) throw new Error('Engine.record: already recording; recordings do not nest.');
    this.flush();
    const lenders = new Map<GPUBuffer, Recording>();
    for (const r of shareScratchWith) {
      if (!r.valid) continue;
      for (const b of r.scratch) {
        lenders.set(b, r);
        this.storage.lend(b);
      }
    }
    const capture = new Capture();
    this.capture = capture;
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
      const leftovers = [...capture.born].filter((b) => capture.isReferenced(b) && !this.storage.isWaiting(b) && !results.has(b));
      if (leftovers.length) {
        throw new Error(
          `Engine.record: ${leftovers.length} tensor(s) made while recording outlive it without being returned (kept or stored, e.g. ` +
            'gradients not zeroed, state created lazily); every replay would write them again. Create lasting state before recording, ' +
            'dispose temporaries inside it, or return what the caller reads.',
        );
      }
      recorded = true;
    } finally {
      this.capture = null;
      for (const b of lenders.keys()) {
        if (!this.storage.isWaiting(b)) continue;
        this.storage.take(b);
        lenders.delete(b);
      }
      if (!recorded) this.reownLentScratch(lenders);
    }
    const scratch = [...capture.born].filter((b) => !lenders.has(b) && capture.isReferenced(b) && this.storage.isWaiting(b));
    for (const b of scratch) this.storage.take(b);
    this.reownLentScratch(lenders);
    const own = new Set(scratch);
    const dependencies = new Map<GPUBuffer, number>();
    for (const d of capture.dispatches) for (const b of d.buffers) if (!own.has(b)) dependencies.set(b, this.storage.releaseCount(b));

    const count = capture.dispatches.length;
    const uniforms = this.device.createBuffer({ size: Math.max(count, 1) * UNIFORM_SLOT_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    const words = new Uint32Array((Math.max(count, 1) * UNIFORM_SLOT_BYTES) / 4);
    const commands: RecordedCommand[] = capture.dispatches.map(({ pipeline, kernel, uniforms: u, buffers, groups, cost }, slot) => {
      words.set(u, (slot * UNIFORM_SLOT_BYTES) / 4);
      return { pipeline, kernel, buffers, groups, cost, bindGroup: this.recordingHost.bindGroup(pipeline, uniforms, slot, buffers) };
    });
    this.device.queue.writeBuffer(uniforms, 0, words);
    const recording = new Recording(this.recordingHost, commands, scratch, dependencies, uniforms);
    this.recordings.add(recording);
    this.counters.recordings++;
    recording.replay();
    return { recording, result };
  }

  /**
   * Lent scratch that a tensor made while recording still holds (a result): the tensor keeps it, its lender gets a
   * fresh buffer in its place, and the change of owner counts as a release, so recordings that borrowed the
   * buffer earlier become invalid. Called once this recording's own scratch is out of the pool.
   */
  private reownLentScratch(lenders: Map<GPUBuffer, Recording>): void {
    for (const [b, lender] of lenders) {
      lender.replaceScratch(b, this.storage.acquire(b.size));
      this.storage.changedOwner(b);
    }
  }

  private encodeRecording(recording: Recording): void {
    this.checkHealthy();
    this.refuseWhileRecording('Recording.replay');
    this.encoder ??= this.device.createCommandEncoder();
    this.pass ??= this.encoder.beginComputePass();
    for (const { pipeline, bindGroup, groups } of recording.commands) {
      this.pass.setPipeline(pipeline);
      this.pass.setBindGroup(0, bindGroup);
      this.pass.dispatchWorkgroups(groups[0], groups[1], groups[2]);
    }
    this.counters.dispatches += recording.commands.length;
    this.flush();
  }

  // ---- disposal scopes -------------------------------------------------------------------------------

  track(t: Disposable): void {
    const scope = this.scopes[this.scopes.length - 1];
    if (scope) {
      scope.add(t);
      t.scope = scope;
    }
  }

  destroy(): void {
    for (const r of [...this.recordings]) r.dispose();
    this.flush();
    this.trimPool();
    this.device.destroy();
  }
}

let current: Engine | null = null;

/** The engine every op runs on; set by `useEngine` (see src/io/dawn.ts and web/ for how one is created). */
export function engine(): Engine {
  if (!current) throw new Error('No engine: create one first, e.g. `useEngine(new Engine(await nodeDevice()))`.');
  return current;
}

export function useEngine(e: Engine | null): Engine | null {
  current = e;
  return e;
}

/** Runs `fn` and disposes every tensor it created except those it returns (or that were `keep`-ed). */
export function tidy<T>(fn: () => T): T {
  const e = engine();
  const scope = new Set<Disposable>();
  e.scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    e.scopes.pop();
  }
  if (result instanceof Promise) throw new Error('tidy() takes a synchronous function; await outside it.');
  const returned = new Set<Disposable>();
  collectDisposables(result, returned);
  for (const t of scope) {
    if (returned.has(t) || t.kept) continue;
    t.dispose();
  }
  const parent = e.scopes[e.scopes.length - 1] ?? null;
  for (const t of returned) {
    if (t.scope !== scope) continue;
    t.scope = parent;
    parent?.add(t);
  }
  return result;
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

/** Exempts a tensor from the scopes it was created in: it lives until disposed by hand. */
export function keep<T extends Disposable>(t: T): T {
  t.kept = true;
  t.scope?.delete(t);
  t.scope = null;
  return t;
}
