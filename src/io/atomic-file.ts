// The one way files are written where a half-written file would lose work or mislead (checkpoints, exported and
// converted weights, coloured pages, data-set manifests): the bytes go to a hidden temporary file beside the
// target, which is fsync'ed and renamed over the target (atomic within one file system), then the directory is
// fsync'ed. A crash, Ctrl-C or a full disk leaves the old file (or none) and at most a stale temporary.
import * as nodeFs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { processAlive } from './run-lock.js';

/** The file operations used here: Node's fs by default, a failing one in tests. */
export type AtomicFileSystem = Pick<typeof nodeFs, 'openSync' | 'writeSync' | 'fsyncSync' | 'closeSync' | 'renameSync' | 'unlinkSync'>;

/** Hidden and per process, so two processes writing the same target never share a temporary. */
export const temporaryPath = (path: string) => join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);

/** Whether `name` (a bare file name) is a temporary of `temporaryPath` for a target ending in `suffix`. */
export const isTemporaryName = (name: string, suffix = '') => name.startsWith('.') && new RegExp(`${suffix.replace(/\./g, '\\.')}\\.\\d+\\.tmp$`).test(name);

export class FileWriteError extends Error {
  constructor(
    readonly path: string,
    /** The system error code (ENOSPC, EACCES, …) when there was one. */
    readonly code: string | undefined,
    /** What went wrong, in words ("the disk is full"). */
    readonly reason: string,
  ) {
    super(`Could not write ${path}: ${reason}. Nothing was replaced.`);
    this.name = 'FileWriteError';
  }
}

function describe(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC') return 'the disk is full';
  if (code === 'EDQUOT') return 'the disk quota is exceeded';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOENT') return 'its folder does not exist';
  return (e as Error).message;
}

/**
 * Removes the temporaries in `dir` whose writer no longer runs (a crash, a closed terminal, kill -9 between
 * write and rename); a running process's temporaries are left alone. Returns the names removed.
 */
export function removeStaleTemporaries(dir: string): string[] {
  let names: string[];
  try {
    names = nodeFs.readdirSync(dir);
  } catch {
    return [];
  }
  const stale = names.filter((name) => {
    const pid = /^\..+\.(\d+)\.tmp$/.exec(name)?.[1];
    return pid !== undefined && Number(pid) !== process.pid && !processAlive(Number(pid));
  });
  for (const name of stale) ignoreErrors(() => nodeFs.unlinkSync(join(dir, name)));
  return stale;
}

/** Writes all of `bytes` at the file's current position (writeSync may write less than asked). */
export function writeAll(fd: number, bytes: Uint8Array, fs: Pick<AtomicFileSystem, 'writeSync'> = nodeFs): void {
  for (let at = 0; at < bytes.length; ) at += fs.writeSync(fd, bytes, at, bytes.length - at);
}

/** Replaces `path` with `content` so that a reader sees either the old file or the whole new one. */
export function writeFileAtomic(path: string, content: Uint8Array | string, fs: AtomicFileSystem = nodeFs): void {
  writeFilesAtomic([[path, content]], fs);
}

/**
 * Replaces several files together: every temporary is written and synced before the first rename, so a failure
 * on any of them (a full disk, a missing folder) leaves all the old files as they were.
 */
export function writeFilesAtomic(files: readonly [path: string, content: Uint8Array | string][], fs: AtomicFileSystem = nodeFs): void {
  const written: string[] = [];
  for (const [path, content] of files) {
    const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
    const temporary = temporaryPath(path);
    let fd: number | null = null;
    try {
      fd = fs.openSync(temporary, 'w');
      written.push(temporary);
      writeAll(fd, bytes, fs);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fd = null;
    } catch (e) {
      if (fd !== null) ignoreErrors(() => fs.closeSync(fd!));
      for (const t of written) ignoreErrors(() => fs.unlinkSync(t));
      throw new FileWriteError(path, (e as NodeJS.ErrnoException).code, describe(e));
    }
  }
  for (const [i, [path]] of files.entries()) {
    try {
      fs.renameSync(written[i], path);
    } catch (e) {
      for (const t of written.slice(i)) ignoreErrors(() => fs.unlinkSync(t));
      throw new FileWriteError(path, (e as NodeJS.ErrnoException).code, describe(e));
    }
  }
  // The renames are durable once the directory entries are on disk.
  for (const dir of new Set(files.map(([path]) => dirname(path)))) {
    ignoreErrors(() => {
      const fd = fs.openSync(dir, 'r');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    });
  }
}

function ignoreErrors(fn: () => void): void {
  try {
    fn();
  } catch {
    // best effort: the write itself already succeeded or already failed with its own error
  }
}
