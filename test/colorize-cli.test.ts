// `npm run colorize` end to end, in process through main(argv) (one device for the whole file) and, for the
// bundled entry point, two real runs. A tiny random generator at --size 64 keeps each page well under a second.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { main } from '../src/cli/colorize.js';
import { planeToBytes, type Plane } from '../src/data/plane.js';
import { openZip } from '../src/io/zip.js';
import { extractorFile, greyPage, tinyGenerator } from './helpers/colorize.js';
import { useTestEngine } from './helpers/gpu.js';
import { syntheticPage } from './helpers/pages.js';

const engine = useTestEngine();
const dir = mkdtempSync(join(tmpdir(), 'colorize-cli-'));
const weights = join(dir, 'tiny.safetensors');
const noDefault = join(dir, 'no-default.safetensors');

beforeAll(async () => {
  writeFileSync(weights, (await tinyGenerator({ localFeatures: 'none' })).bytes);
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Runs main in process; returns the exit code, the log lines and what went to stderr. */
async function colorize(...args: string[]): Promise<{ code: number; log: string[]; errors: string }> {
  const log: string[] = [];
  const errors: string[] = [];
  const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void errors.push(a.join(' ')));
  const code = await main([...args], { engine: engine(), defaultWeights: noDefault, log: (l) => log.push(l) });
  spy.mockRestore();
  return { code, log, errors: errors.join('\n') };
}

const bytesOf = (plane: Plane) => sharp(planeToBytes(plane), { raw: { width: plane.width, height: plane.height, channels: plane.channels as 3 } });

async function save(file: string, plane: Plane, kind: 'png' | 'jpg' | 'grey' | 'rgba' = 'png'): Promise<string> {
  mkdirSync(join(file, '..'), { recursive: true });
  const image = bytesOf(plane);
  if (kind === 'jpg') await image.jpeg({ quality: 95 }).toFile(file);
  else if (kind === 'grey') await image.toColourspace('b-w').png().toFile(file);
  else if (kind === 'rgba') await image.ensureAlpha(0.6).png().toFile(file);
  else await image.png().toFile(file);
  return file;
}

const size = async (file: string) => {
  const m = await sharp(file).metadata();
  return [m.width, m.height];
};

describe('npm run colorize', () => {
  test('PNG, JPEG, grey and RGBA pages: PNG outputs at the input size; --model-res and --format', async () => {
    const inputs = [
      await save(join(dir, 'in', 'rgb.png'), greyPage(96, 128, 1)),
      await save(join(dir, 'in', 'photo.jpg'), greyPage(100, 90, 2), 'jpg'),
      await save(join(dir, 'in', 'grey.png'), greyPage(72, 110, 3), 'grey'),
      await save(join(dir, 'in', 'alpha.png'), greyPage(80, 80, 4), 'rgba'),
    ];
    const out = join(dir, 'out-files');
    const r = await colorize(...inputs, '-o', out, '--weights', weights, '--size', '64');
    expect(r.code, r.errors).toBe(0);
    expect(r.log.join('\n')).toMatch(/coloured 4 pages/);
    for (const [name, w, h] of [['rgb', 96, 128], ['photo', 100, 90], ['grey', 72, 110], ['alpha', 80, 80]] as const) {
      const file = join(out, `${name}_colorized.png`);
      expect(await size(file)).toEqual([w, h]);
      expect((await sharp(file).metadata()).channels).toBe(3);
    }
    expect(readdirSync(out).filter((f) => f.startsWith('.'))).toEqual([]); // no temporaries left
    // Beside the input by default; --model-res gives the working size; -o's extension picks the format.
    expect((await colorize(inputs[0], '--weights', weights, '--size', '64', '--model-res')).code).toBe(0);
    expect(await size(join(dir, 'in', 'rgb_colorized.png'))).toEqual([64, 86]);
    const jpg = join(dir, 'one.jpg');
    expect((await colorize(inputs[0], '-o', jpg, '--weights', weights, '--size', '64')).code).toBe(0);
    expect((await sharp(jpg).metadata()).format).toBe('jpeg');
    // Never overwrite without --force.
    const again = await colorize(inputs[0], '-o', jpg, '--weights', weights, '--size', '64');
    expect(again.code).toBe(2);
    expect(again.errors).toMatch(/one\.jpg already exists; use --force/);
    expect((await colorize(inputs[0], '-o', jpg, '--weights', weights, '--size', '64', '--force', '--format', 'webp')).code).toBe(2); // .jpg named, webp asked
  });

  test('a folder: same relative paths, a page already in colour copied as it is, a corrupt page reported', async () => {
    const input = join(dir, 'chapter');
    await save(join(input, '1.png'), greyPage(64, 90, 5));
    await save(join(input, 'part2', '10.jpg'), greyPage(64, 90, 6), 'jpg');
    const colourPage = await save(join(input, '2.png'), syntheticPage(64, 90, 7));
    writeFileSync(join(input, '3.png'), readFileSync(join(input, '1.png')).subarray(0, 200));
    const r = await colorize(input, '--weights', weights, '--size', '64');
    expect(r.code).toBe(1);
    const out = join(dir, 'chapter_colorized');
    expect(readdirSync(out, { recursive: true }).map(String).sort()).toEqual(['1.png', '2.png', 'part2', 'part2/10.png']);
    expect(readFileSync(join(out, '2.png')).equals(readFileSync(colourPage))).toBe(true);
    const log = r.log.join('\n');
    expect(log).toMatch(/coloured 2 pages/);
    expect(log).toMatch(/left 1 page already in colour[^\n]*\n\s+.*2\.png \(colourfulness \d+/);
    expect(log).toMatch(/failed 1 page:\n\s+.*3\.png: cannot be decoded/);
    // --force-color colours it too.
    const forced = await colorize(join(input, '2.png'), '-o', join(dir, 'forced.png'), '--weights', weights, '--size', '64', '--force-color');
    expect(forced.code).toBe(0);
    expect(readFileSync(join(dir, 'forced.png')).equals(readFileSync(colourPage))).toBe(false);
  });

  test('a CBZ round trip keeps entry names and order; other entries and colour pages pass through', async () => {
    const png = async (plane: Plane) => new Uint8Array(await bytesOf(plane).png().toBuffer());
    const colour = await png(syntheticPage(64, 80, 9));
    const entries = {
      'ComicInfo.xml': new TextEncoder().encode('<ComicInfo/>'),
      'p2.jpg': new Uint8Array(await bytesOf(greyPage(64, 80, 10)).jpeg().toBuffer()),
      'p10.png': await png(greyPage(70, 80, 11)),
      'p1.png': await png(greyPage(64, 96, 12)),
      'cover.png': colour,
    };
    const cbz = join(dir, 'vol 1.cbz');
    writeFileSync(cbz, zipSync(entries));
    const r = await colorize(cbz, '--weights', weights, '--size', '64');
    expect(r.code, r.errors).toBe(0);
    const zip = await openZip(join(dir, 'vol 1_colorized.cbz'));
    expect(zip.entries.map((e) => e.name)).toEqual(['ComicInfo.xml', 'p2.png', 'p10.png', 'p1.png', 'cover.png']);
    expect(new TextDecoder().decode(await zip.read(zip.entries[0]))).toBe('<ComicInfo/>');
    expect(Buffer.from(await zip.read(zip.entries[4])).equals(Buffer.from(colour))).toBe(true);
    const p10 = await sharp(await zip.read(zip.entries[2])).metadata();
    expect([p10.width, p10.height, p10.format]).toEqual([70, 80, 'png']);
    await zip.close();
  });

  test('hints from JSON and from a PNG change the page where they are, and agree', async () => {
    const page = await save(join(dir, 'hints', 'page.png'), greyPage(96, 128, 13));
    const dot = { x: 30, y: 40 };
    const json = join(dir, 'hints', 'page.json');
    writeFileSync(json, JSON.stringify({ palette: { red: '#ff0000' }, width: 96, height: 128, hints: [{ ...dot, color: 'red' }] }));
    const layer = Buffer.alloc(96 * 128 * 4);
    layer.set([255, 0, 0, 255], (dot.y * 96 + dot.x) * 4);
    const hintPng = join(dir, 'hints', 'layer.png');
    await sharp(layer, { raw: { width: 96, height: 128, channels: 4 } }).png().toFile(hintPng);
    const run = async (name: string, ...extra: string[]) => {
      const out = join(dir, 'hints', name);
      const r = await colorize(page, '-o', out, '--weights', weights, '--size', '64', '--model-res', ...extra);
      expect(r.code, r.errors).toBe(0);
      return sharp(out).raw().toBuffer();
    };
    const [plain, fromJson, fromPng] = [await run('plain.png'), await run('json.png', '--hints', json), await run('png.png', '--hints', hintPng)];
    expect(fromPng.equals(fromJson)).toBe(true);
    const diff = (x0: number, y0: number, x1: number, y1: number) => {
      let s = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) for (let c = 0; c < 3; c++) s += Math.abs(plain[(y * 64 + x) * 3 + c] - fromJson[(y * 64 + x) * 3 + c]);
      return s / ((x1 - x0) * (y1 - y0) * 3);
    };
    const [hx, hy] = [Math.floor((dot.x + 0.5) * 64 / 96), Math.floor((dot.y + 0.5) * 86 / 128)];
    expect(diff(hx - 2, hy - 2, hx + 3, hy + 3)).toBeGreaterThan(0.5);
    expect(diff(hx - 2, hy - 2, hx + 3, hy + 3)).toBeGreaterThan(5 * diff(40, 60, 64, 86));
    // Auto-hint: two passes, a different result.
    const auto = await run('auto.png', '--auto-hint', '2', '--ignore-grey');
    expect(auto.equals(plain)).toBe(false);
  });

  test('bad inputs: one clear message, a non-zero exit and no output file', async () => {
    const page = await save(join(dir, 'bad', 'page.png'), greyPage(64, 80, 14));
    const out = join(dir, 'bad', 'out.png');
    const cases: [string[], RegExp][] = [
      [['--weights', weights, '--hints', join(dir, 'bad', 'missing.json')], /--hints .*missing\.json: no such file/],
      [['--weights', weights, '--hints', await writeText('h.json', '{"width": 64, "height": 80, "hints": [{"x": 70, "y": 1, "color": "#ff0000"}]}')], /h\.json: hint 0: x = 70 is outside the 64×80 page/],
      [['--weights', weights, '--hints', await writeText('wrong-size.json', '{"width": 100, "height": 80, "hints": []}')], /made for a 100×80 page, but this page is 64×80/],
      [['--weights', join(dir, 'bad', 'nothing.safetensors')], /--weights .*nothing\.safetensors: no such file/],
      [['--weights', page], /this is a PNG image/],
      [['--weights', await writeExtractor()], /SE-ResNeXt extractor: pass it with --extractor/],
      [[], /No weights: pass --weights .*README section "Weights for colorize"/],
      [['--weights', weights, '--size', '100'], /--size must be a multiple of 32/],
      [['--weights', weights, '--ignore-grey'], /--ignore-grey filters the auto-hint samples; add --auto-hint/],
      [['--weights', weights, '--blend', 'screen'], /--blend must be one of auto, multiply, luminance, detail, got "screen"/],
      [['--weights', weights, '--size', '8192'], /At working size 8192 this page needs a \d+ MiB tensor, more than this device's largest storage binding.*Use --size \d+ or less/],
    ];
    for (const [args, message] of cases) {
      const r = await colorize(page, '-o', out, ...args);
      expect(r.code, args.join(' ')).toBeGreaterThan(0);
      expect(r.errors + r.log.join('\n'), args.join(' ')).toMatch(message);
      expect(existsSync(out), args.join(' ')).toBe(false);
    }
    expect(readdirSync(join(dir, 'bad')).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  test('the bundled command: a page coloured in a fresh process; usage errors exit 2', () => {
    const build = spawnSync(process.execPath, ['scripts/run.mjs', 'src/cli/colorize.ts', '--help'], { encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
    expect(build.stdout).toMatch(/usage: npm run colorize/);
    const cli = join('dist', 'cli', 'colorize.mjs');
    const page = join(dir, 'in', 'rgb.png');
    const out = join(dir, 'spawned.png');
    const ok = spawnSync(process.execPath, [cli, page, '-o', out, '--weights', weights, '--size', '64'], { encoding: 'utf8' });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/coloured 1 page/);
    expect(ok.stderr).toMatch(/\[#+\] 1\/1 +[\d.]+ pages\/min/);
    const bad = spawnSync(process.execPath, [cli, page, '-o', out, '--weights', weights, '--format', 'tiff'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--format must be one of png, jpg, webp, got "tiff"/);
  }, 120_000);
});

async function writeText(name: string, text: string): Promise<string> {
  const file = join(dir, 'bad', name);
  writeFileSync(file, text);
  return file;
}

async function writeExtractor(): Promise<string> {
  const file = join(dir, 'bad', 'extractor.safetensors');
  writeFileSync(file, (await extractorFile()).bytes);
  return file;
}

describe('npm run colorize: finishing, splitting and saying what happened', () => {
  test('a single page already in colour is left as it is and nothing is written; a failed page is never named as an output', async () => {
    const colourPage = await save(join(dir, 'said', 'colour.png'), syntheticPage(64, 90, 21));
    const out = join(dir, 'said', 'out.png');
    const r = await colorize(colourPage, '-o', out, '--weights', weights, '--size', '64');
    expect(r.code, r.errors).toBe(0);
    const log = r.log.join('\n');
    expect(log).not.toMatch(/coloured/);
    expect(log).toMatch(/\nleft as it is: already in colour: .*colour\.png \(colourfulness [\d.]+ ≥ \d+; --force-color colours it\); no file was written for it/);
    expect(log).not.toMatch(/→/);
    expect(existsSync(out)).toBe(false);

    const broken = join(dir, 'said', 'broken.png');
    writeFileSync(broken, readFileSync(colourPage).subarray(0, 100));
    const good = await save(join(dir, 'said', 'good.png'), greyPage(64, 80, 22));
    const mixed = await colorize(broken, good, '-o', join(dir, 'said', 'out'), '--weights', weights, '--size', '64');
    expect(mixed.code).toBe(1);
    expect(mixed.log.join('\n')).toMatch(/coloured 1 page in .* → .*good_colorized\.png\n/);
    expect(mixed.log.join('\n')).not.toMatch(/broken_colorized/);
    expect(readdirSync(join(dir, 'said', 'out'))).toEqual(['good_colorized.png']);
  });

  test('--skip-existing finishes a folder and a list of CBZs, leaving what exists untouched', async () => {
    const input = join(dir, 'resume');
    for (let i = 1; i <= 3; i++) await save(join(input, `${i}.png`), greyPage(64, 72, 30 + i));
    const out = join(dir, 'resume_colorized');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, '2.png'), 'finished before the interruption');
    const refused = await colorize(input, '--weights', weights, '--size', '64');
    expect(refused.code).toBe(2);
    expect(refused.errors).toMatch(/2\.png already exists; use --force/);
    const r = await colorize(input, '--weights', weights, '--size', '64', '--skip-existing');
    expect(r.code, r.errors).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['1.png', '2.png', '3.png']);
    expect(readFileSync(join(out, '2.png'), 'utf8')).toBe('finished before the interruption');
    expect(r.log.join('\n')).toMatch(/left out 1 item whose output exists \(--skip-existing\): .*2\.png/);
    expect(r.log.join('\n')).toMatch(/coloured 2 pages/);

    const png = async (seed: number) => new Uint8Array(await bytesOf(greyPage(64, 72, seed)).png().toBuffer());
    const [a, b] = [join(dir, 'shelf', 'a.cbz'), join(dir, 'shelf', 'b.cbz')];
    mkdirSync(join(dir, 'shelf'), { recursive: true });
    writeFileSync(a, zipSync({ 'p1.png': await png(40) }));
    writeFileSync(b, zipSync({ 'p1.png': await png(41) }));
    writeFileSync(join(dir, 'shelf', 'a_colorized.cbz'), 'done');
    const shelf = await colorize(a, b, '--weights', weights, '--size', '64', '--skip-existing');
    expect(shelf.code, shelf.errors).toBe(0);
    expect(readFileSync(join(dir, 'shelf', 'a_colorized.cbz'), 'utf8')).toBe('done');
    expect(existsSync(join(dir, 'shelf', 'b_colorized.cbz'))).toBe(true);
    expect(shelf.log.join('\n')).toMatch(/left out 1 item whose output exists.*a\.cbz/);
    // All done: nothing to do, no device work, exit 0.
    const again = await colorize(a, b, '--weights', weights, '--size', '64', '--skip-existing');
    expect(again.code).toBe(0);
    expect(again.log.join('\n')).toMatch(/left out 2 items[^\n]*\ncoloured 0 pages; no file was written/);
    expect((await colorize(a, '--weights', weights, '--skip-existing', '--force')).errors).toMatch(/choose one/);
  });

  test('--shard I/N: the parts are disjoint and together the whole work list; each says what it did', async () => {
    const input = join(dir, 'library');
    for (let i = 1; i <= 5; i++) await save(join(input, `p${i}.png`), greyPage(64, 64, 50 + i));
    const out = join(dir, 'library-out');
    const parts = [];
    for (const shard of ['1/2', '2/2']) {
      const r = await colorize(input, '-o', out, '--weights', weights, '--size', '64', '--shard', shard, '--skip-existing');
      expect(r.code, r.errors).toBe(0);
      parts.push(r.log.join('\n'));
    }
    expect(parts[0]).toMatch(/shard 1\/2: 3 of 5 work items/);
    expect(parts[0]).toMatch(/coloured 3 pages/);
    expect(parts[1]).toMatch(/shard 2\/2: 2 of 5 work items/);
    expect(parts[1]).toMatch(/coloured 2 pages/);
    expect(readdirSync(out).sort()).toEqual(['p1.png', 'p2.png', 'p3.png', 'p4.png', 'p5.png']);
    // Resuming a shard finds its part done.
    const resumed = await colorize(input, '-o', out, '--weights', weights, '--size', '64', '--shard', '1/2', '--skip-existing');
    expect(resumed.log.join('\n')).toMatch(/shard 1\/2: 3 of 5 work items[^\n]*\nleft out 3 items/);
    for (const bad of ['3/2', '0/2', '2', 'a/b']) expect((await colorize(input, '--weights', weights, '--shard', bad)).errors).toMatch(/--shard takes I\/N/);
  });
});
