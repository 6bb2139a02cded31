// What the command-line entry points share: UsageError for a command called wrongly, and runCommand, which turns
// a command's outcome into its exit code (0 done, 1 failed, 2 called wrongly) with the reason on stderr. Callers
// exit with that code at once: an open GPU device (Dawn's, tfjs's) would otherwise keep the process alive.
// Every command parses its flags with src/io/flags.ts, answers -h/--help on stdout with exit 0, and on a usage
// error prints the reason once with where to find the options.
import { FlagError, parseFlags, type FlagSpec, type ParsedFlags } from '../io/flags.js';

/** The command was called wrongly (an unknown flag, a missing argument, an output that exists): exit code 2. */
export class UsageError extends Error {}

type ErrorClass = abstract new (...args: never[]) => Error;

export interface CommandOptions {
  /** What stderr shows for a usage error, made from its message; default the message and where the help is. */
  usage?: (message: string) => string;
  /** The npm script, for the default usage line: `npm run <name> -- --help`. */
  name?: string;
  /** Errors from elsewhere that also mean the command was called wrongly (train's ConfigError). */
  usageErrors?: ErrorClass[];
}

/** Runs a command; returns main's exit code (0 when it returns none), 2 after a usage error, 1 after any other. */
export async function runCommand(main: () => Promise<number | void>, options: CommandOptions = {}): Promise<number> {
  const { name, usage = (message: string) => (name ? `${message}\nSee npm run ${name} -- --help for every option.` : message), usageErrors = [] } = options;
  try {
    return (await main()) ?? 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof FlagError || usageErrors.some((type) => e instanceof type)) {
      console.error(usage((e as Error).message));
      return 2;
    }
    console.error(e instanceof Error ? e.message : String(e));
    return 1;
  }
}

/** Parses a command's flags; null after printing the usage text for -h/--help (the command then exits 0). */
export function commandFlags(argv: readonly string[], specs: readonly FlagSpec[], usage: string, print: (text: string) => void = console.log): ParsedFlags | null {
  const parsed = parseFlags(argv, specs);
  if (!parsed.help) return parsed;
  print(usage);
  return null;
}
