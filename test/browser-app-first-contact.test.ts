// What a new user meets in the browser app, in Chromium at 1280×800 (helpers/browser-app.ts builds and serves it,
// with the project's shipped model and example page): a note naming the model in use, a "Try the example page"
// button on the empty screen, a header on one row, the before/after control clear of the page, and a brush
// stroke saved as dots.
import { readFileSync } from 'node:fs';
import { unzipSync, zipSync } from 'fflate';
import sharp from 'sharp';
import { describe, expect, test } from 'vitest';
import { hasChromium, pagePng, useBrowserApp } from './helpers/browser-app.js';

describe.skipIf(!hasChromium)('the browser app, first contact', () => {
  const app = useBrowserApp();

  test('the shipped model is named as such; the example page opens from the empty screen and is coloured', async () => {
    const tab = await app.browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    tab.on('pageerror', (e) => errors.push(e.message));
    await tab.goto(app.server.url);
    await tab.waitForFunction(() => document.getElementById('model-status')!.textContent === 'model: the small shipped one', undefined, { timeout: 60_000 });
    expect(await tab.getAttribute('#model-status', 'title')).toMatch(/project v1 generator.*not the published system's quality.*Weights…/s);
    // The header fits one row: every group starts on the first row.
    const tops = await tab.$$eval('header > *', (nodes) => nodes.map((n) => n.getBoundingClientRect().top));
    expect(Math.max(...tops) - Math.min(...tops)).toBeLessThan(12);
    expect(await tab.isVisible('#try-example')).toBe(true);
    await tab.selectOption('#working-size', '128');
    await tab.click('#try-example');
    await tab.waitForFunction(() => Number(document.body.dataset.passes ?? 0) > 0 && document.body.dataset.busy === 'false', undefined, { timeout: 120_000 });
    expect(await tab.isVisible('#empty')).toBe(false);
    // The page fitted in the view (768×1088) and the before/after control do not overlap.
    const view = (await tab.locator('#view').boundingBox())!;
    const zoom = Math.min(view.width / 768, view.height / 1088) * 0.98;
    const pageBox = { x: view.x + (view.width - 768 * zoom) / 2, y: view.y + (view.height - 1088 * zoom) / 2, width: 768 * zoom, height: 1088 * zoom };
    const controls = (await tab.locator('.view-controls').boundingBox())!;
    const overlaps = controls.x < pageBox.x + pageBox.width && pageBox.x < controls.x + controls.width && controls.y < pageBox.y + pageBox.height && pageBox.y < controls.y + controls.height;
    expect(overlaps, JSON.stringify({ pageBox, controls })).toBe(false);
    // A drag with the dot tool paints a stroke: dots along the path, saved as the command line's hints.
    await tab.click('#auto-recolour');
    const from = { x: pageBox.x + pageBox.width * 0.3, y: pageBox.y + pageBox.height * 0.5 };
    await tab.mouse.move(from.x, from.y);
    await tab.mouse.down();
    for (let k = 1; k <= 10; k++) await tab.mouse.move(from.x + k * 12, from.y + k * 3);
    await tab.mouse.up();
    const count = Number((await tab.textContent('#dot-count'))!.match(/\d+/)![0]);
    expect(count).toBeGreaterThan(3);
    const [download] = await Promise.all([tab.waitForEvent('download'), tab.click('#save-hints')]);
    const saved = JSON.parse(readFileSync(await download.path(), 'utf8')) as { dots: unknown[]; hints: unknown[] };
    expect(saved.dots).toHaveLength(count);
    expect(saved.hints.length).toBeGreaterThanOrEqual(count);
    await tab.click('#undo');
    expect(await tab.textContent('#dot-count')).toMatch(/^0 dots/);
    expect(errors).toEqual([]);
    await tab.screenshot({ path: `${app.dir}/first-contact.png` });
    if (process.env.APP_SCREENSHOT) await tab.screenshot({ path: process.env.APP_SCREENSHOT });

    // Export CBZ as the command line writes a chapter: ComicInfo.xml kept, an unreadable page reported and kept
    // as it was, the others coloured.
    const comicInfo = '<ComicInfo><Title>First contact</Title></ComicInfo>';
    const chapter = zipSync({ 'ComicInfo.xml': new TextEncoder().encode(comicInfo), '01.png': await pagePng({ width: 64, height: 80 }, 31), '02.png': new Uint8Array([137, 80, 78, 71, 1, 2, 3]) });
    await tab.evaluate((base64) => {
      const data = new DataTransfer();
      data.items.add(new File([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], 'broken.cbz', { type: 'application/zip' }));
      document.getElementById('view')!.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    }, Buffer.from(chapter).toString('base64'));
    await tab.waitForFunction(() => document.querySelectorAll('#strip button').length === 2);
    await tab.waitForFunction(() => document.body.dataset.busy === 'false' && !(document.getElementById('export-cbz') as HTMLButtonElement).disabled);
    const [exported] = await Promise.all([tab.waitForEvent('download'), tab.click('#export-cbz')]);
    const entries = unzipSync(readFileSync(await exported.path()));
    expect(Object.keys(entries)).toEqual(['ComicInfo.xml', '01.png', '02.png']);
    expect(new TextDecoder().decode(entries['ComicInfo.xml'])).toBe(comicInfo);
    expect([...entries['02.png']]).toEqual([137, 80, 78, 71, 1, 2, 3]);
    expect((await sharp(entries['01.png']).metadata()).width).toBe(64);
    await tab.waitForSelector('#banner:not([hidden])');
    expect(await tab.textContent('#banner-text')).toMatch(/1 page could not be read and is in the archive as it was:\n02\.png/);
    await tab.close();
  }, 180_000);
});
