// The browser app's tools in Chromium (helpers/browser-app.ts starts it as browser-app.test.ts does): a CBZ chapter
// dropped on the view and its page strip, the document palette across pages and sessions (a right click removes a
// swatch), the eraser, the eyedropper and the reference image, zoom and pan (the middle button pans with any tool),
// auto-hint, CBZ export, a page too large for the device, a lost device during a pass (the test kills Chromium's
// GPU process) and pasting a page. One tab runs through them in order, each test starting where the last one left
// the app; every generator pass costs seconds on SwiftShader, so they are few and the pages are small at working
// size 128. Recovery from a device lost between passes, and passes at the size a too-large page is offered, are in
// browser-app-recovery.test.ts.
import { unzipSync, zipSync } from 'fflate';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, test } from 'vitest';
import type { Size } from '../src/data/resize.js';
import { decodePixels, hasChromium, hexOf, maxDifference, meanAround, pagePng, useBrowserApp, zoomAbout, type Pixels, type ViewTransform } from './helpers/browser-app.js';

// The chapter's pages, in the archive out of order: the app sorts them naturally (p1, p2, p10). p1 and p2 are in
// colour (Export CBZ leaves them as they are), p10 is grey.
const P1 = { width: 128, height: 160 };
const P2 = { width: 128, height: 128 };
const P10 = { width: 96, height: 128 };
const PALETTE_BLUE = '#00a0ff';
const blueness = (c: number[]) => c[2] - (c[0] + c[1]) / 2;
const redness = (c: number[]) => c[0] - (c[1] + c[2]) / 2;

describe.skipIf(!hasChromium)('the browser app’s tools in Chromium', () => {
  const app = useBrowserApp();
  const pages: Record<string, Buffer> = {};
  let cbz: Uint8Array;

  beforeAll(async () => {
    pages.p1 = await pagePng(P1, 11);
    pages.p2 = await pagePng(P2, 12);
    pages.p10 = await pagePng(P10, 13, { grey: true });
    cbz = zipSync({
      'ch/p10.png': pages.p10,
      'ch/notes.txt': new TextEncoder().encode('not a page'),
      'ch/p2.png': pages.p2,
      '__MACOSX/ch/._p1.png': new Uint8Array(8),
      'ch/p1.png': pages.p1,
    });
    // A reference sheet: two flat colours side by side.
    const half = (hex: string) => ({ create: { width: 100, height: 60, channels: 3 as const, background: hex } });
    const reference = await sharp(half('#12ab34'))
      .extend({ right: 100, background: '#c0ffee' })
      .png()
      .toBuffer();
    writeFileSync(join(app.dir, 'reference.png'), reference);
  });

  const tab = () => app.tab;
  const busy = () => tab().waitForFunction(() => document.body.dataset.busy === 'true');
  const dotCount = () => tab().textContent('#dot-count');
  const hex = () => tab().inputValue('#hex');
  /** The colours of the swatches `selector` finds, in order. */
  const swatchColours = (selector: string) => tab().locator(selector).evaluateAll((bs) => bs.map((b) => (b as HTMLElement).dataset.colour));
  const setSplit = (split: number) =>
    tab().evaluate((v) => {
      const input = document.getElementById('split') as HTMLInputElement;
      input.value = String(v);
      input.dispatchEvent(new Event('input'));
    }, split);
  const clickPage = async (x: number, y: number, view: ViewTransform, button: 'left' | 'right' = 'left') => {
    const at = await app.screenOf(x, y, view);
    await tab().mouse.click(at.x, at.y, { button });
  };
  const drag = async (from: { x: number; y: number }, to: { x: number; y: number }) => {
    await tab().mouse.move(from.x, from.y);
    await tab().mouse.down();
    await tab().mouse.move(to.x, to.y, { steps: 4 });
    await tab().mouse.up();
  };
  /** The stages the status line showed since the last call (a MutationObserver installed by the first test). */
  const stagesSeen = () => tab().evaluate(() => (window as unknown as { stages: string[] }).stages.splice(0));

  /** The view's pixels are the result's under `view` (nearest-neighbour at zoom ≥ 1), wherever the page shows. */
  async function expectViewShows(result: Pixels, view: ViewTransform): Promise<void> {
    const box = (await tab().locator('#view').boundingBox())!;
    const controls = (await tab().locator('.view-controls').boundingBox())!;
    const shot = await decodePixels(await tab().locator('#view').screenshot());
    // A screen pixel whose centre lies within half a screen pixel of a page pixel's edge may show either one, or
    // (Chromium's GPU canvas even with smoothing off) a blend of the two: any value between theirs is right. Any
    // more blur fails: the view's backing store must map 1:1 to device pixels (PageView's constructor).
    const reach = 0.49 / view.zoom;
    let compared = 0;
    const wrong: string[] = [];
    for (let sy = 1; sy < shot.height; sy += 5) {
      for (let sx = 1; sx < shot.width; sx += 5) {
        if (box.x + sx >= controls.x && box.y + sy >= controls.y) continue;
        const [px, py] = [(sx + 0.5 - view.panX) / view.zoom, (sy + 0.5 - view.panY) / view.zoom];
        // Off the page, or on its outermost screen pixel, which the canvas blends with the background.
        const inside = (v: number, size: number) => v * view.zoom >= 1 && (size - v) * view.zoom >= 1;
        if (!inside(px, result.width) || !inside(py, result.height)) continue;
        const near: number[][] = [];
        for (const y of new Set([Math.floor(py - reach), Math.floor(py + reach)])) for (const x of new Set([Math.floor(px - reach), Math.floor(px + reach)])) near.push(result.at(x, y));
        const seen = shot.at(sx, sy);
        const matches = seen.every((v, c) => v >= Math.min(...near.map((n) => n[c])) - 2 / 255 && v <= Math.max(...near.map((n) => n[c])) + 2 / 255);
        compared++;
        if (!matches) wrong.push(`(${sx}, ${sy}) shows ${hexOf(seen)}, page (${px.toFixed(1)}, ${py.toFixed(1)}) is ${hexOf(result.at(Math.floor(px), Math.floor(py)))}`);
      }
    }
    expect(compared).toBeGreaterThan(100);
    expect(wrong.slice(0, 5)).toEqual([]);
  }

  let p1Plain: Pixels;
  let p2Plain: Pixels;

  test('opens with the tiny model at working size 128', async () => {
    await tab().goto(app.server.url);
    await tab().waitForSelector('#open-weights:not([disabled])', { timeout: 30_000 });
    await tab().evaluate(() => {
      const stage = document.getElementById('stage')!;
      const stages: string[] = [];
      (window as unknown as { stages: string[] }).stages = stages;
      new MutationObserver(() => stages.push(stage.textContent ?? '')).observe(stage, { childList: true, characterData: true, subtree: true });
    });
    await app.chooseFile('#open-weights', join(app.dir, 'tiny.safetensors'));
    await tab().waitForFunction(() => /from tiny\.safetensors$/.test(document.getElementById('model-status')!.textContent!));
    await tab().selectOption('#working-size', '128');
    // These tests follow dots into the output; the default blend (multiply on line art) darkens them under the page's ink.
    await tab().selectOption('#blend', 'detail');
  });

  test('a dropped CBZ opens as a page strip in natural order; a page picked during a pass is coloured after it', async () => {
    const n = await app.passes();
    await app.give('drop', [{ name: 'chapter.cbz', type: 'application/zip', bytes: cbz }]);
    expect(await tab().getAttribute('#viewport', 'class')).not.toMatch(/dragover/);
    await busy();
    expect(await tab().locator('#strip button span').allTextContents()).toEqual(['1. p1', '2. p2', '3. p10']);
    expect(await tab().getAttribute('#strip button:nth-child(1)', 'class')).toBe('current');
    // Page 2 is picked while page 1's first pass runs: once that pass ends, page 2 is coloured.
    await tab().click('#strip button:nth-child(2)');
    await tab().waitForSelector('#strip button:nth-child(2).current');
    await app.waitForPass(n + 1);
    p2Plain = await app.exportedPixels('p2_colorized.png');
    expect([p2Plain.width, p2Plain.height]).toEqual([P2.width, P2.height]);
  });

  test('the document palette carries a colour to another page', async () => {
    await app.setColour(PALETTE_BLUE);
    await tab().click('#palette-add');
    expect(await tab().getAttribute('#document-palette button', 'data-colour')).toBe(PALETTE_BLUE);
    expect(await tab().evaluate(() => localStorage.getItem('manga-colorize:document-palette'))).toBe(JSON.stringify([PALETTE_BLUE]));
    await app.setColour('#ff0000');
    // Back on page 1 (coloured already: no pass), the palette's swatch gives the colour for its dot.
    const n = await app.passes();
    await tab().click('#strip button:nth-child(1)');
    await tab().waitForSelector('#strip button:nth-child(1).current');
    p1Plain = await app.exportedPixels('p1_colorized.png');
    expect(await app.passes()).toBe(n);
    await tab().click(`#document-palette button[data-colour="${PALETTE_BLUE}"]`);
    expect(await hex()).toBe(PALETTE_BLUE);
    await clickPage(40, 40, await app.fitted(P1));
    await app.waitForPass(n);
    const saved = JSON.parse((await app.downloadFrom('#save-hints')).bytes.toString('utf8'));
    expect(saved.dots).toEqual([{ x: 40, y: 40, color: PALETTE_BLUE, size: 3 }]);
    const coloured = await app.exportedPixels('p1_colorized.png');
    expect(blueness(meanAround(coloured, 40, 40)) - blueness(meanAround(p1Plain, 40, 40))).toBeGreaterThan(0.2);
  });

  test('a right click on a document palette swatch removes it, for good; on other swatches it removes nothing', async () => {
    const GREEN = '#33cc33';
    await app.setColour(GREEN);
    await tab().click('#palette-add');
    const palette = () => swatchColours('#document-palette button');
    expect(await palette()).toEqual([PALETTE_BLUE, GREEN]);
    expect(await tab().getAttribute(`#document-palette button[data-colour="${GREEN}"]`, 'title')).toBe(`${GREEN} (right-click to remove)`);
    // Whether each context menu's default (the browser's menu) was prevented, seen after the swatch's handler.
    await tab().evaluate(() => {
      const prevented: boolean[] = [];
      (window as unknown as { menus: boolean[] }).menus = prevented;
      document.addEventListener('contextmenu', (e) => prevented.push(e.defaultPrevented));
    });
    const menus = () => tab().evaluate(() => (window as unknown as { menus: boolean[] }).menus.splice(0));
    await app.setColour('#123456');
    await tab().click(`#document-palette button[data-colour="${GREEN}"]`, { button: 'right' });
    expect(await palette()).toEqual([PALETTE_BLUE]);
    expect(await tab().evaluate(() => localStorage.getItem('manga-colorize:document-palette'))).toBe(JSON.stringify([PALETTE_BLUE]));
    expect(await menus()).toEqual([true]);
    // A right click is no pick: the colour stays.
    expect(await hex()).toBe('#123456');
    // The recent colours and the built-in palette have no removal: a right click there leaves them as they are.
    const recent = await swatchColours('#recent button');
    expect(recent).toContain(PALETTE_BLUE);
    await tab().click(`#recent button[data-colour="${PALETTE_BLUE}"]`, { button: 'right' });
    await tab().click('#swatches button[data-colour="#ffffff"]', { button: 'right' });
    expect(await menus()).toEqual([false, false]);
    expect(await swatchColours('#recent button')).toEqual(recent);
    expect(await tab().locator('#swatches button[data-colour="#ffffff"]').count()).toBe(1);
    expect(await palette()).toEqual([PALETTE_BLUE]);
    expect(await hex()).toBe('#123456');
  });

  test('the eraser removes the dot under a click and every dot in a dragged rectangle; a right click places none', async () => {
    await tab().uncheck('#auto-recolour');
    const view = await app.fitted(P1);
    await app.placeDot(90, 30, '#ffcc00', view);
    await app.placeDot(100, 44, '#ff00ff', view);
    await clickPage(20, 130, view, 'right');
    expect(await dotCount()).toBe('3 dots');
    await tab().keyboard.press('e');
    await clickPage(40, 40, view);
    expect(await dotCount()).toBe('2 dots');
    await drag(await app.screenOf(80, 20, view), await app.screenOf(110, 50, view));
    expect(await dotCount()).toBe('0 dots');
    // Erasing with auto-recolour off costs no pass; Colour then brings back the page without dots.
    const n = await app.passes();
    await tab().click('#recolour');
    await app.waitForPass(n);
    expect(maxDifference(await app.exportedPixels('p1_colorized.png'), p1Plain)).toBeLessThanOrEqual(1 / 255);
  });

  test('the eyedropper picks the result under the pointer, or the page beyond the before/after line', async () => {
    const view = await app.fitted(P1);
    const page = await decodePixels(pages.p1);
    const at = { x: 60, y: 75 };
    expect(hexOf(p1Plain.at(at.x, at.y))).not.toBe(hexOf(page.at(at.x, at.y)));
    await tab().keyboard.press('i');
    await clickPage(at.x, at.y, view);
    expect(await hex()).toBe(hexOf(p1Plain.at(at.x, at.y)));
    await setSplit(0);
    await clickPage(at.x, at.y, view);
    expect(await hex()).toBe(hexOf(page.at(at.x, at.y)));
    await setSplit(1);
    expect(await dotCount()).toBe('0 dots');
  });

  test('a click on the reference image picks its colour there', async () => {
    await app.chooseFile('#open-reference', join(app.dir, 'reference.png'));
    await tab().waitForFunction(() => (document.getElementById('reference') as HTMLCanvasElement).height > 0);
    const box = (await tab().locator('#reference').boundingBox())!;
    await tab().click('#reference', { position: { x: box.width * 0.25, y: box.height / 2 } });
    expect(await hex()).toBe('#12ab34');
    await tab().click('#reference', { position: { x: box.width * 0.75, y: box.height / 2 } });
    expect(await hex()).toBe('#c0ffee');
  });

  test('zoom and pan move the view, and dots land under the pointer, without changing the result', async () => {
    const n = await app.passes();
    const box = (await tab().locator('#view').boundingBox())!;
    const centre = { x: box.width / 2, y: box.height / 2 };
    await tab().keyboard.press('d');
    let view = await app.fitted(P1);
    await expectViewShows(p1Plain, view);

    await tab().click('#zoom-in');
    view = zoomAbout(view, 1.25, centre.x, centre.y);
    await expectViewShows(p1Plain, view);

    // Ctrl+wheel zooms about the pointer; the wheel alone sizes the dot.
    const pointer = await app.screenOf(30, 50, view);
    await tab().mouse.move(pointer.x, pointer.y);
    await tab().keyboard.down('Control');
    await tab().mouse.wheel(0, -100);
    await tab().keyboard.up('Control');
    view = zoomAbout(view, 1.15, pointer.x - box.x, pointer.y - box.y);
    await expectViewShows(p1Plain, view);
    await tab().mouse.wheel(0, -100);
    expect(await tab().textContent('#dot-size-value')).toBe('4');
    await tab().mouse.wheel(0, 100);
    expect(await tab().textContent('#dot-size-value')).toBe('3');

    // Space+drag pans with the dot tool, placing nothing.
    const from = await app.screenOf(60, 60, view);
    await tab().keyboard.down(' ');
    await drag(from, { x: from.x - 40, y: from.y - 30 });
    await tab().keyboard.up(' ');
    view = { ...view, panX: view.panX - 40, panY: view.panY - 30 };
    await expectViewShows(p1Plain, view);
    expect(await dotCount()).toBe('0 dots');

    await tab().keyboard.press('h');
    const start = await app.screenOf(50, 50, view);
    await drag(start, { x: start.x + 25, y: start.y + 15 });
    view = { ...view, panX: view.panX + 25, panY: view.panY + 15 };
    await expectViewShows(p1Plain, view);

    // A dot placed in the zoomed, panned view lands on the page pixel under the pointer.
    await tab().keyboard.press('d');
    await app.placeDot(50, 60, '#ff0000', view);
    const saved = JSON.parse((await app.downloadFrom('#save-hints')).bytes.toString('utf8'));
    expect(saved.dots).toEqual([{ x: 50, y: 60, color: '#ff0000', size: 3 }]);
    await tab().keyboard.press('Control+z');
    expect(await dotCount()).toBe('0 dots');

    await tab().click('#zoom-1');
    view = zoomAbout(view, 1 / view.zoom, centre.x, centre.y);
    await expectViewShows(p1Plain, view);
    await tab().click('#zoom-fit');
    await expectViewShows(p1Plain, await app.fitted(P1));
    expect(await app.passes()).toBe(n);
    expect(maxDifference(await app.exportedPixels('p1_colorized.png'), p1Plain)).toBeLessThanOrEqual(1 / 255);
  });

  test('a middle-button drag pans the zoomed view whatever the tool, placing and erasing nothing', async () => {
    const n = await app.passes();
    const box = (await tab().locator('#view').boundingBox())!;
    await tab().click('#zoom-in');
    let view = zoomAbout(await app.fitted(P1), 1.25, box.width / 2, box.height / 2);
    // The dot tool; the left button pressed and released during the drag (a chord, no pointerdown) adds nothing.
    const from = await app.screenOf(60, 60, view);
    await tab().mouse.move(from.x, from.y);
    await tab().mouse.down({ button: 'middle' });
    await tab().mouse.move(from.x - 20, from.y - 15, { steps: 2 });
    await tab().mouse.down({ button: 'left' });
    await tab().mouse.up({ button: 'left' });
    await tab().mouse.move(from.x - 40, from.y - 30, { steps: 2 });
    await tab().mouse.up({ button: 'middle' });
    view = { ...view, panX: view.panX - 40, panY: view.panY - 30 };
    await expectViewShows(p1Plain, view);
    expect(await dotCount()).toBe('0 dots');

    // The eraser: a middle drag whose rectangle holds a dot pans and leaves the dot.
    await app.placeDot(50, 60, '#ff0000', view);
    expect(await dotCount()).toBe('1 dot');
    await tab().keyboard.press('e');
    const start = await app.screenOf(40, 50, view);
    await tab().mouse.move(start.x, start.y);
    await tab().mouse.down({ button: 'middle' });
    await tab().mouse.move(start.x + 80, start.y + 70, { steps: 4 });
    await tab().mouse.up({ button: 'middle' });
    view = { ...view, panX: view.panX + 80, panY: view.panY + 70 };
    expect(await dotCount()).toBe('1 dot');
    // A dot placed now lands on the page pixel under the pointer in the view panned twice.
    await tab().keyboard.press('d');
    await app.placeDot(70, 40, '#00ff00', view);
    const saved = JSON.parse((await app.downloadFrom('#save-hints')).bytes.toString('utf8'));
    expect(saved.dots.map(({ x, y }: { x: number; y: number }) => ({ x, y }))).toEqual([
      { x: 50, y: 60 },
      { x: 70, y: 40 },
    ]);
    await tab().keyboard.press('Control+z');
    await tab().keyboard.press('Control+z');
    expect(await dotCount()).toBe('0 dots');
    await tab().click('#zoom-fit');
    expect(await app.passes()).toBe(n);
  });

  test('auto-hint runs the generator twice in one recolour; turning it off gives the one-pass result back', async () => {
    await stagesSeen();
    const n = await app.passes();
    await tab().check('#auto-hint');
    await app.waitForPass(n);
    expect(await app.passes()).toBe(n + 1);
    const stages = await stagesSeen();
    expect(stages.indexOf('colouring with auto-hints…')).toBeGreaterThan(stages.indexOf('colouring…'));
    expect(maxDifference(await app.exportedPixels('p1_colorized.png'), p1Plain, 1)).toBeGreaterThan(2 / 255);
    await tab().uncheck('#auto-hint');
    await app.waitForPass(n + 1);
    expect(await stagesSeen()).not.toContain('colouring with auto-hints…');
    expect(maxDifference(await app.exportedPixels('p1_colorized.png'), p1Plain)).toBeLessThanOrEqual(1 / 255);
  });

  test('Export CBZ colours the grey pages not coloured yet, leaves pages in colour as they were, keeps the other entries; a dot placed meanwhile is coloured after', async () => {
    await tab().check('#auto-recolour');
    await stagesSeen();
    const n = await app.passes();
    const [download] = await Promise.all([
      tab().waitForEvent('download'),
      (async () => {
        await tab().click('#export-cbz');
        await tab().waitForFunction(() => (window as unknown as { stages: string[] }).stages.includes('page 3 of 3…'));
        await app.placeDot(30, 100, '#ff0000', await app.fitted(P1));
      })(),
    ]);
    expect(download.suggestedFilename()).toBe('chapter_colorized.cbz');
    const entries = unzipSync(readFileSync(await download.path()));
    // As the command line writes a chapter: the archive's own order, its other entries kept as they were.
    expect(Object.keys(entries)).toEqual(['ch/p10.png', 'ch/notes.txt', 'ch/p2.png', '__MACOSX/ch/._p1.png', 'ch/p1.png']);
    expect(new TextDecoder().decode(entries['ch/notes.txt'])).toBe('not a page');
    const sizes: Size[] = [];
    for (const bytes of ['ch/p1.png', 'ch/p2.png', 'ch/p10.png'].map((name) => entries[name])) {
      const { width, height } = await sharp(bytes).metadata();
      sizes.push({ width: width!, height: height! });
    }
    expect(sizes).toEqual([P1, P2, P10]);
    // Pages already in colour are the archive's own bytes, as the command line copies them; the grey one is coloured.
    expect(Buffer.from(entries['ch/p1.png']).equals(pages.p1)).toBe(true);
    expect(Buffer.from(entries['ch/p2.png']).equals(pages.p2)).toBe(true);
    expect(Buffer.from(entries['ch/p10.png']).equals(pages.p10)).toBe(false);
    await tab().waitForFunction(() => /^Exported\./.test(document.getElementById('banner-text')!.textContent!));
    expect(await tab().getAttribute('#banner', 'data-kind')).toBe('info');
    expect(await tab().textContent('#banner-text')).toMatch(/Left 2 pages already in colour as they were \(colourfulness ≥ 20[^]*\nch\/p1\.png \(colourfulness \d+\.\d\)\nch\/p2\.png \(colourfulness \d+\.\d\)$/);
    // The dot placed during the export is coloured once the export is done.
    await app.waitForPass(n);
    expect(await dotCount()).toBe('1 dot');
    const withDot = await app.exportedPixels('p1_colorized.png');
    expect(redness(meanAround(withDot, 30, 100)) - redness(meanAround(p1Plain, 30, 100))).toBeGreaterThan(0.2);
  });

  test('a page too large for the device: the banner offers the largest listed size that fits, which passes the check', async () => {
    await tab().uncheck('#auto-recolour');
    const limit = await tab().evaluate(async () => (await navigator.gpu.requestAdapter())!.limits.maxStorageBufferBindingSize);
    // The tiny generator's widest full-resolution tensor has 16 channels (64 bytes a pixel): at working size 1024
    // a strip this long needs 1.25 times the device's largest storage binding.
    const aspect = Math.ceil((1.25 * limit) / (64 * 1024 ** 2));
    await app.give('drop', [{ name: 'strip.png', type: 'image/png', bytes: await pagePng({ width: 16, height: 16 * aspect }, 21) }]);
    await tab().waitForSelector('#strip:empty', { state: 'attached' });
    await stagesSeen();
    await tab().selectOption('#working-size', '1024');
    await tab().waitForSelector('#banner[data-kind="too-large"]:not([hidden])');
    expect(await tab().textContent('#banner-text')).toMatch(/needs a \d+ MiB tensor[^]*at working size 1024 does not fit/);
    const size = /^Use (\d+)$/.exec((await tab().textContent('#banner-action'))!)?.[1];
    expect(Number(size)).toBeLessThan(1024);
    await tab().click('#banner-action');
    expect(await tab().isHidden('#banner')).toBe(true);
    expect(await tab().inputValue('#working-size')).toBe(size);
    // Past the check the worker starts on the page; the next test stops it (a pass this large takes minutes here).
    await tab().waitForFunction(() => (window as unknown as { stages: string[] }).stages.includes('line art and distance field…'));
  });

  test('a lost device: Restart engine reloads the model at the chosen size and colours the page pasted meanwhile', async () => {
    app.killGpuProcess();
    await tab().waitForSelector('#banner[data-kind="device-lost"]:not([hidden])');
    expect(await tab().textContent('#banner-action')).toBe('Restart engine');
    // While the engine is down: a page pasted, the quick size picked again, a dot placed; none of it needs the engine.
    await app.give('paste', [{ name: 'image.png', type: 'image/png', bytes: pages.p2 }]);
    await expect.poll(async () => JSON.parse((await app.downloadFrom('#save-hints')).bytes.toString('utf8'))).toMatchObject(P2);
    await tab().selectOption('#working-size', '128');
    await app.placeDot(64, 64, '#ff0000', await app.fitted(P2));
    expect(await dotCount()).toBe('1 dot');
    // The pass that was running failed on the lost device too; the banner keeps saying what happened, once.
    expect(await tab().textContent('#banner-text')).toMatch(/^The GPU device was lost: (?!The GPU device was lost)[^]*restart the engine to continue\.$/);
    const n = await app.passes();
    await tab().click('#banner-action');
    await app.waitForPass(n);
    expect(await tab().isHidden('#banner')).toBe(true);
    expect(await tab().inputValue('#working-size')).toBe('128');
    const coloured = await app.exportedPixels('image_colorized.png');
    expect(redness(meanAround(coloured, 64, 64)) - redness(meanAround(p2Plain, 64, 64))).toBeGreaterThan(0.2);
  });

  test('after a reload the browser still has the weights and the document palette', async () => {
    await tab().reload();
    await tab().waitForFunction(() => /from tiny\.safetensors$/.test(document.getElementById('model-status')!.textContent!));
    // The swatch removed with a right click stays removed.
    expect(await swatchColours('#document-palette button')).toEqual([PALETTE_BLUE]);
    expect(app.consoleErrors).toEqual([]);
    expect(app.requests.filter((u) => !u.startsWith(app.server.url) && !u.startsWith('blob:') && !u.startsWith('data:'))).toEqual([]);
  });
});
