/// <reference types="@webgpu/types" />
// The engine: one device, its buffer pools, the pipeline cache, the command batch that dispatches go into,
// explicit readback, the disposal scopes, and recorded dispatch sequences that replay without the host work
// that made them (recording.ts). Kernels talk to the GPU only through `dispatch`.
import type { GpuDevice } from './device.js';
import { collectDisposables, type Disposable } from './disposable.js';
import { BufferPool } from './pool.js';
import { recordDispatches, type Capture, type Recording, type RecordingHost } from './recording.js';

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
      flush: () => this.flush(),
      capture: (capture) => {
        this.capture = capture;
      },
      uniformSlots: (slots) => {
        const words = new Uint32Array((Math.max(slots.length, 1) * UNIFORM_SLOT_BYTES) / 4);
        slots.forEach((u, slot) => words.set(u, (slot * UNIFORM_SLOT_BYTES) / 4));
        const buffer = this.device.createBuffer({ size: words.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
        this.device.queue.writeBuffer(buffer, 0, words);
        return buffer;
      },
      adopt: (recording) => {
        this.recordings.add(recording);
        this.counters.recordings++;
      },
      encode: (recording) => this.encodeRecording(recording),
      forget: (recording) => this.recordings.delete(recording),
      bindGroup: (pipeline, uniforms, slot, buffers) => this.bindGroup(pipeline, uniforms, slot, buffers),
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
   * a recorded dispatch for the profiler. The grid is checked here, for every kernel: whole numbers of workgroups
   * within the device's per-dimension limit.
   */
  dispatch(kernel: Kernel, uniforms: Uint32Array, buffers: GPUBuffer[], groups: [number, number?, number?], cost?: DispatchCost): void {
    this.checkHealthy();
    if (uniforms.byteLength > UNIFORM_SLOT_BYTES) throw new Error(`${kernel.family}: uniforms exceed ${UNIFORM_SLOT_BYTES} bytes`);
    const grid: [number, number, number] = [groups[0], groups[1] ?? 1, groups[2] ?? 1];
    this.checkGrid(kernel, grid);
    if (this.slots === SLOTS_PER_BATCH) this.flush();
    const key = `${kernel.family}:${kernel.entry}:${JSON.stringify(kernel.constants ?? {})}`;
    const pipeline = this.pipeline(kernel, key);
    if (this.capture) {
      this.capture.dispatch({ pipeline, kernel: key, uniforms: uniforms.slice(), buffers: [...buffers], groups: grid, cost });
      return;
    }
    const slot = this.slots++;
    this.uniformMirror.set(uniforms, (slot * UNIFORM_SLOT_BYTES) / 4);
    const bindGroup = this.bindGroup(pipeline, this.uniformArena, slot, buffers);
    this.encoder ??= this.device.createCommandEncoder();
    this.pass ??= this.encoder.beginComputePass();
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(...grid);
    this.counters.dispatches++;
  }

  private checkGrid(kernel: Kernel, grid: readonly number[]): void {
    if (grid.some((v) => !Number.isInteger(v) || v < 0)) {
      throw new Error(`${kernel.family}:${kernel.entry}: a launch of [${grid.join(', ')}] workgroups is not a grid of whole numbers (a bug in the kernel's host code).`);
    }
    const limit = this.gpu.limits.maxComputeWorkgroupsPerDimension;
    if (grid.some((v) => v > limit)) {
      throw new Error(
        `${kernel.family}:${kernel.entry}: a launch of [${grid.join(', ')}] workgroups exceeds this device's ${limit} per dimension; ` +
          'use a smaller batch or image.',
      );
    }
  }

  /** Binding 0: uniform slot `slot` of `uniforms`; bindings 1…: `buffers` in order. */
  private bindGroup(pipeline: GPUComputePipeline, uniforms: GPUBuffer, slot: number, buffers: readonly GPUBuffer[]): GPUBindGroup {
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: uniforms, offset: slot * UNIFORM_SLOT_BYTES, size: UNIFORM_SLOT_BYTES } }];
    buffers.forEach((buffer, i) => entries.push({ binding: i + 1, resource: { buffer } }));
    return this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
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
    return recordDispatches(this.recordingHost, fn, shareScratchWith);
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

/** Exempts a tensor from the scopes it was created in: it lives until disposed by hand. */
export function keep<T extends Disposable>(t: T): T {
  t.kept = true;
  t.scope?.delete(t);
  t.scope = null;
  return t;
}
