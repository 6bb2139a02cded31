// TensorFlow.js's WebGPU backend as a peer, on the same adapter as our engine and in the same process.
// tfjs looks for navigator.gpu when its backend module loads, so navigator must exist before the import.
import type { GpuDevice } from '../../src/engine/device.js';

type Tf = typeof import('@tensorflow/tfjs-core');
type TfTensor = import('@tensorflow/tfjs-core').Tensor;

export interface TfjsPeer {
  tf: Tf;
  /** Runs `fn` on tfjs, waits until its GPU work is done, and disposes the result. */
  run(fn: () => TfTensor): Promise<void>;
}

let peer: Promise<TfjsPeer> | null = null;

export function tfjsPeer(gpu: GpuDevice): Promise<TfjsPeer> {
  peer ??= open(gpu);
  return peer;
}

async function open(gpu: GpuDevice): Promise<TfjsPeer> {
  // Same GPU object and feature level as ours: tfjs requests its own device on the same adapter.
  const shim = {
    requestAdapter: (options: GPURequestAdapterOptions = {}) =>
      gpu.gpu.requestAdapter({ ...options, featureLevel: gpu.featureLevel } as GPURequestAdapterOptions),
    getPreferredCanvasFormat: () => 'rgba8unorm',
    wgslLanguageFeatures: new Set<string>(),
  };
  const g = globalThis as { navigator?: object };
  // Node 21+ has a navigator without gpu; Node 20 has none.
  Object.defineProperty(globalThis, 'navigator', { value: { ...(g.navigator ?? {}), gpu: shim }, configurable: true });
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-webgpu');
  // Without this, tfjs runs small ops on the CPU, which would not be a GPU comparison.
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs could not start its WebGPU backend on this adapter.');
  await tf.ready();
  const backend = tf.backend() as unknown as {
    device: GPUDevice;
    ensureCommandEncoderReady(): void;
    endComputePassEncoder(): void;
    submitQueue(): void;
  };
  return {
    tf,
    async run(fn) {
      const y = fn();
      backend.ensureCommandEncoderReady();
      backend.endComputePassEncoder();
      backend.submitQueue();
      await backend.device.queue.onSubmittedWorkDone();
      y.dispose();
    },
  };
}
