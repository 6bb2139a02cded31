// Reading entries of a ZIP archive (a CBZ chapter, a zipped data set) one at a time from disk: the central
// directory is read once, each entry's bytes only when asked for, so an archive never has to fit in memory.
// Stored and deflated entries; no ZIP64 or encryption (both are refused with a clear error).
import { open, type FileHandle } from 'node:fs/promises';
import { inflateSync } from 'fflate';

export interface ZipEntry {
  name: string;
  /** Uncompressed size in bytes. */
  size: number;
  compressedSize: number;
  method: number;
  flags: number;
  localHeaderOffset: number;
}

export interface ZipArchive {
  entries: ZipEntry[];
  read(entry: ZipEntry): Promise<Uint8Array>;
  close(): Promise<void>;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

export async function openZip(file: string): Promise<ZipArchive> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    // The end-of-central-directory record sits in the last 22 bytes plus a comment of up to 65535.
    const tailLength = Math.min(size, 22 + 65535);
    const tail = await readAt(fh, size - tailLength, tailLength);
    let at = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD) {
        at = i;
        break;
      }
    }
    if (at < 0) throw new Error(`${file}: not a ZIP archive (no end-of-central-directory record).`);
    const count = tail.readUInt16LE(at + 10);
    const cdSize = tail.readUInt32LE(at + 12);
    const cdOffset = tail.readUInt32LE(at + 16);
    if (count === 0xffff || cdOffset === 0xffffffff) throw new Error(`${file}: ZIP64 archives are not supported; re-pack it or extract it to a folder.`);
    const cd = await readAt(fh, cdOffset, cdSize);
    const entries: ZipEntry[] = [];
    for (let p = 0, i = 0; i < count; i++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL) throw new Error(`${file}: damaged ZIP central directory (entry ${i}).`);
      const nameLength = cd.readUInt16LE(p + 28);
      const extraLength = cd.readUInt16LE(p + 30);
      const commentLength = cd.readUInt16LE(p + 32);
      entries.push({
        flags: cd.readUInt16LE(p + 8),
        method: cd.readUInt16LE(p + 10),
        compressedSize: cd.readUInt32LE(p + 20),
        size: cd.readUInt32LE(p + 24),
        localHeaderOffset: cd.readUInt32LE(p + 42),
        name: cd.subarray(p + 46, p + 46 + nameLength).toString('utf8'),
      });
      p += 46 + nameLength + extraLength + commentLength;
    }
    return {
      entries,
      async read(entry) {
        if (entry.flags & 1) throw new Error(`${file}: ${entry.name} is encrypted.`);
        if (entry.method !== 0 && entry.method !== 8) throw new Error(`${file}: ${entry.name} uses compression method ${entry.method}; only stored and deflate are supported.`);
        const local = await readAt(fh, entry.localHeaderOffset, 30);
        if (local.length < 30 || local.readUInt32LE(0) !== LOCAL) throw new Error(`${file}: damaged local header of ${entry.name}.`);
        const start = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
        const data = await readAt(fh, start, entry.compressedSize);
        if (data.length !== entry.compressedSize) throw new Error(`${file}: ${entry.name} is truncated.`);
        const bytes = entry.method === 0 ? data : inflateSync(data, { out: new Uint8Array(entry.size) });
        if (bytes.length !== entry.size) throw new Error(`${file}: ${entry.name} decompressed to ${bytes.length} bytes, expected ${entry.size}.`);
        return bytes;
      },
      close: () => fh.close(),
    };
  } catch (e) {
    await fh.close();
    throw e;
  }
}
