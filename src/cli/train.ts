// npm run train -- [--preset tiny|small|full|paper] [--config FILE] [--data DIR|generated] --out DIR [settings]
// npm run train -- --out DIR --resume [settings]
// npm run train -- --from <checkpoint|exported generator> [--finetune <bw-dir>] [--data DIR] --out DIR [settings]
// npm run train -- --export <checkpoint|run dir> [-o FILE] [--best]
// Trains the colorization GAN (src/train/trainer.ts) with a progress bar, writing <out>/log.jsonl, checkpoints,
// sample grids and finally <out>/generator.safetensors (what `npm run colorize` loads). Ctrl-C, SIGTERM or a
// closed terminal (SIGHUP) finishes the current step, writes a checkpoint and the generator, and exits;
// `--resume` continues bit for bit. `--export` writes any checkpoint's generator for colorize, without a device. A second Ctrl-C aborts at once (the last checkpoint is intact: checkpoints are written atomically).
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Engine, useEngine } from '../engine/engine.js';
import { removeStaleTemporaries } from '../io/atomic-file.js';
import { readCheckpoint } from '../io/checkpoint.js';
import { nodeDevice } from '../io/dawn.js';
import { MAX_WEIGHTS_BYTES, readInputFile } from '../io/input-file.js';
import { acquireRunLock } from '../io/run-lock.js';
import { floatEntries } from '../io/stored-tensors.js';
import { UNUSED_TENSORS } from '../nets/architectures.js';
import { EXTRACTOR_V1, SEResNeXt } from '../nets/extractor.js';
import type { Module } from '../nets/module.js';
import { Vgg16Features } from '../nets/vgg16.js';
import { loadTrainingData } from '../train/batches.js';
import { checkpointName, CheckpointStore, decodeCheckpoint, decodeStartWeights, exportGenerator, type StartWeights } from '../train/checkpoint.js';
import {
  CONFIG_FLAGS, configFromFlags, configHelp, ConfigError, frozenDifferences, parseConfigJson, startFromDifferences, resolveConfig, type DeepPartial, type TrainConfig,
} from '../train/config.js';
import { summaryLine, Trainer } from '../train/trainer.js';
import { flagsHelp, HELP_FLAG, VERBOSE_FLAG, type FlagSpec } from '../io/flags.js';
import { commandFlags, runCommand, UsageError } from './command.js';
import { formatDuration, progressBar } from '../io/progress.js';

/** The command's own flags (the settings are CONFIG_FLAGS, src/train/config.ts): the parser's table and the help's. */
const OWN_FLAGS: FlagSpec[] = [
  { name: 'out', short: 'o', value: 'DIR', help: "the run's folder: log.jsonl, checkpoints/, samples/, generator.safetensors" },
  {
    name: 'export',
    value: 'PATH',
    help: "write the generator of a training checkpoint, or of a run folder's newest checkpoint, for\nnpm run colorize -- --weights; -o names the file (default <run>/generator-step-N.safetensors)",
  },
  { name: 'best', help: 'with --export and a run folder: the checkpoint with the best validation L1' },
  {
    name: 'resume',
    help: 'continue the run in --out from its newest checkpoint (settings that define the model,\nthe data or the random streams cannot change; schedule and intervals can)',
  },
  {
    name: 'from',
    value: 'FILE',
    help: 'a new run from the networks of a training checkpoint (<run>/checkpoints/step-*.safetensors)\nor of an exported generator (models/default.safetensors, <run>/generator.safetensors; the\ndiscriminator then starts untrained): with --finetune, fine-tuning on pages; without, a warm\nstart on --data. Its other settings are the defaults of this run; it may add the hint gate\n(--generator-hint-gate on) or change --hint-input',
  },
  { name: 'config', value: 'FILE', help: 'settings as JSON ({"preset": "tiny", "batchSize": 2, "loss": {"white": 0}}); flags override it' },
  VERBOSE_FLAG,
  HELP_FLAG,
];

const USAGE = `usage: npm run train -- [--preset tiny|small|full|paper] [--config FILE] [--data DIR|generated] --out DIR [settings]
       npm run train -- --out DIR --resume [settings]
       npm run train -- --from <checkpoint|exported generator> [--finetune <bw-dir>] [--data DIR] --out DIR [settings]
       npm run train -- --export <checkpoint|run dir> [-o FILE] [--best]

${flagsHelp(OWN_FLAGS)}

Settings (defaults from the preset; "none" for the optional ones):
${configHelp()}

Ctrl-C (or SIGTERM, or closing the terminal) finishes the current step, writes a checkpoint and exits; run again
with --resume; the generator of the step it reached is written too.`;

interface Options {
  kind: 'train';
  out: string;
  resume: boolean;
  from: string | null;
  file: DeepPartial<TrainConfig>;
  flags: DeepPartial<TrainConfig>;
  verbose: boolean;
}


interface ExportOptions {
  kind: 'export';
  from: string;
  to: string | null;
  best: boolean;
}

function parse(argv: string[]): Options | ExportOptions | null {
  const parsed = commandFlags(argv, [...OWN_FLAGS, ...CONFIG_FLAGS], USAGE);
  if (!parsed) return null;
  if (parsed.positionals.length) throw new UsageError(`Unexpected argument "${parsed.positionals[0]}": every setting is a flag (--name value).`);
  const { values } = parsed;
  let file: DeepPartial<TrainConfig> = {};
  const path = values.get('config');
  if (path !== undefined) {
    let text: string;
    try {
      text = readInputFile(path, 16 * 2 ** 20).toString('utf8');
    } catch (e) {
      throw new UsageError(`--config ${path}: cannot read it (${(e as Error).message}).`);
    }
    file = parseConfigJson(text, path);
  }
  if (values.has('export')) return { kind: 'export', from: values.get('export')!, to: values.get('out') ?? null, best: parsed.switches.has('best') };
  if (parsed.switches.has('best')) throw new UsageError('--best chooses the checkpoint --export writes; add --export <run folder>.');
  const out = values.get('out');
  if (!out) throw new UsageError('No run folder: add --out <dir> (e.g. --out runs/tiny).');
  return { kind: 'train', out, resume: parsed.switches.has('resume'), from: values.get('from') ?? null, file, flags: configFromFlags(values), verbose: parsed.switches.has('verbose') };
}

function readWeightsFile(path: string, flag: string): Uint8Array {
  try {
    return readInputFile(path, MAX_WEIGHTS_BYTES);
  } catch (e) {
    throw new Error(`${flag} ${path}: cannot read it (${(e as Error).message}).`);
  }
}

/** The run's configuration and where it starts: fresh, resumed, or fine-tuning from another run's checkpoint. */
function plan({ out, resume, from, file, flags }: Options): {
  config: TrainConfig;
  store: CheckpointStore;
  latest: ReturnType<CheckpointStore['loadLatest']>;
  start: { path: string; weights: StartWeights } | null;
} {
  const store = new CheckpointStore(join(out, 'checkpoints'), 1);
  if (resume) {
    if (from) throw new UsageError('--resume continues the run in --out; --from starts a new run from another run’s checkpoint. Use one of them.');
    store.removeTemporaries();
    const latest = store.loadLatest();
    if (!latest) {
      const newest = store.list().at(-1);
      let why = 'it has no checkpoints';
      if (newest) {
        try {
          store.load(newest.path);
        } catch (e) {
          why = `none of its checkpoints could be read (the newest, ${newest.path}: ${(e as Error).message})`;
        }
      }
      throw new Error(`Nothing to resume in ${out}: ${why}. Start the run without --resume.`);
    }
    const config = resolveConfig({ base: latest.contents.config, file, flags });
    const differences = frozenDifferences(latest.contents.config, config);
    if (differences.length) {
      throw new UsageError(`--resume cannot change what defines the model, the data or the random streams:\n  ${differences.join('\n  ')}\nDrop those settings, or start a new run in another --out.`);
    }
    return { config, store, latest, start: null };
  }
  if (store.list().length) throw new UsageError(`${out} already holds checkpoints: add --resume to continue that run, or choose another --out.`);
  if (from) {
    const weights = decodeStartWeights(readWeightsFile(from, '--from'), from);
    const config = resolveConfig({ base: weights.config, file, flags });
    const differences = startFromDifferences(weights.config, config, { freshDiscriminator: weights.discriminator === null });
    if (differences.length) {
      throw new UsageError(
        `A run --from ${from} keeps its networks (it may only add the hint gate or change the hint encoding); these settings change them:\n  ${differences.join('\n  ')}`,
      );
    }
    return { config, store, latest: null, start: { path: from, weights } };
  }
  const config = resolveConfig({ file, flags });
  if (config.finetune !== null) throw new UsageError('--finetune needs --from: the training checkpoint or exported generator (e.g. models/default.safetensors) of the model to fine-tune.');
  return { config, store, latest: null, start: null };
}

/** A frozen network from a user's weights file (safetensors or PyTorch), with the file named in every error. */
function loadWeights<M extends Module>(module: M, path: string, unused?: RegExp): M {
  try {
    const { tensors } = readCheckpoint(readInputFile(path, MAX_WEIGHTS_BYTES));
    const entries = floatEntries(tensors);
    if (unused) for (const name of [...entries.keys()]) if (unused.test(name)) entries.delete(name);
    module.loadStateDict(entries);
    return module;
  } catch (e) {
    module.dispose();
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

function checkDataFolder(config: TrainConfig): void {
  if (config.data === 'generated') return;
  if (!existsSync(config.data) || !statSync(config.data).isDirectory()) {
    throw new UsageError(`--data ${config.data}: no such folder. Build a data set first (npm run prepare-data -- --openmoji --out ${config.data}) or use --data generated.`);
  }
  if (!existsSync(join(config.data, 'manifest.json'))) {
    throw new UsageError(`--data ${config.data}: no manifest.json; the set is not (completely) prepared. Run npm run prepare-data -- ... --out ${config.data} to finish it.`);
  }
  if (config.finetune !== null && !existsSync(config.finetune)) throw new UsageError(`--finetune ${config.finetune}: no such folder.`);
}

/** --export: a checkpoint's generator as the file colorize loads (the format a finished run writes). */
function exportCheckpoint({ from, to, best }: ExportOptions): number {
  const info = existsSync(from) ? statSync(from) : null;
  if (!info) throw new UsageError(`--export ${from}: no such checkpoint or run folder.`);
  let path = from;
  let run = basename(dirname(from)) === 'checkpoints' ? dirname(dirname(from)) : dirname(from);
  if (info.isDirectory()) {
    run = from;
    const store = new CheckpointStore(existsSync(join(from, 'checkpoints')) ? join(from, 'checkpoints') : from, 1);
    const chosen = best ? store.best() : store.list().at(-1);
    if (!chosen) throw new UsageError(`--export ${from}: ${best ? 'no checkpoint with a validation result' : 'no checkpoints'} there.`);
    path = chosen.path;
  } else if (best) {
    throw new UsageError('--best chooses among the checkpoints of a run folder; --export names a single checkpoint here.');
  }
  const contents = decodeCheckpoint(readWeightsFile(path, '--export'), path);
  const output = to ?? join(run, `generator-${checkpointName(contents.state.step)}`);
  if (existsSync(output)) throw new UsageError(`${output} already exists; choose another -o.`);
  exportGenerator(output, contents.generator, contents.config);
  const validation = contents.state.validation?.step === contents.state.step ? `, validation L1 ${contents.state.validation.val_l1.toFixed(4)}` : '';
  console.log(`exported the generator of ${path} (step ${contents.state.step}${validation}) → ${output}`);
  console.log(`colorize with: npm run colorize -- --weights ${output} <pages>`);
  return 0;
}

async function main(): Promise<number> {
  const options = parse(process.argv.slice(2));
  if (!options) return 0;
  if (options.kind === 'export') return exportCheckpoint(options);
  // One trainer per run folder; what an interrupted one left half-written is removed under the lock.
  const lock = acquireRunLock(options.out, 'training run');
  if (lock.note) console.log(`note: ${lock.note}`);
  for (const dir of [options.out, join(options.out, 'checkpoints'), join(options.out, 'samples')]) {
    for (const name of removeStaleTemporaries(dir)) console.log(`removed ${join(dir, name)}, left by an interrupted run`);
  }
  const { config, latest, start } = plan(options);
  checkDataFolder(config);

  const e = useEngine(new Engine(await nodeDevice({ verbose: options.verbose })))!;
  console.log(`adapter: ${e.gpu.adapterName} (${e.gpu.backend}${e.gpu.software ? ', software' : ''})`);
  if (e.gpu.software && config.crop > 128) {
    console.log(`warning: ${config.crop}² crops on a software adapter take a very long time per step; the tiny preset is the one sized for it.`);
  }

  // Signals: the first asks the run to stop after its step (checked between steps), a second Ctrl-C aborts.
  // SIGHUP (the terminal was closed) stops the same way; the terminal is gone, so output errors are ignored
  // and log.jsonl keeps the record.
  let stopRequest: string | null = null;
  let trainingStarted = false;
  let bar: ReturnType<typeof progressBar> | null = null;
  const say = (line: string) => (bar ? bar.log(line) : console.log(line));
  const onSignal = (signal: NodeJS.Signals) => {
    if (signal === 'SIGHUP') for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
    if (!trainingStarted) process.exit(signal === 'SIGHUP' ? 129 : 130); // nothing to save yet
    if (stopRequest) {
      if (signal === 'SIGINT') {
        say('second Ctrl-C: aborting without a new checkpoint (the previous one is intact; --resume continues from it)');
        process.exit(130);
      }
      return; // a repeated SIGTERM (e.g. sent to the whole process group) just waits for the checkpoint
    }
    stopRequest = signal;
    say(`${signal}: finishing the current step, then writing a checkpoint (Ctrl-C again to abort)`);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);

  const data = await loadTrainingData(config, {
    pagesCache: join(options.out, 'finetune-pages'),
    progress: (done, total, source) => process.stderr.write(`\rpreparing pages ${done}/${total} ${source}\x1b[K${done === total ? '\n' : ''}`),
  });
  const extractor = config.localFeatures === 'extractor' ? loadWeights(new SEResNeXt(EXTRACTOR_V1), config.extractorWeights!) : null;
  const vgg = config.vggWeights && config.loss.perceptual > 0 ? loadWeights(new Vgg16Features(), config.vggWeights, UNUSED_TENSORS.vgg16) : null;

  const trainer = new Trainer({
    config,
    data,
    out: options.out,
    extractor,
    vgg,
    reporter: {
      step(record, progress) {
        const page = record.page_loss_d !== undefined ? `  pages D ${record.page_loss_d.toFixed(3)} G ${record.page_loss_g!.toFixed(3)}` : '';
        const note = `loss G ${record.loss_g.toFixed(3)} D ${record.loss_d.toFixed(3)} L1 ${record.l1.toFixed(4)}${page}  ${record.ms} ms/step`;
        bar?.update(progress.step, note, { perSecond: progress.imagesPerSecond, etaSeconds: progress.etaMs / 1000 });
      },
      validation(v) {
        say(`step ${v.step}: validation L1 ${v.val_l1.toFixed(4)}, PSNR ${v.val_psnr.toFixed(2)} dB (with hints ${v.val_psnr_hinted.toFixed(2)} dB)`);
      },
      event(event, message) {
        if (event !== 'finish') say(event === 'start' ? message : `${event}: ${message}`);
      },
    },
  });
  if (latest) trainer.resume(latest);
  if (start) trainer.startFrom(start.weights, start.path);
  console.log(`run folder: ${options.out} (log.jsonl, checkpoints/, samples/)`);
  bar = progressBar(trainer.totalSteps, {
    unit: 'images/s',
    lineAt: (step) => step % config.progressEvery === 0 || step === trainer.totalSteps,
  });
  trainingStarted = true;
  const summary = await trainer.run({ shouldStop: () => stopRequest });
  bar.end();
  bar = null;
  console.log(summaryLine(summary));
  if (summary.stoppedBy) console.log(`continue with: npm run train -- --out ${options.out} --resume (the generator of step ${summary.steps} colours already)`);
  else console.log(`${formatDuration(summary.elapsedMs / 1000)} of training; colorize with: npm run colorize -- --weights ${summary.generatorPath} <page>`);
  trainer.dispose();
  extractor?.dispose();
  vgg?.dispose();
  return 0;
}

process.exit(
  await runCommand(main, {
    name: 'train',
    // A bad setting in --config or a flag is a usage error too.
    usageErrors: [ConfigError],
  }),
);
