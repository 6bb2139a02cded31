// `npm run prepare-data` end to end on a small folder and a ZIP: items, manifest, natural order, skipped
// corrupt files, resumption.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import sharp from 'sharp';
import { beforeAll, describe, expect, test } from 'vitest';
import { naturalCompare, spreadSample, type Manifest } from '../src/data/dataset.js';
import { TrainingLoader } from '../src/data/loader.js';
import { openTrainingSet } from '../src/io/dataset.js';
import { planeToBytes } from '../src/data/plane.js';
import { folderTooLongToRead, removeTree } from './helpers/folders.js';
import { syntheticPage } from './helpers/pages.js';

const dir = mkdtempSync(join(tmpdir(), 'prepare-data-'));
const cli = join('dist', 'cli', 'prepare-data.mjs');

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => l && !/^Warning:|^\s+at |maxDynamic|^ - While/.test(l)).join('\n') };
}

const png = (w: number, h: number, seed: number) => sharp(planeToBytes(syntheticPage(w, h, seed)), { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();

beforeAll(async () => {
  const r = spawnSync(process.execPath, ['scripts/run.mjs', 'src/cli/prepare-data.ts', '--help'], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  mkdirSync(join(dir, 'in', 'chapter 2'), { recursive: true });
  writeFileSync(join(dir, 'in', 'page10.png'), await png(80, 120, 1));
  writeFileSync(join(dir, 'in', 'page9.jpg'), await sharp(await png(100, 70, 2)).jpeg().toBuffer());
  writeFileSync(join(dir, 'in', 'chapter 2', 'p1.webp'), await sharp(await png(64, 64, 3)).webp().toBuffer());
  writeFileSync(join(dir, 'in', 'broken.png'), Buffer.from('not a png'));
  writeFileSync(join(dir, 'in', 'notes.txt'), 'ignored');
}, 60_000);

describe('npm run prepare-data', () => {
  test('folder input: items in natural order, corrupt files skipped, then resumed', () => {
    const out = join(dir, 'set');
    const first = run('--input', join(dir, 'in'), '--out', out, '--size', '64', '--mults', '1,2', '--workers', '2');
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/4 colour images; mults 1,2 at size 64, 2 workers/);
    expect(first.stdout).toMatch(/3 items in .*manifest\.json; 1 skipped:\n\s+.*broken\.png: is not an image/);
    expect(first.stderr).toMatch(/\[#+\] 4\/4 .*items\/s {2}ETA/);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.items.map((i) => i.source)).toEqual(['chapter 2/p1.webp', 'page9.jpg', 'page10.png']);
    expect(manifest.failed.map((f) => f.source)).toEqual(['broken.png']);
    expect(manifest).toMatchObject({ version: 1, size: 64, mults: [1, 2], preset: 'code' });
    const sizes = manifest.items.map((i) => [i.width, i.height]);
    expect(sizes).toEqual([[64, 64], [92, 64], [64, 96]]); // short side 64, aspect kept (ceil)
    for (const item of manifest.items) {
      for (const file of [item.colour, ...Object.values(item.sketches), ...Object.values(item.fields)]) {
        expect(statSync(join(out, file)).size).toBeGreaterThan(0);
      }
    }
    expect(manifest.items[0].id).toBe('chapter_2__p1.webp~27432d52');
    const stamp = statSync(join(out, manifest.items[2].colour)).mtimeMs;
    const again = run('--input', join(dir, 'in'), '--out', out, '--size', '64', '--mults', '1,2', '--workers', '2');
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/4 colour images, 3 already done/);
    expect(statSync(join(out, manifest.items[2].colour)).mtimeMs).toBe(stamp);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).items).toEqual(manifest.items);
  });

  test('the loader reads the prepared set', async () => {
    const { manifest, read } = await openTrainingSet(join(dir, 'set'));
    const loader = new TrainingLoader({ manifest, read, batchSize: 3, seed: 1 });
    const batches = [];
    for await (const b of loader.epoch(0)) batches.push(b);
    expect(batches).toHaveLength(1);
    const b = batches[0];
    expect(b.input.length).toBe(3 * 6 * 64 * 64);
    expect(b.target.every((v) => v >= -1 && v <= 1)).toBe(true);
    // Line art and distance field in [0, 1], with ink and paper.
    const sketch = b.input.subarray(0, 64 * 64);
    expect(Math.min(...sketch)).toBe(0);
    expect(Math.max(...sketch)).toBe(1);
    await expect(openTrainingSet(join(dir, 'in'))).rejects.toThrow(/cannot read the training set's manifest/);
  });

  test('ZIP input', async () => {
    const zip = zipSync({
      'b/page2.png': new Uint8Array(await png(70, 90, 5)),
      'b/page11.png': [new Uint8Array(await png(90, 70, 6)), { level: 0 }],
      'readme.txt': new TextEncoder().encode('x'),
    });
    writeFileSync(join(dir, 'set.zip'), zip);
    const out = join(dir, 'zipped');
    const r = run('--input', join(dir, 'set.zip'), '--out', out, '--size', '64', '--mults', '2', '--workers', '1');
    expect(r.status, r.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.items.map((i) => [i.source, i.width, i.height])).toEqual([['b/page2.png', 64, 83], ['b/page11.png', 83, 64]]);
  });

  test('the archive limits are flags: an archive over the entry count is refused, an entry over the size cap is skipped', async () => {
    const few = run('--input', join(dir, 'set.zip'), '--out', join(dir, 'few'), '--archive-max-entries', '2');
    expect(few.status).toBe(1);
    expect(few.stderr).toMatch(/set\.zip: the archive has 3 entries; at most 2 are read/);
    const noise = Uint8Array.from({ length: 2 * 2 ** 20 }, (_, i) => (i * 2654435761) >>> 24); // barely compresses
    writeFileSync(join(dir, 'large.zip'), zipSync({ 'p.png': new Uint8Array(await png(64, 64, 7)), 'q.png': [noise, { level: 0 }] }));
    const out = join(dir, 'capped');
    const r = run('--input', join(dir, 'large.zip'), '--out', out, '--size', '64', '--mults', '1', '--workers', '1', '--archive-max-entry-mib', '1');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 items in .*; 1 skipped:\n\s+.*q\.png would unpack to 2\.0 MiB, more than the 1\.0 MiB an entry may have/);
  });

  test('OpenMoji: rendered colour images, real line art, the licence notice', () => {
    const out = join(dir, 'openmoji');
    const r = run('--openmoji', '--out', out, '--size', '64', '--mults', '1', '--limit', '2', '--workers', '1');
    expect(r.status, r.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.items).toHaveLength(2);
    // A varied sample, not the first files (keycaps and flags): the middles of the two halves of the sorted list.
    const all = readdirSync(join('node_modules', 'openmoji', 'color', 'svg')).filter((f) => f.endsWith('.svg')).map((f) => `openmoji/${f}`).sort(naturalCompare);
    expect(manifest.items.map((i) => i.source)).toEqual([all[Math.floor(all.length / 4)], all[Math.floor((3 * all.length) / 4)]]);
    expect(spreadSample([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3)).toEqual([2, 6, 9]);
    expect(spreadSample([1, 2], 5)).toEqual([1, 2]);
    expect(manifest.notice).toMatch(/OpenMoji.*CC BY-SA 4\.0/);
    expect(readFileSync(join(out, 'ATTRIBUTION.md'), 'utf8')).toMatch(/CC BY-SA 4\.0/);
    expect(readFileSync(join(out, 'LICENSE-openmoji.txt'), 'utf8')).toMatch(/Attribution-ShareAlike 4\.0/);
    expect(statSync(join(out, manifest.items[0].lineart!)).size).toBeGreaterThan(0);
    // --skip 2 --limit 1: one source of those --limit 2 leaves out, for a held-out set beside the set above.
    const skipped = join(dir, 'openmoji-skip');
    expect(run('--openmoji', '--out', skipped, '--size', '64', '--mults', '1', '--skip', '2', '--limit', '1', '--workers', '1').status).toBe(0);
    const held = JSON.parse(readFileSync(join(skipped, 'manifest.json'), 'utf8')) as Manifest;
    const rest = all.filter((source) => !manifest.items.some((i) => i.source === source));
    expect(held.items.map((i) => i.source)).toEqual(spreadSample(rest, 1));
    // --sample first: the first N in natural order, and --skip N the rest after them (sets made before the spread sample).
    const first = join(dir, 'openmoji-first');
    expect(run('--openmoji', '--out', first, '--size', '48', '--mults', '1', '--skip', '3', '--limit', '2', '--sample', 'first', '--workers', '1').status).toBe(0);
    expect((JSON.parse(readFileSync(join(first, 'manifest.json'), 'utf8')) as Manifest).items.map((i) => i.source)).toEqual(all.slice(3, 5));
    expect(run('--openmoji', '--out', first, '--sample', 'random').stderr).toMatch(/--sample must be spread or first, got "random"/);
  });

  test('several open sets at once: each gives its share of --limit, every licence is written beside the data', () => {
    const out = join(dir, 'emoji-sets');
    const r = run('--source', 'twemoji,noto,fluent,fxemoji', '--out', out, '--size', '48', '--mults', '1', '--limit', '8', '--workers', '1');
    expect(r.status, r.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.failed).toEqual([]);
    expect(manifest.items).toHaveLength(8);
    const perSet = new Map<string, number>();
    for (const item of manifest.items) perSet.set(item.source.split('/')[0], (perSet.get(item.source.split('/')[0]) ?? 0) + 1);
    expect([...perSet.keys()].sort()).toEqual(['fluent', 'fxemoji', 'noto', 'twemoji']);
    // Rendered in colour on white, not blank: an emoji has coloured pixels.
    for (const item of manifest.items) expect(statSync(join(out, item.colour)).size, item.source).toBeGreaterThan(200);
    const attribution = readFileSync(join(out, 'ATTRIBUTION.md'), 'utf8');
    for (const credit of [/Twemoji.*CC BY 4\.0/, /Noto.*Apache 2\.0/, /Fluent Emoji.*MIT/, /Firefox OS Emoji.*Apache 2\.0/]) {
      expect(attribution).toMatch(credit);
      expect(manifest.notice).toMatch(credit);
    }
    expect(run('--source', 'openclipart', '--out', join(dir, 'nope')).stderr).toMatch(/--source: "openclipart" is not a set; use openmoji, twemoji, noto, fluent, fxemoji/);
    expect(run('--source', 'noto', '--openmoji', '--out', join(dir, 'nope')).stderr).toMatch(/--openmoji is --source openmoji/);
  });

  test('colliding names get distinct ids; an --out inside --input is not read back; a damaged item.json is made again; stale temporaries go', async () => {
    const input = join(dir, 'collide');
    mkdirSync(join(input, 'a'), { recursive: true });
    for (const [i, name] of ['ページ1.png', 'ガゾウ1.png', 'a/b.png', 'a__b.png'].entries()) writeFileSync(join(input, name), await png(40, 40, 20 + i));
    const out = join(input, 'set');
    const first = run('--input', input, '--out', out, '--size', '32', '--mults', '1', '--workers', '1');
    expect(first.status, first.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.items).toHaveLength(4);
    expect(new Set(manifest.items.map((i) => i.id)).size).toBe(4);
    writeFileSync(join(out, 'items', manifest.items[0].id, 'item.json'), '{"source": "ペー'); // torn by a crash
    writeFileSync(join(out, '.manifest.json.999999999.tmp'), '{"vers'); // a manifest a killed run was writing
    const again = run('--input', input, '--out', out, '--size', '32', '--mults', '1', '--workers', '1');
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/4 colour images, 3 already done/);
    expect((JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest).items).toEqual(manifest.items);
    expect(existsSync(join(out, '.manifest.json.999999999.tmp'))).toBe(false);
  });

  test('usage errors', () => {
    for (const [args, pattern] of [
      [['--out', join(dir, 'x')], /exactly one of --input/],
      [['--input', join(dir, 'in')], /No output folder/],
      [['--input', join(dir, 'in'), '--out', join(dir, 'x'), '--mults', '1,1'], /--mults must be distinct/],
      [['--input', join(dir, 'in'), '--out', join(dir, 'x'), '--size', 'big'], /--size must be an integer from 32 to 8192, got "big"/],
      [['--input', join(dir, 'in'), '--out', join(dir, 'x'), '--size', '1e9'], /--size must be an integer from 32 to 8192, got "1e9"/],
      [['--input', join(dir, 'in'), '--out', join(dir, 'x'), '--workers', '1e6'], /--workers must be an integer from 1 to 256, got "1e6"/],
      [['--input', join(dir, 'in'), '--out', join(dir, 'x'), '--archive-max-ratio', '0'], /--archive-max-ratio must be an integer from 1 to 10000, got "0"/],
      [['--input', join(dir, 'in'), '--out', join(dir, 'x'), '--archive-max-entries', 'abc'], /--archive-max-entries must be an integer from 1 to 65534, got "abc"/],
      [['--input', join(dir, 'in'), '--out', join(dir, 'x'), '--skip', 'some'], /--skip must be an integer ≥ 0/],
      [['--input', join(dir, 'in'), '--out', join(dir, 'x'), '--max-megapixels', 'abc'], /--max-megapixels must be a number of megapixels above 0 and at most 350, got "abc"/],
    ] as [string[], RegExp][]) {
      const r = run(...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(pattern);
    }
    const missing = run('--input', join(dir, 'nowhere'), '--out', join(dir, 'x'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/nowhere: no such file or folder/);
  });

  test('a subfolder that cannot be read (a path too long for the system) is skipped like an unreadable image: named, in the manifest', async () => {
    const input = join(dir, 'with-long');
    mkdirSync(input);
    writeFileSync(join(input, 'a.png'), await png(64, 64, 4));
    folderTooLongToRead(input, 'extras');
    try {
      const out = join(dir, 'long-out');
      const r = run('--input', input, '--out', out, '--size', '64', '--mults', '1', '--workers', '1');
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(
        /1 items in .*manifest\.json; 1 skipped:\n {2}\/\S*with-long\/extras\/d{100}.*\(\d+ characters\): this folder cannot be read \(its path is longer than the system allows, ENAMETOOLONG\); make it readable or move it out of \S*with-long\./,
      );
      const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest;
      expect(manifest.items.map((i) => i.source)).toEqual(['a.png']);
      expect(manifest.failed).toEqual([{ source: expect.stringMatching(/^extras\/d{250}\//), error: expect.stringMatching(/ENAMETOOLONG/) }]);
    } finally {
      removeTree(input);
    }
  });
});
