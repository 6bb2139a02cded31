// Runs a TypeScript entry point: bundles it with esbuild (WGSL as text) into dist/, then executes it with the
// remaining arguments. Usage: node scripts/run.mjs src/cli/<name>.ts [args...]
// The command's stderr goes through dawnMessageFilter (Dawn's native loader messages removed) unless it is
// gpu-info or given --verbose; the command is told when that stderr is a terminal (CLI_STDERR_COLUMNS), so its
// progress bar still redraws in place.
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import { dawnMessageFilter } from './dawn-messages.mjs';
import { nodeBundle } from './esbuild-options.mjs';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run.mjs <entry.ts> [args...]');
  process.exit(2);
}
const outfile = `dist/cli/${basename(entry, '.ts')}.mjs`;
await build({ ...nodeBundle, entryPoints: [entry], outfile });
const diagnostics = basename(entry) === 'gpu-info.ts' || args.includes('--verbose');
const env = { ...process.env };
if (!diagnostics && process.stderr.isTTY) env.CLI_STDERR_COLUMNS = String(process.stderr.columns ?? 80);
const child = spawn(process.execPath, ['--enable-source-maps', outfile, ...args], { stdio: ['inherit', 'inherit', diagnostics ? 'inherit' : 'pipe'], env });
if (!diagnostics) {
  // A closed terminal must not stop the relay: the command still writes its last lines (and must not block).
  process.stderr.on('error', () => undefined);
  const filter = dawnMessageFilter((text) => process.stderr.write(text));
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text) => filter.write(text));
  child.stderr.on('end', () => filter.end());
}
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
// 'close', not 'exit': the command's last stderr lines are relayed first.
child.on('close', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  }
  process.exit(code ?? 1);
});
