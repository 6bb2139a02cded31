// Training runs (issue 15): one trainer per run folder (a lock with its pid; a stale lock is taken over), a torn
// last line of log.jsonl is cut on the next open, temporaries of interrupted runs are removed at the next run,
// and --resume cannot relabel a run under another preset.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { removeStaleTemporaries } from '../src/io/atomic-file.js';
import { acquireRunLock, LOCK_NAME, RunLockError } from '../src/io/run-lock.js';
import { frozenDifferences, resolveConfig, savedConfig } from '../src/train/config.js';
import { parseLog, TrainingLog } from '../src/train/log.js';

const dir = () => mkdtempSync(join(tmpdir(), 'runs-hardening-'));

/** A process that runs until killed, to own a lock or a temporary. */
function sleeper() {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  return { pid: child.pid!, stop: () => child.kill('SIGKILL') };
}

const lockOf = (pid: number) => JSON.stringify({ pid, host: hostname(), since: '2026-12-04T00:00:00.000Z' });

describe('the run lock', () => {
  test('a folder locked by a running process is refused, naming it; a stale lock is taken over', async () => {
    const out = dir();
    const other = sleeper();
    writeFileSync(join(out, LOCK_NAME), lockOf(other.pid));
    try {
      expect(() => acquireRunLock(out, 'training run')).toThrow(RunLockError);
      expect(() => acquireRunLock(out, 'training run')).toThrow(new RegExp(`in use by another training run \\(pid ${other.pid}, since`));
    } finally {
      other.stop();
    }
    await new Promise((r) => setTimeout(r, 200));
    const lock = acquireRunLock(out, 'training run');
    expect(lock.note).toMatch(new RegExp(`took over the stale lock .* of pid ${other.pid}, which no longer runs`));
    expect(JSON.parse(readFileSync(join(out, LOCK_NAME), 'utf8')).pid).toBe(process.pid);
    lock.release();
    expect(existsSync(join(out, LOCK_NAME))).toBe(false);
  });

  test('npm run train refuses a run folder another trainer holds, before opening the device', () => {
    const out = dir();
    const other = sleeper();
    writeFileSync(join(out, LOCK_NAME), lockOf(other.pid));
    try {
      const r = spawnSync(process.execPath, ['scripts/run.mjs', 'src/cli/train.ts', '--out', out, '--data', 'generated', '--preset', 'tiny'], { encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`is in use by another training run \\(pid ${other.pid}`));
      expect(r.stdout).not.toMatch(/adapter:/);
    } finally {
      other.stop();
    }
  }, 60_000);
});

describe('interrupted runs', () => {
  test('a torn last line of log.jsonl is cut when the log is opened again', () => {
    const path = join(dir(), 'log.jsonl');
    writeFileSync(path, '{"kind":"event","step":0,"event":"start","message":"x"}\n{"kind":"step","step":1,"loss_');
    const log = new TrainingLog(path);
    expect(log.repairedBytes).toBe('{"kind":"step","step":1,"loss_'.length);
    log.write({ kind: 'event', step: 1, event: 'resume', message: 'y' });
    expect(parseLog(readFileSync(path, 'utf8')).map((r) => r.kind)).toEqual(['event', 'event']);
    expect(new TrainingLog(path).repairedBytes).toBe(0);
  });

  test('a log write on a full disk does not end the run there: the failure is kept for the trainer to stop on', () => {
    const path = join(dir(), 'log.jsonl');
    symlinkSync('/dev/full', path); // every write fails with ENOSPC
    const log = new TrainingLog(path);
    expect(() => log.write({ kind: 'event', step: 1, event: 'checkpoint', message: 'x' })).not.toThrow();
    expect(log.failure).toBe('the disk is full');
  });

  test('temporaries of processes that no longer run are removed; those of a running one stay', () => {
    const folder = dir();
    const running = sleeper();
    try {
      writeFileSync(join(folder, `.page.png.${running.pid}.tmp`), 'in progress');
      writeFileSync(join(folder, '.page.png.999999999.tmp'), 'left by a crash');
      writeFileSync(join(folder, 'page.png'), 'kept');
      expect(removeStaleTemporaries(folder)).toEqual(['.page.png.999999999.tmp']);
      expect(existsSync(join(folder, `.page.png.${running.pid}.tmp`))).toBe(true);
      expect(existsSync(join(folder, 'page.png'))).toBe(true);
    } finally {
      running.stop();
    }
  });
});

test('--resume --preset small cannot relabel a tiny run', () => {
  const saved = resolveConfig({ preset: 'tiny' });
  const resumed = resolveConfig({ base: saved, flags: { preset: 'small' } });
  expect(frozenDifferences(saved, resumed)).toContain('preset: checkpoint "tiny", now "small"');
  expect(frozenDifferences(saved, resolveConfig({ base: saved, flags: { maxSteps: 10 } }))).toEqual([]);
});

test('a run saved before generator.hintGate resumes: keys filled in later compare equal in any order', () => {
  const saved = resolveConfig({ preset: 'tiny' });
  const { hintGate: _, ...before } = saved.generator;
  const old = { ...saved, generator: before };
  expect(frozenDifferences(savedConfig(old), saved)).toEqual([]);
  expect(frozenDifferences(savedConfig(old), resolveConfig({ base: old, flags: { generator: { hintGate: 'on' } } })))
    .toEqual([expect.stringContaining('generator: checkpoint')]);
});
