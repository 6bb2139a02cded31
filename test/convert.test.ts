// `npm run convert` end to end: the CLI is bundled once and run as a child process on fixture checkpoints.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PROJECT_GENERATOR_FORMAT } from '../src/nets/architectures.js';
import { readSafetensors, writeSafetensors } from '../src/io/safetensors.js';
import { readTorchCheckpoint } from '../src/io/torch.js';
// @ts-expect-error: a plain .mjs module without types
import { nodeBundle } from '../scripts/esbuild-options.mjs';

const fixture = (name: string) => new URL(`./fixtures/torch/${name}`, import.meta.url).pathname;
let dir: string;
let cli: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'convert-'));
  // Bundled inside the repository so its external packages (webgpu, sharp) resolve from node_modules.
  mkdirSync('dist/test', { recursive: true });
  cli = join(process.cwd(), 'dist', 'test', 'convert.mjs');
  await build({ ...nodeBundle, entryPoints: ['src/cli/convert.ts'], outfile: cli, sourcemap: false });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

describe('npm run convert', () => {
  test('a nested DataParallel checkpoint: names stripped, values and int64 kept, summary printed', () => {
    const out = join(dir, 'nested.safetensors');
    const result = run(fixture('zip-nested.pt'), out);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/PyTorch zip checkpoint .*state dict under "state_dict", "module\." removed from every name/);
    expect(result.stdout).toMatch(/tensors {2}4 \(3 F32, 1 I64\), 13 parameters/);
    const source = readTorchCheckpoint(new Uint8Array(readFileSync(fixture('zip-nested.pt')))).tensors;
    const { tensors, metadata } = readSafetensors(new Uint8Array(readFileSync(out)));
    expect(metadata).toEqual({ format: 'pt', source: 'zip-nested.pt' });
    expect([...tensors.keys()]).toEqual([...source.keys()]);
    for (const [name, t] of source) expect(tensors.get(name), name).toEqual(t);
  });

  test('never overwrites without --force; --half stores float16 and warns about overflow', () => {
    const out = join(dir, 'full.safetensors');
    writeFileSync(out, 'precious');
    const refused = run(fixture('legacy.pt'), out, '--half');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/already exists; pass --force to overwrite it/);
    expect(readFileSync(out, 'utf8')).toBe('precious');

    const forced = run(fixture('legacy.pt'), out, '--half', '--force');
    expect(forced.status, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(/1 value beyond float16's range/); // double.weight holds 1e30
    const { tensors } = readSafetensors(new Uint8Array(readFileSync(out)));
    expect(new Set([...tensors.values()].map((t) => t.dtype))).toEqual(new Set(['F16', 'I64']));
    expect([...tensors.get('half.weight')!.data]).toEqual([1, -2.5, 65504, 2 ** -24, 0.333251953125, -0]);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  test('the input is never the output, even with --force; a FIFO as input is refused at once', () => {
    const input = join(dir, 'weights.safetensors');
    writeFileSync(input, readFileSync(fixture('zip.pt')));
    const same = run(input, join(dir, '.', 'weights.safetensors'), '--force');
    expect(same.status).toBe(1);
    expect(same.stderr).toMatch(/is the input; inputs are never overwritten, even with --force/);
    expect(readFileSync(input).equals(readFileSync(fixture('zip.pt')))).toBe(true);
    spawnSync('mkfifo', [join(dir, 'pipe.pth')]);
    const fifo = run(join(dir, 'pipe.pth'), join(dir, 'p.safetensors'));
    expect(fifo.status).toBe(1);
    expect(fifo.stderr).toMatch(/pipe\.pth: is not a regular file/);
  });

  test('--key chooses among several state dicts; errors and usage go to stderr', () => {
    const out = join(dir, 'd.safetensors');
    expect(run(fixture('zip-two.pt'), out).stderr).toMatch(/several state dicts: G \(4 tensors\), D \(4 tensors\)/);
    const chosen = run(fixture('zip-two.pt'), out, '--key', 'D');
    expect(chosen.status, chosen.stderr).toBe(0);
    expect(chosen.stdout).toMatch(/state dict under "D"/);

    const usage = run(fixture('zip.pt'));
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/usage: npm run convert/);
    expect(run(fixture('zip.pt'), join(dir, 'x.pth')).stderr).toMatch(/must be a \.safetensors file/);
    const missing = run(join(dir, 'nope.pth'), join(dir, 'y.safetensors'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/Cannot read .*nope\.pth/);
  });
});

describe('npm run convert: the project\'s own files', () => {
  test('a generator exported by training keeps its metadata through --half, and colorize still recognises it', () => {
    const meta = { format: PROJECT_GENERATOR_FORMAT, generator: '{"width":16}', localFeatures: 'none', preset: 'tiny' };
    const input = join(dir, 'own.safetensors');
    const data = new Float32Array([0.5, -1.25, 3, 0.1]);
    writeFileSync(input, writeSafetensors(new Map([['exit.weight', { dtype: 'F32', shape: [2, 2], data }]]), { metadata: meta }));
    const out = join(dir, 'own-half.safetensors');
    const r = run(input, out, '--half');
    expect(r.status, r.stderr).toBe(0);
    const converted = readSafetensors(new Uint8Array(readFileSync(out)));
    expect(converted.metadata).toEqual({ ...meta, source: 'own.safetensors' });
    expect(converted.tensors.get('exit.weight')!.dtype).toBe('F16');
  });
});

describe('npm run convert --arch', () => {
  /** The published FFDNet layout (names and shapes from the reference listing), with `module.` as published. */
  function publishedFFDNet(): Map<string, { shape: number[]; data: Float32Array }> {
    const text = readFileSync(new URL('./fixtures/state-dicts.txt', import.meta.url), 'utf8');
    const section = text.split('\n== ').find((s) => s.startsWith('ffdnet_rgb'))!;
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const line of section.split('\n').slice(1)) {
      const m = /^\s+(\S+) \[([\d, ]*)\]/.exec(line);
      if (!m) continue;
      const shape = m[2] ? m[2].split(',').map(Number) : [];
      tensors.set(`module.${m[1]}`, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    }
    return tensors;
  }

  test('a checkpoint with the published layout passes the strict check', () => {
    const input = join(dir, 'ffdnet-published.safetensors');
    writeFileSync(input, writeSafetensors(publishedFFDNet()));
    const result = run(input, join(dir, 'ffdnet-out.safetensors'), '--arch', 'ffdnet');
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/checked {2}every tensor matches ffdnet \(62 names and shapes\)/);
  });

  test('one report lists every missing, unexpected and mis-shaped tensor, and nothing is written', () => {
    const tensors = publishedFFDNet();
    const names = [...tensors.keys()];
    tensors.delete(names[5]);
    tensors.set('module.extra.weight', { shape: [2], data: new Float32Array(2) });
    tensors.set(names[0], { shape: [96, 12, 3, 3], data: new Float32Array(96 * 12 * 9) });
    const input = join(dir, 'ffdnet-broken.safetensors');
    const output = join(dir, 'ffdnet-broken-out.safetensors');
    writeFileSync(input, writeSafetensors(tensors));
    const result = run(input, output, '--arch', 'ffdnet');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(names[5].slice('module.'.length));
    expect(result.stderr).toContain('extra.weight');
    expect(result.stderr).toMatch(/\[96, 12, 3, 3\]/);
    expect(readdirSync(dir)).not.toContain('ffdnet-broken-out.safetensors');
  });

  test('an unknown architecture is a usage error', () => {
    const result = run(fixture('zip-nested.pt'), join(dir, 'x.safetensors'), '--arch', 'v3-generator');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--arch must be one of v1-generator, v1-discriminator/);
  });
});

test("--arch vgg16 keeps torchvision's features[:9] and drops the rest of the network", () => {
  const shapes: [string, number[]][] = [
    ['features.0.weight', [64, 3, 3, 3]], ['features.0.bias', [64]], ['features.2.weight', [64, 64, 3, 3]], ['features.2.bias', [64]],
    ['features.5.weight', [128, 64, 3, 3]], ['features.5.bias', [128]], ['features.7.weight', [128, 128, 3, 3]], ['features.7.bias', [128]],
    ['features.10.weight', [256, 128, 3, 3]], ['features.10.bias', [256]], ['classifier.0.weight', [4, 8]], ['classifier.0.bias', [4]],
  ];
  const tensors = new Map(shapes.map(([name, shape]) => [name, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) }]));
  const input = join(dir, 'vgg16-full.safetensors');
  const output = join(dir, 'vgg16-features.safetensors');
  writeFileSync(input, writeSafetensors(tensors));
  const result = run(input, output, '--arch', 'vgg16');
  expect(result.status, result.stderr).toBe(0);
  expect(result.stdout).toMatch(/dropped {2}4 tensors vgg16 does not use/);
  expect([...readSafetensors(new Uint8Array(readFileSync(output))).tensors.keys()]).toEqual(shapes.slice(0, 8).map(([n]) => n));
});
