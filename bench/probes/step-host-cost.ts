// How much host work a training step costs when it is issued op by op versus replayed from its recording,
// without the GPU work (which on a software adapter runs inside submit and hides the difference):
//   node scripts/run.mjs bench/probes/step-host-cost.ts [preset]
// Issuing is the recorded function's run (shape logic, autograd, uniform packing) plus making one bind group
// per dispatch and encoding it; replaying is encoding every recorded dispatch into a pass that is never
// submitted.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, useEngine } from '../../src/engine/engine.js';
import type { Recording } from '../../src/engine/recording.js';
import { nodeDevice } from '../../src/io/dawn.js';
import { loadTrainingData } from '../../src/train/batches.js';
import { resolveConfig, type PresetName } from '../../src/train/config.js';
import { Trainer } from '../../src/train/trainer.js';

const preset = (process.argv[2] ?? 'tiny') as PresetName;
const engine = useEngine(new Engine(await nodeDevice()))!;
const config = resolveConfig({ preset, flags: { validationImages: 1 } });
const data = await loadTrainingData(config);
const out = mkdtempSync(join(tmpdir(), 'host-cost-'));
const trainer = new Trainer({ config, data, out, replay: false });

// Issuing: every update of a replay:false trainer is recorded anew; time record() without its replay.
const record = engine.record.bind(engine);
const replay = { ms: 0 };
const recordings: Recording[] = [];
let issueMs = 0;
engine.record = ((fn, options) => {
  const start = performance.now();
  const result = record(() => {
    const value = fn();
    issueMs += performance.now() - start;
    return value;
  }, options);
  recordings.push(result.recording);
  return result;
}) as typeof engine.record;
const issued: number[] = [];
for (let i = 0; i < 4; i++) {
  issueMs = 0;
  await trainer.trainStep();
  if (i > 0) issued.push(issueMs);
}
engine.record = record;

// Replaying: encode the last step's two recordings (kept alive here) into a pass, five times, never submitted.
const replayed = new Trainer({ config, data, out, replay: true });
engine.record = ((fn, options) => {
  const result = record(fn, options);
  recordings.push(result.recording);
  return result;
}) as typeof engine.record;
recordings.length = 0;
await replayed.trainStep();
engine.record = record;
const dispatches = recordings.reduce((n, r) => n + r.commands.length, 0);
const start = performance.now();
for (let k = 0; k < 5; k++) {
  const encoder = engine.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  for (const r of recordings) {
    for (const c of r.commands) {
      pass.setPipeline(c.pipeline);
      pass.setBindGroup(0, c.bindGroup);
      pass.dispatchWorkgroups(...c.groups);
    }
  }
  pass.end();
  encoder.finish();
}
replay.ms = (performance.now() - start) / 5;
// Issued op by op, each dispatch also made its bind group: time making them again from the recorded buffers.
const uniforms = engine.device.createBuffer({ size: 256, usage: GPUBufferUsage.UNIFORM });
const bindStart = performance.now();
for (const r of recordings) {
  for (const c of r.commands) {
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: uniforms, offset: 0, size: 256 } }];
    c.buffers.forEach((buffer, i) => entries.push({ binding: i + 1, resource: { buffer } }));
    engine.device.createBindGroup({ layout: c.pipeline.getBindGroupLayout(0), entries });
  }
}
const bindMs = performance.now() - bindStart;
uniforms.destroy();
// Issuing also encodes every dispatch into a pass, as the replay does.
const median = issued.sort((a, b) => a - b)[1] + bindMs + replay.ms;
console.log(`${engine.gpu.adapterName}: ${preset} step ${config.crop}² b${config.batchSize}, ${dispatches} dispatches`);
console.log(`  issued op by op: ${median.toFixed(0)} ms of host work (${((1000 * median) / dispatches).toFixed(1)} µs per dispatch)`);
console.log(`  replayed:        ${replay.ms.toFixed(1)} ms of host work (${((1000 * replay.ms) / dispatches).toFixed(1)} µs per dispatch), ${(median / replay.ms).toFixed(1)}× less`);
trainer.dispose();
replayed.dispose();
rmSync(out, { recursive: true, force: true });
