// Runs a TypeScript entry point: bundles it with esbuild (WGSL as text) into dist/, then executes it with the
// remaining arguments. Usage: node scripts/run.mjs src/cli/<name>.ts [args...]
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { basename } from 'node:path';
import { nodeBundle } from './esbuild-options.mjs';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run.mjs <entry.ts> [args...]');
  process.exit(2);
}
const outfile = `dist/cli/${basename(entry, '.ts')}.mjs`;
await build({ ...nodeBundle, entryPoints: [entry], outfile });
const result = spawnSync(process.execPath, ['--enable-source-maps', outfile, ...args], { stdio: 'inherit' });
process.exit(result.status ?? 1);
