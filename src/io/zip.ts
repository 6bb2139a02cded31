// Reading entries of a ZIP archive (a CBZ chapter, a zipped data set) one at a time from disk: the central
// directory is read once, each entry's bytes only when asked for, so an archive never has to fit in memory.
// Sizes, limits and CRC-32 are checked by src/io/zip-format.ts; no ZIP64 or encryption (refused, naming the
// archive or the entry). The limits are flags of the commands that read archives (ARCHIVE_LIMIT_FLAGS).
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
import { parseNumberFlag, type FlagSpec } from './flags.js';

export { ZipError, type ZipEntry } from './zip-format.js';

const MiB = 2 ** 20;

/**
 * The archive limits as flags of the commands that read chapters (colorize, prepare-data), each with its range:
 * an archive without ZIP64 has at most 65,534 entries of under 4 GiB each.
 */
const LIMIT_FLAGS: { flag: FlagSpec; key: keyof ZipLimits; unit: number; max: number }[] = [
  { key: 'maxEntries', unit: 1, max: 65_534, flag: { name: 'archive-max-entries', value: 'N', help: `read archives of at most N entries (default ${ARCHIVE_LIMITS.maxEntries}, at most 65534)` } },
  { key: 'maxEntryBytes', unit: MiB, max: 4095, flag: { name: 'archive-max-entry-mib', value: 'N', help: `an entry may unpack to at most N MiB (default ${ARCHIVE_LIMITS.maxEntryBytes / MiB}, at most 4095)` } },
  { key: 'maxTotalBytes', unit: 1024 * MiB, max: 1024, flag: { name: 'archive-max-total-gib', value: 'N', help: `an archive may unpack to at most N GiB in all (default ${ARCHIVE_LIMITS.maxTotalBytes / 1024 / MiB}, at most 1024)` } },
  { key: 'maxRatio', unit: 1, max: 10_000, flag: { name: 'archive-max-ratio', value: 'N', help: `an entry above 1 MiB may unpack to at most N times its packed size (default ${ARCHIVE_LIMITS.maxRatio}, at most 10000)` } },
];

export const ARCHIVE_LIMIT_FLAGS: readonly FlagSpec[] = LIMIT_FLAGS.map((l) => l.flag);

/** ARCHIVE_LIMITS with the values given by ARCHIVE_LIMIT_FLAGS; a FlagError naming the flag for a value out of range. */
export function archiveLimitsFromFlags(values: ReadonlyMap<string, string>): ZipLimits {
  const limits = { ...ARCHIVE_LIMITS };
  for (const { flag, key, unit, max } of LIMIT_FLAGS) {
    const text = values.get(flag.name);
    if (text !== undefined) limits[key] = unit * parseNumberFlag(flag.name, text, { min: 1, max, integer: true });
  }
  return limits;
}

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
