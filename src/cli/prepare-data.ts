// npm run prepare-data -- --input <dir|zip> --out <dir> [--size 512] [--mults 1,2,3] [--preset code|paper]
//                         [--workers N] [--limit N]
// npm run prepare-data -- --openmoji --out <dir> [...]
// Builds a training set (src/data/dataset.ts): for every colour image, in natural order, the resized colour
// image, one XDoG sketch per mult and each sketch's distance field, plus manifest.json. Worker threads share the
// items (each with its own engine); an item is finished once its item.json exists, so an interrupted run
// resumes where it stopped; unreadable files are listed in the summary and the manifest, never fatal.
import { availableParallelism } from 'node:os';
import { copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { buildItem, naturalCompare, type DatasetItem } from '../data/dataset.js';
import { toGrey } from '../data/plane.js';
import { XDOG_PRESETS, type XdogPreset } from '../data/xdog.js';
import { Engine, useEngine } from '../engine/engine.js';
import { removeStaleTemporaries } from '../io/atomic-file.js';
import { nodeDevice } from '../io/dawn.js';
import { finishedItem, IMAGE_EXTENSIONS, listImages, noImagesFound, writeItem, writeManifest, type Outcome } from '../io/dataset.js';
import { decodeImage, DEFAULT_MAX_PIXELS, parseMaxMegapixels, readImage, renderSvg } from '../io/image.js';
import { openZip, type ZipArchive } from '../io/zip.js';
import { runCommand, UsageError } from './command.js';
import { progressBar } from './progress.js';

const USAGE = `usage: npm run prepare-data -- (--input <dir|zip> | --openmoji) --out <dir> [options]
  --input DIR|ZIP   colour images (PNG, JPEG, WebP, TIFF, GIF), searched recursively / every entry of the archive
  --openmoji        build from the openmoji package's colour SVGs (rendered on white); its black SVGs are kept
                    beside them as real line art; the CC BY-SA 4.0 notice is written with the data
  --out DIR         where items/, manifest.json (and the notice) go; rerunning resumes
  --size N          short side of the stored colour images and the training crops (default 512)
  --mults 1,2,3     XDoG mults, one sketch and distance field each (default 1,2,3)
  --preset          XDoG parameters: code (default) or paper
  --workers N       worker threads (default: one per core)
  --limit N         only the first N sources (a trial run)`;

const OPENMOJI_NOTICE =
  'All emojis designed by OpenMoji (https://openmoji.org/) – the open-source emoji and icon project. ' +
  'License: CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/). The colour images, sketches and distance ' +
  'fields here are adaptations of them and are shared under the same licence; see LICENSE-openmoji.txt.';

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
  kind: 'file' | 'zip' | 'svg';
  path?: string;
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
  useEngine(new Engine(await nodeDevice()));
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
    source.kind === 'svg'
      ? await renderSvg(await readFile(source.path!), source.source, s.size)
      : source.kind === 'zip'
        ? await decodeImage(bytes!, source.source, { maxPixels: s.maxPixels })
        : await readImage(source.path!, { maxPixels: s.maxPixels });
  const built = await buildItem(image, s.size, s.mults, s.preset);
  const lineart = source.lineart ? toGrey(await renderSvg(await readFile(source.lineart), source.lineart, s.size)) : undefined;
  return writeItem(s.out, source.source, built, s.mults, lineart);
}

// ---- main thread --------------------------------------------------------------------------------------------

function parse(argv: string[]): { settings: Settings; input: string | null; openmoji: boolean; workers: number; limit: number } {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        input: { type: 'string' },
        openmoji: { type: 'boolean', default: false },
        out: { type: 'string' },
        size: { type: 'string', default: '512' },
        mults: { type: 'string', default: '1,2,3' },
        preset: { type: 'string', default: 'code' },
        workers: { type: 'string', default: String(availableParallelism()) },
        limit: { type: 'string', default: '0' },
        'max-megapixels': { type: 'string', default: String(DEFAULT_MAX_PIXELS / 1e6) },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (!values.input === !values.openmoji) throw new UsageError('Give exactly one of --input <dir|zip> and --openmoji.');
  if (!values.out) throw new UsageError('No output folder: add --out <dir>.');
  const int = (name: string, v: string, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${v}".`);
    return n;
  };
  const mults = values.mults!.split(',').map((m) => int('mults', m.trim(), 1));
  if (mults.some((m) => m > 16) || new Set(mults).size !== mults.length) throw new UsageError(`--mults must be distinct integers from 1 to 16, got "${values.mults}".`);
  if (!(values.preset! in XDOG_PRESETS)) throw new UsageError(`--preset must be one of ${Object.keys(XDOG_PRESETS).join(', ')}, got "${values.preset}".`);
  const maxPixels = parseMaxMegapixels(values['max-megapixels']!);
  if (typeof maxPixels === 'string') throw new UsageError(maxPixels);
  return {
    settings: { out: values.out, size: int('size', values.size!, 32), mults, preset: values.preset as XdogPreset, maxPixels },
    input: values.input ?? null,
    openmoji: values.openmoji!,
    workers: int('workers', values.workers!, 1),
    limit: int('limit', values.limit!, 0),
  };
}

function openmojiFolder(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve('openmoji/package.json'));
  } catch {
    throw new Error('The openmoji package is not installed; run `npm install` (it is a devDependency).');
  }
}

async function sources(input: string | null, openmoji: boolean): Promise<{ list: Source[]; zip: ZipArchive | null }> {
  if (openmoji) {
    const root = openmojiFolder();
    const colour = (await readdir(join(root, 'color', 'svg'))).filter((f) => f.endsWith('.svg'));
    const black = new Set(await readdir(join(root, 'black', 'svg')));
    const list = colour.map((f) => ({
      source: `openmoji/${f}`,
      kind: 'svg' as const,
      path: join(root, 'color', 'svg', f),
      lineart: black.has(f) ? join(root, 'black', 'svg', f) : undefined,
    }));
    return { list: list.sort((a, b) => naturalCompare(a.source, b.source)), zip: null };
  }
  const info = await stat(input!).catch(() => null);
  if (!info) throw new Error(`${input}: no such file or folder.`);
  if (info.isDirectory()) {
    const list = (await listImages(input!)).map((source): Source => ({ source, kind: 'file', path: join(input!, source) }));
    return { list, zip: null };
  }
  const zip = await openZip(input!);
  const list = zip.entries
    .filter((e) => !e.name.endsWith('/') && IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase()) && !/(^|\/)__MACOSX\//.test(e.name))
    .map((e) => ({ source: e.name, kind: 'zip' as const }));
  return { list: list.sort((a, b) => naturalCompare(a.source, b.source)), zip };
}

async function main(): Promise<void> {
  const { settings, input, openmoji, workers, limit } = parse(process.argv.slice(2));
  const { list: found, zip } = await sources(input, openmoji);
  // With --out inside --input, a rerun must not take the items it wrote (<out>/items/…) for new images.
  const own = input && !zip ? relative(resolve(input), resolve(settings.out, 'items')) : '..';
  const all = own.startsWith('..') || isAbsolute(own) ? found : found.filter((s) => !s.source.startsWith(own + sep));
  const list = limit ? all.slice(0, limit) : all;
  if (list.length === 0) throw noImagesFound(input ?? 'openmoji');
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
    (await nodeDevice()).device.destroy();
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

  if (openmoji) {
    await writeFile(join(settings.out, 'ATTRIBUTION.md'), `# Attribution\n\n${OPENMOJI_NOTICE}\n`);
    await copyFile(join(openmojiFolder(), 'LICENSE.txt'), join(settings.out, 'LICENSE-openmoji.txt'));
  }
  const manifest = await writeManifest(settings.out, { ...settings, notice: openmoji ? OPENMOJI_NOTICE : undefined }, outcomes.filter((o) => o !== null));
  console.log(`${manifest.items.length} items in ${join(settings.out, 'manifest.json')}${manifest.failed.length ? `; ${manifest.failed.length} skipped:` : ''}`);
  for (const f of manifest.failed) console.log(`  ${f.error.startsWith(f.source) ? f.error : `${f.source}: ${f.error}`}`);
}

if (isMainThread) {
  process.exit(await runCommand(main, { usage: (message) => `${message}\n${USAGE}` }));
} else {
  await workerMain(workerData as Settings);
}
