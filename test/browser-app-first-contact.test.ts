// What a new user meets in the browser app, in Chromium at 1280×800 (helpers/browser-app.ts builds and serves it,
// with the project's shipped model and example page): a note naming the model in use, a "Try the example page"
// button on the empty screen, a header on one row, the before/after control clear of the page, nothing left running
// once work ends, a page that re-fits when a banner comes and goes, a brush stroke and a filled region saved as
// dots, Export CBZ as the command line writes a chapter, and a plain page without WebGPU. One tab runs through them
// in order, each test starting where the last one left the app.
import { readFileSync } from 'node:fs';
import { unzipSync, zipSync } from 'fflate';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { beforeAll, describe, expect, test } from 'vitest';
import { hintList, parseHintJson } from '../src/data/hints.js';
import { MAX_FILL_DOTS } from '../web/fill-region.js';
import { decodePixels, hasChromium, launch, pagePng, useBrowserApp, type Pixels } from './helpers/browser-app.js';

const VIEWPORT = { width: 1280, height: 800 };
/** examples/page.png, and its top panel's inside (the panel's lines are 4 pixels wide, at 30 and 734 | 330). */
const EXAMPLE = { width: 768, height: 1088 };
const TOP_PANEL = { x0: 34, y0: 34, x1: 733, y1: 329 };
/** The house's right window, inside its lines: narrower than a dot at working size 128 (6 page pixels a model pixel). */
const WINDOW = { x0: 227, y0: 197, x1: 246, y1: 212 };

/**
 * Counts the page's timers and animation frames (installed before the app's scripts run): live intervals, pending
 * timeouts, and animation frames that have run.
 */
const TIMER_PROBE = `(() => {
  const live = { intervals: new Set(), timeouts: new Set(), frames: 0 };
  window.timerProbe = live;
  const { setInterval: si, clearInterval: ci, setTimeout: st, clearTimeout: ct, requestAnimationFrame: raf } = window;
  window.setInterval = (fn, ms, ...args) => { const id = si(fn, ms, ...args); live.intervals.add(id); return id; };
  window.clearInterval = (id) => { live.intervals.delete(id); ci(id); };
  window.setTimeout = (fn, ms, ...args) => { const id = st((...a) => { live.timeouts.delete(id); if (typeof fn === 'function') fn(...a); }, ms, ...args); live.timeouts.add(id); return id; };
  window.clearTimeout = (id) => { live.timeouts.delete(id); ct(id); };
  window.requestAnimationFrame = (fn) => raf((t) => { live.frames++; fn(t); });
})();`;

interface Activity {
  intervals: number;
  timeouts: number;
  frames: number;
  animations: number;
  lastPass: string;
}
const activity = (tab: Page): Promise<Activity> =>
  tab.evaluate(() => {
    const probe = (window as unknown as { timerProbe: { intervals: Set<number>; timeouts: Set<number>; frames: number } }).timerProbe;
    return { intervals: probe.intervals.size, timeouts: probe.timeouts.size, frames: probe.frames, animations: document.getAnimations().length, lastPass: document.getElementById('last-pass')!.textContent! };
  });

/** Nothing runs: no interval or timeout waiting, no CSS animation, and no animation frame for a second. */
async function expectIdle(tab: Page): Promise<void> {
  await tab.waitForTimeout(300);
  const before = await activity(tab);
  await tab.waitForTimeout(1000);
  const after = await activity(tab);
  expect(after).toEqual({ ...before, intervals: 0, timeouts: 0, animations: 0 });
}

/** Where the view shows the page right after PageView.fit(): 0.98 of the view, centred (CSS pixels, in the view). */
async function fittedBox(tab: Page, page = EXAMPLE) {
  const view = (await tab.locator('#view').boundingBox())!;
  const zoom = Math.min(view.width / page.width, view.height / page.height) * 0.98;
  const [width, height] = [page.width * zoom, page.height * zoom];
  return { view, zoom, left: (view.width - width) / 2, top: (view.height - height) / 2, width, height };
}

/** Screen position of the centre of page pixel (x, y) in the fitted view. */
async function screenOf(tab: Page, x: number, y: number) {
  const box = await fittedBox(tab);
  return { x: box.view.x + box.left + (x + 0.5) * box.zoom, y: box.view.y + box.top + (y + 0.5) * box.zoom };
}

/** The page's edges in a screenshot of the view: where the middle row and column leave the dark background. */
async function shownEdges(tab: Page) {
  const shot = await decodePixels(await tab.locator('#view').screenshot());
  const light = (x: number, y: number) => shot.at(x, y).reduce((a, b) => a + b) / 3 > 0.3;
  const [mx, my] = [Math.floor(shot.width / 2), Math.floor(shot.height / 2)];
  const rows = [...Array(shot.height).keys()].filter((y) => light(mx, y));
  const columns = [...Array(shot.width).keys()].filter((x) => light(x, my));
  return { top: rows[0], bottom: rows.at(-1)! + 1, left: columns[0], right: columns.at(-1)! + 1 };
}

/** The shown page lies where fit() puts it in the view as it is now, to within 2 CSS pixels. */
async function expectFitted(tab: Page): Promise<void> {
  await expect
    .poll(async () => {
      const [edges, box] = [await shownEdges(tab), await fittedBox(tab)];
      const expected = { top: box.top, bottom: box.top + box.height, left: box.left, right: box.left + box.width };
      return Math.max(...(['top', 'bottom', 'left', 'right'] as const).map((k) => Math.abs(edges[k] - expected[k])));
    })
    .toBeLessThanOrEqual(2);
}

/** The header fits one row: every group, and the status, starts on the first row and keeps the row's height. */
async function expectOneRowHeader(tab: Page): Promise<void> {
  const tops = await tab.$$eval('header > *', (nodes) => nodes.map((n) => n.getBoundingClientRect().top));
  expect(Math.max(...tops) - Math.min(...tops)).toBeLessThan(12);
  expect((await tab.locator('header').boundingBox())!.height).toBeLessThan(45);
}

const savedHints = async (tab: Page) => {
  const [download] = await Promise.all([tab.waitForEvent('download'), tab.click('#save-hints')]);
  return readFileSync(await download.path(), 'utf8');
};
const dotCount = async (tab: Page) => Number((await tab.textContent('#dot-count'))!.match(/\d+/)![0]);

describe.skipIf(!hasChromium)('the browser app, first contact, at 1280×800', () => {
  const app = useBrowserApp();
  const tab = () => app.tab;
  let examplePixels: Pixels;

  beforeAll(async () => {
    examplePixels = await decodePixels(readFileSync('examples/page.png'));
    await tab().setViewportSize(VIEWPORT);
    await tab().addInitScript(TIMER_PROBE);
  });

  test('the shipped model is named as such; the example page opens from the empty screen and is coloured', async () => {
    await tab().goto(app.server.url);
    await tab().waitForFunction(() => document.getElementById('model-status')!.textContent === 'model: the small shipped one', undefined, { timeout: 60_000 });
    expect(await tab().getAttribute('#model-status', 'title')).toMatch(/project v1 generator.*not the published system's quality.*Weights…/s);
    await expectOneRowHeader(tab());
    expect(await tab().isVisible('#try-example')).toBe(true);
    await tab().selectOption('#working-size', '128');
    await tab().click('#try-example');
    // While the pass runs (progress bar, stage, ticking time) and after it (the pass's time) too.
    await tab().waitForFunction(() => document.body.dataset.busy === 'true' && document.getElementById('stage')!.textContent !== '');
    await expectOneRowHeader(tab());
    await tab().waitForFunction(() => Number(document.body.dataset.passes ?? 0) > 0 && document.body.dataset.busy === 'false', undefined, { timeout: 120_000 });
    await expectOneRowHeader(tab());
    // Idle, the status ("last pass 12.34 s") shows whole.
    expect(await tab().$eval('#status', (status) => status.scrollWidth <= status.clientWidth)).toBe(true);
    expect(await tab().isVisible('#empty')).toBe(false);
    // The page fitted in the view and the before/after control do not overlap.
    const box = await fittedBox(tab());
    const pageBox = { x: box.view.x + box.left, y: box.view.y + box.top, width: box.width, height: box.height };
    const controls = (await tab().locator('.view-controls').boundingBox())!;
    const overlaps = controls.x < pageBox.x + pageBox.width && pageBox.x < controls.x + controls.width && controls.y < pageBox.y + pageBox.height && pageBox.y < controls.y + controls.height;
    expect(overlaps, JSON.stringify({ pageBox, controls })).toBe(false);
  }, 180_000);

  test('once the pass has ended nothing keeps running: no interval, timeout, animation frame or CSS animation', async () => {
    await expectIdle(tab());
    expect((await activity(tab())).lastPass).toMatch(/^last pass \d+\.\d\d s$/);
  });

  test('the page re-fits when a banner appears and when it goes', async () => {
    await expectFitted(tab());
    const before = (await tab().locator('#view').boundingBox())!;
    // A file the app cannot use: the error banner takes room above the view.
    await app.give('drop', [{ name: 'notes.txt', type: 'text/plain', bytes: new TextEncoder().encode('not a page') }]);
    await tab().waitForSelector('#banner:not([hidden])');
    expect(await tab().textContent('#banner-text')).toMatch(/^notes\.txt: not a weights file/);
    const withBanner = (await tab().locator('#view').boundingBox())!;
    expect(withBanner.height).toBeLessThan(before.height - 10);
    await expectFitted(tab());
    await tab().click('#banner-close');
    await expect.poll(async () => (await tab().locator('#view').boundingBox())!.height).toBe(before.height);
    await expectFitted(tab());
    await expectIdle(tab());
  });

  test('a drag with the dot tool paints a stroke, saved as dots the command line reads; one undo removes it', async () => {
    await tab().uncheck('#auto-recolour');
    const from = await screenOf(tab(), 230, 544);
    await tab().mouse.move(from.x, from.y);
    await tab().mouse.down();
    for (let k = 1; k <= 10; k++) await tab().mouse.move(from.x + k * 12, from.y + k * 3);
    await tab().mouse.up();
    const count = await dotCount(tab());
    expect(count).toBeGreaterThan(3);
    const saved = await savedHints(tab());
    expect((JSON.parse(saved) as { dots: unknown[] }).dots).toHaveLength(count);
    expect(parseHintJson(saved).x.length).toBeGreaterThanOrEqual(count);
    await tab().click('#undo');
    expect(await dotCount(tab())).toBe(0);
  });

  test('the fill tool covers the enclosed region under a click with dots, bounded by the lines, saved as hints the command line reads', async () => {
    await tab().keyboard.press('f');
    expect(await tab().isChecked('input[name=tool][value=fill]')).toBe(true);
    await tab().fill('#hex', '#3a7bd5');
    await tab().press('#hex', 'Enter');
    // The top panel's open area around the house, the tree and the sun.
    let at = await screenOf(tab(), 100, 280);
    await tab().mouse.click(at.x, at.y);
    const panelDots = await dotCount(tab());
    expect(panelDots).toBeGreaterThan(5);
    expect(panelDots).toBeLessThanOrEqual(MAX_FILL_DOTS);
    let saved = await savedHints(tab());
    const dots = (JSON.parse(saved) as { dots: { x: number; y: number; color: string; size: number }[] }).dots;
    expect(dots).toHaveLength(panelDots);
    const inPanel = (d: { x: number; y: number }) => d.x >= TOP_PANEL.x0 && d.x <= TOP_PANEL.x1 && d.y >= TOP_PANEL.y0 && d.y <= TOP_PANEL.y1;
    const onPaper = (d: { x: number; y: number }) => examplePixels.at(d.x, d.y).every((v) => v > 0.9);
    for (const d of dots) {
      expect(d).toMatchObject({ color: '#3a7bd5', size: 3 });
      expect(inPanel(d) && onPaper(d), JSON.stringify(d)).toBe(true);
    }
    // They spread over the panel, not around the click alone.
    expect(Math.max(...dots.map((d) => d.x)) - Math.min(...dots.map((d) => d.x))).toBeGreaterThan(400);
    // The command line reads them as hint pixels, every one inside the panel.
    const hints = hintList(parseHintJson(saved));
    expect(hints.length).toBeGreaterThan(panelDots);
    expect(hints.every((h) => inPanel(h))).toBe(true);

    // A window of the house, smaller than a dot: one dot, inside it. One click is one undo step.
    at = await screenOf(tab(), 236, 204);
    await tab().mouse.click(at.x, at.y);
    expect(await dotCount(tab())).toBe(panelDots + 1);
    saved = await savedHints(tab());
    const windowDot = (JSON.parse(saved) as { dots: { x: number; y: number }[] }).dots.at(-1)!;
    expect(windowDot.x >= WINDOW.x0 && windowDot.x <= WINDOW.x1 && windowDot.y >= WINDOW.y0 && windowDot.y <= WINDOW.y1, JSON.stringify(windowDot)).toBe(true);
    await tab().click('#undo');
    expect(await dotCount(tab())).toBe(panelDots);

    // A click on a line fills nothing and says why.
    at = await screenOf(tab(), 32, 200);
    await tab().mouse.click(at.x, at.y);
    expect(await dotCount(tab())).toBe(panelDots);
    expect(await tab().getAttribute('#banner', 'data-kind')).toBe('info');
    expect(await tab().textContent('#banner-text')).toMatch(/line of the page/);
    await tab().click('#banner-close');
    await tab().click('#clear');
    await tab().keyboard.press('d');
  });

  test('Export CBZ writes the chapter as the command line does: pages in colour and other entries kept, unreadable ones reported', async () => {
    // ComicInfo.xml; a grey page (coloured), a page that is no image (kept as it was), a page in colour (kept as it
    // was), and a note whose stored bytes fail their CRC (it cannot be read: reported, left out).
    const comicInfo = '<ComicInfo><Title>First contact</Title></ComicInfo>';
    const grey = await pagePng({ width: 64, height: 80 }, 31, { grey: true });
    const colour = await pagePng({ width: 64, height: 80 }, 32);
    const note = new TextEncoder().encode('a note whose bytes are damaged');
    const chapter = zipSync({
      'ComicInfo.xml': new TextEncoder().encode(comicInfo),
      '01.png': grey,
      '02.png': new Uint8Array([137, 80, 78, 71, 1, 2, 3]),
      '03.png': colour,
      'notes.txt': [note, { level: 0 }],
    });
    const at = Buffer.from(chapter).indexOf(Buffer.from(note));
    chapter[at] ^= 0xff;
    await app.give('drop', [{ name: 'chapter.cbz', type: 'application/zip', bytes: chapter }]);
    await tab().waitForFunction(() => document.querySelectorAll('#strip button').length === 3);
    expect(await tab().textContent('#banner-text')).toMatch(/^1 entry of the archive could not be read and is left out:\nchapter\.cbz: notes\.txt fails its CRC-32 check/);
    await tab().waitForFunction(() => document.body.dataset.busy === 'false' && !(document.getElementById('export-cbz') as HTMLButtonElement).disabled);
    const [exported] = await Promise.all([tab().waitForEvent('download'), tab().click('#export-cbz')]);
    expect(exported.suggestedFilename()).toBe('chapter_colorized.cbz');
    const entries = unzipSync(readFileSync(await exported.path()));
    expect(Object.keys(entries)).toEqual(['ComicInfo.xml', '01.png', '02.png', '03.png']);
    expect(new TextDecoder().decode(entries['ComicInfo.xml'])).toBe(comicInfo);
    expect([...entries['02.png']]).toEqual([137, 80, 78, 71, 1, 2, 3]);
    expect(Buffer.from(entries['03.png']).equals(colour)).toBe(true);
    expect(Buffer.from(entries['01.png']).equals(grey)).toBe(false);
    expect((await sharp(entries['01.png']).metadata()).width).toBe(64);
    await tab().waitForFunction(() => document.getElementById('banner-text')!.textContent!.startsWith('Exported'));
    expect(await tab().getAttribute('#banner', 'data-kind')).toBe('page');
    const report = (await tab().textContent('#banner-text'))!;
    expect(report).toMatch(/1 page could not be read and is in the archive as it was:\n02\.png/);
    expect(report).toMatch(/1 entry of the archive could not be read and is left out:\nchapter\.cbz: notes\.txt fails its CRC-32 check/);
    expect(report).toMatch(/Left 1 page already in colour as it was \(colourfulness ≥ 20[^]*\n03\.png \(colourfulness \d+\.\d\)$/);
    expect(app.consoleErrors).toEqual([]);
  });

  test('without WebGPU the no-WebGPU banner stands alone: no "starting WebGPU…", the page laid out, nothing running', async () => {
    const plain = await launch(false);
    try {
      const page = await plain.newPage({ viewport: VIEWPORT });
      await page.addInitScript(TIMER_PROBE);
      await page.goto(app.server.url);
      await page.waitForSelector('#banner[data-kind="no-webgpu"]:not([hidden])', { timeout: 30_000 });
      expect(await page.textContent('#banner-text')).toMatch(/--enable-unsafe-webgpu/);
      expect(await page.textContent('#stage')).toBe('');
      expect(await page.isDisabled('#open-weights')).toBe(true);
      await expectOneRowHeader(page);
      // The empty screen still offers the example page, below the banner, in the view.
      const [banner, view] = [(await page.locator('#banner').boundingBox())!, (await page.locator('#viewport').boundingBox())!];
      expect(view.y).toBeGreaterThanOrEqual(banner.y + banner.height - 1);
      await expectIdle(page);
    } finally {
      await plain.close();
    }
  });
});
