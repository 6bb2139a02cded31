// The app's static server (issue 15): no symbolic link leads out of the served folder, only requests addressed to
// localhost are answered (DNS rebinding), responses are same-origin only, and a folder given with a trailing
// slash works.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { serveStatic, type StaticServer } from '../src/io/static-server.js';

const root = mkdtempSync(join(tmpdir(), 'static-'));
const served = join(root, 'web');
let server: StaticServer;

/** A GET with the given Host header; status, headers and body. */
function get(path: string, host?: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: host ? { Host: host } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  mkdirSync(served);
  writeFileSync(join(served, 'index.html'), '<p>app</p>');
  writeFileSync(join(root, 'secret.txt'), 'secret');
  mkdirSync(join(served, 'assets'));
  writeFileSync(join(served, 'assets', 'a.js'), 'ok');
  symlinkSync(join(root, 'secret.txt'), join(served, 'leak.txt'));
  symlinkSync(root, join(served, 'up'));
  symlinkSync(join(served, 'assets', 'a.js'), join(served, 'inside.js'));
  server = await serveStatic(`${served}/`); // a trailing slash, as `--dir dist/web/` gives it
});
afterAll(() => server.close());

describe('the static server', () => {
  test('serves the folder given with a trailing slash, same-origin only', async () => {
    const r = await get('/', `localhost:${new URL(server.url).port}`);
    expect(r.status).toBe(200);
    expect(r.body).toBe('<p>app</p>');
    expect(r.headers['cross-origin-resource-policy']).toBe('same-origin');
    expect((await get('/assets/a.js', '127.0.0.1')).body).toBe('ok');
  });

  test('a symbolic link out of the folder is refused; one inside it is served', async () => {
    expect((await get('/leak.txt', 'localhost')).status).toBe(403);
    expect((await get('/up/secret.txt', 'localhost')).status).toBe(403);
    expect((await get('/inside.js', 'localhost')).body).toBe('ok');
  });

  test('a request addressed to another host name is refused (DNS rebinding)', async () => {
    const r = await get('/', 'attacker.example:8080');
    expect(r.status).toBe(403);
    expect(r.body).not.toContain('app');
  });
});
