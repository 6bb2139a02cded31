// Image files ↔ planes in Node, through sharp (libvips). Decoding normalises every input the pipeline may meet
// — PNG, JPEG, WebP, TIFF, GIF (first frame); grey, grey+alpha, RGB, RGBA, 16-bit, CMYK — to 8-bit sRGB with
// alpha composited on white and the EXIF orientation applied, then to a float plane in [0, 1].
import { writeFile } from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';
import { MAX_PAGE_BYTES, readInputFile } from './input-file.js';
import { planeFromBytes, planeToBytes, type Plane } from '../data/plane.js';

/** Default decompression-bomb limit: 100 megapixels (a 600 dpi A3 scan is ~70). */
export const DEFAULT_MAX_PIXELS = 100_000_000;
/** The highest --max-megapixels accepted: a page takes about 50 bytes per pixel while it is coloured. */
export const MAX_MEGAPIXELS_OPTION = 1000;

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
  /** Refuse images with more pixels than this, before any pixel is decoded. */
  maxPixels?: number;
  /**
   * Keep transparency: RGBA (alpha 1 where the file has none) instead of RGB composited on white; 'required'
   * refuses a file without an alpha channel (a hint layer, where opaque pixels are hints).
   */
  alpha?: boolean | 'required';
}

/** Reads and decodes an image file as an RGB plane (RGBA with `alpha`). Every failure is one ImageError naming the file. */
export async function readImage(file: string, options: DecodeOptions = {}): Promise<Plane> {
  let bytes: Buffer;
  try {
    bytes = readInputFile(file, MAX_PAGE_BYTES);
  } catch (e) {
    throw new ImageError(file, (e as Error).message.slice(file.length + 2));
  }
  return decodeImage(bytes, file, options);
}

/** Decodes image bytes; `name` is used in error messages. */
export async function decodeImage(bytes: Uint8Array, name: string, options: DecodeOptions = {}): Promise<Plane> {
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
  if (meta.width * height > maxPixels) {
    throw new ImageError(
      name,
      `is ${meta.width}×${height} = ${(meta.width * height / 1e6).toFixed(1)} megapixels, over the limit of ` +
        `${(maxPixels / 1e6).toFixed(1)} (a decompression bomb or a huge scan); downscale it first or raise the limit.`,
    );
  }
  try {
    const decoded = sharp(bytes, { limitInputPixels: maxPixels, failOn: 'warning', pages: 1, page: 0, autoOrient: true });
    const pipeline = (options.alpha ? decoded.ensureAlpha() : decoded.flatten({ background: '#ffffff' })).toColourspace('srgb');
    const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    const channels = options.alpha ? 4 : 3;
    if (info.channels !== channels) throw new Error(`decoded ${info.channels} channels, expected ${channels}`);
    return planeFromBytes(data, info.width, info.height, channels);
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
