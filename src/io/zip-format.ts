// The ZIP format itself, without files: the central directory parsed and checked against the archive's size
// before anything is allocated, one entry's bytes decoded (stored or deflate) into a buffer of its declared size
// and checked against its CRC-32. Isomorphic: src/io/zip.ts reads CBZ chapters from disk with it, the PyTorch
// reader (src/io/torch.ts) reads a .pth held in memory, in Node and in the browser, and the app its chapters
// (web/files.ts).
// A fault in one entry (encrypted, unsupported method, sizes beyond the limits, truncated, CRC mismatch) is that
// entry's `problem`, so the rest of the archive can still be read; a fault in the directory refuses the archive.
import { inflateSync } from 'fflate';

export interface ZipEntry {
  name: string;
  /** Uncompressed size in bytes, as the directory declares it. */
  size: number;
  compressedSize: number;
  method: number;
  flags: number;
  crc32: number;
  localHeaderOffset: number;
  /** Why this entry cannot be read (checked from the directory alone), or null. */
  problem: string | null;
}

/** Bounds on what an archive may ask of memory: a small crafted file must not become gigabytes (zip bombs). */
export interface ZipLimits {
  maxEntries: number;
  /** The largest uncompressed entry. */
  maxEntryBytes: number;
  /** The sum of the uncompressed sizes of all entries. */
  maxTotalBytes: number;
  /** The largest uncompressed/compressed ratio of an entry larger than 1 MiB (images barely compress). */
  maxRatio: number;
}

const MiB = 2 ** 20;

/** Chapters (CBZ) and zipped data sets: pages are compressed images, a few hundred per chapter. */
export const ARCHIVE_LIMITS: ZipLimits = { maxEntries: 20_000, maxEntryBytes: 512 * MiB, maxTotalBytes: 16 * 1024 * MiB, maxRatio: 100 };

export class ZipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipError';
  }
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
export const LOCAL_HEADER_BYTES = 30;
/** The end-of-central-directory record: 22 bytes plus a comment of up to 65535. */
export const MAX_TAIL_BYTES = 22 + 65535;

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Where the central directory is, from the archive's last bytes (`tail` ends at the end of the file). */
export function locateCentralDirectory(tail: Uint8Array, fileSize: number, label: string): { count: number; offset: number; size: number } {
  const v = view(tail);
  for (let i = tail.length - 22; i >= 0; i--) {
    if (v.getUint32(i, true) !== EOCD) continue;
    const count = v.getUint16(i + 10, true);
    const size = v.getUint32(i + 12, true);
    const offset = v.getUint32(i + 16, true);
    if (count === 0xffff || offset === 0xffffffff || size === 0xffffffff) throw new ZipError(`${label}: ZIP64 archives are not supported; re-pack it or extract it to a folder.`);
    if (offset + size > fileSize - (tail.length - i)) {
      throw new ZipError(`${label}: damaged ZIP archive: its central directory (${size} bytes at ${offset}) lies beyond the ${fileSize}-byte file.`);
    }
    return { count, offset, size };
  }
  throw new ZipError(`${label}: not a ZIP archive (no end-of-central-directory record).`);
}

const mib = (n: number) => `${(n / MiB).toFixed(n < 10 * MiB ? 1 : 0)} MiB`;

/** The entries of a central directory, each checked against the file and the limits. */
export function parseCentralDirectory(cd: Uint8Array, count: number, fileSize: number, limits: ZipLimits, label: string): ZipEntry[] {
  if (count > limits.maxEntries) throw new ZipError(`${label}: the archive has ${count} entries; at most ${limits.maxEntries} are read.`);
  const v = view(cd);
  const entries: ZipEntry[] = [];
  let total = 0;
  for (let p = 0, i = 0; i < count; i++) {
    if (p + 46 > cd.length || v.getUint32(p, true) !== CENTRAL) throw new ZipError(`${label}: damaged ZIP central directory (entry ${i}).`);
    const nameLength = v.getUint16(p + 28, true);
    const extraLength = v.getUint16(p + 30, true);
    const commentLength = v.getUint16(p + 32, true);
    if (p + 46 + nameLength > cd.length) throw new ZipError(`${label}: damaged ZIP central directory (entry ${i}'s name).`);
    const entry: ZipEntry = {
      flags: v.getUint16(p + 8, true),
      method: v.getUint16(p + 10, true),
      crc32: v.getUint32(p + 16, true),
      compressedSize: v.getUint32(p + 20, true),
      size: v.getUint32(p + 24, true),
      localHeaderOffset: v.getUint32(p + 42, true),
      name: new TextDecoder().decode(cd.subarray(p + 46, p + 46 + nameLength)),
      problem: null,
    };
    const madeByUnix = v.getUint8(p + 5) === 3;
    const mode = v.getUint32(p + 38, true) >>> 16;
    entry.problem = entryProblem(entry, madeByUnix && (mode & 0o170000) === 0o120000, fileSize, limits);
    if (!entry.problem) total += entry.size;
    if (total > limits.maxTotalBytes) {
      throw new ZipError(`${label}: the archive's entries declare more than ${mib(limits.maxTotalBytes)} in all (a zip bomb?); it is not read.`);
    }
    entries.push(entry);
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function entryProblem(e: ZipEntry, symlink: boolean, fileSize: number, limits: ZipLimits): string | null {
  if (symlink) return 'is a symbolic link, which is not followed';
  if (e.flags & 1) return 'is encrypted';
  if (e.method !== 0 && e.method !== 8) return `uses compression method ${e.method}; only stored and deflate are supported`;
  if (e.localHeaderOffset + LOCAL_HEADER_BYTES + e.compressedSize > fileSize) {
    return `declares ${e.compressedSize} bytes at byte ${e.localHeaderOffset}, beyond the ${fileSize}-byte archive (damaged or truncated)`;
  }
  if (e.method === 0 && e.size !== e.compressedSize) return `is stored but declares ${e.compressedSize} bytes stored and ${e.size} unpacked (damaged)`;
  if (e.size > limits.maxEntryBytes) return `would unpack to ${mib(e.size)}, more than the ${mib(limits.maxEntryBytes)} an entry may have`;
  if (e.size > MiB && e.size > limits.maxRatio * Math.max(1, e.compressedSize)) {
    return `would unpack ${e.compressedSize} bytes to ${mib(e.size)}, more than ${limits.maxRatio}× (a zip bomb?)`;
  }
  return null;
}

/** Where an entry's data starts, from its 30-byte local header. */
export function entryDataStart(local: Uint8Array, entry: ZipEntry, fileSize: number): number | string {
  if (local.length < LOCAL_HEADER_BYTES || view(local).getUint32(0, true) !== LOCAL) return 'has a damaged local header';
  const start = entry.localHeaderOffset + LOCAL_HEADER_BYTES + view(local).getUint16(26, true) + view(local).getUint16(28, true);
  if (start + entry.compressedSize > fileSize) return 'is truncated (its data runs past the end of the archive)';
  return start;
}

/** An entry's content from its stored bytes, checked against its declared size and CRC-32. */
export function decodeEntry(entry: ZipEntry, data: Uint8Array): Uint8Array | string {
  if (entry.problem) return entry.problem;
  if (data.length !== entry.compressedSize) return 'is truncated';
  let bytes = data;
  if (entry.method === 8) {
    try {
      bytes = inflateSync(data, { out: new Uint8Array(entry.size) });
    } catch (e) {
      return `cannot be inflated (${(e as Error).message}): damaged or truncated`;
    }
  }
  if (bytes.length !== entry.size) return `unpacked to ${bytes.length} bytes, but the archive declares ${entry.size} (damaged)`;
  if (crc32(bytes) !== entry.crc32) return 'fails its CRC-32 check (damaged)';
  return bytes;
}

/** CRC-32 lookup tables for slicing by 4 (table k advances a byte k more positions); built on first use. */
let crcTables: Uint32Array[] | null = null;

function buildCrcTables(): Uint32Array[] {
  const t = [0, 1, 2, 3].map(() => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[0][n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) for (let k = 1; k < 4; k++) t[k][n] = (t[k - 1][n] >>> 8) ^ t[0][t[k - 1][n] & 0xff];
  return t;
}

/** CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as ZIP stores it; `crc` continues an earlier one. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  const [t0, t1, t2, t3] = (crcTables ??= buildCrcTables());
  let c = ~crc >>> 0;
  let i = 0;
  // Four bytes per step: a checkpoint of hundreds of megabytes is checked in well under a second.
  for (const end = bytes.length - 3; i < end; i += 4) {
    c ^= bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    c = t3[c & 0xff] ^ t2[(c >>> 8) & 0xff] ^ t1[(c >>> 16) & 0xff] ^ t0[c >>> 24];
  }
  for (; i < bytes.length; i++) c = t0[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** An archive held in memory: its entries and a reader that throws a ZipError naming the entry and the fault. */
export function readZipBytes(bytes: Uint8Array, limits: ZipLimits, label: string): { entries: ZipEntry[]; read(entry: ZipEntry): Uint8Array } {
  const tail = bytes.subarray(Math.max(0, bytes.length - MAX_TAIL_BYTES));
  const cd = locateCentralDirectory(tail, bytes.length, label);
  const entries = parseCentralDirectory(bytes.subarray(cd.offset, cd.offset + cd.size), cd.count, bytes.length, limits, label);
  return {
    entries,
    read(entry) {
      const start = entry.problem ?? entryDataStart(bytes.subarray(entry.localHeaderOffset, entry.localHeaderOffset + LOCAL_HEADER_BYTES), entry, bytes.length);
      const out = typeof start === 'string' ? start : decodeEntry(entry, bytes.subarray(start, start + entry.compressedSize));
      if (typeof out === 'string') throw new ZipError(`${label}: ${entry.name} ${out}.`);
      return out;
    },
  };
}

/**
 * An entry's name as it may be written into another archive: forward slashes, no drive letter, no leading
 * slash, no "." or ".." segments, so no extracting tool can be led outside its folder. Null when nothing is left.
 */
export function safeEntryName(name: string): string | null {
  const folder = /[/\\]$/.test(name);
  const parts = name
    .replaceAll('\\', '/')
    .replace(/^[a-zA-Z]:/, '')
    .split('/')
    .filter((part) => part && part !== '.' && part !== '..');
  return parts.length ? parts.join('/') + (folder ? '/' : '') : null;
}
