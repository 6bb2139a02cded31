// npm run prepare-data -- --input <dir|zip> --out <dir> [--size 512] [--mults 1,2,3] [--preset code|paper]
//                         [--workers N] [--limit N] [--skip N]
// npm run prepare-data -- --source openmoji,twemoji,noto,fluent,fxemoji --out <dir> [...]   (--openmoji: --source openmoji)
// Builds a training set (src/data/dataset.ts): for every colour image, in natural order, the resized colour image,
// one XDoG sketch per mult and each sketch's distance field, plus manifest.json. Worker threads share the items
// (each with its own engine); an item is finished once its item.json exists, so an interrupted run resumes where it
// stopped; unreadable files and subfolders are listed in the summary and the manifest, never fatal. The open sets
// (src/io/open-sets.ts) leave their licences beside the data: ATTRIBUTION.md and LICENSE-<set>.txt.
import { availableParallelism } from 'node:os';
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { buildItem, naturalCompare, spreadSample, type DatasetItem } from '../data/dataset.js';
import { toGrey } from '../data/plane.js';
import { XDOG_PRESETS, type XdogPreset } from '../data/xdog.js';
import { Engine, useEngine } from '../engine/engine.js';
import { removeStaleTemporaries } from '../io/atomic-file.js';
import { nodeDevice } from '../io/dawn.js';
import { finishedItem, isImageName, listImages, noImagesFound, writeItem, writeManifest, type Outcome, type UnreadableFolder } from '../io/dataset.js';
import { decodeImage, DEFAULT_MAX_PIXELS, MAX_MEGAPIXELS_OPTION, parseMaxMegapixels, readImage, renderSvg } from '../io/image.js';
import { ARCHIVE_LIMIT_FLAGS, archiveLimitsFromFlags, openZip, type ZipArchive } from '../io/zip.js';
import type { ZipLimits } from '../io/zip-format.js';
import { flagsHelp, HELP_FLAG, parseNumberFlag, VERBOSE_FLAG, type FlagSpec } from '../io/flags.js';
import { commandFlags, runCommand, UsageError } from './command.js';
import { progressBar } from '../io/progress.js';
import { isOpenSetName, OPEN_SETS, openSetItems, type OpenSetLicence, type OpenSetName } from '../io/open-sets.js';

/** Each worker holds a device and an item's planes: more than this is a typo, not a machine. */
const MAX_WORKERS = 256;

/** The flag table: the shared parser's (src/io/flags.ts) and the help's. */
const SPECS: FlagSpec[] = [
  { name: 'input', value: 'DIR|ZIP', help: 'colour images (PNG, JPEG, WebP, TIFF, GIF), searched recursively / every entry of the archive' },
  {
    name: 'source',
    value: 'LIST',
    help:
      'open-licence emoji sets installed with the project, comma-separated, rendered on white:\nopenmoji (CC BY-SA 4.0; its black SVGs kept as real line art), twemoji (CC BY 4.0),\n' +
      "noto (Apache-2.0), fluent (Fluent Emoji flat, MIT), fxemoji (Apache-2.0); each set's licence\nand attribution are written with the data (ATTRIBUTION.md, LICENSE-<set>.txt)",
  },
  { name: 'openmoji', help: 'the same as --source openmoji' },
  { name: 'out', value: 'DIR', help: 'where items/, manifest.json (and the notice) go; rerunning resumes' },
  { name: 'size', value: 'N', help: 'short side of the stored colour images and the training crops (default 512, 32 to 8192)' },
  { name: 'mults', value: '1,2,3', help: 'XDoG mults, one sketch and distance field each (default 1,2,3)' },
  { name: 'preset', value: 'P', help: 'XDoG parameters: code (default) or paper' },
  { name: 'workers', value: 'N', help: `worker threads (default: one per core, at most ${MAX_WORKERS})` },
  { name: 'limit', value: 'N', help: 'only N sources, spread evenly over the sorted list (a varied trial set; over several\nsets, each gives its share)' },
  { name: 'skip', value: 'N', help: 'leave out the N sources --limit N takes: a held-out set beside a training set made with --limit N' },
  {
    name: 'sample',
    value: 'HOW',
    help: 'how --limit and --skip pick: spread (default, evenly over the sorted list) or first (the first N\nin natural order, as sets made before the spread sample were)',
  },
  { name: 'max-megapixels', value: 'N', help: `skip larger images (default ${DEFAULT_MAX_PIXELS / 1e6}, at most ${MAX_MEGAPIXELS_OPTION})` },
  VERBOSE_FLAG,
  HELP_FLAG,
];

const USAGE = `usage: npm run prepare-data -- (--input <dir|zip> | --source LIST) --out <dir> [options]
${flagsHelp(SPECS)}
limits on a ZIP --input (zip bombs; an entry over a limit is skipped and listed, see the README):
${flagsHelp(ARCHIVE_LIMIT_FLAGS)}`;

interface Settings {
  out: string;
  size: number;
  mults: number[];
  preset: XdogPreset;
  maxPixels: number;
}

/** One colour image to turn into an item. */
interface Source {
  source: string;
  kind: 'file' | 'zip' | 'svg' | 'svg-text';
  path?: string;
  /** The SVG itself (an icon of an Iconify set). */
  svg?: string;
  lineart?: string;
}

/** What the main thread sends a worker: the source, with the bytes for ZIP entries. */
interface Task {
  index: number;
  source: Source;
  bytes?: Uint8Array;
}

type Reply = { index: number; item: DatasetItem } | { index: number; error: string };

// ---- worker -------------------------------------------------------------------------------------------------

async function workerMain(settings: Settings): Promise<void> {
  useEngine(new Engine(await nodeDevice({ quiet: true })));
  parentPort!.on('message', async (task: Task) => {
    try {
      parentPort!.postMessage({ index: task.index, item: await makeItem(task, settings) } satisfies Reply);
    } catch (e) {
      parentPort!.postMessage({ index: task.index, error: (e as Error).message } satisfies Reply);
    }
  });
  parentPort!.postMessage('ready');
}

async function makeItem({ source, bytes }: Task, s: Settings): Promise<DatasetItem> {
  const image =
    source.kind === 'svg' || source.kind === 'svg-text'
      ? await renderSvg(source.svg !== undefined ? Buffer.from(source.svg) : await readFile(source.path!), source.source, s.size)
      : source.kind === 'zip'
        ? await decodeImage(bytes!, source.source, { maxPixels: s.maxPixels })
        : await readImage(source.path!, { maxPixels: s.maxPixels });
  const built = await buildItem(image, s.size, s.mults, s.preset);
  const lineart = source.lineart ? toGrey(await renderSvg(await readFile(source.lineart), source.lineart, s.size)) : undefined;
  return writeItem(s.out, source.source, built, s.mults, lineart);
}

// ---- main thread --------------------------------------------------------------------------------------------

function parse(
  argv: string[],
): {
  settings: Settings;
  input: string | null;
  sets: OpenSetName[];
  workers: number;
  limit: number;
  skip: number;
  sample: (list: readonly Source[], count: number) => Source[];
  verbose: boolean;
  archiveLimits: ZipLimits;
} | null {
  const parsed = commandFlags(argv, [...SPECS, ...ARCHIVE_LIMIT_FLAGS], USAGE);
  if (!parsed) return null;
  if (parsed.positionals.length) throw new UsageError(`Unexpected argument "${parsed.positionals[0]}": name the images with --input <dir|zip>.`);
  const given = Object.fromEntries(parsed.values);
  const values = {
    input: given.input,
    source: given.source ?? (parsed.switches.has('openmoji') ? 'openmoji' : undefined),
    out: given.out,
    size: given.size ?? '512',
    mults: given.mults ?? '1,2,3',
    preset: given.preset ?? 'code',
    workers: given.workers ?? String(Math.min(availableParallelism(), MAX_WORKERS)),
    limit: given.limit ?? '0',
    skip: given.skip ?? '0',
    sample: given.sample ?? 'spread',
    'max-megapixels': given['max-megapixels'] ?? String(DEFAULT_MAX_PIXELS / 1e6),
  };
  if (given.source !== undefined && parsed.switches.has('openmoji')) throw new UsageError('--openmoji is --source openmoji: give one of them (add openmoji to the --source list).');
  if (!values.input === !values.source) throw new UsageError('Give exactly one of --input <dir|zip> and --source <sets>.');
  const sets = values.source ? values.source.split(',').map((n) => n.trim()) : [];
  for (const name of sets) if (!isOpenSetName(name)) throw new UsageError(`--source: "${name}" is not a set; use ${OPEN_SETS.join(', ')}.`);
  if (new Set(sets).size !== sets.length) throw new UsageError(`--source names a set twice: "${values.source}".`);
  if (!values.out) throw new UsageError('No output folder: add --out <dir>.');
  const int = (name: string, v: string, min: number, max?: number) => parseNumberFlag(name, v, { min, max, integer: true });
  const mults = values.mults!.split(',').map((m) => int('mults', m.trim(), 1, 16));
  if (new Set(mults).size !== mults.length) throw new UsageError(`--mults must be distinct integers from 1 to 16, got "${values.mults}".`);
  if (values.sample !== 'spread' && values.sample !== 'first') throw new UsageError(`--sample must be spread or first, got "${values.sample}".`);
  if (!(values.preset! in XDOG_PRESETS)) throw new UsageError(`--preset must be one of ${Object.keys(XDOG_PRESETS).join(', ')}, got "${values.preset}".`);
  const maxPixels = parseMaxMegapixels(values['max-megapixels']!);
  if (typeof maxPixels === 'string') throw new UsageError(maxPixels);
  return {
    settings: { out: values.out, size: int('size', values.size!, 32, 8192), mults, preset: values.preset as XdogPreset, maxPixels },
    input: values.input ?? null,
    sets: sets as OpenSetName[],
    workers: int('workers', values.workers!, 1, MAX_WORKERS),
    limit: int('limit', values.limit!, 0),
    skip: int('skip', values.skip!, 0),
    sample: values.sample === 'first' ? (list, count) => list.slice(0, count) : spreadSample,
    verbose: parsed.switches.has('verbose'),
    archiveLimits: archiveLimitsFromFlags(parsed.values),
  };
}

/** The sources to prepare, and the subfolders of a folder --input that could not be listed (each one skipped source). */
async function sources(
  input: string | null,
  sets: readonly OpenSetName[],
  limits: ZipLimits,
): Promise<{ list: Source[]; zip: ZipArchive | null; unreadable: UnreadableFolder[]; licences: Map<OpenSetName, OpenSetLicence> }> {
  const licences = new Map<OpenSetName, OpenSetLicence>();
  if (sets.length) {
    const list: Source[] = [];
    for (const name of sets) {
      const set = await openSetItems(name);
      list.push(...set.items);
      licences.set(name, set.licence);
    }
    return { list: list.sort((a, b) => naturalCompare(a.source, b.source)), zip: null, unreadable: [], licences };
  }
  const info = await stat(input!).catch(() => null);
  if (!info) throw new Error(`${input}: no such file or folder.`);
  if (info.isDirectory()) {
    const { images, unreadable } = await listImages(input!);
    return { list: images.map((source): Source => ({ source, kind: 'file', path: join(input!, source) })), zip: null, unreadable, licences };
  }
  const zip = await openZip(input!, limits);
  const list = zip.entries
    .filter((e) => !e.name.endsWith('/') && isImageName(e.name) && !/(^|\/)__MACOSX\//.test(e.name))
    .map((e) => ({ source: e.name, kind: 'zip' as const }));
  return { list: list.sort((a, b) => naturalCompare(a.source, b.source)), zip, unreadable: [], licences };
}

async function main(): Promise<void> {
  const options = parse(process.argv.slice(2));
  if (!options) return;
  const { settings, input, sets, workers, limit, skip, sample, verbose, archiveLimits } = options;
  const { list: found, zip, unreadable, licences } = await sources(input, sets, archiveLimits);
  // With --out inside --input, a rerun must not take the items it wrote (<out>/items/…) for new images.
  const own = input && !zip ? relative(resolve(input), resolve(settings.out, 'items')) : '..';
  const everything = own.startsWith('..') || isAbsolute(own) ? found : found.filter((s) => !s.source.startsWith(own + sep));
  // --skip N leaves out exactly what --limit N takes, so the two make disjoint sets from one source.
  const held = new Set(skip ? sample(everything, skip) : []);
  const all = everything.filter((s) => !held.has(s));
  const list = limit ? sample(all, limit) : all;
  if (list.length === 0) throw unreadable.length ? new Error(unreadable.map((u) => u.error).join('\n')) : noImagesFound(input ?? sets.join(', '));
  await mkdir(join(settings.out, 'items'), { recursive: true });
  removeStaleTemporaries(settings.out); // a manifest an interrupted run was writing
  const zipEntries = new Map(zip?.entries.map((e) => [e.name, e]));

  const outcomes: (Outcome | null)[] = new Array(list.length).fill(null);
  const todo: number[] = [];
  for (let i = 0; i < list.length; i++) {
    outcomes[i] = await finishedItem(settings.out, list[i].source);
    if (!outcomes[i]) todo.push(i);
  }
  const resumed = list.length - todo.length;
  console.log(`${list.length} colour images${resumed ? `, ${resumed} already done` : ''}; mults ${settings.mults.join(',')} at size ${settings.size}, ${Math.min(workers, todo.length)} workers → ${settings.out}`);

  if (todo.length) {
    // Opening a device here first checks that there is one, and sets up the environment (EGL on llvmpipe)
    // that worker threads inherit but cannot set for themselves.
    (await nodeDevice({ verbose })).device.destroy();
    const bar = progressBar(todo.length, { unit: 'items/s' });
    let finished = 0;
    let next = 0;
    await new Promise<void>((resolveAll, rejectAll) => {
      const pool = Array.from({ length: Math.min(workers, todo.length) }, () => new Worker(new URL(import.meta.url), { workerData: settings }));
      let running = pool.length;
      const feed = async (w: Worker) => {
        if (next >= todo.length) {
          await w.terminate();
          if (--running === 0) resolveAll();
          return;
        }
        const index = todo[next++];
        const source = list[index];
        try {
          const bytes = zip ? await zip.read(zipEntries.get(source.source)!) : undefined;
          w.postMessage({ index, source, bytes } satisfies Task, bytes ? [bytes.buffer as ArrayBuffer] : []);
        } catch (e) {
          outcomes[index] = { source: source.source, error: (e as Error).message };
          bar.update(++finished, source.source);
          await feed(w);
        }
      };
      for (const w of pool) {
        w.on('message', (m: Reply | 'ready') => {
          if (m !== 'ready') {
            outcomes[m.index] = 'item' in m ? m.item : { source: list[m.index].source, error: m.error };
            bar.update(++finished, list[m.index].source);
          }
          feed(w).catch(rejectAll);
        });
        w.on('error', rejectAll);
      }
    });
    bar.end();
  }
  await zip?.close();

  const notices = [...licences.values()].map((l) => l.notice);
  if (licences.size) {
    await writeFile(join(settings.out, 'ATTRIBUTION.md'), `# Attribution\n\n${notices.join('\n\n')}\n`);
    for (const [name, { file }] of licences) if (file) await copyFile(file, join(settings.out, `LICENSE-${name}.txt`));
  }
  // A folder that could not be listed is skipped like an image that could not be read: named in the manifest and below.
  const folders = unreadable.map(({ folder, error }): Outcome => ({ source: folder, error }));
  const manifest = await writeManifest(settings.out, { ...settings, notice: notices.length ? notices.join(' ') : undefined }, [...folders, ...outcomes.filter((o) => o !== null)]);
  console.log(`${manifest.items.length} items in ${join(settings.out, 'manifest.json')}${manifest.failed.length ? `; ${manifest.failed.length} skipped:` : ''}`);
  // Every line names its file: an unreadable folder's message names it by its path (shortened when very long).
  const folderSources = new Set(unreadable.map((u) => u.folder));
  for (const f of manifest.failed) console.log(`  ${folderSources.has(f.source) || f.error.startsWith(f.source) ? f.error : `${f.source}: ${f.error}`}`);
}

if (isMainThread) {
  process.exit(await runCommand(main, { usage: (message) => `${message}\n${USAGE}` }));
} else {
  await workerMain(workerData as Settings);
}
