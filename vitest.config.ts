import { defineConfig } from 'vitest/config';
import { expandWgsl } from './scripts/wgsl-include.mjs';

export default defineConfig({
  plugins: [
    {
      // WGSL as text with its #include lines expanded, as esbuild bundles it (scripts/wgsl-include.mjs).
      name: 'wgsl-include',
      transform(_code: string, id: string) {
        if (id.endsWith('.wgsl')) return { code: `export default ${JSON.stringify(expandWgsl(id).code)};`, map: null };
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
