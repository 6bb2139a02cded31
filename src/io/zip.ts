// Reading entries of a ZIP archive (a CBZ chapter, a zipped data set) one at a time from disk: the central
// directory is read once, each entry's bytes only when asked for, so an archive never has to fit in memory.
// Sizes, limits and CRC-32 are checked by src/io/zip-format.ts; no ZIP64 or encryption (refused, naming the
// archive or the entry).
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import {
  ARCHIVE_LIMITS,
  decodeEntry,
  entryDataStart,
  LOCAL_HEADER_BYTES,
  locateCentralDirectory,
  MAX_TAIL_BYTES,
  parseCentralDirectory,
  ZipError,
  type ZipEntry,
  type ZipLimits,
} from './zip-format.js';

export { ZipError, type ZipEntry } from './zip-format.js';

export interface ZipArchive {
  entries: ZipEntry[];
  /** The entry's content; a ZipError naming the archive, the entry and the fault when it cannot be read. */
  read(entry: ZipEntry): Promise<Uint8Array>;
  /** The entry's bytes as stored (compressed when deflated), to copy it into another archive unchanged. */
  readRaw(entry: ZipEntry): Promise<Uint8Array>;
  close(): Promise<void>;
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

export async function openZip(file: string, limits: ZipLimits = ARCHIVE_LIMITS): Promise<ZipArchive> {
  // Without blocking: a FIFO named like an archive is refused below instead of waited on forever.
  const fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = await fh.stat();
    if (!info.isFile()) throw new ZipError(`${file}: not a regular file.`);
    const size = info.size;
    const tail = await readAt(fh, Math.max(0, size - MAX_TAIL_BYTES), Math.min(size, MAX_TAIL_BYTES));
    const cd = locateCentralDirectory(tail, size, file);
    const entries = parseCentralDirectory(await readAt(fh, cd.offset, cd.size), cd.count, size, limits, file);
    const raw = async (entry: ZipEntry): Promise<Uint8Array> => {
      const start = entry.problem ?? entryDataStart(await readAt(fh, entry.localHeaderOffset, LOCAL_HEADER_BYTES), entry, size);
      if (typeof start === 'string') throw new ZipError(`${file}: ${entry.name} ${start}.`);
      return readAt(fh, start, entry.compressedSize);
    };
    return {
      entries,
      async read(entry) {
        const bytes = decodeEntry(entry, await raw(entry));
        if (typeof bytes === 'string') throw new ZipError(`${file}: ${entry.name} ${bytes}.`);
        return bytes;
      },
      readRaw: raw,
      close: () => fh.close(),
    };
  } catch (e) {
    await fh.close();
    throw e;
  }
}
