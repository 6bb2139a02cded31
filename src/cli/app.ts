// npm run app -- [--port N] [--dir DIR]: builds the browser app into dist/web (scripts/build-web.mjs) and serves
// it on localhost; with --dir, serves an app already built there. Everything happens in the browser; this only
// hands out files. The flags are read before anything is built, so --help and mistakes answer at once.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flagsHelp, HELP_FLAG, type FlagSpec } from '../io/flags.js';
import { serveStatic } from '../io/static-server.js';
import { commandFlags, runCommand, UsageError } from './command.js';

const SPECS: FlagSpec[] = [
  { name: 'port', value: 'N', help: 'the port to serve on (default 8080; 0 picks a free one)' },
  { name: 'dir', value: 'DIR', help: 'serve an app already built there (npm run build:web -- --out DIR) instead of building dist/web' },
  HELP_FLAG,
];

const USAGE = `usage: npm run app -- [--port N] [--dir DIR]
Builds the browser app and serves it on localhost; open the address it prints in Chrome or Edge 113+.
${flagsHelp(SPECS)}`;

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function main(): Promise<void> {
  const flags = commandFlags(process.argv.slice(2), SPECS, USAGE);
  if (!flags) return;
  if (flags.positionals.length) throw new UsageError(`Unexpected argument ${JSON.stringify(flags.positionals[0])}.`);
  const portText = flags.values.get('port') ?? '8080';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || portText.trim() === '') throw new UsageError(`--port needs a port number from 0 to 65535, got ${JSON.stringify(portText)}.`);
  let dir = flags.values.get('dir');
  if (dir === undefined) {
    dir = join(PROJECT_ROOT, 'dist', 'web');
    const built = spawnSync(process.execPath, [join(PROJECT_ROOT, 'scripts', 'build-web.mjs'), '--out', dir], { cwd: PROJECT_ROOT, stdio: 'inherit' });
    if (built.status !== 0) throw new Error('Building the app failed (the messages above say why).');
  }
  if (!existsSync(join(dir, 'index.html'))) throw new UsageError(`${dir} holds no built app (index.html); run npm run build:web -- --out ${dir} first.`);
  try {
    const { url } = await serveStatic(dir, port);
    console.log(`Manga colorizer running at ${url}  (Ctrl+C to stop)`);
    console.log('Open it in Chrome/Edge 113+ (or a browser with WebGPU enabled). Pages and weights never leave the browser.');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new UsageError(`Port ${port} is in use; choose another with --port N (0 picks a free one).`);
    throw e;
  }
}

const code = await runCommand(main, { name: 'app' });
// The server keeps the process alive; after --help nothing does, so it ends by itself with 0.
if (code !== 0) process.exit(code);
