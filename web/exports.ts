// What the app writes for the user to keep: the current page's result as PNG, its hints as the command line's
// JSON, and the whole chapter as a CBZ made as the command line makes one (web/chapter-export.ts decides each
// page's fate and the report; this file colours the pages and downloads the archive).
import { colourfulness, COLOUR_THRESHOLD } from '../src/colorize/colourfulness.js';
import { planeFromBytes } from '../src/data/plane.js';
import { exportedEntries, exportReport, type PageOutcome } from './chapter-export.js';
import { download, encodePng, stem, writeChapter } from './files.js';
import { hintsToJson } from './hint-document.js';
import { contentSize, page, resultKey, state, view, type Page } from './app-state.js';
import { setStage, showError, showInfo } from './status.js';
import { colourPage, decodePage, queue } from './colouring.js';

export async function exportPng(): Promise<void> {
  const p = page();
  if (!p?.result) return;
  download(await encodePng(p.result.image), `${stem(p.name)}_colorized.png`, 'image/png');
}

export function saveHints(): void {
  const p = page()!;
  download(hintsToJson(p.history.dots, { width: p.image!.width, height: p.image!.height }, contentSize(p)), `${stem(p.name)}.hints.json`, 'application/json');
}

/** The page's colourfulness by the command line's rule (src/colorize/colourfulness.ts), measured once. */
function pageColourfulness(p: Page): number {
  const { data, width, height } = p.image!;
  p.colourfulness ??= colourfulness(planeFromBytes(data, width, height, 4));
  return p.colourfulness;
}

/**
 * The chapter as a CBZ, as the command line writes one (web/chapter-export.ts): grey pages coloured with their own
 * dots, pages already in colour and pages that cannot be read left as they were. Passes asked for meanwhile run after it.
 */
export function exportChapter(): Promise<void> {
  return queue.exclusive(async () => {
    const outcomes = new Map<string, PageOutcome>();
    try {
      for (const [i, p] of state.pages.entries()) {
        setStage(`page ${i + 1} of ${state.pages.length}…`);
        try {
          await decodePage(p);
        } catch (e) {
          outcomes.set(p.name, { kind: 'unreadable', error: (e as Error).message });
          continue;
        }
        const m = pageColourfulness(p);
        if (m >= COLOUR_THRESHOLD) {
          outcomes.set(p.name, { kind: 'in-colour', colourfulness: m });
          continue;
        }
        if (p.result?.key !== resultKey(p)) await colourPage(p);
        outcomes.set(p.name, { kind: 'coloured', png: await encodePng(p.result!.image) });
      }
      const entries = state.chapterEntries ?? (await Promise.all(state.pages.map(async (p) => ({ name: p.name, bytes: new Uint8Array(await p.source.arrayBuffer()) }))));
      download(writeChapter(exportedEntries(entries, outcomes)), `${state.chapterName || 'chapter'}_colorized.cbz`, 'application/vnd.comicbook+zip');
      const current = page();
      if (current) view.images = { page: current.bitmap, result: current.result?.bitmap ?? null };
      view.redraw();
    } finally {
      setStage('');
    }
    const report = exportReport(outcomes, state.chapterSkipped);
    if (report?.kind === 'error') showError('page', report.text);
    else if (report) showInfo(report.text);
  });
}
