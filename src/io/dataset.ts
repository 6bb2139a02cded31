// A prepared training set on disk (npm run prepare-data): its manifest, a reader for the loader, and the
// writing of items and of the manifest, shared by prepare-data and by fine-tuning (which prepares a folder of
// black-and-white pages the same way, so their line art and distance fields come from the same pipeline as the
// training sketches).
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { dirname, extname, join, relative } from 'node:path';
import { buildItem, itemFiles, itemId, MANIFEST_VERSION, naturalCompare, type BuiltItem, type DatasetItem, type Manifest } from '../data/dataset.js';
import type { Plane } from '../data/plane.js';
import type { XdogPreset } from '../data/xdog.js';
import { writeFileAtomic } from './atomic-file.js';
import { readImage, writePng } from './image.js';

export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.gif']);
/** Named like an image the commands read (by extension; the decoder decides whether it is one). */
export const isImageName = (name: string) => IMAGE_EXTENSIONS.has(extname(name).toLowerCase());

/** The error for an input (`where`) that holds no image to prepare. */
export const noImagesFound = (where: string) => new Error(`${where}: no images found (looked for ${[...IMAGE_EXTENSIONS].join(' ')}).`);

export async function openTrainingSet(dir: string): Promise<{ manifest: Manifest; read: (path: string) => Promise<Plane> }> {
  const file = join(dir, 'manifest.json');
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(file, 'utf8')) as Manifest;
  } catch (e) {
    throw new Error(`${file}: cannot read the training set's manifest (${(e as Error).message}); build the set with npm run prepare-data.`);
  }
  if (manifest.version !== MANIFEST_VERSION) throw new Error(`${file}: manifest version ${manifest.version}, this code reads version ${MANIFEST_VERSION}; rebuild the set.`);
  return { manifest, read: (path) => readImage(join(dir, path)) };
}

function folderProblem(e: NodeJS.ErrnoException): string {
  if (e.code === 'EACCES' || e.code === 'EPERM') return `permission denied, ${e.code}`;
  if (e.code === 'ENAMETOOLONG') return 'its path is longer than the system allows, ENAMETOOLONG';
  return e.code ?? e.message;
}

/** A subfolder whose images are unknown because it cannot be listed: its path relative to the input, and why. */
export interface UnreadableFolder {
  folder: string;
  /** The whole message, naming the folder: what went wrong and what to do. */
  error: string;
}

/** What a folder holds: its images and the subfolders that could not be listed. */
export interface ImageListing {
  /** Image files, as paths relative to the folder, in natural order. */
  images: string[];
  /** Each is one failure of the run that lists it; the walk goes on past it (README: failed pages). */
  unreadable: UnreadableFolder[];
}

/**
 * Image files under `dir`, recursively. A subfolder that cannot be listed (no permission, a path longer than the
 * system allows, one removed during the walk) is reported in `unreadable`; `dir` itself unreadable throws.
 */
export async function listImages(dir: string): Promise<ImageListing> {
  const listing: ImageListing = { images: [], unreadable: [] };
  const problem = (folder: string, e: NodeJS.ErrnoException) => {
    // A path too long to read is thousands of characters: its start says where it is.
    const named = folder.length > 300 ? `${folder.slice(0, 240)}… (${folder.length} characters)` : folder;
    return `${named}: this folder cannot be read (${folderProblem(e)}); make it readable${folder === dir ? '' : ` or move it out of ${dir}`}.`;
  };
  const walk = async (folder: string) => {
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (e) {
      if (folder === dir) throw new Error(problem(folder, e as NodeJS.ErrnoException));
      listing.unreadable.push({ folder: relative(dir, folder), error: problem(folder, e as NodeJS.ErrnoException) });
      return;
    }
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (isImageName(entry.name)) listing.images.push(relative(dir, path));
    }
  };
  await walk(dir);
  listing.images.sort(naturalCompare);
  listing.unreadable.sort((a, b) => naturalCompare(a.folder, b.folder));
  return listing;
}

/**
 * The item of `source` if an earlier run finished it (its item.json exists and reads), else null: a damaged
 * item.json (a crash, a full disk) means the item is made again, not that the run stops.
 */
export async function finishedItem(dir: string, source: string): Promise<DatasetItem | null> {
  const text = await readFile(join(dir, 'items', itemId(source), 'item.json'), 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    const item = JSON.parse(text) as DatasetItem;
    return item && typeof item === 'object' && item.source === source ? item : null;
  } catch {
    return null;
  }
}

/** Writes an item's planes under `dir` and then its item.json, whose presence marks the item finished. */
export async function writeItem(dir: string, source: string, built: BuiltItem, mults: readonly number[], lineart?: Plane): Promise<DatasetItem> {
  const files = itemFiles(itemId(source), mults, !!lineart);
  const at = (f: string) => join(dir, f);
  await mkdir(dirname(at(files.colour)), { recursive: true });
  // An earlier interrupted run may have left some of these: they are rewritten.
  await writePng(at(files.colour), built.colour, { overwrite: true });
  for (const m of mults) {
    await writePng(at(files.sketches[m]), built.sketches.get(m)!, { overwrite: true });
    await writePng(at(files.fields[m]), built.fields.get(m)!, { quantize: 'floor', overwrite: true });
  }
  if (lineart && files.lineart) await writePng(at(files.lineart), lineart, { overwrite: true });
  const item: DatasetItem = { ...files, source, width: built.colour.width, height: built.colour.height };
  writeFileAtomic(join(dir, 'items', item.id, 'item.json'), JSON.stringify(item, null, 1));
  return item;
}

/** What became of one source: its item, or why none could be made (listed in the manifest's `failed`). */
export type Outcome = DatasetItem | Manifest['failed'][number];

/** What a set is made with: the manifest's fields besides its version and its outcomes. */
export interface SetParameters {
  size: number;
  mults: readonly number[];
  preset: XdogPreset;
  notice?: string;
}

/**
 * Writes the manifest of the set at `out` from every source's outcome, in source order, and returns it. Written
 * last and atomically, so a manifest always describes finished items only.
 */
export async function writeManifest(out: string, { size, mults, preset, notice }: SetParameters, outcomes: readonly Outcome[]): Promise<Manifest> {
  const manifest: Manifest = {
    version: MANIFEST_VERSION,
    size,
    mults: [...mults],
    preset,
    items: outcomes.filter((o) => 'id' in o),
    failed: outcomes.filter((o) => 'error' in o),
    ...(notice ? { notice } : {}),
  };
  // When every source failed, nothing has made the folder yet.
  await mkdir(out, { recursive: true });
  writeFileAtomic(join(out, 'manifest.json'), JSON.stringify(manifest, null, 1));
  return manifest;
}

export interface PrepareFolderOptions {
  size: number;
  mults: readonly number[];
  preset?: XdogPreset;
  /** Called after each image with the number done, the total and the image's path. */
  progress?: (done: number, total: number, source: string) => void;
}

/**
 * Prepares every image of a folder into a set at `out` in this process (no workers: for a chapter of pages, not
 * a training corpus) and returns its manifest. Finished items are kept, so a second call costs only the reads.
 * Unreadable images and subfolders are listed in `failed`.
 */
export async function prepareFolder(input: string, out: string, { size, mults, preset = 'code', progress }: PrepareFolderOptions): Promise<Manifest> {
  let listing: ImageListing;
  try {
    listing = await listImages(input);
  } catch (e) {
    throw new Error(`${input}: cannot list the folder (${(e as Error).message}).`);
  }
  const { images: sources, unreadable } = listing;
  if (!sources.length) throw unreadable.length ? new Error(unreadable.map((u) => u.error).join('\n')) : noImagesFound(input);
  const outcomes: Outcome[] = unreadable.map(({ folder, error }) => ({ source: folder, error }));
  for (const [i, source] of sources.entries()) {
    try {
      outcomes.push((await finishedItem(out, source)) ?? (await writeItem(out, source, await buildItem(await readImage(join(input, source)), size, mults, preset), mults)));
    } catch (e) {
      outcomes.push({ source, error: (e as Error).message });
    }
    progress?.(i + 1, sources.length, source);
  }
  return writeManifest(out, { size, mults, preset }, outcomes);
}
