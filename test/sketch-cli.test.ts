// `npm run sketch` end to end: built once, then run on generated files. Bad inputs and bad usage must give one
// clear error and write nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { beforeAll, describe, expect, test } from 'vitest';
import { planeToBytes } from '../src/data/plane.js';
import { syntheticPage } from './helpers/pages.js';

const dir = mkdtempSync(join(tmpdir(), 'sketch-cli-'));
const cli = join('dist', 'cli', 'sketch.mjs');

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  // Dawn prints adapter warnings on stderr; the CLI's own errors are the lines that remain.
  const stderr = r.stderr.split('\n').filter((l) => l && !/^Warning:|^\s+at |maxDynamic/.test(l)).join('\n');
  return { status: r.status, stdout: r.stdout, stderr };
}

async function pagePng(name: string, w = 90, h = 120): Promise<string> {
  const file = join(dir, name);
  await sharp(planeToBytes(syntheticPage(w, h, 5)), { raw: { width: w, height: h, channels: 3 } }).png().toFile(file);
  return file;
}

beforeAll(() => {
  const r = spawnSync(process.execPath, ['scripts/run.mjs', 'src/cli/sketch.ts', '--help'], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
}, 60_000);

describe('npm run sketch', () => {
  test('line art and distance field, same size as the input, 8-bit grey', async () => {
    const input = await pagePng('page.png');
    const [out, dfm] = [join(dir, 'page-sketch.png'), join(dir, 'page-dfm.png')];
    const r = run(input, '-o', out, '--dfm', dfm, '--mult', '3');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/90×120, XDoG code at mult 3 \+ distance field/);
    for (const file of [out, dfm]) {
      const meta = await sharp(file).metadata();
      expect([meta.width, meta.height, meta.channels, meta.depth]).toEqual([90, 120, 1, 'uchar']);
    }
    const sketch = await sharp(out).raw().toBuffer();
    const levels = new Set(sketch);
    expect(levels.has(255) && levels.has(0)).toBe(true);
    expect(levels.size).toBeGreaterThan(2); // grey-level at mult 3
    const field = await sharp(dfm).raw().toBuffer();
    expect(Math.max(...field)).toBe(255);
    expect(Math.min(...field)).toBe(0);
    // Never overwrite without --force.
    const again = run(input, '-o', out);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/page-sketch\.png" already exists; use --force/);
    expect(run(input, '-o', out, '--mult', '1', '--preset', 'paper', '--force').status).toBe(0);
    expect(new Set(await sharp(out).raw().toBuffer()).size).toBe(2); // binary at mult 1
  });

  test('16-bit PNG and CMYK JPEG inputs are converted, not refused', async () => {
    const src = await sharp(await pagePng('deep-src.png')).raw().toBuffer();
    const raw = { raw: { width: 90, height: 120, channels: 3 as const } };
    const inputs = {
      'deep.png': await sharp(src, raw).toColourspace('rgb16').png().toBuffer(),
      'cmyk.jpg': await sharp(src, raw).toColourspace('cmyk').jpeg().toBuffer(),
    };
    for (const [name, bytes] of Object.entries(inputs)) {
      writeFileSync(join(dir, name), bytes);
      const out = join(dir, `${name}-sketch.png`);
      const r = run(join(dir, name), '-o', out, '--mult', '2');
      expect(r.status, r.stderr).toBe(0);
      const meta = await sharp(out).metadata();
      expect([meta.width, meta.height]).toEqual([90, 120]);
    }
  });

  test('bad inputs: one clear error naming the file, no output', async () => {
    const noise = Buffer.from(Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 7919) % 251));
    const png = await sharp(noise, { raw: { width: 64, height: 64, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(30000, 0);
    ihdr.writeUInt32BE(30000, 4);
    ihdr.set([8, 0, 0, 0, 0], 8);
    const chunk = (type: string, data: Buffer) => {
      const body = Buffer.concat([Buffer.from(type), data]);
      const b = Buffer.alloc(8 + data.length + 4);
      b.writeUInt32BE(data.length, 0);
      body.copy(b, 4);
      b.writeUInt32BE(crc32(body), 8 + data.length);
      return b;
    };
    const bomb = Buffer.concat([png.subarray(0, 8), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(16))), chunk('IEND', Buffer.alloc(0))]);
    const cases: [string, Buffer, RegExp][] = [
      ['zero.png', Buffer.alloc(0), /zero\.png: is empty/],
      ['text.png', Buffer.from('not an image\n'), /text\.png: is not an image/],
      ['cut.png', png.subarray(0, png.length >> 1), /cut\.png: cannot be decoded/],
      ['bomb.png', bomb, /bomb\.png: is 30000×30000 = 900\.0 megapixels, over the limit/],
    ];
    for (const [name, bytes, pattern] of cases) {
      writeFileSync(join(dir, name), bytes);
      const out = join(dir, `${name}-out.png`);
      const dfm = join(dir, `${name}-dfm.png`);
      const r = run(join(dir, name), '-o', out, '--dfm', dfm);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr.split('\n')).toHaveLength(1);
      expect(existsSync(out) || existsSync(dfm)).toBe(false);
    }
    const missing = run(join(dir, 'missing.png'), '-o', join(dir, 'x.png'));
    expect(missing.stderr).toMatch(/missing\.png: no such file/);
    // Inputs that cannot be read whatever their bytes: a folder named like a page, a link to nothing.
    mkdirSync(join(dir, 'folder.png'));
    symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling.png'));
    for (const [name, pattern] of [
      ['folder.png', /folder\.png: is a directory, not a file\./],
      ['dangling.png', /dangling\.png: no such file/],
    ] as [string, RegExp][]) {
      const out = join(dir, `${name}-out.png`);
      const r = run(join(dir, name), '-o', out);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr.split('\n')).toHaveLength(1);
      expect(existsSync(out)).toBe(false);
    }
  });

  test('usage errors', async () => {
    const input = await pagePng('usage.png', 8, 8);
    const before = readdirSync(dir).length;
    const cases: [string[], RegExp][] = [
      [[], /No input image given/],
      [[input], /No output given: add -o/],
      [[input, '-o', join(dir, 'a.png'), '--mult', '0'], /--mult must be an integer from 1 to 16, got "0"/],
      [[input, '-o', join(dir, 'a.png'), '--mult', 'x'], /--mult must be an integer/],
      [[input, '-o', join(dir, 'a.png'), '--preset', 'nope'], /--preset must be one of code, paper, got "nope"/],
      [[input, '-o', join(dir, 'a.jpg')], /should end in \.png/],
      [[input, '-o', join(dir, 'a.png'), '--max-megapixels', '1e10'], /--max-megapixels must be a number of megapixels above 0 and at most 350/],
      [[input, '-o', input, '--force'], /would overwrite the input/],
      [[input, '-o', join(dir, 'a.png'), '--dfm', join(dir, 'a.png')], /name the same file/],
      [[input, '-o', join(dir, 'a.png'), '--bogus'], /^Unknown option --bogus\./],
      [[input, input, '-o', join(dir, 'a.png')], /Expected one input image, got 2/],
    ];
    for (const [args, pattern] of cases) {
      const r = run(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr).toMatch(/usage: npm run sketch/);
    }
    expect(readdirSync(dir).length).toBe(before);
  });
});
