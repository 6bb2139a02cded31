// The one way input files (pages, hint files, weights) are read: only regular files, up to a byte limit. A FIFO
// named like a page would block a plain read forever, a link to /dev/zero would fill memory: the file is opened
// without blocking and checked by its descriptor (so it cannot be swapped between the check and the read).
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** The largest page or hint file read (a 100-megapixel uncompressed 16-bit RGBA TIFF is 800 MB). */
export const MAX_PAGE_BYTES = 1024 * 2 ** 20;
/** The largest weights file read (the published v2 generator is about 250 MB). */
export const MAX_WEIGHTS_BYTES = 4096 * 2 ** 20;

export class InputFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'InputFileError';
  }
}

const mib = (n: number) => `${Math.round(n / 2 ** 20)} MiB`;

/** The bytes of a regular file of at most `maxBytes`; an InputFileError naming the file otherwise. */
export function readInputFile(file: string, maxBytes: number): Buffer {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputFileError(file, code === 'ENOENT' ? 'no such file.' : `cannot be opened (${code ?? (e as Error).message}).`);
  }
  try {
    const info = fstatSync(fd);
    if (info.isDirectory()) throw new InputFileError(file, 'is a directory, not a file.');
    if (!info.isFile()) throw new InputFileError(file, 'is not a regular file (a FIFO, a device or a socket); only regular files are read.');
    if (info.size > maxBytes) throw new InputFileError(file, `has ${mib(info.size)}, more than the ${mib(maxBytes)} an input file may have.`);
    const bytes = Buffer.allocUnsafe(info.size);
    let at = 0;
    while (at < bytes.length) {
      const n = readSync(fd, bytes, at, bytes.length - at, at);
      if (n === 0) break;
      at += n;
    }
    return bytes.subarray(0, at);
  } catch (e) {
    if (e instanceof InputFileError) throw e;
    throw new InputFileError(file, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
  } finally {
    closeSync(fd);
  }
}

/**
 * The real path a file is or would be written to: symbolic links resolved, for a path that does not exist yet
 * those of its nearest existing folder. Two names of one file (a link, "a/../b") give the same real path.
 */
export function realPathOf(path: string): string {
  const full = resolve(path);
  try {
    return realpathSync(full);
  } catch {
    const parent = dirname(full);
    return parent === full ? full : join(realPathOf(parent), basename(full));
  }
}
