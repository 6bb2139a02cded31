// Peak memory of a piece of code, measured in a child process of its own (a test's own heap and sharp's caches
// would hide it): the TypeScript `body` is bundled with the project's esbuild settings and run with `args`. It
// calls `mark()` once everything but the measured work is loaded and warm (Node, sharp, the bundle), and
// `report(value)` at the end; the growth is the process's peak RSS after the mark less its RSS at the mark.
// Linux only (/proc/self).
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
// @ts-expect-error: a plain .mjs module without types
import { nodeBundle } from '../../scripts/esbuild-options.mjs';

export interface MemoryRun {
  /** Peak RSS after mark() above the RSS at mark(), in bytes. */
  growth: number;
  /** What the probe reported. */
  result: unknown;
  /** Milliseconds from mark() to report(). */
  ms: number;
}

// The peak is Linux's high-water mark of the resident set (VmHWM), reset at mark() (clear_refs 5), so pages
// resident before the mark (and dropped since, when memory is short) are not counted as growth.
const PRELUDE = `
import { readFileSync as readProc, writeFileSync as writeProc } from 'node:fs';
const status = (field: string) => 1024 * Number(/\\d+/.exec(readProc('/proc/self/status', 'utf8').split('\\n').find((l) => l.startsWith(field + ':')) ?? '')?.[0]);
let marked = { rss: 0, at: 0 };
const mark = () => {
  writeProc('/proc/self/clear_refs', '5');
  marked = { rss: status('VmRSS'), at: performance.now() };
};
const report = (value: unknown) => console.log(JSON.stringify({ result: value, growth: status('VmHWM') - marked.rss, ms: performance.now() - marked.at }));
`;

/** Bundles a probe (imports relative to the repository root; `args` are in `process.argv.slice(2)`). */
export async function memoryProbe(name: string, body: string): Promise<(...args: string[]) => MemoryRun> {
  mkdirSync(join('dist', 'test'), { recursive: true });
  const outfile = join(process.cwd(), 'dist', 'test', `${name}.mjs`);
  await build({ ...nodeBundle, stdin: { contents: PRELUDE + body, resolveDir: process.cwd(), loader: 'ts', sourcefile: `${name}.ts` }, outfile, sourcemap: false });
  return (...args) => {
    const r = spawnSync(process.execPath, [outfile, ...args], { encoding: 'utf8' });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (r.status !== 0 || !line.startsWith('{')) throw new Error(`the ${name} probe failed (${r.status}): ${r.stderr || r.stdout}`);
    return JSON.parse(line) as MemoryRun;
  };
}
