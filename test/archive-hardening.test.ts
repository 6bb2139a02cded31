// Crafted CBZ/ZIP chapters (issue 15): size fields beyond the file, zip bombs, encrypted or damaged entries,
// links and names that climb out of the folder end as one entry's failure or one clear refusal, never as a native
// abort, a gigabyte output or a leftover temporary. Each archive is built here and edited byte by byte.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import sharp from 'sharp';
import { describe, expect, test, vi } from 'vitest';
import { main } from '../src/cli/colorize.js';
import { planeToBytes } from '../src/data/plane.js';
import { ARCHIVE_LIMIT_FLAGS, archiveLimitsFromFlags, openZip } from '../src/io/zip.js';
import { FlagError } from '../src/io/flags.js';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { ARCHIVE_LIMITS, crc32, safeEntryName } from '../src/io/zip-format.js';
import { readChapter } from '../web/files.js';
import { greyPage, tinyGenerator } from './helpers/colorize.js';
import { useTestEngine } from './helpers/gpu.js';

const dir = mkdtempSync(join(tmpdir(), 'archive-hardening-'));

/** Edits a field of `name`'s central-directory record (8: flags, 10: method, 16: CRC, 20/24: sizes, 38: attributes). */
function patch(zip: Uint8Array, name: string, field: number, value: number, bytes: 2 | 4 = 4): Uint8Array<ArrayBuffer> {
  const out = zip.slice();
  const v = new DataView(out.buffer);
  for (let p = 0; p + 46 < out.length; p++) {
    if (v.getUint32(p, true) !== 0x02014b50) continue;
    const length = v.getUint16(p + 28, true);
    if (new TextDecoder().decode(out.subarray(p + 46, p + 46 + length)) !== name) continue;
    if (bytes === 2) v.setUint16(p + field, value, true);
    else v.setUint32(p + field, value >>> 0, true);
    return out;
  }
  throw new Error(`no central record for ${name}`);
}

const write = (name: string, bytes: Uint8Array) => {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return file;
};

const text = (s: string) => new TextEncoder().encode(s);

describe('the ZIP reader', () => {
  test('size fields beyond the file (≥ 2³¹) are that entry\'s failure, found before anything is allocated', async () => {
    let zip: Uint8Array<ArrayBuffer> = zipSync({ 'a.txt': text('hello'), 'b.txt': text('world') }, { level: 0 });
    zip = patch(patch(zip, 'a.txt', 20, 0x80000000), 'a.txt', 24, 0x80000000);
    const archive = await openZip(write('big-fields.zip', zip));
    await expect(archive.read(archive.entries[0])).rejects.toThrow(/big-fields\.zip: a\.txt declares 2147483648 bytes at byte 0, beyond the \d+-byte archive/);
    expect(new TextDecoder().decode(await archive.read(archive.entries[1]))).toBe('world');
    await archive.close();
  });

  test('zip bombs: an entry above the size cap or the ratio cap is refused; so is an archive above the total or entry count', async () => {
    const zeros = new Uint8Array(4 * 2 ** 20);
    const bomb = await openZip(write('bomb.zip', zipSync({ 'zeros.bin': zeros }, { level: 9 })));
    expect(bomb.entries[0].problem).toMatch(/would unpack \d+ bytes to 4\.0 MiB, more than 100× \(a zip bomb\?\)/);
    await expect(bomb.read(bomb.entries[0])).rejects.toThrow(/bomb\.zip: zeros\.bin would unpack/);
    await bomb.close();
    const huge = patch(patch(zipSync({ 'x.bin': new Uint8Array(16) }, { level: 0 }), 'x.bin', 24, 0xfffffff0), 'x.bin', 20, 0xfffffff0);
    const big = await openZip(write('huge.zip', huge));
    expect(big.entries[0].problem).toMatch(/declares 4294967280 bytes/);
    await big.close();
    const many = zipSync(Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`${i}.txt`, text('x')])), { level: 0 });
    await expect(openZip(write('many.zip', many), { ...ARCHIVE_LIMITS, maxEntries: 20 })).rejects.toThrow(/many\.zip: the archive has 30 entries; at most 20 are read/);
    await expect(openZip(write('total.zip', many), { ...ARCHIVE_LIMITS, maxTotalBytes: 10 })).rejects.toThrow(/total\.zip: the archive's entries declare more than/);
  });

  test('encrypted, unsupported-method, CRC-mismatched and symbolic-link entries are named; the rest read', async () => {
    let zip: Uint8Array<ArrayBuffer> = zipSync({ 'enc.txt': text('a'), 'lzma.txt': text('b'), 'crc.txt': text('c'), 'link': text('/etc/passwd'), 'ok.txt': text('ok') }, { level: 0 });
    zip = patch(zip, 'enc.txt', 8, 1, 2);
    zip = patch(zip, 'lzma.txt', 10, 14, 2);
    zip = patch(zip, 'crc.txt', 16, 0x1234);
    zip = patch(zip, 'link', 4, 0x0314, 2); // made by Unix
    zip = patch(zip, 'link', 38, (0o120777 << 16) >>> 0);
    const archive = await openZip(write('faults.zip', zip));
    const results = await Promise.all(archive.entries.map((e) => archive.read(e).then((b) => new TextDecoder().decode(b), (err: Error) => err.message)));
    expect(results).toEqual([
      expect.stringMatching(/faults\.zip: enc\.txt is encrypted/),
      expect.stringMatching(/lzma\.txt uses compression method 14/),
      expect.stringMatching(/crc\.txt fails its CRC-32 check/),
      expect.stringMatching(/link is a symbolic link, which is not followed/),
      'ok',
    ]);
    await archive.close();
  });

  test('a file that is not a regular file is refused, a FIFO at once', async () => {
    const link = join(dir, 'devzero.cbz');
    symlinkSync('/dev/zero', link);
    await expect(openZip(link)).rejects.toThrow(/devzero\.cbz: not a regular file/);
    execFileSync('mkfifo', [join(dir, 'pipe.zip')]);
    await expect(openZip(join(dir, 'pipe.zip'))).rejects.toThrow(/pipe\.zip: not a regular file/);
  });

  test('CRC-32 agrees with zlib at every length, and continues across pieces', () => {
    for (const n of [0, 1, 3, 4, 5, 8, 1001, 65537]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 7919) & 255);
      expect(crc32(bytes), `${n} bytes`).toBe(zlibCrc32(bytes));
      expect(crc32(bytes.subarray(n >> 1), crc32(bytes.subarray(0, n >> 1)))).toBe(zlibCrc32(bytes));
    }
  });

  test('the limits as flags: defaults unchanged, values in their units, out-of-range values name the flag', () => {
    expect(archiveLimitsFromFlags(new Map())).toEqual(ARCHIVE_LIMITS);
    const values = new Map([['archive-max-entries', '50'], ['archive-max-entry-mib', '8'], ['archive-max-total-gib', '2'], ['archive-max-ratio', '400']]);
    expect(archiveLimitsFromFlags(values)).toEqual({ maxEntries: 50, maxEntryBytes: 8 * 2 ** 20, maxTotalBytes: 2 * 2 ** 30, maxRatio: 400 });
    expect(() => archiveLimitsFromFlags(new Map([['archive-max-entries', '65535']]))).toThrow(FlagError);
    expect(() => archiveLimitsFromFlags(new Map([['archive-max-entry-mib', '1e10']]))).toThrow(/--archive-max-entry-mib must be an integer from 1 to 4095, got "1e10"/);
    expect(ARCHIVE_LIMIT_FLAGS.map((f) => f.name)).toEqual(['archive-max-entries', 'archive-max-entry-mib', 'archive-max-total-gib', 'archive-max-ratio']);
  });

  test('entry names lose what could lead out of a folder', () => {
    expect(safeEntryName('../../etc/evil.png')).toBe('etc/evil.png');
    expect(safeEntryName('/abs/page.png')).toBe('abs/page.png');
    expect(safeEntryName('C:\\pages\\..\\001.png')).toBe('pages/001.png');
    expect(safeEntryName('a/./b/')).toBe('a/b/');
    expect(safeEntryName('../')).toBeNull();
  });
});

describe("the app's chapter reader", () => {
  test('a damaged or bomb entry is left out and said; the other pages open; a zip bomb never unpacks', () => {
    let zip: Uint8Array<ArrayBuffer> = zipSync({ '2.png': text('page two'), '10.png': text('page ten'), 'bomb.png': [new Uint8Array(4 * 2 ** 20), { level: 9 }], '1.png': text('page one') }, { level: 0 });
    zip = patch(zip, '10.png', 16, 0xdead);
    const { pages, skipped } = readChapter(zip, 'vol.cbz');
    expect(pages.map((p) => p.name)).toEqual(['1.png', '2.png']);
    expect(skipped).toEqual([expect.stringMatching(/vol\.cbz: 10\.png fails its CRC-32 check/), expect.stringMatching(/vol\.cbz: bomb\.png would unpack .* \(a zip bomb\?\)/)]);
    expect(() => readChapter(zipSync({ 'a.png': [new Uint8Array(4 * 2 ** 20), { level: 9 }] }), 'bomb.cbz')).toThrow(/bomb\.cbz holds no images .* it can read: .*zip bomb/);
  });
});

describe('colorize on crafted chapters', () => {
  const engine = useTestEngine();
  const weights = join(dir, 'tiny.safetensors');
  const run = async (...args: string[]) => {
    if (!existsSync(weights)) writeFileSync(weights, (await tinyGenerator({ localFeatures: 'none' })).bytes);
    const log: string[] = [];
    const errors: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void errors.push(a.join(' ')));
    const code = await main([...args, '--weights', weights, '--size', '64'], { engine: engine(), defaultWeights: join(dir, 'none'), log: (l) => log.push(l) });
    spy.mockRestore();
    return { code, log: log.join('\n'), errors: errors.join('\n') };
  };
  const page = async () => {
    const p = greyPage(64, 64, 3);
    return new Uint8Array(await sharp(planeToBytes(p), { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer());
  };

  test('damaged entries fail alone: the others are coloured, names are made safe, other entries stay compressed, no temporary is left', async () => {
    const good = await page();
    let zip = zipSync(
      {
        'ComicInfo.xml': [text('<ComicInfo>' + ' '.repeat(4000) + '</ComicInfo>'), { level: 9 }],
        '../001.png': good,
        '002.png': good,
        '003.png': good,
        '004.png': good,
        '005.png': [new Uint8Array(900_000).fill(7), { level: 9 }], // no image: filler that deflates 900 KB into ~1 KB
      },
      { level: 0 },
    );
    zip = patch(patch(zip, '002.png', 20, 0x80000000), '002.png', 24, 0x80000000); // a 4-byte edit of each size
    zip = patch(zip, '003.png', 8, 1, 2); // encrypted
    const input = write('damaged.cbz', zip);
    const r = await run(input);
    expect(r.code).toBe(1);
    expect(r.log).toMatch(/coloured 2 pages/);
    expect(r.log).toMatch(/failed 3 pages:\n\s+.*damaged\.cbz: 002\.png declares 2147483648 bytes.*\n\s+.*damaged\.cbz: 003\.png is encrypted.*\n\s+.*005\.png/);
    const out = await openZip(join(dir, 'damaged_colorized.cbz'));
    expect(out.entries.map((e) => e.name)).toEqual(['ComicInfo.xml', '001.png', '004.png', '005.png']);
    expect(out.entries[0].method).toBe(8);
    expect(out.entries[3].compressedSize).toBeLessThan(10_000); // passed through compressed, not 900 KB
    expect(new TextDecoder().decode(await out.read(out.entries[0]))).toMatch(/^<ComicInfo> +<\/ComicInfo>$/);
    await out.close();
    expect(readdirSync(dir).filter((n) => n.includes('.tmp') || n.startsWith('.'))).toEqual([]);
  });

  test('two entries that would share an output name are refused before anything is written', async () => {
    const good = await page();
    const input = write('clash.cbz', zipSync({ '002.jpg': good, '002.png': good }, { level: 0 }));
    const r = await run(input);
    expect(r.code).toBe(2);
    expect(r.errors).toMatch(/clash\.cbz: the entries 002\.jpg and 002\.png would both be written as 002\.png; rename one in the archive/);
    expect(existsSync(join(dir, 'clash_colorized.cbz'))).toBe(false);
  });

  test('the archive limits are flags, each range-checked: a ratio cap lifted lets an entry through, a count cap refuses the archive', async () => {
    const zip = zipSync({ '001.png': [await page(), { level: 0 }], 'notes.txt': [new Uint8Array(2 * 2 ** 20), { level: 9 }] });
    const input = write('notes.cbz', zip);
    const capped = await run(input, '-o', join(dir, 'notes-a.cbz'));
    expect(capped.code).toBe(1);
    expect(capped.log).toMatch(/notes\.cbz: notes\.txt.*would unpack \d+ bytes to 2\.0 MiB, more than 100×/);
    const lifted = await run(input, '-o', join(dir, 'notes-b.cbz'), '--archive-max-ratio', '5000');
    expect(lifted.code, lifted.log).toBe(0);
    const out = await openZip(join(dir, 'notes-b.cbz'));
    expect(out.entries.map((e) => e.name)).toEqual(['001.png', 'notes.txt']);
    await out.close();
    const few = await run(input, '-o', join(dir, 'notes-c.cbz'), '--archive-max-entries', '1');
    expect(few.code).toBe(2);
    expect(few.errors).toMatch(/notes\.cbz: the archive has 2 entries; at most 1 are read/);
    for (const [flag, value, range] of [['archive-max-total-gib', '2000', '1 to 1024'], ['archive-max-entry-mib', '0.5', '1 to 4095'], ['archive-max-ratio', 'abc', '1 to 10000']]) {
      const r = await run(input, `--${flag}`, value);
      expect(r.code).toBe(2);
      expect(r.errors).toMatch(new RegExp(`--${flag} must be an integer from ${range}, got "${value}"`));
    }
  });

  test('a truncated archive is refused with its name', async () => {
    const zip = zipSync({ '001.png': await page() }, { level: 0 });
    const r = await run(write('cut.cbz', zip.subarray(0, zip.length - 30)));
    expect(r.code).toBe(2);
    expect(r.errors).toMatch(/cut\.cbz: (not a ZIP archive|damaged ZIP)/);
    expect(readFileSync(join(dir, 'cut.cbz')).length).toBeGreaterThan(0);
  });
});
