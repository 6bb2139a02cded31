// Colouring the work of one `npm run colorize`, page by page: each page is read, decoded, checked (its hints made
// for its size, already in colour or not) and coloured through src/colorize/pipeline.ts, and its output written: a
// file, a folder's page (a page already in colour copied as it is, so the folder is the whole chapter), or the
// next entry of the chapter's CBZ. A page that fails is recorded in the summary and the others go on; only a lost
// or failed device stops the run.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { colourfulness, COLOUR_THRESHOLD } from '../../colorize/colourfulness.js';
import { hintsForPage, type HintsFile } from '../../colorize/hint-files.js';
import type { ColorModel } from '../../colorize/model.js';
import { colorizePage, PageTooLargeError, type PageOptions } from '../../colorize/pipeline.js';
import { hintSizeProblem } from '../../data/hints.js';
import { BufferTooLargeError, engine } from '../../engine/engine.js';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { decodeImage, encodeImage, type ImageFormat } from '../../io/image.js';
import { archiveWriter, type ArchiveEntry } from './archives.js';
import type { Options } from './options.js';
import type { Summary } from './summary.js';
import { withFormat, type Page, type Target } from './work-list.js';

export interface PageContext {
  model: ColorModel;
  options: PageOptions;
  hintsFile: HintsFile | null;
  o: Options;
  format: ImageFormat;
  summary: Summary;
}

type PageOutcome = { kind: 'coloured'; bytes: Uint8Array } | { kind: 'copy'; bytes: Uint8Array } | { kind: 'failed' };

/** A per-page failure in words the user can act on. */
function pageError(e: unknown, size: number): string {
  const message = (e as Error).message;
  if (e instanceof PageTooLargeError) return `${message} ${e.fits >= 64 ? `Use --size ${e.fits} or less.` : 'This device is too small for it.'}`;
  // Some other tensor than the estimate's widest one did not fit: halving the size quarters every tensor.
  if (e instanceof BufferTooLargeError) {
    return `too large for this device at working size ${size}: ${message.split(';')[0]}; try --size ${Math.max(64, Math.floor(size / 2 / 32) * 32)}.`;
  }
  return message;
}

/** Reads, checks and colours one page; failures are recorded, not thrown (unless the device itself failed). */
async function processPage(page: Page, label: string, c: PageContext, alone = false): Promise<PageOutcome> {
  let bytes: Uint8Array | null = null;
  try {
    bytes = await page.read();
    const plane = await decodeImage(bytes, label, { maxPixels: c.o.maxPixels });
    // Hints made for another page size are refused before the model runs.
    const hints = c.hintsFile ? hintsForPage(c.hintsFile, page.name) : null;
    const mismatch = hints && hintSizeProblem(hints, plane);
    if (mismatch) throw new Error(`${mismatch} (--hints ${c.o.hints})`);
    if (!c.o.forceColor) {
      const m = colourfulness(plane);
      if (m >= COLOUR_THRESHOLD) {
        c.summary.copied.push({ name: label, m, written: !alone });
        return { kind: 'copy', bytes };
      }
    }
    const result = await colorizePage(c.model, plane, { ...c.options, hints });
    c.summary.coloured++;
    return { kind: 'coloured', bytes: await encodeImage(result.image, c.format) };
  } catch (e) {
    // A lost or failed device gives no more trustworthy pages: stop the run instead of failing every page.
    engine().checkHealthy();
    const message = pageError(e, c.options.size!);
    c.summary.failed.push({ name: label, error: message.startsWith(label) ? message : `${label}: ${message}` });
    return { kind: 'failed' };
  }
}

/** Colours a target's pages and writes its outputs; `tick` is called after each page. */
export async function processTarget(t: Target, c: PageContext, tick: (name: string) => void): Promise<void> {
  if (t.kind === 'file') {
    const outcome = await processPage(t.page, t.input, c, true);
    if (outcome.kind === 'coloured') written(t.output, outcome.bytes, c);
    tick(t.page.name);
    return;
  }
  if (t.kind === 'folder') {
    for (const page of t.pages) {
      const outcome = await processPage(page, join(t.input, page.name), c);
      // A page already in colour is copied as it is, so the output folder is the whole chapter.
      if (outcome.kind === 'coloured') written(join(t.output, withFormat(page.name, c.format)), outcome.bytes, c, t.output);
      else if (outcome.kind === 'copy') written(join(t.output, page.name), outcome.bytes, c, t.output);
      tick(page.name);
    }
    return;
  }
  const archive = archiveWriter(t.output);
  try {
    // An entry that cannot be read (damaged, encrypted, a link) is that entry's failure; the others go on.
    const readEntry = async (entry: ArchiveEntry, report: boolean): Promise<Uint8Array | null> => {
      try {
        return await entry.read();
      } catch (e) {
        if (report) c.summary.failed.push({ name: `${t.input}: ${entry.name}`, error: (e as Error).message });
        return null;
      }
    };
    for (const entry of t.entries) {
      if (!entry.isPage) {
        const bytes = await readEntry(entry, true);
        if (bytes) archive.add(entry.name, bytes, true);
        continue;
      }
      const outcome = await processPage(entry, `${t.input}: ${entry.name}`, c);
      // The chapter keeps every page: coloured ones under their new extension, the others as they were.
      // A page that failed is kept as it came, deflated again: it may be no image at all (a zip bomb's filler).
      const bytes = outcome.kind === 'failed' ? await readEntry(entry, false) : outcome.bytes;
      if (bytes) archive.add(outcome.kind === 'coloured' ? withFormat(entry.name, c.format) : entry.name, bytes, outcome.kind === 'failed');
      tick(entry.name);
    }
    archive.finish();
    c.summary.outputs.add(t.output);
  } catch (e) {
    archive.abort();
    throw e;
  }
}

/** Writes one output atomically (src/io/atomic-file.ts), creating its folder, and notes it (or the folder holding it) for the summary. */
function written(path: string, bytes: Uint8Array, c: PageContext, shown = path): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, bytes);
  c.summary.outputs.add(shown);
}
