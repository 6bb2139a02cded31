// Compiled steps (src/engine/compile.ts): recorded once, replayed after with new inputs in their slots, recorded
// again when a replay would read a released buffer, and scratch shared within a group.
import { describe, expect, test } from 'vitest';
import { CompileGroup, compile } from '../src/engine/compile.js';
import { engine, keep } from '../src/engine/engine.js';
import * as T from '../src/ops/index.js';
import { useTestEngine } from './helpers/gpu.js';

useTestEngine();

describe('compile', () => {
  test('records on the first run, replays after with the new slot contents', async () => {
    const step = compile((x) => T.sum(T.mul(T.exp(x), 2)), { inputs: [[3]] });
    const recordings = engine().counters.recordings;
    expect(await step.run(Float32Array.of(0, 0, 0)).data()).toEqual(Float32Array.of(6));
    const second = await step.run(Float32Array.of(1, 0, 0)).data();
    expect(second[0]).toBeCloseTo(2 * Math.E + 4, 5);
    expect(engine().counters.recordings - recordings).toBe(1);
    expect(() => step.run(Float32Array.of(1, 2))).toThrow(/slot \[3\] holds 3/);
    step.dispose();
  });

  test('a replay gone stale (a tensor it reads was disposed and made anew) records again', async () => {
    let scale = keep(T.tensor([2], [1]));
    const step = compile(() => T.mul(scale, 3));
    expect(await step.run().data()).toEqual(Float32Array.of(6));
    const recording = step.recording;
    scale.dispose();
    scale = keep(T.tensor([5], [1]));
    expect(recording!.valid).toBe(false);
    expect(await step.run().data()).toEqual(Float32Array.of(15));
    expect(step.recording).not.toBe(recording);
    step.dispose();
    scale.dispose();
  });

  test('steps of one group hold the scratch of the larger, not of both', () => {
    const big = (x: T.Tensor) => T.sum(T.exp(T.exp(T.mul(x, 2))));
    const alone = [compile(big, { inputs: [[4096]] }), compile(big, { inputs: [[4096]] })];
    for (const s of alone) s.run(new Float32Array(4096));
    const separate = engine().memory().recordedBytes;
    for (const s of alone) s.dispose();
    const group = new CompileGroup();
    const shared = [compile(big, { inputs: [[4096]], group }), compile(big, { inputs: [[4096]], group })];
    for (const s of shared) s.run(new Float32Array(4096));
    expect(engine().memory().recordedBytes).toBeLessThan(separate);
    for (const s of shared) s.dispose();
    expect(group.steps.size).toBe(0);
  });
});
