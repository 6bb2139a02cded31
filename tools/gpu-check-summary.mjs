// Merges the phase results of tools/gpu-check.sh (its work folder) into one JSON record and a summary table:
//   node tools/gpu-check-summary.mjs WORK OUT.json [--table OUT.txt]
// Every input is optional: a phase that failed or never ran leaves its part null, and the table says so.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [work, outJson, ...rest] = process.argv.slice(2);
const tableFile = rest[0] === '--table' ? rest[1] : null;
const read = (name) => (existsSync(join(work, name)) ? readFileSync(join(work, name), 'utf8') : null);
const json = (name) => {
  try {
    const text = read(name);
    return text === null ? null : JSON.parse(text);
  } catch {
    return null;
  }
};

const probe = json('probe.json');
const smi = (read('nvidia-smi.txt') ?? '').trim();
const gpuName = /^(.+?), [\d.]+, /m.exec(smi)?.[1] ?? null;
const versions = Object.fromEntries((read('versions.txt') ?? '').trim().split('\n').filter(Boolean).map((l) => [l.split(' ')[0], l.slice(l.indexOf(' ') + 1)]));
const phases = (read('phases.tsv') ?? '').trim().split('\n').filter(Boolean).map((l) => {
  const [name, status, seconds, note] = l.split('\t');
  return { name, status, seconds: Number(seconds), note };
});
const vitest = json('tests.json');
const tests = vitest && {
  passed: vitest.numPassedTests,
  failed: vitest.numFailedTests,
  skipped: vitest.numPendingTests + (vitest.numTodoTests ?? 0),
  files: vitest.testResults?.length ?? null,
  failures: (vitest.testResults ?? []).flatMap((f) => f.assertionResults.filter((a) => a.status === 'failed').map((a) => `${f.name.split('/').pop()}: ${a.fullName}`)),
};
const benches = ['nets', 'train', 'colorize', 'matmul', 'conv', 'conv-gather'].map((s) => json(`bench-${s}.json`)).filter(Boolean);
const records = benches.flatMap((b) => b.records.filter((r) => r.suite !== 'roof'));
const roof = benches.map((b) => b.roof_gflops).find((v) => v) ?? null;
const find = (suite, pattern) => records.find((r) => r.suite === suite && pattern.test(r.case)) ?? null;
const torchGenerator = json('torch-generator.json');
const torchTrain = { fp32: json('torch-train-fp32.json'), tf32: json('torch-train-tf32.json') };
const generator = find('nets', /^generator-v1 /);
// PyTorch's step is the published one (tools/torch-train-step.py): only our `full` step is the same work.
const fullStep = find('train', /^full step/);
const peers = {
  generator_forward: generator && torchGenerator && {
    case: generator.case,
    ours_ms: generator.ours_ms,
    torch_fp32_ms: torchGenerator.fp32_ms,
    torch_tf32_ms: torchGenerator.tf32_ms,
    ratio_fp32: torchGenerator.fp32_ms / generator.ours_ms,
    ratio_tf32: torchGenerator.tf32_ms / generator.ours_ms,
    torch: torchGenerator,
  },
  training_step: fullStep && (torchTrain.fp32 || torchTrain.tf32) && {
    case: fullStep.case,
    ours_ms: fullStep.ours_ms,
    torch_fp32_ms: torchTrain.fp32 ? 1000 * torchTrain.fp32.seconds_per_step : null,
    torch_tf32_ms: torchTrain.tf32 ? 1000 * torchTrain.tf32.seconds_per_step : null,
    ratio_fp32: torchTrain.fp32 ? (1000 * torchTrain.fp32.seconds_per_step) / fullStep.ours_ms : null,
    ratio_tf32: torchTrain.tf32 ? (1000 * torchTrain.tf32.seconds_per_step) / fullStep.ours_ms : null,
    torch: torchTrain,
  },
};
const adapterSlug = (gpuName ?? probe?.info?.device ?? probe?.adapter ?? 'unknown').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').split('-').slice(0, 3).join('-');
const date = new Date().toISOString();
const result = {
  date,
  suggested_name: `bench/results/${date.slice(0, 10)}-${adapterSlug}-gpu-check.json`,
  gpu: smi || null,
  adapter: probe?.adapter ?? null,
  backend: probe?.backend ?? null,
  featureLevel: probe?.featureLevel ?? null,
  features: probe?.features ?? null,
  adapter_info: probe?.info ?? null,
  limits: probe?.limits ?? null,
  versions,
  phases,
  tests,
  parity: json('parity.json'),
  roof_gflops: roof,
  peers,
  bench: records,
  profile: json('profile.json'),
  profile_train: json('profile-train.json'),
};
writeFileSync(outJson, JSON.stringify(result, null, 2) + '\n');

if (tableFile) {
  const f = (v, d = 2) => (v === null || v === undefined ? '—' : Number(v).toFixed(d));
  const lines = [];
  lines.push(`GPU check ${date.slice(0, 16)}Z — ${gpuName ?? '(no nvidia-smi)'}; adapter: ${result.adapter ?? 'none'} (${result.backend ?? '—'})`);
  lines.push(`versions: ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join('; ')}`);
  lines.push(`features: ${(result.features ?? []).join(' ') || '—'}`);
  lines.push('', 'phase                 status    seconds');
  for (const p of phases) lines.push(`${p.name.padEnd(21)} ${p.status.padEnd(9)} ${String(p.seconds).padStart(7)}  ${p.status === 'ok' ? '' : p.note}`);
  lines.push('', `tests: ${tests ? `${tests.passed} passed, ${tests.failed} failed${tests.skipped ? `, ${tests.skipped} skipped` : ''} in ${tests.files} files` : 'no result'}`);
  for (const failure of tests?.failures ?? []) lines.push(`  FAILED ${failure}`);
  const parity = result.parity;
  lines.push(`published-size parity: ${parity ? parity.checks.map((c) => `${c.pass ? 'ok' : 'FAIL'} ${c.name} ${c.value.toExponential(1)}`).join('; ') : 'no result'}`);
  lines.push('', 'against PyTorch on the same card (ratio = PyTorch ms / ours ms: above 1, ours is faster)');
  for (const [what, p] of [['generator forward', peers.generator_forward], ['training step', peers.training_step]]) {
    lines.push(p ? `  ${what} (${p.case}): ours ${f(p.ours_ms, 1)} ms; PyTorch fp32 ${f(p.torch_fp32_ms, 1)} ms (${f(p.ratio_fp32, 3)}×), TF32 ${f(p.torch_tf32_ms, 1)} ms (${f(p.ratio_tf32, 3)}×)` : `  ${what}: no result`);
  }
  lines.push('', `bench (roof ${f(roof, 0)} GFLOP/s)`, 'case'.padEnd(64) + '  ours ms   GFLOP/s  peer                            peer ms   ratio');
  for (const r of records) {
    const extra = r.rate !== undefined ? ` ${f(r.rate, 2)} ${r.rate_unit}` : '';
    lines.push(`${`${r.suite}/${r.case}`.slice(0, 64).padEnd(64)} ${f(r.ours_ms).padStart(9)} ${f(r.gflops, 0).padStart(9)}  ${(r.peer ?? '—').slice(0, 30).padEnd(30)} ${f(r.peer_ms).padStart(8)} ${f(r.ratio).padStart(7)}${extra}`);
  }
  lines.push('', `commit this record as ${result.suggested_name}`);
  writeFileSync(tableFile, lines.join('\n') + '\n');
}
