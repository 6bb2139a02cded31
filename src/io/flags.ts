// The one command-line convention of every npm script: a table of flags is the parser and the help text at
// once. `--name value`, `--name=value` and `-x value` for flags with a value, `--name` for switches, anything
// else is a positional argument. `-h`/`--help` anywhere asks for the help (whatever else is wrong with the
// line); an unknown flag names the nearest known one. Train's settings table (src/train/config.ts) is one more
// table of flags read by the same parser.

export interface FlagSpec {
  /** The long name without dashes: `max-steps`. */
  name: string;
  /** A one-letter alias: `o` for `-o`. */
  short?: string;
  /** What the value is called in the help (`FILE`, `N`); absent: a switch without a value. */
  value?: string;
  /** The value may be left out: the next argument is taken only when this accepts it (colorize's --auto-hint). */
  optionalValue?: (next: string) => boolean;
  help: string;
}

/** The command line itself was wrong: an unknown flag, a missing value (the commands exit 2). */
export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlagError';
  }
}

export interface ParsedFlags {
  /** Flags with a value, by long name; a repeated flag keeps its last value; '' for a left-out optional value. */
  values: Map<string, string>;
  /** Switches given, by long name. */
  switches: Set<string>;
  positionals: string[];
  /** -h or --help was given: show the help and nothing else. */
  help: boolean;
}

/** Every command's --help. */
export const HELP_FLAG: FlagSpec = { name: 'help', short: 'h', help: 'show this text' };
/** Every command that opens a device: Dawn's own loader messages and the adapter search, in full. */
export const VERBOSE_FLAG: FlagSpec = { name: 'verbose', help: "show Dawn's full diagnostics (which backends were tried and why they failed)" };

/** The candidate nearest to `name` by edit distance, when it is near enough to be what was meant. */
export function nearest(name: string, candidates: readonly string[]): string | null {
  const distance = (a: string, b: string) => {
    const d = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let prev = d[0]++;
      for (let j = 1; j <= b.length; j++) [prev, d[j]] = [d[j], Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))];
    }
    return d[b.length];
  };
  const bare = (text: string) => text.toLowerCase().replace(/^-+/, '');
  const wanted = bare(name);
  const scored = candidates.map((c) => [c, distance(wanted, bare(c))] as const).sort((x, y) => x[1] - y[1]);
  // A name that is a whole part of a longer one (--steps of --max-steps) is what was meant, however far by edits.
  const part = scored.find(([c]) => wanted.length >= 3 && (bare(c).endsWith(`-${wanted}`) || bare(c).startsWith(`${wanted}-`)));
  const best = scored[0];
  if (best && best[1] <= Math.max(2, wanted.length / 3)) return best[0];
  return part ? part[0] : null;
}

/** Parses argv against the table; throws FlagError for an unknown flag, a missing value or a stray value. */
export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[]): ParsedFlags {
  const all = [HELP_FLAG, ...specs.filter((s) => s.name !== HELP_FLAG.name)];
  const byName = new Map(all.map((s) => [s.name, s]));
  const byShort = new Map(all.filter((s) => s.short).map((s) => [s.short!, s]));
  const parsed: ParsedFlags = { values: new Map(), switches: new Set(), positionals: [], help: argv.some((a) => a === '-h' || a === '--help') };
  if (parsed.help) return parsed;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      parsed.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-' || /^-\d/.test(arg)) {
      parsed.positionals.push(arg);
      continue;
    }
    const long = arg.startsWith('--');
    const eq = arg.indexOf('=');
    const key = arg.slice(long ? 2 : 1, eq < 0 ? undefined : eq);
    const inline = eq < 0 ? null : arg.slice(eq + 1);
    const spec = long ? byName.get(key) : byShort.get(key);
    const written = arg.slice(0, eq < 0 ? undefined : eq);
    if (!spec) {
      // One letter is too little to guess from: only long flags get a suggestion.
      const guess = long ? nearest(written, all.map((s) => `--${s.name}`)) : null;
      throw new FlagError(`Unknown option ${written}${guess ? ` (did you mean ${guess}?)` : ''}.`);
    }
    if (!spec.value) {
      if (inline !== null) throw new FlagError(`${written} takes no value, got "${arg}".`);
      parsed.switches.add(spec.name);
    } else if (inline !== null) {
      parsed.values.set(spec.name, inline);
    } else if (spec.optionalValue) {
      const next = argv[i + 1];
      parsed.values.set(spec.name, next !== undefined && spec.optionalValue(next) ? argv[++i] : '');
    } else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) throw new FlagError(`${written} needs a value (${spec.value}).`);
      parsed.values.set(spec.name, argv[++i]);
    }
  }
  return parsed;
}

/** The flags as help rows, aligned: `  -o, --out PATH   where the output goes`; continuation lines indented. */
export function flagsHelp(specs: readonly FlagSpec[]): string {
  const rows = specs.map((s) => [`${s.short ? `-${s.short}, ` : ''}--${s.name}${s.value ? ` ${s.optionalValue ? `[${s.value}]` : s.value}` : ''}`, s.help]);
  const width = Math.max(...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `  ${a.padEnd(width)}  ${b.replaceAll('\n', `\n  ${' '.repeat(width)}  `)}`).join('\n');
}

/** A number given to --`name`, within [min, max] (an integer with `integer`); a FlagError naming the flag otherwise. */
export function parseNumberFlag(name: string, text: string, range: { min: number; max?: number; integer?: boolean }): number {
  const { min, max = Infinity, integer = false } = range;
  const n = Number(text);
  if (text.trim() !== '' && Number.isFinite(n) && (!integer || Number.isSafeInteger(n)) && n >= min && n <= max) return n;
  const bounds = max === Infinity ? `≥ ${min}` : `from ${min} to ${max}`;
  throw new FlagError(`--${name} must be ${integer ? 'an integer' : 'a number'} ${bounds}, got "${text}".`);
}

/** A `--size WxH` value: both sides positive multiples of `multiple` (the networks' strides need them). */
export function parseSizeFlag(text: string, multiple: number): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/.exec(text);
  const [width, height] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  if (!width || !height || width % multiple || height % multiple) {
    throw new FlagError(`--size takes WxH, both multiples of ${multiple} (e.g. 512x768), got "${text}".`);
  }
  return { width, height };
}
