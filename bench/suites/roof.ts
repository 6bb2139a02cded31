// The adapter's FMA roof (bench/roof.wgsl): what every kernel's GFLOP/s is a fraction of.
import source from '../roof.wgsl';
import { engine } from '../../src/engine/engine.js';
import type { BenchSuite } from '../harness.js';

const ITERATIONS = 4096;
const WORKGROUP = 64;

export const roof: BenchSuite = {
  name: 'roof',
  async cases() {
    const e = engine();
    // Enough invocations to fill every core / SM several times over.
    const groups = e.gpu.software ? 64 : 4096;
    const sink = e.acquireBuffer(groups * WORKGROUP * 16);
    const uniforms = new Uint32Array([ITERATIONS]);
    return [
      {
        suite: 'roof',
        name: 'fma',
        flops: groups * WORKGROUP * ITERATIONS * 16 * 4 * 2,
        async ours() {
          e.dispatch({ family: 'roof', source, entry: 'fma_roof' }, uniforms, [sink], [groups]);
          await e.sync();
        },
        dispose: () => e.releaseBuffer(sink),
      },
    ];
  },
};
