// `npm run train` end to end on generated data: a run stopped with Ctrl-C (SIGINT to the whole process group, as
// a terminal sends it) finishes its step, writes a checkpoint and the generator and exits cleanly; --resume
// continues from it; --export writes any checkpoint's generator; bad usage gives one clear error.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readSafetensors } from '../src/io/safetensors.js';
import { detectArchitecture } from '../src/colorize/model.js';
import { readCheckpoint } from '../src/io/checkpoint.js';
import { PROJECT_GENERATOR_FORMAT } from '../src/nets/architectures.js';
import { parseLog, type EventRecord, type StepRecord, type ValidationRecord } from '../src/train/log.js';

const dir = mkdtempSync(join(tmpdir(), 'train-cli-'));
const out = join(dir, 'run');
const SMALL = ['--preset', 'tiny', '--crop', '32', '--batch-size', '2', '--validation-images', '2', '--generator-dilations', '[[1],[1],[1],[1]]', '--progress-every', '1'];

/** Dawn prints adapter warnings on stderr; the command's own lines are the rest. */
const own = (text: string) => text.split('\n').filter((l) => l && !/^Warning:|^\s+at |maxDynamic|BackendVk/.test(l)).join('\n');

function train(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('npm', ['run', '--silent', 'train', '--', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: own(r.stderr) };
}

const log = () => parseLog(readFileSync(join(out, 'log.jsonl'), 'utf8'));
const checkpoints = () => readdirSync(join(out, 'checkpoints')).sort();

describe('npm run train', () => {
  test('Ctrl-C writes a checkpoint and exits; --resume continues and exports the generator', async () => {
    const child = spawn('npm', ['run', '--silent', 'train', '--', ...SMALL, '--max-steps', '50', '--out', out], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<string>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? String(code))));
    // Interrupt once the first step is logged: mid-run, with more steps to go.
    while (!(existsSync(join(out, 'log.jsonl')) && log().some((r) => r.kind === 'step'))) {
      if (child.exitCode !== null) throw new Error(`train exited early:\n${own(output)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    process.kill(-child.pid!, 'SIGINT');
    // npm waits for the command, then ends itself by the signal it got; the command's own output tells how it ended.
    expect(['0', 'SIGINT']).toContain(await exited);
    expect(own(output)).not.toMatch(/error|aborting/i);
    expect(own(output)).toMatch(/SIGINT: finishing the current step, then writing a checkpoint/);
    expect(own(output)).toMatch(/continue with: npm run train -- --out .* --resume/);

    const first = log();
    const steps = first.filter((r): r is StepRecord => r.kind === 'step');
    const stoppedAt = steps.at(-1)!.step;
    expect(stoppedAt).toBeLessThan(50);
    for (const s of steps) {
      expect(Object.keys(s)).toEqual(expect.arrayContaining(['step', 'loss_g', 'loss_d', 'l1', 'lr_g', 'lr_d', 'ms']));
      expect([s.loss_g, s.loss_d, s.l1].every(Number.isFinite)).toBe(true);
    }
    const validation = first.find((r): r is ValidationRecord => r.kind === 'validation')!;
    expect(validation).toMatchObject({ step: 0 });
    expect([validation.val_l1, validation.val_psnr, validation.val_psnr_hinted].every(Number.isFinite)).toBe(true);
    expect(first.some((r) => r.kind === 'event' && r.event === 'stop')).toBe(true);
    expect(checkpoints()).toContain(`step-${String(stoppedAt).padStart(8, '0')}.safetensors`);
    // The generator of the step it reached, for colorize, while --resume continues the run.
    expect(readSafetensors(readFileSync(join(out, 'generator.safetensors'))).metadata.format).toBe(PROJECT_GENERATOR_FORMAT);
    expect(own(output)).toMatch(new RegExp(`generator of step ${stoppedAt} → `));

    // Resume: a run to one step beyond where it stopped.
    const r = train('--out', out, '--resume', '--max-steps', String(stoppedAt + 1));
    expect(r.status, r.stderr).toBe(0);
    const resumed = log().slice(first.length);
    expect(resumed.find((x): x is EventRecord => x.kind === 'event' && x.event === 'resume')!.message).toMatch(`at step ${stoppedAt}`);
    expect(resumed.filter((x): x is StepRecord => x.kind === 'step').map((s) => s.step)).toEqual([stoppedAt + 1]);
    const generator = readSafetensors(readFileSync(join(out, 'generator.safetensors')));
    expect(generator.metadata.format).toBe(PROJECT_GENERATOR_FORMAT);
    expect(JSON.parse(generator.metadata.generator)).toMatchObject({ width: 16, dilations: [[1], [1], [1], [1]] });
    expect(generator.metadata.localFeatures).toBe('none');
    expect(generator.metadata.hintInput).toBe('dots');
    expect(generator.tensors.has('exit.weight')).toBe(true);

    // A fresh run into a folder that holds checkpoints; an exported generator where only a training checkpoint
    // will do (--export); and a run --from an exported generator, whose discriminator starts untrained.
    expect(train(...SMALL, '--out', out)).toMatchObject({ status: 2, stderr: expect.stringMatching(/already holds checkpoints: add --resume/) });
    const wrong = train('--export', join(out, 'generator.safetensors'), '-o', join(dir, 'again.safetensors'));
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/generator\.safetensors is not a training checkpoint of this project[^]*--from takes one or a generator this project exported/);
    const fromExport = train('--from', join(out, 'generator.safetensors'), '--out', join(dir, 'from-export'), '--crop', '32', '--batch-size', '2', '--validation-images', '2', '--max-steps', '1');
    expect(fromExport.status, fromExport.stderr).toBe(0);
    expect(fromExport.stdout).toMatch(/weights from .*generator\.safetensors \(an exported tiny generator; the discriminator starts untrained/);

    // --export: the newest checkpoint of a run, the best by validation, or a named checkpoint to a named file.
    const newest = train('--export', out);
    expect(newest.status, newest.stderr).toBe(0);
    const last = checkpoints().at(-1)!;
    const exported = join(out, `generator-${last}`);
    expect(newest.stdout).toMatch(`→ ${exported}`);
    const tensors = (file: string) => readSafetensors(readFileSync(file));
    expect(tensors(exported).metadata).toEqual(generator.metadata);
    expect([...tensors(exported).tensors.keys()]).toEqual([...generator.tensors.keys()]);
    expect(train('--export', out).stderr).toMatch(/already exists; choose another -o/);
    const best = train('--export', out, '--best', '-o', join(dir, 'best.safetensors'));
    expect(best.status, best.stderr).toBe(0);
    expect(best.stdout).toMatch(/validation L1 \d/);
    const named = train('--export', join(out, 'checkpoints', checkpoints()[0]), '-o', join(dir, 'first.safetensors'));
    expect(named.status, named.stderr).toBe(0);
    expect(tensors(join(dir, 'first.safetensors')).metadata.format).toBe(PROJECT_GENERATOR_FORMAT);
    expect(train('--export', join(out, 'checkpoints', checkpoints()[0]), '--best').status).toBe(2);
    // --from without --finetune: a warm start on --data that adds the hint gate; a wider generator is refused.
    const warmOut = join(dir, 'warm');
    const warm = train('--from', join(out, 'checkpoints', last), '--out', warmOut, '--generator-hint-gate', 'on', '--hint-input', 'regions', '--max-steps', '1');
    expect(warm.status, warm.stderr).toBe(0);
    expect(warm.stdout).toMatch(/the hint gate added to its generator; hints now encoded as regions, not dots/);
    const warmGenerator = readSafetensors(readFileSync(join(warmOut, 'generator.safetensors')));
    expect(JSON.parse(warmGenerator.metadata.generator)).toMatchObject({ hintGate: 'on', dilations: [[1], [1], [1], [1]] });
    expect(warmGenerator.metadata.hintInput).toBe('regions');
    const wider = train('--from', join(out, 'checkpoints', last), '--out', join(dir, 'wider'), '--generator-width', '32');
    expect(wider.status).toBe(2);
    expect(wider.stderr).toMatch(/keeps its networks \(it may only add the hint gate or change the hint encoding\)[^]*generator: checkpoint \{.*"width":16/);
    // A training checkpoint given to colorize is named as one, with the way out.
    const checkpoint = readCheckpoint(readFileSync(join(out, 'checkpoints', last)));
    expect(() => detectArchitecture(checkpoint.tensors, last)).toThrow(/is a training checkpoint: export its generator with `npm run train -- --export/);
  });

  test('closing the terminal (SIGHUP to the process group) also finishes the step and writes a checkpoint', async () => {
    const hupOut = join(dir, 'hangup');
    const child = spawn('npm', ['run', '--silent', 'train', '--', ...SMALL, '--max-steps', '50', '--out', hupOut], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const records = () => (existsSync(join(hupOut, 'log.jsonl')) ? parseLog(readFileSync(join(hupOut, 'log.jsonl'), 'utf8')) : []);
    while (!records().some((r) => r.kind === 'step')) {
      if (child.exitCode !== null) throw new Error(`train exited early:\n${own(output)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    process.kill(-child.pid!, 'SIGHUP');
    // npm itself may end at once on the hang-up; the command goes on to its checkpoint: wait for its log to say so.
    const deadline = Date.now() + 60_000;
    while (!records().some((r) => r.kind === 'event' && r.event === 'stop') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const stop = records().find((r): r is EventRecord => r.kind === 'event' && r.event === 'stop');
    expect(stop?.message, own(output)).toMatch(/stopped by SIGHUP at step (\d+)/);
    const step = Number(/at step (\d+)/.exec(stop!.message)![1]);
    while (!readdirSync(join(hupOut, 'checkpoints')).includes(`step-${String(step).padStart(8, '0')}.safetensors`) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(readdirSync(join(hupOut, 'checkpoints'))).toContain(`step-${String(step).padStart(8, '0')}.safetensors`);
    expect(step).toBeLessThan(50);
  });

  test('bad usage: one clear error, exit code 2', () => {
    const typo = train('--out', join(dir, 'x'), '--batch-sise', '2');
    expect(typo).toMatchObject({ status: 2, stderr: expect.stringMatching(/Unknown option --batch-sise \(did you mean --batch-size\?\)/) });
    expect(train('--out', join(dir, 'x'), '--lr-g', 'fast').stderr).toMatch(/--lr-g: expected a number, got "fast"/);
    expect(train('--preset', 'tiny', '--out', join(dir, 'x'), '--data', join(dir, 'nowhere')).stderr).toMatch(/no such folder.*prepare-data/);
    expect(train('--preset', 'full', '--out', join(dir, 'x')).stderr).toMatch(/--extractor-weights <file>.*--local-features none/s);
    expect(train('--out', join(dir, 'x'), '--resume')).toMatchObject({ status: 1, stderr: expect.stringMatching(/Nothing to resume in .*x: it has no checkpoints/) });
    expect(train('--max-steps', '1')).toMatchObject({ status: 2, stderr: expect.stringMatching(/add --out <dir>/) });
  });
});
