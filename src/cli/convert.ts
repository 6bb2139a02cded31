// `npm run convert -- <in> <out.safetensors> [--arch <name>] [--half] [--force] [--key <path>]`: converts a
// PyTorch checkpoint (zip or legacy torch.save file) or a safetensors file to safetensors, tensor by tensor, names
// kept (a `module.` prefix on every name removed). With --arch the tensors are first checked strictly against
// that architecture's state dict. Never overwrites without --force; writes a temporary file, then renames it.
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { writeFileAtomic } from '../io/atomic-file.js';
import { FORMAT_NAMES, readCheckpoint } from '../io/checkpoint.js';
import { halfOverflowCount } from '../io/dtypes.js';
import { MAX_WEIGHTS_BYTES, readInputFile, realPathOf } from '../io/input-file.js';
import { writeSafetensors } from '../io/safetensors.js';
import { checkTensorShapes, summarize, type StoredTensors } from '../io/stored-tensors.js';
import { Engine, useEngine } from '../engine/engine.js';
import { nodeDevice } from '../io/dawn.js';
import { ARCHITECTURES, isArchitecture, stateDictLayout, UNUSED_TENSORS, type ArchitectureName } from '../nets/architectures.js';
import { flagsHelp, HELP_FLAG, VERBOSE_FLAG, type FlagSpec } from '../io/flags.js';
import { commandFlags, runCommand, UsageError } from './command.js';

interface Options {
  input: string;
  output: string;
  half: boolean;
  force: boolean;
  key?: string;
  arch?: ArchitectureName;
  verbose: boolean;
}

const SPECS: FlagSpec[] = [
  { name: 'arch', value: 'NAME', help: `check every tensor name and shape against a published architecture first:\n${Object.keys(ARCHITECTURES).join(', ')}` },
  {
    name: 'half',
    help: 'store floating-point tensors as float16; without it they are stored as float32 (exact for\nfloat16/bfloat16 sources, rounded for float64); int64 tensors stay int64',
  },
  { name: 'force', help: 'overwrite <out.safetensors> if it exists' },
  { name: 'key', value: 'PATH', help: 'where the state dict is inside a PyTorch checkpoint dict ("state_dict", "model", "G", "a/b")' },
  VERBOSE_FLAG,
  HELP_FLAG,
];

const USAGE = `usage: npm run convert -- <in.pth|in.pt|in.bin|in.safetensors> <out.safetensors> [options]
Converts a checkpoint to safetensors, tensor by tensor, names kept; this project's own metadata (its format, a
generator's sizes) is kept, so colorize recognises the result as it did the source.
${flagsHelp(SPECS)}`;

function parseArgs(argv: string[]): Options | null {
  const parsed = commandFlags(argv, SPECS, USAGE);
  if (!parsed) return null;
  const { values, switches, positionals: positional } = parsed;
  const arch = values.get('arch');
  if (arch !== undefined && !isArchitecture(arch)) throw new UsageError(`--arch must be one of ${Object.keys(ARCHITECTURES).join(', ')}; got "${arch}"`);
  const [half, force, key] = [switches.has('half'), switches.has('force'), values.get('key')];
  if (positional.length !== 2) throw new UsageError(`expected an input and an output file, got ${positional.length} file argument(s)`);
  const [input, output] = positional;
  if (!output.endsWith('.safetensors')) throw new UsageError(`the output ${output} must be a .safetensors file`);
  return { input, output, half, force, key, arch: arch as ArchitectureName | undefined, verbose: switches.has('verbose') };
}

const grouped = (n: number) => n.toLocaleString('en-US');

function dtypeText(tensors: StoredTensors, rename: (dtype: string) => string = (d) => d): string {
  const counts = new Map<string, number>();
  for (const [dtype, n] of summarize(tensors).dtypes) counts.set(rename(dtype), (counts.get(rename(dtype)) ?? 0) + n);
  return [...counts].map(([dtype, n]) => `${n} ${dtype}`).join(', ');
}

function bytesText(n: number): string {
  return n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} bytes`;
}

async function convert(argv: string[]): Promise<void> {
  const options = parseArgs(argv);
  if (!options) return;
  const { input, output, half, force, key, arch, verbose } = options;
  if (realPathOf(output) === realPathOf(input)) throw new Error(`${output} is the input; inputs are never overwritten, even with --force: choose another output.`);
  if (existsSync(output) && !force) throw new Error(`${output} already exists; pass --force to overwrite it.`);
  let bytes: Uint8Array;
  try {
    bytes = readInputFile(input, MAX_WEIGHTS_BYTES);
  } catch (e) {
    throw new Error(`Cannot read ${(e as Error).message}`);
  }
  const checkpoint = readCheckpoint(bytes, { key });
  const { tensors } = checkpoint;
  const where = checkpoint.key ? `, state dict under "${checkpoint.key}"` : '';
  const stripped = checkpoint.strippedPrefix ? `, "${checkpoint.strippedPrefix}" removed from every name` : '';
  console.log(`read     ${input}: ${FORMAT_NAMES[checkpoint.format]}${where}${stripped}`);
  const summary = summarize(tensors);
  console.log(`tensors  ${summary.tensors} (${dtypeText(tensors)}), ${grouped(summary.elements)} parameters (buffers included)`);
  const unused = arch ? UNUSED_TENSORS[arch] : undefined;
  if (unused) {
    const dropped = [...tensors.keys()].filter((name) => unused.test(name));
    for (const name of dropped) tensors.delete(name);
    if (dropped.length) console.log(`dropped  ${dropped.length} tensors ${arch} does not use (${dropped.slice(0, 3).join(', ')}${dropped.length > 3 ? ', …' : ''})`);
  }
  if (arch) {
    // The layout comes from our modules, which need a device to exist.
    const engine = useEngine(new Engine(await nodeDevice({ verbose })))!;
    try {
      checkTensorShapes(tensors, stateDictLayout(arch), arch);
    } finally {
      engine.destroy();
      useEngine(null);
    }
    console.log(`checked  every tensor matches ${arch} (${tensors.size} names and shapes)`);
  }

  const floatDType = half ? 'F16' : 'F32';
  if (half) {
    let overflow = 0;
    for (const t of tensors.values()) if (t.dtype !== 'I64') overflow += halfOverflowCount(t.data);
    if (overflow) console.warn(`warning  ${grouped(overflow)} value${overflow === 1 ? '' : 's'} beyond float16's range (±65504) become ±infinity`);
  }
  const out = writeSafetensors(tensors, { floatDType, metadata: { format: 'pt', ...checkpoint.metadata, source: basename(input) } });
  writeFileAtomic(output, out);
  console.log(`wrote    ${output}: ${tensors.size} tensors (${dtypeText(tensors, (d) => (d === 'I64' ? d : floatDType))}), ${bytesText(out.length)}`);
}

process.exit(
  await runCommand(() => convert(process.argv.slice(2)), {
    usage: (message) => `convert: ${message}\n${USAGE}`,
  }),
);
