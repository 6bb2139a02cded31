// The browser app in a real browser, for the browser-app test files: Debian's Chromium driven by playwright-core,
// WebGPU from SwiftShader (--enable-unsafe-webgpu on a machine without a GPU). The app is built into a temporary
// folder and served by the app's own server, beside a tiny generator (tiny-model.ts) written with the Node engine.
// useBrowserApp() registers the hooks that start and stop all of it, and returns the handle the tests drive.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, expect } from 'vitest';
import { toGrey } from '../../src/data/plane.js';
import type { Size } from '../../src/data/resize.js';
import { Engine, useEngine } from '../../src/engine/engine.js';
import { nodeDevice } from '../../src/io/dawn.js';
import { serveStatic, type StaticServer } from '../../src/io/static-server.js';
import { syntheticPage } from './pages.js';
import { tinyGeneratorSafetensors } from './tiny-model.js';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`browser-app tests skipped: ${CHROMIUM} is missing (install Debian's chromium: apt-get install chromium).`);

// A switch Chromium ignores but keeps on its command line: it tells this process's browser from any other.
const MARKER = `--manga-colorize-test=${process.pid}-${Date.now()}`;
const FLAGS = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', MARKER];

/** A fresh browser (playwright gives each launch a new empty profile). */
export function launch(webgpu: boolean): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...FLAGS, ...(webgpu ? ['--enable-unsafe-webgpu'] : [])] });
}

/** A synthetic page (helpers/pages.ts) as PNG bytes; in colour (colourfulness 60 and more), or `grey` as a manga page is. */
export async function pagePng(size: Size, seed: number, { grey = false } = {}): Promise<Buffer> {
  const coloured = syntheticPage(size.width, size.height, seed);
  const page = grey ? toGrey(coloured) : coloured;
  const bytes = Buffer.from(page.data.map((v) => Math.round(v * 255)));
  return sharp(bytes, { raw: { width: page.width, height: page.height, channels: page.channels as 1 | 3 } }).png().toBuffer();
}

export interface Pixels {
  width: number;
  height: number;
  /** RGB in [0, 1]. */
  at(x: number, y: number): number[];
}

export async function decodePixels(bytes: Buffer | Uint8Array): Promise<Pixels> {
  const { data, info } = await sharp(bytes).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, at: (x, y) => [0, 1, 2].map((c) => data[(y * info.width + x) * 3 + c] / 255) };
}

/** Mean colour of the (2r+1)² pixels around (x, y). */
export function meanAround(image: Pixels, x: number, y: number, r = 2): number[] {
  const sum = [0, 0, 0];
  for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) image.at(x + dx, y + dy).forEach((v, c) => (sum[c] += v));
  return sum.map((s) => s / (2 * r + 1) ** 2);
}

/** Largest difference of any channel over every `step`-th pixel of two images of one size. */
export function maxDifference(a: Pixels, b: Pixels, step = 3): number {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let max = 0;
  for (let y = 0; y < a.height; y += step) for (let x = 0; x < a.width; x += step) a.at(x, y).forEach((v, c) => (max = Math.max(max, Math.abs(v - b.at(x, y)[c]))));
  return max;
}

export const hexOf = (rgb: number[]) => `#${rgb.map((v) => Math.round(v * 255).toString(16).padStart(2, '0')).join('')}`;

/** Where page pixels are on screen: PageView's zoom and the page's top-left corner in the view, in CSS pixels. */
export interface ViewTransform {
  zoom: number;
  panX: number;
  panY: number;
}

/** PageView.zoomAt: the page point under (x, y) of the view (CSS pixels from its corner) stays there. */
export function zoomAbout(view: ViewTransform, factor: number, x: number, y: number): ViewTransform {
  const zoom = Math.min(32, Math.max(0.05, view.zoom * factor));
  const [px, py] = [(x - view.panX) / view.zoom, (y - view.panY) / view.zoom];
  return { zoom, panX: x - px * zoom, panY: y - py * zoom };
}

/** A file to drop or paste, as the page builds it. */
export interface GivenFile {
  name: string;
  type: string;
  bytes: Uint8Array;
}

export class BrowserApp {
  dir = '';
  server!: StaticServer;
  browser!: Browser;
  tab!: Page;
  readonly requests: string[] = [];
  readonly consoleErrors: string[] = [];

  /** Clicks a button that opens a file picker and answers it with `file`. */
  async chooseFile(selector: string, file: string): Promise<void> {
    const [chooser] = await Promise.all([this.tab.waitForEvent('filechooser'), this.tab.click(selector)]);
    await chooser.setFiles(file);
  }

  /** Clicks a button that downloads something; returns the file's bytes. */
  async downloadFrom(selector: string): Promise<{ name: string; bytes: Buffer }> {
    const [download] = await Promise.all([this.tab.waitForEvent('download'), this.tab.click(selector)]);
    return { name: download.suggestedFilename(), bytes: readFileSync(await download.path()) };
  }

  /** The exported PNG of the current page, checking its name. */
  async exportedPixels(name = 'page_colorized.png'): Promise<Pixels> {
    const download = await this.downloadFrom('#export-png');
    expect(download.name).toBe(name);
    return decodePixels(download.bytes);
  }

  /** Requests the app has finished (each request is one recolour, however many generator runs it took). */
  passes(): Promise<number> {
    return this.tab.evaluate(() => Number(document.body.dataset.passes ?? 0));
  }

  /** Waits until more than `after` passes have finished and the app is idle. */
  async waitForPass(after: number): Promise<void> {
    await this.tab.waitForFunction((n) => Number(document.body.dataset.passes ?? 0) > n && document.body.dataset.busy === 'false', after, { timeout: 60_000 });
  }

  /** The view's transform right after PageView.fit() for a page of this size (0.98 of the view, centred). */
  async fitted(page: Size): Promise<ViewTransform> {
    const r = (await this.tab.locator('#view').boundingBox())!;
    const zoom = Math.min(r.width / page.width, r.height / page.height) * 0.98;
    return { zoom, panX: (r.width - page.width * zoom) / 2, panY: (r.height - page.height * zoom) / 2 };
  }

  /** Screen position of the centre of page pixel (x, y) under the view transform `view`. */
  async screenOf(x: number, y: number, view: ViewTransform): Promise<{ x: number; y: number }> {
    const r = (await this.tab.locator('#view').boundingBox())!;
    return { x: r.x + view.panX + (x + 0.5) * view.zoom, y: r.y + view.panY + (y + 0.5) * view.zoom };
  }

  async setColour(colour: string): Promise<void> {
    await this.tab.fill('#hex', colour);
    await this.tab.press('#hex', 'Enter');
  }

  async placeDot(x: number, y: number, colour: string, view: ViewTransform): Promise<void> {
    await this.setColour(colour);
    const at = await this.screenOf(x, y, view);
    await this.tab.mouse.click(at.x, at.y);
  }

  /** Hands files to the page as a drop on the view (dragover first, as a real drag does) or as a paste. */
  async give(how: 'drop' | 'paste', files: GivenFile[]): Promise<void> {
    const wire = files.map((f) => ({ name: f.name, type: f.type, base64: Buffer.from(f.bytes).toString('base64') }));
    await this.tab.evaluate(
      ([how, files]) => {
        const data = new DataTransfer();
        for (const f of files) data.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
        const target = document.getElementById('view')!;
        if (how === 'paste') {
          target.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
          return;
        }
        target.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
        if (!document.getElementById('viewport')!.classList.contains('dragover')) throw new Error('dragover did not mark the viewport');
        target.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
      },
      [how, wire] as const,
    );
  }

  /** Kills this browser's GPU process, as a driver crash or reset would: every WebGPU device in it is lost. */
  killGpuProcess(): void {
    const processes = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
    const read = (pid: string, file: string) => {
      try {
        return readFileSync(`/proc/${pid}/${file}`, 'utf8');
      } catch {
        return '';
      }
    };
    const browserPid = processes.find((pid) => read(pid, 'cmdline').split('\0').includes(MARKER));
    // /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces, so the fields are counted after its ')'.
    const parent = (pid: string) => read(pid, 'stat').split(') ')[1]?.split(' ')[1] ?? '0';
    // The GPU process is a child of the browser's zygote, not of the browser itself.
    const descends = (pid: string): boolean => pid === browserPid || (pid !== '0' && pid !== '1' && descends(parent(pid)));
    const gpu = processes.find((pid) => read(pid, 'cmdline').includes('--type=gpu-process') && descends(parent(pid)));
    if (!browserPid || !gpu) throw new Error(`no GPU process of this test's Chromium (browser ${browserPid ?? 'not found'})`);
    process.kill(Number(gpu), 'SIGKILL');
  }
}

/**
 * Registers beforeAll/afterAll hooks that build and serve the app, write the tiny model (dir/tiny.safetensors)
 * and open one WebGPU tab on the app's address, recording its requests and console errors.
 */
export function useBrowserApp(): BrowserApp {
  const app = new BrowserApp();
  beforeAll(async () => {
    app.dir = mkdtempSync(join(tmpdir(), 'browser-app-'));
    execFileSync(process.execPath, ['scripts/build-web.mjs', '--out', join(app.dir, 'web')], { stdio: 'pipe' });
    app.server = await serveStatic(join(app.dir, 'web'));
    // The model is written with the Node engine (Dawn), as a training run would export it.
    const engine = new Engine(await nodeDevice({ quiet: true }));
    useEngine(engine);
    try {
      writeFileSync(join(app.dir, 'tiny.safetensors'), await tinyGeneratorSafetensors());
    } finally {
      engine.destroy();
      useEngine(null);
    }
    app.browser = await launch(true);
    app.tab = await app.browser.newPage({ viewport: { width: 1100, height: 760 } });
    app.tab.on('request', (r) => app.requests.push(r.url()));
    app.tab.on('console', (m) => m.type() === 'error' && app.consoleErrors.push(m.text()));
    app.tab.on('pageerror', (e) => app.consoleErrors.push(e.message));
  });
  afterAll(async () => {
    await app.browser?.close();
    await app.server?.close();
    if (app.dir) rmSync(app.dir, { recursive: true, force: true });
  });
  return app;
}
