import { describe, expect, test } from 'vitest';
import { BufferTooLargeError, GpuError, keep, tidy } from '../src/engine/engine.js';
import { sizeClass } from '../src/engine/pool.js';
import { Tensor } from '../src/engine/tensor.js';
import * as T from '../src/ops/index.js';
import { useTestEngine } from './helpers/gpu.js';

const engine = useTestEngine();

describe('device and engine', () => {
  test('the device reports an adapter and raised limits', () => {
    const { gpu } = engine();
    expect(gpu.adapterName.length).toBeGreaterThan(0);
    expect(['native', 'opengl', 'vulkan', 'metal', 'd3d12', 'swiftshader']).toContain(gpu.backend);
    // The WebGPU default is 128 MiB; the adapter's own value is requested (never below the default).
    expect(gpu.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 2 ** 20);
    expect(gpu.limits.maxStorageBuffersPerShaderStage).toBeGreaterThanOrEqual(8);
  });

  test('size classes bound the waste of recycling', () => {
    for (const bytes of [1, 256, 257, 1000, 4096, 4097, 1e6, 123456789]) {
      const c = sizeClass(bytes);
      expect(c).toBeGreaterThanOrEqual(bytes);
      expect(c).toBeLessThanOrEqual(Math.max(256, bytes * 1.25));
    }
  });

  test('disposed buffers are reused, and memory is observable', () => {
    const e = engine();
    const before = e.memory();
    const a = T.zeros([1000]);
    const during = e.memory();
    expect(during.liveBytes - before.liveBytes).toBe(sizeClass(4000));
    expect(during.liveTensors - before.liveTensors).toBe(1);
    const buffer = a.storage.buffer;
    a.dispose();
    expect(e.memory().liveBytes).toBe(before.liveBytes);
    const b = T.zeros([1000]);
    expect(b.storage.buffer).toBe(buffer);
    b.dispose();
  });

  test('views share storage; the buffer returns when the last view goes', () => {
    const e = engine();
    const before = e.memory().liveBytes;
    const a = T.zeros([4, 4]);
    const v = T.transpose(a);
    a.dispose();
    expect(e.memory().liveBytes).toBeGreaterThan(before);
    v.dispose();
    expect(e.memory().liveBytes).toBe(before);
  });

  test('tidy disposes what it created except the result and kept tensors', () => {
    const e = engine();
    const before = e.memory().liveTensors;
    let kept: Tensor | null = null;
    const result = tidy(() => {
      const a = T.ones([3]);
      const b = T.add(a, a);
      kept = keep(T.mul(b, 2));
      return { out: T.sum(b) };
    });
    expect(e.memory().liveTensors - before).toBe(2);
    expect(() => tidy(() => Promise.resolve(1))).toThrow(/synchronous/);
    result.out.dispose();
    kept!.dispose();
    expect(e.memory().liveTensors).toBe(before);
  });

  test('using a disposed tensor is a clear error', async () => {
    const a = T.ones([2]);
    a.dispose();
    expect(() => T.add(a, a)).toThrow(/was disposed/);
    await expect(a.data()).rejects.toThrow(/was disposed/);
  });

  test('one pipeline serves many shapes, and dispatches are batched into few submits', async () => {
    const e = engine();
    const x = T.ones([10]);
    T.add(x, x);
    const pipelines = e.counters.pipelines;
    const submits = e.counters.submits;
    const dispatches = e.counters.dispatches;
    // Sizes that are not multiples of 4, which take the one-element kernels (a multiple of 4 takes unary4/binary4).
    for (const n of [3, 17, 1001, 4097]) {
      const a = T.ones([n]);
      T.add(T.neg(a), T.neg(a));
    }
    await e.sync();
    expect(e.counters.dispatches - dispatches).toBe(16);
    // ones → fill, neg → unary: only the neg pipeline (OP=1) is new.
    expect(e.counters.pipelines - pipelines).toBe(1);
    expect(e.counters.submits - submits).toBe(1);
  });

  test('bad shapes and sizes are refused with a message', () => {
    expect(() => T.zeros([2, -1])).toThrow(/Invalid shape/);
    expect(() => T.tensor([1, 2, 3], [2, 2])).toThrow(/do not fill/);
    expect(() => T.add(T.zeros([2, 3]), T.zeros([4]))).toThrow(/cannot be broadcast/);
    const huge = engine().gpu.limits.maxStorageBufferBindingSize / 4 + 1;
    expect(() => T.zeros([huge])).toThrow(/exceeds this adapter/);
  });

  test('a WebGPU validation error surfaces at the next readback instead of wrong numbers', async () => {
    const e = engine();
    // A deliberately invalid use of the device (bad buffer usage) stands in for any kernel bug.
    e.device.createBuffer({ size: 4, usage: 0xffffff });
    // Depending on when the device reports it, the next dispatch or the readback throws.
    await expect((async () => T.ones([2]).data())()).rejects.toThrow(GpuError);
  });

  test('a tensor past the largest storage binding is a typed error, before anything is allocated', () => {
    const limit = engine().gpu.limits.maxStorageBufferBindingSize;
    const live = engine().memory().liveBytes;
    let error: unknown = null;
    try {
      Tensor.empty([limit / 4 + 1]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BufferTooLargeError);
    expect(error).toBeInstanceOf(GpuError);
    expect(error).toMatchObject({ bytes: limit + 4, limit });
    expect(engine().memory().liveBytes).toBe(live);
  });
});
