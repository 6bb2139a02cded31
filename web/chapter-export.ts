// What Export CBZ writes and says (DOM-free; web/exports.ts colours the pages and downloads the archive), as the
// command line writes a chapter (src/cli/colorize.ts): the archive's entries in its own order, coloured pages as
// PNG under their own names, pages already in colour and pages that cannot be read as they were, the other entries
// (ComicInfo.xml) unchanged; then one report of what was not coloured, in the command line's words.
import { COLOUR_THRESHOLD } from '../src/colorize/colourfulness.js';
import type { ChapterEntry } from './files.js';

/** What became of one page of the chapter. */
export type PageOutcome =
  | { kind: 'coloured'; png: Uint8Array }
  /** Left as it was: colourfulness at or above COLOUR_THRESHOLD (src/colorize/colourfulness.ts). */
  | { kind: 'in-colour'; colourfulness: number }
  | { kind: 'unreadable'; error: string };

/** The exported archive's entries: `entries` in order, each page by its outcome (keyed by entry name). */
export function exportedEntries(entries: readonly ChapterEntry[], outcomes: ReadonlyMap<string, PageOutcome>): ChapterEntry[] {
  const out: ChapterEntry[] = [];
  for (const entry of entries) {
    const outcome = outcomes.get(entry.name);
    if (outcome?.kind !== 'coloured') {
      out.push(entry);
      continue;
    }
    const name = entry.name.replace(/\.[^./]+$/, '') + '.png';
    // "01.jpg" and "01.png" in one chapter would both be "01.png", and the archive would keep one: the later page
    // keeps its own extension in its name.
    out.push({ name: out.some((o) => o.name === name) ? `${entry.name}.png` : name, bytes: outcome.png });
  }
  return out;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The archive's entries that could not be read, as said when the chapter opens and after its export. */
export function unreadableEntries(skipped: readonly string[]): string {
  return `${plural(skipped.length, 'entry', 'entries')} of the archive could not be read and ${skipped.length === 1 ? 'is' : 'are'} left out:\n${skipped.join('\n')}`;
}

/**
 * The banner after an export: an error when something could not be read (pages kept as they were, archive entries
 * left out), else a note when pages in colour were left as they were; null when every page was coloured.
 */
export function exportReport(outcomes: ReadonlyMap<string, PageOutcome>, skipped: readonly string[]): { kind: 'error' | 'info'; text: string } | null {
  const pages = [...outcomes];
  const unreadable = pages.flatMap(([, o]) => (o.kind === 'unreadable' ? [o.error] : []));
  const inColour = pages.flatMap(([name, o]) => (o.kind === 'in-colour' ? [`${name} (colourfulness ${o.colourfulness.toFixed(1)})`] : []));
  const lines: string[] = [];
  if (unreadable.length) {
    const one = unreadable.length === 1;
    lines.push(`${plural(unreadable.length, 'page')} could not be read and ${one ? 'is' : 'are'} in the archive as ${one ? 'it was' : 'they were'}:`, ...unreadable);
  }
  if (skipped.length) lines.push(unreadableEntries(skipped));
  if (inColour.length) {
    const one = inColour.length === 1;
    lines.push(
      `Left ${plural(inColour.length, 'page')} already in colour as ${one ? 'it was' : 'they were'} (colourfulness ≥ ${COLOUR_THRESHOLD}, as the command line does; Export PNG gives ${one ? 'it' : 'one'} coloured):`,
      ...inColour,
    );
  }
  if (unreadable.length || skipped.length) return { kind: 'error', text: `Exported; ${lines.join('\n')}` };
  return inColour.length ? { kind: 'info', text: `Exported. ${lines.join('\n')}` } : null;
}
