// npm run colorize -- <inputs...> [-o <out>] [options]
// Colours manga pages: image files, folders (recursively, natural page order) and CBZ/ZIP chapters. A file gives
// a file, a folder a folder with the same relative paths, an archive an archive `<name>_colorized.cbz` with the
// same entry names (image extensions follow --format) in the same order. The device, the pipelines and the
// weights are set up once; each page goes through src/colorize/pipeline.ts. Pages already in colour are left
// alone (src/colorize/colourfulness.ts); a page that fails is reported and skipped. Nothing existing is
// overwritten without --force and an input never (--skip-existing leaves what exists and colours the rest; --shard
// I/N takes part of the work list, for several processes sharing a library), and every output is written to a
// hidden temporary file and renamed into place, so an interrupted run leaves no half-written file.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import { AUTO_HINT_DENSITY } from '../colorize/auto-hint.js';
import { colourfulness, COLOUR_THRESHOLD } from '../colorize/colourfulness.js';
import { hintsForPage, parseHintsFile, unusedPageNames, type HintsFile } from '../colorize/hint-files.js';
import { DEFAULT_MODEL_PATH, loadColorModel, type Architecture, type ColorModel, type WeightsFile } from '../colorize/model.js';
import { colorizePage, PageTooLargeError, type PageOptions } from '../colorize/pipeline.js';
import { BLEND_MODES, DEFAULT_BLEND, isBlendMode, type BlendMode } from '../colorize/recombine.js';
import { hintSizeProblem, hintsFromRgba } from '../data/hints.js';
import { evalSummary, type EvalJson } from '../eval/summary.js';
import { BufferTooLargeError, engine, Engine, useEngine } from '../engine/engine.js';
import { removeStaleTemporaries, temporaryPath, writeAll, writeFileAtomic } from '../io/atomic-file.js';
import { nodeDevice } from '../io/dawn.js';
import { naturalCompare } from '../data/dataset.js';
import { IMAGE_EXTENSIONS, listImages } from '../io/dataset.js';
import { decodeImage, decodeImageBytes, DEFAULT_MAX_PIXELS, encodeImage, IMAGE_FORMATS, MAX_MEGAPIXELS_OPTION, parseMaxMegapixels, type ImageFormat } from '../io/image.js';
import { flagsHelp, parseFlags, type FlagSpec } from '../io/flags.js';
import { readInputFile, realPathOf, MAX_PAGE_BYTES, MAX_WEIGHTS_BYTES } from '../io/input-file.js';
import { ARCHIVE_LIMIT_FLAGS, archiveLimitsFromFlags, openZip } from '../io/zip.js';
import { safeEntryName, type ZipLimits } from '../io/zip-format.js';
import { runCommand, UsageError } from './command.js';
import { formatDuration, progressBar } from '../io/progress.js';

const USAGE = `usage: npm run colorize -- <inputs...> [-o <out>] [options]
  <inputs>            page images (PNG, JPEG, WebP, TIFF, GIF), folders of them (searched recursively) and
                      CBZ/ZIP chapters; results go beside each input with a _colorized suffix
  -o, --out PATH      the output file, folder or .cbz for one input; a folder to hold the outputs of several
  --weights FILE      the generator (safetensors or PyTorch; v1, v2 or this project's own), default
                      ${DEFAULT_MODEL_PATH} when it exists
  --extractor FILE    the published SE-ResNeXt extractor, needed by the published v1 generator
  --denoiser FILE     the FFDNet RGB denoiser: pages are denoised before line extraction
  --denoise-sigma N   the denoiser's noise level in 8-bit units (default 25)
  --arch v1|v2        the generator's architecture (default: detected from the weights)
  --size N            working resolution, the short side in pixels, a multiple of 32 (default 512 for v1, 576
                      for v2); lower it for a device with little memory
  --hints FILE        colour hints: a JSON file (one page, or {"palette", "pages"} for a batch) or a PNG whose
                      opaque pixels are hints (see the README)
  --auto-hint [P]     second pass with hints sampled from the first (the paper's step 5); P is the percentage
                      of pixels sampled (default ${(100 * AUTO_HINT_DENSITY).toFixed(2)})
  --ignore-grey       auto-hint samples no greyish pixels
  --seed N            seed of the auto-hint sampling (default 0)
  --blend MODE        how the colour meets the page at its size: multiply (default: colour under the page's
                      ink, never lighter than the page), luminance (the page's luma, the network's chroma; for
                      grey pages) or detail (the network's lightness plus the page's fine detail)
  --model-res         write the network's output at its working size instead of the page's size
  --format F          png (default), jpg or webp
  --force-color       colour pages that already look coloured (colourfulness ≥ ${COLOUR_THRESHOLD}) instead of copying them
  --force             overwrite existing outputs
  --skip-existing     colour only the pages whose output is missing (finishes an interrupted run: a file or a
                      folder's page whose output exists, an archive whose .cbz exists, is left out)
  --shard I/N         colour only part I of N of the work list (files, folder pages and archives in name
                      order, every N-th from the I-th): N processes, on one machine or several sharing the
                      folders, each colour their part; add --skip-existing to resume one
  --max-megapixels N  refuse larger pages (default ${DEFAULT_MAX_PIXELS / 1e6}, at most ${MAX_MEGAPIXELS_OPTION})
  --verbose           show Dawn's full diagnostics (which backends were tried)
  -h, --help          show this text
limits on CBZ/ZIP chapters (zip bombs; an entry over a limit is that entry's failure, see the README):
${flagsHelp(ARCHIVE_LIMIT_FLAGS)}`;

/** The default model: this project's own small generator, shipped in the repository (path from its root). */
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Options {
  inputs: string[];
  out: string | null;
  weights: string | null;
  extractor: string | null;
  denoiser: string | null;
  denoiseSigma: number;
  arch: Architecture | undefined;
  size: number | undefined;
  hints: string | null;
  autoHint: number | null;
  ignoreGrey: boolean;
  seed: number;
  modelRes: boolean;
  blend: BlendMode;
  format: ImageFormat | null;
  forceColor: boolean;
  force: boolean;
  maxPixels: number;
  verbose: boolean;
  skipExisting: boolean;
  /** Part `index` (1-based) of `count`. */
  shard: { index: number; count: number } | null;
  archiveLimits: ZipLimits;
}

const VALUE_OPTIONS = new Set(['out', 'weights', 'extractor', 'denoiser', 'denoise-sigma', 'arch', 'size', 'hints', 'seed', 'format', 'max-megapixels', 'shard', 'blend']);
const FLAGS = new Set(['ignore-grey', 'model-res', 'force-color', 'force', 'skip-existing', 'verbose']);

/** The flag table for the shared parser (src/io/flags.ts); the help is USAGE. */
const SPECS: FlagSpec[] = [
  ...[...VALUE_OPTIONS].map((name): FlagSpec => ({ name, value: 'V', help: '', ...(name === 'out' ? { short: 'o' } : {}) })),
  ...[...FLAGS].map((name): FlagSpec => ({ name, help: '' })),
  // The percentage is optional: the next argument is taken only when it is a number.
  { name: 'auto-hint', value: 'P', optionalValue: (next) => /^\d*\.?\d+$/.test(next), help: '' },
  ...ARCHIVE_LIMIT_FLAGS,
];

function parseOptions(argv: string[]): Options | 'help' {
  const parsed = parseFlags(argv, SPECS);
  if (parsed.help) return 'help';
  const { values, switches: flags, positionals: inputs } = parsed;
  const autoHint = values.get('auto-hint') ?? null;
  if (!inputs.length) throw new UsageError('No input given: name page images, folders or CBZ/ZIP files.');
  const number = (name: string, fallback: number, ok: (n: number) => boolean, what: string) => {
    const text = values.get(name);
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!ok(n) || text.trim() === '') throw new UsageError(`--${name} must be ${what}, got "${text}".`);
    return n;
  };
  const maxPixelsOption = (text: string | undefined) => {
    const limit = text === undefined ? DEFAULT_MAX_PIXELS : parseMaxMegapixels(text);
    if (typeof limit === 'string') throw new UsageError(limit);
    return limit;
  };
  const arch = values.get('arch');
  if (arch !== undefined && arch !== 'v1' && arch !== 'v2') throw new UsageError(`--arch must be v1 or v2, got "${arch}".`);
  const format = values.get('format');
  if (format !== undefined && !(IMAGE_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--format must be one of ${IMAGE_FORMATS.join(', ')}, got "${format}".`);
  }
  const blend = values.get('blend') ?? DEFAULT_BLEND;
  if (!isBlendMode(blend)) throw new UsageError(`--blend must be one of ${BLEND_MODES.join(', ')}, got "${blend}".`);
  if (values.has('blend') && flags.has('model-res')) throw new UsageError('--blend sets how the colour meets the page at its size; --model-res writes the network\'s output as it is. Use one.');
  let autoHintDensity: number | null = null;
  if (autoHint !== null) {
    const percent = autoHint === '' ? 100 * AUTO_HINT_DENSITY : Number(autoHint);
    if (!(percent > 0 && percent <= 10)) throw new UsageError(`--auto-hint takes a percentage of pixels above 0 and at most 10, got "${autoHint}".`);
    autoHintDensity = percent / 100;
  }
  if (flags.has('ignore-grey') && autoHintDensity === null) throw new UsageError('--ignore-grey filters the auto-hint samples; add --auto-hint.');
  if (flags.has('force') && flags.has('skip-existing')) throw new UsageError('--force redoes every page and --skip-existing keeps the finished ones; choose one.');
  const size = values.has('size') ? number('size', 0, (n) => Number.isInteger(n) && n >= 64 && n <= 8192 && n % 32 === 0, 'a multiple of 32 from 64 to 8192') : undefined;
  return {
    inputs,
    out: values.get('out') ?? null,
    weights: values.get('weights') ?? null,
    extractor: values.get('extractor') ?? null,
    denoiser: values.get('denoiser') ?? null,
    denoiseSigma: number('denoise-sigma', 25, (n) => n > 0 && n <= 255, 'a noise level in 8-bit units, above 0 and at most 255') / 255,
    arch: arch as Architecture | undefined,
    size,
    hints: values.get('hints') ?? null,
    autoHint: autoHintDensity,
    ignoreGrey: flags.has('ignore-grey'),
    seed: number('seed', 0, (n) => Number.isInteger(n) && n >= 0 && n < 2 ** 32, 'an integer from 0 to 4294967295'),
    modelRes: flags.has('model-res'),
    blend,
    format: (format as ImageFormat | undefined) ?? null,
    forceColor: flags.has('force-color'),
    force: flags.has('force'),
    maxPixels: maxPixelsOption(values.get('max-megapixels')),
    verbose: flags.has('verbose'),
    skipExisting: flags.has('skip-existing'),
    shard: parseShard(values.get('shard')),
    archiveLimits: archiveLimitsFromFlags(values),
  };
}

function parseShard(text: string | undefined): Options['shard'] {
  if (text === undefined) return null;
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const [index, count] = match ? [Number(match[1]), Number(match[2])] : [0, 0];
  if (!match || count < 1 || index < 1 || index > count) throw new UsageError(`--shard takes I/N with 1 ≤ I ≤ N (e.g. --shard 2/4), got "${text}".`);
  return { index, count };
}

// ---- what to read and where to write ---------------------------------------------------------------------

const ARCHIVE_EXTENSIONS = new Set(['.cbz', '.zip']);
const isImageName = (name: string) => IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
/** Resource forks macOS adds to archives: named like images, but not pages. */
const isJunk = (name: string) => /(^|\/)__MACOSX\//.test(name) || basename(name).startsWith('._');

/** One page: its name for hints and messages, how to read it and where its result goes. */
interface Page {
  /** Relative name: the file's name, the path inside a folder, the entry name in an archive. */
  name: string;
  read(): Promise<Uint8Array>;
}

type Target =
  | { kind: 'file'; input: string; output: string; page: Page }
  | { kind: 'folder'; input: string; output: string; pages: Page[] }
  | { kind: 'archive'; input: string; output: string; pages: Page[]; entries: ArchiveEntry[]; close(): Promise<void> };

/** An entry of an input archive: `name` is its safe name in the output (src/io/zip-format.ts, safeEntryName). */
interface ArchiveEntry {
  name: string;
  page: Page | null;
  read(): Promise<Uint8Array>;
}

/** `name.ext` → `name.<format>`: outputs carry the extension of what they hold. */
const withFormat = (name: string, format: ImageFormat) => `${name.slice(0, name.length - extname(name).length)}.${format}`;

function defaultOutput(input: string, kind: Target['kind'], format: ImageFormat, dir: string): string {
  const stem = basename(input, kind === 'folder' ? '' : extname(input));
  return join(dir, kind === 'file' ? `${stem}_colorized.${format}` : kind === 'archive' ? `${stem}_colorized.cbz` : `${stem}_colorized`);
}

async function planTargets(o: Options, format: ImageFormat): Promise<Target[]> {
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
      const names = await listImages(input);
      if (!names.length) throw new UsageError(`${input}: no images found (looked for ${[...IMAGE_EXTENSIONS].join(' ')}).`);
      const pages = names.map((name) => ({ name: name.replaceAll('\\', '/'), read: async () => readInputFile(join(input, name), MAX_PAGE_BYTES) }));
      targets.push({ kind: 'folder', input, output: place('folder'), pages });
    } else if (ARCHIVE_EXTENSIONS.has(extname(input).toLowerCase())) {
      const zip = await openZip(input, o.archiveLimits).catch((e: Error) => {
        throw new UsageError(e.message);
      });
      const entries = zip.entries.flatMap((entry): ArchiveEntry[] => {
        const name = safeEntryName(entry.name);
        if (name === null) return [];
        const read = () => zip.read(entry);
        const page = !name.endsWith('/') && isImageName(name) && !isJunk(name) ? { name, read } : null;
        return [{ name, page, read }];
      });
      const clash = entryNameClash(entries, format);
      if (clash) {
        await zip.close();
        throw new UsageError(`${input}: ${clash}; rename one in the archive.`);
      }
      const pages = entries.flatMap((e) => (e.page ? [e.page] : []));
      if (!pages.length) {
        await zip.close();
        throw new UsageError(`${input}: the archive holds no images.`);
      }
      const output = place('archive');
      if (!/\.(cbz|zip)$/i.test(output)) throw new UsageError(`The output of an archive is an archive; name it .cbz or .zip, not ${output}.`);
      targets.push({ kind: 'archive', input, output, pages, entries, close: () => zip.close() });
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
    for (const name of new Set(e.page ? [withFormat(e.name, format), e.name] : [e.name])) {
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
function plannedFiles(t: Target, format: ImageFormat): [file: string, source: string][] {
  if (t.kind !== 'folder') return [[t.output, t.input]];
  return t.pages.flatMap((p) => [...new Set([withFormat(p.name, format), p.name])].map((name): [string, string] => [join(t.output, name), join(t.input, p.name)]));
}

function checkOutputs(targets: Target[], format: ImageFormat, force: boolean): void {
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
interface Selection {
  shard: { index: number; count: number; items: number; of: number } | null;
  /** Outputs that exist, with their page or input, left as they are by --skip-existing. */
  skipped: string[];
}

/**
 * The work this process does: its --shard part of the work list (every file, every page of a folder, every
 * archive, in name order, so every process computes the same list), less what --skip-existing finds done. A
 * folder page is done when either of its possible outputs exists (coloured under the output format, or copied).
 */
async function selectWork(targets: Target[], o: Options, format: ImageFormat): Promise<{ targets: Target[]; selection: Selection }> {
  const selection: Selection = { shard: null, skipped: [] };
  type Item = { key: string; target: Target; page: Page | null };
  const items = targets.flatMap((t): Item[] => (t.kind === 'folder' ? t.pages.map((page) => ({ key: `${t.input}/${page.name}`, target: t, page })) : [{ key: t.input, target: t, page: null }]));
  let chosen = new Set(items);
  if (o.shard) {
    const { index, count } = o.shard;
    const ordered = [...items].sort((a, b) => naturalCompare(a.key, b.key) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    chosen = new Set(ordered.filter((_, k) => k % count === index - 1));
    selection.shard = { index, count, items: chosen.size, of: items.length };
  }
  if (o.skipExisting) {
    for (const item of chosen) {
      const { target, page } = item;
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
    kept.push(t.kind === 'folder' ? { ...t, pages: mine.map((i) => i.page!) } : t);
  }
  return { targets: kept, selection };
}

// ---- atomic files ----------------------------------------------------------------------------------------

/** CBZs being streamed into their temporary files, removed if the process is interrupted. */
const temporaries = new Set<string>();

/** Writes a finished output atomically (src/io/atomic-file.ts), creating its folder. */
function writeOutput(path: string, bytes: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, bytes);
}

/** A CBZ written entry by entry into its temporary file; `finish` renames it into place. */
function archiveWriter(path: string): { add(name: string, bytes: Uint8Array, compress?: boolean): void; finish(): void; abort(): void } {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = temporaryPath(path);
  temporaries.add(temporary);
  const fd = openSync(temporary, 'w');
  let failure: Error | null = null;
  // Pages are already compressed images: stored entries cost nothing to write and nothing to read. Other entries
  // (ComicInfo.xml) are deflated again, so what came in compressed never goes out inflated.
  const zip = new Zip((err, chunk) => {
    if (err) failure ??= err;
    else writeAll(fd, chunk);
  });
  const close = () => {
    closeSync(fd);
    temporaries.delete(temporary);
  };
  return {
    add(name, bytes, compress = false) {
      const entry = compress ? new ZipDeflate(name) : new ZipPassThrough(name);
      zip.add(entry);
      entry.push(bytes, true);
      if (failure) throw failure;
    },
    finish() {
      zip.end();
      close();
      if (failure) {
        rmSync(temporary, { force: true });
        throw new Error(`Cannot write ${path}: ${failure.message}`);
      }
      renameSync(temporary, path);
    },
    abort() {
      close();
      rmSync(temporary, { force: true });
    },
  };
}

/** Interrupted (Ctrl-C, kill): remove what was being written, then exit as interrupted. */
function removeTemporariesOnSignal(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const file of temporaries) rmSync(file, { force: true });
      process.stderr.write(`\ninterrupted: no partial files were left; finished pages are kept.\n`);
      process.exit(130);
    });
  }
}

// ---- the run ---------------------------------------------------------------------------------------------

/** The shipped model's line: its card and its scores from `npm run eval` (models/default.eval.json), when present. */
function shippedModelLine(weights: string): string {
  const card = `${DEFAULT_MODEL_PATH.replace(/\/[^/]*$/, '')}/README.md`;
  const evalFile = weights.replace(/\.safetensors$/, '.eval.json');
  try {
    return `the project's shipped demo model (${card}); ${evalSummary(JSON.parse(readFileSync(evalFile, 'utf8')) as EvalJson)}`;
  } catch {
    return `the project's shipped demo model (${card}); no eval scores beside it (${basename(evalFile)})`;
  }
}

function readWeights(path: string, what: string): WeightsFile {
  try {
    return { bytes: readInputFile(path, MAX_WEIGHTS_BYTES), name: path };
  } catch (e) {
    throw new UsageError(`${what} ${(e as Error).message}`);
  }
}

async function readHints(file: string, maxPixels: number): Promise<HintsFile> {
  let bytes: Buffer;
  try {
    bytes = readInputFile(file, MAX_PAGE_BYTES);
  } catch (e) {
    throw new UsageError(`--hints ${(e as Error).message}`);
  }
  try {
    if (extname(file).toLowerCase() === '.json') return parseHintsFile(bytes.toString('utf8'), file);
    const layer = await decodeImageBytes(bytes, file, { alpha: 'required', maxPixels });
    return { kind: 'page', hints: hintsFromRgba(layer.data, layer) };
  } catch (e) {
    // Every message names the file, even one that does not know it (the hint count, a stack overflow).
    const message = (e as Error).message;
    throw new UsageError(message.startsWith(file) ? message : `${file}: ${message}`);
  }
}

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

export interface RunOptions {
  /** An engine to run on (tests); by default the best device is opened and closed again. */
  engine?: Engine;
  /** Where the default model is looked for (tests); default PROJECT_ROOT/DEFAULT_MODEL_PATH. */
  defaultWeights?: string;
  log?: (line: string) => void;
}

interface Summary {
  coloured: number;
  /** Pages already in colour; `written` is false for a page given on its own, whose output is then not written. */
  copied: { name: string; m: number; written: boolean }[];
  failed: { name: string; error: string }[];
  /** The files, folders and archives written, in order: only what exists after the run. */
  outputs: Set<string>;
}

/** Runs the command; returns the exit code (0 all pages done, 1 some failed, 2 bad usage). */
export async function main(argv: string[], run: RunOptions = {}): Promise<number> {
  const log = run.log ?? ((line: string) => console.log(line));
  return runCommand(() => colorize(argv, run, log), {
    usage: (message) => (message ? `${message}\n(npm run colorize -- --help for usage)` : USAGE),
  });
}

async function colorize(argv: string[], run: RunOptions, log: (line: string) => void): Promise<number> {
  const parsed = parseOptions(argv);
  if (parsed === 'help') {
    log(USAGE);
    return 0;
  }
  const o = parsed;
  // A single output file's extension names its format; --format must agree with it.
  const named = o.out && o.inputs.length === 1 ? extname(o.out).slice(1).toLowerCase().replace('jpeg', 'jpg') : '';
  const outFormat = (IMAGE_FORMATS as readonly string[]).includes(named) ? (named as ImageFormat) : null;
  if (o.format && outFormat && o.format !== outFormat) throw new UsageError(`-o ${o.out} names a ${outFormat} file but --format is ${o.format}; make them agree.`);
  const format: ImageFormat = o.format ?? outFormat ?? 'png';

  // Everything a user can get wrong is checked before the device opens and before any page is read.
  const defaultWeights = run.defaultWeights ?? join(PROJECT_ROOT, DEFAULT_MODEL_PATH);
  const weightsPath = o.weights ?? (existsSync(defaultWeights) ? defaultWeights : null);
  if (!weightsPath) {
    throw new UsageError(
      `No weights: pass --weights <generator file>. The project's default model (${DEFAULT_MODEL_PATH}) is missing ` +
        `(git checkout -- ${DEFAULT_MODEL_PATH} restores it); the README section "Weights for colorize" says which published files work and how to train your own.`,
    );
  }
  const files = {
    weights: readWeights(weightsPath, '--weights'),
    extractor: o.extractor ? readWeights(o.extractor, '--extractor') : null,
    denoiser: o.denoiser ? readWeights(o.denoiser, '--denoiser') : null,
    arch: o.arch,
  };
  const hintsFile = o.hints ? await readHints(o.hints, o.maxPixels) : null;
  let targets = await planTargets(o, format);
  try {
    const pages = targets.flatMap((t) => (t.kind === 'file' ? [t.page] : t.pages));
    if (hintsFile?.kind === 'page' && pages.length > 1) {
      throw new UsageError(`${o.hints} holds hints for one page, but there are ${pages.length} pages; use a batch file {"palette": {..}, "pages": {"<page name>": {..}}} (see the README).`);
    }
    if (hintsFile) {
      const unused = unusedPageNames(hintsFile, pages.map((p) => p.name));
      if (unused.length) log(`warning: ${o.hints} has hints for ${unused.length} page name(s) no input has: ${unused.slice(0, 5).join(', ')}${unused.length > 5 ? ', …' : ''}`);
    }
    const selected = await selectWork(targets, o, format);
    targets = selected.targets;
    checkOutputs(targets, format, o.force);
    if (!targets.length) {
      report({ coloured: 0, copied: [], failed: [], outputs: new Set() }, selected.selection, 0, log);
      return 0;
    }
    // Temporaries an interrupted earlier run left beside these outputs (a crash, kill -9) go now.
    for (const folder of new Set(targets.flatMap((t) => plannedFiles(t, format).map(([file]) => dirname(file))))) removeStaleTemporaries(folder);
    const work = targets.flatMap((t) => (t.kind === 'file' ? [t.page] : t.pages));

    const created = run.engine ? null : useEngine(new Engine(await nodeDevice({ verbose: o.verbose })));
    const device = (run.engine ?? created!).gpu;
    let model: ColorModel | null = null;
    try {
      model = loadColorModel(files);
      const size = o.size ?? model.defaultSize;
      log(`model: ${model.description}`);
      if (resolve(weightsPath) === resolve(defaultWeights)) log(shippedModelLine(defaultWeights));
      log(`device: ${device.adapterName} (${device.backend}); ${work.length} page${work.length === 1 ? '' : 's'} at working size ${size}${o.autoHint ? ', auto-hint' : ''}${o.modelRes ? ', model resolution' : `, ${o.blend} blend`}`);
      const options: PageOptions = {
        size,
        denoiseSigma: o.denoiseSigma,
        autoHint: o.autoHint === null ? null : { density: o.autoHint, ignoreGrey: o.ignoreGrey, seed: o.seed },
        output: o.modelRes ? 'model' : 'page',
        blend: o.blend,
      };
      const summary: Summary = { coloured: 0, copied: [], failed: [], outputs: new Set() };
      const bar = progressBar(work.length, { unit: 'pages/min' });
      let done = 0;
      const start = performance.now();
      const context: PageContext = { model, options, hintsFile, o, format, summary };
      for (const t of targets) {
        await processTarget(t, context, (name) => bar.update(++done, name));
      }
      bar.end();
      report(summary, selected.selection, (performance.now() - start) / 1000, log);
      return summary.failed.length ? 1 : 0;
    } finally {
      model?.dispose();
      if (created) {
        created.destroy();
        useEngine(null);
      }
    }
  } finally {
    for (const t of targets) if (t.kind === 'archive') await t.close();
  }
}

interface PageContext {
  model: ColorModel;
  options: PageOptions;
  hintsFile: HintsFile | null;
  o: Options;
  format: ImageFormat;
  summary: Summary;
}

type PageOutcome = { kind: 'coloured'; bytes: Uint8Array } | { kind: 'copy'; bytes: Uint8Array } | { kind: 'failed' };

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

async function processTarget(t: Target, c: PageContext, tick: (name: string) => void): Promise<void> {
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
      if (!entry.page) {
        const bytes = await readEntry(entry, true);
        if (bytes) archive.add(entry.name, bytes, true);
        continue;
      }
      const outcome = await processPage(entry.page, `${t.input}: ${entry.name}`, c);
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

/** Writes one output and notes it (or the folder holding it) for the summary. */
function written(path: string, bytes: Uint8Array, c: PageContext, shown = path): void {
  writeOutput(path, bytes);
  c.summary.outputs.add(shown);
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function report(s: Summary, selection: Selection, seconds: number, log: (line: string) => void): void {
  if (selection.shard) {
    const { index, count, items, of } = selection.shard;
    log(`shard ${index}/${count}: ${items} of ${of} work items (files, folder pages and archives in name order)`);
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
  const onlyLeft = s.coloured === 0 && left.length > 0 && !s.failed.length && !where.length;
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
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  removeTemporariesOnSignal();
  process.exit(await main(process.argv.slice(2)));
}
