// The browser app in a real browser: Debian's Chromium driven by playwright-core, WebGPU from SwiftShader
// (--enable-unsafe-webgpu on a machine without a GPU); helpers/browser-app.ts builds, serves and opens the app.
// A tiny generator (test/helpers/tiny-model.ts) and a generated page keep it fast. Skips, saying so, only when
// /usr/bin/chromium is missing (`apt-get install chromium`; .ci/run installs it). The tools (chapters, eraser,
// eyedropper, zoom, palette, device loss, …) are in browser-app-tools.test.ts; the page without WebGPU, at 1280×800,
// in browser-app-first-contact.test.ts.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { hasChromium, maxDifference, meanAround, pagePng, useBrowserApp, type Pixels } from './helpers/browser-app.js';

// SwiftShader runs a generator pass here in seconds even at this size: the page is small, the working size
// is the quick-preview 128 (the page's own width), and every test keeps its passes few.
const PAGE = { width: 128, height: 160 };

describe.skipIf(!hasChromium)('the browser app in Chromium', () => {
  const app = useBrowserApp();
  const page = (file: string) => join(app.dir, file);
  beforeAll(async () => writeFileSync(page('page.png'), await pagePng(PAGE, 3)));

  test('starts WebGPU in its worker, under the CSP, asking nothing of other origins', async () => {
    const response = await app.tab.goto(app.server.url);
    expect(response!.headers()['content-security-policy']).toContain("default-src 'none'");
    await app.tab.waitForSelector('#open-weights:not([disabled])', { timeout: 30_000 });
    expect(await app.tab.getAttribute('#model-status', 'title')).toMatch(/swiftshader/i);
  });

  test('a file that is not a model gets the strict report as text', async () => {
    await app.chooseFile('#open-weights', page('page.png'));
    await app.tab.waitForSelector('#banner:not([hidden])');
    expect(await app.tab.getAttribute('#banner', 'data-kind')).toBe('weights');
    expect(await app.tab.textContent('#banner-text')).toMatch(/page\.png: .*PNG image/);
    await app.tab.click('#banner-close');
  });

  test('loads weights, opens a page and colours it', async () => {
    await app.chooseFile('#open-weights', page('tiny.safetensors'));
    await app.tab.waitForFunction(() => /from tiny\.safetensors$/.test(document.getElementById('model-status')!.textContent!));
    await app.tab.selectOption('#working-size', '128');
    // The synthetic page is a grey render, for which the default blend (auto) keeps the page's lightness
    // (luminance); these tests follow dots into the output, which multiply shows at full strength.
    await app.tab.selectOption('#blend', 'multiply');
    const before = await app.passes();
    await app.chooseFile('#open-page', page('page.png'));
    await app.waitForPass(before);
    expect(await app.tab.textContent('#last-pass')).toMatch(/last pass \d+\.\d\d s/);
  });

  let baseline: Pixels;
  let withRed: Pixels;
  const red = { x: 35, y: 45 };
  const blue = { x: 95, y: 120 };
  const far = { x: 105, y: 25 };

  test('dots recolour the page toward their colours; the export has the page size', async () => {
    baseline = await app.exportedPixels();
    expect([baseline.width, baseline.height]).toEqual([PAGE.width, PAGE.height]);
    // The second dot lands while the first one's pass runs: the app runs one more pass with both after it.
    const n = await app.passes();
    const view = await app.fitted(PAGE);
    await app.placeDot(red.x, red.y, '#ff0000', view);
    await app.placeDot(blue.x, blue.y, '#0000ff', view);
    await app.waitForPass(n);
    expect(await app.tab.textContent('#dot-count')).toBe('2 dots');
    const coloured = await app.exportedPixels();
    const redness = (c: number[]) => c[0] - (c[1] + c[2]) / 2;
    const blueness = (c: number[]) => c[2] - (c[0] + c[1]) / 2;
    expect(redness(meanAround(coloured, red.x, red.y)) - redness(meanAround(baseline, red.x, red.y))).toBeGreaterThan(0.2);
    expect(blueness(meanAround(coloured, blue.x, blue.y)) - blueness(meanAround(baseline, blue.x, blue.y))).toBeGreaterThan(0.2);
    // Far from both dots the page keeps its colours.
    const farAway = [meanAround(coloured, far.x, far.y), meanAround(baseline, far.x, far.y)];
    expect(Math.max(...farAway[0].map((v, c) => Math.abs(v - farAway[1][c])))).toBeLessThan(0.05);
  });

  test('undo removes the last dot and recolours', async () => {
    const n = await app.passes();
    await app.tab.keyboard.press('Control+z');
    await app.waitForPass(n);
    expect(await app.tab.textContent('#dot-count')).toBe('1 dot');
    withRed = await app.exportedPixels();
    const blueRegion = [meanAround(withRed, blue.x, blue.y), meanAround(baseline, blue.x, blue.y)];
    expect(Math.max(...blueRegion[0].map((v, c) => Math.abs(v - blueRegion[1][c])))).toBeLessThan(0.05);
  });

  test('hints save as the command line JSON and load back to the same result', async () => {
    const { name, bytes } = await app.downloadFrom('#save-hints');
    expect(name).toBe('page.hints.json');
    const saved = JSON.parse(bytes.toString('utf8'));
    expect(saved).toMatchObject({ width: PAGE.width, height: PAGE.height, dots: [{ x: red.x, y: red.y, color: '#ff0000', size: 3 }] });
    expect(saved.hints.length).toBe(9); // a size-3 dot on a page the size of its canvas: 3×3 model pixels
    for (const h of saved.hints) expect(h.color).toBe('#ff0000');
    writeFileSync(page('saved.json'), bytes);

    // Without auto-recolour, clearing and loading cost no passes; one click on Colour then runs one.
    await app.tab.uncheck('#auto-recolour');
    await app.tab.click('#clear');
    expect(await app.tab.textContent('#dot-count')).toBe('0 dots');
    await app.chooseFile('#load-hints', page('saved.json'));
    const n = await app.passes();
    await app.tab.click('#recolour');
    await app.waitForPass(n);
    expect(await app.tab.textContent('#dot-count')).toBe('1 dot');
    expect(maxDifference(await app.exportedPixels(), withRed)).toBeLessThanOrEqual(1 / 255);
    expect(app.consoleErrors).toEqual([]);
    expect(app.requests.filter((u) => !u.startsWith(app.server.url) && !u.startsWith('blob:') && !u.startsWith('data:'))).toEqual([]);
  });

  test("the engine's kernels pass inside the browser", async () => {
    const kernels = await app.browser.newPage();
    await kernels.goto(`${app.server.url}kernel-tests.html`);
    await kernels.waitForFunction(() => 'kernelTestResults' in window, null, { timeout: 60_000 });
    const results = (await kernels.evaluate(() => (window as unknown as { kernelTestResults: unknown }).kernelTestResults)) as { name: string; pass: boolean; message?: string; error: number }[];
    expect(results.length).toBeGreaterThan(20);
    expect(results.filter((r) => !r.pass)).toEqual([]);
    await kernels.close();
  });
});
