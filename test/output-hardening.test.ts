// Outputs (issue 15): an input is never written over, with or without --force, whatever name (a symbolic link,
// the folder itself) the output is given by; `sketch --force` with a failing --dfm keeps the existing output;
// temporaries of an interrupted run are removed at the next one.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, test, vi } from 'vitest';
import { main } from '../src/cli/colorize.js';
import { planeToBytes } from '../src/data/plane.js';
import { greyPage, tinyGenerator } from './helpers/colorize.js';
import { useTestEngine } from './helpers/gpu.js';

const dir = mkdtempSync(join(tmpdir(), 'output-hardening-'));
const weights = join(dir, 'tiny.safetensors');

async function page(file: string): Promise<string> {
  mkdirSync(join(file, '..'), { recursive: true });
  const p = greyPage(64, 64, 4);
  await sharp(planeToBytes(p), { raw: { width: 64, height: 64, channels: 3 } }).png().toFile(file);
  return file;
}

const engine = useTestEngine();

describe('colorize never writes over an input', () => {
  beforeAll(async () => writeFileSync(weights, (await tinyGenerator({ localFeatures: 'none' })).bytes));
  const run = async (...args: string[]) => {
    const errors: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void errors.push(a.join(' ')));
    const code = await main([...args, '--weights', weights, '--size', '64'], { engine: engine(), defaultWeights: join(dir, 'none'), log: () => undefined });
    spy.mockRestore();
    return { code, errors: errors.join('\n') };
  };

  test('a folder coloured into itself, with and without --force', async () => {
    const chapter = join(dir, 'chap');
    const input = await page(join(chapter, '001.png'));
    const before = readFileSync(input);
    for (const force of [['--force'], []]) {
      const r = await run(chapter, '-o', chapter, ...force);
      expect(r.code).toBe(2);
      expect(r.errors).toMatch(/001\.png would overwrite the input .*001\.png; inputs are never overwritten, even with --force/);
      expect(r.errors).not.toMatch(/use --force/);
    }
    expect(readFileSync(input).equals(before)).toBe(true);
  });

  test('an output named by a symbolic link to the input', async () => {
    const input = await page(join(dir, 'linked', 'page.png'));
    const before = readFileSync(input);
    symlinkSync(input, join(dir, 'linked', 'out.png'));
    const r = await run(input, '-o', join(dir, 'linked', 'out.png'), '--force');
    expect(r.code).toBe(2);
    expect(r.errors).toMatch(/out\.png would overwrite the input .*page\.png/);
    expect(readFileSync(input).equals(before)).toBe(true);
  });

  test('an output folder that is a symbolic link to the input folder', async () => {
    const input = await page(join(dir, 'real', '001.png'));
    symlinkSync(join(dir, 'real'), join(dir, 'alias'));
    const r = await run(join(dir, 'real'), '-o', join(dir, 'alias'), '--force');
    expect(r.code).toBe(2);
    expect(r.errors).toMatch(/would overwrite the input/);
    expect(readFileSync(input).length).toBeGreaterThan(0);
  });
});

describe('colorize after an interrupted run', () => {
  test('temporaries a crashed run left beside the outputs are removed at the next run', async () => {
    if (!existsSync(weights)) writeFileSync(weights, (await tinyGenerator({ localFeatures: 'none' })).bytes);
    const input = await page(join(dir, 'again', 'page.png'));
    const stale = join(dir, 'again', '.page_colorized.png.999999999.tmp');
    writeFileSync(stale, 'half a page');
    const code = await main([input, '--weights', weights, '--size', '64'], { engine: engine(), defaultWeights: join(dir, 'none'), log: () => undefined });
    expect(code).toBe(0);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(join(dir, 'again', 'page_colorized.png'))).toBe(true);
  });
});

describe('sketch', () => {
  const cli = join('dist', 'cli', 'sketch.mjs');
  beforeAll(() => {
    const r = spawnSync(process.execPath, ['scripts/run.mjs', 'src/cli/sketch.ts', '--help'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  }, 60_000);
  const sketch = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

  test('--force with a failing --dfm keeps the existing -o file', async () => {
    const input = await page(join(dir, 'sketch', 'in.png'));
    const out = join(dir, 'sketch', 'out.png');
    writeFileSync(out, 'the previous sketch');
    const r = sketch(input, '-o', out, '--dfm', join(dir, 'sketch', 'no-such-folder', 'dfm.png'), '--force');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/dfm\.png.*its folder does not exist/);
    expect(readFileSync(out, 'utf8')).toBe('the previous sketch');
  });

  test('an output named by a symbolic link to the input is refused', async () => {
    const input = await page(join(dir, 'sketch2', 'in.png'));
    symlinkSync(input, join(dir, 'sketch2', 'out.png'));
    const r = sketch(input, '-o', join(dir, 'sketch2', 'out.png'), '--force');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/would overwrite the input/);
  });
});
