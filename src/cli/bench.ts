// npm run bench -- [filter...] [--json FILE] [--size WxH] [--conv-kernels LIST]
// Times our kernels against a peer library on the same adapter and writes the records as JSON
// (bench/results/latest.json unless --json says otherwise). A case runs when any filter matches "suite/case" by substring.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DEFAULT_BENCH_OPTIONS, measure, type BenchOptions, type BenchRecord, type BenchSuite } from '../../bench/harness.js';
import { colorizeSuite } from '../../bench/suites/colorize.js';
import { convSuite } from '../../bench/suites/conv.js';
import { dataSuite } from '../../bench/suites/data.js';
import { elementwiseSuite } from '../../bench/suites/elementwise.js';
import { matmulSuite } from '../../bench/suites/matmul.js';
import { netsSuite } from '../../bench/suites/nets.js';
import { roof } from '../../bench/suites/roof.js';
import { trainSuite } from '../../bench/suites/train.js';
import { Engine, useEngine } from '../engine/engine.js';
import { nodeDevice } from '../io/dawn.js';
import { FlagError, flagsHelp, HELP_FLAG, parseSizeFlag, VERBOSE_FLAG, type FlagSpec } from '../io/flags.js';
import type { ConvKernels } from '../kernels/conv.js';
import { commandFlags, runCommand } from './command.js';

const SUITES: BenchSuite[] = [roof, elementwiseSuite, matmulSuite, convSuite, netsSuite, dataSuite, colorizeSuite, trainSuite];

const SPECS: FlagSpec[] = [
  { name: 'json', value: 'FILE', help: 'where the records go (default bench/results/latest.json)' },
  { name: 'size', value: 'WxH', help: 'the page of the nets and colorize suites, multiples of 16 (default 512x768)' },
  {
    name: 'conv-kernels',
    value: 'LIST',
    help: 'the conv suite times each case with these kernel families, comma-separated: auto (the adapter\'s pick), tiled, gather, winograd (default auto)',
  },
  VERBOSE_FLAG,
  HELP_FLAG,
];

const USAGE = `usage: npm run bench -- [filter...] [--json FILE] [--size WxH] [--conv-kernels LIST]
Times the kernels against a peer library on the same adapter; a case runs when any filter matches "suite/case" by substring.
suites: ${SUITES.map((s) => s.name).join(', ')}
${flagsHelp(SPECS)}`;

function parseArgs(argv: string[]): { filters: string[]; json: string; verbose: boolean; options: BenchOptions } | null {
  const parsed = commandFlags(argv, SPECS, USAGE);
  if (!parsed) return null;
  const options: BenchOptions = structuredClone(DEFAULT_BENCH_OPTIONS);
  const size = parsed.values.get('size');
  if (size !== undefined) options.page = parseSizeFlag(size, 16);
  const kernels = parsed.values.get('conv-kernels');
  if (kernels !== undefined) options.convKernels = parseConvKernels(kernels);
  return { filters: parsed.positionals, json: parsed.values.get('json') || 'bench/results/latest.json', verbose: parsed.switches.has('verbose'), options };
}

const CONV_KERNELS: readonly ConvKernels[] = ['auto', 'tiled', 'gather', 'winograd'];

function parseConvKernels(text: string): ConvKernels[] {
  const list = text.split(',').map((k) => k.trim());
  const wrong = list.filter((k) => !(CONV_KERNELS as readonly string[]).includes(k));
  if (!list.length || wrong.length) throw new FlagError(`--conv-kernels takes a comma-separated list of ${CONV_KERNELS.join(', ')}, got "${text}".`);
  return [...new Set(list)] as ConvKernels[];
}

const fmt = (v: number | null, digits = 2) => (v === null ? '—' : v.toFixed(digits));

async function main(): Promise<void> {
  const parsed = parseArgs(process.argv.slice(2));
  if (!parsed) return;
  const { filters, json, verbose, options } = parsed;
  const matches = (name: string) => !filters.length || filters.some((f) => name.includes(f));
  const e = useEngine(new Engine(await nodeDevice({ verbose })))!;
  console.log(`adapter: ${e.gpu.adapterName} (${e.gpu.backend}, ${e.gpu.featureLevel})`);
  const records: BenchRecord[] = [];
  let roofGflops: number | null = null;
  for (const suite of SUITES) {
    // The roof always runs: every other number is reported as a fraction of it.
    const selected = suite === roof || matches(suite.name) || filters.some((f) => f.startsWith(`${suite.name}/`));
    if (!selected) continue;
    console.log(`\n${suite.name}`);
    for (const c of await suite.cases(options)) {
      const wanted = suite === roof || matches(`${c.suite}/${c.name}`);
      if (wanted) {
        const r = await measure(c, console.log);
        if (suite === roof) roofGflops = r.gflops;
        records.push(r);
        const ofRoof = r.gflops !== null && roofGflops ? ` (${((100 * r.gflops) / roofGflops).toFixed(1)} % of roof)` : '';
        const peerRate = r.gflops !== null && r.ratio ? ` (${fmt(r.gflops / r.ratio, 1)} GFLOP/s)` : '';
        const peer = r.peer ? `  ${r.peer} ${fmt(r.peer_ms)} ms${peerRate}  ratio ${fmt(r.ratio)}` : '';
        const rate = r.rate !== undefined ? `, ${fmt(r.rate, 3)} ${r.rate_unit}` : '';
        const gflops = r.gflops !== null ? `, ${fmt(r.gflops, 1)} GFLOP/s${ofRoof}` : '';
        console.log(`  ${r.case.padEnd(16)} ours ${fmt(r.ours_ms)} ms${gflops}${rate}${peer}`);
      }
      c.dispose?.();
    }
  }
  await e.sync();
  mkdirSync(dirname(json), { recursive: true });
  const result = {
    adapter: e.gpu.adapterName,
    backend: e.gpu.backend,
    featureLevel: e.gpu.featureLevel,
    features: e.gpu.adapterFeatures,
    page: options.page,
    date: new Date().toISOString(),
    roof_gflops: roofGflops,
    records,
  };
  writeFileSync(json, JSON.stringify(result, null, 2) + '\n');
  console.log(`\nwrote ${records.length} records to ${json}`);
}

process.exit(await runCommand(main, { name: 'bench' }));
