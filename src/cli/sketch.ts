// npm run sketch -- <image> -o <sketch.png> [--dfm <dfm.png>] [--mult N] [--preset code|paper] [--force]
// What the network sees of a page: its XDoG line art (8-bit grey, the input's size) and optionally the distance
// field map (8-bit grey, floor(v·255), as the reference code saves it).
import { existsSync } from 'node:fs';
import { distanceField } from '../data/distance.js';
import { XDOG_PRESETS, xdog, type XdogPreset } from '../data/xdog.js';
import { Engine, useEngine } from '../engine/engine.js';
import { nodeDevice } from '../io/dawn.js';
import { writeFilesAtomic } from '../io/atomic-file.js';
import { DEFAULT_MAX_PIXELS, encodeImage, parseMaxMegapixels, readImage } from '../io/image.js';
import { flagsHelp, HELP_FLAG, VERBOSE_FLAG, type FlagSpec } from '../io/flags.js';
import { realPathOf } from '../io/input-file.js';
import { commandFlags, runCommand, UsageError } from './command.js';

/** The flag table: the shared parser's (src/io/flags.ts) and the help's. */
const SPECS: FlagSpec[] = [
  { name: 'out', short: 'o', value: 'FILE', help: 'where to write the line art (8-bit grey PNG, same size as the input)' },
  { name: 'dfm', value: 'FILE', help: 'also write the distance field map there (8-bit grey PNG)' },
  { name: 'mult', value: 'N', help: 'multi-scale XDoG factor, an integer 1-16 (default 7, as at inference; 1 gives binary lines)' },
  { name: 'preset', value: 'NAME', help: "XDoG parameters: code (default, the published weights' numbers) or paper" },
  { name: 'max-megapixels', value: 'N', help: `refuse larger inputs (default ${DEFAULT_MAX_PIXELS / 1e6})` },
  { name: 'force', help: 'overwrite existing output files' },
  VERBOSE_FLAG,
  HELP_FLAG,
];

const USAGE = `usage: npm run sketch -- <image> -o <sketch.png> [--dfm <dfm.png>] [--mult N] [--preset code|paper] [--force]
  <image>             the page or illustration (PNG, JPEG, WebP, TIFF, GIF)
${flagsHelp(SPECS)}`;

interface Options {
  input: string;
  out: string;
  dfm: string | null;
  mult: number;
  preset: XdogPreset;
  maxPixels: number;
  force: boolean;
  verbose: boolean;
}

function options(argv: string[]): Options | null {
  const parsed = commandFlags(argv, SPECS, USAGE);
  if (!parsed) return null;
  const { positionals } = parsed;
  const given = Object.fromEntries(parsed.values);
  const values = {
    out: given.out,
    dfm: given.dfm,
    mult: given.mult ?? '7',
    preset: given.preset ?? 'code',
    'max-megapixels': given['max-megapixels'] ?? String(DEFAULT_MAX_PIXELS / 1e6),
    force: parsed.switches.has('force'),
  };
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `Expected one input image, got ${positionals.length}: ${positionals.join(' ')}.` : 'No input image given.');
  if (!values.out) throw new UsageError('No output given: add -o <sketch.png>.');
  const mult = Number(values.mult);
  if (!Number.isInteger(mult) || mult < 1 || mult > 16) throw new UsageError(`--mult must be an integer from 1 to 16, got "${values.mult}".`);
  if (!(values.preset! in XDOG_PRESETS)) throw new UsageError(`--preset must be one of ${Object.keys(XDOG_PRESETS).join(', ')}, got "${values.preset}".`);
  const maxPixels = parseMaxMegapixels(values['max-megapixels']!);
  if (typeof maxPixels === 'string') throw new UsageError(maxPixels);
  const input = positionals[0];
  const outputs = [values.out, values.dfm].filter((f): f is string => !!f);
  for (const file of outputs) {
    if (!file.toLowerCase().endsWith('.png')) throw new UsageError(`Outputs are PNG files; "${file}" should end in .png.`);
    // Real paths: a symbolic link named as the output may point at the input.
    if (realPathOf(file) === realPathOf(input)) throw new UsageError(`The output "${file}" would overwrite the input; choose another -o.`);
    if (!values.force && existsSync(file)) throw new UsageError(`"${file}" already exists; use --force to overwrite it.`);
  }
  if (values.dfm && realPathOf(values.dfm) === realPathOf(values.out)) throw new UsageError('--dfm and -o name the same file.');
  return { input, out: values.out, dfm: values.dfm ?? null, mult, preset: values.preset as XdogPreset, maxPixels, force: values.force!, verbose: parsed.switches.has('verbose') };
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  if (!o) return;
  const page = await readImage(o.input, { maxPixels: o.maxPixels });
  useEngine(new Engine(await nodeDevice({ verbose: o.verbose })));
  const start = performance.now();
  const sketch = await xdog(page, { mult: o.mult, preset: o.preset });
  const field = o.dfm ? distanceField(sketch) : null;
  const seconds = ((performance.now() - start) / 1000).toFixed(2);
  // Both files are written to temporaries before either replaces anything: a failing --dfm keeps the old -o.
  const files: [string, Uint8Array][] = [[o.out, await encodeImage(sketch, 'png')]];
  if (field && o.dfm) files.push([o.dfm, await encodeImage(field, 'png', 'floor')]);
  writeFilesAtomic(files);
  console.log(`${o.input}: ${page.width}×${page.height}, XDoG ${o.preset} at mult ${o.mult}${field ? ' + distance field' : ''} in ${seconds} s → ${[o.out, o.dfm].filter(Boolean).join(', ')}`);
}

process.exit(await runCommand(main, { usage: (message) => `${message}\n${USAGE}` }));
