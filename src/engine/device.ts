/// <reference types="@webgpu/types" />
// Opening a WebGPU device on whatever `GPU` object the platform offers (Dawn in Node, navigator.gpu in a
// browser). The Node-specific backend order lives in src/io/dawn.ts; this file stays isomorphic.

export interface GpuDevice {
  device: GPUDevice;
  /** The GPU object the adapter came from (benchmarks open a peer library's device on the same adapter). */
  gpu: GPU;
  adapterName: string;
  backend: string;
  featureLevel: 'core' | 'compatibility';
  /** A CPU rasteriser (llvmpipe, SwiftShader, WARP): kernels pick CPU-friendly variants. */
  software: boolean;
  limits: Record<string, number>;
  /** What the adapter offers (its optional features, sorted) and says of itself, for probes and bench records. */
  adapterFeatures: string[];
  adapterInfo: Record<string, unknown>;
  /** The optional features the device was opened with (those of OPTIONAL_FEATURES the adapter offers). */
  features: ReadonlySet<string>;
}

/** The limits a compute engine needs raised above the WebGPU defaults (a 512² map at 64+ channels exceeds them). */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

/** Optional features requested whenever the adapter offers them: per-dispatch GPU timing (the profiler), f16, subgroups. */
const OPTIONAL_FEATURES = ['timestamp-query', 'shader-f16', 'subgroups'];

export class GpuUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuUnavailableError';
  }
}

/** Requests an adapter at `featureLevel` and a device with that adapter's own limits; null when no adapter. */
export async function openDevice(
  gpu: GPU,
  featureLevel: 'core' | 'compatibility',
  backend: string,
): Promise<GpuDevice | null> {
  const adapter = await gpu.requestAdapter({ featureLevel } as GPURequestAdapterOptions);
  if (!adapter) return null;
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) {
    const value = (adapter.limits as unknown as Record<string, number | undefined>)[name];
    if (value !== undefined) requiredLimits[name] = value;
  }
  const offered = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  // A driver that lists a feature but cannot open a device with it still gets a device, without the extras.
  const device = await adapter
    .requestDevice({ requiredLimits, requiredFeatures: offered })
    .catch(() => adapter.requestDevice({ requiredLimits }));
  const info = adapter.info;
  const adapterName = [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(' ');
  const limits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) limits[name] = (device.limits as unknown as Record<string, number>)[name];
  limits.minUniformBufferOffsetAlignment = device.limits.minUniformBufferOffsetAlignment;
  limits.minStorageBufferOffsetAlignment = device.limits.minStorageBufferOffsetAlignment;
  const software = /llvmpipe|lavapipe|softpipe|swiftshader|basic render|warp/i.test(adapterName);
  const adapterFeatures = [...adapter.features].map(String).sort();
  const features = new Set(OPTIONAL_FEATURES.filter((f) => device.features.has(f)));
  return { device, gpu, adapterName: adapterName || 'unknown adapter', backend, featureLevel, software, limits, features, adapterFeatures, adapterInfo: describeInfo(info) };
}

/** GPUAdapterInfo as plain data: the standard fields and whatever else the implementation adds (Dawn: subgroup
 * sizes, subgroup-matrix configurations), nested objects copied field by field. */
function describeInfo(info: GPUAdapterInfo): Record<string, unknown> {
  const plain = (v: unknown, depth = 0): unknown => {
    if (v === null || typeof v !== 'object' || depth > 3) return typeof v === 'function' ? undefined : v;
    if (Symbol.iterator in v) return [...(v as Iterable<unknown>)].map((x) => plain(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const key in v) out[key] = plain((v as Record<string, unknown>)[key], depth + 1);
    return out;
  };
  const known = ['vendor', 'architecture', 'device', 'description', 'subgroupMinSize', 'subgroupMaxSize', 'isFallbackAdapter', 'subgroupMatrixConfigs'];
  const out: Record<string, unknown> = {};
  for (const key of known) {
    const value = plain((info as unknown as Record<string, unknown>)[key]);
    if (value !== undefined) out[key] = value;
  }
  for (const key in info) if (!(key in out)) out[key] = plain((info as unknown as Record<string, unknown>)[key]);
  return out;
}

/** The browser's device: navigator.gpu, core features first, then compatibility mode. */
export async function browserDevice(): Promise<GpuDevice> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) {
    throw new GpuUnavailableError(
      'This browser has no WebGPU (navigator.gpu is missing). Use Chrome or Edge 113+, or Firefox 141+ / Safari 26+ ' +
        'where WebGPU is enabled; in Chromium on Linux start it with --enable-unsafe-webgpu.',
    );
  }
  const opened = (await openDevice(gpu, 'core', 'browser')) ?? (await openDevice(gpu, 'compatibility', 'browser'));
  if (!opened) throw new GpuUnavailableError('navigator.gpu found no adapter: WebGPU may be disabled or blocklisted for this GPU.');
  return opened;
}
