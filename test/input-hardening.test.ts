// Pages, hints and folders (issue 15): only regular files are read, with a byte limit (a FIFO named like a page
// hung colorize, a link to /dev/zero filled memory); a hint image must be transparent and has a bounded number of
// hints; option values out of range name the option.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, test, vi } from 'vitest';
import { main } from '../src/cli/colorize.js';
import { hintsFromRgba, MAX_HINTS, parseHintObject } from '../src/data/hints.js';
import { createPlane } from '../src/data/plane.js';
import { decodeImage } from '../src/io/image.js';
import { readInputFile } from '../src/io/input-file.js';
import { tinyGenerator } from './helpers/colorize.js';
import { useTestEngine } from './helpers/gpu.js';

const dir = mkdtempSync(join(tmpdir(), 'input-hardening-'));
const fifo = (path: string) => execFileSync('mkfifo', [path]);

describe('input files', () => {
  test('a FIFO is refused at once, not waited on', () => {
    const path = join(dir, 'pipe.png');
    fifo(path);
    expect(() => readInputFile(path, 1e6)).toThrow(/pipe\.png: is not a regular file \(a FIFO, a device or a socket\)/);
  });

  test('a link to /dev/zero is refused; so is a file over the byte limit', () => {
    symlinkSync('/dev/zero', join(dir, 'zero.png'));
    expect(() => readInputFile(join(dir, 'zero.png'), 1e6)).toThrow(/zero\.png: is not a regular file/);
    writeFileSync(join(dir, 'big.png'), new Uint8Array(3 * 2 ** 20));
    expect(() => readInputFile(join(dir, 'big.png'), 2 ** 20)).toThrow(/big\.png: has 3 MiB, more than the 1 MiB an input file may have/);
    expect(readInputFile(join(dir, 'big.png'), 4 * 2 ** 20).length).toBe(3 * 2 ** 20);
  });
});

describe('hint images', () => {
  test('an image without transparency is refused: it would make every pixel a hint', async () => {
    const rgb = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#ff0000' } }).png().toBuffer();
    await expect(decodeImage(rgb, 'layer.png', { alpha: 'required' })).rejects.toThrow(/layer\.png: has no transparency \(alpha channel\)/);
    const rgba = await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
    expect((await decodeImage(rgba, 'layer.png', { alpha: 'required' })).channels).toBe(4);
  });

  test('more opaque pixels than a page may have hints is refused before any hint is built', () => {
    const opaque = createPlane(20, 10, 4, new Float32Array(800).fill(1));
    expect(() => hintsFromRgba(opaque, 100)).toThrow(/200 pixels of the hint image are opaque .*more than the 100 hints a page may have/);
    expect(hintsFromRgba(opaque, 200).hints).toHaveLength(200);
  });

  test('a hint JSON with more hints than a page may have is refused', () => {
    const hints = new Array<unknown>(MAX_HINTS + 1); // sparse: only its length matters
    expect(() => parseHintObject({ width: 10, height: 10, hints }, 'many.json')).toThrow(/many\.json: 1048577 hints, more than the 1048576 a page may have/);
  });
});

describe('colorize', () => {
  const engine = useTestEngine();
  const run = async (...args: string[]) => {
    const errors: string[] = [];
    const log: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void errors.push(a.join(' ')));
    const code = await main(args, { engine: engine(), defaultWeights: join(dir, 'none'), log: (l) => log.push(l) });
    spy.mockRestore();
    return { code, errors: errors.join('\n'), log: log.join('\n') };
  };

  test.each([
    [['--max-megapixels', '1e10'], /--max-megapixels must be a number of megapixels above 0 and at most 1000, got "1e10"/],
    [['--max-megapixels', 'abc'], /--max-megapixels must be .*got "abc"/],
    [['--size', '1e9'], /--size must be a multiple of 32 from 64 to 8192/],
    [['--seed', '1e300'], /--seed must be an integer from 0 to 4294967295/],
  ])('option values out of range name the option: %j', async (args, message) => {
    const r = await run('page.png', ...args);
    expect(r.code).toBe(2);
    expect(r.errors).toMatch(message);
  });

  test('a FIFO given as an input is refused at once; one in a folder is that page\'s failure', async () => {
    const weights = join(dir, 'tiny.safetensors');
    writeFileSync(weights, (await tinyGenerator({ localFeatures: 'none' })).bytes);
    fifo(join(dir, 'direct.png'));
    const direct = await run(join(dir, 'direct.png'), '--weights', weights);
    expect(direct.code).toBe(2);
    expect(direct.errors).toMatch(/direct\.png: not a regular file or folder/);
    mkdirSync(join(dir, 'chapter'));
    fifo(join(dir, 'chapter', '001.png'));
    const folder = await run(join(dir, 'chapter'), '-o', join(dir, 'out'), '--weights', weights, '--size', '64');
    expect(folder.code).toBe(1);
    expect(folder.log).toMatch(/failed 1 page:\n\s+.*001\.png: is not a regular file/);
  });
});
