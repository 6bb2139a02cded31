// The browser app's local server: static files from one folder, bound to the loopback interface, with a strict
// Content-Security-Policy so the page can reach nothing but its own origin (no external requests, no inline
// script, no eval). It never processes anything: pages and weights stay in the browser. Only files whose real
// path lies inside the folder are served (no symbolic link leads out), and only to requests addressed to
// localhost or 127.0.0.1 (a web page on another name that resolves here, DNS rebinding, gets nothing).
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';

/** The policy the app runs under; web/index.html carries the same one as a meta tag for other static hosts. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "worker-src 'self'",
  "connect-src 'self'",
  "img-src 'self' blob: data:",
  "style-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

export interface StaticServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** The names this server answers to: a request for any other Host is refused. */
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1']);

const hostName = (host: string | undefined) => (host ?? '').replace(/:\d+$/, '').toLowerCase();

/** Serves `root` on 127.0.0.1:`port` (0: any free port). */
export async function serveStatic(root: string, port = 0): Promise<StaticServer> {
  const rootPath = await realpath(resolve(root));
  const base = rootPath.endsWith(sep) ? rootPath : rootPath + sep;
  const server = createServer(async (request, response) => {
    response.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    response.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Referrer-Policy', 'no-referrer');
    response.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    response.setHeader('Cache-Control', 'no-cache');
    if (!LOCAL_HOSTS.has(hostName(request.headers.host))) {
      response.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' }).end('this server answers to localhost and 127.0.0.1 only\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    } catch {
      response.writeHead(400).end();
      return;
    }
    const file = normalize(join(base, path.endsWith('/') ? `${path}index.html` : path));
    // normalize() resolves "..": anything that ends up outside the root is refused.
    if (!file.startsWith(base)) {
      response.writeHead(403).end();
      return;
    }
    // A symbolic link inside the folder may point anywhere: its target must lie inside too.
    const real = await realpath(file).catch(() => null);
    if (real !== null && !real.startsWith(base)) {
      response.writeHead(403).end();
      return;
    }
    const info = real === null ? null : await stat(real).catch(() => null);
    if (!info?.isFile()) {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`not found: ${path}\n`);
      return;
    }
    response.writeHead(200, {
      'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': info.size,
    });
    if (request.method === 'HEAD') response.end();
    else createReadStream(real!).on('error', () => response.destroy()).pipe(response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${bound}/`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
