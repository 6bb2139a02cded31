// The command-line convention shared by every npm script (src/io/flags.ts, src/cli/command.ts) and the filter
// that keeps Dawn's native loader messages off a user's terminal (scripts/dawn-messages.mjs, scripts/run.mjs).
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, test } from 'vitest';
import { FlagError, flagsHelp, nearest, parseFlags, type FlagSpec } from '../src/io/flags.js';
import { CONFIG_FLAGS, configFromFlags, parseConfigFlags } from '../src/train/config.js';
// @ts-expect-error: a plain .mjs module without types
import { dawnMessageFilter } from '../scripts/dawn-messages.mjs';

const SPECS: FlagSpec[] = [
  { name: 'out', short: 'o', value: 'FILE', help: 'where it goes' },
  { name: 'max-steps', value: 'N', help: 'stop after N steps' },
  { name: 'force', help: 'overwrite' },
  { name: 'auto-hint', value: 'P', optionalValue: (next) => /^\d+$/.test(next), help: 'second pass\nwith sampled hints' },
];

describe('parseFlags', () => {
  test('values in every spelling, switches, positionals, optional values, the last repeat wins', () => {
    const p = parseFlags(['a.png', '-o', 'x', '--max-steps=5', '--force', 'b.png', '--auto-hint', 'c.png', '--out', 'y', '--', '--odd'], SPECS);
    expect(p.help).toBe(false);
    expect(Object.fromEntries(p.values)).toEqual({ out: 'y', 'max-steps': '5', 'auto-hint': '' });
    expect([...p.switches]).toEqual(['force']);
    expect(p.positionals).toEqual(['a.png', 'b.png', 'c.png', '--odd']);
    expect(parseFlags(['--auto-hint', '3'], SPECS).values.get('auto-hint')).toBe('3');
  });

  test('--help or -h anywhere wins over every other mistake on the line', () => {
    expect(parseFlags(['--bogus', '--help'], SPECS).help).toBe(true);
    expect(parseFlags(['-o', '-h'], SPECS).help).toBe(true);
  });

  test('an unknown option names the nearest known one, once; missing and stray values are refused', () => {
    const message = (argv: string[]) => {
      try {
        parseFlags(argv, SPECS);
      } catch (e) {
        expect(e).toBeInstanceOf(FlagError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(message(['--steps', '3'])).toBe('Unknown option --steps (did you mean --max-steps?).');
    expect(message(['--forse'])).toBe('Unknown option --forse (did you mean --force?).');
    expect(message(['--colour'])).toBe('Unknown option --colour.');
    expect(message(['-x'])).toBe('Unknown option -x.');
    expect(message(['--out'])).toMatch(/--out needs a value \(FILE\)/);
    expect(message(['--out', '--force'])).toMatch(/--out needs a value/);
    expect(message(['--force=yes'])).toMatch(/--force takes no value/);
    expect(nearest('--lr', ['--lr-g', '--lr-d', '-h'])).toBe('--lr-g');
    expect(nearest('--steps', ['--finetune-steps', '--max-steps'])).toBe('--max-steps');
  });

  test('the help table is made from the same specs, aligned, continuation lines indented', () => {
    expect(flagsHelp(SPECS).split('\n')).toEqual([
      '  -o, --out FILE   where it goes',
      '  --max-steps N    stop after N steps',
      '  --force          overwrite',
      '  --auto-hint [P]  second pass',
      '                   with sampled hints',
    ]);
  });

  test("train's settings are one more flag table of the same parser", () => {
    expect(CONFIG_FLAGS.find((f) => f.name === 'lr-g')?.value).toBe('<number>');
    const parsed = parseFlags(['--lr-g', '1e-3', '--max-steps', 'none', '--generator-cardinality=4,4,2,2'], CONFIG_FLAGS);
    expect(configFromFlags(parsed.values)).toEqual({ lrG: 1e-3, maxSteps: null, generator: { cardinality: [4, 4, 2, 2] } });
    expect(() => parseConfigFlags(['--steps', '3'])).toThrow(/did you mean --max-steps\?/);
  });
});

describe("Dawn's native messages", () => {
  const filtered = (...chunks: string[]) => {
    let out = '';
    const filter = dawnMessageFilter((text: string) => (out += text));
    for (const chunk of chunks) filter.write(chunk);
    filter.end();
    return out;
  };

  test('the loader warnings are dropped, whole or in pieces; everything else passes at once', () => {
    const vulkan =
      "Warning: Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file: No such file or directory\n" +
      '    at operator() (/home/runner/work/node-webgpu/node-webgpu/third_party/dawn/src/dawn/native/vulkan/BackendVk.cpp:368)\n\n';
    const limits = 'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 90 to 16 to fit dynamic offset allocation limit.\n';
    expect(filtered(vulkan, limits, 'coloured 1 page\n')).toBe('coloured 1 page\n');
    expect(filtered(vulkan.slice(0, 20), vulkan.slice(20, 130), vulkan.slice(130), limits.slice(0, 3), limits.slice(3))).toBe('');
    // A software Vulkan driver (Mesa's lavapipe) that Dawn probes and turns down: Mesa's line without a desktop
    // session, Dawn's warning and its context line, whole or in pieces; a line like it of the command's own stays.
    const lavapipe =
      'error: XDG_RUNTIME_DIR is invalid or not set in the environment.\n' +
      'Warning: Vulkan shaderUniform*ArrayDynamicIndexing required.\n' +
      ' - While initializing adapter (backend=BackendType::Vulkan)\n' +
      '    at InitializeImpl (/home/runner/work/node-webgpu/node-webgpu/third_party/dawn/src/dawn/native/vulkan/PhysicalDeviceVk.cpp:257)\n\n';
    expect(filtered(lavapipe, 'coloured 1 page\n')).toBe('coloured 1 page\n');
    expect(filtered(lavapipe.slice(0, 10), lavapipe.slice(10, 100), lavapipe.slice(100, 125), lavapipe.slice(125))).toBe('');
    expect(filtered(' - While we wait\n', 'error: XDG_RUNTIME_DIR is set\n')).toBe(' - While we wait\nerror: XDG_RUNTIME_DIR is set\n');
    // A progress bar redraws a line without ending it; a stack trace of the command's own keeps its lines.
    let out = '';
    const filter = dawnMessageFilter((text: string) => (out += text));
    filter.write('\r[#---] 1/4');
    expect(out).toBe('\r[#---] 1/4');
    filter.write('\r[##--] 2/4\nError: boom\n    at main (dist/cli/x.mjs:1:1)\n\nwarning: lowercase is ours\n');
    expect(out).toBe('\r[#---] 1/4\r[##--] 2/4\nError: boom\n    at main (dist/cli/x.mjs:1:1)\n\nwarning: lowercase is ours\n');
  });
});

/** An npm script as a user runs it (through scripts/run.mjs, which bundles the entry point first). */
const npmScript = (name: string, ...args: string[]) =>
  spawnSync(process.execPath, ['scripts/run.mjs', `src/cli/${name}.ts`, ...args], { encoding: 'utf8', env: { ...process.env, WEBGPU_BACKEND: '' } });

describe('every command', () => {
  test.each(['colorize', 'sketch', 'convert', 'train', 'prepare-data', 'bench', 'gpu-info', 'app', 'eval', 'profile', 'torch-parity'])('%s --help: the usage on stdout, exit 0', (name) => {
    const r = npmScript(name, '--help');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^usage: npm run ${name}\\b`));
    expect(r.stdout).toMatch(/-h, --help/);
  }, 60_000);

  test('an unknown option: the nearest known one, said once, exit 2', () => {
    const r = npmScript('train', '--steps', '3', '--out', join(tmpdir(), 'never-made'));
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.match(/did you mean --max-steps\?/g)).toHaveLength(1);
    // eval and profile parsed their flags their own ways before; now the shared parser answers for them too.
    const evalTypo = npmScript('eval', '--dta', 'x');
    expect([evalTypo.status, evalTypo.stderr]).toEqual([2, expect.stringMatching(/^Unknown option --dta \(did you mean --data\?\)\./)]);
    const profileTypo = npmScript('profile', 'nets', '--row', '3');
    expect([profileTypo.status, profileTypo.stderr]).toEqual([2, expect.stringMatching(/^Unknown option --row \(did you mean --rows\?\)\./)]);
  }, 60_000);

  test("on a software adapter one line replaces Dawn's loader messages; --verbose shows them all", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-flags-'));
    const page = join(dir, 'page.png');
    await sharp({ create: { width: 48, height: 40, channels: 3, background: '#777777' } }).png().toFile(page);
    const quiet = npmScript('sketch', page, '-o', join(dir, 'a.png'));
    expect(quiet.status, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toMatch(/Warning:|Couldn't load|artificially/);
    const lines = quiet.stderr.split('\n').filter(Boolean);
    expect(lines.length).toBeLessThanOrEqual(1);
    if (lines.length) expect(lines[0]).toMatch(/^no GPU adapter: using the CPU through \w+, expect minutes per page/);
    const verbose = npmScript('sketch', page, '-o', join(dir, 'b.png'), '--verbose');
    expect(verbose.status, verbose.stderr).toBe(0);
    expect(verbose.stderr).toMatch(/^WebGPU: .*(native|opengl|vulkan)/m);
    expect(verbose.stderr).not.toMatch(/expect minutes per page/);
  }, 60_000);
});
