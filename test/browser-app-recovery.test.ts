// The browser app's ways back from a failure, in Chromium (helpers/browser-app.ts starts it as browser-app.test.ts
// does): a device lost while the app is idle (the test kills Chromium's GPU process between passes; a loss during
// a pass is in browser-app-tools.test.ts), and a page too large for the device, coloured at the working size the
// banner offers. One tab runs through them in order; the page is small and every pass but one is at size 128.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'playwright-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { hasChromium, maxDifference, meanAround, pagePng, useBrowserApp, type Pixels } from './helpers/browser-app.js';

const PAGE = { width: 128, height: 160 };
const redness = (c: number[]) => c[0] - (c[1] + c[2]) / 2;
const blueness = (c: number[]) => c[2] - (c[0] + c[1]) / 2;

/**
 * Bytes of the tiny generator's widest full-resolution tensor (16 channels, float32) on the network's canvas for
 * PAGE at working size `size` (the canvas is the resized page rounded up to multiples of 32, as checkFits counts it).
 */
const widestBytes = (size: number) => 64 * size * Math.ceil((size * PAGE.height) / PAGE.width / 32) * 32;

/**
 * SwiftShader's largest storage binding is so large that a page too large for it takes minutes to colour at the
 * size that fits. The engine worker is served with this prepended: its device reports a largest storage binding of
 * `bytes`, so the same offer is made for PAGE, and the pass at the offered size is quick.
 */
const reportStorageBinding = (bytes: number) => `{
  const limits = Object.getOwnPropertyDescriptor(GPUDevice.prototype, 'limits').get;
  Object.defineProperty(GPUDevice.prototype, 'limits', {
    get() {
      return new Proxy(limits.call(this), { get: (l, key) => (key === 'maxStorageBufferBindingSize' ? ${bytes} : Reflect.get(l, key)) });
    },
  });
}
`;

describe.skipIf(!hasChromium)('the browser app’s recovery in Chromium', () => {
  const app = useBrowserApp();
  const file = (name: string) => join(app.dir, name);
  beforeAll(async () => writeFileSync(file('page.png'), await pagePng(PAGE, 5)));

  const tab = () => app.tab;
  const dotCount = () => tab().textContent('#dot-count');
  let plain: Pixels;

  test('opens with the tiny model and colours a page at working size 128', async () => {
    await tab().goto(app.server.url);
    await tab().waitForSelector('#open-weights:not([disabled])', { timeout: 30_000 });
    await app.chooseFile('#open-weights', file('tiny.safetensors'));
    await tab().waitForFunction(() => /from tiny\.safetensors$/.test(document.getElementById('model-status')!.textContent!));
    await tab().selectOption('#working-size', '128');
    // These tests follow a dot into the output; the default blend (multiply on line art) darkens it under the page's ink.
    await tab().selectOption('#blend', 'detail');
    await app.chooseFile('#open-page', file('page.png'));
    await app.waitForPass(0);
    plain = await app.exportedPixels();
  });

  test('a device lost while idle: Restart engine starts a fresh worker with the same model, hints and size, and passes work', async () => {
    let n = await app.passes();
    await app.placeDot(35, 45, '#ff0000', await app.fitted(PAGE));
    await app.waitForPass(n);
    const withRed = await app.exportedPixels();
    expect(redness(meanAround(withRed, 35, 45)) - redness(meanAround(plain, 35, 45))).toBeGreaterThan(0.2);

    const [before] = tab().workers();
    expect(tab().workers()).toHaveLength(1);
    let beforeClosed = false;
    before.on('close', () => (beforeClosed = true));
    const started: Worker[] = [];
    tab().on('worker', (w) => started.push(w));
    n = await app.passes();
    app.killGpuProcess();
    // No request is waiting: only the device's own loss can tell the app.
    await tab().waitForSelector('#banner[data-kind="device-lost"]:not([hidden])');
    expect(await tab().textContent('#banner-text')).toMatch(/^The GPU device was lost: (?!The GPU device was lost)[^]*restart the engine to continue\.$/);
    expect(await tab().textContent('#banner-action')).toBe('Restart engine');
    expect(await tab().isDisabled('#recolour')).toBe(true);
    expect(await tab().evaluate(() => document.body.dataset.busy)).toBe('false');
    expect(await app.passes()).toBe(n);
    // The result coloured before the loss is still the page's, and exports.
    expect(maxDifference(await app.exportedPixels(), withRed)).toBe(0);

    await tab().click('#banner-action');
    await app.waitForPass(n);
    expect(await tab().isHidden('#banner')).toBe(true);
    expect(started).toHaveLength(1);
    expect(beforeClosed).toBe(true);
    expect(await tab().textContent('#model-status')).toMatch(/from tiny\.safetensors$/);
    expect(await tab().inputValue('#working-size')).toBe('128');
    expect(await dotCount()).toBe('1 dot');
    // The fresh device colours the same page with the same hints at the same size exactly as the lost one did.
    expect(maxDifference(await app.exportedPixels(), withRed, 1)).toBeLessThanOrEqual(1 / 255);

    // And it keeps colouring: the next dot's pass on the new worker.
    n = await app.passes();
    await app.placeDot(95, 120, '#0000ff', await app.fitted(PAGE));
    await app.waitForPass(n);
    const withBoth = await app.exportedPixels();
    expect(blueness(meanAround(withBoth, 95, 120)) - blueness(meanAround(withRed, 95, 120))).toBeGreaterThan(0.2);
    expect(redness(meanAround(withBoth, 35, 45)) - redness(meanAround(plain, 35, 45))).toBeGreaterThan(0.2);
  });

  test('a page too large for the device: Use N, the largest listed size that fits, colours the page at N', async () => {
    // The reference: this page coloured at 256 on SwiftShader's own limits (picking a size recolours).
    await tab().uncheck('#auto-recolour');
    await tab().click('#clear');
    let n = await app.passes();
    await tab().selectOption('#working-size', '256');
    await app.waitForPass(n);
    const at256 = await app.exportedPixels();
    expect(maxDifference(at256, plain, 1)).toBeGreaterThan(4 / 255);

    // A device whose largest binding holds the page's widest tensor at 256 but not at 288: at 512 the page is too
    // large, and 256 is the largest listed size that fits (128 fits too).
    const limit = (widestBytes(256) + widestBytes(288)) / 2;
    const isWorker = (url: URL) => url.pathname.endsWith('/worker.js');
    await tab().route(
      isWorker,
      async (route) => {
        const response = await route.fetch();
        await route.fulfill({ response, body: reportStorageBinding(limit) + (await response.text()) });
      },
    );
    await tab().reload();
    // The browser kept the weights; the model's own working size (512) comes with them.
    await tab().waitForFunction(() => /from tiny\.safetensors$/.test(document.getElementById('model-status')!.textContent!));
    expect(await tab().inputValue('#working-size')).toBe('512');
    await tab().selectOption('#blend', 'detail'); // as at256 was made
    await tab().check('#auto-recolour');
    await app.chooseFile('#open-page', file('page.png'));
    await tab().waitForSelector('#banner[data-kind="too-large"]:not([hidden])');
    expect(await tab().textContent('#banner-text')).toMatch(/at working size 512 does not fit[^]*Try a smaller working size \(256\)\.$/);
    expect(await tab().textContent('#banner-action')).toBe('Use 256');
    n = await app.passes();
    await tab().click('#banner-action');
    await app.waitForPass(n);
    expect(await tab().isHidden('#banner')).toBe(true);
    expect(await tab().inputValue('#working-size')).toBe('256');
    // At the page's own size, and what working size 256 makes of it.
    const offered = await app.exportedPixels();
    expect([offered.width, offered.height]).toEqual([PAGE.width, PAGE.height]);
    expect(maxDifference(offered, at256, 1)).toBeLessThanOrEqual(1 / 255);
    await tab().unroute(isWorker);
    expect(app.consoleErrors).toEqual([]);
  });
});
