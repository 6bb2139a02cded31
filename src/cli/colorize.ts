// npm run colorize -- <inputs...> [-o <out>] [options]
// Colours manga pages: image files, folders (recursively, natural page order) and CBZ/ZIP chapters. A file gives
// a file, a folder a folder with the same relative paths, an archive an archive `<name>_colorized.cbz` with the
// same entry names (image extensions follow --format) in the same order. The device, the pipelines and the
// weights are set up once; each page goes through src/colorize/pipeline.ts. Pages already in colour are left
// alone (src/colorize/colourfulness.ts); a page that fails, or a subfolder that cannot be listed, is reported and
// the rest go on. Nothing existing is overwritten without --force and an input never (--skip-existing leaves what
// exists and colours the rest; --shard I/N takes part of the work list, for several processes sharing a library),
// and every output is written to a hidden temporary file and renamed into place, so an interrupted run leaves no
// half-written file. This file is the run from start to end; its parts are in src/cli/colorize/: the flags
// (options.ts), the work list (work-list.ts), CBZ chapters in and out (archives.ts), the pages (colour-pages.ts)
// and the summary (summary.ts).
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseHintsFile, unusedPageNames, type HintsFile } from '../colorize/hint-files.js';
import { DEFAULT_MODEL_PATH, loadColorModel, type ColorModel, type WeightsFile } from '../colorize/model.js';
import type { PageOptions } from '../colorize/pipeline.js';
import { hintsFromRgba } from '../data/hints.js';
import { evalSummary, type EvalJson } from '../eval/summary.js';
import { Engine, useEngine } from '../engine/engine.js';
import { removeStaleTemporaries } from '../io/atomic-file.js';
import { nodeDevice } from '../io/dawn.js';
import { decodeImageBytes, IMAGE_FORMATS, type ImageFormat } from '../io/image.js';
import { readInputFile, MAX_PAGE_BYTES, MAX_WEIGHTS_BYTES } from '../io/input-file.js';
import { progressBar } from '../io/progress.js';
import { removeTemporariesOnSignal } from './colorize/archives.js';
import { processTarget, type PageContext } from './colorize/colour-pages.js';
import { parseOptions, USAGE } from './colorize/options.js';
import { anyFailure, report, type Summary } from './colorize/summary.js';
import { checkOutputs, pagesOf, plannedFiles, planTargets, selectWork } from './colorize/work-list.js';
import { runCommand, UsageError } from './command.js';

/** The default model: this project's own small generator, shipped in the repository (path from its root). */
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface RunOptions {
  /** An engine to run on (tests); by default the best device is opened and closed again. */
  engine?: Engine;
  /** Where the default model is looked for (tests); default PROJECT_ROOT/DEFAULT_MODEL_PATH. */
  defaultWeights?: string;
  log?: (line: string) => void;
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
    const pages = pagesOf(targets);
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
    const work = pagesOf(targets);
    const summary: Summary = {
      coloured: 0,
      copied: [],
      failed: [],
      unreadableFolders: targets.flatMap((t) => (t.kind === 'folder' ? t.unreadable.map((u) => u.error) : [])),
      outputs: new Set(),
    };
    if (!work.length) {
      report(summary, selected.selection, 0, log);
      return anyFailure(summary) ? 1 : 0;
    }
    // Temporaries an interrupted earlier run left beside these outputs (a crash, kill -9) go now.
    for (const folder of new Set(targets.flatMap((t) => plannedFiles(t, format).map(([file]) => dirname(file))))) removeStaleTemporaries(folder);

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
      const bar = progressBar(work.length, { unit: 'pages/min' });
      let done = 0;
      const start = performance.now();
      const context: PageContext = { model, options, hintsFile, o, format, summary };
      for (const t of targets) {
        await processTarget(t, context, (name) => bar.update(++done, name));
      }
      bar.end();
      report(summary, selected.selection, (performance.now() - start) / 1000, log);
      return anyFailure(summary) ? 1 : 0;
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

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  removeTemporariesOnSignal();
  process.exit(await main(process.argv.slice(2)));
}
