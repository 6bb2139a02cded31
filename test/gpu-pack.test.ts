// The GPU day's tooling works before any GPU day: `npm run gpu-pack` bundles every command the check runs, and
// each bundle starts on its own (its --help exits 0 with its usage on stdout) with the externals resolved from
// the project's node_modules, as they are on the GPU machine after tools/gpu-prelude.sh.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';

const OUT = '.gpu-test';

afterAll(() => rmSync(OUT, { recursive: true, force: true }));

test('gpu-pack bundles the check\'s commands, and each bundle answers --help', () => {
  execFileSync(process.execPath, ['tools/gpu-pack.mjs', '--app-only', '--out', OUT], { stdio: 'pipe' });
  const bundles = readdirSync(`${OUT}/app`).sort();
  // The commands tools/gpu-check.sh calls by name.
  for (const name of ['bench', 'gpu-info', 'torch-parity']) expect(bundles).toContain(`${name}.mjs`);
  for (const bundle of bundles) {
    const run = spawnSync(process.execPath, [`${OUT}/app/${bundle}`, '--help'], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, `${bundle} --help: ${run.stderr}`).toBe(0);
    expect(run.stdout, bundle).toMatch(/usage/i);
  }
});

test('the check script parses, and its summary puts ours beside PyTorch from the phases\' files', () => {
  for (const file of ['tools/gpu-check.sh', 'tools/gpu-prelude.sh']) expect(spawnSync('bash', ['-n', file]).status, file).toBe(0);
  const work = mkdtempSync(join(tmpdir(), 'gpu-check-'));
  try {
    writeFileSync(join(work, 'phases.tsv'), 'probe\tok\t1\texit 0\nbench-conv\ttimeout\t75\texit 124\n');
    writeFileSync(join(work, 'nvidia-smi.txt'), 'GPU 0: NVIDIA H200 (UUID: x)\nNVIDIA H200, 580.159.04, 143771 MiB\n');
    writeFileSync(join(work, 'probe.json'), JSON.stringify({ adapter: 'nvidia h200', backend: 'native', featureLevel: 'core', software: false, features: ['timestamp-query'], info: {}, limits: {} }));
    const bench = (records: object[]) => JSON.stringify({ roof_gflops: 49000, records: [{ suite: 'roof', case: 'fma', ours_ms: 1 }, ...records] });
    writeFileSync(join(work, 'bench-nets.json'), bench([{ suite: 'nets', case: 'generator-v1 512x768 fwd', ours_ms: 30, peer: null, peer_ms: null, ratio: null, gflops: 9000 }]));
    writeFileSync(join(work, 'bench-train.json'), bench([{ suite: 'train', case: 'full step 512² b4', ours_ms: 458, peer: 'x', peer_ms: 500, ratio: 1.1, gflops: null }]));
    writeFileSync(join(work, 'torch-generator.json'), JSON.stringify({ fp32_ms: 15, tf32_ms: 12 }));
    writeFileSync(join(work, 'torch-train-fp32.json'), JSON.stringify({ seconds_per_step: 0.229 }));
    execFileSync(process.execPath, ['tools/gpu-check-summary.mjs', work, join(work, 'out.json'), '--table', join(work, 'out.txt')]);
    const result = JSON.parse(readFileSync(join(work, 'out.json'), 'utf8'));
    expect(result.suggested_name).toMatch(/^bench\/results\/\d{4}-\d\d-\d\d-nvidia-h200-gpu-check\.json$/);
    expect(result.peers.generator_forward.ratio_fp32).toBeCloseTo(0.5, 10);
    expect(result.peers.generator_forward.ratio_tf32).toBeCloseTo(0.4, 10);
    expect(result.peers.training_step.ratio_fp32).toBeCloseTo(0.5, 10);
    expect(result.peers.training_step.torch_tf32_ms).toBeNull();
    expect(result.bench.map((r: { suite: string }) => r.suite)).toEqual(['nets', 'train']);
    expect(result.tests).toBeNull();
    const table = readFileSync(join(work, 'out.txt'), 'utf8');
    expect(table).toMatch(/bench-conv\s+timeout/);
    expect(table).toMatch(/training step \(full step 512² b4\): ours 458\.0 ms; PyTorch fp32 229\.0 ms \(0\.500×\)/);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
