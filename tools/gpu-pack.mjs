// `npm run gpu-pack`: fills .gpu/ (git-ignored) with what a GPU machine without a package registry needs to run
// tools/gpu-check.sh and the project's commands on Dawn/Vulkan (../shared/gpu/README.md has the story):
//   app/<name>.mjs      each command-line entry point, bundled (WGSL as text; native packages left external)
//   node.xz             this machine's Node, compressed (the GPU machine has none)
//   dawn.node.xz        Dawn's linux-x64 binding; webgpu/ the package's loader (the prelude puts both in node_modules)
//   debs/*.deb          the Vulkan loader and glvnd (libGLdispatch is what the NVIDIA ICD needs to load)
//   node_modules.tar.xz the closure of the packages the bundles and the test runner import (sharp, benny, fflate,
//                       vitest with its vite and esbuild)
// Then it says how much would travel: the device tool carries the working tree and .gpu together, 64 MiB at most.
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeBundle } from '../scripts/esbuild-options.mjs';

// --app-only: just the bundles (what test/gpu-pack.test.ts checks); --out: another folder inside the project,
// whose node_modules the bundles' external packages resolve from.
const argv = process.argv.slice(2);
const appOnly = argv.includes('--app-only');
const PACK = argv.includes('--out') ? argv[argv.indexOf('--out') + 1] : '.gpu';
const LIMIT = 64 * 2 ** 20;
/** The commands the check runs, and those a GPU day uses after it (training, colouring, profiling). */
const ENTRIES = ['bench', 'gpu-info', 'torch-parity', 'profile', 'train', 'colorize', 'eval'];
const DEBS = ['libvulkan1', 'libglvnd0', 'libglx0', 'libgl1', 'libegl1', 'libopengl0', 'libgles2'];
const EXTERNAL = ['sharp', 'benny', 'fflate', 'vitest'];

const run = (cmd, args, options = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], ...options });
const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const step = (what) => console.log(`gpu-pack: ${what}`);

if (!existsSync('node_modules/webgpu/dist/linux-x64/dawn.node')) {
  console.error('gpu-pack: node_modules/webgpu is missing its linux-x64 binding: run `npm ci` first.');
  process.exit(1);
}
step('bundling the entry points');
rmSync(join(PACK, 'app'), { recursive: true, force: true });
mkdirSync(join(PACK, 'app'), { recursive: true });
const entries = ENTRIES.filter((name) => existsSync(`src/cli/${name}.ts`));
await build({
  ...nodeBundle,
  entryPoints: entries.map((name) => `src/cli/${name}.ts`),
  outdir: join(PACK, 'app'),
  outExtension: { '.js': '.mjs' },
  sourcemap: false,
  // tfjs (the bench's peer) is bundled: the carried node_modules stays small. Its CommonJS needs `require`.
  external: ['webgpu', 'sharp', 'benny'],
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
});

// The GPU machine's copy of the tree may not carry the repository's history: the pack names the commit.
writeFileSync(join(PACK, 'commit.txt'), run('git', ['describe', '--always', '--dirty']).toString());
if (appOnly) {
  console.log(`gpu-pack: ${entries.length} bundles in ${join(PACK, 'app')} (${entries.join(', ')})`);
  process.exit(0);
}
mkdirSync(join(PACK, 'debs'), { recursive: true });
mkdirSync(join(PACK, 'webgpu'), { recursive: true });

const compress = (from, to) => {
  if (existsSync(to) && statSync(to).mtimeMs >= statSync(from).mtimeMs) return;
  step(`compressing ${from}`);
  writeFileSync(to, run('xz', ['-T2', '-6', '-c', from], { maxBuffer: 2 ** 30 }));
};
compress(realpathSync(process.execPath), join(PACK, 'node.xz'));
compress('node_modules/webgpu/dist/linux-x64/dawn.node', join(PACK, 'dawn.node.xz'));
for (const file of ['index.js', 'package.json']) cpSync(`node_modules/webgpu/${file}`, join(PACK, 'webgpu', file));

if (readdirSync(join(PACK, 'debs')).filter((f) => f.endsWith('.deb')).length < DEBS.length) {
  step(`downloading ${DEBS.join(' ')}`);
  const download = () => run('apt-get', ['download', ...DEBS], { cwd: join(PACK, 'debs') });
  try {
    download();
  } catch {
    run('apt-get', ['update', '-qq']);
    download();
  }
}

step('packing the external packages');
const closure = new Set();
const walk = (name) => {
  const manifest = `node_modules/${name}/package.json`;
  if (closure.has(name) || !existsSync(manifest)) return;
  closure.add(name);
  const { dependencies = {}, optionalDependencies = {} } = JSON.parse(readFileSync(manifest, 'utf8'));
  for (const dep of Object.keys({ ...dependencies, ...optionalDependencies })) walk(dep);
};
EXTERNAL.forEach(walk);
// Packed again only when the closure changed (npm ci then changes the lock file's time too).
const listed = [...closure].sort().join('\n');
const stamp = join(PACK, 'node_modules.list');
const tarball = join(PACK, 'node_modules.tar.xz');
const fresh = existsSync(tarball) && existsSync(stamp) && readFileSync(stamp, 'utf8') === listed && statSync(tarball).mtimeMs >= statSync('package-lock.json').mtimeMs;
if (!fresh) {
  writeFileSync(tarball, run('tar', ['-cJf', '-', ...[...closure].map((n) => `node_modules/${n}`)], { maxBuffer: 2 ** 30 }));
  writeFileSync(stamp, listed);
}

// What travels: tracked files and untracked ones git does not ignore, plus the pack.
const tree = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'])
  .toString()
  .split('\0')
  .filter((f) => f && existsSync(f))
  .reduce((sum, f) => sum + statSync(f).size, 0);
const packed = run('du', ['-sb', PACK]).toString().split('\t')[0];
const total = tree + Number(packed);
console.log(`gpu-pack: ${entries.length} bundles (${entries.join(', ')}), ${closure.size} packages`);
console.log(`gpu-pack: carried ${mib(total)} of ${mib(LIMIT)} (.gpu ${mib(Number(packed))}, working tree ${mib(tree)})`);
if (total > LIMIT) {
  console.error('gpu-pack: over the device tool\'s 64 MiB: leave large untracked files out of the tree (or ignore them).');
  process.exit(1);
}
console.log('on the GPU machine (carry [".gpu"]): bash tools/gpu-check.sh "$OUT"');
