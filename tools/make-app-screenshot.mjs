// Makes docs/app-1280x800.png, the README's screenshot of the browser app, as the browser tests drive it: Debian's
// Chromium (WebGPU from SwiftShader where there is no GPU) at 1280×800 on the app that `npm run app` builds and
// serves. A fresh profile, so the app loads the shipped model; the example page from the empty screen at working size
// 128, six regions filled with the fill tool, one pass, the before/after line at 60 %. Run it whenever the app's
// look, the shipped model or the example page changes (about a minute on a CPU):
//   node tools/make-app-screenshot.mjs [--out FILE]
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import sharp from 'sharp';

const CHROMIUM = '/usr/bin/chromium';
const VIEWPORT = { width: 1280, height: 800 };
const EXAMPLE = { width: 768, height: 1088 };
/** Page pixels of examples/page.png to fill, each inside a region bounded by its lines, and the colour. */
const FILLS = [
  { x: 100, y: 280, colour: '#5fa8e0' }, // the top panel's sky around the house, the tree and the sun
  { x: 440, y: 150, colour: '#2f8f4e' }, // the tree's crown
  { x: 633, y: 113, colour: '#f0e08a' }, // the sun
  { x: 210, y: 145, colour: '#e03c3c' }, // the roof
  { x: 240, y: 232, colour: '#e8b796' }, // the house's wall
  { x: 100, y: 800, colour: '#9ccc65' }, // the bottom panel around the car, the bicycle and the flower
];

const args = process.argv.slice(2);
const out = args.includes('--out') ? args[args.indexOf('--out') + 1] : 'docs/app-1280x800.png';
if (!out || args.some((a, i) => a.startsWith('--') && a !== '--out' && args[i - 1] !== '--out')) {
  console.error('usage: node tools/make-app-screenshot.mjs [--out FILE]');
  process.exit(2);
}
if (!existsSync(CHROMIUM)) {
  console.error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium), as the browser tests need.`);
  process.exit(1);
}

/** `npm run app -- --port 0`, and the address it serves on. */
function serveApp() {
  const server = spawn(process.execPath, ['scripts/run.mjs', 'src/cli/app.ts', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const address = new Promise((resolve, reject) => {
    let text = '';
    server.stdout.setEncoding('utf8');
    server.stdout.on('data', (chunk) => {
      text += chunk;
      const url = /running at (http:\/\/\S+)/.exec(text)?.[1];
      if (url) resolve(url);
    });
    server.on('exit', (code) => reject(new Error(`npm run app ended (exit ${code}) before serving:\n${text}`)));
  });
  return { server, address };
}

const { server, address } = serveApp();
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--enable-unsafe-webgpu', '--no-first-run', '--disable-background-networking'] });
try {
  const tab = await browser.newPage({ viewport: VIEWPORT });
  tab.on('pageerror', (e) => console.error(`the app: ${e.message}`));
  await tab.goto(await address);
  await tab.waitForFunction(() => document.getElementById('model-status').textContent === 'model: the small shipped one', undefined, { timeout: 120_000 });
  await tab.selectOption('#working-size', '128');
  await tab.uncheck('#auto-recolour');
  await tab.click('#try-example');
  await tab.waitForFunction(() => document.getElementById('dot-count').textContent === '0 dots');
  // Page pixels to screen, as PageView.fit() places the page: 0.98 of the view, centred.
  const view = await tab.locator('#view').boundingBox();
  const zoom = Math.min(view.width / EXAMPLE.width, view.height / EXAMPLE.height) * 0.98;
  const screen = (x, y) => [view.x + (view.width - EXAMPLE.width * zoom) / 2 + (x + 0.5) * zoom, view.y + (view.height - EXAMPLE.height * zoom) / 2 + (y + 0.5) * zoom];
  await tab.keyboard.press('f');
  for (const { x, y, colour } of FILLS) {
    await tab.fill('#hex', colour);
    await tab.press('#hex', 'Enter');
    await tab.mouse.click(...screen(x, y));
  }
  console.log(`filled ${FILLS.length} regions: ${await tab.textContent('#dot-count')}`);
  await tab.click('#recolour');
  await tab.waitForFunction(() => Number(document.body.dataset.passes ?? 0) > 0 && document.body.dataset.busy === 'false', undefined, { timeout: 300_000 });
  await tab.evaluate(() => {
    const split = document.getElementById('split');
    split.value = '0.6';
    split.dispatchEvent(new Event('input'));
  });
  // The pointer off the page, so no hover state shows.
  await tab.mouse.move(5, VIEWPORT.height - 5);
  await tab.waitForTimeout(300);
  // A 256-colour palette keeps the README's image small (a quarter of the full-colour PNG).
  await sharp(await tab.screenshot()).png({ palette: true, colours: 256 }).toFile(out);
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  server.kill('SIGTERM');
}
