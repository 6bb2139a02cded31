// One engine per test file on the machine's best adapter (llvmpipe on a machine without a GPU).
import { afterAll, beforeAll } from 'vitest';
import { Engine, useEngine } from '../../src/engine/engine.js';
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
