// scripts/run.mjs under `npm run` (issue 15): npm starts it through a shell, and a SIGTERM sent to npm kills that
// shell without passing the signal on. The command must still hear it (train then checkpoints and stops) rather
// than run on as an orphan. The shell is played here by `sh -c`, killed the way npm's forwarding kills it.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';

const waitFor = async (check: () => boolean, ms: number) => {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
};

test('a SIGTERM that kills the shell around run.mjs reaches the command', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'run-signals-'));
  const probe = join(dir, `signal-probe-${process.pid}.ts`);
  const ready = join(dir, 'ready');
  const heard = join(dir, 'heard');
  writeFileSync(
    probe,
    `import { writeFileSync } from 'node:fs';
process.on('SIGTERM', () => { writeFileSync(${JSON.stringify(heard)}, 'SIGTERM'); process.exit(0); });
writeFileSync(${JSON.stringify(ready)}, 'ready');
setInterval(() => undefined, 1000);
`,
  );
  // As npm runs it: through a shell, with npm's lifecycle variable set.
  const shell = spawn('sh', ['-c', `node scripts/run.mjs ${probe}; true`], { stdio: 'ignore', env: { ...process.env, npm_lifecycle_event: 'probe' } });
  try {
    expect(await waitFor(() => existsSync(ready), 30_000)).toBe(true);
    shell.kill('SIGTERM');
    expect(await waitFor(() => existsSync(heard), 5_000)).toBe(true);
    expect(readFileSync(heard, 'utf8')).toBe('SIGTERM');
  } finally {
    shell.kill('SIGKILL');
    rmSync(join('dist', 'cli', `signal-probe-${process.pid}.mjs`), { force: true });
    rmSync(join('dist', 'cli', `signal-probe-${process.pid}.mjs.map`), { force: true });
  }
}, 60_000);
