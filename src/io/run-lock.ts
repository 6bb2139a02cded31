// One process per run folder: two trainers on one --out would interleave their logs and checkpoints. The lock
// is a file holding the owner's pid, created exclusively; a lock whose process is gone (a crash, kill -9, a
// reboot) is stale and taken over, saying so.
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export const LOCK_NAME = 'run.lock';

export class RunLockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunLockError';
  }
}

interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

/** Whether a process with this pid runs on this machine (EPERM: it does, under another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(path: string): LockOwner | null {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
    return Number.isSafeInteger(owner.pid) ? owner : null;
  } catch {
    return null;
  }
}

/**
 * Takes the lock of `dir` for this process until it exits. Throws a RunLockError naming the other process when
 * one holds it; returns a note when a stale lock was taken over.
 */
export function acquireRunLock(dir: string, what: string): { note: string | null; release(): void } {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_NAME);
  const me: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  let note: string | null = null;
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, JSON.stringify(me));
      } finally {
        closeSync(fd);
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
    }
    const owner = readOwner(path);
    if (owner && owner.host === me.host && owner.pid !== process.pid && processAlive(owner.pid)) {
      throw new RunLockError(
        `${dir} is in use by another ${what} (pid ${owner.pid}, since ${owner.since}). Wait for it to finish or choose another folder; ` +
          `if no such process runs, delete ${path}.`,
      );
    }
    if (owner && owner.host !== me.host) {
      throw new RunLockError(`${dir} is locked by a ${what} on ${owner.host} (pid ${owner.pid}); if it no longer runs, delete ${path}.`);
    }
    note = `took over the stale lock ${path}${owner ? ` of pid ${owner.pid}, which no longer runs` : ' (unreadable)'}`;
    unlinkSync(path);
  }
  const release = () => {
    if (readOwner(path)?.pid === process.pid) {
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    }
    process.removeListener('exit', release);
  };
  process.on('exit', release);
  return { note, release };
}
