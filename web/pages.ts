// The open pages: opening a chapter or images (which replaces what was open), the strip of pages to pick from, the
// page shown, and what follows an edit of its hints (the view redrawn, a recolour when auto is on).
import { stem, type ChapterEntry, type PageSource } from './files.js';
import { HintHistory } from './hint-document.js';
import { $, contentSize, page, state, view } from './app-state.js';
import { guarded, updateButtons } from './status.js';
import { decodePage, recolour } from './colouring.js';

export async function openPages(sources: PageSource[], chapterName: string, entries: ChapterEntry[] | null = null, skipped: string[] = []): Promise<void> {
  for (const p of state.pages) URL.revokeObjectURL(p.thumbnail);
  state.pages = sources.map((s, i) => ({
    id: `${Date.now()}-${i}`,
    name: s.name,
    source: s.blob,
    thumbnail: URL.createObjectURL(s.blob),
    history: new HintHistory(),
    image: null,
    bitmap: null,
    result: null,
    colourfulness: null,
  }));
  state.chapterName = chapterName;
  state.chapterEntries = entries;
  state.chapterSkipped = skipped;
  renderStrip();
  await selectPage(0);
}

/** The chapter's pages as thumbnails to pick from (none for a single page). */
function renderStrip(): void {
  const strip = $('strip');
  strip.replaceChildren();
  if (state.pages.length < 2) return;
  state.pages.forEach((p, i) => {
    const button = document.createElement('button');
    button.className = i === state.current ? 'current' : '';
    button.title = p.name;
    const img = document.createElement('img');
    img.src = p.thumbnail;
    img.alt = '';
    const label = document.createElement('span');
    label.textContent = `${i + 1}. ${stem(p.name)}`;
    button.append(img, label);
    button.onclick = () => void guarded(() => selectPage(i));
    strip.append(button);
  });
}

async function selectPage(index: number): Promise<void> {
  state.current = index;
  const p = page()!;
  await decodePage(p);
  // Another page (or chapter) was picked while this one decoded: that choice stands.
  if (page() !== p) return;
  view.images = { page: p.bitmap, result: p.result?.bitmap ?? null };
  view.modelScale = p.image!.width / contentSize(p).width;
  view.dots = p.history.dots;
  $('empty').hidden = true;
  view.fit();
  renderStrip();
  updateButtons();
  if (state.weights && !p.result && $<HTMLInputElement>('auto-recolour').checked) await recolour();
}

export function hintsChanged(): void {
  const p = page();
  view.dots = p?.history.dots ?? [];
  view.redraw();
  updateButtons();
  if ($<HTMLInputElement>('auto-recolour').checked) void recolour();
}
