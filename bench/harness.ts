// Benchmark cases and how they are timed. Every case times our kernel and, when one exists, a peer library
// on the same adapter in the same process; benny (benchmark.js) decides how many samples make a stable median.
import * as b from 'benny';
import type { ConvKernels } from '../src/kernels/conv.js';

/** One record of bench/results/*.json. ratio = peer_ms / ours_ms: above 1 means we are faster. */
export interface BenchRecord {
  suite: string;
  case: string;
  ours_ms: number;
  peer: string | null;
  peer_ms: number | null;
  ratio: number | null;
  gflops: number | null;
  /** Work units per second where the case counts them (training: steps/s), with their unit. */
  rate?: number;
  rate_unit?: string;
}

export interface BenchCase {
  suite: string;
  name: string;
  /** Floating-point operations of one run (for GFLOP/s), or null where the count means nothing. */
  flops: number | null;
  /** Work units in one run, for a rate (e.g. 1 training step → steps/s). */
  units?: { count: number; unit: string };
  /** One complete run, including waiting for the GPU to finish. */
  ours: () => Promise<void>;
  peer?: { name: string; run: () => Promise<void> };
  /** Checks that ours and the peer computed the same thing before timing; returns a line for the log. */
  agree?: () => Promise<string>;
  /** Frees the case's tensors. */
  dispose?: () => void;
}

/** What a run may change: the page size of the whole-network suites (nets, colorize), 512×768 by default. */
export interface BenchOptions {
  page: { width: number; height: number };
  /**
   * The convolution kernel families the conv suite times, each case once per family: 'auto' (what the adapter
   * picks; the case names of earlier results), 'tiled' and 'gather' forced (names suffixed " [tiled]", " [gather]").
   */
  convKernels: ConvKernels[];
}

export const DEFAULT_BENCH_OPTIONS: BenchOptions = { page: { width: 512, height: 768 }, convKernels: ['auto'] };

/** A suite builds its cases only when selected, so filtered runs do not allocate everything. */
export interface BenchSuite {
  name: string;
  cases: (options: BenchOptions) => Promise<BenchCase[]>;
}

async function medianMs(label: string, run: () => Promise<void>): Promise<number> {
  await run(); // warm-up: pipeline compilation and pool growth are not what we measure
  const start = performance.now();
  await run();
  const probe = performance.now() - start;
  // A run of minutes (a whole page on a software adapter) is timed once after the warm-up: its noise is small
  // against its length, and benny's two more samples would add minutes for nothing.
  if (probe > 30_000) return probe;
  // A run of seconds (a slow peer) needs fewer samples for a stable median than a run of microseconds.
  const slow = probe > 1000;
  const timing = { minSamples: slow ? 2 : 5, maxTime: 2, delay: 0 };
  // benny calls an async case once more, unawaited, to learn that it returns a promise: chained here, that call
  // finishes before the timed ones start, so a case holding state (a page session) never overlaps itself.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = () => {
    const next = chain.then(run);
    chain = next.catch(() => undefined);
    return next;
  };
  const summary = await b.suite(
    label,
    b.add(label, serial, timing),
    // benny's default reporters print every cycle; the CLI prints its own table instead.
    b.cycle(() => undefined),
  );
  return summary.results[0].details.median * 1000;
}

export async function measure(c: BenchCase, log: (line: string) => void): Promise<BenchRecord> {
  if (c.agree) log(`  ${c.name}: ${await c.agree()}`);
  const ours_ms = await medianMs(`ours ${c.name}`, c.ours);
  const peer_ms = c.peer ? await medianMs(`${c.peer.name} ${c.name}`, c.peer.run) : null;
  return {
    suite: c.suite,
    case: c.name,
    ours_ms,
    peer: c.peer?.name ?? null,
    peer_ms,
    ratio: peer_ms === null ? null : peer_ms / ours_ms,
    gflops: c.flops === null ? null : c.flops / ours_ms / 1e6,
    ...(c.units ? { rate: (1000 * c.units.count) / ours_ms, rate_unit: c.units.unit } : {}),
  };
}
