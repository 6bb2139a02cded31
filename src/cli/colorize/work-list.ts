// The work of one `npm run colorize`: what to read and where each result goes. planTargets turns the inputs into
// targets (a file, a folder's pages found recursively, an archive's entries); checkOutputs refuses, before any
// page is read, an output that would overwrite an input or another output, or an existing file without --force;
// selectWork keeps this process's --shard part of the work list, less what --skip-existing finds done.
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { naturalCompare } from '../../data/dataset.js';
import { IMAGE_EXTENSIONS, isImageName, listImages, type UnreadableFolder } from '../../io/dataset.js';
import type { ImageFormat } from '../../io/image.js';
import { readInputFile, realPathOf, MAX_PAGE_BYTES } from '../../io/input-file.js';
import { UsageError } from '../command.js';
import { openArchiveInput, type ArchiveEntry } from './archives.js';
import type { Options } from './options.js';

const ARCHIVE_EXTENSIONS = new Set(['.cbz', '.zip']);

/** One page: its name for hints and messages, and how to read it. */
export interface Page {
  /** Relative name: the file's name, the path inside a folder, the entry name in an archive. */
  name: string;
  read(): Promise<Uint8Array>;
}

export type Target =
  | { kind: 'file'; input: string; output: string; page: Page }
  /** `unreadable`: subfolders that could not be listed, each one failure of the run (its pages are unknown). */
  | { kind: 'folder'; input: string; output: string; pages: Page[]; unreadable: UnreadableFolder[] }
  | { kind: 'archive'; input: string; output: string; pages: Page[]; entries: ArchiveEntry[]; close(): Promise<void> };

/** Every page of the targets, in order. */
export const pagesOf = (targets: Target[]): Page[] => targets.flatMap((t) => (t.kind === 'file' ? [t.page] : t.pages));

/** `name.ext` → `name.<format>`: outputs carry the extension of what they hold. */
export const withFormat = (name: string, format: ImageFormat) => `${name.slice(0, name.length - extname(name).length)}.${format}`;

function defaultOutput(input: string, kind: Target['kind'], format: ImageFormat, dir: string): string {
  const stem = basename(input, kind === 'folder' ? '' : extname(input));
  return join(dir, kind === 'file' ? `${stem}_colorized.${format}` : kind === 'archive' ? `${stem}_colorized.cbz` : `${stem}_colorized`);
}

export async function planTargets(o: Options, format: ImageFormat): Promise<Target[]> {
  const targets: Target[] = [];
  if (o.out && o.inputs.length > 1 && existsSync(o.out) && !statSync(o.out).isDirectory()) {
    throw new UsageError(`With several inputs, -o names a folder to hold their outputs; ${o.out} is a file.`);
  }
  for (const input of o.inputs) {
    const info = statSync(input, { throwIfNoEntry: false });
    if (!info) throw new UsageError(`${input}: no such file or folder.`);
    if (!info.isDirectory() && !info.isFile()) throw new UsageError(`${input}: not a regular file or folder (a FIFO, a device or a socket); only regular files are read.`);
    const dir = o.out && o.inputs.length > 1 ? o.out : dirname(resolve(input));
    const place = (kind: Target['kind']) => (o.out && o.inputs.length === 1 ? o.out : defaultOutput(input, kind, format, dir));
    if (info.isDirectory()) {
      const { images, unreadable } = await listImages(input);
      if (!images.length && !unreadable.length) throw new UsageError(`${input}: no images found (looked for ${[...IMAGE_EXTENSIONS].join(' ')}).`);
      const pages = images.map((name) => ({ name: name.replaceAll('\\', '/'), read: async () => readInputFile(join(input, name), MAX_PAGE_BYTES) }));
      targets.push({ kind: 'folder', input, output: place('folder'), pages, unreadable });
    } else if (ARCHIVE_EXTENSIONS.has(extname(input).toLowerCase())) {
      const archive = await openArchiveInput(input, o.archiveLimits);
      const clash = entryNameClash(archive.entries, format);
      if (clash) {
        await archive.close();
        throw new UsageError(`${input}: ${clash}; rename one in the archive.`);
      }
      const pages = archive.entries.filter((e) => e.isPage);
      if (!pages.length) {
        await archive.close();
        throw new UsageError(`${input}: the archive holds no images.`);
      }
      const output = place('archive');
      if (!/\.(cbz|zip)$/i.test(output)) throw new UsageError(`The output of an archive is an archive; name it .cbz or .zip, not ${output}.`);
      targets.push({ kind: 'archive', input, output, pages, entries: archive.entries, close: archive.close });
    } else if (isImageName(input)) {
      const output = place('file');
      if (o.out && o.inputs.length === 1 && existsSync(output) && statSync(output).isDirectory()) {
        targets.push({ kind: 'file', input, output: defaultOutput(input, 'file', format, output), page: { name: basename(input), read: async () => readInputFile(input, MAX_PAGE_BYTES) } });
      } else {
        targets.push({ kind: 'file', input, output, page: { name: basename(input), read: async () => readInputFile(input, MAX_PAGE_BYTES) } });
      }
    } else {
      throw new UsageError(`${input}: not an image (${[...IMAGE_EXTENSIONS].join(' ')}), folder or CBZ/ZIP archive.`);
    }
  }
  return targets;
}

/** Two entries that would have one name in the output archive (a page's name may take the --format extension). */
function entryNameClash(entries: ArchiveEntry[], format: ImageFormat): string | null {
  const owner = new Map<string, string>();
  for (const e of entries) {
    for (const name of new Set(e.isPage ? [withFormat(e.name, format), e.name] : [e.name])) {
      const other = owner.get(name);
      if (other !== undefined && other !== e.name) return `the entries ${other} and ${e.name} would both be written as ${name}`;
      owner.set(name, e.name);
    }
  }
  return null;
}

/**
 * Every file a run may create, with the input it comes from, to refuse overwriting before any work starts. A
 * folder's page may be written under the output format's extension (coloured) or its own (left as it was).
 */
export function plannedFiles(t: Target, format: ImageFormat): [file: string, source: string][] {
  if (t.kind !== 'folder') return [[t.output, t.input]];
  return t.pages.flatMap((p) => [...new Set([withFormat(p.name, format), p.name])].map((name): [string, string] => [join(t.output, name), join(t.input, p.name)]));
}

export function checkOutputs(targets: Target[], format: ImageFormat, force: boolean): void {
  const seen = new Map<string, string>();
  const existing: string[] = [];
  // Inputs are never written over, --force or not; real paths see through symbolic links and "..".
  const inputs = new Map<string, string>();
  for (const t of targets) {
    for (const input of t.kind === 'folder' ? t.pages.map((p) => join(t.input, p.name)) : [t.input]) inputs.set(realPathOf(input), input);
  }
  for (const t of targets) {
    if (t.kind === 'folder' && existsSync(t.output) && !statSync(t.output).isDirectory()) throw new UsageError(`${t.output} is a file; the output of a folder is a folder.`);
    for (const [file, source] of plannedFiles(t, format)) {
      const key = realPathOf(file);
      const input = inputs.get(key);
      if (input !== undefined) throw new UsageError(`The output ${file} would overwrite the input ${input}; inputs are never overwritten, even with --force: choose another -o.`);
      const other = seen.get(key);
      if (other !== undefined && other !== source) throw new UsageError(`${other} and ${source} would both be written to ${file}; rename one or give them separate -o folders.`);
      seen.set(key, source);
      if (existsSync(file)) existing.push(file);
    }
  }
  if (existing.length && !force) {
    const more = existing.length > 1 ? ` (and ${existing.length - 1} more)` : '';
    throw new UsageError(`${existing[0]}${more} already exists; use --force to overwrite.`);
  }
}

/** What --shard and --skip-existing left out, for the summary. */
export interface Selection {
  shard: { index: number; count: number; items: number; of: number } | null;
  /** Outputs that exist, with their page or input, left as they are by --skip-existing. */
  skipped: string[];
}

/**
 * The work this process does: its --shard part of the work list (every file, every page of a folder, every
 * archive, in name order, so every process computes the same list), less what --skip-existing finds done. A
 * folder page is done when either of its possible outputs exists (coloured under the output format, or copied).
 * A subfolder that could not be listed is an item of the list too, so one process reports it, and never done.
 */
export async function selectWork(targets: Target[], o: Options, format: ImageFormat): Promise<{ targets: Target[]; selection: Selection }> {
  const selection: Selection = { shard: null, skipped: [] };
  type Item = { key: string; target: Target; page?: Page; unreadable?: UnreadableFolder };
  const items = targets.flatMap((t): Item[] =>
    t.kind === 'folder'
      ? [...t.pages.map((page) => ({ key: `${t.input}/${page.name}`, target: t, page })), ...t.unreadable.map((unreadable) => ({ key: `${t.input}/${unreadable.folder}`, target: t, unreadable }))]
      : [{ key: t.input, target: t }],
  );
  let chosen = new Set(items);
  if (o.shard) {
    const { index, count } = o.shard;
    const ordered = [...items].sort((a, b) => naturalCompare(a.key, b.key) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    chosen = new Set(ordered.filter((_, k) => k % count === index - 1));
    selection.shard = { index, count, items: chosen.size, of: items.length };
  }
  if (o.skipExisting) {
    for (const item of chosen) {
      const { target, page, unreadable } = item;
      if (unreadable) continue;
      const done = target.kind === 'folder' && page ? plannedFiles({ ...target, pages: [page] }, format).some(([file]) => existsSync(file)) : existsSync(target.output);
      if (done) {
        chosen.delete(item);
        selection.skipped.push(item.page ? join(item.target.input, item.page.name) : item.target.input);
      }
    }
  }
  const kept: Target[] = [];
  for (const t of targets) {
    const mine = items.filter((i) => i.target === t && chosen.has(i));
    if (!mine.length) {
      if (t.kind === 'archive') await t.close();
      continue;
    }
    kept.push(t.kind === 'folder' ? { ...t, pages: mine.flatMap((i) => (i.page ? [i.page] : [])), unreadable: mine.flatMap((i) => (i.unreadable ? [i.unreadable] : [])) } : t);
  }
  return { targets: kept, selection };
}
