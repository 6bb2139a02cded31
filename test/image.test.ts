// Image decoding and encoding through sharp: every input kind normalised to 8-bit sRGB, and every bad file one
// clear error naming it. The test images are generated here with sharp.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { beforeAll, describe, expect, test } from 'vitest';
import { createPlane, planeToBytes, toGrey } from '../src/data/plane.js';
import { decodeImage, decodeImageBytes, ImageError, readImage, writePng } from '../src/io/image.js';
import { memoryProbe } from './helpers/memory.js';

const dir = mkdtempSync(join(tmpdir(), 'image-test-'));
const W = 23;
const H = 17;

/** RGBA test pattern: distinct colours per pixel, alpha 255 except a transparent and a half-transparent column. */
function rgba(): Buffer {
  const b = Buffer.alloc(W * H * 4);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = 4 * (y * W + x);
      b[i] = (x * 11) % 256;
      b[i + 1] = (y * 13) % 256;
      b[i + 2] = (x * y) % 256;
      b[i + 3] = x === 0 ? 0 : x === 1 ? 128 : 255;
    }
  }
  return b;
}
const raw = { raw: { width: W, height: H, channels: 4 as const } };

function expectedRgb(src: Buffer, x: number, y: number): number[] {
  const i = 4 * (y * W + x);
  const a = src[i + 3] / 255;
  return [0, 1, 2].map((c) => src[i + c] * a + 255 * (1 - a));
}

function pixel(plane: { width: number; data: Float32Array; channels: number }, x: number, y: number): number[] {
  const i = (y * plane.width + x) * plane.channels;
  return [...plane.data.subarray(i, i + plane.channels)].map((v) => v * 255);
}

/** A valid PNG whose IHDR claims width×height; the pixel data is a few bytes (it would fail to decode). */
function pngHeaderClaiming(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit grey, no interlace
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(64))), chunk('IEND', Buffer.alloc(0))]);
}

describe('decoding normalises to 8-bit sRGB on white', () => {
  test('RGBA PNG: alpha composited on white', async () => {
    const src = rgba();
    const plane = await decodeImage(await sharp(src, raw).png().toBuffer(), 'rgba.png');
    expect([plane.width, plane.height, plane.channels]).toEqual([W, H, 3]);
    for (const [x, y] of [[0, 0], [1, 5], [7, 3], [22, 16]]) {
      const want = expectedRgb(src, x, y);
      pixel(plane, x, y).forEach((v, c) => expect(Math.abs(v - want[c])).toBeLessThanOrEqual(1));
    }
    expect(pixel(plane, 0, 4)).toEqual([255, 255, 255]);
  });

  test('16-bit PNG is the same image at 8 bits', async () => {
    const src = rgba();
    const png16 = await sharp(src, raw).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(png16).metadata()).depth).toBe('ushort');
    const plane = await decodeImage(png16, 'deep.png');
    const want = await decodeImage(await sharp(src, raw).png().toBuffer(), 'rgba.png');
    const [a, b] = [planeToBytes(plane), planeToBytes(want)];
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(1);
  });

  test('grey and grey+alpha become three equal channels', async () => {
    const src = rgba();
    for (const [name, buffer] of [
      ['grey.png', await sharp(src, raw).removeAlpha().toColourspace('b-w').png().toBuffer()],
      ['grey-alpha.png', await sharp(src, raw).toColourspace('b-w').png().toBuffer()],
    ] as const) {
      const meta = await sharp(buffer).metadata();
      expect(meta.channels).toBe(name === 'grey.png' ? 1 : 2);
      const plane = await decodeImage(buffer, name);
      expect(plane.channels).toBe(3);
      for (let i = 0; i < W * H; i++) {
        expect(plane.data[3 * i]).toBe(plane.data[3 * i + 1]);
        expect(plane.data[3 * i]).toBe(plane.data[3 * i + 2]);
      }
      if (name === 'grey-alpha.png') expect(pixel(plane, 0, 9)).toEqual([255, 255, 255]);
    }
  });

  test('CMYK JPEG is converted to sRGB', async () => {
    const solid = await sharp({ create: { width: W, height: H, channels: 3, background: { r: 200, g: 40, b: 40 } } })
      .toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
    expect((await sharp(solid).metadata()).space).toBe('cmyk');
    const plane = await decodeImage(solid, 'cmyk.jpg');
    const [r, g, b] = pixel(plane, 10, 10);
    expect(r).toBeGreaterThan(150);
    expect(g).toBeLessThan(90);
    expect(b).toBeLessThan(90);
  });

  test('JPEG, WebP, TIFF and GIF (first frame) decode', async () => {
    const src = rgba();
    const opaque = await sharp(src, raw).removeAlpha().raw().toBuffer();
    const opaqueRaw = { raw: { width: W, height: H, channels: 3 as const } };
    const encoded = {
      'a.jpg': await sharp(opaque, opaqueRaw).jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).toBuffer(),
      'a.webp': await sharp(opaque, opaqueRaw).webp({ lossless: true }).toBuffer(),
      'a.tif': await sharp(opaque, opaqueRaw).tiff({ compression: 'lzw' }).toBuffer(),
    };
    for (const [name, buffer] of Object.entries(encoded)) {
      const plane = await decodeImage(buffer, name);
      const bytes = planeToBytes(plane);
      let err = 0;
      for (let i = 0; i < opaque.length; i++) err = Math.max(err, Math.abs(bytes[i] - opaque[i]));
      expect(err, name).toBeLessThanOrEqual(name === 'a.jpg' ? 16 : 0);
    }
    // Two-frame GIF: red then blue; the first frame is decoded.
    const frame = (r: number, b: number) => Buffer.alloc(W * H * 4, 0).map((_, i) => [r, 0, b, 255][i % 4]);
    const animated = await sharp(Buffer.concat([frame(255, 0), frame(0, 255)]), {
      raw: { width: W, height: 2 * H, channels: 4, pageHeight: H } as never,
    }).gif().toBuffer();
    expect((await sharp(animated).metadata()).pages).toBe(2);
    const plane = await decodeImage(animated, 'a.gif');
    expect([plane.width, plane.height]).toEqual([W, H]);
    expect(pixel(plane, 3, 3)).toEqual([255, 0, 0]);
  });

  test('as bytes with alpha: RGBA kept as is (hint layers), alpha 255 where the file has none', async () => {
    const src = rgba();
    const layer = await decodeImageBytes(await sharp(src, raw).png().toBuffer(), 'hints.png', { alpha: true });
    expect([layer.width, layer.height, layer.channels]).toEqual([W, H, 4]);
    expect([...layer.data]).toEqual([...src]);
    const opaque = await decodeImageBytes(await sharp(src, raw).removeAlpha().toColourspace('b-w').png().toBuffer(), 'grey.png', { alpha: true });
    expect(opaque.channels).toBe(4);
    expect(opaque.data.filter((_, i) => i % 4 === 3).every((v) => v === 255)).toBe(true);
  });

  test('EXIF orientation is applied', async () => {
    const src = rgba();
    const jpeg = await sharp(src, raw).removeAlpha().jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
    expect((await sharp(jpeg).metadata()).orientation).toBe(6);
    const plane = await decodeImage(jpeg, 'rotated.jpg');
    expect([plane.width, plane.height]).toEqual([H, W]); // orientation 6: rotate 90° clockwise
    // The top-left of the rotated image is the original bottom-left pixel.
    const want = expectedRgb(src, 2, H - 1);
    const got = pixel(plane, 0, 2);
    got.forEach((v, c) => expect(Math.abs(v - want[c])).toBeLessThanOrEqual(12));
  });
});

describe('bad files give one clear error naming the file', () => {
  const cases: [string, () => Promise<Buffer>, RegExp][] = [
    ['empty.png', async () => Buffer.alloc(0), /empty\.png: is empty \(0 bytes\)/],
    ['notes.png', async () => Buffer.from('this is a text file, not a picture\n'), /notes\.png: is not an image/],
    ['truncated.png', async () => {
      const noise = Buffer.from(Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 7919) % 251));
      const png = await sharp(noise, { raw: { width: 64, height: 64, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
      return png.subarray(0, Math.floor(png.length / 2));
    }, /truncated\.png: cannot be decoded.*truncated or corrupt/],
    ['bomb.png', async () => pngHeaderClaiming(30000, 30000), /bomb\.png: is 30000×30000 = 900\.0 megapixels, over the limit of 100\.0/],
  ];
  for (const [name, make, pattern] of cases) {
    test(name, async () => {
      const file = join(dir, name);
      writeFileSync(file, await make());
      const err = await readImage(file).catch((e) => e);
      expect(err).toBeInstanceOf(ImageError);
      expect(err.message).toMatch(pattern);
      expect(err.message.split('\n')).toHaveLength(1);
    });
  }

  test('the pixel limit is configurable and checked before decoding', async () => {
    const png = await sharp(rgba(), raw).png().toBuffer();
    await expect(decodeImage(png, 'small.png', { maxPixels: W * H - 1 })).rejects.toThrow(/over the limit/);
    await expect(decodeImage(png, 'small.png', { maxPixels: W * H })).resolves.toBeTruthy();
  });

  test('missing file and directory', async () => {
    await expect(readImage(join(dir, 'nope.png'))).rejects.toThrow(/nope\.png: no such file/);
    await expect(readImage(dir)).rejects.toThrow(/is a directory/);
  });
});

/**
 * A TIFF of width×height RGBA pixels in 32-bit float samples (16 bytes a pixel), all zero, in one deflated strip:
 * a few kilobytes of file for megabytes of samples.
 */
function floatTiff(width: number, height: number): Buffer {
  const data = deflateSync(Buffer.alloc(width * height * 16));
  // [tag, type (3 SHORT, 4 LONG), count, value]; 'bits' and 'format' point at four SHORTs after the directory.
  const entries: [number, number, number, number | 'bits' | 'format' | 'data'][] = [
    [256, 4, 1, width], [257, 4, 1, height], [258, 3, 4, 'bits'], [259, 3, 1, 8 /* deflate */], [262, 3, 1, 2 /* RGB */],
    [273, 4, 1, 'data'], [277, 3, 1, 4], [278, 4, 1, height], [279, 4, 1, data.length], [284, 3, 1, 1],
    [338, 3, 1, 2 /* unassociated alpha */], [339, 3, 4, 'format'],
  ];
  const after = 8 + 2 + 12 * entries.length + 4;
  const head = Buffer.alloc(after + 16);
  head.write('II', 0, 'latin1');
  head.writeUInt16LE(42, 2);
  head.writeUInt32LE(8, 4);
  head.writeUInt16LE(entries.length, 8);
  entries.forEach(([tag, type, count, value], i) => {
    const p = 10 + 12 * i;
    const v = value === 'bits' ? after : value === 'format' ? after + 8 : value === 'data' ? after + 16 : value;
    head.writeUInt16LE(tag, p);
    head.writeUInt16LE(type, p + 2);
    head.writeUInt32LE(count, p + 4);
    if (type === 3 && count === 1) head.writeUInt16LE(v, p + 8);
    else head.writeUInt32LE(v, p + 8);
  });
  for (let c = 0; c < 4; c++) {
    head.writeUInt16LE(32, after + 2 * c); // bits per sample
    head.writeUInt16LE(3, after + 8 + 2 * c); // IEEE float
  }
  return Buffer.concat([head, data]);
}

/** A valid JPEG whose frame header (SOF0) is edited to claim width×height. */
async function jpegHeaderClaiming(width: number, height: number): Promise<Buffer> {
  const jpeg = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } }).jpeg().toBuffer();
  const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
  jpeg.writeUInt16BE(height, sof + 5);
  jpeg.writeUInt16BE(width, sof + 7);
  return jpeg;
}

describe("the decoder's memory is bounded, not only its pixel count", () => {
  let probe: Awaited<ReturnType<typeof memoryProbe>>;
  const white = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: '#ffffff' } }).png().toBuffer();
  beforeAll(async () => {
    probe = await memoryProbe(
      'decode-probe',
      `import { readFileSync } from 'node:fs';
      import { decodeImage } from './src/io/image.js';
      const [file, warmUp] = process.argv.slice(2);
      await decodeImage(readFileSync(warmUp), warmUp);
      mark();
      report(await decodeImage(readFileSync(file), file).then((p) => [p.width, p.height], (e: Error) => e.message));`,
    );
    writeFileSync(join(dir, 'tiny.png'), await white(16, 16));
  });

  test('a file whose samples take more than 8 bytes a pixel of the limit is refused from its header (a float TIFF)', async () => {
    const tiff = floatTiff(1000, 1000); // 16 MB of samples
    expect(tiff.length).toBeLessThan(64 * 1024);
    expect((await sharp(tiff).metadata()).depth).toBe('float');
    await expect(decodeImage(tiff, 'deep.tif', { maxPixels: 1.5e6 })).rejects.toThrow(
      /^deep\.tif: has 4 channels of 32-bit float samples: 16 MB for its 1000×1000 pixels, more than the 12 MB a page at the limit of 1\.5 megapixels may take/,
    );
    // Within what the limit allows, the same file decodes.
    const plane = await decodeImage(tiff, 'deep.tif', { maxPixels: 2e6 });
    expect([plane.width, plane.height, plane.channels]).toEqual([1000, 1000, 3]);
  });

  test('a page is held once while it is decoded: its float plane, 12 bytes a pixel, not bytes and floats side by side', async () => {
    const [width, height] = [6000, 6000];
    writeFileSync(join(dir, 'large.png'), await white(width, height));
    const run = probe(join(dir, 'large.png'), join(dir, 'tiny.png'));
    expect(run.result).toEqual([width, height]);
    // 12 bytes a pixel for the plane, plus libvips' buffers (12.3–12.5 measured); 14.4 before, the 8-bit RGB
    // buffer and its float copy side by side.
    expect(run.growth / (width * height)).toBeLessThan(13.5);
  });

  test('a crafted header claiming a huge page is refused at once, naming the file', async () => {
    writeFileSync(join(dir, 'bomb.jpg'), await jpegHeaderClaiming(60000, 60000));
    const run = probe(join(dir, 'bomb.jpg'), join(dir, 'tiny.png'));
    expect(run.result).toMatch(/bomb\.jpg: is 60000×60000 = 3600\.0 megapixels, over the limit of 100\.0/);
    expect(run.ms).toBeLessThan(1000);
    expect(run.growth).toBeLessThan(32 * 2 ** 20);
  });
});

describe('encoding', () => {
  test('grey and RGB PNG round trip; existing files are not overwritten', async () => {
    const grey = createPlane(5, 4, 1, Float32Array.from({ length: 20 }, (_, i) => i / 19));
    const file = join(dir, 'grey-out.png');
    await writePng(file, grey);
    const meta = await sharp(file).metadata();
    expect([meta.width, meta.height, meta.channels, meta.depth]).toEqual([5, 4, 1, 'uchar']);
    const back = toGrey(await readImage(file));
    expect([...planeToBytes(back)]).toEqual([...planeToBytes(grey)]);
    await expect(writePng(file, grey)).rejects.toThrow(/grey-out\.png: already exists; use --force/);
    await writePng(file, grey, { overwrite: true });
    const rgb = createPlane(3, 2, 3, Float32Array.from({ length: 18 }, (_, i) => i / 17));
    await writePng(join(dir, 'rgb-out.png'), rgb);
    expect([...planeToBytes(await readImage(join(dir, 'rgb-out.png')))]).toEqual([...planeToBytes(rgb)]);
    expect(readdirSync(dir)).toContain('rgb-out.png');
  });

  test('floor quantisation for the distance field', () => {
    const p = createPlane(4, 1, 1, Float32Array.from([0, 0.5, 0.999, 1]));
    expect([...planeToBytes(p, 'floor')]).toEqual([0, 127, 254, 255]);
    expect([...planeToBytes(p)]).toEqual([0, 128, 255, 255]);
  });
});
