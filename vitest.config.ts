import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [
    {
      name: 'wgsl-as-text',
      transform(_code: string, id: string) {
        if (id.endsWith('.wgsl')) return { code: `export default ${JSON.stringify(readFileSync(id, 'utf8'))};`, map: null };
        return undefined;
      },
    },
  ],
  test: {
    include: ['test/**/*.test.ts'],
    // One GPU device per test file; running files one after another keeps llvmpipe's threads to themselves.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
