// Node's WebGPU: Dawn through the npm package `webgpu`. Order: the native backend (Vulkan / Metal / D3D12) at
// featureLevel core; with no native adapter, Dawn's OpenGL backend over Mesa's llvmpipe (software, compatibility
// mode). WEBGPU_BACKEND forces one: native | vulkan | metal | d3d12 | opengl | swiftshader.
// Dawn reports the backends it could not load ("Couldn't load Vulkan…") on the process's native stderr, which
// JavaScript cannot silence; scripts/run.mjs filters those lines out of every npm script's stderr unless
// --verbose is given (gpu-info always shows them). What a user on the fallback path sees instead is one line
// from here, saying the CPU does the work.
import { create, globals } from 'webgpu';
import { existsSync } from 'node:fs';
import { GpuUnavailableError, openDevice, type GpuDevice } from '../engine/device.js';

// GPUBufferUsage, GPUMapMode, ... as in a browser.
Object.assign(globalThis, globals);

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

const INSTALL_HINT =
  'No WebGPU adapter was found. With a GPU: install its Vulkan driver and loader (Debian/Ubuntu: `apt-get install ' +
  'libvulkan1 mesa-vulkan-drivers`, or the NVIDIA driver). Without a GPU: install Mesa\'s software OpenGL ' +
  '(`apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri`) and the engine runs on the CPU through llvmpipe. ' +
  'Run `npm run gpu-info` to see what is found; WEBGPU_BACKEND=native|vulkan|metal|d3d12|opengl|swiftshader forces a backend.';

type Attempt = { backend: string; options: string[]; featureLevel: 'core' | 'compatibility'; env?: Record<string, string> };

// Dawn rounds GPU timestamps to ~65 µs by default (a browser's guard against timing attacks); the profiler
// (src/cli/profile.ts) times single dispatches, so Node's devices keep full precision.
const PRECISE_TIMESTAMPS = 'disable-dawn-features=timestamp_quantization';

function attempts(forced: string | undefined): Attempt[] {
  const native: Attempt = { backend: 'native', options: [PRECISE_TIMESTAMPS], featureLevel: 'core' };
  const opengl: Attempt = {
    backend: 'opengl',
    options: ['backend=opengl', PRECISE_TIMESTAMPS],
    featureLevel: 'compatibility',
    // Dawn's GL backend needs EGL without a display server; Mesa reads this when EGL starts.
    env: { EGL_PLATFORM: 'surfaceless' },
  };
  switch (forced ?? 'auto') {
    case 'auto':
      return [native, opengl];
    case 'native':
      return [native];
    case 'opengl':
      return [opengl];
    case 'vulkan':
    case 'metal':
    case 'd3d12':
      return [{ backend: forced!, options: [`backend=${forced}`, PRECISE_TIMESTAMPS], featureLevel: 'core' }];
    case 'swiftshader':
      if (!existsSync(SWIFTSHADER_ICD)) {
        throw new GpuUnavailableError(`WEBGPU_BACKEND=swiftshader needs ${SWIFTSHADER_ICD} (Debian package chromium).`);
      }
      return [{ backend: 'swiftshader', options: ['backend=vulkan', PRECISE_TIMESTAMPS], featureLevel: 'core', env: { VK_ICD_FILENAMES: SWIFTSHADER_ICD } }];
    default:
      throw new GpuUnavailableError(
        `WEBGPU_BACKEND=${forced} is not a backend; use one of auto, native, vulkan, metal, d3d12, opengl, swiftshader.`,
      );
  }
}

export interface NodeDeviceOptions {
  /** WEBGPU_BACKEND's value by default. */
  forced?: string;
  /** Say which backends were tried and what was found (gpu-info, --verbose). */
  verbose?: boolean;
  /** Say nothing, not even that the CPU does the work (worker threads, tests). */
  quiet?: boolean;
  log?: (line: string) => void;
}

/** The one line a user on a software adapter gets instead of Dawn's loader messages. */
export function softwareNotice(gpu: GpuDevice): string {
  const rasteriser = /swiftshader/i.test(gpu.adapterName) ? 'SwiftShader' : /lavapipe/i.test(gpu.adapterName) ? 'lavapipe' : 'llvmpipe';
  return `no GPU adapter: using the CPU through ${rasteriser}, expect minutes per page (--verbose or npm run gpu-info for the details)`;
}

/** Opens the best device Node can reach, or throws GpuUnavailableError saying what to install. */
export async function nodeDevice(options: NodeDeviceOptions = {}): Promise<GpuDevice> {
  const { forced = process.env.WEBGPU_BACKEND, verbose = false, quiet = false, log = (line: string) => console.error(line) } = options;
  const tried: string[] = [];
  for (const attempt of attempts(forced || undefined)) {
    for (const [key, value] of Object.entries(attempt.env ?? {})) process.env[key] = value;
    const gpu = create(attempt.options);
    const opened = await openDevice(gpu, attempt.featureLevel, attempt.backend).catch((e: Error) => {
      tried.push(`${attempt.backend}: ${e.message}`);
      return null;
    });
    if (opened) {
      if (verbose && !quiet) log(`WebGPU: ${[...tried, `${attempt.backend}: ${opened.adapterName}`].join('; ')}`);
      else if (opened.software && !quiet) log(softwareNotice(opened));
      return opened;
    }
    tried.push(`${attempt.backend}: no adapter`);
  }
  throw new GpuUnavailableError(`${INSTALL_HINT}\nTried: ${tried.join('; ')}`);
}
