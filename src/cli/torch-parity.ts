// `npm run torch-parity -- DIR [--json FILE]`: our published-size v1 generator against PyTorch's on the same
// machine. tools/torch-published-parity.py writes DIR (random weights, a page's forward in eval mode, and a
// training step's loss, outputs and per-parameter gradient norms); here the weights go through our PyTorch reader,
// our networks run the same inputs, and each result must match within its tolerance:
//   forward image: max |ours − PyTorch| / max |PyTorch| ≤ 1e-4 (the committed fixtures at reduced sizes hold 2e-5;
//     the published network is 20 blocks deeper, so float32 rounding has more steps to grow);
//   training step: image and guide as above, the loss, and every parameter's gradient norm within 1e-3 relative.
// Exit 1 when any result is outside its tolerance; the JSON records every number either way.
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { backward, noGrad } from '../autograd/tape.js';
import { Engine, useEngine } from '../engine/engine.js';
import type { Tensor } from '../engine/tensor.js';
import { readCheckpoint } from '../io/checkpoint.js';
import { nodeDevice } from '../io/dawn.js';
import { flagsHelp, HELP_FLAG, type FlagSpec } from '../io/flags.js';
import { floatEntries } from '../io/stored-tensors.js';
import { GeneratorV1, generatorV1Config } from '../nets/generator-v1.js';
import type { StateEntry } from '../nets/module.js';
import * as T from '../ops/index.js';
import { l1Loss } from '../train/losses.js';
import { commandFlags, runCommand, UsageError } from './command.js';

const SPECS: FlagSpec[] = [{ name: 'json', value: 'FILE', help: 'also write the checks as JSON' }, HELP_FLAG];

const USAGE = `usage: npm run torch-parity -- DIR [--json FILE]
  DIR          the folder tools/torch-published-parity.py wrote (random weights, inputs, PyTorch's results)
${flagsHelp(SPECS)}`;
const OUTPUT_TOLERANCE = 1e-4;
const GRADIENT_TOLERANCE = 1e-3;

function parseArgs(argv: string[]): { dir: string; json: string | null } | null {
  const parsed = commandFlags(argv, SPECS, USAGE);
  if (!parsed) return null;
  if (parsed.positionals.length !== 1) throw new UsageError(USAGE);
  return { dir: parsed.positionals[0], json: parsed.values.get('json') ?? null };
}

function load(file: string): Map<string, StateEntry> {
  return floatEntries(readCheckpoint(new Uint8Array(readFileSync(file))).tensors);
}

function entry(io: Map<string, StateEntry>, name: string, file: string): StateEntry {
  const e = io.get(name);
  if (!e) throw new Error(`${file} has no tensor "${name}"; rerun tools/torch-published-parity.py.`);
  return e;
}

/** max |ours − PyTorch| / max |PyTorch|, as test/torch-parity.test.ts measures it. */
async function relativeError(ours: Tensor, expected: StateEntry, what: string): Promise<number> {
  if (ours.shape.join() !== expected.shape.join()) throw new Error(`${what}: shape [${ours.shape}] vs PyTorch's [${expected.shape}].`);
  const got = await ours.data();
  let error = 0;
  let scale = 0;
  for (let i = 0; i < got.length; i++) {
    error = Math.max(error, Math.abs(got[i] - expected.data[i]));
    scale = Math.max(scale, Math.abs(expected.data[i]));
  }
  return scale > 0 ? error / scale : error;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (!args) return 0;
  const { dir, json } = args;
  const e = useEngine(new Engine(await nodeDevice()))!;
  const weightsFile = join(dir, 'generator.weights.pt');
  const weights = load(weightsFile);
  // The published layout at the width the script used (to1's first convolution has `width` outputs).
  const width = entry(weights, 'to1.0.weight', weightsFile).shape[0];
  const net = new GeneratorV1(generatorV1Config({ width, featureChannels: 8 * width }));
  net.loadStateDict(weights);
  const checks: { name: string; value: number; tolerance: number; pass: boolean }[] = [];
  const check = (name: string, value: number, tolerance: number) => {
    const pass = value <= tolerance;
    checks.push({ name, value, tolerance, pass });
    console.log(`  ${pass ? 'ok  ' : 'FAIL'} ${name.padEnd(44)} ${value.toExponential(2)} (≤ ${tolerance.toExponential(0)})`);
  };
  console.log(`adapter: ${e.gpu.adapterName} (${e.gpu.backend}); v1 generator, width ${width}, ${(net.parameterCount() / 1e6).toFixed(1)} M parameters`);

  const forwardFile = join(dir, 'forward.io.pt');
  const forward = load(forwardFile);
  const upload = (io: Map<string, StateEntry>, file: string, name: string) => T.tensor(entry(io, name, file).data, entry(io, name, file).shape);
  net.eval();
  const started = performance.now();
  const image = noGrad(() => net.forward(upload(forward, forwardFile, 'input'), upload(forward, forwardFile, 'features')).image);
  const [, , h, w] = image.shape;
  check(`forward ${w}x${h} image`, await relativeError(image, entry(forward, 'image', forwardFile), 'forward image'), OUTPUT_TOLERANCE);
  image.dispose();

  const trainFile = join(dir, 'train.io.pt');
  const train = load(trainFile);
  net.train();
  const target = upload(train, trainFile, 'target');
  const out = net.forward(upload(train, trainFile, 'input'), upload(train, trainFile, 'features'));
  const loss = T.mul(T.add(l1Loss(out.image, target), T.mul(l1Loss(out.guide!, target), 0.9)), 10);
  const [n, , s] = out.image.shape;
  const lossValue = (await loss.data())[0];
  const torchLoss = entry(train, 'loss', trainFile).data[0];
  check(`training step ${s}² × ${n} loss`, Math.abs(lossValue / torchLoss - 1), OUTPUT_TOLERANCE);
  check(`training step image`, await relativeError(out.image, entry(train, 'image', trainFile), 'image'), OUTPUT_TOLERANCE);
  check(`training step guide`, await relativeError(out.guide!, entry(train, 'guide', trainFile), 'guide'), OUTPUT_TOLERANCE);
  backward(loss);
  let worst = { name: '', error: 0 };
  for (const [name, p] of net.namedParameters()) {
    if (!p.grad) throw new Error(`${name} got no gradient.`);
    const g = await p.grad.data();
    const norm = Math.sqrt(g.reduce((sum, v) => sum + v * v, 0));
    const expected = entry(train, `grad_norm.${name}`, trainFile).data[0];
    const error = expected > 0 ? Math.abs(norm / expected - 1) : norm;
    if (error >= worst.error) worst = { name, error };
  }
  check(`gradient norms (worst: ${worst.name})`, worst.error, GRADIENT_TOLERANCE);
  const seconds = (performance.now() - started) / 1000;
  net.dispose();
  const failed = checks.filter((c) => !c.pass).length;
  console.log(`${failed === 0 ? 'all' : `${failed} of`} ${checks.length} checks ${failed === 0 ? 'passed' : 'failed'} (${seconds.toFixed(1)} s)`);
  if (json) {
    mkdirSync(dirname(json), { recursive: true });
    writeFileSync(json, JSON.stringify({ adapter: e.gpu.adapterName, backend: e.gpu.backend, width, checks, seconds }, null, 2) + '\n');
  }
  return failed === 0 ? 0 : 1;
}

process.exit(await runCommand(main));
