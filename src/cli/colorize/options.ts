// The command line of `npm run colorize` (src/cli/colorize.ts): its help text, its flag table for the shared parser
// (src/io/flags.ts) and the checks that turn the flags into Options, so every mistake a user can make in them is a
// usage error (exit 2) before any file is read.
import { AUTO_HINT_DENSITY } from '../../colorize/auto-hint.js';
import { COLOUR_THRESHOLD } from '../../colorize/colourfulness.js';
import { DEFAULT_MODEL_PATH, type Architecture } from '../../colorize/model.js';
import { BLEND_MODES, DEFAULT_BLEND, isBlendMode, type BlendMode } from '../../colorize/recombine.js';
import { DEFAULT_MAX_PIXELS, IMAGE_FORMATS, MAX_MEGAPIXELS_OPTION, parseMaxMegapixels, type ImageFormat } from '../../io/image.js';
import { flagsHelp, parseFlags, type FlagSpec } from '../../io/flags.js';
import { ARCHIVE_LIMIT_FLAGS, archiveLimitsFromFlags } from '../../io/zip.js';
import type { ZipLimits } from '../../io/zip-format.js';
import { UsageError } from '../command.js';

export const USAGE = `usage: npm run colorize -- <inputs...> [-o <out>] [options]
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

export function parseOptions(argv: string[]): Options | 'help' {
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
