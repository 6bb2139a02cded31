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

/** A chapter is unpacked into memory at once: the command line's limits, with a whole archive of at most 2 GiB. */
const CHAPTER_LIMITS: ZipLimits = { ...ARCHIVE_LIMITS, maxTotalBytes: 2 * 1024 * 2 ** 20 };

/**
 * The images of a CBZ/ZIP chapter in natural page order (folders and other files skipped). An image entry that
 * cannot be read (damaged, encrypted, a zip bomb, a link) is left out and said in `skipped`; the others open.
 */
export function readChapter(bytes: Uint8Array, archiveName: string): { pages: PageSource[]; skipped: string[] } {
  let zip: ReturnType<typeof readZipBytes>;
  try {
    zip = readZipBytes(bytes, CHAPTER_LIMITS, archiveName);
  } catch (e) {
    throw new Error(`${archiveName} is not a readable CBZ/ZIP archive (${(e as Error).message}).`);
  }
  const images = zip.entries.filter((e) => IMAGE_EXTENSIONS.test(e.name) && !e.name.startsWith('__MACOSX/')).sort((a, b) => naturalCompare(a.name, b.name));
  const pages: PageSource[] = [];
  const skipped: string[] = [];
  for (const entry of images) {
    try {
      const data = zip.read(entry);
      const ext = entry.name.split('.').pop()!.toLowerCase();
      pages.push({ name: entry.name, blob: new Blob([data as Uint8Array<ArrayBuffer>], { type: MIME[ext] }) });
    } catch (e) {
      skipped.push((e as Error).message);
    }
  }
  if (!pages.length) {
    throw new Error(`${archiveName} holds no images (PNG, JPEG, WebP, GIF, BMP, AVIF)${skipped.length ? ` it can read: ${skipped.join(' ')}` : '.'}`);
  }
  return { pages, skipped };
}

/** A chapter archive of PNG pages (stored, not deflated: PNG is compressed already). */
export function writeChapter(pages: { name: string; png: Uint8Array }[]): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0 }]> = {};
  for (const p of pages) files[p.name] = [p.png, { level: 0 }];
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
