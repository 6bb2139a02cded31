// npm run profile -- nets|train|colorize [--preset P] [--size WxH] [--json FILE] [--rows N] [--method M] [--gpu-paths]
// Where a pass's GPU time goes, kernel by kernel (issue 18): records the pass, replays it once whole (host encode
// time, wall time), then once with every dispatch timed alone (src/engine/profiler.ts: GPU timestamps where the
// device has timestamp-query, timed flushes elsewhere), and prints a table grouped by kernel and shape class
// against the adapter's FMA and copy roofs (bench/roof.wgsl, timed the same way).
//   nets      the published v1 generator's forward (random weights) at --size (default 512x768)
//   train     one training step (a D and a G update) of --preset (default tiny on a software adapter, full elsewhere)
//   colorize  a page through the v1 pipeline (published generator and extractor, random weights): the preprocessing
//             (XDoG, distance field) timed whole, then the page-features and generator passes per kernel
// --gpu-paths makes a software adapter run the kernels' hardware-GPU variants (their dispatch counts and relative
// costs, as far as llvmpipe shows them).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import roofSource from '../../bench/roof.wgsl';
import { noGrad } from '../autograd/tape.js';
import { createPlane, planeToChw } from '../data/plane.js';
import { preprocessPage } from '../data/preprocess.js';
import { Engine, engine, keep, tidy, useEngine } from '../engine/engine.js';
import { buildReport, formatReport, timeDispatches, timeWholePass, defaultMethod, type ProfiledPass, type ProfileReport, type TimingMethod } from '../engine/profiler.js';
import type { Recording } from '../engine/recording.js';
import { nodeDevice } from '../io/dawn.js';
import { flagsHelp, HELP_FLAG, parseNumberFlag, parseSizeFlag, type FlagSpec } from '../io/flags.js';
import { ColorizerV1 } from '../nets/colorizer.js';
import { EXTRACTOR_V1, SEResNeXt } from '../nets/extractor.js';
import { GENERATOR_V1, GeneratorV1 } from '../nets/generator-v1.js';
import { Vgg16Features } from '../nets/vgg16.js';
import { randUniform, tensor, zeros } from '../ops/index.js';
import { loadTrainingData } from '../train/batches.js';
import { presetConfig, resolveConfig, type PresetName } from '../train/config.js';
import { Trainer } from '../train/trainer.js';
import { commandFlags, runCommand, UsageError } from './command.js';

const TARGETS = ['nets', 'train', 'colorize'] as const;
const PRESETS: PresetName[] = ['full', 'paper', 'small', 'tiny'];

const SPECS: FlagSpec[] = [
  { name: 'preset', value: 'P', help: `train: the preset, ${PRESETS.join(', ')} (default tiny on a software adapter, full elsewhere)` },
  { name: 'size', value: 'WxH', help: 'nets, colorize: the page, multiples of 32 (default 512x768); train: the square crop (default the preset\'s)' },
  { name: 'json', value: 'FILE', help: 'also write the report as JSON' },
  { name: 'rows', value: 'N', help: 'rows of the table (default 40)' },
  { name: 'method', value: 'M', help: 'timestamps (GPU timestamp queries) or flush (one awaited submit per dispatch); default\ntimestamps where the device has them' },
  { name: 'gpu-paths', help: "on a software adapter, run the kernels' hardware-GPU variants (their dispatch counts and\nrelative costs)" },
  HELP_FLAG,
];

const USAGE = `usage: npm run profile -- nets|train|colorize [options]
Where a pass's GPU time goes, kernel by kernel: nets (the v1 generator's forward), train (a D and a G update),
colorize (a page through the v1 pipeline); random weights.
${flagsHelp(SPECS)}`;

export interface ProfileArgs {
  target: (typeof TARGETS)[number];
  preset: PresetName | null;
  size: [number, number] | null;
  json: string | null;
  rows: number;
  method: TimingMethod | null;
  /** On a software adapter, run the kernels' hardware-GPU variants (as the tests force them), to see their dispatches. */
  gpuPaths: boolean;
}

/** The arguments, or null after printing the usage for -h/--help. */
export function parseProfileArgs(argv: readonly string[], print?: (text: string) => void): ProfileArgs | null {
  const parsed = commandFlags(argv, SPECS, USAGE, print);
  if (!parsed) return null;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `Unexpected argument ${positionals[1]}.\n${USAGE}` : USAGE);
  const target = positionals[0];
  if (!TARGETS.includes(target as ProfileArgs['target'])) throw new UsageError(`Unknown target ${target}.\n${USAGE}`);
  const preset = values.get('preset') ?? null;
  if (preset !== null && !PRESETS.includes(preset as PresetName)) throw new UsageError(`--preset ${preset}: use one of ${PRESETS.join(', ')}.`);
  const size = values.has('size') ? parseSizeFlag(values.get('size')!, 32) : null;
  const method = values.get('method') ?? null;
  if (method !== null && method !== 'timestamps' && method !== 'flush') throw new UsageError('--method takes timestamps or flush.');
  const rows = values.get('rows');
  return {
    target: target as ProfileArgs['target'],
    preset: preset as PresetName | null,
    size: size && [size.width, size.height],
    json: values.get('json') ?? null,
    rows: rows === undefined ? 40 : parseNumberFlag('rows', rows, { min: 1, integer: true }),
    method: method as TimingMethod | null,
    gpuPaths: parsed.switches.has('gpu-paths'),
  };
}

/** A recorded pass, replayed whole (warm-up, host encode and wall time) and then dispatch by dispatch. */
async function profilePass(name: string, recording: Recording, method: TimingMethod): Promise<ProfiledPass> {
  const e = engine();
  await timeWholePass(e, recording.commands);
  const { encodeMs, wallMs } = await timeWholePass(e, recording.commands);
  const timing = await timeDispatches(e, recording.commands, method);
  return { name, commands: recording.commands, timing, encodeMs, wallMs };
}

/** The FMA and copy roofs (bench/roof.wgsl), timed like the kernels: the best of three dispatches. */
async function measureRoofs(method: TimingMethod): Promise<ProfileReport['roofs']> {
  const e = engine();
  const software = e.gpu.software;
  const WG = 64;
  const iterations = 4096;
  const fmaGroups = software ? 64 : 4096;
  // 32 MiB (software) or 256 MiB on each side of the copy, within the largest storage binding.
  const copyVec4 = Math.floor(Math.min((software ? 32 : 256) * 2 ** 20, e.gpu.limits.maxStorageBufferBindingSize) / 16 / WG) * WG;
  const sink = e.acquireBuffer(Math.max(fmaGroups * WG, copyVec4) * 16);
  const src = e.acquireBuffer(copyVec4 * 16);
  const best = async (run: () => void, amount: number): Promise<number | null> => {
    const { recording } = e.record(run);
    try {
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const ms = (await timeDispatches(e, recording.commands, method)).ms[0];
        if (ms !== null && ms > 0) times.push(ms);
      }
      return times.length ? amount / Math.min(...times) / 1e6 : null;
    } finally {
      recording.dispose();
    }
  };
  try {
    const fmaGflops = await best(
      () => e.dispatch({ family: 'roof', source: roofSource, entry: 'fma_roof' }, new Uint32Array([iterations, 0, 0, 0]), [sink], [fmaGroups]),
      fmaGroups * WG * iterations * 16 * 4 * 2,
    );
    const copyGroups = copyVec4 / WG;
    const x = Math.min(copyGroups, 32768);
    const copyGbps = await best(
      () => e.dispatch({ family: 'roof', source: roofSource, entry: 'copy_roof' }, new Uint32Array([copyVec4, 0, 0, 0]), [sink, src], [x, Math.ceil(copyGroups / x)]),
      copyVec4 * 32,
    );
    return { fmaGflops, copyGbps };
  } finally {
    e.releaseBuffer(sink);
    e.releaseBuffer(src);
  }
}

async function netsPasses(args: ProfileArgs, method: TimingMethod, log: (line: string) => void): Promise<ProfiledPass[]> {
  const e = engine();
  const [W, H] = args.size ?? [512, 768];
  const generator = new GeneratorV1(GENERATOR_V1);
  generator.eval();
  const input = keep(randUniform([1, 6, H, W], 0, 1));
  const features = keep(randUniform([1, GENERATOR_V1.featureChannels, H / 8, W / 8], 0, 1));
  let recording: Recording | null = null;
  try {
    log(`nets: the published v1 generator forward at ${W}x${H} (random weights, inference)`);
    const recorded = e.record(() => noGrad(() => tidy(() => generator.forward(input, features).image)));
    recording = recorded.recording;
    recorded.result.dispose();
    return [await profilePass(`generator-v1 ${W}x${H} fwd`, recording, method)];
  } finally {
    recording?.dispose();
    generator.dispose();
    input.dispose();
    features.dispose();
  }
}

async function trainPasses(args: ProfileArgs, method: TimingMethod, log: (line: string) => void): Promise<ProfiledPass[]> {
  const e = engine();
  const preset = args.preset ?? (e.gpu.software || args.gpuPaths ? 'tiny' : 'full');
  const flags: Record<string, unknown> = { validationImages: 1, data: 'generated' };
  if (args.size) {
    if (args.size[0] !== args.size[1]) throw new UsageError('train: --size sets the square crop, e.g. 128x128.');
    flags.crop = args.size[0];
  }
  // The presets with the extractor branch need its weights to validate: random ones cost the same work.
  const frozen = presetConfig(preset).localFeatures === 'extractor';
  if (frozen) Object.assign(flags, { extractorWeights: 'random (profile)', vggWeights: 'random (profile)' });
  const config = resolveConfig({ preset, flags: flags as never });
  const extractor = frozen ? new SEResNeXt(EXTRACTOR_V1) : null;
  const vgg = frozen && config.loss.perceptual > 0 ? new Vgg16Features() : null;
  const out = mkdtempSync(join(tmpdir(), 'profile-train-'));
  const trainer = new Trainer({ config, data: await loadTrainingData(config), out, extractor, vgg });
  try {
    log(`train: one step of preset ${preset} (${config.crop}² × ${config.batchSize}), generated data`);
    await trainer.trainStep();
    const passes: ProfiledPass[] = [];
    for (const [phase, recording] of trainer.recordedUpdates) passes.push(await profilePass(`${phase} update`, recording, method));
    return passes;
  } finally {
    trainer.dispose();
    extractor?.dispose();
    vgg?.dispose();
    rmSync(out, { recursive: true, force: true });
  }
}

async function colorizePasses(args: ProfileArgs, method: TimingMethod, log: (line: string) => void): Promise<ProfiledPass[]> {
  const e = engine();
  const [W, H] = args.size ?? [512, 768];
  const generator = new GeneratorV1(GENERATOR_V1);
  const extractor = new SEResNeXt(EXTRACTOR_V1);
  const colorizer = new ColorizerV1(generator, extractor);
  const held: { dispose(): void }[] = [];
  try {
    // A grey page with structure (waves) for XDoG to find lines in.
    const noise = Float32Array.from({ length: W * H }, (_, i) => 0.5 + 0.5 * Math.sin(i % W / 9) * Math.cos(Math.floor(i / W) / 7));
    const page = createPlane(W, H, 3, Float32Array.from({ length: 3 * W * H }, (_, i) => noise[Math.floor(i / 3)]));
    const size = Math.min(W, H);
    const start = performance.now();
    const prepared = await preprocessPage(page, { shortSide: size });
    log(`colorize: a ${W}x${H} page, working short side ${size}; preprocessing (resize, XDoG, distance field) ${(performance.now() - start).toFixed(1)} ms wall, not per kernel`);
    const [w, h] = [prepared.sketch.width, prepared.sketch.height];
    const sketch = keep(tensor(planeToChw(prepared.sketch), [1, 1, h, w]));
    const field = keep(tensor(planeToChw(prepared.field), [1, 1, h, w]));
    held.push(sketch, field);
    const features = e.record(() => noGrad(() => tidy(() => generator.localFeatures(extractor.forward(sketch)))));
    held.push(features.recording, features.result);
    colorizer.setPage(sketch, field);
    const rgb = keep(zeros([1, 3, h, w]));
    const mask = keep(zeros([1, 1, h, w]));
    held.push(rgb, mask);
    const pass = e.record(() => colorizer.colorize({ rgb, mask }));
    held.push(pass.recording, pass.result);
    return [
      await profilePass(`page features (extractor + feature_conv) ${w}x${h}`, features.recording, method),
      await profilePass(`generator ${w}x${h}`, pass.recording, method),
    ];
  } finally {
    for (const t of held.reverse()) t.dispose();
    colorizer.clearPage();
    generator.dispose();
    extractor.dispose();
  }
}

/** Profiles args.target on the current engine and returns the report (the table is logged). */
export async function profile(args: ProfileArgs, log: (line: string) => void = console.log): Promise<ProfileReport> {
  const e = engine();
  const method = args.method ?? defaultMethod(e);
  if (method === 'timestamps' && !e.gpu.features.has('timestamp-query')) throw new UsageError('--method timestamps: this device has no timestamp-query.');
  const roofs = await measureRoofs(method);
  const software = e.gpu.software;
  if (args.gpuPaths) {
    e.gpu.software = false;
    log('kernels take their hardware-GPU variants (--gpu-paths)');
  }
  let passes: ProfiledPass[];
  try {
    passes =
      args.target === 'nets' ? await netsPasses(args, method, log) : args.target === 'train' ? await trainPasses(args, method, log) : await colorizePasses(args, method, log);
  } finally {
    e.gpu.software = software;
  }
  const report = buildReport(`${e.gpu.adapterName} (${e.gpu.backend}, ${e.gpu.featureLevel})`, passes, roofs);
  log(formatReport(report, args.rows));
  if (args.json) {
    mkdirSync(dirname(args.json), { recursive: true });
    writeFileSync(args.json, JSON.stringify({ target: args.target, date: new Date().toISOString(), ...report }, null, 2) + '\n');
    log(`wrote ${args.json}`);
  }
  return report;
}

async function main(): Promise<void> {
  const args = parseProfileArgs(process.argv.slice(2));
  if (!args) return;
  const e = useEngine(new Engine(await nodeDevice()))!;
  try {
    await profile(args);
  } finally {
    e.destroy();
    useEngine(null);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exit(await runCommand(main));
