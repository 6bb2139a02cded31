// npm run build: bundles every command-line entry point (src/cli/*.ts) into dist/cli/*.mjs.
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { nodeBundle } from './esbuild-options.mjs';

const entryPoints = readdirSync('src/cli')
  .filter((f) => f.endsWith('.ts'))
  .map((f) => `src/cli/${f}`);
await build({ ...nodeBundle, entryPoints, outdir: 'dist/cli', outExtension: { '.js': '.mjs' } });
console.log(`built ${entryPoints.length} entry points into dist/cli/`);
