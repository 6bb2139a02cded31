// Files in and out of the browser app: which kind a picked or dropped file is, CBZ chapters (fflate), image
// decoding to 8-bit RGBA and PNG encoding (createImageBitmap / OffscreenCanvas), and downloads.
import { zipSync } from 'fflate';
import { naturalCompare } from '../src/data/dataset.js';
import { ARCHIVE_LIMITS, readZipBytes, type ZipLimits } from '../src/io/zip-format.js';

export type FileRole = 'weights' | 'chapter' | 'image' | 'hints';

const IMAGE_EXTENSIONS = /\.(png|jpe?g|webp|gif|bmp|avif)$/i;

/** What the user meant by giving this file, from its name and type. */
export function fileRole(file: File): FileRole | null {
  const name = file.name.toLowerCase();
  if (/\.(safetensors|pth|pt|ckpt|bin|tar)$/.test(name)) return 'weights';
  if (/\.(cbz|zip)$/.test(name)) return 'chapter';
  if (name.endsWith('.json')) return 'hints';
  if (file.type.startsWith('image/') || IMAGE_EXTENSIONS.test(name)) return 'image';
  return null;
}

export interface PageSource {
  name: string;
  blob: Blob;
}

const MIME: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif', bmp: 'image/bmp', avif: 'image/avif' };

/** An archive's entry: what an exported chapter keeps in its place (ComicInfo.xml, notes, a page left as it was). */
export interface ChapterEntry {
  name: string;
  bytes: Uint8Array;
}

/**
 * A CBZ/ZIP chapter: its images in natural page order, every file entry in the archive's own order, and what could
 * not be read (a damaged, encrypted or oversized entry, a link: left out and said, the others open).
 */
export interface Chapter {
  pages: PageSource[];
  entries: ChapterEntry[];
  skipped: string[];
}

/** A chapter is unpacked into memory at once: the command line's limits, with a whole archive of at most 2 GiB. */
const CHAPTER_LIMITS: ZipLimits = { ...ARCHIVE_LIMITS, maxTotalBytes: 2 * 1024 * 2 ** 20 };

/** Images that are pages: not macOS resource forks (`__MACOSX/`, `._name`), which carry image names. */
const isPageName = (name: string) => IMAGE_EXTENSIONS.test(name) && !name.startsWith('__MACOSX/') && !name.split('/').pop()!.startsWith('._');

export function readChapter(bytes: Uint8Array, archiveName: string): Chapter {
  let zip: ReturnType<typeof readZipBytes>;
  try {
    zip = readZipBytes(bytes, CHAPTER_LIMITS, archiveName);
  } catch (e) {
    throw new Error(`${archiveName} is not a readable CBZ/ZIP archive (${(e as Error).message}).`);
  }
  const entries: ChapterEntry[] = [];
  const skipped: string[] = [];
  for (const entry of zip.entries) {
    if (entry.name.endsWith('/')) continue;
    try {
      entries.push({ name: entry.name, bytes: zip.read(entry) });
    } catch (e) {
      skipped.push((e as Error).message);
    }
  }
  const pages = entries.filter((e) => isPageName(e.name)).sort((a, b) => naturalCompare(a.name, b.name));
  if (!pages.length) {
    throw new Error(`${archiveName} holds no images (PNG, JPEG, WebP, GIF, BMP, AVIF)${skipped.length ? ` it can read: ${skipped.join(' ')}` : '.'}`);
  }
  return {
    pages: pages.map(({ name, bytes: data }) => ({ name, blob: new Blob([data as Uint8Array<ArrayBuffer>], { type: MIME[name.split('.').pop()!.toLowerCase()] }) })),
    entries,
    skipped,
  };
}

/** A chapter archive, entries in the given order, stored, not deflated (its pages are compressed already). */
export function writeChapter(entries: readonly ChapterEntry[]): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0 }]> = {};
  for (const e of entries) files[e.name] = [e.bytes, { level: 0 }];
  return zipSync(files);
}

/** A page's RGBA pixels; transparency composited on white (as the command line does). */
export async function decodeRgba(blob: Blob, name: string): Promise<ImageData> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'default', premultiplyAlpha: 'none' });
  } catch {
    throw new Error(`${name} could not be decoded as an image (PNG, JPEG, WebP, GIF, BMP or AVIF).`);
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, bitmap.width, bitmap.height);
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return ctx.getImageData(0, 0, canvas.width, canvas.height);
}

export async function encodePng(image: ImageData): Promise<Uint8Array> {
  const canvas = new OffscreenCanvas(image.width, image.height);
  canvas.getContext('2d')!.putImageData(image, 0, 0);
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  return new Uint8Array(await blob.arrayBuffer());
}

/** Offers bytes as a download. */
export function download(bytes: Uint8Array | string, name: string, type: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer> | string], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** "page 01.jpg" → "page 01"; used to name exports after their page. */
export const stem = (name: string) => name.replace(/^.*\//, '').replace(/\.[^.]+$/, '');
