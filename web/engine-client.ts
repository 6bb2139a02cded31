// The UI's handle on the engine worker: typed requests that resolve with the worker's reply, progress and
// device-loss events, and a restart that starts a fresh worker (a lost device cannot be revived).
import type { ErrorKind, Replies, Request, WorkerMessage } from './protocol.js';

export class EngineError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** For `too-large`: the largest working size that fits (0: none). */
    readonly fits?: number,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

/** A request the old worker never answered because the engine was restarted. */
export class EngineRestarted extends EngineError {
  constructor() {
    super('device-lost', 'The engine was restarted.');
    this.name = 'EngineRestarted';
  }
}

export interface EngineEvents {
  progress(stage: string): void;
  deviceLost(message: string): void;
}

export class EngineClient {
  private worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(private readonly events: EngineEvents) {
    this.worker = this.start();
  }

  private start(): Worker {
    const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
      const message = event.data;
      if (message.type === 'progress') this.events.progress(message.stage);
      else if (message.type === 'device-lost') this.events.deviceLost(message.message);
      else {
        const waiting = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.ok) waiting?.resolve(message.value);
        else waiting?.reject(new EngineError(message.error.kind, message.error.message, message.error.fits));
      }
    };
    // A worker that fails to load (or dies) answers nothing: fail everything that waits on it.
    worker.onerror = (event) => {
      event.preventDefault();
      this.failAll(new EngineError('internal', `The engine worker failed: ${event.message || 'it could not be loaded'}.`));
    };
    return worker;
  }

  private failAll(error: Error): void {
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }

  request<T extends Request['type']>(request: Extract<Request, { type: T }>, transfer: Transferable[] = []): Promise<Replies[T]> {
    const id = this.nextId++;
    return new Promise<Replies[T]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...request, id }, transfer);
    });
  }

  /** Ends the worker (and its device) and starts a new one; whatever was pending fails. */
  restart(): void {
    this.worker.terminate();
    this.failAll(new EngineRestarted());
    this.worker = this.start();
  }
}
