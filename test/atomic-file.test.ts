import * as nodeFs from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { FileWriteError, isTemporaryName, temporaryPath, writeFileAtomic, type AtomicFileSystem } from '../src/io/atomic-file.js';

const dir = () => mkdtempSync(join(tmpdir(), 'atomic-'));

describe('writeFileAtomic', () => {
  test('replaces the file with the whole new content and leaves no temporary', () => {
    const d = dir();
    const file = join(d, 'a.json');
    writeFileSync(file, 'old');
    writeFileAtomic(file, '{"new": true}');
    expect(readFileSync(file, 'utf8')).toBe('{"new": true}');
    expect(readdirSync(d)).toEqual(['a.json']);
  });

  test('a write that fails midway (disk full) keeps the old file and removes the partial temporary', () => {
    const d = dir();
    const file = join(d, 'weights.safetensors');
    writeFileSync(file, 'previous');
    const full: AtomicFileSystem = {
      ...nodeFs,
      writeSync: ((fd: number, bytes: Uint8Array, offset: number, length: number): number => {
        nodeFs.writeSync(fd, bytes, offset, Math.min(length, 3));
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }) as AtomicFileSystem['writeSync'],
    };
    let error: unknown;
    try {
      writeFileAtomic(file, new Uint8Array(1000), full);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FileWriteError);
    expect((error as FileWriteError).code).toBe('ENOSPC');
    expect((error as Error).message).toBe(`Could not write ${file}: the disk is full. Nothing was replaced.`);
    expect(readFileSync(file, 'utf8')).toBe('previous');
    expect(readdirSync(d)).toEqual(['weights.safetensors']);
  });

  test('temporary names are hidden, per process, and recognised by suffix', () => {
    const name = basename(temporaryPath('/x/step-00000010.safetensors'));
    expect(name).toBe(`.step-00000010.safetensors.${process.pid}.tmp`);
    expect(isTemporaryName(name, '.safetensors')).toBe(true);
    expect(isTemporaryName('step-00000010.safetensors', '.safetensors')).toBe(false);
    expect(isTemporaryName('.notes.txt.12.tmp', '.safetensors')).toBe(false);
  });
});
