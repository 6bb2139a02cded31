// Files coming into the app, picked, dropped or pasted: each is sorted by its role (web/files.ts) into weights, a
// CBZ chapter, page images or a hints file, and opened as that; anything else is named in the banner.
import { hintsFromJson } from './hint-document.js';
import { fileRole, readChapter, stem } from './files.js';
import { unreadableEntries } from './chapter-export.js';
import { $, contentSize, page } from './app-state.js';
import { showError } from './status.js';
import { hintsChanged, openPages } from './pages.js';
import { loadWeights, type WeightFile } from './model.js';

/** Asks for files with the hidden file input `inputId`; resolves with none when the user cancels. */
export function pickFiles(inputId: string): Promise<File[]> {
  const input = $<HTMLInputElement>(inputId);
  return new Promise((resolve) => {
    input.value = '';
    input.onchange = () => resolve([...(input.files ?? [])]);
    input.click();
  });
}

/** Loads weights the user gave (remembered by the browser). */
export async function openWeights(files: File[]): Promise<void> {
  const weights: WeightFile[] = await Promise.all(files.map(async (f) => ({ name: f.name, bytes: await f.arrayBuffer() })));
  await loadWeights(weights, true);
}

export async function handleFiles(files: File[]): Promise<void> {
  const weights = files.filter((f) => fileRole(f) === 'weights');
  const chapter = files.find((f) => fileRole(f) === 'chapter');
  const images = files.filter((f) => fileRole(f) === 'image');
  const hints = files.find((f) => fileRole(f) === 'hints');
  const unknown = files.filter((f) => fileRole(f) === null);
  if (unknown.length) {
    showError('page', `${unknown.map((f) => f.name).join(', ')}: not a weights file (.safetensors, .pth, .pt), an image, a CBZ/ZIP chapter or a hints .json.`);
  }
  if (weights.length) await openWeights(weights);
  if (chapter) {
    const { pages, entries, skipped } = readChapter(new Uint8Array(await chapter.arrayBuffer()), chapter.name);
    if (skipped.length) showError('page', unreadableEntries(skipped));
    await openPages(pages, stem(chapter.name), entries, skipped);
  } else if (images.length) await openPages(images.map((f) => ({ name: f.name, blob: f })), images.length === 1 ? stem(images[0].name) : 'pages');
  if (hints) await loadHints(hints);
}

/** Replaces the current page's dots by those of a hints file (the command line's JSON), as one undo step. */
export async function loadHints(file: File): Promise<void> {
  const p = page();
  if (!p?.image) throw new Error('Open a page before loading its hints.');
  const dots = hintsFromJson(await file.text(), { width: p.image.width, height: p.image.height }, contentSize(p), file.name);
  p.history.set(dots);
  hintsChanged();
}
