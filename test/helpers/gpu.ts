// One engine per test file on the machine's best adapter (llvmpipe on a machine without a GPU).
import { afterAll, beforeAll } from 'vitest';
import { Engine, engine, useEngine } from '../../src/engine/engine.js';
import { nodeDevice } from '../../src/io/dawn.js';

export function useTestEngine(): () => Engine {
  let e: Engine | null = null;
  beforeAll(async () => {
    e = useEngine(new Engine(await nodeDevice({ quiet: true })));
  });
  afterAll(() => {
    e?.destroy();
    useEngine(null);
  });
  return () => e!;
}

/** The kernel entry points `fn` dispatched on the current engine, in order, and its result. */
export function dispatchedEntries<R>(fn: () => R): { result: R; names: string[] } {
  const e = engine();
  const names: string[] = [];
  const dispatch = e.dispatch.bind(e);
  e.dispatch = (kernel, ...rest) => {
    names.push(kernel.entry);
    dispatch(kernel, ...rest);
  };
  try {
    return { result: fn(), names };
  } finally {
    e.dispatch = dispatch;
  }
}
