/// <reference types="@webgpu/types" />
// Per-dispatch timing of recorded passes (recording.ts), for `npm run profile` (src/cli/profile.ts). Each dispatch
// of a recording is timed on its own: with GPU timestamps where the device has `timestamp-query` (one compute
// pass per dispatch, its beginning and end written into a query set), else by timed flushes (one submit per
// dispatch, awaited, less the cost of an empty submit). Costs that kernels report at dispatch (DispatchCost) turn
// the times into GFLOP/s and GB/s; the report groups dispatches by kernel and shape class.
import type { Engine } from './engine.js';
import type { RecordedCommand } from './recording.js';

export type TimingMethod = 'timestamps' | 'flush';

/** WebGPU caps a query set at 4096 queries: 2048 dispatches of two timestamps each. */
const DISPATCHES_PER_QUERY_SET = 2048;
/** A timestamp pair further apart than this is a driver's garbage, not a dispatch. */
const MAX_PLAUSIBLE_NS = 60e9;

export interface PassTiming {
  method: TimingMethod;
  /** Milliseconds of each dispatch; null where the driver returned no usable timestamps. */
  ms: (number | null)[];
  /** Timestamps: first beginning to last end (gaps between dispatches included). Flushes: the sum of the submits. */
  spanMs: number;
  /** Flushes: the latency of an empty submit, subtracted from each dispatch. */
  overheadMs: number;
  /** Timestamps: every one a multiple of 65,536 ns, as Dawn's timestamp_quantization makes them: times are coarse. */
  quantized?: boolean;
}

/** Host time to encode the pass as a replay does (one compute pass), and its wall time through to completion. */
export async function timeWholePass(e: Engine, commands: readonly RecordedCommand[]): Promise<{ encodeMs: number; wallMs: number }> {
  await e.sync();
  const device = e.device;
  const start = performance.now();
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  for (const c of commands) {
    pass.setPipeline(c.pipeline);
    pass.setBindGroup(0, c.bindGroup);
    pass.dispatchWorkgroups(...c.groups);
  }
  pass.end();
  const buffer = encoder.finish();
  const encoded = performance.now();
  device.queue.submit([buffer]);
  await device.queue.onSubmittedWorkDone();
  e.checkHealthy();
  return { encodeMs: encoded - start, wallMs: performance.now() - start };
}

/** Times every dispatch of `commands` on its own, by GPU timestamps when the device has them. */
export async function timeDispatches(e: Engine, commands: readonly RecordedCommand[], method: TimingMethod = defaultMethod(e)): Promise<PassTiming> {
  await e.sync();
  if (method === 'timestamps') {
    const timing = await byTimestamps(e, commands);
    // A driver whose timestamps are mostly unusable (zeros, backwards): time by flushes instead.
    const usable = timing.ms.filter((v) => v !== null).length;
    if (usable >= commands.length / 2) return timing;
  }
  return byFlushes(e, commands);
}

export function defaultMethod(e: Engine): TimingMethod {
  return e.gpu.features.has('timestamp-query') ? 'timestamps' : 'flush';
}

async function byTimestamps(e: Engine, commands: readonly RecordedCommand[]): Promise<PassTiming> {
  const device = e.device;
  const ms: (number | null)[] = [];
  let first: bigint | null = null;
  let last: bigint | null = null;
  let quantized = true;
  for (let at = 0; at < commands.length; at += DISPATCHES_PER_QUERY_SET) {
    const chunk = commands.slice(at, at + DISPATCHES_PER_QUERY_SET);
    const queries = 2 * chunk.length;
    const querySet = device.createQuerySet({ type: 'timestamp', count: queries });
    const resolved = device.createBuffer({ size: 8 * queries, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const readable = device.createBuffer({ size: 8 * queries, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      const encoder = device.createCommandEncoder();
      chunk.forEach((c, i) => {
        const pass = encoder.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
        pass.setPipeline(c.pipeline);
        pass.setBindGroup(0, c.bindGroup);
        pass.dispatchWorkgroups(...c.groups);
        pass.end();
      });
      encoder.resolveQuerySet(querySet, 0, queries, resolved, 0);
      encoder.copyBufferToBuffer(resolved, 0, readable, 0, 8 * queries);
      device.queue.submit([encoder.finish()]);
      await readable.mapAsync(GPUMapMode.READ);
      e.checkHealthy();
      const ticks = new BigUint64Array(readable.getMappedRange().slice(0));
      readable.unmap();
      for (let i = 0; i < chunk.length; i++) {
        const [begin, end] = [ticks[2 * i], ticks[2 * i + 1]];
        const ok = begin > 0n && end >= begin && Number(end - begin) < MAX_PLAUSIBLE_NS;
        ms.push(ok ? Number(end - begin) / 1e6 : null);
        if (!ok) continue;
        if ((begin | end) & 0xffffn) quantized = false;
        if (first === null || begin < first) first = begin;
        if (last === null || end > last) last = end;
      }
    } finally {
      querySet.destroy();
      resolved.destroy();
      readable.destroy();
    }
  }
  const spanMs = first !== null && last !== null ? Number(last - first) / 1e6 : 0;
  return { method: 'timestamps', ms, spanMs, overheadMs: 0, quantized: quantized && first !== null };
}

async function submitAndWait(e: Engine, buffer: GPUCommandBuffer): Promise<number> {
  const start = performance.now();
  e.device.queue.submit([buffer]);
  await e.device.queue.onSubmittedWorkDone();
  return performance.now() - start;
}

async function byFlushes(e: Engine, commands: readonly RecordedCommand[]): Promise<PassTiming> {
  const device = e.device;
  const empty: number[] = [];
  for (let i = 0; i < 9; i++) empty.push(await submitAndWait(e, device.createCommandEncoder().finish()));
  const overheadMs = empty.sort((a, b) => a - b)[4];
  const ms: number[] = [];
  let spanMs = 0;
  for (const c of commands) {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(c.pipeline);
    pass.setBindGroup(0, c.bindGroup);
    pass.dispatchWorkgroups(...c.groups);
    pass.end();
    const wall = await submitAndWait(e, encoder.finish());
    spanMs += wall;
    ms.push(Math.max(0, wall - overheadMs));
  }
  e.checkHealthy();
  return { method: 'flush', ms, spanMs, overheadMs };
}

// ---- the report ------------------------------------------------------------------------------------------

/** One profiled pass: its name, its commands, their times, the host encode and whole-pass wall times. */
export interface ProfiledPass {
  name: string;
  commands: readonly RecordedCommand[];
  timing: PassTiming;
  encodeMs: number;
  wallMs: number;
}

export interface ProfileRow {
  kernel: string;
  shape: string;
  count: number;
  ms: number;
  /** Of the summed dispatch times of every profiled pass. */
  share: number;
  gflops: number | null;
  gbps: number | null;
  /** Fractions (0–1) of the FMA and copy roofs. */
  fmaRoof: number | null;
  copyRoof: number | null;
  /** Dispatches without a usable time (bad timestamps): not in ms. */
  untimed: number;
}

export interface ProfileReport {
  adapter: string;
  method: TimingMethod;
  roofs: { fmaGflops: number | null; copyGbps: number | null };
  passes: { name: string; dispatches: number; encodeMs: number; wallMs: number; summedMs: number; spanMs: number; overheadMs: number; quantized: boolean }[];
  /** Grouped by kernel alone (shape ''). */
  kernels: ProfileRow[];
  /** Grouped by kernel and shape class. */
  rows: ProfileRow[];
  total: { count: number; ms: number; flops: number; bytes: number; gflops: number | null; gbps: number | null };
}

/** The kernel name of a pipeline key: `family:entry:{"A":1}` → `entry A=1`. */
export function kernelName(key: string): string {
  const [, entry, constants] = key.match(/^[^:]*:([^:]*):(.*)$/) ?? [null, key, '{}'];
  const values = Object.entries(JSON.parse(constants) as Record<string, number>).map(([k, v]) => `${k}=${v}`);
  return [entry, ...values].join(' ');
}

export function buildReport(adapter: string, passes: readonly ProfiledPass[], roofs: ProfileReport['roofs']): ProfileReport {
  const rows = group(passes, roofs, (c) => c.cost?.shape ?? `grid ${c.groups.join('×')}`);
  const total = totals(rows);
  return {
    adapter,
    method: passes[0]?.timing.method ?? 'flush',
    roofs,
    passes: passes.map((p) => ({
      name: p.name,
      dispatches: p.commands.length,
      encodeMs: p.encodeMs,
      wallMs: p.wallMs,
      summedMs: p.timing.ms.reduce<number>((s, v) => s + (v ?? 0), 0),
      spanMs: p.timing.spanMs,
      overheadMs: p.timing.overheadMs,
      quantized: p.timing.quantized ?? false,
    })),
    kernels: group(passes, roofs, () => ''),
    rows,
    total: { count: total.count, ms: total.ms, flops: total.flops, bytes: total.bytes, gflops: rate(total.flops, total.ms, 1e6), gbps: rate(total.bytes, total.ms, 1e6) },
  };
}

const rate = (amount: number, ms: number, unit: number) => (amount > 0 && ms > 0 ? amount / ms / unit : null);

type Sums = { count: number; ms: number; flops: number; bytes: number; untimed: number };

function totals(rows: readonly (ProfileRow & { flops: number; bytes: number })[]): Sums {
  const t: Sums = { count: 0, ms: 0, flops: 0, bytes: 0, untimed: 0 };
  for (const r of rows) {
    t.count += r.count;
    t.ms += r.ms;
    t.flops += r.flops;
    t.bytes += r.bytes;
  }
  return t;
}

/** Rows by kernel and `shapeOf` (a constant merges every shape), the costliest first; FLOPs and bytes of timed dispatches only. */
function group(passes: readonly ProfiledPass[], roofs: ProfileReport['roofs'], shapeOf: (c: RecordedCommand) => string): (ProfileRow & { flops: number; bytes: number })[] {
  const groups = new Map<string, Sums & { kernel: string; shape: string }>();
  for (const p of passes) {
    p.commands.forEach((c, i) => {
      const shape = shapeOf(c);
      const kernel = kernelName(c.kernel);
      const key = `${kernel}\u0000${shape}`;
      const g = groups.get(key) ?? { kernel, shape, count: 0, ms: 0, flops: 0, bytes: 0, untimed: 0 };
      groups.set(key, g);
      g.count++;
      const ms = p.timing.ms[i];
      if (ms === null) {
        g.untimed++;
        return;
      }
      g.ms += ms;
      g.flops += c.cost?.flops ?? 0;
      g.bytes += c.cost?.bytes ?? 0;
    });
  }
  const totalMs = [...groups.values()].reduce((s, g) => s + g.ms, 0);
  return [...groups.values()]
    .map((g) => {
      const gflops = rate(g.flops, g.ms, 1e6);
      const gbps = rate(g.bytes, g.ms, 1e6);
      return {
        ...g,
        share: totalMs > 0 ? g.ms / totalMs : 0,
        gflops,
        gbps,
        fmaRoof: gflops !== null && roofs.fmaGflops ? gflops / roofs.fmaGflops : null,
        copyRoof: gbps !== null && roofs.copyGbps ? gbps / roofs.copyGbps : null,
      };
    })
    .sort((a, b) => b.ms - a.ms);
}

const num = (v: number | null, digits: number) => (v === null ? '—' : v.toFixed(digits));
const pct = (v: number | null) => (v === null ? '—' : `${(100 * v).toFixed(1)}`);

/** The report as a text table, the costliest kernels first. */
export function formatReport(r: ProfileReport, maxRows = Infinity): string {
  const lines: string[] = [];
  const roof = `FMA roof ${num(r.roofs.fmaGflops, 1)} GFLOP/s, copy roof ${num(r.roofs.copyGbps, 1)} GB/s`;
  lines.push(`adapter: ${r.adapter}; timing: ${r.method === 'timestamps' ? 'GPU timestamps, one pass per dispatch' : 'timed flushes, one submit per dispatch'}; ${roof}`);
  for (const p of r.passes) {
    const overhead = p.overheadMs > 0 ? `, empty-submit latency ${p.overheadMs.toFixed(3)} ms subtracted per dispatch` : '';
    if (p.quantized) lines.push(`warning: pass ${p.name}'s timestamps are all multiples of 65,536 ns (Dawn's timestamp_quantization): short dispatches read as 0`);
    lines.push(
      `pass ${p.name}: ${p.dispatches} dispatches, host encode ${p.encodeMs.toFixed(2)} ms, replay wall ${p.wallMs.toFixed(1)} ms, ` +
        `dispatches timed alone ${p.summedMs.toFixed(1)} ms (span ${p.spanMs.toFixed(1)} ms${overhead})`,
    );
  }
  lines.push('', 'by kernel', ...table(r, r.kernels, maxRows, false), '', 'by kernel and shape class', ...table(r, r.rows, maxRows, true));
  return lines.join('\n');
}

function table(r: ProfileReport, rows: readonly ProfileRow[], maxRows: number, withShape: boolean): string[] {
  const header = ['kernel', 'shape', 'n', 'ms', '%', 'GFLOP/s', 'GB/s', '%FMA', '%copy'];
  const shown = rows.slice(0, maxRows);
  const body = shown.map((row) => [
    row.kernel,
    row.shape,
    String(row.count) + (row.untimed ? ` (${row.untimed} untimed)` : ''),
    row.ms.toFixed(3),
    pct(row.share),
    num(row.gflops, 1),
    num(row.gbps, 1),
    pct(row.fmaRoof),
    pct(row.copyRoof),
  ]);
  if (shown.length < rows.length) {
    const rest = rows.slice(maxRows);
    const ms = rest.reduce((s, x) => s + x.ms, 0);
    body.push([`(${rest.length} more rows)`, '', String(rest.reduce((s, x) => s + x.count, 0)), ms.toFixed(3), pct(r.total.ms > 0 ? ms / r.total.ms : 0), '', '', '', '']);
  }
  const t = r.total;
  body.push(['total', '', String(t.count), t.ms.toFixed(3), '100.0', num(t.gflops, 1), num(t.gbps, 1),
    pct(t.gflops !== null && r.roofs.fmaGflops ? t.gflops / r.roofs.fmaGflops : null), pct(t.gbps !== null && r.roofs.copyGbps ? t.gbps / r.roofs.copyGbps : null)]);
  const columns = withShape ? [0, 1, 2, 3, 4, 5, 6, 7, 8] : [0, 2, 3, 4, 5, 6, 7, 8];
  const widths = header.map((h, k) => Math.max(h.length, ...body.map((row) => row[k].length)));
  const fmt = (row: string[]) => columns.map((k) => (k < 2 ? row[k].padEnd(widths[k]) : row[k].padStart(widths[k]))).join('  ');
  return [fmt(header), ...body.map(fmt)];
}
