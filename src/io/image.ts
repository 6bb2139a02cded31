// Image files ↔ planes in Node, through sharp (libvips). Decoding normalises every input the pipeline may meet
// — PNG, JPEG, WebP, TIFF, GIF (first frame); grey, grey+alpha, RGB, RGBA, 16-bit, CMYK — to 8-bit sRGB with
// alpha composited on white and the EXIF orientation applied, then to a float plane in [0, 1] (or, for a hint
// layer, 8-bit RGBA). The header is checked first: pixels against --max-megapixels, the file's own samples
// against SAMPLE_BYTES_PER_PIXEL of it; then the decode holds the result once.
import { writeFile } from 'node:fs/promises';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { MAX_PAGE_BYTES, readInputFile } from './input-file.js';
import { createPlane, planeFromBytes, planeToBytes, type Plane } from '../data/plane.js';

/** Default decompression-bomb limit: 100 megapixels (a 600 dpi A3 scan is ~70). */
export const DEFAULT_MAX_PIXELS = 100_000_000;
/**
 * The highest --max-megapixels accepted. A page is decoded into one buffer of float RGB, 12 bytes a pixel, and
 * Node's largest buffer is 4 GiB (and a page takes about 50 bytes a pixel while it is coloured).
 */
export const MAX_MEGAPIXELS_OPTION = 350;
/**
 * What a file's own samples may take per pixel of the limit: RGBA at 16 bits, the deepest ordinary page. Deeper
 * files (32-bit or float TIFFs) are refused from the header when their samples would take more than the limit's
 * worth of these: libvips holds a whole image's samples while it rotates it (EXIF orientation; a rotated
 * 3000×3000 float RGBA TIFF took 140 MB beyond its plane, measured).
 */
export const SAMPLE_BYTES_PER_PIXEL = 8;

/** The pixel limit from a --max-megapixels value, or why the value is refused (every command reads it alike). */
export function parseMaxMegapixels(text: string): number | string {
  const n = Number(text);
  return text.trim() !== '' && n > 0 && n <= MAX_MEGAPIXELS_OPTION
    ? n * 1e6
    : `--max-megapixels must be a number of megapixels above 0 and at most ${MAX_MEGAPIXELS_OPTION}, got "${text}".`;
}

export class ImageError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'ImageError';
  }
}

export interface DecodeOptions {
  /** Refuse images with more pixels than this, or samples beyond SAMPLE_BYTES_PER_PIXEL of it, before any pixel is decoded. */
  maxPixels?: number;
}

export interface ByteDecodeOptions extends DecodeOptions {
  /**
   * Keep transparency: RGBA (alpha 255 where the file has none) instead of RGB composited on white; 'required'
   * refuses a file without an alpha channel (a hint layer, where opaque pixels are hints).
   */
  alpha?: boolean | 'required';
}

/** 8-bit samples as decoded, interleaved: pixel (x, y) channel c at (y·width + x)·channels + c. */
export interface ImageBytes {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}

/** Reads and decodes an image file as an RGB plane. Every failure is one ImageError naming the file. */
export async function readImage(file: string, options: DecodeOptions = {}): Promise<Plane> {
  let bytes: Buffer;
  try {
    bytes = readInputFile(file, MAX_PAGE_BYTES);
  } catch (e) {
    throw new ImageError(file, (e as Error).message.slice(file.length + 2));
  }
  return decodeImage(bytes, file, options);
}

/**
 * Decodes image bytes to an RGB plane; `name` is used in error messages. libvips turns the 8-bit result into
 * floats itself and the values are scaled in place, so the page is held once, as the plane (12 bytes a pixel),
 * never as bytes and floats side by side.
 */
export async function decodeImage(bytes: Uint8Array, name: string, options: DecodeOptions = {}): Promise<Plane> {
  const { data, info } = await decode(bytes, name, options, 'float');
  const buffer = data.byteOffset % 4 ? data.buffer.slice(data.byteOffset, data.byteOffset + data.length) : data.buffer;
  const values = new Float32Array(buffer, data.byteOffset % 4 ? 0 : data.byteOffset, data.length / 4);
  for (let i = 0; i < values.length; i++) values[i] /= 255; // the float32 nearest v/255, as planeFromBytes gives
  return createPlane(info.width, info.height, info.channels, values);
}

/** Decodes image bytes to 8-bit samples (a hint layer: RGBA, a quarter of a float plane's memory). */
export async function decodeImageBytes(bytes: Uint8Array, name: string, options: ByteDecodeOptions = {}): Promise<ImageBytes> {
  const { data, info } = await decode(bytes, name, options, 'uchar');
  return { width: info.width, height: info.height, channels: info.channels, data };
}

/** Bytes per sample of sharp's sample formats (`depth`). */
const SAMPLE_BYTES: Record<string, number> = { uchar: 1, char: 1, ushort: 2, short: 2, uint: 4, int: 4, float: 4, complex: 8, double: 8, dpcomplex: 16 };

/** The header checks, then the decode to RGB (or RGBA with `alpha`) in `depth`. */
async function decode(bytes: Uint8Array, name: string, options: ByteDecodeOptions, depth: 'uchar' | 'float'): Promise<{ data: Buffer; info: OutputInfo }> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (bytes.length === 0) throw new ImageError(name, 'is empty (0 bytes); expected a PNG, JPEG, WebP, TIFF or GIF image.');
  // The header alone says how large the image is; check it before libvips allocates anything.
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new ImageError(name, `is not an image sharp can read (${message(e)}); expected PNG, JPEG, WebP, TIFF or GIF.`);
  }
  const height = meta.pageHeight ?? meta.height;
  if (!meta.width || !height) throw new ImageError(name, 'has no width or height in its header.');
  if (options.alpha === 'required' && !meta.hasAlpha) {
    throw new ImageError(name, 'has no transparency (alpha channel): a hint image is a transparent layer in which only the painted dots are opaque.');
  }
  const megapixels = (n: number) => (n / 1e6).toFixed(1);
  if (meta.width * height > maxPixels) {
    throw new ImageError(
      name,
      `is ${meta.width}×${height} = ${megapixels(meta.width * height)} megapixels, over the limit of ` +
        `${megapixels(maxPixels)} (a decompression bomb or a huge scan); downscale it first or raise the limit.`,
    );
  }
  const sampleBytes = SAMPLE_BYTES[meta.depth ?? 'uchar'] ?? 16;
  const samples = meta.width * height * (meta.channels ?? 4) * sampleBytes;
  if (samples > SAMPLE_BYTES_PER_PIXEL * maxPixels) {
    const mb = (n: number) => `${Math.ceil(n / 1e6)} MB`;
    throw new ImageError(
      name,
      `has ${meta.channels} channels of ${8 * sampleBytes}-bit ${meta.depth} samples: ${mb(samples)} for its ${meta.width}×${height} pixels, more ` +
        `than the ${mb(SAMPLE_BYTES_PER_PIXEL * maxPixels)} a page at the limit of ${megapixels(maxPixels)} megapixels may take ` +
        `(${SAMPLE_BYTES_PER_PIXEL} bytes a pixel, 16-bit RGBA); save it with 8 or 16 bits per channel, or raise the limit.`,
    );
  }
  try {
    const decoded = sharp(bytes, { limitInputPixels: maxPixels, failOn: 'warning', pages: 1, page: 0, autoOrient: true });
    const pipeline = (options.alpha ? decoded.ensureAlpha() : decoded.flatten({ background: '#ffffff' })).toColourspace('srgb');
    const { data, info } = await pipeline.raw({ depth }).toBuffer({ resolveWithObject: true });
    const channels = options.alpha ? 4 : 3;
    if (info.channels !== channels) throw new Error(`decoded ${info.channels} channels, expected ${channels}`);
    return { data, info };
  } catch (e) {
    throw new ImageError(name, `cannot be decoded, the file may be truncated or corrupt (${message(e)}).`);
  }
}

/**
 * Renders an SVG (an OpenMoji) to a `size`×`size` RGB plane on white, at a density that draws it at that size
 * rather than scaling a small raster up.
 */
export async function renderSvg(bytes: Uint8Array, name: string, size: number): Promise<Plane> {
  try {
    const meta = await sharp(bytes).metadata();
    if (meta.format !== 'svg') throw new Error(`expected an SVG, found ${meta.format}`);
    const density = (72 * size) / Math.max(meta.width ?? size, meta.height ?? size);
    const { data, info } = await sharp(bytes, { density, failOn: 'warning' })
      .resize(size, size, { fit: 'contain', background: '#ffffff' })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return planeFromBytes(data, info.width, info.height, info.channels);
  } catch (e) {
    throw new ImageError(name, `cannot be rendered (${message(e)}).`);
  }
}

/** Output formats of encodeImage, by file extension. */
export const IMAGE_FORMATS = ['png', 'jpg', 'webp'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/**
 * Encodes a 1- or 3-channel plane as 8-bit PNG, JPEG or WebP (see planeToBytes for `quantize`). JPEG keeps full
 * chroma resolution (4:4:4) and quality 92, WebP quality 92: the default 4:2:0 subsampling would blur colour
 * edges against the ink.
 */
export async function encodeImage(plane: Plane, format: ImageFormat = 'png', quantize: 'round' | 'floor' = 'round'): Promise<Buffer> {
  if (plane.channels !== 1 && plane.channels !== 3) throw new Error(`Image output takes 1 or 3 channels, got ${plane.channels}.`);
  const raw = { width: plane.width, height: plane.height, channels: plane.channels as 1 | 3 };
  const image = sharp(planeToBytes(plane, quantize), { raw }).toColourspace(plane.channels === 1 ? 'b-w' : 'srgb');
  if (format === 'jpg') return image.jpeg({ quality: 92, chromaSubsampling: '4:4:4' }).toBuffer();
  if (format === 'webp') return image.webp({ quality: 92, smartSubsample: true }).toBuffer();
  return image.png().toBuffer();
}

/** Writes a plane as PNG. With `overwrite` false (the default) an existing file is never replaced. */
export async function writePng(file: string, plane: Plane, options: { quantize?: 'round' | 'floor'; overwrite?: boolean } = {}): Promise<void> {
  const png = await encodeImage(plane, 'png', options.quantize);
  try {
    await writeFile(file, png, { flag: options.overwrite ? 'w' : 'wx' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ImageError(file, code === 'EEXIST' ? 'already exists; use --force to overwrite it.' : `cannot be written (${message(e)}).`);
  }
}

function message(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s+$/, '');
}
