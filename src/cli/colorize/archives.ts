// CBZ/ZIP chapters for `npm run colorize`, in and out. In: the entries of an input archive under the names they may
// have in the output (src/io/zip-format.ts, safeEntryName), the image entries marked as pages, each read on demand
// (src/io/zip.ts checks its sizes, method and CRC-32 then). Out: a CBZ streamed entry by entry into a hidden
// temporary file and renamed into place when whole; an interrupted run removes the temporaries it was writing.
import { closeSync, mkdirSync, openSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import { temporaryPath, writeAll } from '../../io/atomic-file.js';
import { isImageName } from '../../io/dataset.js';
import { openZip } from '../../io/zip.js';
import { safeEntryName, type ZipLimits } from '../../io/zip-format.js';
import { UsageError } from '../command.js';

/** Resource forks macOS adds to archives: named like images, but not pages. */
const isJunk = (name: string) => /(^|\/)__MACOSX\//.test(name) || basename(name).startsWith('._');

/** An entry of an input archive: `name` is its safe name in the output; a page is an image entry to colour. */
export interface ArchiveEntry {
  name: string;
  isPage: boolean;
  read(): Promise<Uint8Array>;
}

/** An input archive, open until `close`. */
export interface ArchiveInput {
  entries: ArchiveEntry[];
  close(): Promise<void>;
}

/** Opens an input archive; one that cannot be opened (damaged, over the limits) is a usage error naming it. */
export async function openArchiveInput(input: string, limits: ZipLimits): Promise<ArchiveInput> {
  const zip = await openZip(input, limits).catch((e: Error) => {
    throw new UsageError(e.message);
  });
  const entries = zip.entries.flatMap((entry): ArchiveEntry[] => {
    const name = safeEntryName(entry.name);
    if (name === null) return [];
    return [{ name, isPage: !name.endsWith('/') && isImageName(name) && !isJunk(name), read: () => zip.read(entry) }];
  });
  return { entries, close: () => zip.close() };
}

/** CBZs being streamed into their temporary files, removed if the process is interrupted. */
const temporaries = new Set<string>();

/** A CBZ written entry by entry into its temporary file; `finish` renames it into place. */
export function archiveWriter(path: string): { add(name: string, bytes: Uint8Array, compress?: boolean): void; finish(): void; abort(): void } {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = temporaryPath(path);
  temporaries.add(temporary);
  const fd = openSync(temporary, 'w');
  let failure: Error | null = null;
  // Pages are already compressed images: stored entries cost nothing to write and nothing to read. Other entries
  // (ComicInfo.xml) are deflated again, so what came in compressed never goes out inflated.
  const zip = new Zip((err, chunk) => {
    if (err) failure ??= err;
    else writeAll(fd, chunk);
  });
  const close = () => {
    closeSync(fd);
    temporaries.delete(temporary);
  };
  return {
    add(name, bytes, compress = false) {
      const entry = compress ? new ZipDeflate(name) : new ZipPassThrough(name);
      zip.add(entry);
      entry.push(bytes, true);
      if (failure) throw failure;
    },
    finish() {
      zip.end();
      close();
      if (failure) {
        rmSync(temporary, { force: true });
        throw new Error(`Cannot write ${path}: ${failure.message}`);
      }
      renameSync(temporary, path);
    },
    abort() {
      close();
      rmSync(temporary, { force: true });
    },
  };
}

/** Interrupted (Ctrl-C, kill): remove what was being written, then exit as interrupted. */
export function removeTemporariesOnSignal(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const file of temporaries) rmSync(file, { force: true });
      process.stderr.write(`\ninterrupted: no partial files were left; finished pages are kept.\n`);
      process.exit(130);
    });
  }
}
