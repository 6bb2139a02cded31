// What the command-line entry points share: UsageError for a command called wrongly, and runCommand, which turns
// a command's outcome into its exit code (0 done, 1 failed, 2 called wrongly) with the reason on stderr. Callers
// exit with that code at once: an open GPU device (Dawn's, tfjs's) would otherwise keep the process alive.

/** The command was called wrongly (an unknown flag, a missing argument, an output that exists): exit code 2. */
export class UsageError extends Error {}

type ErrorClass = abstract new (...args: never[]) => Error;

export interface CommandOptions {
  /** What stderr shows for a usage error, made from its message (empty for convert's --help); default the message. */
  usage?: (message: string) => string;
  /** Errors from elsewhere that also mean the command was called wrongly (train's ConfigError). */
  usageErrors?: ErrorClass[];
}

/** Runs a command; returns main's exit code (0 when it returns none), 2 after a usage error, 1 after any other. */
export async function runCommand(main: () => Promise<number | void>, options: CommandOptions = {}): Promise<number> {
  const { usage = (message: string) => message, usageErrors = [] } = options;
  try {
    return (await main()) ?? 0;
  } catch (e) {
    if (e instanceof UsageError || usageErrors.some((type) => e instanceof type)) {
      console.error(usage((e as Error).message));
      return 2;
    }
    console.error(e instanceof Error ? e.message : String(e));
    return 1;
  }
}
