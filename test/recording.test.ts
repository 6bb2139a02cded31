// Recorded dispatch sequences (src/engine/recording.ts): a replay computes exactly what running the same code
// again would, reads what the host uploaded since, keeps memory flat, refuses host-side work while
// recording, and knows when a tensor it depends on has gone.
import { describe, expect, test } from 'vitest';
import { keep, tidy } from '../src/engine/engine.js';
import type { Recording } from '../src/engine/recording.js';
import { copyInto } from '../src/kernels/elementwise.js';
import { uniformFill } from '../src/kernels/random.js';
import * as T from '../src/ops/index.js';
import { Adam } from '../src/train/adam.js';
import { randomHost } from './helpers/check.js';
import { useTestEngine } from './helpers/gpu.js';

const engine = useTestEngine();

const hostValues = (shape: number[]) => Float32Array.from(randomHost(shape).data);

/** A small training-like step on kept tensors: forward, backward, an in-place update, a scalar result. */
function makeModel(values = { w: hostValues([6, 5]), b: hostValues([5]), x: hostValues([4, 6]) }) {
  const w = keep(T.tensor(values.w, [6, 5], { requiresGrad: true }));
  const b = keep(T.tensor(values.b, [5], { requiresGrad: true }));
  const x = keep(T.tensor(values.x, [4, 6]));
  const optimizer = new Adam([w, b], { lr: 0.05, betas: [0.5, 0.9] });
  // What update() returned when the step ran (or was recorded), for settle().
  let updated: readonly number[] = [];
  // The loss terms and the gradient sum, like the trainer's: the update is skipped on the GPU when one is NaN.
  const step = () =>
    tidy(() => {
      const y = T.leakyRelu(T.add(T.matmul(x, w), b), 0.2);
      const loss = T.mean(T.mul(y, y));
      T.backward(loss);
      const stats = T.concat([T.reshape(loss, [1]), T.reshape(T.add(T.sum(w.grad!), T.sum(b.grad!)), [1])], 0);
      updated = optimizer.update(stats);
      optimizer.zeroGrad();
      return stats;
    });
  const dispose = () => [w, b, x].forEach((t) => t.dispose());
  const settle = (applied: boolean) => optimizer.settle(updated, applied);
  return { w, b, x, values, optimizer, step, settle, dispose };
}

describe('recording and replaying dispatches', () => {
  test('replays compute bit for bit what running the code again computes, including uploaded inputs and a GPU-side skip', async () => {
    const eager = makeModel();
    const recorded = makeModel(eager.values);
    const inputs = Array.from({ length: 5 }, () => hostValues([4, 6]));
    inputs[2][5] = NaN; // this step's loss is NaN: both must leave the parameters alone

    let recording: Recording | null = null;
    let stats: T.Tensor | null = null;
    for (const [k, input] of inputs.entries()) {
      for (const m of [eager, recorded]) {
        engine().upload(m.x.storage.buffer, input);
        m.optimizer.prepare();
      }
      const expected = eager.step();
      const expectedValues = await expected.data();
      expected.dispose();
      if (!recording) {
        const r = engine().record(() => recorded.step());
        recording = r.recording;
        stats = keep(r.result);
      } else {
        recording.replay();
      }
      const values = await stats!.data();
      expect([...values], `stats of step ${k}`).toEqual([...expectedValues]);
      const applied = values.every(Number.isFinite);
      expect(applied).toBe(k !== 2);
      eager.settle(applied);
      recorded.settle(applied);
      expect([...(await recorded.w.data())], `w after step ${k}`).toEqual([...(await eager.w.data())]);
      expect([...(await recorded.b.data())], `b after step ${k}`).toEqual([...(await eager.b.data())]);
    }
    expect(recorded.optimizer.state().params.map((p) => p?.step)).toEqual([4, 4]);
    recording!.dispose();
    stats!.dispose();
    for (const m of [eager, recorded]) {
      m.optimizer.dispose();
      m.dispose();
    }
  });

  test('replays keep memory and pipelines flat and cost no new dispatch bookkeeping', async () => {
    const m = makeModel();
    m.optimizer.prepare();
    const { recording, result } = engine().record(() => m.step());
    const stats = keep(result);
    await engine().sync();
    const before = { ...engine().memory(), pipelines: engine().counters.pipelines, dispatches: engine().counters.dispatches };
    expect(before.recordedBytes).toBe(recording.scratchBytes);
    expect(recording.scratchBytes).toBeGreaterThan(0);
    for (let i = 0; i < 50; i++) {
      m.optimizer.prepare();
      recording.replay();
      m.settle(true);
    }
    await engine().sync();
    const after = engine().memory();
    expect(after.liveBytes).toBe(before.liveBytes);
    expect(after.liveTensors).toBe(before.liveTensors);
    expect(after.pooledBytes).toBe(before.pooledBytes);
    expect(engine().counters.pipelines).toBe(before.pipelines);
    expect(engine().counters.dispatches - before.dispatches).toBe(50 * recording.commands.length);
    // Disposing gives the scratch back to the pool.
    const scratch = recording.scratchBytes;
    recording.dispose();
    expect(engine().memory().recordedBytes).toBe(0);
    expect(engine().memory().liveBytes).toBe(before.liveBytes - scratch);
    stats.dispose();
    m.optimizer.dispose();
    m.dispose();
  });

  test('a recording becomes invalid when a tensor it depends on is released, and refuses to replay', async () => {
    const m = makeModel();
    m.optimizer.prepare();
    const { recording, result } = engine().record(() => m.step());
    const stats = keep(result);
    expect(recording.valid).toBe(true);
    // Reloading optimizer state replaces the moments: the recorded kernels would write freed buffers.
    m.optimizer.loadState(m.optimizer.state());
    expect(recording.valid).toBe(false);
    expect(() => recording.replay()).toThrow(/disposed or replaced since it was recorded; record it again/);
    // Recording again works on the new state.
    m.optimizer.prepare();
    const again = engine().record(() => m.step());
    expect(again.recording.valid).toBe(true);
    expect((await again.result.data()).every(Number.isFinite)).toBe(true);
    // Uploading into a tensor it reads keeps it valid: that is how inputs change between replays.
    engine().upload(m.x.storage.buffer, new Float32Array(24).fill(0.5));
    expect(again.recording.valid).toBe(true);
    m.x.dispose();
    expect(again.recording.valid).toBe(false);
    for (const r of [recording, again.recording]) r.dispose();
    stats.dispose();
    again.result.dispose();
    m.optimizer.dispose();
    m.dispose();
  });

  test('host-side work inside a recording is refused with a clear error, and the engine stays usable', async () => {
    const x = keep(T.tensor([1, 2, 3], [3]));
    const live = engine().memory().liveBytes;
    expect(() => engine().record(() => T.tensor([1, 2], [2]))).toThrow(/upload is not allowed while recording/);
    expect(() => engine().record(() => uniformFill([4]))).toThrow(/a random fill is not allowed while recording/);
    expect(() => engine().record(() => x.data())).toThrow(/synchronous function: nothing can be awaited or read back/);
    expect(() => engine().record(() => engine().record(() => T.add(x, 1)))).toThrow(/recordings do not nest/);
    // A recording that reads a tensor made before it and then frees it would read a stale buffer on replay.
    const before = keep(T.tensor([4, 5, 6], [3]));
    expect(() => engine().record(() => {
      const y = T.mul(before, 2);
      before.dispose();
      return y;
    })).toThrow(/read a tensor made before recording and then disposed it/);
    // Gradients left behind (no zeroGrad) would be rewritten, not accumulated, by each replay: refused.
    const w = keep(T.tensor([1, 2, 3], [3], { requiresGrad: true }));
    expect(() => engine().record(() => tidy(() => T.backward(T.sum(T.mul(w, w)))))).toThrow(/1 tensor\(s\) made while recording outlive it without being returned/);
    w.grad!.dispose();
    w.grad = null;
    w.dispose();
    expect(engine().recording).toBe(false);
    // Still working, nothing leaked (the failed recordings' tensors were returned or disposed by the caller's scopes).
    expect([...(await tidy(() => T.add(x, 1)).data())]).toEqual([2, 3, 4]);
    x.dispose();
    expect(engine().memory().liveBytes).toBeLessThanOrEqual(live + 256 * 4);
  });

  test('recordings that share scratch use the larger one\'s memory, replay correctly in turn, and a disposed lender invalidates its borrowers', async () => {
    const x = keep(T.tensor(hostValues([64, 64]), [64, 64]));
    const outA = keep(T.zeros([64, 64]));
    const outB = keep(T.zeros([64, 64]));
    // Two chains of temporaries, written into kept outputs.
    const chain = (out: T.Tensor, scale: number) => () =>
      tidy(() => {
        let h = x;
        for (let i = 0; i < 4; i++) h = T.tanh(T.mul(T.matmul(h, x), scale));
        copyInto(out, h);
      });
    const a = engine().record(chain(outA, 0.01)).recording;
    const withoutSharing = engine().record(chain(outB, 0.02)).recording;
    const separateBytes = a.scratchBytes + withoutSharing.scratchBytes;
    withoutSharing.dispose();
    const b = engine().record(chain(outB, 0.02), { shareScratchWith: [a] }).recording;
    expect(a.scratchBytes + b.scratchBytes).toBeLessThan(separateBytes);
    expect(a.valid && b.valid).toBe(true);
    const expectedA = await outA.data();
    const expectedB = await outB.data();
    for (let i = 0; i < 3; i++) {
      b.replay();
      a.replay();
    }
    expect([...(await outA.data())]).toEqual([...expectedA]);
    expect([...(await outB.data())]).toEqual([...expectedB]);
    a.dispose();
    expect(b.valid).toBe(false);
    b.dispose();
    for (const t of [x, outA, outB]) t.dispose();
  });

  test('a result that lands in borrowed scratch stays the result: the lender gets a fresh buffer, earlier borrowers become invalid', async () => {
    const x = keep(T.tensor(hostValues([32, 32]), [32, 32]));
    const outA = keep(T.zeros([32, 32]));
    const intoA = () =>
      tidy(() => {
        copyInto(outA, T.tanh(T.matmul(T.tanh(T.matmul(x, x)), x)));
      });
    const a = engine().record(intoA).recording;
    const expectedA = await outA.data();
    // C borrows A's scratch (the same chain, so it uses the buffers A's first temporaries had) and keeps nothing.
    const c = engine().record(intoA, { shareScratchWith: [a] }).recording;
    expect(c.valid).toBe(true);
    // B's result [32, 32] is allocated first, from the most recently lent buffer of that size: one of A's.
    const lentToB = new Set(a.scratch);
    const { recording: b, result } = engine().record(() => tidy(() => T.mul(T.matmul(x, x), 0.5)), { shareScratchWith: [a] });
    expect(lentToB.has(result.storage.buffer)).toBe(true);
    expect(a.scratch.includes(result.storage.buffer)).toBe(false);
    expect(a.valid && b.valid).toBe(true);
    expect(c.valid).toBe(false);
    const expectedB = await result.data();
    a.replay();
    expect([...(await result.data())]).toEqual([...expectedB]);
    b.replay();
    a.replay();
    expect([...(await outA.data())]).toEqual([...expectedA]);
    for (const r of [a, b, c]) r.dispose();
    for (const t of [x, outA, result]) t.dispose();
  });
});
