// Pages, hints and folders (issue 15): only regular files are read, with a byte limit (a FIFO named like a page
// hung colorize, a link to /dev/zero filled memory); a hint image must be transparent and has a bounded number of
// hints; option values out of range name the option.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, test, vi } from 'vitest';
import { main } from '../src/cli/colorize.js';
import { main as evalMain } from '../src/cli/eval.js';
import { hintsFromRgba, MAX_HINTS, parseHintObject } from '../src/data/hints.js';
import { nestedDeeperThan, quoteValue } from '../src/data/json-value.js';
import { readSafetensorsHeader } from '../src/io/safetensors.js';
import { configFromFlags, parseConfigJson } from '../src/train/config.js';
import { decodeImageBytes } from '../src/io/image.js';
import { readInputFile } from '../src/io/input-file.js';
import { tinyGenerator } from './helpers/colorize.js';
import { useTestEngine } from './helpers/gpu.js';
import { folderTooLongToRead, removeTree, ROOT_SKIP_REASON, RUNNING_AS_ROOT } from './helpers/folders.js';
import { memoryProbe } from './helpers/memory.js';

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
    await expect(decodeImageBytes(rgb, 'layer.png', { alpha: 'required' })).rejects.toThrow(/layer\.png: has no transparency \(alpha channel\)/);
    const rgba = await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
    expect((await decodeImageBytes(rgba, 'layer.png', { alpha: 'required' })).channels).toBe(4);
  });

  test('more opaque pixels than a page may have hints is refused before any hint is built', () => {
    const opaque = new Uint8Array(800).fill(255);
    expect(() => hintsFromRgba(opaque, { width: 20, height: 10 }, 100)).toThrow(/200 pixels of the hint image are opaque .*more than the 100 hints a page may have/);
    expect(hintsFromRgba(opaque, { width: 20, height: 10 }, 200).x).toHaveLength(200);
  });

  test('a hint JSON with more hints than a page may have is refused', () => {
    const hints = new Array<unknown>(MAX_HINTS + 1); // sparse: only its length matters
    expect(() => parseHintObject({ width: 10, height: 10, hints }, 'many.json')).toThrow(/many\.json: 1048577 hints, more than the 1048576 a page may have/);
  });
});

describe('eval', () => {
  test.each([
    [['--size', '1e9'], /--size must be an integer from 32 to 8192, got "1e9"/],
    [['--hints', '0,1e9'], /--hints must be an integer from 0 to 100000, got "1e9"/],
    [['--seed', '1e300'], /--seed must be an integer from 0 to 4294967295, got "1e300"/],
  ])('option values out of range name the option: %j', async (args, message) => {
    const errors: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void errors.push(a.join(' ')));
    const code = await evalMain(['--data', dir, ...args]);
    spy.mockRestore();
    expect(code).toBe(2);
    expect(errors.join('\n')).toMatch(message);
  });
});

describe('files nested deeper than any valid one: refused with a message, not a stack overflow that names nothing', () => {
  const deep = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;

  test('a safetensors header', () => {
    const header = new TextEncoder().encode(`{"w": {"dtype": "F32", "shape": ${deep(100_000)}, "data_offsets": [0, 0]}}`);
    const bytes = new Uint8Array(8 + header.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    expect(() => readSafetensorsHeader(bytes)).toThrow(/tensor "w" has shape \[\[\[…\]\]\]; expected a list of integers ≥ 0/);
  });

  test('a training config file, and a list given as a flag', () => {
    expect(() => parseConfigJson(`{"generator": {"dilations": ${deep(100_000)}}}`, 'run.json')).toThrow(/^run\.json: values nested more than 8 levels deep/);
    expect(() => configFromFlags(new Map([['generator-dilations', deep(50_000)]]))).toThrow(/^--generator-dilations: expected a JSON list of lists/);
    // What a valid file nests is read as before.
    expect(parseConfigJson('{"generator": {"dilations": [[1, 1], [1, 2], [1, 2], [1]]}}', 'ok.json')).toEqual({ generator: { dilations: [[1, 1], [1, 2], [1, 2], [1]] } });
  });

  test('quoted values stay short whatever they hold', () => {
    expect(quoteValue('x'.repeat(1e6))).toHaveLength(60);
    expect(quoteValue({ a: 1, b: [1, 2, 3, 4, 5], c: { d: { e: 1 } } })).toBe('{"a":1,"b":[1,2,3,4,…],"c":{"d":{…}}}');
    expect(quoteValue(undefined)).toBe('undefined');
    expect(nestedDeeperThan([[1]], 2)).toBe(false);
    expect(nestedDeeperThan([[[1]]], 2)).toBe(true);
    expect(nestedDeeperThan(new Array(300_000).fill(0), 1)).toBe(false); // no spread of a long list
  });
});

describe('hint layers stay small in memory (colorize --hints, measured in a child process)', () => {
  // colorize reads --hints before it looks at its inputs: a missing input stops it right after the hint layer
  // is read, so the child's peak memory is that of reading the layer.
  let probe: Awaited<ReturnType<typeof memoryProbe>>;
  const layer = async (name: string, width: number, height: number, alpha: number) => {
    const path = join(dir, name);
    writeFileSync(path, await sharp({ create: { width, height, channels: 4, background: { r: 200, g: 40, b: 40, alpha } } }).png().toBuffer());
    return path;
  };
  beforeAll(async () => {
    probe = await memoryProbe(
      'hint-layer-probe',
      `const [file, warmUp] = process.argv.slice(2);
      process.argv.length = 1; // else the bundled colorize.ts takes this script for itself and runs on its arguments
      const { main } = await import('./src/cli/colorize.js');
      const errors: string[] = [];
      console.error = (...a: unknown[]) => void errors.push(a.join(' '));
      const colorize = (layer: string) => main(['${join(dir, 'nowhere.png')}', '--weights', layer, '--hints', layer], { log: () => undefined });
      await colorize(warmUp);
      mark();
      errors.length = 0;
      const code = await colorize(file);
      report({ code, errors: errors.join('\\n') });`,
    );
    await layer('tiny-layer.png', 16, 16, 0);
  });

  test('a large transparent layer: its 8-bit samples (4 bytes a pixel), never a float plane or an object per pixel', async () => {
    const [width, height] = [4000, 4000];
    const run = probe(await layer('clear.png', width, height, 0), join(dir, 'tiny-layer.png'));
    expect(run.result).toMatchObject({ code: 2, errors: expect.stringMatching(/nowhere\.png: no such file or folder/) });
    // 4.2 bytes a pixel measured; 20 before (a float RGBA plane beside the bytes).
    expect(run.growth / (width * height)).toBeLessThan(6);
  });

  test('an opaque layer of as many hints as a page may have: typed arrays, not an object per hint', async () => {
    const run = probe(await layer('opaque.png', 1024, 1024, 1), join(dir, 'tiny-layer.png'));
    expect(MAX_HINTS).toBe(1024 * 1024);
    expect(run.result).toMatchObject({ code: 2, errors: expect.stringMatching(/nowhere\.png: no such file or folder/) });
    // 28 bytes a hint (x, y as float64, rgb as float32) and the layer's bytes: ~32 MB measured, ~190 MB before.
    expect(run.growth).toBeLessThan(80 * 2 ** 20);
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
    [['--max-megapixels', '1e10'], /--max-megapixels must be a number of megapixels above 0 and at most 350, got "1e10"/],
    [['--max-megapixels', 'abc'], /--max-megapixels must be .*got "abc"/],
    [['--size', '1e9'], /--size must be a multiple of 32 from 64 to 8192/],
    [['--seed', '1e300'], /--seed must be an integer from 0 to 4294967295/],
  ])('option values out of range name the option: %j', async (args, message) => {
    const r = await run('page.png', ...args);
    expect(r.code).toBe(2);
    expect(r.errors).toMatch(message);
  });

  test('a hint layer with more opaque pixels than a page may have hints is refused, naming the file', async () => {
    const path = join(dir, 'too-many.png');
    writeFileSync(path, await sharp({ create: { width: 1025, height: 1024, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 1 } } }).png().toBuffer());
    const r = await run('page.png', '--weights', path, '--hints', path);
    expect(r.code).toBe(2);
    expect(r.errors).toMatch(/too-many\.png: 1049600 pixels of the hint image are opaque \(alpha ≥ ½\), more than the 1048576 hints/);
  });

  test('a hint file nested a hundred thousand deep is refused naming the file, not with a stack overflow', async () => {
    const path = join(dir, 'deep.json');
    writeFileSync(path, `{"width": ${'['.repeat(100_000)}${']'.repeat(100_000)}, "height": 5, "hints": []}`);
    const r = await run('page.png', '--weights', path, '--hints', path);
    expect(r.code).toBe(2);
    expect(r.errors).toMatch(/deep\.json: "width" must be a positive integer \(the page size in pixels\), got \[\[\[…\]\]\]/);
    expect(r.errors).not.toMatch(/call stack/);
  });

  // A subfolder that cannot be listed is that folder's failure, as a page that cannot be read is the page's: the
  // other pages are coloured, the summary names the folder and why, the exit code is 1, no temporary is left.
  const chapterWithUnreadable = async (name: string, pages: string[], lock: (chapter: string) => void) => {
    const chapter = join(dir, name);
    mkdirSync(chapter);
    for (const page of pages) writeFileSync(join(chapter, page), await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).png().toBuffer());
    lock(chapter);
    const weights = join(dir, `${name}.safetensors`);
    writeFileSync(weights, (await tinyGenerator({ localFeatures: 'none' })).bytes);
    return { chapter, weights };
  };
  const filesUnder = (folder: string): string[] => readdirSync(folder, { recursive: true, encoding: 'utf8' }).sort();

  test('a subfolder that cannot be read (a path too long for the system) is that folder\'s failure; the other pages are coloured', async () => {
    const { chapter, weights } = await chapterWithUnreadable('long-chapter', ['001.png', '003.png'], (c) => folderTooLongToRead(c, '002-extras'));
    try {
      const out = join(dir, 'long-out');
      const r = await run(chapter, '-o', out, '--weights', weights, '--size', '64');
      expect(r.code).toBe(1);
      expect(r.errors).toBe('');
      expect(r.log).toMatch(/coloured 2 pages .*→ \S*long-out/);
      expect(r.log).toMatch(
        /failed 1 folder that could not be listed \(no page in it was coloured\):\n {2}\S*long-chapter\/002-extras\/d{100}.*… \(\d{4} characters\): this folder cannot be read \(its path is longer than the system allows, ENAMETOOLONG\); make it readable or move it out of \S*long-chapter\.$/,
      );
      expect(filesUnder(out)).toEqual(['001.png', '003.png']);

      // The folder is one item of the work list: exactly one shard reports it, and --skip-existing never takes it for done.
      const shards = [await run(chapter, '-o', join(dir, 'long-shards'), '--weights', weights, '--size', '64', '--shard', '1/2'), await run(chapter, '-o', join(dir, 'long-shards'), '--weights', weights, '--size', '64', '--shard', '2/2')];
      expect(shards.map((s) => /shard \d\/2: \d of 3 work items/.test(s.log))).toEqual([true, true]);
      expect(shards.filter((s) => /could not be listed/.test(s.log))).toHaveLength(1);
      expect(shards.map((s) => s.code).sort()).toEqual([0, 1]);
      const rerun = await run(chapter, '-o', out, '--weights', weights, '--size', '64', '--skip-existing');
      expect(rerun.code).toBe(1);
      expect(rerun.log).toMatch(/left out 2 items whose output exists[^]*failed 1 folder that could not be listed/);
    } finally {
      removeTree(chapter);
    }
  });

  test('a folder whose only subfolder cannot be read: the failure is reported, nothing is written, exit 1', async () => {
    const { chapter, weights } = await chapterWithUnreadable('only-long', [], (c) => folderTooLongToRead(c, 'extras'));
    try {
      const r = await run(chapter, '-o', join(dir, 'only-long-out'), '--weights', weights, '--size', '64');
      expect(r.code).toBe(1);
      expect(r.log).toMatch(/coloured 0 pages; no file was written\nfailed 1 folder that could not be listed[^]*ENAMETOOLONG/);
      expect(existsSync(join(dir, 'only-long-out'))).toBe(false);
    } finally {
      removeTree(chapter);
    }
  });

  test.skipIf(RUNNING_AS_ROOT)(`a subfolder without read permission does the same${RUNNING_AS_ROOT ? ` (${ROOT_SKIP_REASON})` : ''}`, async () => {
    const { chapter, weights } = await chapterWithUnreadable('locked-chapter', ['001.png', '003.png'], (c) => {
      mkdirSync(join(c, 'locked'));
      chmodSync(join(c, 'locked'), 0o000);
    });
    try {
      const out = join(dir, 'locked-out');
      const r = await run(chapter, '-o', out, '--weights', weights, '--size', '64');
      expect(r.code).toBe(1);
      expect(r.log).toMatch(/failed 1 folder that could not be listed \(no page in it was coloured\):\n {2}\S*locked-chapter\/locked: this folder cannot be read \(permission denied, EACCES\)/);
      expect(filesUnder(out)).toEqual(['001.png', '003.png']);
    } finally {
      chmodSync(join(chapter, 'locked'), 0o755);
    }
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
