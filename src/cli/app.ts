// npm run app -- [--port N] [--dir DIR]: serves the browser app (built into dist/web by scripts/build-web.mjs,
// which the npm script runs first) on localhost. Everything happens in the browser; this only hands out files.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { serveStatic } from '../io/static-server.js';

function usage(message: string): never {
  console.error(`${message}\nusage: npm run app -- [--port N] [--dir DIR]   (default port 8080, dir dist/web)`);
  process.exit(2);
}

const args = process.argv.slice(2);
let port = 8080;
let dir = 'dist/web';
for (let i = 0; i < args.length; i++) {
  const [flag, value] = [args[i], args[i + 1]];
  if (flag === '--port') {
    port = Number(value);
    if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`--port needs a port number from 0 to 65535, got ${JSON.stringify(value)}.`);
    i++;
  } else if (flag === '--dir') {
    if (!value) usage('--dir needs a folder.');
    dir = value;
    i++;
  } else {
    usage(`Unknown argument ${JSON.stringify(flag)}.`);
  }
}
if (!existsSync(join(dir, 'index.html'))) usage(`${dir} holds no built app (index.html); run npm run build:web first.`);

try {
  const { url } = await serveStatic(dir, port);
  console.log(`Manga colorizer running at ${url}  (Ctrl+C to stop)`);
  console.log('Open it in Chrome/Edge 113+ (or a browser with WebGPU enabled). Pages and weights never leave the browser.');
} catch (e) {
  const error = e as NodeJS.ErrnoException;
  if (error.code === 'EADDRINUSE') usage(`Port ${port} is in use; choose another with --port N (0 picks a free one).`);
  throw e;
}
