// Whole networks: the published v1 generator (random weights) on a 512×768 portrait page (bench --size), inference mode.
// On a software adapter its peer is PyTorch on the same CPU (bench/peers/torch.ts; skipped with the reason when
// no Python has torch): on a CPU-only machine PyTorch is the faster route, and the ratio says by how much. On a
// GPU the PyTorch figure comes from tools/torch-generator-forward.py in the GPU check; the GFLOP/s figure and the
// peak memory are what to compare across devices.
import { noGrad } from '../../src/autograd/tape.js';
import { engine, keep, tidy } from '../../src/engine/engine.js';
import { GENERATOR_V1, GeneratorV1 } from '../../src/nets/generator-v1.js';
import { randUniform } from '../../src/ops/index.js';
import type { BenchSuite } from '../harness.js';
import { torchGeneratorPeer } from '../peers/torch.js';

/** REFERENCE §3: ≈92 GMAC at 512² without the guide decoder; the cost scales with the area. */
const GENERATOR_V1_FLOPS_512 = 2 * 92e9;

export const netsSuite: BenchSuite = {
  name: 'nets',
  async cases({ page: { width: W, height: H } }) {
    const e = engine();
    const generator = new GeneratorV1(GENERATOR_V1);
    generator.eval();
    const input = keep(randUniform([1, 6, H, W], 0, 1));
    const features = keep(randUniform([1, GENERATOR_V1.featureChannels, H / 8, W / 8], 0, 1));
    const peer = e.gpu.software ? await torchGeneratorPeer('cpu', { width: W, height: H }) : null;
    if (typeof peer === 'string') console.error(`nets: no PyTorch peer: ${peer}`);
    return [
      {
        suite: 'nets',
        name: `generator-v1 ${W}x${H} fwd`,
        flops: GENERATOR_V1_FLOPS_512 * ((H * W) / (512 * 512)),
        peer: peer && typeof peer !== 'string' ? peer : undefined,
        async ours() {
          e.resetPeakMemory();
          noGrad(() => tidy(() => generator.forward(input, features).image)).dispose();
          await e.sync();
        },
        async agree() {
          e.resetPeakMemory();
          noGrad(() => tidy(() => generator.forward(input, features).image)).dispose();
          await e.sync();
          const { peakBytes } = e.memory();
          return `peak GPU memory ${(peakBytes / 2 ** 20).toFixed(0)} MiB (weights ${((generator.parameterCount() * 4) / 2 ** 20).toFixed(0)} MiB)`;
        },
        dispose() {
          if (peer && typeof peer !== 'string') peer.close();
          generator.dispose();
          input.dispose();
          features.dispose();
        },
      },
    ];
  },
};
