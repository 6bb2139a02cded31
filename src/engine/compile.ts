// Compiled steps (TinyJit's idea on top of Engine.record): a function over input slots is recorded on its first
// run and replayed after; a replay gone stale (a buffer it reads was released since: a disposed tensor, reloaded
// optimizer moments) records it again. What changes between runs travels through the slots (uploads), never
// through the function's arguments. Steps of one group never run at the same time (a D and a G update), so they
// lend each other their scratch: the group needs the memory of its largest step, not of all.
import { collectDisposables, type Disposable } from './disposable.js';
import { engine, keep, tidy } from './engine.js';
import type { Recording } from './recording.js';
import { Tensor, type Shape } from './tensor.js';

/** Steps that share scratch memory because they never run at the same time. */
export class CompileGroup {
  readonly steps = new Set<CompiledStep<unknown>>();

  /** The valid recordings of every step but `except`, to lend their scratch while `except` records. */
  lenders(except: CompiledStep<unknown>): Recording[] {
    return [...this.steps].flatMap((s) => (s !== except && s.recording?.valid ? [s.recording] : []));
  }
}

export interface CompileOptions {
  /** Shapes of the input slots the step owns (created here; `run` uploads into them). */
  inputs?: readonly Shape[];
  group?: CompileGroup;
}

export class CompiledStep<T> {
  /** The input slots, in the order `fn` receives them. */
  readonly inputs: readonly Tensor[];
  private recorded: { recording: Recording; result: T; held: Set<Disposable> } | null = null;

  constructor(
    private readonly fn: (...inputs: Tensor[]) => T,
    private readonly options: CompileOptions = {},
  ) {
    this.inputs = (options.inputs ?? []).map((shape) => keep(Tensor.empty(shape)));
    options.group?.steps.add(this as CompiledStep<unknown>);
  }

  /**
   * Uploads `data` into the input slots (null leaves a slot as it is), then replays the step, recording it first
   * when it has no valid recording. Returns fn's result: the same tensors every run, written again by each.
   */
  run(...data: (Float32Array | null)[]): T {
    if (data.length > this.inputs.length) throw new Error(`CompiledStep.run: ${data.length} inputs given, the step has ${this.inputs.length} slots.`);
    data.forEach((values, i) => {
      if (values === null) return;
      if (values.length !== this.inputs[i].size) throw new Error(`CompiledStep.run: input ${i} has ${values.length} values, its slot [${this.inputs[i].shape}] holds ${this.inputs[i].size}.`);
      engine().upload(this.inputs[i].storage.buffer, values);
    });
    if (this.recorded && !this.recorded.recording.valid) this.forget();
    if (this.recorded) {
      this.recorded.recording.replay();
      return this.recorded.result;
    }
    // Temporaries are freed inside the recording (tidy): only the result outlives it.
    const { recording, result } = engine().record(() => tidy(() => this.fn(...this.inputs)), { shareScratchWith: this.options.group?.lenders(this as CompiledStep<unknown>) ?? [] });
    const held = new Set<Disposable>();
    collectDisposables(result, held);
    for (const t of held) keep(t);
    this.recorded = { recording, result, held };
    return result;
  }

  /** The current recording (null before the first run or after forget), for profiling. */
  get recording(): Recording | null {
    return this.recorded?.recording ?? null;
  }

  /** Frees the recording and its result: the next run records anew. */
  forget(): void {
    this.recorded?.recording.dispose();
    for (const t of this.recorded?.held ?? []) t.dispose();
    this.recorded = null;
  }

  dispose(): void {
    this.forget();
    for (const t of this.inputs) t.dispose();
    this.options.group?.steps.delete(this as CompiledStep<unknown>);
  }
}

/** `fn` as a compiled step: recorded on its first run, replayed after (see CompiledStep). */
export function compile<T>(fn: (...inputs: Tensor[]) => T, options?: CompileOptions): CompiledStep<T> {
  return new CompiledStep(fn, options);
}
