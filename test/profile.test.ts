// `npm run profile` in process on the test adapter: the v1 generator at 64×64, every dispatch timed once, and a
// table whose rows add up to its totals and to the pass it profiled.
import { describe, expect, it } from 'vitest';
import { parseProfileArgs, profile } from '../src/cli/profile.js';
import { buildReport, kernelName } from '../src/engine/profiler.js';
import { engine } from '../src/engine/engine.js';
import { useTestEngine } from './helpers/gpu.js';

useTestEngine();

describe('profile', () => {
  it('parses its arguments and refuses wrong ones', () => {
    expect(parseProfileArgs(['train', '--preset', 'tiny', '--size', '64x64'])).toMatchObject({ target: 'train', preset: 'tiny', size: [64, 64] });
    expect(() => parseProfileArgs(['nets', '--size', '100x64'])).toThrow(/multiples of 32/);
    expect(() => parseProfileArgs(['render'])).toThrow(/Unknown target/);
    expect(() => parseProfileArgs([])).toThrow(/usage/);
    expect(() => parseProfileArgs(['nets', '--row', '3'])).toThrow(/Unknown option --row \(did you mean --rows\?\)/);
    expect(() => parseProfileArgs(['nets', '--rows', '0'])).toThrow(/--rows must be an integer ≥ 1, got "0"/);
    const printed: string[] = [];
    expect(parseProfileArgs(['--bogus', '-h'], (text) => printed.push(text))).toBeNull();
    expect(printed.join('')).toMatch(/^usage: npm run profile -- nets\|train\|colorize[^]*-h, --help/);
  });

  it('names kernels by entry and constants', () => {
    expect(kernelName('conv:conv_gather4:{"MODE":0,"TM":16}')).toBe('conv_gather4 MODE=0 TM=16');
  });

  it('profiles the v1 generator at 64×64: rows add up to the totals and the pass', async () => {
    const lines: string[] = [];
    const report = await profile(parseProfileArgs(['nets', '--size', '64x64', '--rows', '10'])!, (l) => lines.push(l));
    const [pass] = report.passes;
    expect(report.passes).toHaveLength(1);
    expect(pass.dispatches).toBeGreaterThan(100);
    expect(report.total.count).toBe(pass.dispatches);
    expect(report.rows.reduce((s, r) => s + r.count, 0)).toBe(pass.dispatches);
    const ms = report.rows.reduce((s, r) => s + r.ms, 0);
    expect(ms).toBeCloseTo(report.total.ms, 6);
    expect(pass.summedMs).toBeCloseTo(report.total.ms, 6);
    expect(report.rows.reduce((s, r) => s + r.share, 0)).toBeCloseTo(1, 9);
    expect(report.kernels.reduce((s, r) => s + r.count, 0)).toBe(pass.dispatches);
    expect(report.kernels.reduce((s, r) => s + r.ms, 0)).toBeCloseTo(report.total.ms, 6);
    expect(report.kernels.length).toBeLessThan(report.rows.length);
    expect(report.total.ms).toBeGreaterThan(0);
    // Convolutions and matmuls report their FLOPs: about the generator's work at 64×64 (REFERENCE §3: ≈ 92 GMAC at 512²).
    // FLOPs are those executed: where Winograd's F(2×2, 3×3) runs (software adapters), its 16 batched products
    // multiply 16 times per 2×2 result tile where the direct convolution multiplies 36 times.
    const estimate = (2 * 92e9 * (64 * 64)) / (512 * 512);
    const winogradProducts = report.rows
      .filter((r) => r.kernel.startsWith('matmul') && r.shape.endsWith(' ×16'))
      .reduce((s, r) => s + (r.gflops ?? 0) * r.ms * 1e6, 0);
    if (engine().gpu.software) expect(winogradProducts).toBeGreaterThan(0.2 * report.total.flops);
    const direct = report.total.flops + winogradProducts * (36 / 16 - 1);
    expect(direct).toBeGreaterThan(0.7 * estimate);
    expect(direct).toBeLessThan(1.5 * estimate);
    expect(report.rows.some((r) => r.kernel.startsWith('conv_gather') && r.gflops !== null && r.fmaRoof !== null)).toBe(true);
    expect(report.roofs.fmaGflops).toBeGreaterThan(0);
    expect(report.roofs.copyGbps).toBeGreaterThan(0);
    const table = lines.join('\n');
    expect(table).toMatch(/pass generator-v1 64x64 fwd: \d+ dispatches, host encode/);
    expect(table).toMatch(/\(\d+ more rows\)/);
    expect(table).toMatch(/^by kernel$/m);
    expect(table).toMatch(/^by kernel and shape class$/m);
    expect(table.match(/^total\s+\d+/gm)).toHaveLength(2);
  }, 300_000);

  it('leaves untimed dispatches (bad timestamps) out of the times but in the counts', () => {
    const command = (kernel: string) => ({ kernel, groups: [1, 1, 1] as [number, number, number], cost: { flops: 1e6, shape: 's' } }) as never;
    const report = buildReport('test', [
      { name: 'p', commands: [command('a:k:{}'), command('a:k:{}'), command('a:j:{}')], timing: { method: 'timestamps', ms: [1, null, 3], spanMs: 4, overheadMs: 0 }, encodeMs: 0, wallMs: 4 },
    ], { fmaGflops: 10, copyGbps: null });
    expect(report.total).toMatchObject({ count: 3, ms: 4, flops: 2e6 });
    const k = report.rows.find((r) => r.kernel === 'k')!;
    expect(k).toMatchObject({ count: 2, untimed: 1, ms: 1, share: 0.25, gflops: 1, fmaRoof: 0.1, copyRoof: null });
  });
});
