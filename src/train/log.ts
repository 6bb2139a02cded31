// `<out>/log.jsonl`: one JSON object per line, appended as the run goes, so a crash loses nothing written and
// any tool can follow it (`tail -f`, pandas.read_json(lines=True)). Three kinds, told apart by `kind`:
//   step        {step, epoch, loss_g, loss_d, l1, lr_g, lr_d, ms}           after every step
//               (+ page_loss_d, page_loss_g after a fine-tuning page round)
//   validation  {step, val_l1, val_psnr, val_psnr_hinted}                   on the held-out split
//   event       {step, event, message}                                      start, resume, skip, rollback, checkpoint, warning, stop
// A resumed run appends after its `resume` event; steps logged after the checkpoint it resumed from (by a run
// that crashed) appear again with the values of the new run.
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ValidationMetrics } from './checkpoint.js';

export interface StepRecord {
  kind: 'step';
  step: number;
  epoch: number;
  /** Generator loss (all terms, weighted). */
  loss_g: number;
  /** Discriminator loss: BCE on real (target 0.9) + BCE on fake (target 0). */
  loss_d: number;
  /** L1 between the main output and the target (unweighted). */
  l1: number;
  lr_g: number;
  lr_d: number;
  /** Wall time of the step (both updates), milliseconds. */
  ms: number;
  /** Fine-tuning page round after this step: mean D loss on real vs coloured pages, G's adversarial loss. */
  page_loss_d?: number;
  page_loss_g?: number;
}

export type ValidationRecord = { kind: 'validation' } & ValidationMetrics;

export type EventName = 'start' | 'resume' | 'skip' | 'rollback' | 'checkpoint' | 'warning' | 'stop' | 'finish';

export interface EventRecord {
  kind: 'event';
  step: number;
  event: EventName;
  message: string;
  [detail: string]: unknown;
}

export type LogRecord = StepRecord | ValidationRecord | EventRecord;

export class TrainingLog {
  /** Bytes of a torn last line removed when the log was opened (a full disk or a crash mid-append), or 0. */
  readonly repairedBytes: number;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.repairedBytes = repairTornLine(path);
  }

  /** Why a write failed (a full disk), or null: the trainer then stops at the next step and checkpoints. */
  failure: string | null = null;

  /** Appends a record; after a failed write nothing more is appended (the line may be torn; the next open cuts it). */
  write(record: LogRecord): void {
    if (this.failure) return;
    try {
      appendFileSync(this.path, `${JSON.stringify(record)}\n`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      this.failure = code === 'ENOSPC' || code === 'EDQUOT' ? 'the disk is full' : (e as Error).message;
    }
  }
}

/**
 * Cuts an unfinished last line, so that records appended after it stay one per line and the log parses: every
 * complete record ends in a newline. Returns how many bytes were cut.
 */
function repairTornLine(path: string): number {
  if (!existsSync(path) || !statSync(path).isFile()) return 0;
  const bytes = readFileSync(path);
  if (!bytes.length || bytes[bytes.length - 1] === 0x0a) return 0;
  const keep = bytes.lastIndexOf(0x0a) + 1;
  truncateSync(path, keep);
  return bytes.length - keep;
}

/** Parses a log file's text (tests, tools). */
export function parseLog(text: string): LogRecord[] {
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as LogRecord);
}
