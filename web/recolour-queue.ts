// When the app runs the generator (DOM-free; web/colouring.ts wires it to the page). The engine worker does one
// thing at a time, so everything that uses it — recolour passes and exclusive work (loading weights, exporting a
// chapter) — runs here one after another, never two at once:
// - coalescing: requests while something runs become one pass after it, of what is wanted *then* (the user may have
//   placed five more dots, or moved to another page of the chapter);
// - skipping: a pass whose result is already there (hints changed and changed back during a pass) does not run,
//   unless it was forced (the Colour button, an engine restart);
// - cancellation: a failed pass drops the pass queued behind it (it would fail the same way, and the banner has
//   said why); cancel() drops it too (the engine was restarted, the chapter closed).
// The app is busy from the moment work is queued until the queue is empty; busyChanged says when that flips.

/** A pass the app's state asks for: `key` names everything its result depends on (page, hints, settings). */
export interface RecolourJob {
  readonly key: string;
}

export interface RecolourHooks<J extends RecolourJob> {
  /** What the app asks to be coloured now; null when nothing can run (no page, no model, engine down). */
  wanted(): J | null;
  /** Whether `job`'s result is already there, so a pass would only repeat it. */
  done(job: J): boolean;
  /** Runs one pass. */
  run(job: J): Promise<void>;
  /** A pass failed; the queue goes on with the next request. */
  failed(error: unknown): void;
  busyChanged(busy: boolean): void;
}

interface QueuedPass {
  force: boolean;
  cancelled: boolean;
  done: Promise<void>;
}

export class RecolourQueue<J extends RecolourJob> {
  /** The end of the line: each piece of work starts when the one before it ended. */
  private tail: Promise<void> = Promise.resolve();
  /** Work queued or running. */
  private active = 0;
  /** The pass queued behind the running work, which further requests join instead of queueing their own. */
  private queued: QueuedPass | null = null;

  constructor(private readonly hooks: RecolourHooks<J>) {}

  get busy(): boolean {
    return this.active > 0;
  }

  /**
   * Asks for a pass of what is wanted when it starts; `force` runs it even when its result is there. Resolves when
   * that pass has run, been skipped or been cancelled; a failure goes to hooks.failed, never to the caller.
   */
  request(force = false): Promise<void> {
    if (this.queued) {
      this.queued.force ||= force;
      return this.queued.done;
    }
    const pass: QueuedPass = { force, cancelled: false, done: Promise.resolve() };
    pass.done = this.enqueue(async () => {
      if (this.queued === pass) this.queued = null;
      if (pass.cancelled) return;
      try {
        const job = this.hooks.wanted();
        if (job && (pass.force || !this.hooks.done(job))) await this.hooks.run(job);
      } catch (e) {
        if (this.queued) this.queued.cancelled = true;
        this.hooks.failed(e);
      }
    });
    this.queued = pass;
    return pass.done;
  }

  /** Runs `work` when everything queued before it has ended; requests made meanwhile run after it. Its failure is the caller's. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    let result!: Promise<T>;
    return this.enqueue(async () => {
      result = work();
      await result;
    }).then(() => result);
  }

  /** Drops the pass queued behind the running work (a running pass is the worker's and ends by itself). */
  cancel(): void {
    if (this.queued) this.queued.cancelled = true;
    this.queued = null;
  }

  /** Resolves when nothing is queued or running. */
  async idle(): Promise<void> {
    while (this.active) await this.tail;
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    if (this.active++ === 0) this.hooks.busyChanged(true);
    const done = this.tail.then(task).finally(() => {
      if (--this.active === 0) this.hooks.busyChanged(false);
    });
    // The next piece of work starts however this one ended.
    this.tail = done.catch(() => undefined);
    return done;
  }
}
