// The command line of `npm run colorize` (src/cli/colorize.ts): its help text, its flag table for the shared parser
// (src/io/flags.ts) and the checks that turn the flags into Options, so every mistake a user can make in them is a
// usage error (exit 2) before any file is read.
import { AUTO_HINT_DENSITY } from '../../colorize/auto-hint.js';
import { COLOUR_THRESHOLD } from '../../colorize/colourfulness.js';
import { DEFAULT_MODEL_PATH, type Architecture } from '../../colorize/model.js';
import { BLEND_MODES, DEFAULT_BLEND, isBlendMode, type BlendMode } from '../../colorize/recombine.js';
import { DEFAULT_MAX_PIXELS, IMAGE_FORMATS, MAX_MEGAPIXELS_OPTION, parseMaxMegapixels, type ImageFormat } from '../../io/image.js';
import { flagsHelp, HELP_FLAG, parseFlags, VERBOSE_FLAG, type FlagSpec } from '../../io/flags.js';
import { ARCHIVE_LIMIT_FLAGS, archiveLimitsFromFlags } from '../../io/zip.js';
import type { ZipLimits } from '../../io/zip-format.js';
import { UsageError } from '../command.js';

/** The flag table: the shared parser's (src/io/flags.ts) and the help's. */
const SPECS: FlagSpec[] = [
  { name: 'out', short: 'o', value: 'PATH', help: 'the output file, folder or .cbz for one input; a folder to hold the outputs of several' },
  { name: 'weights', value: 'FILE', help: `the generator (safetensors or PyTorch; v1, v2 or this project's own), default\n${DEFAULT_MODEL_PATH} when it exists` },
  { name: 'extractor', value: 'FILE', help: 'the published SE-ResNeXt extractor, needed by the published v1 generator' },
  { name: 'denoiser', value: 'FILE', help: 'the FFDNet RGB denoiser: pages are denoised before line extraction' },
  { name: 'denoise-sigma', value: 'N', help: "the denoiser's noise level in 8-bit units (default 25)" },
  { name: 'arch', value: 'v1|v2', help: "the generator's architecture (default: detected from the weights)" },
  { name: 'size', value: 'N', help: 'working resolution, the short side in pixels, a multiple of 32 (default 512 for v1, 576\nfor v2); lower it for a device with little memory' },
  { name: 'hints', value: 'FILE', help: 'colour hints: a JSON file (one page, or {"palette", "pages"} for a batch) or a PNG whose\nopaque pixels are hints (see the README)' },
  {
    name: 'auto-hint',
    value: 'P',
    // The percentage is optional: the next argument is taken only when it is a number.
    optionalValue: (next) => /^\d*\.?\d+$/.test(next),
    help: `second pass with hints sampled from the first (the paper's step 5); P is the percentage\nof pixels sampled (default ${(100 * AUTO_HINT_DENSITY).toFixed(2)})`,
  },
  { name: 'ignore-grey', help: 'auto-hint samples no greyish pixels' },
  { name: 'seed', value: 'N', help: 'seed of the auto-hint sampling (default 0)' },
  {
    name: 'blend',
    value: 'MODE',
    help:
      "how the colour meets the page at its size: auto (default: luminance for a grey page,\nmultiply for line art), multiply (colour under the page's ink, never lighter than the\n" +
      "page), luminance (the page's luma, the network's chroma) or detail (the network's\nlightness plus the page's fine detail)",
  },
  { name: 'model-res', help: "write the network's output at its working size instead of the page's size" },
  { name: 'format', value: 'F', help: 'png (default), jpg or webp' },
  { name: 'force-color', help: `colour pages that already look coloured (colourfulness ≥ ${COLOUR_THRESHOLD}) instead of copying them` },
  { name: 'force', help: 'overwrite existing outputs' },
  {
    name: 'skip-existing',
    help: "colour only the pages whose output is missing (finishes an interrupted run: a file or a\nfolder's page whose output exists, an archive whose .cbz exists, is left out)",
  },
  {
    name: 'shard',
    value: 'I/N',
    help: 'colour only part I of N of the work list (files, folder pages, archives and unreadable\nsubfolders in name order, every N-th from the I-th): N processes, on one machine or\nseveral sharing the folders, each colour their part; add --skip-existing to resume one',
  },
  { name: 'max-megapixels', value: 'N', help: `refuse larger pages (default ${DEFAULT_MAX_PIXELS / 1e6}, at most ${MAX_MEGAPIXELS_OPTION})` },
  VERBOSE_FLAG,
  HELP_FLAG,
];

export const USAGE = `usage: npm run colorize -- <inputs...> [-o <out>] [options]
  <inputs>            page images (PNG, JPEG, WebP, TIFF, GIF), folders of them (searched recursively) and
                      CBZ/ZIP chapters; results go beside each input with a _colorized suffix
${flagsHelp(SPECS)}
limits on CBZ/ZIP chapters (zip bombs; an entry over a limit is that entry's failure, see the README):
${flagsHelp(ARCHIVE_LIMIT_FLAGS)}`;

export interface Options {
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

export function parseOptions(argv: string[]): Options | 'help' {
  const parsed = parseFlags(argv, [...SPECS, ...ARCHIVE_LIMIT_FLAGS]);
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
