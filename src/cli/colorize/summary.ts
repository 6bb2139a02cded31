// What one `npm run colorize` did, counted while the pages go by and printed at the end: pages coloured (with the
// rate) and the outputs written, pages left as they were because they are already in colour, what --shard and
// --skip-existing left out, and every failure (a page, an archive entry, a folder that could not be listed) with
// its reason. Any failure makes the exit code 1.
import { COLOUR_THRESHOLD } from '../../colorize/colourfulness.js';
import { formatDuration } from '../../io/progress.js';
import type { Selection } from './work-list.js';

export interface Summary {
  coloured: number;
  /** Pages already in colour; `written` is false for a page given on its own, whose output is then not written. */
  copied: { name: string; m: number; written: boolean }[];
  failed: { name: string; error: string }[];
  /** Subfolders that could not be listed, each message naming one: none of their pages was coloured. */
  unreadableFolders: string[];
  /** The files, folders and archives written, in order: only what exists after the run. */
  outputs: Set<string>;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function report(s: Summary, selection: Selection, seconds: number, log: (line: string) => void): void {
  if (selection.shard) {
    const { index, count, items, of } = selection.shard;
    log(`shard ${index}/${count}: ${items} of ${of} work items (files, folder pages, archives and unreadable subfolders in name order)`);
  }
  if (selection.skipped.length) {
    const shown = selection.skipped.slice(0, 5).join(', ');
    log(`left out ${plural(selection.skipped.length, 'item')} whose output exists (--skip-existing): ${shown}${selection.skipped.length > 5 ? ', …' : ''}`);
  }
  const rate = seconds > 0 && s.coloured ? ` (${((60 * s.coloured) / seconds).toFixed(1)} pages/min)` : '';
  const where = [...s.outputs];
  const wrote = where.length ? ` → ${where.slice(0, 3).join(', ')}${where.length > 3 ? ', …' : ''}` : '; no file was written';
  const left = s.copied.filter((c) => !c.written);
  // A page given on its own and already in colour: that line alone says what happened.
  const onlyLeft = s.coloured === 0 && left.length > 0 && !s.failed.length && !s.unreadableFolders.length && !where.length;
  if (!onlyLeft) log(`coloured ${plural(s.coloured, 'page')}${seconds > 0 ? ` in ${formatDuration(seconds)}` : ''}${rate}${wrote}`);
  for (const p of left) {
    log(`left as it is: already in colour: ${p.name} (colourfulness ${p.m.toFixed(1)} ≥ ${COLOUR_THRESHOLD}; --force-color colours it); no file was written for it`);
  }
  const copied = s.copied.filter((c) => c.written);
  if (copied.length) {
    log(`left ${plural(copied.length, 'page')} already in colour as they were (colourfulness ≥ ${COLOUR_THRESHOLD}; --force-color colours them):`);
    for (const p of copied) log(`  ${p.name} (colourfulness ${p.m.toFixed(1)})`);
  }
  if (s.failed.length) {
    log(`failed ${plural(s.failed.length, 'page')}:`);
    for (const f of s.failed) log(`  ${f.error}`);
  }
  if (s.unreadableFolders.length) {
    const n = s.unreadableFolders.length;
    log(`failed ${plural(n, 'folder')} that could not be listed (no page in ${n === 1 ? 'it' : 'them'} was coloured):`);
    for (const error of s.unreadableFolders) log(`  ${error}`);
  }
}

/** Exit code 1 after any failure, page or folder. */
export const anyFailure = (s: Summary) => s.failed.length > 0 || s.unreadableFolders.length > 0;
