// Runs a TypeScript entry point: bundles it with esbuild (WGSL as text) into dist/, then executes it with the
// remaining arguments. Usage: node scripts/run.mjs src/cli/<name>.ts [args...]
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { basename } from 'node:path';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run.mjs <entry.ts> [args...]');
  process.exit(2);
}
const outfile = `dist/cli/${basename(entry, '.ts')}.mjs`;
await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  loader: { '.wgsl': 'text' },
  // Native or heavy packages load from node_modules at run time.
  external: ['webgpu', 'sharp', '@tensorflow/*', 'benny'],
  logLevel: 'warning',
  sourcemap: 'linked',
});
const result = spawnSync(process.execPath, ['--enable-source-maps', outfile, ...args], { stdio: 'inherit' });
process.exit(result.status ?? 1);
