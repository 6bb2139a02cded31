// The PyTorch bench peer (bench/peers/torch.ts): a long-lived Python process that runs one forward per call.
// Skipped, with the reason, where no Python has torch (CI installs none; Debian's python3-torch provides one).
import { describe, expect, test } from 'vitest';
import { torchGeneratorPeer } from '../bench/peers/torch.js';

describe('PyTorch bench peer', () => {
  test('runs one forward per call through its pipe, or says why there is none', async (context) => {
    const peer = await torchGeneratorPeer('cpu', { width: 32, height: 32 }, 32);
    if (typeof peer === 'string') {
      expect(peer).toMatch(/no Python with torch started the peer \(set TORCH_PYTHON/);
      context.skip(peer);
      return;
    }
    try {
      expect(peer.name).toMatch(/^pytorch-cpu \d+\.\d+/);
      await peer.run();
      await peer.run();
    } finally {
      peer.close();
    }
  }, 120_000);
});
