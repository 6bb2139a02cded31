// Folders that cannot be read, for the tests of unreadable input folders. chmod 000 stops every user but root,
// and tests may run as root; a folder whose path is longer than the system's PATH_MAX (4096 bytes on Linux) cannot
// be listed by anyone, root included (ENAMETOOLONG), so it is the fixture every run can use.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** Root reads a folder whatever its mode: a chmod-based test cannot fail to read there. */
export const RUNNING_AS_ROOT = process.getuid?.() === 0;
export const ROOT_SKIP_REASON = 'skipped as root, whom chmod 000 does not stop; the too-long path covers the same failure';

/**
 * Makes `parent/name` and, inside it, a chain of folders whose full path exceeds PATH_MAX: made one relative step
 * at a time (a shell that changes into each), since no call can name the whole path. Returns `parent/name`;
 * remove it with removeTree.
 */
export function folderTooLongToRead(parent: string, name: string): string {
  const top = join(parent, name);
  mkdirSync(top);
  const step = 'd'.repeat(250);
  const depth = Math.ceil((4096 - top.length) / (step.length + 1)) + 1;
  execFileSync('bash', ['-c', `for i in $(seq ${depth}); do mkdir ${step} && cd ${step}; done; mkdir inner`], { cwd: top });
  return top;
}

/** rm -rf, which walks a tree too deep for one path relative to each folder. */
export const removeTree = (path: string) => execFileSync('rm', ['-rf', path]);
