// The command-line progress bar shared by the long-running commands (prepare-data, colorize, train): one line
// with a bar, the count, the rate and the ETA, redrawn in place on a terminal; otherwise a plain line every few
// seconds (or where the caller says) and at the end, so logs stay short.

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—';
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export interface ProgressOptions {
  /** The rate's unit: "<things>/s" or "<things>/min" (for work that takes seconds per item). */
  unit?: string;
  /** Off a terminal: whether to print a line at `done` (default: every 5 s and at the end). */
  lineAt?: (done: number) => boolean;
  stream?: NodeJS.WriteStream;
}

/** A rate the caller measured itself (per second, in the bar's unit before any /min scaling) and its ETA. */
export interface MeasuredRate {
  perSecond: number;
  etaSeconds: number;
}

export interface ProgressBar {
  /** Shows `done` of the total; the rate and ETA come from `measured` or from this bar's own clock. */
  update(done: number, note: string, measured?: MeasuredRate): void;
  /** Prints a line (a warning, an event) without breaking the bar. */
  log(line: string): void;
  end(): void;
}

export function progressBar(total: number, { unit = 'items/s', lineAt, stream = process.stderr }: ProgressOptions = {}): ProgressBar {
  const start = performance.now();
  // Behind scripts/run.mjs stderr is a pipe to the terminal; the wrapper says so and how wide it is.
  const wrapped = stream === process.stderr && !stream.isTTY ? Number(process.env.CLI_STDERR_COLUMNS) || 0 : 0;
  const tty = stream.isTTY || wrapped > 0;
  const columns = () => stream.columns ?? (wrapped || 120);
  const perMinute = unit.endsWith('/min');
  let lastLine = 0;
  let shown = '';
  const line = (done: number, note: string, measured?: MeasuredRate) => {
    const rate = measured?.perSecond ?? done / ((performance.now() - start) / 1000);
    const eta = measured?.etaSeconds ?? (total - done) / rate;
    const width = 30;
    const filled = total ? Math.min(width, Math.round((width * done) / total)) : width;
    const value = perMinute ? (rate * 60).toFixed(1) : rate.toFixed(2);
    return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}  ${value} ${unit}  ETA ${formatDuration(eta)}  ${note}`;
  };
  const timeForLine = (done: number) => performance.now() - lastLine > 5000 || done === total;
  return {
    update(done, note, measured) {
      if (tty) {
        shown = line(done, note, measured).slice(0, columns() - 1);
        stream.write(`\r${shown}\x1b[K`);
      } else if ((lineAt ?? timeForLine)(done)) {
        lastLine = performance.now();
        stream.write(`${line(done, note, measured)}\n`);
      }
    },
    log(text) {
      stream.write(tty ? `\r\x1b[K${text}\n${shown}` : `${text}\n`);
    },
    end() {
      if (tty && shown) stream.write('\n');
      shown = '';
    },
  };
}
