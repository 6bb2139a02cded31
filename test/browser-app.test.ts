// The browser app in a real browser: Debian's Chromium driven by playwright-core, WebGPU from SwiftShader
// (--enable-unsafe-webgpu on a machine without a GPU). The app is built into a temporary folder and served by
// the app's own server. A tiny generator (test/helpers/tiny-model.ts) and a generated page keep it fast.
// Skips, saying so, only when /usr/bin/chromium is missing (`apt-get install chromium`; .ci/run installs it).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Engine, useEngine } from '../src/engine/engine.js';
import { nodeDevice } from '../src/io/dawn.js';
import { serveStatic, type StaticServer } from '../src/io/static-server.js';
import { syntheticPage } from './helpers/pages.js';
import { tinyGeneratorSafetensors } from './helpers/tiny-model.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`browser-app tests skipped: ${CHROMIUM} is missing (install Debian's chromium: apt-get install chromium).`);

const FLAGS = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
// SwiftShader runs a generator pass here in seconds even at this size: the page is small, the working size
// is the quick-preview 128 (the page's own width), and every test keeps its passes few.
const PAGE = { width: 128, height: 160 };

let dir = '';
let server: StaticServer;
let browser: Browser;
let tab: Page;
const requests: string[] = [];
const consoleErrors: string[] = [];

/** A fresh browser (playwright gives each launch a new empty profile). */
function launch(webgpu: boolean): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...FLAGS, ...(webgpu ? ['--enable-unsafe-webgpu'] : [])] });
}

/** Clicks a button that opens a file picker and answers it with `file`. */
async function chooseFile(selector: string, file: string): Promise<void> {
  const [chooser] = await Promise.all([tab.waitForEvent('filechooser'), tab.click(selector)]);
  await chooser.setFiles(file);
}

/** Clicks a button that downloads something; returns the file's bytes. */
async function downloadFrom(selector: string): Promise<{ name: string; bytes: Buffer }> {
  const [download] = await Promise.all([tab.waitForEvent('download'), tab.click(selector)]);
  return { name: download.suggestedFilename(), bytes: readFileSync(await download.path()) };
}

const passes = () => tab.evaluate(() => Number(document.body.dataset.passes ?? 0));
async function waitForPass(after: number): Promise<void> {
  await tab.waitForFunction((n) => Number(document.body.dataset.passes ?? 0) > n && document.body.dataset.busy === 'false', after, { timeout: 60_000 });
}

/** Screen position of page pixel (x, y) in the view (fitted: zoom and centring as PageView.fit()). */
async function screenOf(x: number, y: number): Promise<{ x: number; y: number }> {
  const r = (await tab.locator('#view').boundingBox())!;
  const zoom = Math.min(r.width / PAGE.width, r.height / PAGE.height) * 0.98;
  const [panX, panY] = [(r.width - PAGE.width * zoom) / 2, (r.height - PAGE.height * zoom) / 2];
  return { x: r.x + panX + (x + 0.5) * zoom, y: r.y + panY + (y + 0.5) * zoom };
}

async function placeDot(x: number, y: number, colour: string): Promise<void> {
  await tab.fill('#hex', colour);
  await tab.press('#hex', 'Enter');
  const at = await screenOf(x, y);
  await tab.mouse.click(at.x, at.y);
}

/** The exported PNG's pixels as RGB in [0, 1]. */
async function exportedPixels(): Promise<{ width: number; height: number; at: (x: number, y: number) => number[] }> {
  const { name, bytes } = await downloadFrom('#export-png');
  expect(name).toBe('page_colorized.png');
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, at: (x, y) => [0, 1, 2].map((c) => data[(y * info.width + x) * 3 + c] / 255) };
}

/** Mean colour of the (2r+1)² pixels around (x, y). */
function meanAround(image: { at: (x: number, y: number) => number[] }, x: number, y: number, r = 2): number[] {
  const sum = [0, 0, 0];
  for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) image.at(x + dx, y + dy).forEach((v, c) => (sum[c] += v));
  return sum.map((s) => s / (2 * r + 1) ** 2);
}

describe.skipIf(!hasChromium)('the browser app in Chromium', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'browser-app-'));
    execFileSync(process.execPath, ['scripts/build-web.mjs', '--out', join(dir, 'web')], { stdio: 'pipe' });
    server = await serveStatic(join(dir, 'web'));
    // The model is written with the Node engine (Dawn), as a training run would export it.
    const engine = new Engine(await nodeDevice());
    useEngine(engine);
    try {
      writeFileSync(join(dir, 'tiny.safetensors'), await tinyGeneratorSafetensors());
    } finally {
      engine.destroy();
      useEngine(null);
    }
    const page = syntheticPage(PAGE.width, PAGE.height, 3);
    const bytes = Buffer.from(page.data.map((v) => Math.round(v * 255)));
    await sharp(bytes, { raw: { width: page.width, height: page.height, channels: page.channels as 3 } }).png().toFile(join(dir, 'page.png'));
    browser = await launch(true);
    tab = await browser.newPage({ viewport: { width: 1100, height: 760 } });
    tab.on('request', (r) => requests.push(r.url()));
    tab.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    tab.on('pageerror', (e) => consoleErrors.push(e.message));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('starts WebGPU in its worker, under the CSP, asking nothing of other origins', async () => {
    const response = await tab.goto(server.url);
    expect(response!.headers()['content-security-policy']).toContain("default-src 'none'");
    await tab.waitForSelector('#open-weights:not([disabled])', { timeout: 30_000 });
    expect(await tab.getAttribute('#model-status', 'title')).toMatch(/swiftshader/i);
  });

  test('a file that is not a model gets the strict report as text', async () => {
    await chooseFile('#open-weights', join(dir, 'page.png'));
    await tab.waitForSelector('#banner:not([hidden])');
    expect(await tab.getAttribute('#banner', 'data-kind')).toBe('weights');
    expect(await tab.textContent('#banner-text')).toMatch(/page\.png: .*PNG image/);
    await tab.click('#banner-close');
  });

  test('loads weights, opens a page and colours it', async () => {
    await chooseFile('#open-weights', join(dir, 'tiny.safetensors'));
    await tab.waitForFunction(() => /project v1 generator/.test(document.getElementById('model-status')!.textContent!));
    await tab.selectOption('#working-size', '128');
    const before = await passes();
    await chooseFile('#open-page', join(dir, 'page.png'));
    await waitForPass(before);
    expect(await tab.textContent('#last-pass')).toMatch(/last pass \d+\.\d\d s/);
  });

  let baseline: Awaited<ReturnType<typeof exportedPixels>>;
  let withRed: Awaited<ReturnType<typeof exportedPixels>>;
  const red = { x: 35, y: 45 };
  const blue = { x: 95, y: 120 };
  const far = { x: 105, y: 25 };

  test('dots recolour the page toward their colours; the export has the page size', async () => {
    baseline = await exportedPixels();
    expect([baseline.width, baseline.height]).toEqual([PAGE.width, PAGE.height]);
    // The second dot lands while the first one's pass runs: the app runs one more pass with both after it.
    const n = await passes();
    await placeDot(red.x, red.y, '#ff0000');
    await placeDot(blue.x, blue.y, '#0000ff');
    await waitForPass(n);
    expect(await tab.textContent('#dot-count')).toBe('2 dots');
    const coloured = await exportedPixels();
    const redness = (c: number[]) => c[0] - (c[1] + c[2]) / 2;
    const blueness = (c: number[]) => c[2] - (c[0] + c[1]) / 2;
    expect(redness(meanAround(coloured, red.x, red.y)) - redness(meanAround(baseline, red.x, red.y))).toBeGreaterThan(0.2);
    expect(blueness(meanAround(coloured, blue.x, blue.y)) - blueness(meanAround(baseline, blue.x, blue.y))).toBeGreaterThan(0.2);
    // Far from both dots the page keeps its colours.
    const farAway = [meanAround(coloured, far.x, far.y), meanAround(baseline, far.x, far.y)];
    expect(Math.max(...farAway[0].map((v, c) => Math.abs(v - farAway[1][c])))).toBeLessThan(0.05);
  });

  test('undo removes the last dot and recolours', async () => {
    const n = await passes();
    await tab.keyboard.press('Control+z');
    await waitForPass(n);
    expect(await tab.textContent('#dot-count')).toBe('1 dot');
    withRed = await exportedPixels();
    const blueRegion = [meanAround(withRed, blue.x, blue.y), meanAround(baseline, blue.x, blue.y)];
    expect(Math.max(...blueRegion[0].map((v, c) => Math.abs(v - blueRegion[1][c])))).toBeLessThan(0.05);
  });

  test('hints save as the command line JSON and load back to the same result', async () => {
    const { name, bytes } = await downloadFrom('#save-hints');
    expect(name).toBe('page.hints.json');
    const saved = JSON.parse(bytes.toString('utf8'));
    expect(saved).toMatchObject({ width: PAGE.width, height: PAGE.height, dots: [{ x: red.x, y: red.y, color: '#ff0000', size: 3 }] });
    expect(saved.hints.length).toBe(9); // a size-3 dot on a page the size of its canvas: 3×3 model pixels
    for (const h of saved.hints) expect(h.color).toBe('#ff0000');
    writeFileSync(join(dir, 'saved.json'), bytes);

    // Without auto-recolour, clearing and loading cost no passes; one click on Colour then runs one.
    await tab.uncheck('#auto-recolour');
    await tab.click('#clear');
    expect(await tab.textContent('#dot-count')).toBe('0 dots');
    await chooseFile('#load-hints', join(dir, 'saved.json'));
    const n = await passes();
    await tab.click('#recolour');
    await waitForPass(n);
    expect(await tab.textContent('#dot-count')).toBe('1 dot');
    const reloaded = await exportedPixels();
    let maxDiff = 0;
    for (let y = 0; y < PAGE.height; y += 3) for (let x = 0; x < PAGE.width; x += 3) reloaded.at(x, y).forEach((v, c) => (maxDiff = Math.max(maxDiff, Math.abs(v - withRed.at(x, y)[c]))));
    expect(maxDiff).toBeLessThanOrEqual(1 / 255);
    expect(consoleErrors).toEqual([]);
    expect(requests.filter((u) => !u.startsWith(server.url) && !u.startsWith('blob:') && !u.startsWith('data:'))).toEqual([]);
  });

  test("the engine's kernels pass inside the browser", async () => {
    const kernels = await browser.newPage();
    await kernels.goto(`${server.url}kernel-tests.html`);
    await kernels.waitForFunction(() => 'kernelTestResults' in window, null, { timeout: 60_000 });
    const results = (await kernels.evaluate(() => (window as unknown as { kernelTestResults: unknown }).kernelTestResults)) as { name: string; pass: boolean; message?: string; error: number }[];
    expect(results.length).toBeGreaterThan(20);
    expect(results.filter((r) => !r.pass)).toEqual([]);
    await kernels.close();
  });

  test('without WebGPU the app says which browsers and flags work', async () => {
    const plain = await launch(false);
    try {
      const page = await plain.newPage();
      await page.goto(server.url);
      await page.waitForSelector('#banner:not([hidden])', { timeout: 30_000 });
      expect(await page.getAttribute('#banner', 'data-kind')).toBe('no-webgpu');
      expect(await page.textContent('#banner-text')).toMatch(/--enable-unsafe-webgpu/);
      expect(await page.isDisabled('#open-weights')).toBe(true);
    } finally {
      await plain.close();
    }
  });
});
