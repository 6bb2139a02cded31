// Runs a TypeScript entry point: bundles it with esbuild (WGSL as text) into dist/, then executes it with the
// remaining arguments. Usage: node scripts/run.mjs src/cli/<name>.ts [args...]
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import { nodeBundle } from './esbuild-options.mjs';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run.mjs <entry.ts> [args...]');
  process.exit(2);
}
const outfile = `dist/cli/${basename(entry, '.ts')}.mjs`;
await build({ ...nodeBundle, entryPoints: [entry], outfile });
const child = spawn(process.execPath, ['--enable-source-maps', outfile, ...args], { stdio: 'inherit' });
// The command decides what a signal means (train: finish the step and write a checkpoint), so this wrapper
// must outlive it. Ctrl-C reaches the command directly (the terminal signals the whole foreground process
// group), so SIGINT is only ignored here; SIGTERM is usually sent to one process (npm forwards it here), so
// it is passed on.
process.on('SIGINT', () => undefined);
// A closed terminal hangs up the whole process group too: the command decides, this wrapper waits for it.
process.on('SIGHUP', () => undefined);
process.on('SIGTERM', () => child.kill('SIGTERM'));
// `npm run` starts this through a shell that dies of a SIGTERM sent to npm without passing it on: this wrapper
// is then handed to another parent. Under npm (npm_lifecycle_event set) that is a hang-up for the command (train
// checkpoints and stops) rather than an orphan that trains on unseen. Started otherwise (nohup, a script that
// exits), losing the parent means nothing.
if (process.env.npm_lifecycle_event) {
  const parent = process.ppid;
  const orphaned = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(orphaned);
    child.kill('SIGTERM');
  }, 500);
  orphaned.unref();
}
child.on('exit', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  }
  process.exit(code ?? 1);
});
